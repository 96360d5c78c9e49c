"""Demo monitoring for ``seed_demo``: the July round of every region with reports in every state,
some behind schedule or at risk, and a few key-monitoring measures in 市本级. Deterministic and
only created when the round does not exist yet."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.orgs.models import FiscalYear, Organization

from . import rules
from .models import IndicatorProgress, KeyMonitoring, MonitoringReport, MonitoringRound
from .services import create_missing_reports

RS = MonitoringReport.Status
# Cycle of (status, execution rate %, first indicator's likelihood) per report.
STORIES = [
    (RS.RECEIVED, 62, "certain"),
    (RS.SUBMITTED, 35, "possible"),  # behind schedule (58.08 − 15 = 43.08) and one indicator at risk
    (RS.DEPT_REVIEW, 55, "certain"),
    (RS.RETURNED, 48, "impossible"),
    (RS.DRAFT, None, ""),  # not filled: overdue after 15 August
    (RS.RECEIVED, 71, "certain"),
]


@transaction.atomic
def seed_monitoring(year: int = 2026) -> int:
    fiscal_year = FiscalYear.objects.get(pk=year)
    created = 0
    now = timezone.now()
    for bureau in Organization.objects.filter(kind=Organization.Kind.FINANCE).exclude(code__startswith="SC"):
        round_, made = MonitoringRound.objects.get_or_create(
            organization=bureau,
            fiscal_year=fiscal_year,
            data_as_of=date(year, 7, 31),
            defaults={"name": f"{year}年绩效运行监控（数据截至7月31日）", "due_on": date(year, 8, 15)},
        )
        if not made:
            continue
        created += 1 + create_missing_reports(round_)
        reports = list(round_.reports.select_related("fund").order_by("fund__code"))
        progress = IndicatorProgress.objects.filter(report__round=round_).select_related("indicator")
        by_report: dict[int, list[IndicatorProgress]] = {}
        for row in progress.order_by("indicator__sort_order"):
            by_report.setdefault(row.report_id, []).append(row)
        for i, report in enumerate(reports):
            status, rate, first_likelihood = STORIES[i % len(STORIES)]
            rng = random.Random(report.fund.code)
            report.status = status
            report.status_changed_at = now - timedelta(days=rng.randint(3, 60))
            if rate is not None:
                report.executed_amount = (report.budget_amount * Decimal(rate) / 100).quantize(Decimal("0.01"))
                report.execution_note = "资金按进度拨付，部分合同尚在履行。"
            if i % 4 == 0:  # the treasury's figure arrived for some
                report.imported_executed_amount = (report.budget_amount * Decimal(rng.randint(30, 70)) / 100).quantize(
                    Decimal("0.01")
                )
                report.imported_at = now - timedelta(days=100)
            if status in (RS.SUBMITTED, RS.RECEIVED):
                report.submitted_at = now - timedelta(days=rng.randint(90, 110))
            if status == RS.RETURNED:
                report.return_comment = "执行进度说明不充分，请补充未执行原因。"
            for n, row in enumerate(by_report.get(report.pk, [])):
                if rate is None:
                    break
                indicator = row.indicator
                likelihood = first_likelihood if n == 0 else "certain"
                row.likelihood = likelihood
                if indicator.comparison == "qualitative":
                    row.progress_text = "按计划推进"
                else:
                    target = indicator.target_value or Decimal("0")
                    row.progress_value = (target * Decimal("0.55")).quantize(Decimal("0.01"))
                    short = likelihood != "certain" and indicator.comparison == "ge"
                    row.expected_value = (target * Decimal("0.8")).quantize(Decimal("0.01")) if short else target
                row.at_risk = rules.at_risk(
                    indicator.comparison, indicator.target_value, row.expected_value, likelihood
                )
                if likelihood != "certain":
                    row.deviation_cause = "funding"
                    row.corrective_measure = "加快资金拨付，调整实施计划。"
            report.indicator_risk = rules.indicator_risk(by_report.get(report.pk, []))
            IndicatorProgress.objects.bulk_update(
                by_report.get(report.pk, []),
                ["progress_value", "expected_value", "progress_text", "likelihood", "deviation_cause",
                 "corrective_measure", "at_risk"],
            )  # fmt: skip
        MonitoringReport.objects.bulk_update(
            reports,
            ["status", "status_changed_at", "executed_amount", "execution_note", "imported_executed_amount",
             "imported_at", "submitted_at", "return_comment", "indicator_risk"],
        )  # fmt: skip
        if bureau.region.is_city:
            created += _key_monitoring(reports, fiscal_year)
    return created


def _key_monitoring(reports, fiscal_year) -> int:
    selector = User.objects.filter(username="perf_admin").first()
    if selector is None:
        return 0
    measures = [
        ("continue", "执行正常，继续执行。"),
        ("suspend", "执行进度严重滞后且指标预计难以完成，暂缓拨付剩余资金。"),
        ("continue", "按期整改后继续执行。"),
        ("", ""),
        ("", ""),
        ("", ""),
    ]
    picked = [r for i, r in enumerate(reports) if i % 6 == 1][: len(measures)]
    now = timezone.now()
    KeyMonitoring.objects.bulk_create(
        [
            KeyMonitoring(
                fund=r.fund,
                fiscal_year=fiscal_year,
                selected_by=selector,
                measure=measure,
                measure_reason=reason,
                measured_by=selector if measure else None,
                measured_at=now if measure else None,
            )
            for r, (measure, reason) in zip(picked, measures, strict=False)
        ]
    )
    return len(picked)
