"""Finance's reminder pages (/reminders/): 概览, 即将提醒, 已发送, 发送失败/重试中 with resend, 提醒规则.

The reminders come from the real sweep over a stand-in source (as in ``test_reminder_sweep``):
work of 教育局's unit and 卫生健康委 (市本级) and of 市南区 (another district)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail as outbox
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.reminders import services
from apps.reminders.models import EmailDigest, Reminder, ReminderRule
from tests.querycount import assert_constant_queries
from tests.test_reminder_sweep import DUE, unit_work, work  # noqa: F401  (fixture "work")

S = EmailDigest.Status
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 10, 9, 0, tzinfo=TZ)  # the sweep of DUE ran at 07:30
PAGES = ["overview", "upcoming", "sent", "failed", "rules"]
OUTSIDERS = ["edu_filler", "edu_approver", "edu_unit_filler", "npc_liaison", "auditor", "expert_li", "sysadmin"]


def give_addresses():
    User = get_user_model()
    for pk, username in User.objects.exclude(username="AnonymousUser").values_list("pk", "username"):
        User.objects.filter(pk=pk).update(email=f"{username}@qdperf.test")


@pytest.fixture
def swept(world, work, settings):  # noqa: F811
    """Reminders of DUE's sweep in both regions; the e-mails: 教育局's filler failed, 市南区's retrying."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    give_addresses()
    work.extend(
        [
            unit_work(world, object_id=1, due=DUE - timedelta(days=1)),  # overdue: escalates to the approver
            unit_work(world, object_id=2, due=DUE, owner=world.health_unit),
            unit_work(world, object_id=3, due=DUE + timedelta(days=3), owner=world.shinan_edu_unit),
        ]
    )
    with time_machine.travel(datetime(2026, 12, 10, 7, 30, tzinfo=TZ), tick=False):
        services.sweep(DUE)
    EmailDigest.objects.filter(recipient=world.edu_filler).update(
        status=S.FAILED, attempts=5, last_error="SMTPRecipientsRefused: 550 Mailbox unavailable"
    )
    EmailDigest.objects.filter(recipient=world.shinan_edu_filler).update(
        status=S.RETRYING, attempts=2, last_error="SMTPServerDisconnected", next_attempt_at=NOW + timedelta(minutes=2)
    )
    EmailDigest.objects.filter(status=S.PENDING).update(status=S.SENT, attempts=1, sent_at=NOW)
    with time_machine.travel(NOW, tick=False):
        yield world


def url(name, *args):
    return reverse(f"reminders:{name}", args=args)


def state():
    """Everything the pages could change."""
    return (
        sorted(EmailDigest.objects.values_list("pk", "status", "attempts", "address")),
        sorted(ReminderRule.objects.values_list("organization_id", "days_before", "enabled", "stop_after")),
        AuditEvent.objects.exclude(kind__in=[AuditEvent.Kind.LOGIN, AuditEvent.Kind.LOGOUT]).count(),
    )


# --- who sees what ------------------------------------------------------------------------------


def test_finance_sees_its_region(swept, login):
    world = swept
    client = login(world.perf_admin)
    overview = client.get(url("overview")).content.decode()
    assert (
        "每日催办提醒扫描" in overview and "每天 07:30" in overview and "python manage.py sweep_reminders" in overview
    )
    assert "下次运行：2026年12月11日 07:30" in overview
    assert 'data-count="problems"' in overview
    sent = client.get(url("sent")).content.decode()
    assert "填报绩效目标：测试1" in sent and "填报绩效目标：测试2" in sent
    assert "填报绩效目标：测试3" not in sent  # 市南区's
    assert "升级至部门" in sent and "青岛第二中学" in sent and "2026年12月9日" in sent
    failed = client.get(url("failed")).content.decode()
    assert "edu_filler@qdperf.test" in failed and "SMTPRecipientsRefused" in failed and "重发" in failed
    assert "shinan_edu_filler" not in failed
    rules = client.get(url("rules")).content.decode()
    assert 'id="reminder-rule-form"' in rules and "到期前7天，到期前3天，到期前1天，到期当日" in rules


def test_district_finance_sees_its_district_only(swept, login):
    world = swept
    client = login(world.shinan_finance)
    sent = client.get(url("sent")).content.decode()
    assert "填报绩效目标：测试3" in sent and "填报绩效目标：测试1" not in sent
    failed = client.get(url("failed")).content.decode()
    assert "shinan_edu_filler@qdperf.test" in failed and "重试中" in failed
    assert ">edu_filler@qdperf.test<" not in failed


