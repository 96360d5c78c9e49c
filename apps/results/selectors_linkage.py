"""预算挂钩 reads: the last grade of a fund, the region's rule table and the suggested amount.

**Last grade.** For a fund of budget year N, walk ``SpecialFund.previous`` back at most ``cycle``
steps (the region's key-evaluation cycle, ``ScoringRules.cycle_years`` of year N−1, default 3) and
take the most recent predecessor that has a result. For that year the result is, in this order:
a completed 财政重点评价, a completed 部门评价, the finance-confirmed 单位自评 (its adjusted grade and
score if finance adjusted it). Every evaluated year found on the way is the *history*.

**Suggested amount.** base = the evaluated predecessor's arranged amount (its 财政拨款 if it was never
arranged); requested = the fund's 财政拨款. 优先保障/正常安排 → requested; 压减 p % →
min(requested, base × (1 + p/100)) rounded half-up to the cent; 取消 → 0; no grade → requested.

Everything works on a list of funds with a constant number of queries (``linkage_for``): the chain
is one query with a fixed depth of joins, then one query each for the chain's funds, the key
evaluations, the self-evaluations, the cycles and the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, Sum

from apps.assessments.models import Conclusion, ExAnteAssessment
from apps.evaluations.models import EvaluationPlan, Grade, KeyEvaluation, ScoringRules, SelfEvaluation
from apps.funds import gate
from apps.funds.models import GateSettings, SpecialFund
from apps.targets.models import PerformanceTarget, TargetStatus

from .models import BudgetDecision, LinkageRule, Suggestion

D = Decimal
CENT = D("0.01")
DEFAULT_CYCLE = 3
MAX_CYCLE = 10  # the scoring-rules form allows 1–10 years
GS = BudgetDecision.GradeSource
GRADE_ORDER = [Grade.EXCELLENT, Grade.GOOD, Grade.FAIR, Grade.POOR]


# --- rules -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    grade: str
    suggestion: str
    adjust_percent: Decimal
    note: str = ""
    saved: bool = False  # False: the default of LinkageRule.DEFAULTS, not saved by finance yet

    @property
    def grade_label(self) -> str:
        return Grade(self.grade).label

    @property
    def suggestion_label(self) -> str:
        return Suggestion(self.suggestion).label

    @property
    def text(self) -> str:
        """优先保障 / 压减 10% / 取消 …"""
        if self.suggestion == Suggestion.CUT:
            return f"压减 {fmt_percent(-self.adjust_percent)}%"
        return self.suggestion_label


def fmt_percent(value: Decimal) -> str:
    value = D(value).quantize(CENT).normalize()
    return f"{value:f}"


def default_rules() -> dict[str, Rule]:
    return {g: Rule(g, s, p) for g, (s, p) in LinkageRule.DEFAULTS.items()}


def rules_table(region_id: int, fiscal_year_id: int) -> dict[str, Rule]:
    """The rule of every grade for the region's budget year: saved rows, else the defaults (1 query)."""
    return rules_for_pairs({(region_id, fiscal_year_id)})[(region_id, fiscal_year_id)]


def rules_for_pairs(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], dict[str, Rule]]:
    """Rule tables of several (region, budget year) pairs in one query."""
    tables = {pair: default_rules() for pair in pairs}
    if not pairs:
        return tables
    q = Q(pk__in=[])
    for region_id, year_id in pairs:
        q |= Q(region_id=region_id, fiscal_year_id=year_id)
    for row in (
        LinkageRule.objects.filter(q)
        .order_by()
        .values_list("region_id", "fiscal_year_id", "grade", "suggestion", "adjust_percent", "note")
    ):
        region_id, year_id, grade, suggestion, percent, note = row
        tables[(region_id, year_id)][grade] = Rule(grade, suggestion, percent, note, saved=True)
    return tables


def rule_rows(region_id: int, fiscal_year_id: int):
    """The saved rows with who changed them last (for the rule page)."""
    return LinkageRule.objects.filter(region_id=region_id, fiscal_year_id=fiscal_year_id).select_related("updated_by")


