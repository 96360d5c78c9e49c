"""分析看板: every figure against hand-computed values, scoping, query counts, Excel, API.

The fixture ``data`` builds, for 2025 in 市本级 (and one fund in 市南区), funds with targets,
monitoring reports in two rounds, self-evaluations, key evaluations and rectification items
directly in the database, so each number below can be worked out by hand (see the comments).
"""

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from types import SimpleNamespace
from zipfile import ZipFile
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from apps.core.models import AuditEvent
from apps.evaluations.models import EvaluationPlan, KeyEvaluation, ScoringRules, SelfEvaluation, SelfEvaluationRound
from apps.funds.models import SpecialFund
from apps.monitoring.models import MonitoringReport, MonitoringRound
from apps.orgs.models import FiscalYear
from apps.results import selectors_dashboard as sel
from apps.results.models import Rectification
from apps.targets.models import PerformanceTarget, TargetStatus
from tests.querycount import assert_constant_queries

D = Decimal
TZ = ZoneInfo("Asia/Shanghai")
CITY, SHINAN = "370200", "370202"
DASH = reverse("results:dashboard")
COMPARE = reverse("results:dashboard_compare")


def at(y, m, d, h=10):
    return datetime(y, m, d, h, tzinfo=TZ)


def make_fund(w, fy, code, org, dept, amount, *, budget_type="general", previous=None, target=TargetStatus.APPROVED):
    fund = SpecialFund.objects.create(
        fiscal_year=fy, region=org.region, code=code, name=f"项目{code}", budget_type=budget_type,
        organization=org, department=dept, fiscal_amount=D(amount), period_start=2023, period_end=2027,
        previous=previous,
    )  # fmt: skip
    fund.target = None
    if target:
        fund.target = PerformanceTarget.objects.create(
            fund=fund, organization=org, fiscal_year=fy, status=target, created_by=w.edu_filler
        )
    return fund


def report(round_, fund, status, budget, executed=None, imported=None):
    return MonitoringReport.objects.create(
        round=round_, fund=fund, target=fund.target, organization=fund.organization, status=status,
        budget_amount=D(budget), executed_amount=executed and D(executed),
        imported_executed_amount=imported and D(imported),
    )  # fmt: skip


def self_eval(round_, fund, status, score, grade, submitted=None, adjusted=None):
    return SelfEvaluation.objects.create(
        round=round_, fund=fund, target=fund.target, organization=fund.organization, status=status,
        budget_amount=fund.fiscal_amount, score=D(score), grade=grade, submitted_at=submitted,
        adjusted_score=adjusted and D(adjusted[0]), adjusted_grade=adjusted[1] if adjusted else "",
    )  # fmt: skip


def rect(w, org, deadline, status, fy):
    return Rectification.objects.create(
        source=Rectification.Source.AUDIT, organization=org, fiscal_year=fy, problem="问题", deadline=deadline,
        status=status, created_by=w.perf_admin,
    )  # fmt: skip