def test_a_sector_division_reads_its_departments_and_changes_nothing(swept, login):
    world = swept
    client = login(world.sector_kjw)  # assigned 教育局 and 科技局
    sent = client.get(url("sent")).content.decode()
    assert "填报绩效目标：测试1" in sent and "填报绩效目标：测试2" not in sent  # 卫生健康委 is not theirs
    failed = client.get(url("failed")).content.decode()
    assert "edu_filler@qdperf.test" in failed and "resend-form" not in failed
    rules = client.get(url("rules")).content.decode()
    assert 'id="rule-table"' in rules and 'id="reminder-rule-form"' not in rules
    before = state()
    digest = EmailDigest.objects.get(recipient=world.edu_filler)
    assert client.post(url("resend", digest.pk)).status_code == 403
    assert client.post(url("rules"), {"days_before": "5", "escalate_department_after": 1}).status_code == 403
    assert client.post(url("rules"), {"reset": "1"}).status_code == 403
    assert state() == before


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_other_roles_get_403_and_change_nothing(swept, login, persona):
    world = swept
    client = login(getattr(world, persona))
    before = state()
    for name in PAGES:
        assert client.get(url(name)).status_code == 403, name
    digest = EmailDigest.objects.get(recipient=world.edu_filler)
    assert client.post(url("resend", digest.pk)).status_code == 403
    assert client.post(url("rules"), {"days_before": "5"}).status_code == 403
    assert state() == before


def test_anonymous_is_sent_to_login(swept, client):
    assert client.get(url("sent")).status_code == 302


def test_another_districts_digest_is_404_and_unchanged(swept, login):
    world = swept
    before = state()
    city = EmailDigest.objects.get(recipient=world.edu_filler)
    assert login(world.shinan_finance).post(url("resend", city.pk)).status_code == 404
    district = EmailDigest.objects.get(recipient=world.shinan_edu_filler)
    assert login(world.perf_admin).post(url("resend", district.pk)).status_code == 404
    assert state() == before


# --- resend -------------------------------------------------------------------------------------


def test_resend_queues_the_mail_once_and_is_audited(swept, login, django_capture_on_commit_callbacks):
    world = swept
    client = login(world.perf_admin)
    digest = EmailDigest.objects.get(recipient=world.edu_filler)
    world.edu_filler.email = "edu.filler@qdperf.test"  # the address was corrected meanwhile
    world.edu_filler.save(update_fields=["email"])
    outbox.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("resend", digest.pk), {"comment": "已更正邮箱"}, follow=True)
    assert "已将发给" in response.content.decode() and "重新排队发送" in response.content.decode()
    digest.refresh_from_db()
    assert (digest.status, digest.attempts, digest.address) == (S.SENT, 1, "edu.filler@qdperf.test")
    assert [m.to for m in outbox.outbox] == [["edu.filler@qdperf.test"]]
    event = AuditEvent.objects.get(object_id=str(digest.pk), kind=AuditEvent.Kind.TRANSITION)
    assert (
        event.actor == world.perf_admin and "已更正邮箱" in event.comment and "SMTPRecipientsRefused" in event.comment
    )
    assert event.changes["status"] == {"from": S.FAILED, "to": S.PENDING}
    assert event.changes["attempts"] == {"from": 5, "to": 0}
    # A second click (or a double submit) changes nothing and sends nothing.
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(url("resend", digest.pk), follow=True).content.decode()
    assert "无需重发" in again
    assert len(outbox.outbox) == 1 and AuditEvent.objects.filter(object_id=str(digest.pk)).count() == 1


def test_resend_without_an_address_says_so_and_changes_nothing(swept, login):
    world = swept
    get_user_model().objects.filter(pk=world.edu_filler.pk).update(email="")
    digest = EmailDigest.objects.get(recipient=world.edu_filler)
    before = state()
    page = login(world.perf_admin).post(url("resend", digest.pk), follow=True).content.decode()
    assert "重发未成功：接收人“" in page and "未登记邮箱地址" in page
    assert state() == before


def test_resend_is_post_only(swept, login):
    digest = EmailDigest.objects.get(recipient=swept.edu_filler)
    assert login(swept.perf_admin).get(url("resend", digest.pk)).status_code == 405


# --- rules --------------------------------------------------------------------------------------

VALID = {
    "enabled": "on",
    "days_before": "10，5, 1",
    "on_due_day": "on",
    "escalate_department_after": "2",
    "escalate_finance_after": "5",
    "stop_after": "20",
}


