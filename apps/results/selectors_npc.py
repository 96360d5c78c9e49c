"""Reads of the NPC workbook (报人大): which regions a user may export, and the rows of each sheet.

Every read starts from ``restrict(user, "npc.export")`` (npc_liaison and district finance: their
region; the city's 绩效管理处: every region) and then narrows to the chosen region and year. Each
sheet costs a fixed number of queries whatever the row count: one streamed ``values_list`` query
per table (``.iterator()``, no prefetch) plus a few grouped aggregates for the summary.

What each sheet reads (also printed on the cover and in the user guide):

* 项目绩效目标表 — the funds of the year that finance has arranged in the budget (预算申报状态
  “已安排”), with the target version currently in force (状态“已批复”: the latest approved version;
  an adjustment still under review does not replace it); one row per indicator.
* 财政重点评价结果表 — key evaluations of the finance bureau's plans (类型“财政重点评价”) whose
  评价年度 (the budget year of the evaluated funds) is the chosen year, completed (状态“已完成”).
* 部门整体绩效目标和评价表 — approved department overall targets of the year, with their main tasks
  and amounts, and the department overall evaluation of that year (score and grade once completed).
* 汇总表 — the rows of the two tables above, grouped by department and by grade.

Funds marked 涉密 are left out of every sheet, together with their targets and evaluations.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, DecimalField, Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from apps.core import permissions
from apps.core.permissions import Scope
from apps.evaluations.models import EvaluationPlan, Grade, KeyEvaluation
from apps.funds.models import SpecialFund
from apps.orgs.models import FiscalYear, Region
from apps.targets.models import DepartmentTask, PerformanceTarget, TargetIndicator, TargetStatus

ACTION = "npc.export"
ALL_REGIONS = "all"
ALL_LABEL = "全市（含各区市）"
CITY_PREFIX = "青岛市"
ZERO = Decimal("0")


class ReportSet:
    TARGETS = "targets"
    KEY_EVALUATIONS = "key_evaluations"
    DEPARTMENTS = "departments"
    SUMMARY = "summary"

    choices = [
        (TARGETS, "项目绩效目标表"),
        (KEY_EVALUATIONS, "财政重点评价结果表"),
        (DEPARTMENTS, "部门整体绩效目标和评价表"),
        (SUMMARY, "汇总表（按部门、按评价等级）"),
    ]
    values = [c[0] for c in choices]
    labels = dict(choices)


# --- scope: which region a user may export ------------------------------------------------------


@dataclass(frozen=True)
class NpcScope:
    """One export's region (``None``: the whole city with all districts) and budget year."""

    region: Region | None
    year: int

    @property
    def code(self) -> str:
        return self.region.code if self.region else ALL_REGIONS

    @property
    def region_label(self) -> str:
        return self.region.name if self.region else ALL_LABEL

    @property
    def full_label(self) -> str:
        """青岛市市本级 / 青岛市市南区 / 青岛市全市（含各区市）."""
        return f"{CITY_PREFIX}{self.region_label}"

    @property
    def all_regions(self) -> bool:
        return self.region is None


def export_regions(user) -> list[tuple[str, str]]:
    """The region choices of ``user``: ``[]`` without ``npc.export``; their own region for a
    region-scoped role; every region plus “全市（含各区市）” for a role with the whole city."""
    scopes = permissions.user_scopes(user, ACTION)
    if not scopes:
        return []
    if Scope.ALL in scopes:
        regions = list(Region.objects.order_by("sort_order", "code"))
        return [(ALL_REGIONS, ALL_LABEL)] + [(r.code, r.name) for r in regions]
    org = getattr(user, "organization", None)
    if Scope.REGION in scopes and org is not None:
        return [(org.region.code, org.region.name)]
    return []


def resolve_scope(user, *, region: str, year: int) -> NpcScope:
    """The export scope for the chosen region code and year, or ``PermissionDenied`` (role without
    ``npc.export``, or a region outside the user's scope) / ``ValidationError`` (unknown year)."""
    if not permissions.has_action(user, ACTION):
        raise PermissionDenied("您的角色无权导出报人大报表。")
    allowed = {code for code, _ in export_regions(user)}
    if region not in allowed:
        raise PermissionDenied("您只能导出本区域的报人大报表，不能导出其他区域或全市的数据。")
    if not FiscalYear.objects.filter(year=year).exists():
        raise ValidationError({"year": f"预算年度“{year}”不存在，请选择系统中已有的年度。"})
    region_obj = None if region == ALL_REGIONS else Region.objects.get(code=region)
    return NpcScope(region=region_obj, year=int(year))


# --- row sources (one query each) ----------------------------------------------------------------

AMOUNT = DecimalField(max_digits=20, decimal_places=2)


def _in_region(scope: NpcScope, path: str) -> Q:
    return Q() if scope.region is None else Q(**{f"{path}_id": scope.region.pk})