def build(w):
    """The small world of the hand computations (year 2025)."""
    fy24 = FiscalYear.objects.get_or_create(year=2024)[0]
    fy = FiscalYear.objects.get_or_create(year=2025)[0]
    FiscalYear.objects.get_or_create(year=2026, defaults={"is_current": True})
    RS, SS, KS, PS = MonitoringReport.Status, SelfEvaluation.Status, KeyEvaluation.Status, EvaluationPlan.Status
    e0 = make_fund(w, fy24, "E0", w.edu, w.edu, "900000")
    f = SimpleNamespace(
        e1=make_fund(w, fy, "E1", w.edu_unit, w.edu, "1000000"),
        e2=make_fund(w, fy, "E2", w.edu_unit, w.edu, "2000000"),
        e3=make_fund(w, fy, "E3", w.edu, w.edu, "1000000", previous=e0),
        e4=make_fund(w, fy, "E4", w.edu_unit, w.edu, "500000", target=TargetStatus.DRAFT),
        h1=make_fund(w, fy, "H1", w.health_unit, w.health, "4000000"),
        si=make_fund(w, fy, "SI", w.health_unit, w.health, "7000000", budget_type="social_insurance"),
        s1=make_fund(w, fy, "S1", w.shinan_edu_unit, w.shinan_edu, "800000"),
    )
    # Monitoring: an April round (ignored: not the latest) and the July round (58.08 % elapsed − 15).
    april = MonitoringRound.objects.create(organization=w.city_finance, fiscal_year=fy, name="一季度监控",
                                           data_as_of=date(2025, 4, 30), due_on=date(2025, 5, 15))  # fmt: skip
    july = MonitoringRound.objects.create(organization=w.city_finance, fiscal_year=fy, name="年中监控",
                                          data_as_of=date(2025, 7, 31), due_on=date(2025, 8, 15))  # fmt: skip
    sn_round = MonitoringRound.objects.create(organization=w.shinan_finance_org, fiscal_year=fy, name="市南年中",
                                              data_as_of=date(2025, 7, 31), due_on=date(2025, 8, 15))  # fmt: skip
    report(april, f.e1, RS.RECEIVED, "1000000", "900000")
    report(july, f.e1, RS.RECEIVED, "1000000", "300000")  # 30 % < 43.08 → lagging
    report(july, f.e2, RS.SUBMITTED, "2000000", imported="1500000")  # 75 % (treasury figure)
    report(july, f.e3, RS.DRAFT, "1000000")  # not filled in: not monitored, not lagging
    report(july, f.h1, RS.RECEIVED, "4000000", "3000000")  # 75 %
    report(sn_round, f.s1, RS.RECEIVED, "800000", "100000")  # 12.5 %
    # Self-evaluation of 2025, due 31 March 2026.
    se_round = SelfEvaluationRound.objects.create(organization=w.city_finance, fiscal_year=fy, name="自评",
                                                  due_on=date(2026, 3, 31))  # fmt: skip
    sn_se_round = SelfEvaluationRound.objects.create(organization=w.shinan_finance_org, fiscal_year=fy, name="市南自评",
                                                     due_on=date(2026, 3, 31))  # fmt: skip
    self_eval(se_round, f.e1, SS.CONFIRMED, "95", "excellent", at(2026, 3, 1))
    self_eval(se_round, f.e2, SS.CONFIRMED, "70", "fair", at(2026, 4, 15), adjusted=("82", "good"))  # late
    self_eval(se_round, f.e3, SS.SUBMITTED, "88", "good", at(2026, 3, 31, 23))  # on time, not confirmed
    self_eval(se_round, f.h1, SS.CONFIRMED, "55", "poor", at(2026, 3, 20))
    self_eval(sn_se_round, f.s1, SS.CONFIRMED, "91", "excellent", at(2026, 3, 2))
    # Key evaluations: E1 in the issued finance plan (completed, 良); E0 (E3's predecessor) in 教育局's
    # issued 2024 plan; H1 only in a draft plan (does not count).
    fin = EvaluationPlan.objects.create(organization=w.city_finance, fiscal_year=fy, kind="finance", name="财政",
                                        status=PS.ISSUED, created_by=w.perf_admin)  # fmt: skip
    edu24 = EvaluationPlan.objects.create(organization=w.edu, fiscal_year=fy24, kind="department", name="部门",
                                          status=PS.CLOSED, created_by=w.edu_approver)  # fmt: skip
    health = EvaluationPlan.objects.create(organization=w.health, fiscal_year=fy, kind="department", name="卫健",
                                           status=PS.DRAFT, created_by=w.perf_admin)  # fmt: skip
    KeyEvaluation.objects.create(plan=fin, fund=f.e1, department=w.edu, status=KS.COMPLETED, score=D("85"),
                                 grade="good")  # fmt: skip
    KeyEvaluation.objects.create(plan=edu24, fund=e0, department=w.edu, status=KS.COMPLETED, score=D("91"),
                                 grade="excellent")  # fmt: skip
    KeyEvaluation.objects.create(plan=health, fund=f.h1, department=w.health, status=KS.COMPLETED, score=D("50"),
                                 grade="poor")  # fmt: skip
    # Rectifications of 2025 (today is after 2025-12-31, before 2030).
    rect(w, w.edu_unit, date(2025, 12, 31), Rectification.Status.PENDING, fy)  # overdue
    rect(w, w.edu, date(2030, 1, 1), Rectification.Status.IN_PROGRESS, fy)  # open
    rect(w, w.health_unit, date(2025, 12, 31), Rectification.Status.DONE, fy)  # done
    rect(w, w.health_unit, date(2025, 6, 30), Rectification.Status.VERIFYING, fy)  # overdue
    rect(w, w.shinan_edu_unit, date(2025, 6, 30), Rectification.Status.PENDING, fy)  # 市南区
    f.fy, f.july = fy, july
    return f


