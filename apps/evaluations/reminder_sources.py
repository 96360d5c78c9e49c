"""Open work with a due date, for the reminder sweep (``apps.reminders.sources``): self-evaluations
of open rounds to fill or fix (the unit), to submit (the department), to review (finance).

Like monitoring reports, self-evaluations are created for every fund with an approved target when
finance opens (or re-opens) the round (``services.create_missing_evaluations``): every piece of work
has its row. Key evaluations have their own source (``reminder_sources_key``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from apps.monitoring.reminder_sources import round_work
from apps.orgs.models import WorkStep
from apps.reminders.sources import OpenWork, Party, register
from apps.targets.reminder_sources import Work

from .models import SelfEvaluation, SelfEvaluationRound

SS = SelfEvaluation.Status
STEP = WorkStep.SELF_EVALUATION
SELF_WORK = {
    SS.DRAFT: Work("selfeval.fill", STEP, Party.UNIT, "填报单位自评"),
    SS.RETURNED: Work("selfeval.fill", STEP, Party.UNIT, "修改并重新报送单位自评"),
    SS.DEPT_REVIEW: Work("selfeval.submit", STEP, Party.DEPARTMENT, "审核并报送单位自评"),
    SS.SUBMITTED: Work("selfeval.review", STEP, Party.FINANCE, "财政审核单位自评"),
}


@register("self_evaluation")
def open_self_evaluations(today: date, horizon: int, region_id: int | None = None) -> Iterator[OpenWork]:
    return round_work(
        rows=SelfEvaluation,
        rounds=SelfEvaluationRound.objects.filter(status=SelfEvaluationRound.Status.OPEN),
        work=SELF_WORK,
        url_name="evaluations:self_detail",
        today=today,
        horizon=horizon,
        region_id=region_id,
    )
