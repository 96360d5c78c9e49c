"""Reads of 单位自评 shared by the pages, the API and the to-do list; always from ``restrict``."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q
from django.utils import timezone

from apps.monitoring.models import IndicatorProgress, MonitoringReport
from apps.monitoring.selectors import executed_of
from apps.monitoring.selectors import finance_bureau_of as finance_bureau_of  # re-exported for the views

from . import scoring
from .models import Grade, SelfEvaluation, SelfEvaluationLine, SelfEvaluationRound

SS = SelfEvaluation.Status
WITH_FINANCE = (SS.SUBMITTED, SS.CONFIRMED)
HUNDRED = Decimal("100")


def final_grade_q(grade: str, prefix: str = "") -> Q:
    """Rows whose final grade (finance's adjusted grade, else the computed one) is ``grade``."""
    return Q(**{f"{prefix}adjusted_grade": grade}) | Q(**{f"{prefix}adjusted_grade": "", f"{prefix}grade": grade})


def _visible(user):
    return SelfEvaluation.objects.restrict(user, "selfeval.view").values("pk")


def round_list(*, user, fiscal_year=None):
    """Rounds of the user's region; the counts are of the evaluations the user may see."""
    visible = _visible(user)
    rounds = (
        SelfEvaluationRound.objects.restrict(user, "selfeval.round")
        .select_related("organization__region")
        .annotate(
            evaluation_count=Count("evaluations", filter=Q(evaluations__in=visible)),
            submitted_count=Count(
                "evaluations", filter=Q(evaluations__in=visible, evaluations__status__in=WITH_FINANCE)
            ),
            confirmed_count=Count("evaluations", filter=Q(evaluations__in=visible, evaluations__status=SS.CONFIRMED)),
        )
    )
    if fiscal_year is not None:
        rounds = rounds.filter(fiscal_year=fiscal_year)
    return rounds.order_by("-fiscal_year", "organization__region__sort_order", "pk")


def evaluation_list(
    *,
    user,
    round_=None,
    fiscal_year=None,
    status: str = "",
    grade: str = "",
    department=None,
    q: str = "",
    action: str = "selfeval.view",
):
    """Self-evaluations in scope, filtered; one query for a page (fund, department, unit, round)."""
    visible_rounds = SelfEvaluationRound.objects.restrict(user, "selfeval.round").values("pk")
    rows = (
        SelfEvaluation.objects.restrict(user, action)
        .filter(round__in=visible_rounds)
        .select_related("fund__department", "organization", "round")
    )
    if round_ is not None:
        rows = rows.filter(round=round_)
    if fiscal_year is not None:
        rows = rows.filter(round__fiscal_year=fiscal_year)
    if status == "overdue":
        rows = rows.filter(status__in=(SS.DRAFT, SS.RETURNED), round__due_on__lt=timezone.localdate())
    elif status:
        rows = rows.filter(status=status)
    if grade == "none":
        rows = rows.filter(grade="", adjusted_grade="")
    elif grade:
        rows = rows.filter(final_grade_q(grade))
    if department is not None:
        rows = rows.filter(fund__department=department)
    if q:
        rows = rows.filter(Q(fund__name__icontains=q) | Q(fund__code__icontains=q))
    return rows.order_by("fund__code", "pk")


@dataclass
class Counts:
    total: int
    statuses: list[tuple[str, str, int]]
    grades: list[tuple[str, str, int]]
    ungraded: int
    adjusted: int


def round_counts(*, user, round_) -> Counts:
    """How many evaluations (visible to the user) are in each status and final grade: one query."""
    aggregates = {"total": Count("pk"), "ungraded": Count("pk", filter=Q(grade="", adjusted_grade=""))}
    aggregates["adjusted"] = Count("pk", filter=Q(adjusted_score__isnull=False))
    for code in SS.values:
        aggregates[f"status_{code}"] = Count("pk", filter=Q(status=code))
    for code in Grade.values:
        aggregates[f"grade_{code}"] = Count("pk", filter=final_grade_q(code))
    row = SelfEvaluation.objects.restrict(user, "selfeval.view").filter(round=round_).aggregate(**aggregates)
    return Counts(
        total=row["total"],
        statuses=[(code, label, row[f"status_{code}"]) for code, label in SS.choices],
        grades=[(code, label, row[f"grade_{code}"]) for code, label in Grade.choices],
        ungraded=row["ungraded"],
        adjusted=row["adjusted"],
    )


def evaluation_lines(evaluation: SelfEvaluation) -> list[SelfEvaluationLine]:
    """The lines in form order with their indicators (one query)."""
    return list(
        SelfEvaluationLine.objects.filter(evaluation=evaluation)
        .select_related("indicator")
        .order_by("indicator__sort_order", "indicator_id")
    )


# --- the score breakdown ---------------------------------------------------------------------


@dataclass
class BreakdownRow:
    item: scoring.Line
    line: SelfEvaluationLine | None  # None for the 预算执行率 line


@dataclass
class BreakdownGroup:
    category: scoring.Category
    rows: list[BreakdownRow] = field(default_factory=list)


def breakdown(result: scoring.Result, lines: list[SelfEvaluationLine]) -> list[BreakdownGroup]:
    """The result's lines grouped under their categories, each with its evaluation line."""
    by_pk = {line.pk: line for line in lines}
    groups = {c.code: BreakdownGroup(c) for c in result.categories}
    for item in result.lines:
        groups[item.category].rows.append(BreakdownRow(item, by_pk.get(item.key)))
    return list(groups.values())


def execution_rate(evaluation: SelfEvaluation) -> Decimal | None:
    if evaluation.executed_amount is None or not evaluation.budget_amount:
        return None
    return (evaluation.executed_amount / evaluation.budget_amount * HUNDRED).quantize(scoring.CENT)


# --- the last monitoring report, for reference ------------------------------------------------


@dataclass
class MonitoringReference:
    report: MonitoringReport
    executed: Decimal | None
    by_indicator: dict[int, IndicatorProgress]
    by_name: dict[str, IndicatorProgress]

    def for_line(self, line: SelfEvaluationLine) -> IndicatorProgress | None:
        """The progress row of the same indicator (matched by name if the target was adjusted since)."""
        return self.by_indicator.get(line.indicator_id) or self.by_name.get(line.indicator.name)


def monitoring_reference(*, user, evaluation: SelfEvaluation) -> MonitoringReference | None:
    """The fund's last monitoring report the user may read, with its indicator progress (2 queries)."""
    report = (
        MonitoringReport.objects.restrict(user, "monitoring.view")
        .filter(fund_id=evaluation.fund_id)
        .select_related("round")
        .order_by("-round__data_as_of", "-pk")
        .first()
    )
    if report is None:
        return None
    progress = list(IndicatorProgress.objects.filter(report=report).select_related("indicator"))
    return MonitoringReference(
        report=report,
        executed=executed_of(report),
        by_indicator={p.indicator_id: p for p in progress},
        by_name={p.indicator.name: p for p in progress},
    )
