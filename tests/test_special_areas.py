"""专项领域 summaries: figures against a hand-built fixture (two areas, two regions, a unit's fund
counted under its department, another region's fund invisible to a department and to the district),
roles without area.view, constant queries, unknown area, and the Excel exports."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from apps.core.models import AuditEvent
from apps.evaluations import scoring
from apps.evaluations.models import EvaluationPlan, KeyEvaluation, SelfEvaluation, SelfEvaluationRound
from apps.funds.models import SpecialFund
from apps.monitoring.models import MonitoringReport, MonitoringRound
from apps.orgs.models import FiscalYear
from apps.supervision import selectors_areas as sel
from apps.targets.models import PerformanceTarget, TargetStatus
from tests.querycount import assert_constant_queries

D = Decimal
SUMMARY = reverse("supervision:area_summary")


def ppp_url(**query):
    url = reverse("supervision:area_detail", args=["ppp"])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


# --- fixture helpers (written as setup, like tests/test_linkage.py) --------------------------------


def make_fund(world, org, code, amount, *, year=2026, other="0", **flags):
    department = org if org.parent_id is None or org.kind == org.Kind.DEPARTMENT else org.parent
    return SpecialFund.objects.create(
        fiscal_year=FiscalYear.objects.get_or_create(year=year)[0], region=org.region, code=code, name=f"项目{code}",
        organization=org, department=department, fiscal_amount=D(amount), other_amount=D(other),
        period_start=year, period_end=year + 2, **flags,
    )  # fmt: skip


def target(fund, status):
    return PerformanceTarget.objects.create(
        fund=fund, organization=fund.organization, fiscal_year_id=fund.fiscal_year_id, status=status
    )


def finance_of(world, fund):
    return world.shinan_finance_org if fund.region_id == world.shinan.pk else world.city_finance


def report(world, fund, *, executed=None, risk=0, as_of=date(2026, 6, 30)):
    """A monitoring report of ``fund`` in its region's round cut off at ``as_of``."""
    round_, _ = MonitoringRound.objects.get_or_create(
        organization=finance_of(world, fund), fiscal_year_id=fund.fiscal_year_id, data_as_of=as_of,
        defaults={"name": f"{as_of:%m}月监控", "due_on": date(2026, 7, 15)},
    )  # fmt: skip
    tgt = fund.targets.order_by("-version").first() or target(fund, TargetStatus.APPROVED)
    return MonitoringReport.objects.create(
        round=round_, fund=fund, target=tgt, organization=fund.organization, budget_amount=fund.fiscal_amount,
        executed_amount=D(executed) if executed is not None else None, indicator_risk=risk,
        status=MonitoringReport.Status.SUBMITTED,
    )  # fmt: skip


def key_grade(world, fund, score, kind=EvaluationPlan.Kind.FINANCE, status=KeyEvaluation.Status.COMPLETED):
    evaluator = finance_of(world, fund) if kind == EvaluationPlan.Kind.FINANCE else fund.department
    plan, _ = EvaluationPlan.objects.get_or_create(
        organization=evaluator, fiscal_year_id=fund.fiscal_year_id,
        defaults={"kind": kind, "name": "计划", "created_by": world.perf_admin, "status": EvaluationPlan.Status.ISSUED},
    )  # fmt: skip
    return KeyEvaluation.objects.create(
        plan=plan, fund=fund, department=fund.department, status=status, score=D(score),
        grade=scoring.grade_of(D(score)), completed_at=timezone.now(),
    )  # fmt: skip


def self_grade(world, fund, score, adjusted=None, status=SelfEvaluation.Status.CONFIRMED):
    round_, _ = SelfEvaluationRound.objects.get_or_create(
        organization=finance_of(world, fund), fiscal_year_id=fund.fiscal_year_id,
        defaults={"name": "自评", "due_on": date(2027, 3, 31)},
    )  # fmt: skip
    tgt = fund.targets.order_by("-version").first() or target(fund, TargetStatus.APPROVED)
    return SelfEvaluation.objects.create(
        round=round_, fund=fund, target=tgt, organization=fund.organization, status=status,
        budget_amount=fund.fiscal_amount, score=D(score), grade=scoring.grade_of(D(score)),
        adjusted_score=D(adjusted) if adjusted else None,
        adjusted_grade=scoring.grade_of(D(adjusted)) if adjusted else "",
    )  # fmt: skip


