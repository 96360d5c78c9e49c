"""/api/v1/calendar/: finance writes its own region's step dates (another region 404, other roles
403, Chinese errors naming the field, nothing changed on refusal); copy to districts; the one list
of every deadline the user may see."""

from datetime import date

import pytest
from django.core.management import call_command

from apps.core.models import AuditEvent
from apps.orgs.models import WorkCalendar
from tests.querycount import assert_constant_queries
from tests.test_calendar import days, deadlines, frozen, rectification, returned_target  # noqa: F401  (fixtures)

URL = "/api/v1/calendar/"
SHINAN = "市南区的区域 id"  # replaced by the test (regions are created with the world)


def dates(org) -> dict:
    return dict(WorkCalendar.objects.filter(organization=org).values_list("step", "due_on"))


# --- writing a step's dates ----------------------------------------------------------------------


def test_finance_sets_and_changes_its_region_dates(world, login, year):
    client = login(world.perf_admin)
    made = client.post(
        URL, {"step": "monitoring", "starts_on": "2026-08-01", "due_on": "2026-08-15"}, "application/json"
    )
    assert made.status_code == 201, made.json()
    body = made.json()
    assert (
        body["organization"] == world.city_finance.pk and body["fiscal_year"] == 2026 and body["due_on"] == "2026-08-15"
    )
    changed = client.post(URL, {"step": "monitoring", "due_on": "2026-08-20", "note": "延期"}, "application/json")
    assert changed.status_code == 200 and changed.json()["id"] == body["id"]
    assert changed.json()["starts_on"] == "2026-08-01"  # POST keeps what it is not sent
    patched = client.patch(f"{URL}{body['id']}/", {"due_on": "2026-08-25"}, "application/json")
    assert patched.status_code == 200
    assert (patched.json()["note"], patched.json()["starts_on"], patched.json()["due_on"]) == (
        "延期", "2026-08-01", "2026-08-25"
    )  # fmt: skip
    assert AuditEvent.objects.filter(object_id=str(body["id"])).count() == 3
    district = login(world.shinan_finance).post(URL, {"step": "monitoring", "due_on": "2026-08-18"}, "application/json")
    assert district.status_code == 201 and district.json()["organization"] == world.shinan_finance_org.pk


def test_put_replaces_patch_changes_what_is_sent_and_post_keeps_the_rest(world, login, year):
    entry = WorkCalendar.objects.create(
        organization=world.city_finance, fiscal_year=year, step="monitoring",
        starts_on=date(2026, 8, 1), due_on=date(2026, 8, 15), note="第三季度",
    )  # fmt: skip
    client = login(world.perf_admin)

    def stored():
        entry.refresh_from_db()
        return entry.starts_on, entry.due_on, entry.note

    assert client.patch(f"{URL}{entry.pk}/", {"note": "延期"}, "application/json").status_code == 200
    assert stored() == (date(2026, 8, 1), date(2026, 8, 15), "延期")
    assert client.post(URL, {"step": "monitoring", "due_on": "2026-08-16"}, "application/json").status_code == 200
    assert stored() == (date(2026, 8, 1), date(2026, 8, 16), "延期")
    replaced = client.put(f"{URL}{entry.pk}/", {"due_on": "2026-08-20"}, "application/json")
    assert replaced.status_code == 200 and (replaced.json()["starts_on"], replaced.json()["note"]) == (None, "")
    assert stored() == (None, date(2026, 8, 20), "")
    no_due = client.put(f"{URL}{entry.pk}/", {"note": "只改说明"}, "application/json")
    assert no_due.status_code == 400 and no_due.json() == {"due_on": ["请填写截止日期（due_on）。"]}
    assert stored() == (None, date(2026, 8, 20), "")
    event = AuditEvent.objects.filter(object_id=str(entry.pk)).latest("pk")
    assert event.changes == {"starts_on": {"from": "2026-08-01", "to": None}, "note": {"from": "延期", "to": ""},
                             "due_on": {"from": "2026-08-16", "to": "2026-08-20"}}  # fmt: skip


