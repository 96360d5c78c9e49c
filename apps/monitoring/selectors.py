"""Reads of 双监控 shared by pages, API and exports; warnings computed from the data, never stored."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, Count, DecimalField, F, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.orgs.models import Organization

from . import rules
from .models import IndicatorProgress, KeyMonitoring, MonitoringReport, MonitoringRound

RS = MonitoringReport.Status
SUBMITTED = (RS.SUBMITTED, RS.RECEIVED)
ZERO = Decimal("0")


def executed_of(report: MonitoringReport) -> Decimal | None:
    """The unit's figure, or the treasury's imported one when the unit has not entered it."""
    return report.executed_amount if report.executed_amount is not None else report.imported_executed_amount


def finance_bureau_of(user) -> Organization | None:
    """The finance bureau the user works in (its own organisation or the bureau above its division)."""
    org = user.organization
    if org is None:
        return None
    bureau = org if org.kind == Organization.Kind.FINANCE else org.parent
    return bureau if bureau is not None and bureau.kind == Organization.Kind.FINANCE else None


def _visible_reports(user):
    return MonitoringReport.objects.restrict(user, "monitoring.view").values("pk")


def round_list(*, user, fiscal_year):
    """Rounds of the user's region; the counts are of the reports the user may see."""
    return (
        MonitoringRound.objects.restrict(user, "monitoring.round")
        .filter(fiscal_year=fiscal_year)
        .select_related("organization__region")
        .annotate(
            report_count=Count("reports", filter=Q(reports__in=_visible_reports(user))),
            submitted_count=Count(
                "reports", filter=Q(reports__in=_visible_reports(user), reports__status__in=SUBMITTED)
            ),
        )
        .order_by("organization__region__sort_order", "data_as_of")
    )


def report_list(*, user, round_=None, fiscal_year=None, status: str = "", department=None, q: str = ""):
    # A report's round is always its region's: narrowing to visible rounds first lets the planner
    # start from the round index instead of every report of the year.
    visible_rounds = MonitoringRound.objects.restrict(user, "monitoring.round").values("pk")
    reports = (
        MonitoringReport.objects.restrict(user, "monitoring.view")
        .filter(round__in=visible_rounds)
        .select_related("fund__department", "organization", "round")
    )
    if round_ is not None:
        reports = reports.filter(round=round_)
    if fiscal_year is not None:
        reports = reports.filter(round__fiscal_year=fiscal_year)
    if status == "overdue":
        reports = reports.exclude(status__in=SUBMITTED).filter(round__due_on__lt=timezone.localdate())
    elif status:
        reports = reports.filter(status=status)
    if department is not None:
        reports = reports.filter(fund__department=department)
    if q:
        reports = reports.filter(Q(fund__name__icontains=q) | Q(fund__code__icontains=q))
    return reports.order_by("fund__code", "pk")


@dataclass
class ReportWarnings:
    report: MonitoringReport
    rate: Decimal | None
    warnings: list[rules.Warning]

    @property
    def severity(self) -> int:
        return max((w.severity for w in self.warnings), default=0)


def warnings_for(reports, today=None) -> list[ReportWarnings]:
    """Warnings of already-loaded reports (with ``round`` selected), in one more query."""
    reports = list(reports)
    today = today or timezone.localdate()
    indicators: dict[int, list] = defaultdict(list)
    rows = IndicatorProgress.objects.filter(report__in=[r.pk for r in reports]).order_by().values_list(
        "report_id", "indicator__name", "indicator__comparison", "indicator__target_value", "expected_value",
        "likelihood",
    )  # fmt: skip
    for report_id, name, comparison, target, expected, likelihood in rows:
        indicators[report_id].append((name, comparison, target, expected, likelihood))
    result = []
    for report in reports:
        rate = rules.execution_rate(executed_of(report), report.budget_amount)
        warnings = rules.report_warnings(
            rate=rate,
            as_of=report.round.data_as_of,
            year=report.round.fiscal_year_id,
            tolerance=report.round.tolerance_points,
            indicators=indicators[report.pk],
            submitted=report.status in SUBMITTED,
            due_on=report.round.due_on,
            today=today,
        )
        result.append(ReportWarnings(report, rate, warnings))
    return result