@pytest.fixture
def data(world):
    return build(world)


def dash_for(user, region=None, year=2025):
    scope = sel.resolve_scope(user, region_code=region, year=year)
    return sel.dashboard(user, scope)


def rows(d, key):
    return d.panel(key).rows


# --- the figures, by hand ---------------------------------------------------------------------------


def test_coverage_of_the_city(world, data):
    d = dash_for(world.perf_admin)
    # Universe: E1 E2 E3 E4 H1 (SI is 社会保险基金预算, S1 is 市南区). Targets: all but E4. Monitored:
    # E1 (received), E2 (submitted), H1. Self-evaluated (confirmed): E1 E2 H1. Key: E1, and E3 through E0.
    assert rows(d, "coverage") == [
        ["已批复绩效目标", 4, 5, D("80.0")],
        ["已开展绩效监控", 3, 5, D("60.0")],
        ["已完成单位自评（财政已审核）", 3, 5, D("60.0")],
        ["本周期已纳入重点评价", 2, 5, D("40.0")],
    ]
    assert d.summary["funds"] == 5 and d.summary["amount"] == D("8500000")
    assert d.summary["self_average"] == D("77.33")  # (95 + 82 + 55) / 3
    assert d.summary["overdue"] == 2 and d.summary["cycle"] == 3


def test_a_one_year_cycle_does_not_reach_back_to_the_predecessor(world, data):
    ScoringRules.objects.create(region=world.city, fiscal_year=data.fy, cycle_years=1)
    assert rows(dash_for(world.perf_admin), "coverage")[3] == ["本周期已纳入重点评价", 1, 5, D("20.0")]


def test_grade_distribution(world, data):
    g = rows(dash_for(world.perf_admin), "grades")
    # Self: 优 E1, 良 E2 (finance adjusted 70 → 82), 差 H1; E3 not confirmed. Finance key: 良 E1.
    # Department: E0 is of 2024, H1's plan is a draft → none.
    assert g == [
        ["优", 1, D("33.3"), 0, D("0.0"), 0, D("0.0")],
        ["良", 1, D("33.3"), 1, D("100.0"), 0, D("0.0")],
        ["中", 0, D("0.0"), 0, D("0.0"), 0, D("0.0")],
        ["差", 1, D("33.3"), 0, D("0.0"), 0, D("0.0")],
        ["合计", 3, D("100.0"), 1, D("100.0"), 0, D("0.0")],
    ]


def test_execution_against_schedule_uses_the_latest_round(world, data):
    d = dash_for(world.perf_admin)
    assert d.round == data.july
    # 教育局: (300,000 + 1,500,000 + 0) / 4,000,000 = 45.00 %; E1 lags (30 % < 58.08 − 15).
    assert rows(d, "execution") == [
        ["青岛市卫生健康委员会", 1, D("4000000"), D("3000000"), D("75.00"), D("58.08"), 0],
        ["青岛市教育局", 3, D("4000000"), D("1800000"), D("45.00"), D("58.08"), 1],
    ]
    assert "“年中监控”" in d.panel("execution").note and "2025年7月31日计算时间进度 58.08%" in d.panel("execution").note


def test_overdue_rectifications_per_department(world, data):
    # 教育局: the unit's overdue item and its own open one; 卫健委: the verifying one is overdue.
    assert rows(dash_for(world.perf_admin), "rectification") == [
        ["青岛市卫生健康委员会", 1, 1, D("100.0")],
        ["青岛市教育局", 2, 1, D("50.0")],
    ]