def test_patch_checks_the_start_against_the_stored_due_date(world, login, year):
    entry = WorkCalendar.objects.create(
        organization=world.city_finance, fiscal_year=year, step="monitoring", due_on=date(2026, 8, 15)
    )
    response = login(world.perf_admin).patch(f"{URL}{entry.pk}/", {"starts_on": "2026-09-01"}, "application/json")
    assert response.status_code == 400
    assert response.json() == {"starts_on": ["开始日期（starts_on）不能晚于截止日期（due_on）。"]}
    entry.refresh_from_db()
    assert entry.starts_on is None and not AuditEvent.objects.filter(object_id=str(entry.pk)).exists()


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"step": "monitoring"}, "due_on", "请填写截止日期（due_on）"),
        ({"step": "monitoring", "due_on": "8月15日"}, "due_on", "截止日期（due_on）格式应为 YYYY-MM-DD"),
        ({"step": "nonsense", "due_on": "2026-08-15"}, "step", "业务环节（step）“nonsense”不存在"),
        ({"due_on": "2026-08-15"}, "step", "请指定业务环节（step）"),
        (
            {"step": "monitoring", "due_on": "2026-08-15", "starts_on": "2026-09-01"},
            "starts_on",
            "开始日期（starts_on）不能晚于截止日期（due_on）。",
        ),
        ({"step": None, "due_on": "2026-08-15"}, "step", "业务环节（step）不能为 null"),
        ({"step": "monitoring", "due_on": None}, "due_on", "请填写截止日期（due_on）"),
        ({"step": "monitoring", "due_on": "2026-08-15", "note": None}, "note", "说明（note）不能为 null"),
        ({"step": "monitoring", "due_on": "2026-08-15", "note": ["x"]}, "note", "说明（note）应为文字"),
        (
            {"step": "monitoring", "due_on": "2026-08-15", "fiscal_year": "明年"},
            "fiscal_year",
            "预算年度（fiscal_year）",
        ),
        (
            {"step": "monitoring", "due_on": "2026-08-15", "organization": "财政局"},
            "organization",
            "财政部门（organization）应为机构 id",
        ),
        ({"step": "monitoring", "due_on": "2027-12-31T08:00:00"}, "due_on", "截止日期（due_on）"),
        # The year's span: filed in the year before, evaluated in the year after.
        (
            {"step": "monitoring", "due_on": "2028-01-01"},
            "due_on",
            "截止日期（due_on）应在2025年1月1日至2027年12月31日之间",
        ),
        (
            {"step": "monitoring", "due_on": "2026-08-15", "starts_on": "2024-12-31"},
            "starts_on",
            "开始日期（starts_on）应在2025年1月1日至2027年12月31日之间",
        ),
        ({"step": "monitoring", "due_on": "9999-12-31"}, "due_on", "2027年12月31日"),
        (
            {"step": "monitoring", "due_on": "2026-08-15", "fiscal_year": 2031},
            "fiscal_year",
            "预算年度（fiscal_year）2031 不存在",
        ),
        ({"step": "monitoring", "due_on": "2026-08-15", "note": "长" * 201}, "note", "说明（note）不能超过 200 个字"),
    ],
)
def test_bad_input_is_refused_in_chinese_naming_the_field(world, login, year, payload, field, message):
    response = login(world.perf_admin).post(URL, payload, "application/json")
    assert response.status_code == 400
    assert message in " ".join(response.json()[field]), response.json()
    assert not WorkCalendar.objects.exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[{"step": "monitoring"}]', '请求内容应为 JSON 对象，如 {"step": "monitoring", "due_on": "2026-08-15"}。'),
        ('"monitoring"', '请求内容应为 JSON 对象，如 {"step": "monitoring", "due_on": "2026-08-15"}。'),
        ("null", "请求内容为空。"),
    ],
)
def test_a_body_that_is_not_an_object_is_refused_in_chinese(world, login, year, body, message):
    response = login(world.perf_admin).post(URL, body, "application/json")
    assert response.status_code == 400 and response.json() == {"non_field_errors": [message]}
    assert not WorkCalendar.objects.exists()