def _approved_fund_target_q(scope: NpcScope, prefix: str = "") -> Q:
    """Fund targets reported to the NPC: approved, of the year, fund arranged and not 涉密."""
    return Q(
        **{
            f"{prefix}kind": PerformanceTarget.Kind.FUND,
            f"{prefix}status": TargetStatus.APPROVED,
            f"{prefix}fiscal_year_id": scope.year,
            f"{prefix}fund__request_status": SpecialFund.RequestStatus.ARRANGED,
            f"{prefix}fund__is_classified": False,
        }
    )


TARGET_ROW_FIELDS = (
    "target_id",
    "target__fund__region__name",
    "target__fund__code",
    "target__fund__name",
    "target__fund__department__name",
    "target__fund__organization__name",
    "target__fund__fiscal_amount",
    "target__fund__other_amount",
    "target__annual_goal",
    "level1",
    "level2",
    "name",
    "comparison",
    "target_value",
    "target_text",
    "unit",
    "weight",
)


def target_indicator_rows(user, scope: NpcScope):
    """项目绩效目标表: one tuple (``TARGET_ROW_FIELDS``) per indicator, by region, fund code, row order."""
    return (
        permissions.restrict(TargetIndicator.objects.all(), user, ACTION)
        .filter(_approved_fund_target_q(scope, "target__"), _in_region(scope, "target__fund__region"))
        .order_by("target__fund__region__sort_order", "target__fund__code", "target_id", "sort_order", "id")
        .values_list(*TARGET_ROW_FIELDS)
    )


KEY_ROW_FIELDS = (
    "fund__region__name",
    "fund__code",
    "fund__name",
    "department__name",
    "fund__fiscal_amount",
    "fund__other_amount",
    "score",
    "grade",
    "findings",
    "recommendations",
    "agency__name",
    "completed_at",
)


def _key_evaluations(user, scope: NpcScope):
    return KeyEvaluation.objects.restrict(user, ACTION).filter(
        _in_region(scope, "fund__region"),
        plan__kind=EvaluationPlan.Kind.FINANCE,
        plan__fiscal_year_id=scope.year,
        subject=KeyEvaluation.Subject.FUND,
        status=KeyEvaluation.Status.COMPLETED,
        fund__is_classified=False,
    )


def key_evaluation_rows(user, scope: NpcScope):
    """财政重点评价结果表: one tuple (``KEY_ROW_FIELDS``) per completed finance key evaluation."""
    return (
        _key_evaluations(user, scope)
        .order_by("fund__region__sort_order", "fund__code", "id")
        .values_list(*KEY_ROW_FIELDS)
    )


@dataclass
class DepartmentRow:
    region: str
    department: str
    long_term_goal: str
    annual_goal: str
    indicator_count: int
    tasks: list[tuple[str, Decimal]] = field(default_factory=list)
    evaluation_status: str = "未列入部门整体评价"
    score: Decimal | None = None
    grade: str = ""
    findings: str = ""
    recommendations: str = ""

    @property
    def task_amount(self) -> Decimal:
        return sum((amount for _, amount in self.tasks), ZERO)


def department_rows(user, scope: NpcScope) -> list[DepartmentRow]:
    """部门整体绩效目标和评价表: approved department targets of the year with their tasks and the
    department overall evaluation (three queries; a region has at most a few hundred departments)."""
    indicator_count = (
        TargetIndicator.objects.filter(target=OuterRef("pk"))
        .order_by()
        .values("target")
        .annotate(n=Count("id"))
        .values("n")
    )
    targets = (
        PerformanceTarget.objects.restrict(user, ACTION)
        .filter(
            _in_region(scope, "organization__region"),
            kind=PerformanceTarget.Kind.DEPARTMENT,
            status=TargetStatus.APPROVED,
            fiscal_year_id=scope.year,
        )
        .annotate(indicator_count=Coalesce(Subquery(indicator_count), Value(0)))
        .order_by("organization__region__sort_order", "organization__path")
        .values_list(
            "pk",
            "organization_id",
            "organization__region__name",
            "organization__name",
            "long_term_goal",
            "annual_goal",
            "indicator_count",
        )
    )
    rows: dict[int, DepartmentRow] = {}
    by_department: dict[int, DepartmentRow] = {}
    for pk, org_id, region, name, long_goal, annual_goal, n in targets:
        rows[pk] = by_department[org_id] = DepartmentRow(region, name, long_goal, annual_goal, n)
    if not rows:
        return []
    tasks = (
        permissions.restrict(DepartmentTask.objects.all(), user, ACTION)
        .filter(target_id__in=list(rows))
        .order_by("target_id", "sort_order", "id")
        .values_list("target_id", "name", "amount")
    )
    for target_id, name, amount in tasks:
        rows[target_id].tasks.append((name, amount))
    evaluations = (
        KeyEvaluation.objects.restrict(user, ACTION)
        .filter(
            subject=KeyEvaluation.Subject.DEPARTMENT,
            plan__fiscal_year_id=scope.year,
            department_id__in=list(by_department),
        )
        .order_by("department_id", "completed_at", "id")
        .values_list("department_id", "status", "score", "grade", "findings", "recommendations")
    )
    status_labels = dict(KeyEvaluation.Status.choices)
    for dept_id, status, score, grade, findings, recommendations in evaluations:
        row = by_department[dept_id]
        if row.evaluation_status == status_labels[KeyEvaluation.Status.COMPLETED]:
            continue  # a completed evaluation is the one to report
        row.evaluation_status = status_labels.get(status, status)
        if status == KeyEvaluation.Status.COMPLETED:
            row.score, row.grade = score, grade
            row.findings, row.recommendations = findings, recommendations
    return list(rows.values())


