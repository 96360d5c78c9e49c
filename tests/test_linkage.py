"""预算挂钩: last grade along the predecessor chain, rules at the grade boundaries, suggested amounts,
the decision recorded by 安排 (reason required on departure), rules page/service, report totals."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.evaluations import scoring
from apps.evaluations.models import (
    EvaluationPlan,
    KeyEvaluation,
    ScoringRules,
    SelfEvaluation,
    SelfEvaluationRound,
)
from apps.funds import services as fund_services
from apps.funds.models import SpecialFund
from apps.orgs.models import FiscalYear
from apps.results import selectors_linkage as sel
from apps.results import services_linkage as services
from apps.results.models import BudgetDecision, LinkageRule, Suggestion
from apps.targets.models import PerformanceTarget, TargetStatus

D = Decimal
RS = SpecialFund.RequestStatus


# --- helpers (shared by the page and API tests) -----------------------------------------------------


def fy(year: int) -> FiscalYear:
    return FiscalYear.objects.get_or_create(year=year)[0]


def fund(world, year: int, code: str, amount="1000000", *, previous=None, org=None, arranged=None, status=RS.SUBMITTED):
    """A 社会保险基金预算 fund (no target needed, below the assessment threshold), put in ``status``."""
    org = org or world.edu_unit
    actor = world.shinan_edu_filler if org.region_id == world.shinan.pk else world.edu_filler
    if org.path.startswith(world.health.path):
        actor = world.health_filler
    f = fund_services.fund_create(
        actor=actor, fiscal_year=fy(year), organization=org, code=code, name=f"项目{code}",
        budget_type="social_insurance", sector="education", fiscal_amount=D(amount), other_amount=D("0"),
        period_start=2023, period_end=2028, previous=previous,
    )  # fmt: skip
    SpecialFund.objects.filter(pk=f.pk).update(request_status=status, arranged_amount=arranged)
    f.refresh_from_db()
    return f


def key_grade(world, f, score, kind=EvaluationPlan.Kind.FINANCE, status=KeyEvaluation.Status.COMPLETED):
    """A key evaluation of ``f`` with ``score`` (grade by the default lines), written as setup."""
    evaluator = world.city_finance if kind == EvaluationPlan.Kind.FINANCE else f.department
    if f.region_id == world.shinan.pk and kind == EvaluationPlan.Kind.FINANCE:
        evaluator = world.shinan_finance_org
    plan, _ = EvaluationPlan.objects.get_or_create(
        organization=evaluator, fiscal_year_id=f.fiscal_year_id,
        defaults={"kind": kind, "name": "计划", "created_by": world.perf_admin, "status": EvaluationPlan.Status.ISSUED},
    )  # fmt: skip
    score = D(score)
    return KeyEvaluation.objects.create(
        plan=plan, fund=f, department=f.department, status=status, score=score,
        grade=scoring.grade_of(score), completed_at=timezone.now(),
    )  # fmt: skip


def self_grade(world, f, score, adjusted=None, status=SelfEvaluation.Status.CONFIRMED):
    finance = world.shinan_finance_org if f.region_id == world.shinan.pk else world.city_finance
    round_, _ = SelfEvaluationRound.objects.get_or_create(
        organization=finance, fiscal_year_id=f.fiscal_year_id, defaults={"name": "自评", "due_on": date(2026, 3, 31)}
    )
    target = PerformanceTarget.objects.create(
        fund=f, organization=f.organization, fiscal_year_id=f.fiscal_year_id, status=TargetStatus.APPROVED
    )
    score = D(score)
    return SelfEvaluation.objects.create(
        round=round_, fund=f, target=target, organization=f.organization, status=status, budget_amount=f.fiscal_amount,
        score=score, grade=scoring.grade_of(score),
        adjusted_score=D(adjusted) if adjusted else None,
        adjusted_grade=scoring.grade_of(D(adjusted)) if adjusted else "",
    )  # fmt: skip


def chain(world, score=None, *, base="1000000", requested="1000000", org=None, prefix="EDU"):
    """2025 fund (graded ``score`` by a finance key evaluation) → 2026 → 2027 request."""
    f25 = fund(world, 2025, f"{prefix}-2025-01", base, org=org, arranged=D(base), status=RS.ARRANGED)
    f26 = fund(world, 2026, f"{prefix}-2026-01", base, previous=f25, org=org, status=RS.ARRANGED, arranged=D(base))
    f27 = fund(world, 2027, f"{prefix}-2027-01", requested, previous=f26, org=org)
    if score is not None:
        key_grade(world, f25, score)
    return f25, f26, f27


def snapshot():
    return (
        list(SpecialFund.objects.order_by("pk").values_list("pk", "request_status", "arranged_amount")),
        list(BudgetDecision.objects.values_list("pk", "decided_amount", "reason")),
        list(LinkageRule.objects.order_by("pk").values_list("pk", "suggestion", "adjust_percent", "note")),
        AuditEvent.objects.exclude(kind__in=[AuditEvent.Kind.LOGIN, AuditEvent.Kind.LOGOUT]).count(),
    )


# --- grade boundaries → suggestion and amount -------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "grade", "suggestion", "suggested"),
    [
        ("90.00", "excellent", Suggestion.PRIORITY, "1200000.00"),
        ("89.99", "good", Suggestion.NORMAL, "1200000.00"),
        ("80.00", "good", Suggestion.NORMAL, "1200000.00"),
        ("79.99", "fair", Suggestion.CUT, "900000.00"),  # min(1 200 000, 1 000 000 × 0.9)
        ("60.00", "fair", Suggestion.CUT, "900000.00"),
        ("59.99", "poor", Suggestion.CUT, "500000.00"),  # 1 000 000 × 0.5
    ],
)
def test_default_rules_at_the_grade_boundaries(world, year, score, grade, suggestion, suggested):
    _, _, f27 = chain(world, score, base="1000000", requested="1200000")
    linkage = sel.linkage_of(f27)
    assert linkage.last.grade == grade and linkage.last.year == 2025 and linkage.last.score == D(score)
    assert linkage.suggestion == suggestion
    assert linkage.suggested == D(suggested)
    assert linkage.base == D("1000000") and linkage.requested == D("1200000")


def test_cut_never_exceeds_the_request_and_rounds_half_up_to_the_cent(world, year):
    _, _, f27 = chain(world, "70", base="333333.35", requested="200000")
    assert sel.linkage_of(f27).suggested == D("200000.00")  # request below the cut amount
    assert sel.suggested_amount(Suggestion.CUT, D("-10"), D("333333.35"), D("900000")) == D("300000.02")  # .015 → .02
    assert sel.suggested_amount(Suggestion.CUT, D("-33.33"), D("100.01"), D("900000")) == D("66.68")


def test_custom_rules_per_region_and_cancel(world, year):
    _, _, city = chain(world, "55")
    _, _, shinan = chain(world, "55", org=world.shinan_edu_unit, prefix="SN")
    services.linkage_rules_save(
        actor=world.shinan_finance, fiscal_year=fy(2027),
        rows={
            "excellent": {"suggestion": "priority", "adjust_percent": "0"},
            "good": {"suggestion": "normal", "adjust_percent": "0"},
            "fair": {"suggestion": "cut", "adjust_percent": "-20"},
            "poor": {"suggestion": "cancel", "adjust_percent": "0", "note": "差等次一律取消"},
        },
    )  # fmt: skip
    links = sel.linkage_for([city, shinan])
    assert links[city.pk].suggestion == Suggestion.CUT and links[city.pk].suggested == D("500000.00")
    assert links[shinan.pk].suggestion == Suggestion.CANCEL and links[shinan.pk].suggested == D("0.00")
    # Another budget year of 市南区 still has the defaults.
    assert sel.rules_table(world.shinan.pk, 2026)["poor"].suggestion == Suggestion.CUT


def test_no_grade_means_the_request_and_suggestion_none(world, year):
    _, _, f27 = chain(world, None, base="1000000", requested="1300000")
    linkage = sel.linkage_of(f27)
    assert linkage.last is None and linkage.suggestion == Suggestion.NONE
    assert linkage.suggested == D("1300000.00")
    lone = fund(world, 2027, "EDU-2027-09", "450000")
    assert sel.linkage_of(lone).suggested == D("450000.00") and sel.linkage_of(lone).base is None


# --- the chain --------------------------------------------------------------------------------------


def test_key_evaluation_beats_self_evaluation_and_department_evaluation(world, year):
    f25, _, f27 = chain(world, None)
    self_grade(world, f25, "95")
    assert sel.linkage_of(f27).last.source == BudgetDecision.GradeSource.SELF_EVALUATION
    key_grade(world, f25, "85", kind=EvaluationPlan.Kind.DEPARTMENT)
    last = sel.linkage_of(f27).last
    assert (last.source, last.grade) == (BudgetDecision.GradeSource.DEPARTMENT_EVALUATION, "good")
    key_grade(world, f25, "70")
    last = sel.linkage_of(f27).last
    assert (last.source, last.grade, last.score) == (BudgetDecision.GradeSource.KEY_EVALUATION, "fair", D("70"))


def test_self_evaluation_counts_only_when_confirmed_and_uses_the_adjusted_grade(world, year):
    f25, _, f27 = chain(world, None)
    self_grade(world, f25, "95", status=SelfEvaluation.Status.SUBMITTED)
    assert sel.linkage_of(f27).last is None
    SelfEvaluation.objects.filter(fund=f25).update(status=SelfEvaluation.Status.CONFIRMED)
    SelfEvaluation.objects.filter(fund=f25).update(adjusted_score=D("78"), adjusted_grade="fair")
    last = sel.linkage_of(f27).last
    assert (last.grade, last.score) == ("fair", D("78"))
    key_grade(world, f25, "99", status=KeyEvaluation.Status.SUBMITTED)  # not completed: ignored
    assert sel.linkage_of(f27).last.source == BudgetDecision.GradeSource.SELF_EVALUATION


def test_most_recent_evaluated_year_wins_and_history_lists_each_year(world, year):
    f24 = fund(world, 2024, "EDU-2024-01", "800000", status=RS.ARRANGED, arranged=D("800000"))
    f25, f26, f27 = chain(world, None)
    SpecialFund.objects.filter(pk=f25.pk).update(previous=f24)
    key_grade(world, f24, "92")
    linkage = sel.linkage_of(f27)
    assert linkage.last.year == 2024 and linkage.suggestion == Suggestion.PRIORITY and linkage.base == D("800000")
    self_grade(world, f25, "65")
    linkage = sel.linkage_of(f27)
    assert [r.year for r in linkage.history] == [2025, 2024] and linkage.last.grade == "fair"


def test_chain_stops_at_the_regions_cycle(world, year):
    f24 = fund(world, 2024, "EDU-2024-01", status=RS.ARRANGED)
    f25, _, f27 = chain(world, None)
    SpecialFund.objects.filter(pk=f25.pk).update(previous=f24)
    key_grade(world, f24, "50")
    assert sel.linkage_of(f27).last.year == 2024  # 3 steps back: 2026, 2025, 2024
    ScoringRules.objects.create(region=world.city, fiscal_year=fy(2026), cycle_years=2)
    assert sel.linkage_of(f27).last is None and sel.linkage_of(f27).cycle == 2


def test_linkage_for_a_list_runs_a_constant_number_of_queries(world, year, django_assert_num_queries):
    funds = [chain(world, s, prefix=f"P{i}")[2] for i, s in enumerate(["95", "85", "70"])]
    with django_assert_num_queries(6):
        first = sel.linkage_for(funds)
    for i, s in enumerate(["55", "65", "91", "40"]):
        funds.append(chain(world, s, prefix=f"Q{i}")[2])
    with django_assert_num_queries(6):
        links = sel.linkage_for(funds)
    assert len(first) == 3 and [links[f.pk].grade for f in funds] == [
        "excellent",
        "good",
        "fair",
        "poor",
        "fair",
        "excellent",
        "poor",
    ]


# --- the budget gate for the 安排 list ---------------------------------------------------------------


def test_gate_blockers_for_a_list_say_what_the_gate_says_in_three_queries(world, year, django_assert_num_queries):
    from apps.assessments.models import Conclusion, ExAnteAssessment
    from apps.funds import gate
    from apps.funds.models import GateSettings

    def make(code, org=None, **changes):
        f = fund(world, 2027, code, org=org)
        SpecialFund.objects.filter(pk=f.pk).update(**changes)
        f.refresh_from_db()
        return f

    def assess(f, status, conclusion="", days_ago=0):
        a = ExAnteAssessment.objects.create(fund=f, organization=f.organization, status=status, conclusion=conclusion)
        ExAnteAssessment.objects.filter(pk=a.pk).update(created_at=timezone.now() - timezone.timedelta(days=days_ago))

    GateSettings.objects.create(region=world.shinan, assessment_threshold=D("1000000"))
    S = ExAnteAssessment.Status
    funds = [
        make("A-2027-01"),  # nothing needed
        make("B-2027-01", budget_type="general"),  # target missing
        make("C-2027-01", budget_type="general", is_new_major_policy=True),  # target and assessment missing
        make("D-2027-01", fiscal_amount=D("5000000")),  # at the 500 万 threshold, no assessment
        make("E-2027-01", is_new_major_policy=True),  # assessment completed, rejected
        make("F-2027-01", is_new_major_policy=True),  # completed long ago, a newer one in progress
        make("G-2027-01", is_new_major_policy=True),  # completed, supported
        make("S-2027-01", org=world.shinan_edu_unit, fiscal_amount=D("1500000")),  # 市南区 threshold 100 万
        make("T-2027-01", org=world.shinan_edu_unit, fiscal_amount=D("900000")),  # below it
    ]
    target_draft = make("H-2027-01", budget_type="general")
    PerformanceTarget.objects.create(fund=target_draft, organization=target_draft.organization, fiscal_year_id=2027,
                                     status=TargetStatus.DRAFT)  # fmt: skip
    target_ok = make("I-2027-01", budget_type="general")
    PerformanceTarget.objects.create(fund=target_ok, organization=target_ok.organization, fiscal_year_id=2027,
                                     status=TargetStatus.APPROVED)  # fmt: skip
    funds += [target_draft, target_ok]
    assess(funds[4], S.COMPLETED, Conclusion.REJECT)
    assess(funds[5], S.COMPLETED, Conclusion.SUPPORT, days_ago=30)
    assess(funds[5], S.SUBMITTED)
    assess(funds[6], S.COMPLETED, Conclusion.SUPPORT_ADJUSTED)
    with django_assert_num_queries(3):
        batch = sel.arrange_blockers_for(funds)
    assert batch == {f.pk: gate.arrange_blockers(f) for f in funds}
    assert [len(batch[f.pk]) for f in funds] == [0, 1, 2, 1, 1, 1, 0, 1, 0, 1, 0]
    assert batch[funds[7].pk] == ["该项目金额达到 100.00 万元的事前评估门槛，事前绩效评估尚未完成"]
    assert batch[funds[4].pk] == ["事前绩效评估结论为“不予支持”"]
    assert sel.arrange_blockers_for([]) == {}


# --- 安排 records the decision ----------------------------------------------------------------------


def test_arrange_at_the_suggestion_records_the_snapshot(world, year):
    _, _, f27 = chain(world, "75", base="1000000", requested="1200000")
    fund_services.fund_arrange(actor=world.perf_admin, fund=f27)  # default amount: the suggestion
    f27.refresh_from_db()
    decision = BudgetDecision.objects.get(fund=f27)
    assert f27.request_status == RS.ARRANGED and f27.arranged_amount == D("900000.00")
    assert (decision.last_grade, decision.grade_source, decision.suggestion) == ("fair", "key_evaluation", "cut")
    assert decision.adjust_percent == D("-10") and decision.base_amount == D("1000000")
    assert (decision.requested_amount, decision.suggested_amount, decision.decided_amount) == (
        D("1200000"),
        D("900000"),
        D("900000"),
    )
    assert not decision.departs and decision.decided_by == world.perf_admin
    assert AuditEvent.objects.filter(object_id=str(decision.pk), comment__startswith="安排预算").exists()


def test_departure_needs_a_reason_and_nothing_changes_without_one(world, year):
    _, _, f27 = chain(world, "55")
    before = snapshot()
    with pytest.raises(ValidationError) as err:
        fund_services.fund_arrange(actor=world.perf_admin, fund=f27, amount=D("800000"), reason="  ")
    assert (
        "偏离建议的理由" in err.value.message_dict["reason"][0] and "50.00 万元" in err.value.message_dict["reason"][0]
    )
    assert snapshot() == before
    fund_services.fund_arrange(actor=world.perf_admin, fund=f27, amount=D("800000"), reason="民生刚性支出，压减 20%")
    decision = BudgetDecision.objects.get(fund=f27)
    assert decision.departs and decision.reason == "民生刚性支出，压减 20%" and decision.decided_amount == D("800000")


def requested_total(world, other="200000"):
    """A 2027 request of 财政拨款 1 000 000 + 其他资金 ``other`` (申报金额 1 200 000 by default)."""
    _, _, f27 = chain(world, "85")
    SpecialFund.objects.filter(pk=f27.pk).update(other_amount=D(other))
    f27.refresh_from_db()
    return f27


def test_arrange_above_the_requested_total_is_refused_and_nothing_changes(world, year):
    f27 = requested_total(world)
    assert f27.total_amount == D("1200000")
    before = snapshot()
    for amount in (D("1200000.01"), D("99999999999")):
        with pytest.raises(ValidationError) as err:
            fund_services.fund_arrange(actor=world.perf_admin, fund=f27, amount=amount, reason="足额保障")
        message = err.value.message_dict["arranged_amount"][0]
        assert message.startswith("安排金额 ") and "不能超过申报金额 120.00万元" in message
        assert snapshot() == before
    assert "安排金额 10,000,000.00万元 不能超过申报金额 120.00万元" in message
    # Exactly the requested total (财政拨款+其他资金) is fine.
    fund_services.fund_arrange(actor=world.perf_admin, fund=f27, amount=D("1200000.00"), reason="足额保障")
    assert SpecialFund.objects.get(pk=f27.pk).arranged_amount == D("1200000.00")


def test_arrange_pages_refuse_an_amount_above_the_requested_total(world, year, login):
    f27 = requested_total(world)
    client = login(world.perf_admin)
    before = snapshot()
    detail = reverse("funds:fund_transition", args=[f27.pk, "arrange"])
    html = client.post(detail, {"amount_wan": "120.0001", "reason": "足额保障"}, follow=True).content.decode()
    assert "操作未成功：安排金额 120.00万元 不能超过申报金额 120.00万元" in html
    row = reverse("results:linkage_arrange_fund", args=[f27.pk])
    data = {f"f{f27.pk}-amount_wan": "500", f"f{f27.pk}-reason": "足额保障"}
    response = client.post(row, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Trigger"] == "arrange-refused"
    assert "安排金额 500.00万元 不能超过申报金额 120.00万元" in response.content.decode()
    assert snapshot() == before
    response = client.post(row, {**data, f"f{f27.pk}-amount_wan": "120"}, HTTP_HX_REQUEST="true")
    assert "HX-Trigger" not in response
    assert SpecialFund.objects.get(pk=f27.pk).arranged_amount == D("1200000.00")


@pytest.mark.parametrize("persona", ["edu_approver", "sector_kjw", "npc_liaison", "shinan_finance", "auditor"])
def test_only_the_regions_finance_arranges_and_nothing_changes(world, year, persona):
    _, _, f27 = chain(world, "85")
    before = snapshot()
    with pytest.raises(PermissionDenied):
        fund_services.fund_arrange(actor=getattr(world, persona), fund=f27, reason="x")
    assert snapshot() == before


def test_decline_records_no_decision(world, year):
    _, _, f27 = chain(world, "85")
    fund_services.fund_decline(actor=world.perf_admin, fund=f27, comment="不符合支持方向")
    assert not BudgetDecision.objects.exists()


# --- rules service ----------------------------------------------------------------------------------

GOOD_RULES = {
    "excellent": {"suggestion": "priority", "adjust_percent": "0"},
    "good": {"suggestion": "normal", "adjust_percent": "0"},
    "fair": {"suggestion": "cut", "adjust_percent": "-15"},
    "poor": {"suggestion": "cut", "adjust_percent": "-60"},
}


def test_rules_save_reset_and_audit(world, year):
    services.linkage_rules_save(actor=world.perf_admin, fiscal_year=fy(2027), rows=GOOD_RULES)
    table = sel.rules_table(world.city.pk, 2027)
    assert table["fair"].adjust_percent == D("-15") and table["fair"].saved
    assert LinkageRule.objects.filter(region=world.city, fiscal_year=2027).count() == 4
    event = AuditEvent.objects.filter(comment__contains="预算挂钩规则").latest("pk")
    assert event.changes["中"] == {"from": "压减 10%", "to": "压减 15%"} and event.organization == world.city_finance
    count = AuditEvent.objects.count()
    services.linkage_rules_save(actor=world.perf_admin, fiscal_year=fy(2027), rows=GOOD_RULES)  # unchanged
    assert AuditEvent.objects.count() == count
    services.linkage_rules_reset(actor=world.perf_admin, fiscal_year=fy(2027))
    assert not LinkageRule.objects.exists() and not sel.rules_table(world.city.pk, 2027)["fair"].saved
    assert AuditEvent.objects.filter(comment__contains="恢复默认").exists()


@pytest.mark.parametrize(
    ("grade", "row", "field", "message"),
    [
        ("fair", {"suggestion": "cut", "adjust_percent": "10"}, "fair_adjust_percent", "应为负数"),
        ("good", {"suggestion": "normal", "adjust_percent": "5"}, "good_adjust_percent", "应为 0"),
        ("poor", {"suggestion": "cut", "adjust_percent": "-120"}, "poor_adjust_percent", "-100 至 100"),
        ("poor", {"suggestion": "halve", "adjust_percent": "0"}, "poor_suggestion", "无效"),
        ("fair", {"suggestion": "cut", "adjust_percent": "abc"}, "fair_adjust_percent", "必须是数字"),
    ],
)
def test_bad_rules_are_refused_by_field_and_nothing_changes(world, year, grade, row, field, message):
    before = snapshot()
    with pytest.raises(ValidationError) as err:
        services.linkage_rules_save(actor=world.perf_admin, fiscal_year=fy(2027), rows={**GOOD_RULES, grade: row})
    assert message in err.value.message_dict[field][0]
    assert snapshot() == before


@pytest.mark.parametrize("persona", ["sector_kjw", "edu_approver", "npc_liaison", "auditor", "sysadmin"])
def test_only_finance_deciders_manage_rules(world, year, persona):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.linkage_rules_save(actor=getattr(world, persona), fiscal_year=fy(2027), rows=GOOD_RULES)
    with pytest.raises(PermissionDenied):
        services.linkage_rules_reset(actor=getattr(world, persona), fiscal_year=fy(2027))
    assert snapshot() == before


def test_district_finance_saves_only_its_own_region(world, year):
    services.linkage_rules_save(actor=world.shinan_finance, fiscal_year=fy(2027), rows=GOOD_RULES)
    assert set(LinkageRule.objects.values_list("region_id", flat=True)) == {world.shinan.pk}
    assert not sel.rules_table(world.city.pk, 2027)["fair"].saved


# --- report -----------------------------------------------------------------------------------------


def build_report_world(world):
    """教育局: 优 (arranged at suggestion), 中 (departing, with reason), no grade (submitted);
    卫健委: 差 (arranged); 市南区: one 良."""
    _, _, a = chain(world, "95", base="1000000", requested="1100000", prefix="A")
    _, _, b = chain(world, "70", base="2000000", requested="2000000", prefix="B")
    c = fund(world, 2027, "C-2027-01", "300000")
    _, _, h = chain(world, "50", base="600000", requested="600000", org=world.health_unit, prefix="H")
    _, _, s = chain(world, "85", base="700000", requested="700000", org=world.shinan_edu_unit, prefix="S")
    fund_services.fund_arrange(actor=world.perf_admin, fund=a)
    fund_services.fund_arrange(actor=world.perf_admin, fund=b, amount=D("1950000"), reason="新增学位需求")
    fund_services.fund_arrange(actor=world.perf_admin, fund=h)
    return a, b, c, h, s


def test_report_totals_by_department(world, year):
    a, b, c, h, s = build_report_world(world)
    report = sel.linkage_report(user=world.perf_admin, fiscal_year_id=2027)
    assert [blk.department_name for blk in report.blocks] == ["青岛市教育局", "青岛市卫生健康委员会"]
    edu, health = report.blocks
    assert [line.fund.code for line in edu.lines] == ["A-2027-01", "B-2027-01", "C-2027-01"]
    assert (edu.requested, edu.suggested, edu.decided) == (D("3400000"), D("3200000"), D("3050000"))
    assert edu.departures == 1 and edu.lines[1].decision.reason == "新增学位需求"
    assert edu.lines[2].decided is None and not edu.lines[2].departs
    assert (health.requested, health.suggested, health.decided) == (D("600000"), D("300000"), D("300000"))
    assert (report.requested, report.suggested, report.decided, report.departures, report.count) == (
        D("4000000"),
        D("3500000"),
        D("3350000"),
        1,
        4,
    )
    # A department sees its own lines, 市南区 its region.
    assert [b.department_name for b in sel.linkage_report(user=world.edu_filler, fiscal_year_id=2027).blocks] == [
        "青岛市教育局"
    ]
    shinan = sel.linkage_report(user=world.shinan_finance, fiscal_year_id=2027)
    assert [line.fund.code for blk in shinan.blocks for line in blk.lines] == ["S-2027-01"]
    assert sel.linkage_report(user=world.expert_li, fiscal_year_id=2027).count == 0