@pytest.fixture
def areas(world, year):
    return build_areas(world)


def build_areas(world):
    """
    市本级:
      EDU-U  教育局's unit, PPP + 政府采购, 300 + 50 万元; target approved; one report behind schedule
             (10 % executed at 30 June) → 1 warning; key evaluation 92 (优) beats self-evaluation 85 (良).
      EDU-D  教育局 itself, PPP, 100 万元; target in 绩效处 review (filed, not approved); confirmed self-
             evaluation 65 (中) adjusted by finance to 82 (良) → 良. A report on schedule → no warning.
      HLT    卫健委, 政府债务, 200 万元, 涉密; no target; one report with an indicator at risk → 1 warning;
             a self-evaluation still in draft (not counted) → 未评价.
      PLAIN  教育局's unit, no area flag → not counted anywhere.
      OLD    教育局's unit, PPP of 2025 → not in 2026.
    市南区:
      SN     市南区教育和体育局's unit, PPP, 400 万元; target approved; self-evaluation 50 (差).
    """
    w = world
    f = SimpleNamespace()
    f.edu_u = make_fund(w, w.edu_unit, "EDU-U", "3000000", other="500000", is_ppp=True, is_procurement=True)
    target(f.edu_u, TargetStatus.APPROVED)
    report(w, f.edu_u, executed="300000")
    key_grade(w, f.edu_u, "92")
    self_grade(w, f.edu_u, "85")
    f.edu_d = make_fund(w, w.edu, "EDU-D", "1000000", is_ppp=True)
    target(f.edu_d, TargetStatus.PERF_REVIEW)
    report(w, f.edu_d, executed="600000")
    self_grade(w, f.edu_d, "65", adjusted="82")
    f.hlt = make_fund(w, w.health, "HLT", "2000000", is_debt=True, is_classified=True)
    report(w, f.hlt, risk=2)
    PerformanceTarget.objects.filter(fund=f.hlt).update(status=TargetStatus.DRAFT)
    self_grade(w, f.hlt, "95", status=SelfEvaluation.Status.DRAFT)
    f.plain = make_fund(w, w.edu_unit, "PLAIN", "9000000")
    f.old = make_fund(w, w.edu_unit, "OLD", "7000000", year=2025, is_ppp=True)
    f.sn = make_fund(w, w.shinan_edu_unit, "SN", "4000000", is_ppp=True)
    target(f.sn, TargetStatus.APPROVED)
    self_grade(w, f.sn, "50")
    return f


def cell(summary, slug, region):
    block = next(b for b in summary.areas if b.slug == slug)
    return next(line.figures for line in block.regions if line.region == region)


def block(summary, slug):
    return next(b for b in summary.areas if b.slug == slug)


# --- figures ----------------------------------------------------------------------------------------


def test_city_wide_reader_gets_every_region_and_the_hand_computed_figures(world, areas):
    summary = sel.area_summary(user=world.perf_admin, fiscal_year=2026)
    assert len(summary.regions) == 11 and summary.city_wide
    ppp_city = cell(summary, "ppp", world.city)
    assert (ppp_city.funds, ppp_city.budget, ppp_city.filed, ppp_city.approved, ppp_city.warnings) == (
        2, D("4500000.00"), 2, 1, 1,
    )  # fmt: skip
    assert ppp_city.grades == {"excellent": 1, "good": 1, "fair": 0, "poor": 0} and ppp_city.ungraded == 0
    ppp_sn = cell(summary, "ppp", world.shinan)
    assert (ppp_sn.funds, ppp_sn.budget, ppp_sn.filed, ppp_sn.approved, ppp_sn.warnings) == (1, D("4000000"), 1, 1, 0)
    assert ppp_sn.grades["poor"] == 1
    ppp = block(summary, "ppp").total
    assert (ppp.funds, ppp.budget, ppp.approved, ppp.grades["poor"]) == (3, D("8500000.00"), 2, 1)
    proc = cell(summary, "procurement", world.city)
    assert (proc.funds, proc.budget, proc.warnings, proc.grades["excellent"]) == (1, D("3500000.00"), 1, 1)
    debt = cell(summary, "debt", world.city)
    assert (debt.funds, debt.filed, debt.approved, debt.warnings, debt.ungraded) == (1, 0, 0, 1, 1)
    assert block(summary, "investment_fund").total.funds == 0
    # Totals: each fund once (EDU-U is in two areas), PLAIN and the 2025 fund left out.
    total = summary.total
    assert (total.funds, total.budget, total.filed, total.approved, total.warnings) == (
        4, D("10500000.00"), 3, 2, 2,
    )  # fmt: skip
    assert total.grades == {"excellent": 1, "good": 1, "fair": 0, "poor": 1} and total.ungraded == 1