def test_the_demo_calendar_fits_the_span(world, login, year):
    from apps.core.management.commands.seed_demo import default_calendar

    client = login(world.perf_admin)
    for step, (starts_on, due_on) in default_calendar(2026).items():
        body = {"step": step, "due_on": due_on.isoformat(), "starts_on": starts_on and starts_on.isoformat()}
        response = client.post(URL, body, "application/json")
        assert response.status_code == 201, response.json()
    assert len(dates(world.city_finance)) == len(default_calendar(2026))


def test_another_region_is_not_found_and_unchanged(world, login, year):
    shinan = WorkCalendar.objects.create(
        organization=world.shinan_finance_org, fiscal_year=year, step="monitoring", due_on=date(2026, 8, 20)
    )
    city = login(world.perf_admin)
    assert city.get(f"{URL}{shinan.pk}/").status_code == 200  # the city reads every region's calendar
    assert city.patch(f"{URL}{shinan.pk}/", {"due_on": "2026-09-01"}, "application/json").status_code == 404
    assert city.put(f"{URL}{shinan.pk}/", {"due_on": "2026-09-01"}, "application/json").status_code == 404
    other = {"step": "monitoring", "due_on": "2026-09-01", "organization": world.shinan_finance_org.pk}
    assert city.post(URL, other, "application/json").status_code == 404
    district = login(world.shinan_finance)
    mine = {"step": "monitoring", "due_on": "2026-09-01", "organization": world.city_finance.pk}
    assert district.post(URL, mine, "application/json").status_code == 404
    assert dates(world.shinan_finance_org) == {"monitoring": date(2026, 8, 20)} and not dates(world.city_finance)


@pytest.mark.parametrize("persona", ["edu_filler", "edu_approver", "sector_kjw", "auditor", "npc_liaison"])
def test_other_roles_may_not_write(world, login, year, persona):
    entry = WorkCalendar.objects.create(
        organization=world.city_finance, fiscal_year=year, step="monitoring", due_on=date(2026, 8, 15)
    )
    client = login(getattr(world, persona))
    assert client.post(URL, {"step": "monitoring", "due_on": "2026-09-01"}, "application/json").status_code == 403
    assert client.patch(f"{URL}{entry.pk}/", {"due_on": "2026-09-01"}, "application/json").status_code == 403
    assert (
        client.post(f"{URL}copy/", {"fiscal_year": 2026, "all_districts": True}, "application/json").status_code == 403
    )
    assert dates(world.city_finance) == {"monitoring": date(2026, 8, 15)} and not dates(world.shinan_finance_org)


def test_deleting_is_not_offered(world, login, year):
    entry = WorkCalendar.objects.create(
        organization=world.city_finance, fiscal_year=year, step="monitoring", due_on=date(2026, 8, 15)
    )
    assert login(world.perf_admin).delete(f"{URL}{entry.pk}/").status_code == 405
    assert WorkCalendar.objects.filter(pk=entry.pk).exists()


# --- copy ----------------------------------------------------------------------------------------