def test_overdue_is_a_current_state_counted_whatever_the_year(world, data):
    from apps.results import selectors_rectification as rsel

    # The items belong to 2025 (the evaluated year); the dashboard of 2026 shows them all the same.
    for year in (2025, 2026):
        d = dash_for(world.perf_admin, year=year)
        assert d.summary["overdue"] == 2, year
        assert rows(d, "rectification") == [
            ["青岛市卫生健康委员会", 1, 1, D("100.0")],
            ["青岛市教育局", 2, 1, D("50.0")],
        ]
        assert "当前逾期，不分年度" in d.panel("rectification").note
    # An overdue item of an earlier year and an open one of the next year count too.
    fy24, fy26 = FiscalYear.objects.get(year=2024), FiscalYear.objects.get(year=2026)
    rect(world, world.health_unit, date(2025, 3, 31), Rectification.Status.IN_PROGRESS, fy24)
    rect(world, world.edu_unit, date(2030, 6, 30), Rectification.Status.PENDING, fy26)
    for year in (2024, 2025, 2026):
        d = dash_for(world.perf_admin, year=year)
        assert d.summary["overdue"] == 3
        assert rows(d, "rectification") == [
            ["青岛市卫生健康委员会", 2, 2, D("100.0")],
            ["青岛市教育局", 3, 1, D("33.3")],
        ]
        compare = {row[0]: row[-1] for row in sel.comparison(world.perf_admin, year=year).rows}
        assert compare["市本级"] == 3 and compare["市南区"] == 1 and compare["莱西市"] == 0
    # The same figure as the rectification list's 逾期 (all years) for the same reader and region.
    listed = rsel.rectification_list(user=world.perf_admin).filter(region=world.city)
    assert rsel.status_counts(listed)["overdue"] == 3
    assert dash_for(world.shinan_finance, year=2026).summary["overdue"] == 1
    # A department reads its own items only, also across years.
    assert rows(dash_for(world.edu_approver, year=2026), "rectification") == [
        ["青岛第二中学", 2, 1, D("50.0")],
        ["青岛市教育局", 1, 0, D("0.0")],
    ]


def test_page_says_overdue_is_current_and_links_the_list(world, data, login):
    html = login(world.perf_admin).get(DASH, {"year": 2026}).content.decode()
    card = html[html.index('id="summary-overdue"') :]
    card = card[: card.index("</div></div></div>")]
    assert "当前逾期，不分年度" in card and ">2</a>" in card
    assert f'href="{reverse("results:rectification_list")}?status=overdue"' in card
    # Another region picked by the city: the count of that region, no link to the city's own list.
    html = login(world.perf_admin).get(DASH, {"year": 2026, "region": SHINAN}).content.decode()
    card = html[html.index('id="summary-overdue"') :]
    assert "?status=overdue" not in card[: card.index("</div></div></div>")] and "1 <small" in card
    compare = login(world.perf_admin).get(COMPARE, {"year": 2026}).content.decode()
    assert "逾期整改（项，当前逾期，不分年度）" in compare


def test_ranking_follows_the_stated_formula(world, data):
    r = rows(dash_for(world.perf_admin), "ranking")
    # 教育局: avg (95 + 82) / 2 = 88.50; on time 2 of 3 = 66.7; coverage (75 + 50 + 50 + 50) / 4 = 56.25;
    # 88.50 × .5 + 66.7 × .2 + 56.25 × .3 = 74.465 → 74.47. 卫健委: 55 × .5 + 100 × .2 + 75 × .3 = 70.00.
    assert r == [
        [1, "青岛市教育局", 4, D("88.50"), D("66.7"), D("56.25"), D("74.47")],
        [2, "青岛市卫生健康委员会", 1, D("55.00"), D("100.0"), D("75.00"), D("70.00")],
    ]


def test_city_comparison(world, data):
    panel = sel.comparison(world.perf_admin, year=2025)
    by_region = {row[0]: row for row in panel.rows}
    assert len(panel.rows) == 11
    assert by_region["市本级"] == [
        "市本级", 5, D("8500000"), D("80.0"), D("60.0"), D("60.0"), D("40.0"), D("77.33"), D("66.7"),
        D("60.00"), D("58.08"), 2,
    ]  # fmt: skip
    # 市本级 execution: 4,800,000 / 8,000,000 = 60.00 %. 市南区: S1 only; execution 100,000 / 800,000 = 12.50 %.
    assert by_region["市南区"] == [
        "市南区", 1, D("800000"), D("100.0"), D("100.0"), D("100.0"), D("0.0"), D("91.00"), D("100.0"),
        D("12.50"), D("58.08"), 1,
    ]  # fmt: skip
    assert by_region["莱西市"][1:3] == [0, D("0")] and by_region["莱西市"][7] is None