def cycles_for_pairs(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """The key-evaluation cycle of each (region, budget year): ScoringRules of the year before (1 query)."""
    cycles = dict.fromkeys(pairs, DEFAULT_CYCLE)
    if not pairs:
        return cycles
    q = Q(pk__in=[])
    for region_id, year_id in pairs:
        q |= Q(region_id=region_id, fiscal_year_id=year_id - 1)
    for region_id, year_id, cycle in (
        ScoringRules.objects.filter(q).order_by().values_list("region_id", "fiscal_year_id", "cycle_years")
    ):
        cycles[(region_id, year_id + 1)] = min(max(cycle, 1), MAX_CYCLE)
    return cycles


# --- amounts ---------------------------------------------------------------------------------------


def suggested_amount(suggestion: str, percent: Decimal, base: Decimal | None, requested: Decimal) -> Decimal:
    """The rule of the module docstring (a pure function)."""
    requested = D(requested)
    if suggestion == Suggestion.CANCEL:
        return D("0.00")
    if suggestion == Suggestion.CUT and base is not None:
        cut = (D(base) * (1 + D(percent) / 100)).quantize(CENT, rounding=ROUND_HALF_UP)
        return max(min(requested, cut), D("0.00"))
    return requested.quantize(CENT)


# --- the last grade --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """One evaluated year of a predecessor."""

    year: int
    fund_id: int
    fund_code: str
    fund_name: str
    grade: str
    score: Decimal | None
    source: str  # BudgetDecision.GradeSource

    @property
    def grade_label(self) -> str:
        return Grade(self.grade).label

    @property
    def source_label(self) -> str:
        return GS(self.source).label


@dataclass
class Linkage:
    """What the linkage says about one fund of a budget year."""

    fund_id: int
    requested: Decimal
    cycle: int
    rule: Rule | None
    last: Result | None
    base: Decimal | None
    basis_fund_id: int | None
    history: list[Result] = field(default_factory=list)

    @property
    def suggestion(self) -> str:
        return self.rule.suggestion if self.rule else Suggestion.NONE

    @property
    def suggestion_label(self) -> str:
        return Suggestion(self.suggestion).label

    @property
    def suggestion_text(self) -> str:
        return self.rule.text if self.rule else Suggestion.NONE.label

    @property
    def adjust_percent(self) -> Decimal:
        return self.rule.adjust_percent if self.rule else D("0")

    @property
    def suggested(self) -> Decimal:
        return suggested_amount(self.suggestion, self.adjust_percent, self.base, self.requested)

    @property
    def grade(self) -> str:
        return self.last.grade if self.last else ""

    @property
    def grade_label(self) -> str:
        return self.last.grade_label if self.last else ""


def _chain_lookups(depth: int) -> list[str]:
    return ["previous__" * (k - 1) + "previous_id" for k in range(1, depth + 1)]


def _key_results(fund_ids: set[int]) -> dict[int, tuple[str, str, Decimal | None]]:
    """fund id → (source, grade, score) of its best completed key evaluation: a finance key evaluation
    before a department evaluation, then the latest completed."""
    rows = KeyEvaluation.objects.filter(
        fund_id__in=fund_ids, subject=KeyEvaluation.Subject.FUND, status=KeyEvaluation.Status.COMPLETED
    ).exclude(grade="")
    ranked = sorted(
        rows.values_list("fund_id", "plan__kind", "grade", "score", "completed_at", "pk"),
        key=lambda r: (r[1] != EvaluationPlan.Kind.FINANCE, -(r[4].timestamp() if r[4] else 0), -r[5]),
    )
    out: dict[int, tuple[str, str, Decimal | None]] = {}
    for fund_id, kind, grade, score, _, _ in ranked:
        if fund_id not in out:
            source = GS.KEY_EVALUATION if kind == EvaluationPlan.Kind.FINANCE else GS.DEPARTMENT_EVALUATION
            out[fund_id] = (source, grade, score)
    return out


def _self_results(fund_ids: set[int]) -> dict[int, tuple[str, str, Decimal | None]]:
    """fund id → (source, final grade, final score) of its finance-confirmed self-evaluation."""
    out = {}
    rows = SelfEvaluation.objects.filter(fund_id__in=fund_ids, status=SelfEvaluation.Status.CONFIRMED).order_by(
        "round__fiscal_year_id", "pk"
    )
    for fund_id, grade, score, adjusted_grade, adjusted_score in rows.values_list(
        "fund_id", "grade", "score", "adjusted_grade", "adjusted_score"
    ):
        final_grade = adjusted_grade or grade
        if final_grade:
            out[fund_id] = (GS.SELF_EVALUATION, final_grade, adjusted_score if adjusted_score is not None else score)
    return out


def linkage_for(funds) -> dict[int, Linkage]:
    """The linkage of each fund (``SpecialFund`` objects with ``region_id``, ``fiscal_year_id``,
    ``fiscal_amount``, ``previous_id``), by fund id. A constant number of queries (six at most)."""
    funds = list(funds)
    if not funds:
        return {}
    pairs = {(f.region_id, f.fiscal_year_id) for f in funds}
    cycles = cycles_for_pairs(pairs)
    rules = rules_for_pairs(pairs)
    depth = max(cycles.values())
    lookups = _chain_lookups(depth)
    chains = {
        row[0]: list(row[1:])
        for row in SpecialFund.objects.filter(pk__in=[f.pk for f in funds]).order_by().values_list("pk", *lookups)
    }
    chain_ids = {x for chain in chains.values() for x in chain if x is not None}
    members = {
        row[0]: row
        for row in SpecialFund.objects.filter(pk__in=chain_ids)
        .order_by()
        .values_list("pk", "fiscal_year_id", "code", "name", "arranged_amount", "fiscal_amount")
    }
    results = _self_results(chain_ids)
    results.update(_key_results(chain_ids))  # a key evaluation beats the self-evaluation of the same fund
    out = {}
    for fund in funds:
        cycle = cycles[(fund.region_id, fund.fiscal_year_id)]
        history: list[Result] = []
        for member_id in chains.get(fund.pk, [])[:cycle]:
            if member_id is None:
                break
            if member_id in results:
                source, grade, score = results[member_id]
                _, year, code, name, _, _ = members[member_id]
                history.append(Result(year, member_id, code, name, grade, score, source))
        last = history[0] if history else None
        basis_id = last.fund_id if last else fund.previous_id
        base = None
        if basis_id is not None and basis_id in members:
            arranged, fiscal = members[basis_id][4], members[basis_id][5]
            base = arranged if arranged is not None else fiscal
        out[fund.pk] = Linkage(
            fund_id=fund.pk,
            requested=fund.fiscal_amount,
            cycle=cycle,
            rule=rules[(fund.region_id, fund.fiscal_year_id)][last.grade] if last else None,
            last=last,
            base=base,
            basis_fund_id=basis_id,
            history=history,
        )
    return out


def linkage_of(fund: SpecialFund) -> Linkage:
    return linkage_for([fund])[fund.pk]


# --- the budget gate, for a list ----------------------------------------------------------------------


def arrange_blockers_for(funds) -> dict[int, list[str]]:
    """``apps.funds.gate.arrange_blockers`` of each fund, by fund id, in three queries whatever the
    number of funds (the gate settings of the regions, the approved targets, the assessments of the
    funds that need one). Same rules and the same messages as the gate: the tests compare both."""
    funds = list(funds)
    if not funds:
        return {}
    thresholds = dict.fromkeys({f.region_id for f in funds}, gate.DEFAULT_THRESHOLD)
    thresholds.update(
        GateSettings.objects.filter(region_id__in=list(thresholds))
        .order_by()
        .values_list("region_id", "assessment_threshold")
    )
    targeted = {f.pk for f in funds if f.requires_target}
    # (An empty ``__in`` list runs no query at all.)
    approved = set(
        PerformanceTarget.objects.filter(fund_id__in=targeted, status=TargetStatus.APPROVED)
        .order_by()
        .values_list("fund_id", flat=True)
        .distinct()
    )
    assessed = {f.pk for f in funds if f.is_new_major_policy or f.total_amount >= thresholds[f.region_id]}
    latest: dict[int, tuple[str, str]] = {}
    for fund_id, status, conclusion in (
        ExAnteAssessment.objects.filter(fund_id__in=assessed)
        .order_by("fund_id", "-created_at", "-pk")
        .values_list("fund_id", "status", "conclusion")
    ):
        latest.setdefault(fund_id, (status, conclusion))
    out: dict[int, list[str]] = {}
    for f in funds:
        missing = []
        if f.pk in targeted and f.pk not in approved:
            missing.append("绩效目标尚未批复（无目标不安排预算）")
        if f.pk in assessed:
            reason = (
                "属于新增重大政策"
                if f.is_new_major_policy
                else f"金额达到 {thresholds[f.region_id] / 10000:,.2f} 万元的事前评估门槛"
            )
            status, conclusion = latest.get(f.pk, (None, None))
            if status != ExAnteAssessment.Status.COMPLETED:
                missing.append(f"该项目{reason}，事前绩效评估尚未完成")
            elif conclusion == Conclusion.REJECT:
                missing.append("事前绩效评估结论为“不予支持”")
        out[f.pk] = missing
    return out


# --- lists -----------------------------------------------------------------------------------------


def arrange_queue(*, user, region_id: int, fiscal_year_id: int, status: str = SpecialFund.RequestStatus.SUBMITTED):
    """Funds of the budget year the user may see, in the region, by request status (for the 安排 list)."""
    qs = SpecialFund.objects.restrict(user, "linkage.view").filter(region_id=region_id, fiscal_year_id=fiscal_year_id)
    if status:
        qs = qs.filter(request_status=status)
    return qs.select_related("department", "organization", "budget_decision").order_by("department__code", "code")


@dataclass
class ReportLine:
    fund: SpecialFund
    linkage: Linkage
    decision: BudgetDecision | None

    @property
    def decided(self) -> Decimal | None:
        if self.decision is not None:
            return self.decision.decided_amount
        return self.fund.arranged_amount

    @property
    def departs(self) -> bool:
        return self.decided is not None and self.decided != self.suggested

    @property
    def suggested(self) -> Decimal:
        # What finance saw when it decided (the snapshot), else what the linkage says now.
        return self.decision.suggested_amount if self.decision is not None else self.linkage.suggested

    @property
    def requested(self) -> Decimal:
        return self.decision.requested_amount if self.decision is not None else self.fund.fiscal_amount

    @property
    def grade_label(self) -> str:
        if self.decision is not None:
            return self.decision.get_last_grade_display() if self.decision.last_grade else ""
        return self.linkage.grade_label

    @property
    def suggestion_label(self) -> str:
        if self.decision is not None:
            return self.decision.get_suggestion_display()
        return self.linkage.suggestion_label


class _Totals:
    """The three amount totals of a block of lines (``total(attr)`` says how to add them up)."""

    def total(self, attr: str) -> Decimal:
        raise NotImplementedError

    @property
    def requested(self) -> Decimal:
        return self.total("requested")

    @property
    def suggested(self) -> Decimal:
        return self.total("suggested")

    @property
    def decided(self) -> Decimal:
        return self.total("decided")


@dataclass
class DepartmentBlock(_Totals):
    department_id: int
    department_name: str
    lines: list[ReportLine]

    def total(self, attr: str) -> Decimal:
        return sum((getattr(line, attr) or D("0") for line in self.lines), D("0"))

    @property
    def departures(self) -> int:
        return sum(1 for line in self.lines if line.departs)


@dataclass
class Report(_Totals):
    fiscal_year: int
    blocks: list[DepartmentBlock]

    def total(self, attr: str) -> Decimal:
        return sum((getattr(b, attr) for b in self.blocks), D("0"))

    @property
    def departures(self) -> int:
        return sum(b.departures for b in self.blocks)

    @property
    def count(self) -> int:
        return sum(len(b.lines) for b in self.blocks)


REPORT_STATUSES = (SpecialFund.RequestStatus.SUBMITTED, SpecialFund.RequestStatus.ARRANGED)


def report_queryset(*, user, fiscal_year_id: int, department_id: int | None = None):
    """The budget year's submitted and arranged funds the user may see (finance: its region;
    a department: its own and its units')."""
    qs = SpecialFund.objects.restrict(user, "linkage.view").filter(
        fiscal_year_id=fiscal_year_id, request_status__in=REPORT_STATUSES
    )
    if department_id:
        qs = qs.filter(department_id=department_id)
    return qs.select_related("department", "organization", "budget_decision").order_by(
        "department__code", "department_id", "code"
    )


def linkage_report(*, user, fiscal_year_id: int, department_id: int | None = None) -> Report:
    """The linkage report by department, with subtotals and the grand total (constant queries)."""
    funds = list(report_queryset(user=user, fiscal_year_id=fiscal_year_id, department_id=department_id))
    linkages = linkage_for(funds)
    blocks: list[DepartmentBlock] = []
    for fund in funds:
        if not blocks or blocks[-1].department_id != fund.department_id:
            blocks.append(DepartmentBlock(fund.department_id, fund.department.name, []))
        decision = getattr(fund, "budget_decision", None) if _has_decision(fund) else None
        blocks[-1].lines.append(ReportLine(fund, linkages[fund.pk], decision))
    return Report(fiscal_year_id, blocks)


def _has_decision(fund: SpecialFund) -> bool:
    try:
        return fund.budget_decision is not None
    except BudgetDecision.DoesNotExist:
        return False


def decision_of(fund: SpecialFund) -> BudgetDecision | None:
    return fund.budget_decision if _has_decision(fund) else None


def decisions_total(qs) -> Decimal:
    return qs.aggregate(total=Sum("decided_amount"))["total"] or D("0")


def cached_linkage(fund: SpecialFund) -> Linkage:
    """``linkage_of`` computed once per fund object (the page and its panels share it)."""
    cached = getattr(fund, "_linkage", None)
    if cached is None:
        cached = fund._linkage = linkage_of(fund)
    return cached
