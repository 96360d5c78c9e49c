"""Reads of the special-area summaries (专项领域: 政府投资基金, PPP, 政府采购, 政府购买服务, 政府债务).

Every figure starts from ``SpecialFund.objects.restrict(user, "area.view")``: a department counts only
its own (and its units') funds, a district finance office its region, the city's performance division
and the finance leader every region. Targets, monitoring reports and evaluations enter only through
those funds.

Per fund (one row of a fund-year):

* 目标已报送: a version of its target went to finance (in 业务处室/绩效处 review, approved or
  superseded by an adjustment); 目标已批复: a version is approved;
* 监控预警: the monitoring reports of the fund (its year's rounds) with a deviation warning — the
  execution rate behind the time schedule beyond the round's tolerance, or an indicator at risk or
  impossible (``apps.monitoring.rules``; an overdue report is a reminder, not a deviation);
* 评价等级: the grade of its completed key evaluation (a finance key evaluation before the
  department's own, then the latest), else of its finance-confirmed self-evaluation (finance's
  adjusted grade when there is one) — the same choice as 预算挂钩 (``selectors_linkage``).

The summary is **one query** whatever the number of funds and regions: the funds grouped by region,
the five area flags, target state and grade, each group carrying its count, budget and warnings;
Python folds the groups into the area × region table (a fund flagged in two areas counts in both;
the totals row counts each fund once)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf

from apps.core import permissions
from apps.evaluations.models import EvaluationPlan, Grade, KeyEvaluation, SelfEvaluation
from apps.funds.models import SPECIAL_AREAS, SpecialFund
from apps.funds.selectors import with_target_state
from apps.monitoring import rules
from apps.monitoring.models import MonitoringReport, MonitoringRound
from apps.orgs.models import Region
from apps.targets.models import PerformanceTarget, TargetStatus

ACTION = "area.view"
ZERO = Decimal("0")
MONEY = DecimalField(max_digits=20, decimal_places=2)

# URL slug → (SpecialFund flag, label), in the order of ``SPECIAL_AREAS``.
AREAS: dict[str, tuple[str, str]] = {flag.removeprefix("is_"): (flag, label) for flag, label in SPECIAL_AREAS}
FLAGS = [flag for flag, _ in SPECIAL_AREAS]
GRADES = [(g.value, g.label) for g in Grade]  # 优, 良, 中, 差
FILED_STATUSES = (TargetStatus.SECTOR_REVIEW, TargetStatus.PERF_REVIEW, TargetStatus.APPROVED, TargetStatus.SUPERSEDED)
GRADE_BASIS = (
    "评价等级：有已完成的重点评价的，取重点评价等级（财政重点评价优先于部门评价）；"
    "否则取经财政审核的单位自评等级（财政调整过的取调整后等级）。"
)
WARNING_BASIS = "监控预警：当年监控报告中预算执行进度偏差（低于时间进度超过容差）或绩效指标预计难以完成的报告数。"
TARGET_BASIS = "目标已报送：绩效目标已报送财政（审核中或已批复）；目标已批复：有已批复的版本。"


class UnknownArea(LookupError):
    """Not one of the five special areas."""


def area_of(slug: str) -> tuple[str, str]:
    """(flag, label) of an area slug such as ``"ppp"``; ``UnknownArea`` otherwise."""
    try:
        return AREAS[slug]
    except KeyError:
        raise UnknownArea(slug) from None


def visible_regions(user) -> list[Region]:
    """The regions whose figures the user may read: every region for city-wide readers, else its own."""
    if permissions.Scope.ALL in permissions.user_scopes(user, ACTION):
        return list(Region.objects.order_by("sort_order", "code"))
    org = user.organization
    return [org.region] if org is not None else []


# --- per-fund figures (annotations) ---------------------------------------------------------------


def _deviation_reports(fiscal_year: int):
    """Monitoring reports with a deviation warning (the rule of ``monitoring.selectors.warning_list``).

    The schedule threshold of each round (elapsed share − tolerance) is a CASE over the year's
    rounds — parameters of the rule, read once; the reports themselves are reached only through the
    funds in scope."""
    rounds = MonitoringRound.objects.filter(fiscal_year_id=fiscal_year).only("pk", "data_as_of", "tolerance_points")
    limit = Case(
        *[
            When(round_id=r.pk, then=Value(rules.elapsed_share(r.data_as_of, fiscal_year) - r.tolerance_points))
            for r in rounds
        ],
        default=Value(Decimal("-1")),
        output_field=MONEY,
    )
    spent = Coalesce("executed_amount", "imported_executed_amount", output_field=MONEY)
    behind = Q(spent__isnull=False) & Q(spent__lt=F("budget_amount") * F("limit") / 100)
    return (
        MonitoringReport.objects.annotate(spent=spent, limit=limit).filter(behind | Q(indicator_risk__gt=0)).order_by()
    )


def _key_grade():
    ranked = Case(When(plan__kind=EvaluationPlan.Kind.FINANCE, then=Value(0)), default=Value(1))
    return (
        KeyEvaluation.objects.filter(
            fund=OuterRef("pk"), subject=KeyEvaluation.Subject.FUND, status=KeyEvaluation.Status.COMPLETED
        )
        .exclude(grade="")
        .annotate(rank=ranked)
        .order_by("rank", F("completed_at").desc(nulls_last=True), "-pk")
        .values("grade")[:1]
    )


def _self_grade():
    final = Coalesce(NullIf("adjusted_grade", Value("")), NullIf("grade", Value("")), output_field=CharField())
    return (
        SelfEvaluation.objects.filter(fund=OuterRef("pk"), status=SelfEvaluation.Status.CONFIRMED)
        .annotate(final=final)
        .filter(final__isnull=False)
        .order_by("-round__fiscal_year_id", "-pk")
        .values("final")[:1]
    )


def with_area_figures(funds: QuerySet, fiscal_year: int) -> QuerySet:
    """Annotate funds with ``target_filed``, ``target_approved``, ``warning_count``, ``key_grade``,
    ``self_grade`` and ``area_grade`` (the grade that counts)."""
    # A target carries its fund's year: narrowing to it keeps PostgreSQL's hashed EXISTS to one year.
    targets = PerformanceTarget.objects.filter(fund=OuterRef("pk"), fiscal_year_id=fiscal_year)
    warnings = (
        _deviation_reports(fiscal_year).filter(fund=OuterRef("pk")).values("fund").annotate(n=Count("pk")).values("n")
    )
    return funds.annotate(
        target_filed=Exists(targets.filter(status__in=FILED_STATUSES)),
        target_approved=Exists(targets.filter(status=TargetStatus.APPROVED)),
        warning_count=Coalesce(Subquery(warnings, output_field=IntegerField()), Value(0)),
        key_grade=Subquery(_key_grade(), output_field=CharField()),
        self_grade=Subquery(_self_grade(), output_field=CharField()),
    ).annotate(area_grade=Coalesce("key_grade", "self_grade", Value(""), output_field=CharField()))


def area_funds(*, user, fiscal_year: int) -> QuerySet:
    """The year's funds in scope flagged in at least one special area."""
    any_area = Q()
    for flag in FLAGS:
        any_area |= Q(**{flag: True})
    return SpecialFund.objects.restrict(user, ACTION).filter(any_area, fiscal_year_id=fiscal_year)