# --- scoping --------------------------------------------------------------------------------------


def test_a_district_sees_only_its_own_region(world, data):
    d = dash_for(world.shinan_finance)
    assert d.scope.region.code == SHINAN and rows(d, "coverage")[0][1:3] == [1, 1]
    assert [r[1] for r in rows(d, "ranking")] == ["市南区教育和体育局"]


@pytest.mark.parametrize("persona", ["npc_liaison", "auditor", "sector_kjw"])
def test_region_readers_read_their_region(world, data, persona):
    d = dash_for(getattr(world, persona))
    assert d.scope.region.code == CITY and not d.scope.department_mode
    assert rows(d, "coverage")[0][1:3] == [4, 5]


def test_city_finance_picks_any_region(world, data):
    d = dash_for(world.perf_admin, region=SHINAN)
    assert rows(d, "coverage")[0][1:3] == [1, 1] and d.scope.can_pick_region


def test_department_sees_only_its_own_funds_without_ranking(world, data):
    d = dash_for(world.edu_approver)
    assert d.scope.department_mode and [p.key for p in d.panels] == ["coverage", "grades", "execution",
                                                                     "rectification"]  # fmt: skip
    assert rows(d, "coverage")[0][1:3] == [3, 4]
    # Grouped by implementing unit: 青岛第二中学 (E1 E2) and 教育局 itself (E3).
    assert rows(d, "execution") == [
        ["青岛市教育局", 1, D("1000000"), D("0"), D("0.00"), D("58.08"), 0],
        ["青岛第二中学", 2, D("3000000"), D("1800000"), D("60.00"), D("58.08"), 1],
    ]
    assert rows(d, "rectification") == [["青岛第二中学", 1, 1, D("100.0")], ["青岛市教育局", 1, 0, D("0.0")]]
    assert rows(dash_for(world.edu_unit_filler), "coverage")[0][1:3] == [2, 3]  # the unit: E1 E2 E4
    assert rows(dash_for(world.health_filler), "coverage")[0][1:3] == [1, 1]


# --- pages ----------------------------------------------------------------------------------------


def test_page_shows_the_numbers_and_charts(world, data, login):
    response = login(world.perf_admin).get(DASH, {"year": 2025})
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("全过程覆盖率", "80.0", "74.47", "综合得分 = 自评平均分 × 50%", "chart.umd.min.js", "js/dashboard.js",
                 'id="chart-data-coverage"', "区市对比", "850.00"):  # fmt: skip
        assert text in html, text


def test_department_page_has_no_ranking_and_no_compare(world, data, login):
    html = login(world.edu_approver).get(DASH, {"year": 2025}).content.decode()
    assert "本部门绩效分析" in html and "部门绩效管理排名" not in html and "区市对比" not in html
    assert "青岛市卫生健康委员会" not in html


@pytest.mark.parametrize("persona", ["expert_li", "sysadmin", "security_admin", "audit_admin"])
def test_wrong_roles_get_403(world, data, login, persona):
    client = login(getattr(world, persona))
    for url in (DASH, COMPARE, reverse("results:dashboard_excel", args=["coverage"]), "/api/v1/dashboard/"):
        assert client.get(url, {"year": 2025}).status_code == 403, url


def test_district_asking_for_another_region_gets_404(world, data, login):
    client = login(world.shinan_finance)
    assert client.get(DASH, {"year": 2025, "region": CITY}).status_code == 404
    assert (
        client.get(reverse("results:dashboard_excel", args=["coverage"]), {"year": 2025, "region": CITY}).status_code
        == 404
    )
    assert client.get("/api/v1/dashboard/", {"year": 2025, "region": CITY}).status_code == 404
    assert client.get(DASH, {"year": 2025, "region": SHINAN}).status_code == 200


