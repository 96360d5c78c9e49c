"""专项领域 API: the summary rows and one area's funds, scoped like the pages; 400 in Chinese for an
unknown area, year or region; 403 for roles without area.view."""

from decimal import Decimal

import pytest

from apps.core.models import AuditEvent
from tests.querycount import assert_constant_queries
from tests.test_special_areas import (
    areas,  # noqa: F401 — the page tests' hand-built funds
    make_fund,
    report,
    self_grade,
    target,
)

SUMMARY = "/api/v1/special-areas/"


def funds_url(area="ppp"):
    return f"/api/v1/special-areas/{area}/funds/"


def test_summary_rows_for_a_city_wide_reader(world, areas, login):  # noqa: F811
    response = login(world.perf_admin).get(SUMMARY, {"fiscal_year": 2026})
    assert response.status_code == 200
    data = response.json()
    assert data["fiscal_year"] == 2026 and "重点评价" in data["grade_basis"]
    assert len(data["rows"]) == 5 * 11
    rows = {(r["area"], r["region_name"]): r for r in data["rows"]}
    ppp_city = rows[("ppp", "市本级")]
    assert ppp_city["area_display"] == "PPP"
    assert (ppp_city["funds"], Decimal(ppp_city["budget"]), ppp_city["targets_filed"]) == (2, Decimal("4500000"), 2)
    figures = ("targets_approved", "warnings", "grade_excellent", "grade_good")
    assert tuple(ppp_city[k] for k in figures) == (1, 1, 1, 1)
    assert rows[("ppp", "市南区")]["grade_poor"] == 1
    totals = {t["area"]: t for t in data["area_totals"]}
    assert totals["ppp"]["funds"] == 3 and totals["debt"]["ungraded"] == 1
    assert data["total"]["funds"] == 4 and Decimal(data["total"]["budget"]) == Decimal("10500000")


def test_summary_defaults_to_the_current_year(world, areas, login):  # noqa: F811
    data = login(world.perf_admin).get(SUMMARY).json()
    assert data["fiscal_year"] == 2026 and data["total"]["funds"] == 4


def test_department_and_district_get_their_own_rows_only(world, areas, login):  # noqa: F811
    data = login(world.edu_approver).get(SUMMARY).json()
    assert {r["region_name"] for r in data["rows"]} == {"市本级"} and data["total"]["funds"] == 2
    data = login(world.shinan_finance).get(SUMMARY).json()
    assert {r["region_name"] for r in data["rows"]} == {"市南区"} and data["total"]["funds"] == 1


@pytest.mark.parametrize("value", ["1999", "abc", "2026x"])
def test_unknown_year_is_400_in_chinese(world, areas, login, value):  # noqa: F811
    response = login(world.perf_admin).get(SUMMARY, {"fiscal_year": value})
    assert response.status_code == 400 and "预算年度" in response.json()["fiscal_year"][0]
    response = login(world.perf_admin).get(funds_url(), {"fiscal_year": value})
    assert response.status_code == 400 and "预算年度" in response.json()["fiscal_year"][0]


def test_unknown_area_is_400_in_chinese(world, areas, login):  # noqa: F811
    response = login(world.perf_admin).get(funds_url("lottery"))
    assert response.status_code == 400
    assert "没有这个专项领域" in response.json()["area"][0] and "ppp" in response.json()["area"][0]


def test_area_funds_are_paginated_with_their_figures(world, areas, login):  # noqa: F811
    data = login(world.perf_admin).get(funds_url(), {"fiscal_year": 2026}).json()
    assert data["count"] == 3
    by_code = {f["code"]: f for f in data["results"]}
    edu_u = by_code["EDU-U"]
    assert (edu_u["department_name"], edu_u["organization_name"]) == ("青岛市教育局", "青岛第二中学")
    assert Decimal(edu_u["budget"]) == Decimal("3500000") and edu_u["warning_count"] == 1
    assert (edu_u["grade"], edu_u["grade_display"], edu_u["grade_source"]) == ("excellent", "优", "重点评价")
    assert by_code["EDU-D"]["target_status"] == "perf_review" and by_code["EDU-D"]["target_filed"] is True
    assert by_code["EDU-D"]["target_approved"] is False and by_code["EDU-D"]["grade_source"] == "单位自评"


def test_region_filter_and_region_out_of_scope(world, areas, login):  # noqa: F811
    data = login(world.perf_admin).get(funds_url(), {"region": world.shinan.pk}).json()
    assert [f["code"] for f in data["results"]] == ["SN"]
    response = login(world.edu_approver).get(funds_url(), {"region": world.shinan.pk})
    assert response.status_code == 400 and "区域" in response.json()["region"][0]


def test_department_and_district_funds_are_their_own(world, areas, login):  # noqa: F811
    codes = {f["code"] for f in login(world.edu_approver).get(funds_url()).json()["results"]}
    assert codes == {"EDU-U", "EDU-D"}
    codes = {f["code"] for f in login(world.shinan_finance).get(funds_url()).json()["results"]}
    assert codes == {"SN"}
    assert login(world.health_filler).get(funds_url()).json()["count"] == 0


@pytest.mark.parametrize("persona", ["expert_li", "sysadmin", "security_admin"])
def test_roles_without_area_view_get_403(world, areas, login, persona):  # noqa: F811
    client = login(getattr(world, persona))
    before = AuditEvent.objects.count()
    assert client.get(SUMMARY).status_code == 403
    assert client.get(funds_url()).status_code == 403
    assert AuditEvent.objects.count() == before


def test_anonymous_is_refused(client, areas):  # noqa: F811
    assert client.get(SUMMARY).status_code in (401, 403)


def test_writes_are_not_allowed(world, areas, login):  # noqa: F811
    client = login(world.perf_admin)
    assert client.post(SUMMARY, {}).status_code == 405
    assert client.post(funds_url(), {}).status_code == 405


def test_api_queries_are_constant(world, areas, login):  # noqa: F811
    client = login(world.perf_admin)
    n = [0]

    def grow():
        for org in (world.edu_unit, world.shinan_edu_unit):
            n[0] += 1
            fund = make_fund(world, org, f"A{n[0]}", "1000000", is_ppp=True)
            target(fund, "approved")
            report(world, fund, risk=2)
            self_grade(world, fund, "91")

    from tests.querycount import count_queries

    def summary():
        assert client.get(SUMMARY).status_code == 200

    def funds():
        assert client.get(funds_url()).status_code == 200

    summary()
    funds()
    assert_constant_queries(summary, grow, expected=count_queries(summary)[0])
    assert_constant_queries(funds, grow, expected=count_queries(funds)[0])


def test_browsable_api_pages_render(world, areas, login):  # noqa: F811
    client = login(world.edu_approver)
    assert client.get(SUMMARY, HTTP_ACCEPT="text/html").status_code == 200
    response = client.get(funds_url(), HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and "EDU-U" in response.content.decode()
