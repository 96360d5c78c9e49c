"""Reads of 双监控 shared by pages, API and exports; warnings computed from the data, never stored."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    Q,
    Sum,
)
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


def warning_list(*, user, fiscal_year, department=None, kind: str = "") -> list[int]:
    """Ids of the reports in scope with at least one warning, most severe first.

    Decided over plain values in three queries whatever the number of reports (the per-report
    EXISTS of a SQL-only version cost half a second at 8,000 reports); the messages are then
    computed for one page with ``reports_with_warnings``. Same rules as ``rules.report_warnings``."""
    today = timezone.localdate()
    reports = report_list(user=user, fiscal_year=fiscal_year, department=department).order_by()
    rows = list(
        reports.values_list("pk", "status", "budget_amount", "executed_amount", "imported_executed_amount", "round_id")
    )
    if not rows:
        return []
    rounds = {
        r.pk: (rules.elapsed_share(r.data_as_of, r.fiscal_year_id) - r.tolerance_points, r.due_on)
        for r in MonitoringRound.objects.filter(pk__in={row[5] for row in rows})
    }
    # The visible ids as a literal list: cheaper for PostgreSQL than re-joining the scope subquery.
    progress = IndicatorProgress.objects.filter(report_id__in=[row[0] for row in rows]).order_by()
    impossible, at_risk = set(), set()
    flagged = progress.filter(Q(likelihood="impossible") | Q(at_risk=True))
    for report_id, likelihood in flagged.values_list("report_id", "likelihood"):
        (impossible if likelihood == "impossible" else at_risk).add(report_id)
    ranked = []
    for pk, status, budget, executed, imported, round_id in rows:
        limit, due_on = rounds[round_id]
        spent = executed if executed is not None else imported
        flags = {
            "behind_schedule": spent is not None and bool(budget) and spent * 100 < budget * limit,
            "indicator_impossible": pk in impossible,
            "indicator_at_risk": pk in at_risk and pk not in impossible,
            "overdue": status not in SUBMITTED and today > due_on,
        }
        if kind and not flags.get(kind):
            continue
        severity = 3 if flags["behind_schedule"] or flags["indicator_impossible"] else 2 if any(flags.values()) else 0
        if severity:
            ranked.append((-severity, pk))
    return [pk for _, pk in sorted(ranked)]


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
