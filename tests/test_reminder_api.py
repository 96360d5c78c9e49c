"""The reminders API: /api/v1/reminders/ (+ upcoming/), /api/v1/email-digests/ (+ resend/),
/api/v1/reminder-rules/current/. Same scope and services as the pages (``test_reminder_pages``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail as outbox
from django.core.management import call_command

from apps.core.models import AuditEvent
from apps.reminders import services
from apps.reminders.models import ChannelPreference, EmailDigest, ReminderRule
from tests.querycount import assert_constant_queries
from tests.test_reminder_pages import OUTSIDERS, state, swept  # noqa: F401  (fixture "swept")
from tests.test_reminder_sweep import DUE, unit_work, work  # noqa: F401  (fixture "work")

S = EmailDigest.Status
API = "/api/v1/"


def titles(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["title"][-3:] for row in response.json()["results"]}


def test_reminders_are_scoped_and_filtered(swept, login):  # noqa: F811
    world = swept
    city = login(world.perf_admin)
    assert titles(city.get(f"{API}reminders/")) == {"测试1", "测试2"}
    row = next(r for r in city.get(f"{API}reminders/", {"reason": "department"}).json()["results"])
    assert row["recipient_name"] == world.edu_approver.display_name and row["reason_display"] == "升级至部门"
    assert row["department_name"] == "青岛市教育局" and row["organization_name"] == "青岛第二中学"
    assert row["step_display"] == "绩效目标申报" and row["stage"] == 1 and row["stage_label"] == "已逾期1天"
    assert row["email_status"] == S.SENT and row["read_at"] is None
    assert titles(city.get(f"{API}reminders/", {"department": world.health.pk})) == {"测试2"}
    assert titles(city.get(f"{API}reminders/", {"recipient_name": "health_filler"})) == {"测试2"}
    assert titles(city.get(f"{API}reminders/", {"date_from": "2026-12-10", "date_to": "2026-12-10"})) == {
        "测试1", "测试2",
    }  # fmt: skip
    assert titles(city.get(f"{API}reminders/", {"date_from": "2026-12-11"})) == set()
    assert titles(city.get(f"{API}reminders/", {"step": "monitoring"})) == set()
    assert titles(login(world.shinan_finance).get(f"{API}reminders/")) == {"测试3"}
    assert titles(login(world.sector_kjw).get(f"{API}reminders/")) == {"测试1"}
    other = login(world.shinan_finance).get(f"{API}reminders/{row['id']}/")
    assert other.status_code == 404 and other.json()["detail"] == "未找到该记录，或不在您的查看范围内。"


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_other_roles_get_403_everywhere_and_change_nothing(swept, login, persona):  # noqa: F811
    world = swept
    client = login(getattr(world, persona))
    before = state()
    for path in ("reminders/", "reminders/upcoming/", "email-digests/", "reminder-rules/current/"):
        assert client.get(f"{API}{path}").status_code == 403, path
    digest = EmailDigest.objects.get(recipient=world.edu_filler)
    assert client.post(f"{API}email-digests/{digest.pk}/resend/").status_code == 403
    put = client.put(f"{API}reminder-rules/current/", {"days_before": "5"}, content_type="application/json")
    assert put.status_code == 403
    assert state() == before


def test_failed_digests_and_resend(swept, login, django_capture_on_commit_callbacks):  # noqa: F811
    world = swept
    city = login(world.perf_admin)
    failed = city.get(f"{API}email-digests/", {"status": "failed"}).json()["results"]
    assert [(d["recipient_name"], d["attempts"], d["item_count"]) for d in failed] == [
        (world.edu_filler.display_name, 5, 1)
    ]
    assert "SMTPRecipientsRefused" in failed[0]["last_error"] and failed[0]["status_display"] == "发送失败"
    assert len(login(world.shinan_finance).get(f"{API}email-digests/", {"problems": "true"}).json()["results"]) == 1
    city = login(world.perf_admin)  # one test client: signed in as perf_admin again
    outbox.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = city.post(f"{API}email-digests/{failed[0]['id']}/resend/", {"comment": "邮箱已恢复"}, "application/json")
    assert done.status_code == 200 and done.json()["resent"] is True, done.content.decode()
    assert EmailDigest.objects.get(pk=failed[0]["id"]).status == S.SENT and len(outbox.outbox) == 1
    again = city.post(f"{API}email-digests/{failed[0]['id']}/resend/")
    assert again.status_code == 200 and again.json()["resent"] is False and again.json()["status"] == S.SENT
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.TRANSITION, object_id=str(failed[0]["id"])).count() == 1


def test_resend_out_of_scope_is_404_and_read_only_roles_403(swept, login):  # noqa: F811
    world = swept
    before = state()
    city = EmailDigest.objects.get(recipient=world.edu_filler)
    district = EmailDigest.objects.get(recipient=world.shinan_edu_filler)
    assert login(world.shinan_finance).post(f"{API}email-digests/{city.pk}/resend/").status_code == 404
    assert login(world.perf_admin).post(f"{API}email-digests/{district.pk}/resend/").status_code == 404
    sector = login(world.sector_kjw)
    assert sector.get(f"{API}email-digests/{city.pk}/").status_code == 200  # 教育局 is theirs to read
    assert sector.post(f"{API}email-digests/{city.pk}/resend/").status_code == 403
    assert state() == before


def test_upcoming(swept, login, work):  # noqa: F811
    world = swept
    work.append(unit_work(world, object_id=4, due=DUE + timedelta(days=5)))
    client = login(world.perf_admin)
    groups = client.get(f"{API}reminders/upcoming/", {"days": 3}).json()
    assert [(g["day"], g["step_display"]) for g in groups][0] == ("2026-12-10", "绩效目标申报")
    today = groups[0]["items"]
    assert [(i["title"], i["stage"], i["stage_label"]) for i in today] == [("填报绩效目标：测试4", -7, "还有7天到期")]
    assert {r["name"] for r in today[0]["recipients"]} == {
        world.edu_filler.display_name, world.edu_unit_filler.display_name,
    }  # fmt: skip
    assert {g["day"] for g in groups} <= {"2026-12-10", "2026-12-11", "2026-12-12"}
    for bad in ("0", "15", "x", "²", "1²", "-3"):
        response = client.get(f"{API}reminders/upcoming/", {"days": bad})
        assert response.status_code == 400 and response.json() == {"days": ["天数应为 1–14 之间的整数。"]}
    assert login(world.shinan_finance).get(f"{API}reminders/upcoming/").json()[0]["items"][0]["title"].endswith("测试3")


def test_rule_read_and_change(swept, login):  # noqa: F811
    world = swept
    city = login(world.perf_admin)
    rule = city.get(f"{API}reminder-rules/current/").json()
    assert rule["organization_name"] == "青岛市财政局" and rule["is_default"] is True and rule["days_before"] == "7,3,1"
    assert rule["stages"][:4] == ["到期前7天", "到期前3天", "到期前1天", "到期当日"]
    changed = city.put(f"{API}reminder-rules/current/", {"days_before": "5,2", "stop_after": 10}, "application/json")
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert (body["is_default"], body["days_before"], body["stop_after"], body["escalate_finance_after"]) == (
        False, "5,2", 10, 3,
    )  # fmt: skip
    saved = ReminderRule.objects.get(organization=world.city_finance)
    event = AuditEvent.objects.get(object_id=str(saved.pk), kind=AuditEvent.Kind.CREATE)
    assert event.changes == {"days_before": {"from": "7,3,1", "to": "5,2"}, "stop_after": {"from": 30, "to": 10}}
    assert login(world.sector_kjw).get(f"{API}reminder-rules/current/").json()["days_before"] == "5,2"
    assert login(world.shinan_finance).get(f"{API}reminder-rules/current/").json()["is_default"] is True
    # Sweeps use it: the rule is this region's.
    assert services.RegionRules().get(world.city.pk)[0].days_before == "5,2"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"days_before": "3,x"},
            {"days_before": ["提前提醒天数“x”无效：请填写 1–60 之间的整数，用逗号分隔，如 7,3,1。"]},
        ),
        (
            {"escalate_department_after": "abc"},
            {"escalate_department_after": ["“逾期多少天后提醒部门审核人”必须是整数。"]},
        ),
        (
            {"escalate_department_after": 4, "escalate_finance_after": 4},
            {"escalate_finance_after": ["“逾期多少天后提醒财政审核人”（4）应大于“逾期多少天后提醒部门审核人”（4）。"]},
        ),
        ({"stop_after": 400}, {"stop_after": ["“逾期多少天后不再提醒”应在 0–365 之间（0 表示一直提醒）。"]}),
        # "²" is a digit to ``str.isdigit`` but not to ``int``: a 400, not a 500.
        (
            {"days_before": "²"},
            {"days_before": ["提前提醒天数“²”无效：请填写 1–60 之间的整数，用逗号分隔，如 7,3,1。"]},
        ),
        (
            {"days_before": "7,3²"},
            {"days_before": ["提前提醒天数“7,3²”无效：请填写 1–60 之间的整数，用逗号分隔，如 7,3,1。"]},
        ),
        (
            {"escalate_department_after": "²"},
            {"escalate_department_after": ["“逾期多少天后提醒部门审核人”必须是整数。"]},
        ),
        (
            {"escalate_department_after": -1},
            {"escalate_department_after": ["“逾期多少天后提醒部门审核人”应在 0–60 之间（0 表示不升级）。"]},
        ),
    ],
)
def test_bad_rule_is_400_by_field_and_changes_nothing(swept, login, body, errors):  # noqa: F811
    client = login(swept.shinan_finance)
    before = state()
    response = client.put(f"{API}reminder-rules/current/", body, "application/json")
    assert response.status_code == 400 and response.json() == errors
    assert state() == before


def test_rule_change_needs_manage(swept, login):  # noqa: F811
    before = state()
    response = login(swept.sector_kjw).put(f"{API}reminder-rules/current/", {"enabled": False}, "application/json")
    assert response.status_code == 403 and "绩效管理处" in response.json()["detail"]
    assert state() == before


def test_lists_run_a_constant_number_of_queries(swept, login, work):  # noqa: F811
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

    def lists():
        assert client.get(f"{API}reminders/").status_code == 200
        assert client.get(f"{API}email-digests/", {"problems": "true"}).status_code == 200

    assert_constant_queries(lists, grow, 16)


def test_schema_validates_and_this_part_adds_no_warning(db):
    from drf_spectacular.drainage import GENERATOR_STATS

    GENERATOR_STATS.reset()
    call_command("spectacular", "--validate", "--file", "/dev/null")
    messages = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    assert not [m for m in messages if "eminder" in m or "igest" in m or "pcoming" in m], messages


def test_upcoming_names_the_recipient_plainly_and_gives_the_reason_apart(swept, login, work):  # noqa: F811
    world = swept
    work.append(unit_work(world, object_id=5, due=DUE - timedelta(days=1)))  # overdue: escalates to the approver
    items = login(world.perf_admin).get(f"{API}reminders/upcoming/", {"days": 1}).json()[0]["items"]
    people = {(r["name"], r["reason"]) for r in items[0]["recipients"]}
    assert (world.edu_approver.display_name, "department") in people
    assert all("（" not in name for name, _ in people)


def test_a_non_numeric_id_is_404_not_500(swept, login):  # noqa: F811
    city = login(swept.perf_admin)
    before = state()
    for bad in ("abc", "²", "١"):
        assert city.post(f"{API}email-digests/{bad}/resend/").status_code == 404, bad
        assert city.get(f"{API}email-digests/{bad}/").status_code == 404, bad
        assert city.get(f"{API}reminders/{bad}/").status_code == 404, bad
        assert login(swept.edu_filler).post(f"{API}notifications/{bad}/read/").status_code == 404, bad
    assert state() == before


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ({"step": "nonsense"}, "step", "业务环节（step）“nonsense”无效，可选：target_filing、"),
        ({"reason": "boss"}, "reason", "提醒原因（reason）“boss”无效，可选：actor、department、finance。"),
        ({"stage": "x"}, "stage", "提醒节点（stage）应为整数"),
        ({"date_from": "2026-13-40"}, "date_from", "生成日期起（date_from）格式应为 2026-11-25。"),
    ],
)
def test_a_bad_filter_is_400_in_chinese_naming_the_field(swept, login, query, field, words):  # noqa: F811
    response = login(swept.perf_admin).get(f"{API}reminders/", query)
    assert response.status_code == 400 and words in response.json()[field][0], response.json()


def test_recipient_and_organisation_filters_do_not_tell_what_exists_out_of_scope(swept, login):  # noqa: F811
    world = swept
    district = login(world.shinan_finance)
    nowhere = 987654
    for name, out_of_scope in (
        ("recipient", world.edu_unit_filler.pk),  # a city person: exists, not theirs
        ("organization", world.edu_unit.pk),
        ("department", world.edu.pk),
    ):
        hidden = district.get(f"{API}reminders/", {name: out_of_scope})
        missing = district.get(f"{API}reminders/", {name: nowhere})
        assert hidden.status_code == missing.status_code == 400, name
        assert hidden.json() == missing.json(), name
        assert "不存在或不在您的查看范围内" in hidden.json()[name][0]
    mine = district.get(f"{API}reminders/", {"recipient": world.shinan_edu_filler.pk})
    assert titles(mine) == {"测试3"}
    assert titles(district.get(f"{API}reminders/", {"organization": world.shinan_edu_unit.pk})) == {"测试3"}
    digests = district.get(f"{API}email-digests/", {"recipient": world.edu_filler.pk})
    assert (
        digests.status_code == 400
        and digests.json() == district.get(f"{API}email-digests/", {"recipient": nowhere}).json()
    )
    everything = district.get(f"{API}email-digests/").json()["count"]
    assert district.get(f"{API}email-digests/", {"search": "zzz"}).json()["count"] == everything  # no search here


def test_resend_of_a_sent_or_skipped_email_says_why_not(swept, login):  # noqa: F811
    world = swept
    city = login(world.perf_admin)
    before = state()
    sent = EmailDigest.objects.get(recipient=world.edu_unit_filler)
    body = city.post(f"{API}email-digests/{sent.pk}/resend/").json()
    assert body["resent"] is False and body["status"] == S.SENT
    name = world.edu_unit_filler.display_name
    assert body["message"] == f"发给 {name} 的邮件提醒已于2026年12月10日 09:00发送，无需重发。"
    EmailDigest.objects.filter(pk=sent.pk).update(status=S.SKIPPED, skip_reason="本人未开启邮件提醒")
    skipped = city.post(f"{API}email-digests/{sent.pk}/resend/").json()
    assert skipped["resent"] is False and "未发送（原因：本人未开启邮件提醒），不能重发" in skipped["message"]
    EmailDigest.objects.filter(pk=sent.pk).update(status=S.SENT, skip_reason="")
    assert state() == before


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"is_active": False}, "账号已停用"),
        ({"email": ""}, "未登记邮箱地址"),
        (None, "本人未开启邮件提醒"),
    ],
)
def test_resend_to_someone_who_cannot_receive_email_now_is_refused(swept, login, change, reason):  # noqa: F811
    world = swept
    if change:
        get_user_model().objects.filter(pk=world.edu_filler.pk).update(**change)
    else:
        ChannelPreference.objects.create(user=world.edu_filler, email=False)
    failed = EmailDigest.objects.get(recipient=world.edu_filler)
    before = state()
    outbox.outbox.clear()
    body = login(world.perf_admin).post(f"{API}email-digests/{failed.pk}/resend/").json()
    assert body["resent"] is False and body["status"] == S.FAILED
    assert body["message"] == f"接收人“{world.edu_filler.display_name}”{reason}，不能重发邮件提醒。"
    assert state() == before and not outbox.outbox