# --- summary (grouped aggregates) ----------------------------------------------------------------

GRADES = [g for g, _ in Grade.choices]  # 优 良 中 差, best first


@dataclass
class DepartmentSummary:
    region: str
    department: str
    sort_key: tuple
    target_funds: int = 0
    indicators: int = 0
    target_amount: Decimal = ZERO
    evaluated: int = 0
    evaluated_amount: Decimal = ZERO
    grades: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GRADES, 0))


@dataclass
class GradeSummary:
    grade: str
    label: str
    count: int = 0
    amount: Decimal = ZERO


def summary(user, scope: NpcScope) -> tuple[list[DepartmentSummary], list[GradeSummary]]:
    """汇总表: per department (targets reported and key evaluations by grade) and per grade; three
    grouped queries over the same rows as the two detail sheets."""
    approved = PerformanceTarget.objects.filter(fund=OuterRef("pk")).filter(_approved_fund_target_q(scope))
    funds = (
        SpecialFund.objects.restrict(user, ACTION)
        .filter(_in_region(scope, "region"), Exists(approved))
        .order_by()
        .values("department_id", "department__name", "department__path", "region__name", "region__sort_order")
        .annotate(n=Count("id"), amount=Sum(F("fiscal_amount") + F("other_amount"), output_field=AMOUNT))
    )
    indicators = (
        permissions.restrict(TargetIndicator.objects.all(), user, ACTION)
        .filter(_approved_fund_target_q(scope, "target__"), _in_region(scope, "target__fund__region"))
        .order_by()
        .values("target__fund__department_id")
        .annotate(n=Count("id"))
    )
    evaluations = (
        _key_evaluations(user, scope)
        .order_by()
        .values(
            "department_id",
            "department__name",
            "department__path",
            "fund__region__name",
            "fund__region__sort_order",
            "grade",
        )
        .annotate(n=Count("id"), amount=Sum(F("fund__fiscal_amount") + F("fund__other_amount"), output_field=AMOUNT))
    )
    departments: dict[int, DepartmentSummary] = {}

    def dept(row, region: str) -> DepartmentSummary:
        """The row's department (``region``: the lookup path to its region, ``region`` or ``fund__region``)."""
        pk = row["department_id"]
        if pk not in departments:
            departments[pk] = DepartmentSummary(
                row[f"{region}__name"], row["department__name"], (row[f"{region}__sort_order"], row["department__path"])
            )
        return departments[pk]

    for row in funds:
        d = dept(row, "region")
        d.target_funds, d.target_amount = row["n"], row["amount"] or ZERO
    counts = {row["target__fund__department_id"]: row["n"] for row in indicators}
    for pk, d in departments.items():
        d.indicators = counts.get(pk, 0)
    labels = dict(Grade.choices)
    grades = {g: GradeSummary(g, labels[g]) for g in GRADES}
    for row in evaluations:
        d = dept(row, "fund__region")
        amount = row["amount"] or ZERO
        d.evaluated += row["n"]
        d.evaluated_amount += amount
        grade = row["grade"]
        if grade in d.grades:
            d.grades[grade] += row["n"]
            grades[grade].count += row["n"]
            grades[grade].amount += amount
    ordered = sorted(departments.values(), key=lambda d: d.sort_key)
    return ordered, [grades[g] for g in GRADES]


def row_counts(user, scope: NpcScope, sets: list[str]) -> dict[str, int]:
    """Rows each chosen detail sheet will have (for the progress bar): one COUNT per sheet."""
    counts = defaultdict(int)
    if ReportSet.TARGETS in sets:
        counts[ReportSet.TARGETS] = target_indicator_rows(user, scope).order_by().count()
    if ReportSet.KEY_EVALUATIONS in sets:
        counts[ReportSet.KEY_EVALUATIONS] = _key_evaluations(user, scope).count()
    return dict(counts)


def classified_count(user, scope: NpcScope) -> int:
    """涉密 funds left out: those that would otherwise appear in the target or key-evaluation sheet."""
    approved = PerformanceTarget.objects.filter(
        fund=OuterRef("pk"),
        kind=PerformanceTarget.Kind.FUND,
        status=TargetStatus.APPROVED,
        fiscal_year_id=scope.year,
    )
    evaluated = KeyEvaluation.objects.filter(
        fund=OuterRef("pk"),
        plan__kind=EvaluationPlan.Kind.FINANCE,
        plan__fiscal_year_id=scope.year,
        status=KeyEvaluation.Status.COMPLETED,
    )
    return (
        SpecialFund.objects.restrict(user, ACTION)
        .filter(_in_region(scope, "region"), is_classified=True)
        .filter(Q(Exists(approved), request_status=SpecialFund.RequestStatus.ARRANGED) | Q(Exists(evaluated)))
        .count()
    )
