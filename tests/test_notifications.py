"""The notification centre pages: the bell, the list, mark read, and the channel choice in the profile.

Notifications come from the real sweep with a stand-in source (``work``, as in
``test_reminder_sweep``) where the rules matter, and are written directly where only the page
is under test (many rows for query counts and pagination)."""

from datetime import date, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.orgs.models import Organization
from apps.reminders import services
from apps.reminders.models import ChannelPreference, Notification, Reminder
from tests.querycount import assert_constant_queries, count_queries
from tests.test_reminder_sweep import DUE, unit_work, work  # noqa: F401  (``work`` is a fixture)

LIST = reverse("notifications:notification_list")
BADGE = reverse("notifications:bell_badge")
READ_ALL = reverse("notifications:notification_read_all")
CHANNELS = reverse("notifications:channels_update")
HTMX = {"HX-Request": "true"}


def read_url(notification) -> str:
    return reverse("notifications:notification_read", args=[notification.pk])


def digest(user, day: date, *stages: int, reason=Reminder.Reason.ACTOR, owner=None, url="/targets/1/", read=False):
    """One person's notification for ``day`` with one reminder per stage (written directly)."""
    owner = owner or user.organization
    notification = Notification.objects.create(
        recipient=user, day=day, read_at="2026-12-01T09:00:00+08:00" if read else None
    )
    ct = ContentType.objects.get_for_model(Organization)
    for n, stage in enumerate(stages or (-3,)):
        Reminder.objects.create(
            recipient=user, content_type=ct, object_id=day.toordinal() * 100 + n, step="target_filing", stage=stage,
            due_on=day - timedelta(days=stage), reason=reason, title=f"填报绩效目标：测试项目{n + 1}",
            url=url, organization=owner, region=owner.region, notification=notification,
        )  # fmt: skip
    return notification