def warning_list(*, user, fiscal_year, department=None, kind: str = ""):
    """Reports in scope with at least one warning, most severe first, as one SQL query (paginate it).

    Behind schedule and overdue are decided from the row (the round's threshold by CASE); the
    indicator risk is the level ``report_save`` keeps on the report. Same rules as
    ``rules.report_warnings``; the messages are computed for one page by ``reports_with_warnings``."""
    today = timezone.localdate()
    money = DecimalField(max_digits=20, decimal_places=2)
    reports = report_list(user=user, fiscal_year=fiscal_year, department=department).order_by()
    rounds = MonitoringRound.objects.restrict(user, "monitoring.round").filter(fiscal_year_id=fiscal_year)
    limit = Case(
        *[
            When(round_id=r.pk, then=Value(rules.elapsed_share(r.data_as_of, r.fiscal_year_id) - r.tolerance_points))
            for r in rounds
        ],
        default=Value(Decimal("-1")),
        output_field=money,
    )
    spent = Coalesce("executed_amount", "imported_executed_amount", output_field=money)
    behind = Q(spent__isnull=False) & Q(spent__lt=F("budget_amount") * F("limit") / 100)
    overdue = ~Q(status__in=SUBMITTED) & Q(round__due_on__lt=today)
    reports = reports.annotate(spent=spent, limit=limit).annotate(
        severity=Case(
            When(behind | Q(indicator_risk=3), then=Value(3)),
            When(Q(indicator_risk=2) | overdue, then=Value(2)),
            default=Value(0),
            output_field=IntegerField(),
        )
    )
    kinds = {
        "behind_schedule": behind,
        "indicator_impossible": Q(indicator_risk=3),
        "indicator_at_risk": Q(indicator_risk=2),
        "overdue": overdue,
    }
    reports = reports.filter(severity__gt=0)
    if kind in kinds:
        reports = reports.filter(kinds[kind])
    return reports.values_list("pk", flat=True).order_by("-severity", "pk")


def reports_with_warnings(report_ids) -> list[ReportWarnings]:
    """The reports of one page of ``warning_list``, in that order, with their warning messages."""
    report_ids = list(report_ids)
    by_id = MonitoringReport.objects.select_related("fund__department", "organization", "round").in_bulk(report_ids)
    return warnings_for([by_id[pk] for pk in report_ids if pk in by_id])


def department_execution(*, user, round_) -> list[dict]:
    """Per department: budget, executed and rate, for the chart against the time schedule (1 query)."""
    money = DecimalField(max_digits=20, decimal_places=2)
    rows = (
        MonitoringReport.objects.restrict(user, "monitoring.view")
        .filter(round=round_)
        .values("fund__department__name")
        .annotate(
            budget=Coalesce(Sum("budget_amount"), ZERO, output_field=money),
            executed=Coalesce(
                Sum(Coalesce("executed_amount", "imported_executed_amount", output_field=money)), ZERO,
                output_field=money,
            ),
            funds=Count("pk"),
        )
        .order_by("fund__department__name")
    )  # fmt: skip
    return [
        {
            "department": row["fund__department__name"],
            "funds": row["funds"],
            "budget": row["budget"],
            "executed": row["executed"],
            "rate": rules.execution_rate(row["executed"], row["budget"]) or ZERO,
        }
        for row in rows
    ]


def payment_flags(fund_ids) -> dict[int, str]:
    """Fund id → the label of a payment-stopping key-monitoring measure (暂缓拨款/停止拨款/收回资金)."""
    labels = dict(KeyMonitoring.Measure.choices)
    return {
        fund_id: labels[measure]
        for fund_id, measure in KeyMonitoring.objects.filter(
            fund_id__in=list(fund_ids), measure__in=KeyMonitoring.PAYMENT_FLAGS
        ).values_list("fund_id", "measure")
    }