def test_department_sees_its_own_and_its_units_funds_only(world, areas):
    summary = sel.area_summary(user=world.edu_approver, fiscal_year=2026)
    assert summary.regions == [world.city] and not summary.city_wide
    assert cell(summary, "ppp", world.city).funds == 2  # EDU-U (its unit's) and EDU-D
    assert block(summary, "debt").total.funds == 0  # 卫健委's fund is not the department's
    assert summary.total.funds == 2 and summary.total.budget == D("4500000.00")
    unit = sel.area_summary(user=world.edu_unit_filler, fiscal_year=2026)
    assert unit.total.funds == 1  # a unit sees its own fund only


def test_district_finance_sees_its_region_only(world, areas):
    summary = sel.area_summary(user=world.shinan_finance, fiscal_year=2026)
    assert summary.regions == [world.shinan]
    assert summary.total.funds == 1 and cell(summary, "ppp", world.shinan).budget == D("4000000")


def test_city_finance_leader_and_perf_division_see_the_districts_city_readers_their_region(world, areas):
    assert sel.area_summary(user=world.finance_leader, fiscal_year=2026).total.funds == 4
    # NPC liaison and auditor read within their region (FUND_READERS).
    assert sel.area_summary(user=world.npc_liaison, fiscal_year=2026).total.funds == 3
    assert sel.area_summary(user=world.auditor, fiscal_year=2026).regions == [world.city]


def test_a_key_evaluation_in_progress_does_not_count_and_self_evaluation_applies(world, areas):
    key_grade(world, areas.sn, "95", status=KeyEvaluation.Status.IN_PROGRESS)
    summary = sel.area_summary(user=world.perf_admin, fiscal_year=2026)
    assert cell(summary, "ppp", world.shinan).grades["poor"] == 1


def test_other_year_has_its_own_figures(world, areas):
    summary = sel.area_summary(user=world.perf_admin, fiscal_year=2025)
    assert summary.total.funds == 1 and block(summary, "ppp").total.budget == D("7000000")


def test_unknown_area_is_refused_by_the_selector(world, areas):
    with pytest.raises(sel.UnknownArea):
        sel.area_fund_list(user=world.perf_admin, fiscal_year=2026, area="lottery")


def test_area_fund_list_carries_each_funds_figures(world, areas):
    rows = {f.code: f for f in sel.area_fund_list(user=world.perf_admin, fiscal_year=2026, area="ppp")}
    assert set(rows) == {"EDU-U", "EDU-D", "SN"}
    assert (rows["EDU-U"].warning_count, rows["EDU-U"].area_grade, rows["EDU-U"].key_grade) == (
        1,
        "excellent",
        "excellent",
    )
    assert rows["EDU-D"].area_grade == "good" and rows["EDU-D"].target_status == TargetStatus.PERF_REVIEW
    assert rows["SN"].area_grade == "poor"
    only_sn = sel.area_fund_list(user=world.perf_admin, fiscal_year=2026, area="ppp", region_id=world.shinan.pk)
    assert [f.code for f in only_sn] == ["SN"]


# --- pages ------------------------------------------------------------------------------------------


def test_summary_page_shows_the_table_in_wan_yuan_and_the_grade_basis(world, areas, login):
    page = login(world.perf_admin).get(SUMMARY).content.decode()
    assert "专项领域绩效管理情况" in page and "2026年度" in page
    assert "850.00" in page and "450.00" in page and "1,050.00" in page  # PPP total, PPP 市本级, 合计
    assert "市南区" in page and "合计（项目不重复计算）" in page
    assert "取重点评价等级" in page


def test_summary_page_of_a_department_has_no_other_region(world, areas, login):
    page = login(world.edu_approver).get(SUMMARY).content.decode()
    assert "450.00" in page and "市南区" not in page and "400.00" not in page


