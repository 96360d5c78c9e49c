"""The notification centre in the API: own notifications with items, unread count, mark read, channels."""

from datetime import timedelta

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.core.models import AuditEvent
from apps.reminders import services
from apps.reminders.models import ChannelPreference, Notification, Reminder
from tests.querycount import assert_constant_queries
from tests.test_notifications import digest, unread
from tests.test_reminder_sweep import DUE, unit_work, work  # noqa: F401  (``work`` is a fixture)

API = "/api/v1"


@pytest.fixture
def api():
    def _as(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return _as


def test_list_own_newest_first_with_items(world, work, api):  # noqa: F811
    work.append(unit_work(world, object_id=1, due=DUE))
    work.append(unit_work(world, object_id=2, due=DUE + timedelta(days=3)))
    services.sweep(DUE)
    services.sweep(DUE + timedelta(days=1))
    digest(world.health_filler, DUE, -3)  # someone else's
    body = api(world.edu_unit_filler).get(f"{API}/notifications/").json()
    assert body["count"] == 2
    newest, oldest = body["results"]
    assert (newest["day"], newest["title"], newest["unread"], newest["item_count"]) == (
        "2026-12-11", "2026年12月11日 催办提醒", True, 1,
    )  # fmt: skip
    assert [i["stage_label"] for i in oldest["items"]] == ["今天到期", "还有3天到期"]  # earliest due first
    item = newest["items"][0]
    assert (item["stage"], item["days_from_due"], item["stage_label"], item["overdue"]) == (1, 1, "已逾期1天", True)
    assert item["due_on_display"] == "2026年12月10日" and item["url"] == "/targets/1/"
    assert item["reason"] == "actor" and item["escalation_note"] == ""
    approver = api(world.edu_approver).get(f"{API}/notifications/").json()["results"][0]["items"][0]
    assert approver["reason"] == "department" and approver["escalation_note"] == "升级提醒：青岛第二中学逾期未办"


def test_unread_filter_and_count(world, api):
    digest(world.edu_unit_filler, DUE, -3, read=True)
    fresh = digest(world.edu_unit_filler, DUE + timedelta(days=1), 0)
    digest(world.edu_filler, DUE, -3)
    client = api(world.edu_unit_filler)
    assert client.get(f"{API}/notifications/unread-count/").json() == {"unread": 1}
    only = client.get(f"{API}/notifications/", {"unread": "true"}).json()
    assert [n["id"] for n in only["results"]] == [fresh.pk]
    assert client.get(f"{API}/notifications/", {"unread": "false"}).json()["count"] == 2


def test_mark_read_and_read_all(world, api):
    first = digest(world.edu_unit_filler, DUE, -3)
    digest(world.edu_unit_filler, DUE + timedelta(days=1), 0)
    theirs = digest(world.edu_filler, DUE, -3)
    client = api(world.edu_unit_filler)
    assert client.post(f"{API}/notifications/{first.pk}/read/").json() == {"marked": 1}
    assert client.post(f"{API}/notifications/{first.pk}/read/").json() == {"marked": 0}  # again: harmless
    assert unread(world.edu_unit_filler) == 1
    assert client.post(f"{API}/notifications/read-all/").json() == {"marked": 1}
    assert client.post(f"{API}/notifications/read-all/").json() == {"marked": 0}
    assert unread(world.edu_unit_filler) == 0 and unread(world.edu_filler) == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize("persona", ["health_filler", "shinan_edu_filler", "edu_approver", "perf_admin", "auditor"])
def test_another_person_s_notification_is_404_and_nothing_changes(world, api, persona):
    notification = digest(world.edu_unit_filler, DUE, -3)
    client = api(getattr(world, persona))
    for response in (
        client.get(f"{API}/notifications/{notification.pk}/"),
        client.get(f"{API}/notifications/{notification.pk}/items/"),
        client.post(f"{API}/notifications/{notification.pk}/read/"),
    ):
        assert response.status_code == 404
        assert response.json()["detail"] == "未找到该记录，或不在您的查看范围内。"
    assert client.get(f"{API}/notifications/").json()["count"] == 0
    client.post(f"{API}/notifications/read-all/")
    notification.refresh_from_db()
    assert notification.read_at is None


def test_signed_out_is_refused(world):
    notification = digest(world.edu_unit_filler, DUE, -3)
    client = APIClient()
    for method, url in (
        ("get", "/notifications/"),
        ("get", "/notifications/unread-count/"),
        ("post", f"/notifications/{notification.pk}/read/"),
        ("post", "/notifications/read-all/"),
        ("get", "/me/channels/"),
        ("put", "/me/channels/"),
    ):
        assert getattr(client, method)(f"{API}{url}").status_code in (401, 403), url
    assert unread(world.edu_unit_filler) == 1 and not ChannelPreference.objects.exists()


def test_a_token_works_like_the_session(world):
    digest(world.edu_unit_filler, DUE, -3)
    token = Token.objects.create(user=world.edu_unit_filler)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(f"{API}/notifications/unread-count/").json() == {"unread": 1}


def test_the_list_runs_a_constant_number_of_queries(world, api):
    client = api(world.edu_unit_filler)
    for n in range(3):
        digest(world.edu_unit_filler, DUE - timedelta(days=n), -3, 0, 1)

    def grow():
        for n in range(3, 12):
            digest(world.edu_unit_filler, DUE - timedelta(days=n), -7, -3, 0, 3, reason=Reminder.Reason.FINANCE)

    assert_constant_queries(lambda: client.get(f"{API}/notifications/"), grow, 3)  # count, page, items


# --- Channels ---------------------------------------------------------------------------------------


def test_channels_read_and_change_audited(world, api):
    world.edu_unit_filler.email = "zhang@edu.example.cn"
    world.edu_unit_filler.save()
    client = api(world.edu_unit_filler)
    assert client.get(f"{API}/me/channels/").json() == {
        "email": True, "in_app": True, "address": "zhang@edu.example.cn", "email_possible": True,
    }  # fmt: skip
    response = client.put(f"{API}/me/channels/", {"email": False}, format="json")
    assert response.status_code == 200 and response.json()["email"] is False
    client.put(f"{API}/me/channels/", {"email": False}, format="json")  # unchanged: not audited again
    assert ChannelPreference.objects.get(user=world.edu_unit_filler).email is False
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.UPDATE)
    assert event.actor == world.edu_unit_filler and event.changes == {"email": {"from": True, "to": False}}


