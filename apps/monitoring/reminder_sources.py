"""Open work with a due date, for the reminder sweep (``apps.reminders.sources``): monitoring
reports of open rounds to fill or fix (the unit), to submit (the department), to receive (finance).

Reports are created for every fund with an approved target when finance opens (or re-opens) a round
(``services.create_missing_reports``), so every piece of work has its row: a fund approved after the
round opened has nothing to fill until finance re-opens the round, and is not reminded.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, timedelta

from django.db import models

from apps.orgs.models import WorkStep
from apps.reminders.sources import OpenWork, Party, register
from apps.targets.reminder_sources import Work, url_pattern

from .models import MonitoringReport, MonitoringRound

RS = MonitoringReport.Status
WORK = {
    RS.DRAFT: Work("monitoring.fill", WorkStep.MONITORING, Party.UNIT, "填报监控报告"),
    RS.RETURNED: Work("monitoring.fill", WorkStep.MONITORING, Party.UNIT, "修改并重新报送监控报告"),
    RS.DEPT_REVIEW: Work("monitoring.submit", WorkStep.MONITORING, Party.DEPARTMENT, "审核并报送监控报告"),
    RS.SUBMITTED: Work("monitoring.receive", WorkStep.MONITORING, Party.FINANCE, "接收监控报告"),
}


def round_work(
    *,
    rows: type[models.Model],
    rounds: models.QuerySet,
    work: Mapping[str, Work],
    url_name: str,
    today: date,
    horizon: int,
    region_id: int | None,
) -> Iterator[OpenWork]:
    """The rows (one per fund, owned by the filing unit) of open ``rounds`` due within the horizon,
    whose status waits for someone. Two queries: the rounds, then their rows with the fund."""
    rounds = rounds.filter(due_on__lte=today + timedelta(days=horizon))
    if region_id is not None:
        rounds = rounds.filter(organization__region_id=region_id)
    due = dict(rounds.values_list("pk", "due_on"))
    if not due:
        return
    url = url_pattern(url_name)
    found = rows.objects.filter(round_id__in=list(due), status__in=list(work)).values_list(
        "pk", "status", "round_id", "organization_id", "fund__code", "fund__name", "fund__is_classified"
    )
    for pk, status, round_id, owner_id, code, name, classified in found.iterator(chunk_size=5000):
        w = work[status]
        yield OpenWork(
            model=rows,
            object_id=pk,
            step=w.step,
            action=w.action,
            owner_id=owner_id,  # the row's scope path is its filing unit
            due_on=due[round_id],
            title=f"{w.verb}：{code} {name}",
            url=url.format(pk),
            party=w.party,
            classified=bool(classified),  # a 涉密 fund: e-mail leaves the title out
        )


@register("monitoring")
def open_monitoring_reports(today: date, horizon: int, region_id: int | None = None) -> Iterator[OpenWork]:
    return round_work(
        rows=MonitoringReport,
        rounds=MonitoringRound.objects.filter(status=MonitoringRound.Status.OPEN),
        work=WORK,
        url_name="monitoring:report_detail",
        today=today,
        horizon=horizon,
        region_id=region_id,
    )