def test_year_switch_on_the_summary(world, areas, login):
    client = login(world.perf_admin)
    response = client.get(SUMMARY + "?year=2025")
    # ``?year=`` (an older link) moves the header's 预算年度 and is dropped from the address
    assert response.status_code == 302 and response["Location"] == SUMMARY
    page = client.get(SUMMARY).content.decode()
    assert "2025年度" in page and "700.00" in page
    assert client.session["fiscal_year"] == 2025 and '<option value="2025" selected>' in page
    # An unknown year falls back to the one selected in the header.
    assert "2025年度" in client.get(SUMMARY + "?year=1999", follow=True).content.decode()
    client.post(reverse("core:fiscal_year_switch"), {"year": 2026})
    assert "2026年度" in client.get(SUMMARY + "?year=1999", follow=True).content.decode()


def test_detail_page_lists_the_funds_with_links_and_region_filter(world, areas, login):
    client = login(world.perf_admin)
    response = client.get(ppp_url(year=2026), follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and "EDU-U" in page and "EDU-D" in page and "SN" in page
    assert reverse("funds:fund_detail", args=[areas.edu_u.pk]) in page
    # 市南区's fund is outside perf_admin's fund.view (region): shown without a link.
    assert reverse("funds:fund_detail", args=[areas.sn.pk]) not in page
    page = client.get(ppp_url(year=2026, region=world.shinan.pk), follow=True).content.decode()
    assert 'data-fund="SN"' in page and 'data-fund="EDU-U"' not in page


def test_detail_page_marks_classified_funds(world, areas, login):
    page = login(world.perf_admin).get(reverse("supervision:area_detail", args=["debt"])).content.decode()
    assert 'data-fund="HLT"' in page and "涉密" in page


def test_department_detail_has_only_its_funds(world, areas, login):
    page = login(world.edu_approver).get(ppp_url()).content.decode()
    assert 'data-fund="EDU-U"' in page and 'data-fund="SN"' not in page
    # A region it may not see is ignored, not an opening.
    page = login(world.edu_approver).get(ppp_url(region=world.shinan.pk)).content.decode()
    assert 'data-fund="SN"' not in page and 'data-fund="EDU-U"' in page


def test_shinan_finance_never_sees_the_city_funds(world, areas, login):
    client = login(world.shinan_finance)
    page = client.get(ppp_url()).content.decode()
    assert 'data-fund="SN"' in page and 'data-fund="EDU-U"' not in page


def test_unknown_area_is_404(world, areas, login):
    assert login(world.perf_admin).get(reverse("supervision:area_detail", args=["lottery"])).status_code == 404
    assert login(world.perf_admin).get(reverse("supervision:area_export", args=["lottery"])).status_code == 404


@pytest.mark.parametrize("persona", ["expert_li", "sysadmin", "security_admin", "audit_admin"])
def test_roles_without_area_view_get_403_everywhere(world, areas, login, persona):
    client = login(getattr(world, persona))
    before = AuditEvent.objects.count()
    for url in (
        SUMMARY,
        ppp_url(),
        reverse("supervision:area_summary_export"),
        reverse("supervision:area_export", args=["ppp"]),
    ):
        assert client.get(url).status_code == 403, url
    assert AuditEvent.objects.count() == before


def test_anonymous_is_sent_to_login(client, areas):
    response = client.get(SUMMARY)
    assert response.status_code == 302 and "login" in response.url


def test_pages_are_read_only(world, areas, login):
    assert login(world.perf_admin).post(SUMMARY).status_code == 405


# --- constant queries -------------------------------------------------------------------------------


def test_summary_runs_a_constant_number_of_queries(world, areas):
    n = [0]

    def grow():
        for org in (world.edu_unit, world.health_unit, world.shinan_edu_unit, world.sci):
            n[0] += 1
            fund = make_fund(world, org, f"G{n[0]}", "1000000", is_ppp=True, is_debt=n[0] % 2 == 0)
            target(fund, TargetStatus.APPROVED)
            report(world, fund, executed="0", risk=3)
            self_grade(world, fund, "88")
            key_grade(world, fund, "70")

    def run():
        sel.area_summary(user=world.perf_admin, fiscal_year=2026)

    # Regions, the year's monitoring rounds (rule parameters), the grouped figures.
    assert_constant_queries(run, grow, expected=3)


def test_summary_and_detail_pages_run_a_constant_number_of_queries(world, areas, login):
    client = login(world.perf_admin)
    n = [0]

    def grow():
        for org in (world.edu_unit, world.shinan_edu_unit, world.health):
            n[0] += 1
            fund = make_fund(world, org, f"P{n[0]}", "1000000", is_ppp=True)
            target(fund, TargetStatus.APPROVED)
            report(world, fund, risk=2)
            self_grade(world, fund, "75")

    def summary_page():
        assert client.get(SUMMARY).status_code == 200

    def detail_page():
        assert client.get(ppp_url()).status_code == 200

    from tests.querycount import count_queries

    summary_page()
    base_summary, _ = count_queries(summary_page)
    base_detail, _ = count_queries(detail_page)
    assert_constant_queries(summary_page, grow, expected=base_summary)
    assert_constant_queries(detail_page, grow, expected=base_detail)


# --- exports ----------------------------------------------------------------------------------------


def _workbook(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_summary_export_has_the_page_figures_and_is_audited(world, areas, login):
    response = login(world.perf_admin).get(reverse("supervision:area_summary_export") + "?year=2026")
    ws = _workbook(response)["专项领域汇总"]
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    by_key = {(r[0], r[1]): r for r in rows if r[0]}
    # area, region, funds, budget (万元), filed, approved, warnings, 优, 良, 中, 差, 未评价
    assert by_key[("PPP", "小计")][2:] == (3, 850, 3, 2, 1, 1, 1, 0, 1, 0)
    assert by_key[("PPP", "市本级")][2:] == (2, 450, 2, 1, 1, 1, 1, 0, 0, 0)
    assert by_key[("PPP", "市南区")][2:] == (1, 400, 1, 1, 0, 0, 0, 0, 1, 0)
    assert by_key[("合计（项目不重复计算）", None)][2:] == (4, 1050, 3, 2, 2, 1, 1, 0, 1, 1)
    assert ws["A1"].value == "2026年度专项领域绩效管理情况汇总表"
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.EXPORT).latest("pk")
    assert event.actor == world.perf_admin and "专项领域汇总表" in event.comment


def test_department_summary_export_has_only_its_figures(world, areas, login):
    ws = _workbook(login(world.edu_approver).get(reverse("supervision:area_summary_export")))["专项领域汇总"]
    regions = {row[1] for row in ws.iter_rows(min_row=4, values_only=True) if row[0] and row[1]}
    assert regions == {"市本级"}
    total = next(r for r in ws.iter_rows(min_row=4, values_only=True) if r[0] == "合计（项目不重复计算）")
    assert total[2:4] == (2, 450)


def test_area_funds_export_lists_the_funds_and_is_audited(world, areas, login):
    response = login(world.perf_admin).get(reverse("supervision:area_export", args=["ppp"]) + "?year=2026")
    ws = _workbook(response)["项目明细"]
    rows = [r for r in ws.iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]
    by_code = {r[4]: r for r in rows}
    assert set(by_code) == {"EDU-U", "EDU-D", "SN"}
    assert by_code["EDU-U"][2] == "青岛市教育局" and by_code["EDU-U"][3] == "青岛第二中学"
    assert by_code["EDU-U"][6] == 350 and by_code["EDU-U"][8] == 1 and by_code["EDU-U"][9] == "优"
    assert by_code["EDU-D"][7] == "待绩效处审核" and by_code["EDU-D"][9] == "良"
    total = next(r for r in ws.iter_rows(min_row=4, values_only=True) if r[1] and str(r[1]).startswith("合计"))
    assert total[6] == 850
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.EXPORT, comment__contains="PPP项目明细表").exists()


def test_shinan_area_export_has_no_city_fund(world, areas, login):
    response = login(world.shinan_finance).get(reverse("supervision:area_export", args=["ppp"]))
    codes = [
        r[4] for r in _workbook(response)["项目明细"].iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)
    ]
    assert codes == ["SN"]


# --- demo -------------------------------------------------------------------------------------------


def test_area_demo_flags_graded_funds_once(world, areas):
    from apps.supervision.demo_areas import seed_area_demo

    graded = make_fund(world, world.edu_unit, "OLD-G", "1000000", year=2025, is_procurement=True)
    self_grade(world, graded, "91")
    assert seed_area_demo() == 4  # the four areas without a graded 2025 fund
    graded.refresh_from_db()
    assert all(getattr(graded, flag) for flag in sel.FLAGS)
    assert seed_area_demo() == 0
    summary = sel.area_summary(user=world.perf_admin, fiscal_year=2025)
    assert all(b.total.grades["excellent"] == 1 for b in summary.areas)