def test_department_asking_for_another_region_gets_404(world, data, login):
    assert login(world.edu_approver).get(DASH, {"year": 2025, "region": SHINAN}).status_code == 404


def test_bad_year_or_region_is_404_and_nothing_changes(world, data, login):
    client = login(world.perf_admin)
    before = (SpecialFund.objects.count(), Rectification.objects.count())
    assert client.get(DASH, {"year": "abc"}).status_code == 404
    assert client.get(DASH, {"year": 1999}).status_code == 404
    assert client.get(DASH, {"year": 2025, "region": "999999"}).status_code == 404
    assert client.post(DASH, {"year": 2025}).status_code == 405
    assert (SpecialFund.objects.count(), Rectification.objects.count()) == before


@pytest.mark.parametrize("persona", ["shinan_finance", "npc_liaison", "auditor", "sector_kjw", "edu_approver"])
def test_comparison_is_refused_to_everyone_but_city_finance(world, data, login, persona):
    client = login(getattr(world, persona))
    assert client.get(COMPARE, {"year": 2025}).status_code == 403
    assert client.get(reverse("results:dashboard_excel", args=["compare"]), {"year": 2025}).status_code == 403
    assert client.get("/api/v1/dashboard/compare/", {"year": 2025}).status_code == 403


def test_comparison_page(world, data, login):
    html = login(world.perf_admin).get(COMPARE, {"year": 2025}).content.decode()
    assert "区市对比分析" in html and "莱西市" in html and "12.50" in html


# --- Excel ----------------------------------------------------------------------------------------


def _sheet(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    return load_workbook(BytesIO(response.content)).active


def test_excel_of_the_execution_chart(world, data, login):
    ws = _sheet(login(world.perf_admin).get(reverse("results:dashboard_excel", args=["execution"]), {"year": 2025}))
    assert ws.title == "预算执行进度" and ws["A1"].value == "预算执行进度"
    assert "A1:G1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A2"].value.startswith("范围：市本级 · 2025年度")
    assert [c.value for c in ws[4]] == ["部门", "监控项目数", "调整后预算（万元）", "已执行（万元）", "执行率（%）",
                                        "时间进度（%）", "滞后项目数"]  # fmt: skip
    assert [c.value for c in ws[6]] == ["青岛市教育局", 3, 400.0, 180.0, 45.0, 58.08, 1]
    assert ws["C6"].number_format == "#,##0.00" and ws.freeze_panes == "A5"
    assert ws.page_setup.orientation == "landscape" and ws.max_row == 6


def test_excel_of_the_comparison_and_department(world, data, login):
    ws = _sheet(login(world.perf_admin).get(reverse("results:dashboard_excel", args=["compare"]), {"year": 2025}))
    assert ws["A5"].value == "市本级" and ws["C5"].value == 850.0 and ws.max_row == 4 + 11
    ws = _sheet(login(world.edu_approver).get(reverse("results:dashboard_excel", args=["coverage"]), {"year": 2025}))
    assert ws["A2"].value.startswith("范围：青岛市教育局 · 2025年度")
    assert [c.value for c in ws[5]] == ["已批复绩效目标", 3, 4, 75.0]


def test_excel_keeps_a_name_that_looks_like_a_formula_as_text(world, data, login):
    name = '=HYPERLINK("http://evil.example","点击")'
    type(world.edu).objects.filter(pk=world.edu.pk).update(name=name)
    response = login(world.perf_admin).get(reverse("results:dashboard_excel", args=["execution"]), {"year": 2025})
    ws = _sheet(response)
    cell = next(c for c in ws["A"] if c.value == name)  # rows sort by name: "=" comes first
    assert cell.data_type == "s" and ws.cell(cell.row, 2).value == 3
    assert "<f>" not in ZipFile(BytesIO(response.content)).read("xl/worksheets/sheet1.xml").decode()