def unread(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


# --- The bell ----------------------------------------------------------------------------------


def test_the_bell_is_a_link_whose_count_comes_after_the_page(world, login):
    client = login(world.edu_unit_filler)
    home = client.get("/").content.decode()
    assert 'id="notification-bell"' in home and f'href="{LIST}"' in home
    assert f'hx-get="{BADGE}"' in home and "every 120s" in home
    assert "notification-count" not in home  # the page itself does not count


def test_the_bell_adds_no_query_to_a_page(world, login):
    client = login(world.edu_unit_filler)
    client.get("/")
    before, _ = count_queries(lambda: client.get("/"))
    for n in range(3):
        digest(world.edu_unit_filler, DUE + timedelta(days=n), -3, 0, 2)
    after, sql = count_queries(lambda: client.get("/"))
    assert before == after
    assert not any("reminders_notification" in q for q in sql)


def test_the_badge_counts_unread_with_one_query(world, login):
    client = login(world.edu_unit_filler)
    digest(world.edu_unit_filler, DUE, -3)
    digest(world.edu_unit_filler, DUE + timedelta(days=1), 0)
    digest(world.edu_unit_filler, DUE + timedelta(days=2), 1, read=True)
    digest(world.edu_filler, DUE, -3)  # someone else's
    client.get(BADGE)
    queries, sql = count_queries(lambda: client.get(BADGE))
    assert sum("reminders_notification" in q for q in sql) == 1, sql
    response = client.get(BADGE)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert 'id="notification-count"' in html and ">2<" in html


def test_the_badge_is_hidden_at_zero_and_shows_99_plus(world, login):
    client = login(world.edu_unit_filler)
    assert client.get(BADGE).content.decode().strip() == ""
    Notification.objects.bulk_create(
        Notification(recipient=world.edu_unit_filler, day=DUE - timedelta(days=n)) for n in range(100)
    )
    assert ">99+<" in client.get(BADGE).content.decode()


def test_signed_out_the_badge_answers_204_so_htmx_keeps_the_bell(world):
    assert Client().get(BADGE).status_code == 204


# --- The list ------------------------------------------------------------------------------------


def test_the_list_shows_the_sweep_s_digest_with_stages_dates_and_escalation(world, work, login):  # noqa: F811
    work.append(unit_work(world, object_id=1, due=DUE))
    work.append(unit_work(world, object_id=2, due=DUE + timedelta(days=3)))
    services.sweep(DUE)  # 1: today, 2: in 3 days
    services.sweep(DUE + timedelta(days=2))  # 1: stage +1 (the approver hears of it too), a day late
    html = login(world.edu_unit_filler).get(LIST).content.decode()
    assert "2026年12月12日 催办提醒" in html and "2026年12月10日 催办提醒" in html
    assert html.index("2026年12月12日 催办提醒") < html.index("2026年12月10日 催办提醒")  # newest first
    assert "今天到期" in html and "还有3天到期" in html
    # The sweep of the 11th did not run: the stage +1 reminder went out on the 12th and says what
    # was true that day.
    assert 'text-bg-danger stage-badge">已逾期2天' in html and "已逾期1天" not in html
    assert 'text-bg-warning stage-badge">今天到期' in html and 'text-bg-info stage-badge">还有3天到期' in html
    assert "截止日期：2026年12月10日" in html and 'href="/targets/1/"' in html
    assert "其中 <span" in html and "1 项已逾期" in html
    assert "升级提醒" not in html  # the filler acts on it herself

    approver = login(world.edu_approver).get(LIST).content.decode()
    assert "升级提醒：青岛第二中学逾期未办" in approver and "升级至部门" in approver
    assert "还有3天到期" not in approver  # the approver hears only of the escalated item


def test_a_person_sees_only_their_own_notifications(world, login):
    mine = digest(world.edu_unit_filler, DUE, -3)
    theirs = digest(world.health_filler, DUE, 0, url="/targets/999/")
    html = login(world.edu_unit_filler).get(LIST).content.decode()
    assert f'id="notification-{mine.pk}"' in html and f'id="notification-{theirs.pk}"' not in html
    assert "/targets/999/" not in html


def test_filter_unread_and_empty_states(world, login):
    client = login(world.edu_unit_filler)
    assert "暂无消息提醒" in client.get(LIST).content.decode()
    read = digest(world.edu_unit_filler, DUE, -3, read=True)
    fresh = digest(world.edu_unit_filler, DUE + timedelta(days=1), -1)
    everything = client.get(LIST).content.decode()
    assert f'id="notification-{read.pk}"' in everything and f'id="notification-{fresh.pk}"' in everything
    assert 'id="unread-count">1<' in everything
    unread_only = client.get(LIST, {"filter": "unread"}).content.decode()
    assert f'id="notification-{read.pk}"' not in unread_only and f'id="notification-{fresh.pk}"' in unread_only
    Notification.objects.update(read_at="2026-12-12T09:00:00+08:00")
    assert "没有未读的消息提醒" in client.get(LIST, {"filter": "unread"}).content.decode()
    assert "mark-all-read" not in client.get(LIST).content.decode()


def test_pages_of_twenty(world, login):
    for n in range(25):
        digest(world.edu_unit_filler, DUE - timedelta(days=n), -3)
    client = login(world.edu_unit_filler)
    first = client.get(LIST).content.decode()
    assert first.count('class="qd-card mb-3 notification-card') == 20 and "共 25 条" in first
    assert "2026年12月10日 催办提醒" in first
    second = client.get(LIST, {"page": 2}).content.decode()
    assert second.count('class="qd-card mb-3 notification-card') == 5 and "2026年11月16日 催办提醒" in second


def test_the_list_runs_a_constant_number_of_queries(world, login):
    client = login(world.edu_unit_filler)
    for n in range(3):
        digest(world.edu_unit_filler, DUE - timedelta(days=n), -3, 0, 1, reason=Reminder.Reason.DEPARTMENT)

    def grow():
        for n in range(3, 12):
            digest(world.edu_unit_filler, DUE - timedelta(days=n), -7, -3, -1, 0, 1, 3, reason=Reminder.Reason.FINANCE)

    # session, user, roles · count, page, items with their organisations, unread count · fiscal years
    # (header) · session save (3, with its savepoint)
    assert_constant_queries(lambda: client.get(LIST), grow, 11)


def test_an_item_link_is_only_ever_a_path_on_this_site(world, login):
    digest(world.edu_unit_filler, DUE, -3, url="//evil.example/phish")
    digest(world.edu_unit_filler, DUE + timedelta(days=1), -3, url="javascript:alert(1)")
    html = login(world.edu_unit_filler).get(LIST).content.decode()
    assert "evil.example" not in html and "javascript:" not in html
    assert html.count("填报绩效目标：测试项目1") == 2  # the titles are still shown, as text


def test_signed_out_the_list_asks_to_sign_in(world):
    response = Client().get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Mark read -------------------------------------------------------------------------------------


def test_mark_one_read_twice_is_harmless(world, login):
    notification = digest(world.edu_unit_filler, DUE, -3)
    other = digest(world.edu_unit_filler, DUE + timedelta(days=1), 0)
    client = login(world.edu_unit_filler)
    response = client.post(read_url(notification), {"filter": "unread", "page": "1"})
    assert response.status_code == 302 and response["Location"] == f"{LIST}?filter=unread&page=1"
    notification.refresh_from_db()
    first = notification.read_at
    assert first is not None and unread(world.edu_unit_filler) == 1
    client.post(read_url(notification))  # double submit
    notification.refresh_from_db()
    assert notification.read_at == first
    other.refresh_from_db()
    assert other.read_at is None
    assert not AuditEvent.objects.exclude(
        kind=AuditEvent.Kind.LOGIN
    ).exists()  # read state is the person's inbox, not business data


def test_mark_read_with_htmx_returns_the_list_and_tells_the_bell(world, login):
    notification = digest(world.edu_unit_filler, DUE, -3)
    digest(world.edu_unit_filler, DUE + timedelta(days=1), 0)
    response = login(world.edu_unit_filler).post(read_url(notification), {"filter": "all"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and response["HX-Trigger"] == "notifications-changed"
    assert html.startswith('<div id="notification-list">') and "<html" not in html
    assert 'id="unread-count">1<' in html and "已读于" in html


@pytest.mark.parametrize("persona", ["health_filler", "shinan_edu_filler", "edu_approver", "perf_admin"])
def test_another_person_s_notification_is_404_and_stays_unread(world, login, persona):
    notification = digest(world.edu_unit_filler, DUE, -3)
    client = login(getattr(world, persona))
    assert client.post(read_url(notification)).status_code == 404
    assert client.post(read_url(notification), headers=HTMX).status_code == 404
    client.post(READ_ALL)
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_all_read_touches_only_one_s_own(world, login):
    for n in range(3):
        digest(world.edu_unit_filler, DUE - timedelta(days=n), -3)
    theirs = digest(world.edu_filler, DUE, -3)
    client = login(world.edu_unit_filler)
    response = client.post(READ_ALL, headers=HTMX)
    assert response["HX-Trigger"] == "notifications-changed" and "mark-all-read" not in response.content.decode()
    assert unread(world.edu_unit_filler) == 0
    assert client.post(READ_ALL).status_code == 302  # again: nothing to do, no error
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_read_needs_post_csrf_and_a_session(world):
    notification = digest(world.edu_unit_filler, DUE, -3)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.edu_unit_filler)
    assert client.get(read_url(notification)).status_code == 405
    assert client.post(read_url(notification)).status_code == 403
    assert client.post(READ_ALL).status_code == 403
    anonymous = Client().post(read_url(notification))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert unread(world.edu_unit_filler) == 1


def test_a_new_reminder_the_same_day_lights_the_bell_again(world, work, login):  # noqa: F811
    work.append(unit_work(world, object_id=1))
    services.sweep(DUE)
    client = login(world.edu_unit_filler)
    client.post(READ_ALL)
    assert ">1<" not in client.get(BADGE).content.decode()
    work.append(unit_work(world, object_id=2))
    services.sweep(DUE)
    assert 'id="notification-count">1<' in client.get(BADGE).content.decode()
    assert "共 2 项" in client.get(LIST).content.decode()


# --- Channels in the profile -------------------------------------------------------------------


def test_profile_shows_the_channels_and_the_address(world, login):
    world.edu_unit_filler.email = "zhang@edu.example.cn"
    world.edu_unit_filler.save()
    html = login(world.edu_unit_filler).get(reverse("accounts:profile")).content.decode()
    assert "提醒渠道" in html and 'id="channel-in-app" checked disabled' in html
    assert "站内通知始终开启，不能关闭" in html
    assert 'name="email" id="channel-email" checked' in html and "zhang@edu.example.cn" in html


def test_profile_says_when_e_mail_cannot_be_sent(world, login):
    world.edu_filler.email = ""
    world.edu_filler.save()
    ChannelPreference.objects.create(user=world.edu_filler, email=False)
    html = login(world.edu_filler).get(reverse("accounts:profile")).content.decode()
    assert "您尚未登记邮箱地址，无法发送邮件提醒" in html
    assert 'name="email" id="channel-email" >' in html  # off


def test_saving_the_channels_is_audited_once(world, login):
    client = login(world.edu_unit_filler)
    response = client.post(CHANNELS, {})  # e-mail unticked
    assert response.status_code == 302 and response["Location"] == reverse("accounts:profile")
    assert ChannelPreference.objects.get(user=world.edu_unit_filler).email is False
    client.post(CHANNELS, {})  # double submit: nothing changes, nothing more audited
    event = AuditEvent.objects.exclude(kind=AuditEvent.Kind.LOGIN).get()
    assert event.actor == world.edu_unit_filler and event.kind == AuditEvent.Kind.UPDATE
    assert event.changes == {"email": {"from": True, "to": False}} and "关闭" in event.comment
    client.post(CHANNELS, {"email": "on", "in_app": ""})  # in-app cannot be sent off: it is ignored
    assert ChannelPreference.objects.get(user=world.edu_unit_filler).email is True
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.UPDATE).count() == 2
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "提醒渠道已保存" in page


def test_channels_change_only_one_s_own_and_need_a_session(world, login):
    assert Client().post(CHANNELS, {}).status_code == 302
    client = login(world.health_filler)
    assert client.get(CHANNELS).status_code == 405
    client.post(CHANNELS, {})
    assert list(ChannelPreference.objects.values_list("user__username", "email")) == [("health_filler", False)]


# --- A long digest --------------------------------------------------------------------------------


def detail_url(notification) -> str:
    return reverse("notifications:notification_detail", args=[notification.pk])


def test_a_long_digest_shows_twenty_items_and_links_to_its_day_page(world, login):
    long = digest(world.edu_unit_filler, DUE, *([-3] * 20), *([1] * 5))  # 25 items, 5 overdue
    html = login(world.edu_unit_filler).get(LIST).content.decode()
    assert html.count('class="list-group-item d-flex') == 20
    assert "共 25 项" in html and "5 项已逾期" in html
    assert f'href="{detail_url(long)}">另有 5 项，查看当天全部 25 项</a>' in html


def test_the_day_page_lists_every_item_of_one_s_own_notification(world, login):
    long = digest(world.edu_unit_filler, DUE, *([-3] * 20), *([1] * 5))
    html = login(world.edu_unit_filler).get(detail_url(long)).content.decode()
    assert html.count('class="list-group-item d-flex') == 25 and "2026年12月10日 催办提醒" in html
    assert "共 25 项" in html and "已逾期1天" in html and "还有3天到期" in html


@pytest.mark.parametrize("persona", ["health_filler", "edu_filler", "edu_approver", "perf_admin", "sysadmin"])
def test_the_day_page_of_someone_else_is_404(world, login, persona):
    notification = digest(world.edu_unit_filler, DUE, -3)
    assert login(getattr(world, persona)).get(detail_url(notification)).status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_the_day_page_needs_a_session(world):
    notification = digest(world.edu_unit_filler, DUE, -3)
    response = Client().get(detail_url(notification))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_day_page_runs_a_constant_number_of_queries(world, login):
    long = digest(world.edu_unit_filler, DUE, -3, 0, 1)
    client = login(world.edu_unit_filler)

    def grow():
        ct = ContentType.objects.get_for_model(Organization)
        Reminder.objects.bulk_create(
            Reminder(
                recipient=world.edu_unit_filler, content_type=ct, object_id=10_000 + n, step="target_filing",
                stage=-3, due_on=DUE + timedelta(days=3), title=f"事项{n}", url="/targets/1/",
                organization=world.health_unit, region=world.city, notification=long, reason=Reminder.Reason.FINANCE,
            )
            for n in range(30)
        )  # fmt: skip

    # session, user, roles · the notification, count, page of items with their organisations ·
    # fiscal years (header) · session save (3, with its savepoint)
    expected, _ = count_queries(lambda: client.get(detail_url(long)))
    assert_constant_queries(lambda: client.get(detail_url(long)), grow, expected)
    assert expected <= 10