def test_the_city_copies_to_districts(world, login, year):
    WorkCalendar.objects.create(
        organization=world.city_finance, fiscal_year=year, step="monitoring", due_on=date(2026, 8, 15)
    )
    client = login(world.perf_admin)
    response = client.post(f"{URL}copy/", {"fiscal_year": 2026, "regions": [world.shinan.pk]}, "application/json")
    assert response.status_code == 200
    assert response.json() == {
        "regions": 1,
        "added": 1,
        "overwritten": 0,
        "message": "已复制到 1 个区市，新增 1 项，覆盖 0 项。",
    }
    assert dates(world.shinan_finance_org) == {"monitoring": date(2026, 8, 15)}
    bad = client.post(f"{URL}copy/", {"fiscal_year": 2026, "regions": [world.city.pk, 9999]}, "application/json")
    assert bad.status_code == 400 and "不是区市的区域 id" in bad.json()["regions"][0]
    missing = client.post(f"{URL}copy/", {"regions": [world.shinan.pk]}, "application/json")
    assert missing.status_code == 400 and "请指定要复制的预算年度（fiscal_year）" in missing.json()["fiscal_year"][0]
    none = client.post(f"{URL}copy/", {"fiscal_year": 2026}, "application/json")
    assert none.status_code == 400 and "请选择要复制到的区市" in none.json()["regions"][0]
    refused = login(world.shinan_finance).post(
        f"{URL}copy/", {"fiscal_year": 2026, "all_districts": True, "overwrite": True}, "application/json"
    )
    assert refused.status_code == 403 and "无权" in refused.json()["detail"]
    assert dates(world.shinan_finance_org) == {"monitoring": date(2026, 8, 15)}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"regions": [SHINAN], "all_districts": True}, "regions", "请在指定区市和全部区市中二选一。"),
        ({"all_districts": "maybe"}, "all_districts", "全部区市（all_districts）应为 true 或 false。"),
        ({"all_districts": None}, "all_districts", "全部区市（all_districts）不能为 null。"),
        ({"regions": [SHINAN], "overwrite": "maybe"}, "overwrite", "覆盖（overwrite）应为 true 或 false。"),
        ({"regions": None}, "regions", "区市（regions）不能为 null。"),
        ({"regions": "2,3"}, "regions", "区市（regions）应为区域 id 列表，如 [2, 3]。"),
        ({"fiscal_year": None, "regions": [SHINAN]}, "fiscal_year", "请指定要复制的预算年度（fiscal_year）。"),
        ({"fiscal_year": "今年", "regions": [SHINAN]}, "fiscal_year", "预算年度（fiscal_year）应为四位年份，如 2026。"),
    ],
)
def test_bad_copies_are_refused_naming_the_field_and_change_nothing(world, login, year, body, field, message):
    WorkCalendar.objects.create(
        organization=world.city_finance, fiscal_year=year, step="monitoring", due_on=date(2026, 8, 15)
    )
    body = {"fiscal_year": 2026, **body}
    if body.get("regions") == [SHINAN]:
        body["regions"] = [world.shinan.pk]
    client, events = login(world.perf_admin), AuditEvent.objects.count()
    response = client.post(f"{URL}copy/", body, "application/json")
    assert response.status_code == 400 and response.json() == {field: [message]}
    assert not dates(world.shinan_finance_org) and AuditEvent.objects.count() == events


def test_a_copy_body_that_is_not_an_object_is_refused(world, login, year):
    response = login(world.perf_admin).post(f"{URL}copy/", "[2026]", "application/json")
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ['请求内容应为 JSON 对象，如 {"fiscal_year": 2026, "regions": [2, 3]}。']
    }


def test_region_ids_must_be_numbers(world, login, year):
    response = login(world.perf_admin).post(
        f"{URL}copy/", {"fiscal_year": 2026, "regions": [None, "市南区"]}, "application/json"
    )
    assert response.status_code == 400
    assert response.json()["regions"] == {"0": ["区市（regions）应为区域 id 列表，不能含 null。"],
                                          "1": ["区市（regions）应为区域 id 列表。"]}  # fmt: skip


# --- every deadline in one list --------------------------------------------------------------------


