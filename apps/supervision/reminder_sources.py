"""Open work with a due date, for the reminder sweep (``apps.reminders.sources``): a district finance
office's data for the 区市财政运行综合绩效评价 still to fill (填报中) or to correct and resubmit
(已退回), while the evaluation collects or scores and has a due date (``due_on``).

* Who: the holders of ``fiscal.fill`` on the submission — the district's own finance office (its
  region), never another district and not the city. The work waits on a finance bureau, so it does
  not escalate (``Party.FINANCE``).
* When: the evaluation's ``due_on``. A returned submission is due then too, but no sooner than a
  week after it was returned (a late return still leaves time to correct): the date of the latest
  return comes from the audit trail (the ``fiscal_return`` transition), so it stays fixed while the
  district works, and a second return gives a new due date — reminded again, as the due date is
  part of the reminder's key. A returned submission without that audit row (written directly) is
  due on the evaluation's date.
* Submitted or scored: nothing to do for the district (the city's scoring is in its 待办).

One query for the submissions, and one more for the return dates when any is returned.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Max
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.reminders.sources import OpenWork, Party, register
from apps.targets.reminder_sources import url_pattern

from .models import FiscalEvaluation, FiscalSubmission

SStatus = FiscalSubmission.Status
EStatus = FiscalEvaluation.Status
STEP = "fiscal_evaluation"  # the reminder's 业务环节 (label “财政运行评价”)
ACTION = "fiscal.fill"
RESUBMIT_MIN_DAYS = 7  # a returned submission gets at least a week to be corrected (as targets do)
VERBS = {SStatus.DRAFT: "填报财政运行数据", SStatus.RETURNED: "修改并重新报送财政运行数据"}
OPEN_EVALUATIONS = (EStatus.COLLECTING, EStatus.SCORING)


def returned_on(submission_ids: list[int]) -> dict[int, date]:
    """submission id → the (local) day of its latest return by the city, from the audit trail."""
    if not submission_ids:
        return {}
    rows = (
        AuditEvent.objects.filter(
            kind=AuditEvent.Kind.TRANSITION,
            content_type=ContentType.objects.get_for_model(FiscalSubmission),
            object_id__in=[str(pk) for pk in submission_ids],
            changes__status={"from": SStatus.SUBMITTED, "to": SStatus.RETURNED},
        )
        .order_by()
        .values_list("object_id")
        .annotate(at=Max("occurred_at"))
    )
    return {int(object_id): timezone.localdate(at) for object_id, at in rows}


def due_date(evaluation_due: date, returned: date | None) -> date:
    """The evaluation's due date; for a returned submission no sooner than a week after the return."""
    if returned is None:
        return evaluation_due
    return max(evaluation_due, returned + timedelta(days=RESUBMIT_MIN_DAYS))


@register("fiscal_evaluation")
def fiscal_submission_work(today: date, horizon: int, region_id: int | None = None) -> Iterator[OpenWork]:
    limit = today + timedelta(days=horizon)
    rows = FiscalSubmission.objects.filter(
        status__in=list(VERBS),
        evaluation__status__in=OPEN_EVALUATIONS,
        # a returned one is due no sooner than this either: what is beyond the horizon stays in SQL
        evaluation__due_on__lte=limit,
    )
    if region_id is not None:
        rows = rows.filter(region_id=region_id)
    found = list(
        rows.order_by("pk").values_list("pk", "status", "organization_id", "evaluation__due_on", "evaluation__title")
    )
    returns = returned_on([pk for pk, status, *_ in found if status == SStatus.RETURNED])
    url = url_pattern("supervision:fiscal_submission")
    for pk, status, owner_id, evaluation_due, evaluation_title in found:
        due_on = due_date(evaluation_due, returns.get(pk))
        if due_on > limit:
            continue
        yield OpenWork(
            model=FiscalSubmission,
            object_id=pk,
            step=STEP,
            action=ACTION,
            owner_id=owner_id,  # the district finance office (FiscalSubmission's scope path)
            due_on=due_on,
            title=f"{VERBS[status]}：{evaluation_title}",
            url=url.format(pk),
            party=Party.FINANCE,  # a finance bureau's own work: no escalation
        )
