"""The notification centre (/notifications/): every signed-in person's own daily reminder digests.

Thin: reads from ``selectors_notifications``, writes through ``services_notifications``. Every
signed-in person has a notification centre (no role needed); a notification of someone else is
404. Mark read / mark all read are POST (CSRF); htmx gets the list back in place and an
``HX-Trigger: notifications-changed`` that makes the bell reload its count.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.core.views_mixins import htmx_template

from . import selectors_notifications as selectors
from . import services_notifications as services
from .forms_notifications import ChannelForm

FILTERS = {"all": "全部", "unread": "未读"}
CHANGED = "notifications-changed"  # the htmx event the bell listens for


def _state(data) -> tuple[str, str]:
    """(filter, page) of the list, from the query string or the posted form."""
    filter_ = data.get("filter") if data.get("filter") in FILTERS else "all"
    return filter_, data.get("page") or "1"


def _list_context(request, filter_: str, page_number: str) -> dict:
    rows = selectors.notification_list(request.user, unread_only=filter_ == "unread")
    page = Paginator(rows, selectors.PAGE_SIZE).get_page(page_number)
    return {
        "page": page,
        "digests": selectors.digest_rows(page),
        "filter": filter_,
        "filters": FILTERS,
        "unread": selectors.unread_count(request.user),
        "query": urlencode({"filter": filter_}),
    }


@login_required
@require_GET
def notification_list(request):
    """消息提醒: own digests newest first, 20 a page, 全部/未读."""
    filter_, page_number = _state(request.GET)
    template = htmx_template(
        request, "reminders/notifications/notification_list.html", "reminders/notifications/partials/list.html"
    )
    return render(request, template, _list_context(request, filter_, page_number))


@login_required
@require_GET
def notification_detail(request, pk: int):
    """One day's notification with every item (the list shows the first 20 of each), 100 a page.
    Someone else's notification is 404."""
    notification = get_object_or_404(selectors.own_notification(request.user, pk))
    page = Paginator(selectors.notification_items(notification), selectors.ITEMS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "reminders/notifications/notification_detail.html",
        {
            "notification": notification,
            "title": selectors.digest_title(notification),
            "page": page,
            "rows": selectors.item_rows(page),
            "query": "",
        },
    )


def _after_change(request, message: str):
    """htmx: the list in place (same filter and page) and the bell's event; else back to the list."""
    filter_, page_number = _state(request.POST)
    if getattr(request, "htmx", False):
        response = render(
            request, "reminders/notifications/partials/list.html", _list_context(request, filter_, page_number)
        )
        response["HX-Trigger"] = CHANGED
        return response
    messages.success(request, message)
    query = urlencode({"filter": filter_, "page": page_number})
    return redirect(f"{reverse('notifications:notification_list')}?{query}")


@login_required
@require_POST
def notification_read(request, pk: int):
    notification = get_object_or_404(selectors.own_notification(request.user, pk))
    services.notification_mark_read(actor=request.user, notification=notification)
    return _after_change(request, "已标为已读。")


@login_required
@require_POST
def notification_read_all(request):
    count = services.notification_mark_all_read(actor=request.user)
    return _after_change(request, f"已将 {count} 条通知标为已读。" if count else "没有未读通知。")


@require_GET
def bell_badge(request):
    """The bell's unread count, loaded by htmx after the page (the page itself runs no query for it).

    Signed out (session expired): 204, so htmx leaves the bell as it is instead of swapping a login
    page into it."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    response = render(
        request, "reminders/notifications/partials/bell_badge.html", {"count": selectors.unread_count(request.user)}
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def channels_update(request):
    """提醒渠道 from the profile page: e-mail on or off (audited); in-app stays on."""
    form = ChannelForm(request.POST)
    form.is_valid()  # a checkbox cannot be invalid: absent means off
    email = form.cleaned_data.get("email", False)
    services.channels_update(actor=request.user, email=email)
    if email and not request.user.email:
        messages.warning(request, "提醒渠道已保存。您尚未登记邮箱地址，邮件提醒无法发送，请联系本单位系统管理员登记。")
    else:
        messages.success(request, f"提醒渠道已保存：邮件提醒已{'开启' if email else '关闭'}，站内通知始终开启。")
    return redirect("accounts:profile")
