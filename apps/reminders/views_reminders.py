"""Finance's reminder pages (/reminders/): 概览, 即将提醒, 已发送, 发送失败/重试中 (with resend) and the
region's 提醒规则. Thin: reads from ``selectors_reminders`` (scoped with ``restrict``), writes
through ``services_reminders``."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from apps.core.views_mixins import ActionRequiredMixin, add_service_errors

from . import mail
from . import selectors_reminders as selectors
from . import services_reminders as services
from .forms_reminders import ReminderFilterForm, ReminderRuleForm, ResendForm
from .models import EmailDigest, ReminderRule
from .selectors_notifications import safe_link

PAGE_SIZE = 50
MAX_UPCOMING_DAYS = 14


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


class ReminderPage(ActionRequiredMixin, TemplateView):
    required_action = selectors.VIEW
    tab = ""

    def get_context_data(self, **kwargs):
        return super().get_context_data(tab=self.tab, may_manage=services.may_manage(self.request.user), **kwargs)


class OverviewView(ReminderPage):
    template_name = "reminders/overview.html"
    tab = "overview"

    def get_context_data(self, **kwargs):
        return super().get_context_data(**selectors.overview(self.request.user, timezone.localdate()), **kwargs)


class UpcomingView(ReminderPage):
    template_name = "reminders/upcoming.html"
    tab = "upcoming"

    def get_context_data(self, **kwargs):
        raw = self.request.GET.get("days", "")
        # ``isascii``: "²" is a digit to ``str.isdigit`` but not to ``int``.
        days = int(raw) if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_UPCOMING_DAYS else 7
        today = timezone.localdate()
        groups = selectors.upcoming(self.request.user, today, days)
        return super().get_context_data(
            groups=groups,
            days=days,
            today=today,
            last_day=today + timedelta(days=days - 1),
            day_choices=[3, 7, 14],
            total_items=sum(len(g.items) for g in groups),
            **kwargs,
        )


class SentView(ReminderPage):
    template_name = "reminders/sent.html"
    tab = "sent"

    def get_context_data(self, **kwargs):
        form = ReminderFilterForm(self.request.GET or None, user=self.request.user)
        rows = selectors.reminder_list(self.request.user, **form.filters())
        page = Paginator(rows, PAGE_SIZE).get_page(self.request.GET.get("page"))
        for reminder in page:
            reminder.step_display = selectors.step_label(reminder.step)
            reminder.link = safe_link(reminder.url)  # only ever a path on this site
        return super().get_context_data(
            form=form,
            page=page,
            query=_query_without_page(self.request),
            **kwargs,
        )


class FailedView(ReminderPage):
    template_name = "reminders/failed.html"
    tab = "failed"

    def get_context_data(self, **kwargs):
        status = self.request.GET.get("status", "")
        if status not in selectors.PROBLEM_STATUSES:
            status = "problems"
        rows = selectors.digest_list(self.request.user, status=status)
        return super().get_context_data(
            status=status,
            statuses=[("problems", "全部"), *((s, EmailDigest.Status(s).label) for s in selectors.PROBLEM_STATUSES)],
            page=Paginator(rows, PAGE_SIZE).get_page(self.request.GET.get("page")),
            query=_query_without_page(self.request),
            resend_form=ResendForm(),
            max_attempts=mail.MAX_ATTEMPTS,
            **kwargs,
        )


class ResendView(ActionRequiredMixin, View):
    """POST: a failed or retrying e-mail back to pending and queued (audited). Out of scope → 404."""

    required_action = selectors.MANAGE
    http_method_names = ["post"]

    def post(self, request, pk):
        digest = get_object_or_404(
            EmailDigest.objects.restrict(request.user, selectors.MANAGE).select_related("recipient"), pk=pk
        )
        form = ResendForm(request.POST)
        comment = form.cleaned_data["comment"] if form.is_valid() else ""
        result = services.email_digest_resend(actor=request.user, digest=digest, comment=comment)
        if result.resent:
            messages.success(request, result.message)
        elif result.blocked:
            messages.error(request, "重发未成功：" + result.message)
        else:
            messages.info(request, result.message)
        return redirect("reminders:failed")


class RulesView(ReminderPage):
    template_name = "reminders/rules.html"
    tab = "rules"

    def get_context_data(self, form=None, **kwargs):
        bureau, rule, is_default = selectors.region_rule(self.request.user)
        manage = services.may_manage(self.request.user)
        if manage and form is None:
            form = ReminderRuleForm(initial=ReminderRuleForm.initial_from(rule))
        return super().get_context_data(
            bureau=bureau,
            rule=rule,
            is_default=is_default,
            default=ReminderRuleForm.initial_from(ReminderRule.default()),
            stages=selectors.rule_stages(rule),
            form=form,
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        if not services.may_manage(request.user):
            raise PermissionDenied("只有本区域财政部门（绩效管理处）可以设置提醒规则。")
        if "reset" in request.POST:
            changed = services.reminder_rule_reset(actor=request.user)
            messages.success(request, "已恢复默认提醒规则。" if changed else "提醒规则已是默认值，没有改动。")
            return redirect("reminders:rules")
        form = ReminderRuleForm(request.POST)
        if form.is_valid():
            try:
                _rule, changed = services.reminder_rule_save(actor=request.user, data=form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "提醒规则已保存，下次扫描起生效。" if changed else "提醒规则没有改动。")
                return redirect("reminders:rules")
        return self.render_to_response(self.get_context_data(form=form), status=400)