def test_excel_download_is_audited_with_what_and_whose_scope(world, data, login):
    exports = AuditEvent.objects.filter(kind=AuditEvent.Kind.EXPORT)
    assert not exports.exists()
    login(world.perf_admin).get(reverse("results:dashboard_excel", args=["execution"]), {"year": 2025})
    event = exports.get()
    assert event.actor == world.perf_admin
    assert event.comment == "导出分析看板“预算执行进度”（Excel；范围：市本级 · 2025年度）"
    login(world.perf_admin).get(reverse("results:dashboard_excel", args=["compare"]), {"year": 2025})
    assert exports.latest("pk").comment == "导出分析看板“区市对比”（Excel；范围：全市各区域 · 2025年度）"
    # A refused download writes nothing.
    login(world.edu_approver).get(reverse("results:dashboard_excel", args=["ranking"]), {"year": 2025})
    assert exports.count() == 2


def test_department_cannot_download_the_ranking(world, data, login):
    client = login(world.edu_approver)
    assert client.get(reverse("results:dashboard_excel", args=["ranking"]), {"year": 2025}).status_code == 404


# --- API ------------------------------------------------------------------------------------------


def test_api_returns_the_same_numbers(world, data, login):
    body = login(world.perf_admin).get("/api/v1/dashboard/", {"year": 2025}).json()
    assert body["region"] == CITY and body["year"] == 2025 and body["department_mode"] is False
    panels = {p["key"]: p for p in body["panels"]}
    assert panels["coverage"]["rows"][0] == ["已批复绩效目标", 4, 5, "80.0"]
    assert panels["ranking"]["rows"][0][-1] == "74.47"
    body = login(world.shinan_finance).get("/api/v1/dashboard/", {"year": 2025}).json()
    assert body["region"] == SHINAN and body["panels"][0]["rows"][0][1:3] == [1, 1]
    compare = login(world.perf_admin).get("/api/v1/dashboard/compare/", {"year": 2025}).json()
    assert compare["panel"]["rows"][0][0] == "市本级" and len(compare["panel"]["rows"]) == 11


# --- query counts ---------------------------------------------------------------------------------


def _grow(world):
    def grow():
        fy = FiscalYear.objects.get(year=2025)
        july = MonitoringRound.objects.get(name="年中监控")
        se_round = SelfEvaluationRound.objects.get(name="自评")
        for i, (org, dept) in enumerate([(world.sci, world.sci), (world.health_unit, world.health)] * 2):
            fund = make_fund(world, fy, f"G{i}", org, dept, "100000")
            report(july, fund, MonitoringReport.Status.RECEIVED, "100000", "10000")
            self_eval(se_round, fund, SelfEvaluation.Status.CONFIRMED, "81", "good", at(2026, 3, 1))
            rect(world, org, date(2025, 1, 1), Rectification.Status.PENDING, fy)

    return grow


# The figures run in one transaction (a savepoint and its release inside the test's transaction);
# on PostgreSQL a ``SET LOCAL jit = off`` comes first.
FRAME = 0  # no transaction or SET around the queries (JIT is off for the connection, see settings)


def test_dashboard_runs_a_constant_number_of_queries(world, data):
    # regions, rules, coverage, self-evaluations, key evaluations, rounds, execution, rectifications
    assert_constant_queries(lambda: dash_for(world.perf_admin), _grow(world), 8 + FRAME)


def test_comparison_runs_a_constant_number_of_queries(world, data):
    # regions, rules, coverage, self-evaluations, rounds, execution, rectifications
    assert_constant_queries(lambda: sel.comparison(world.perf_admin, year=2025), _grow(world), 7 + FRAME)


def test_page_runs_a_constant_number_of_queries(world, data, client):
    client.force_login(world.perf_admin)
    response = []
    assert_constant_queries(lambda: response.append(client.get(DASH, {"year": 2025})), _grow(world), 15 + FRAME)
    assert "科学技术局" in response[-1].content.decode()


@pytest.mark.parametrize("persona", ["npc_liaison", "auditor", "sector_kjw", "shinan_finance", "health_filler"])
def test_readers_open_the_page_and_api_of_their_own_scope(world, data, login, persona):
    client = login(getattr(world, persona))
    response = client.get(DASH, {"year": 2025})
    assert response.status_code == 200 and "全过程覆盖率" in response.content.decode()
    assert client.get("/api/v1/dashboard/", {"year": 2025}).status_code == 200
    assert client.get(reverse("results:dashboard_excel", args=["grades"]), {"year": 2025}).status_code == 200