def test_rules_are_saved_audited_and_reset(swept, login):
    world = swept
    client = login(world.perf_admin)
    response = client.post(url("rules"), VALID, follow=True)
    assert "提醒规则已保存" in response.content.decode()
    rule = ReminderRule.objects.get(organization=world.city_finance)
    assert (rule.days_before, rule.escalate_department_after, rule.escalate_finance_after, rule.stop_after) == (
        "10,5,1", 2, 5, 20,
    )  # fmt: skip
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.CREATE, object_id=str(rule.pk))
    assert event.changes["days_before"] == {"from": "7,3,1", "to": "10,5,1"}
    assert event.changes["escalate_finance_after"] == {"from": 3, "to": 5} and "enabled" not in event.changes
    assert "到期前10天" in client.get(url("rules")).content.decode()
    # The same values again: nothing written.
    assert "没有改动" in client.post(url("rules"), VALID, follow=True).content.decode()
    assert AuditEvent.objects.filter(object_id=str(rule.pk)).count() == 1
    # The district's rule is its own.
    assert not ReminderRule.objects.filter(organization=world.shinan_finance_org).exists()
    # 恢复默认
    assert "已恢复默认提醒规则" in client.post(url("rules"), {"reset": "1"}, follow=True).content.decode()
    rule.refresh_from_db()
    assert (rule.days_before, rule.escalate_department_after, rule.escalate_finance_after, rule.stop_after) == (
        "7,3,1", 1, 3, 30,
    )  # fmt: skip
    reset = AuditEvent.objects.filter(object_id=str(rule.pk), kind=AuditEvent.Kind.UPDATE).get()
    assert reset.comment == "提醒规则恢复默认" and reset.changes["days_before"] == {"from": "10,5,1", "to": "7,3,1"}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"days_before": "7,abc"}, "days_before", "提前提醒天数“abc”无效"),
        ({"days_before": "90"}, "days_before", "请填写 1–60 之间的整数"),
        ({"escalate_department_after": "x"}, "escalate_department_after", "“逾期多少天后提醒部门审核人”必须是整数"),
        ({"escalate_department_after": ""}, "escalate_department_after", "请填写“逾期多少天后提醒部门审核人”"),
        ({"escalate_finance_after": "2"}, "escalate_finance_after", "应大于“逾期多少天后提醒部门审核人”（2）"),
        ({"escalate_finance_after": "99"}, "escalate_finance_after", "应在 0–60 之间"),
        ({"stop_after": "3"}, "stop_after", "不能早于升级提醒的天数（5）"),
        (
            {"days_before": "", "on_due_day": "", "escalate_department_after": "0", "escalate_finance_after": "0"},
            "days_before",
            "没有任何提醒节点",
        ),
    ],
)
def test_bad_rules_name_the_field_and_change_nothing(swept, login, change, field, message):
    client = login(swept.shinan_finance)
    before = state()
    data = {k: v for k, v in {**VALID, **change}.items() if v != ""}
    response = client.post(url("rules"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'data-field="{field}"' in html and message in html, html[html.find("field-error") - 200 :][:800]
    assert "保存未成功，规则没有改动" in html
    assert state() == before


# --- 已发送: filters and constant queries -------------------------------------------------------


def rows_of(client, **query) -> set[str]:
    html = client.get(url("sent"), query).content.decode()
    return {line.split("填报绩效目标：")[1][:3] for line in html.splitlines() if "填报绩效目标：测试" in line}


def test_sent_filters(swept, login):
    world = swept
    client = login(world.perf_admin)
    assert rows_of(client) == {"测试1", "测试2"}
    assert rows_of(client, department=world.health.pk) == {"测试2"}
    assert rows_of(client, reason="department") == {"测试1"}
    assert rows_of(client, q="health_filler") == {"测试2"}
    assert rows_of(client, step="target_filing") == {"测试1", "测试2"}
    assert rows_of(client, step="monitoring") == set()
    assert rows_of(client, date_from="2026-12-10", date_to="2026-12-10") == {"测试1", "测试2"}
    assert rows_of(client, date_from="2026-12-11") == set()
    assert rows_of(client, date_to="2026-12-09") == set()
    bad = client.get(url("sent"), {"date_from": "2026-12-11", "date_to": "2026-12-01"}).content.decode()
    assert "截止日期不能早于起始日期" in bad


def test_sent_and_failed_lists_run_a_constant_number_of_queries(swept, login, work):  # noqa: F811
    world = swept
    client = login(world.perf_admin)
    n = iter(range(100, 1000))

    def grow():
        work[:] = [unit_work(world, object_id=next(n), due=DUE - timedelta(days=3)) for _ in range(3)]
        services.sweep(DUE)
        for days in (1, 2, 3):
            EmailDigest.objects.create(
                recipient=world.health_filler, day=DUE - timedelta(days=days), address="x@qdperf.test", status=S.FAILED
            )

    def pages():
        for name in ("sent", "failed"):
            assert client.get(url(name)).status_code == 200

    before = Reminder.objects.count()
    assert_constant_queries(pages, grow, 21)
    assert Reminder.objects.count() > before + 6


# --- 即将提醒 -----------------------------------------------------------------------------------


def test_upcoming_shows_what_the_sweep_will_send_minus_what_went(swept, login, work):  # noqa: F811
    world = swept
    work.append(unit_work(world, object_id=4, due=DUE + timedelta(days=5)))
    with time_machine.travel(datetime(2026, 12, 10, 9, 0, tzinfo=TZ), tick=False):
        html = login(world.perf_admin).get(url("upcoming")).content.decode()
    # 测试4 is due in 5 days: -7 today (not yet recorded), -3 on 12月12日, -1 on 12月14日, 0 on 12月15日
    # and +1 on 12月16日 (the approver too): five rows in the 7 days.
    assert html.count("填报绩效目标：测试4") == 5
    for day in ("2026-12-10", "2026-12-12", "2026-12-14", "2026-12-15", "2026-12-16"):
        assert f'data-day="{day}"' in html
    # 测试2 (卫生健康委, due today) goes on: +1 tomorrow; +3 on 12月13日 to finance (no sector division
    # has 卫生健康委: the performance division hears of it).
    day13 = html[html.index('data-day="2026-12-13"') : html.index('data-day="2026-12-14"')]
    assert "填报绩效目标：测试2" in day13 and "（升级至财政）" in day13
    # 测试1 (overdue 1 day) went today; the next stage is +3 on 12月12日 — to finance (sector_kjw).
    day12 = html[html.index('data-day="2026-12-12"') : html.index('data-day="2026-12-14"')]
    assert "填报绩效目标：测试1" in day12 and "（升级至财政）" in day12
    assert "填报绩效目标：测试3" not in html  # 市南区's
    assert "绩效目标申报" in html  # the step's name
    today = html[html.index('data-day="2026-12-10"') : html.index('data-day="2026-12-11"')]
    assert "填报绩效目标：测试1" not in today and "填报绩效目标：测试2" not in today  # already sent today


def test_upcoming_with_a_superscript_for_days_shows_seven_days(swept, login):
    response = login(swept.perf_admin).get(url("upcoming"), {"days": "²"})
    assert response.status_code == 200 and 'class="btn btn-primary" href="?days=7"' in response.content.decode()


# --- links and the resend refusals --------------------------------------------------------------


def test_a_link_that_is_not_a_path_on_this_site_is_never_rendered(swept, login, work):  # noqa: F811
    world = swept
    Reminder.objects.filter(recipient=world.edu_filler).update(url="javascript:alert(1)")
    Reminder.objects.filter(recipient=world.edu_unit_filler).update(url="//evil.example/phish")
    work.append(replace(unit_work(world, object_id=4, due=DUE + timedelta(days=2)), url="https://evil.example/x"))
    client = login(world.perf_admin)
    for page in (client.get(url("sent")), client.get(url("upcoming"))):
        html = page.content.decode()
        assert page.status_code == 200 and "evil.example" not in html and "javascript:" not in html
    assert "填报绩效目标：测试4" in client.get(url("upcoming")).content.decode()  # the title, as text
    assert 'href="/targets/2/"' in client.get(url("sent")).content.decode()  # a path on this site stays a link


def test_resend_to_someone_deactivated_says_so_and_changes_nothing(swept, login):
    world = swept
    get_user_model().objects.filter(pk=world.edu_filler.pk).update(is_active=False)
    digest = EmailDigest.objects.get(recipient=world.edu_filler)
    before = state()
    outbox.outbox.clear()
    page = login(world.perf_admin).post(url("resend", digest.pk), follow=True).content.decode()
    assert f"重发未成功：接收人“{world.edu_filler.display_name}”账号已停用，不能重发邮件提醒。" in page
    assert state() == before and not outbox.outbox


def test_overview_speaks_chinese_times_and_flags_abandoned_sweeps(world, login):
    """Walkthrough: times as 2026年…, 北京时间, a sweep that died shows 未完成 (not 进行中 for ever)."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.reminders.models import SweepRun

    run = SweepRun.objects.create(day=timezone.localdate())
    SweepRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(hours=1))
    html = login(world.perf_admin).get(reverse("reminders:overview")).content.decode()
    assert "未完成" in html and "北京时间" in html and "Asia/Shanghai" not in html
    assert f"{timezone.localdate().year}年" in html