# --- the summary ----------------------------------------------------------------------------------


@dataclass
class Figures:
    funds: int = 0
    budget: Decimal = ZERO
    filed: int = 0
    approved: int = 0
    warnings: int = 0
    grades: dict[str, int] = field(default_factory=lambda: {g: 0 for g, _ in GRADES})

    def add(self, group: dict) -> None:
        self.funds += group["n"]
        self.budget += group["budget"] or ZERO
        self.filed += group["n"] if group["target_filed"] else 0
        self.approved += group["n"] if group["target_approved"] else 0
        self.warnings += group["warnings"] or 0
        if group["area_grade"] in self.grades:
            self.grades[group["area_grade"]] += group["n"]

    @property
    def graded(self) -> int:
        return sum(self.grades.values())

    @property
    def ungraded(self) -> int:
        return self.funds - self.graded

    @property
    def grade_list(self) -> list[tuple[str, str, int]]:
        return [(g, label, self.grades[g]) for g, label in GRADES]

    def as_dict(self) -> dict:
        return {
            "funds": self.funds,
            "budget": self.budget,
            "targets_filed": self.filed,
            "targets_approved": self.approved,
            "warnings": self.warnings,
            **{f"grade_{g}": n for g, n in self.grades.items()},
            "ungraded": self.ungraded,
        }


@dataclass
class RegionLine:
    region: Region
    figures: Figures


@dataclass
class AreaBlock:
    slug: str
    flag: str
    label: str
    total: Figures
    regions: list[RegionLine]


@dataclass
class Summary:
    fiscal_year: int
    regions: list[Region]
    areas: list[AreaBlock]
    total: Figures  # each fund once, whatever the number of its areas

    @property
    def city_wide(self) -> bool:
        return len(self.regions) > 1


def area_summary(*, user, fiscal_year: int) -> Summary:
    """The area × region table of the year for ``user`` (one query for the figures, one for regions)."""
    regions = visible_regions(user)
    groups = (
        with_area_figures(area_funds(user=user, fiscal_year=fiscal_year), fiscal_year)
        .values("region_id", *FLAGS, "target_filed", "target_approved", "area_grade")
        .annotate(
            n=Count("pk"),
            budget=Sum(F("fiscal_amount") + F("other_amount"), output_field=MONEY),
            warnings=Sum("warning_count"),
        )
        .order_by()
    )
    by_cell: dict[tuple[str, int], Figures] = {}
    totals = {flag: Figures() for flag in FLAGS}
    total = Figures()
    for group in groups:
        total.add(group)
        for flag in FLAGS:
            if group[flag]:
                totals[flag].add(group)
                by_cell.setdefault((flag, group["region_id"]), Figures()).add(group)
    blocks = [
        AreaBlock(
            slug=slug,
            flag=flag,
            label=label,
            total=totals[flag],
            regions=[RegionLine(r, by_cell.get((flag, r.pk)) or Figures()) for r in regions],
        )
        for slug, (flag, label) in AREAS.items()
    ]
    return Summary(fiscal_year=fiscal_year, regions=regions, areas=blocks, total=total)


# --- one area's funds -----------------------------------------------------------------------------


def area_fund_list(*, user, fiscal_year: int, area: str, region_id: int | None = None) -> QuerySet:
    """The funds of one area (``UnknownArea`` for a wrong slug), with their figures; paginate it."""
    flag, _ = area_of(area)
    funds = SpecialFund.objects.restrict(user, ACTION).filter(fiscal_year_id=fiscal_year, **{flag: True})
    if region_id is not None:
        funds = funds.filter(region_id=region_id)
    funds = funds.select_related("department", "organization", "region")
    return with_area_figures(with_target_state(funds), fiscal_year).order_by(
        "region__sort_order", "department__path", "code", "pk"
    )


def grade_label(grade: str) -> str:
    return Grade(grade).label if grade in Grade.values else ""