def test_deadlines_lists_what_the_user_may_see(world, login, deadlines):  # noqa: F811
    rows = login(world.edu_unit_filler).get(f"{URL}deadlines/").json()
    kinds = {(r["kind"], r["title"][:12]) for r in rows["results"]}
    assert {k for k, _ in kinds} == {
        "step",
        "monitoring_round",
        "self_evaluation_round",
        "rectification",
        "target_resubmit",
    }
    titles = " ".join(r["title"] for r in rows["results"])
    assert "资助名单未公示" in titles and "超范围支出" in titles and "EDU-2026-101" in titles
    assert "疫苗冷链台账缺失" not in titles and "市南区校舍维修超预算" not in titles and "已整改完毕" not in titles
    assert [r["due_on"] for r in rows["results"]] == sorted(r["due_on"] for r in rows["results"])
    assert all("date" not in r and "days_left" not in r for r in rows["results"])
    late = next(r for r in rows["results"] if "超范围支出" in r["title"])
    # Positive: days overdue, as in the notifications API.
    assert (
        late["days_from_due"] == 2 and late["reminder"] == "已逾期2天" and late["organization_name"] == "青岛第二中学"
    )
    soon = next(r for r in rows["results"] if "资助名单未公示" in r["title"])
    assert soon["days_from_due"] == -3 and soon["due_on"] == "2026-11-23"
    assert late["url"] == f"/results/rectifications/{deadlines['late'].pk}/"
    step = next(r for r in rows["results"] if r["kind"] == "step")
    assert (
        step["due_on"] == "2026-11-25" and step["reminder"] == "7天内到期" and step["title"] == "市本级 · 绩效运行监控"
    )
    assert rows["count"] == len(rows["results"]) == 6 and rows["truncated"] is False


def test_deadlines_filters_by_window_and_year(world, login, deadlines):  # noqa: F811
    client = login(world.perf_admin)
    window = client.get(f"{URL}deadlines/", {"from": "2026-11-21", "to": "2026-11-24"}).json()["results"]
    assert sorted(r["due_on"] for r in window) == ["2026-11-22", "2026-11-23", "2026-11-24"]
    assert all(r["kind"] != "step" for r in window)
    later = client.get(f"{URL}deadlines/", {"fiscal_year": 2027}).json()
    assert later["count"] == 0
    bad = client.get(f"{URL}deadlines/", {"from": "2026-12-01", "to": "2026-11-01"})
    assert bad.status_code == 400 and "截止日期（to）不能早于起始日期（from）" in bad.json()["to"][0]
    bad = client.get(f"{URL}deadlines/", {"from": "昨天"})
    assert bad.status_code == 400 and "起始日期（from）格式应为" in bad.json()["from"][0]


def test_deadlines_need_a_calendar_reader(world, login, client):
    assert client.get(f"{URL}deadlines/").status_code in (401, 403)
    assert login(world.expert_li).get(f"{URL}deadlines/").status_code == 403


def test_deadlines_run_a_constant_number_of_queries(world, login, deadlines, year):  # noqa: F811
    client = login(world.perf_admin)
    n = iter(range(100))

    def grow():
        for _ in range(3):
            i = next(n)
            rectification(world, world.edu_unit, days(i % 20), problem=f"问题{i}")
            returned_target(world, year, world.edu_unit, days(i % 25), f"EDU-2026-3{i:02d}")

    def fetch():
        assert client.get(f"{URL}deadlines/").status_code == 200

    grow()
    assert_constant_queries(fetch, grow, 12)


def test_schema_documents_the_writes_and_their_answers(db):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    patch = paths["/api/v1/calendar/{id}/"]["patch"]
    answer = patch["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/WorkCalendar"}
    assert "只改提交的字段" in patch["description"]
    put = paths["/api/v1/calendar/{id}/"]["put"]
    assert "未提交的 starts_on、note 清空" in put["description"]
    returned = paths["/api/v1/targets/{id}/return/"]["post"]
    assert returned["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PerformanceTarget"
    }
    assert returned["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TargetReturn"
    }
    deadline = schema["components"]["schemas"]["Deadline"]["properties"]
    assert {"due_on", "days_from_due"} <= set(deadline) and not {"date", "days_left"} & set(deadline)


def test_schema_validates_and_this_part_adds_no_warning(db):
    from drf_spectacular.drainage import GENERATOR_STATS

    GENERATOR_STATS.reset()
    call_command("spectacular", "--validate", "--file", "/dev/null")
    messages = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    assert not [m for m in messages if "alendar" in m or "eadline" in m], messages