def test_channels_without_an_address_say_so(world, api):
    world.edu_filler.email = ""
    world.edu_filler.save()
    body = api(world.edu_filler).get(f"{API}/me/channels/").json()
    assert body["address"] == "" and body["email_possible"] is False


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({}, "email", "缺少字段 email"),
        ({"email": "maybe"}, "email", "字段 email（是否接收邮件提醒）应为 true 或 false"),
        ({"email": None}, "email", "不能为空"),
        ({"email": False, "in_app": False}, "in_app", "站内通知不能关闭"),
        ({"email": False, "in_app": "no way"}, "in_app", "站内通知不能关闭"),
        ([{"email": False}], "non_field_errors", "请求内容应为 JSON 对象"),
    ],
)
def test_bad_channel_payloads_are_400_in_chinese_and_change_nothing(world, api, payload, field, words):
    client = api(world.edu_unit_filler)
    response = client.put(f"{API}/me/channels/", payload, format="json")
    assert response.status_code == 400
    assert words in " ".join(response.json()[field])
    assert not ChannelPreference.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.UPDATE).exists()


def test_broken_json_is_400_in_chinese(world, api):
    response = api(world.edu_unit_filler).put(f"{API}/me/channels/", "{email:", content_type="application/json")
    assert response.status_code == 400 and response.json()["detail"] == "请求内容不是有效的 JSON。"


def test_channels_change_only_one_s_own(world, api):
    api(world.health_filler).put(f"{API}/me/channels/", {"email": False}, format="json")
    assert list(ChannelPreference.objects.values_list("user__username", flat=True)) == ["health_filler"]
    assert Notification.objects.count() == 0


# --- A long digest --------------------------------------------------------------------------------


def test_a_long_digest_lists_twenty_items_with_the_count_and_all_of_them_on_its_items_endpoint(world, api):
    long = digest(world.edu_unit_filler, DUE, *([-3] * 20), *([1] * 5))  # 25 items, 5 overdue
    client = api(world.edu_unit_filler)
    row = client.get(f"{API}/notifications/").json()["results"][0]
    assert (row["item_count"], row["overdue_count"], len(row["items"])) == (25, 5, 20)
    assert row["items_url"] == f"{API}/notifications/{long.pk}/items/"
    assert [i["due_on"] for i in row["items"]][:1] == ["2026-12-09"]  # earliest due first: the overdue ones
    assert len(client.get(f"{API}/notifications/{long.pk}/").json()["items"]) == 20
    every = client.get(row["items_url"]).json()
    assert every["count"] == 25 and len(every["results"]) == 25 and every["next"] is None
    assert {i["days_from_due"] for i in every["results"]} == {-3, 1}


def test_the_items_endpoint_pages_by_a_hundred_and_runs_constant_queries(world, api):
    long = digest(world.edu_unit_filler, DUE, *([-3] * 3))
    client = api(world.edu_unit_filler)
    items = f"{API}/notifications/{long.pk}/items/"

    def grow():
        ct = long.items.first().content_type
        Reminder.objects.bulk_create(
            Reminder(
                recipient=world.edu_unit_filler, content_type=ct, object_id=10_000 + n, step="target_filing",
                stage=-3, due_on=DUE + timedelta(days=3), title=f"事项{n}", url="/targets/1/",
                organization=world.edu_unit, region=world.city, notification=long,
            )
            for n in range(150)
        )  # fmt: skip

    assert_constant_queries(lambda: client.get(items), grow, 3)  # notification, count, page
    second = client.get(items, {"page": 2}).json()
    assert second["count"] == 153 and len(second["results"]) == 53
