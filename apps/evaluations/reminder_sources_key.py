"""Key evaluations (财政重点评价 / 部门评价) as open work for the reminder sweep.

In an issued plan (whatever the year's books say: year N is evaluated in N+1, after it may have
been closed; a plan is done when finance 办结 it), an evaluation still to be scored (待评价/评价中) waits on
whoever conducts it — finance or the department, and the agency staff and experts assigned to it
(their object permission: ``RecipientIndex`` finds them from the model and id) — and a submitted one
(待审定) on whoever completes it. Neither the plan nor the evaluation carries a deadline of its own:
the due date is the region's work-calendar entry of the plan's year for the plan's kind. One query,
the due date a correlated subquery, so nothing beyond the horizon leaves the database.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Case, OuterRef, Subquery, Value, When
from django.urls import reverse

from apps.orgs.models import Organization, WorkCalendar
from apps.reminders.sources import OpenWork, Party, register

from .models import EvaluationPlan, KeyEvaluation
from .todo_key import STEPS  # plan kind → the work-calendar step its due date comes from

Kind = EvaluationPlan.Kind
KS = KeyEvaluation.Status

# status → (action verb, what the person is asked to do)
WORK = {
    KS.PLANNED: ("conduct", "开展{kind}"),
    KS.IN_PROGRESS: ("conduct", "开展{kind}"),
    KS.SUBMITTED: ("complete", "审定{kind}结果"),
}
# Finance's own evaluations do not escalate; a department's escalate like its other work.
PARTIES = {Kind.FINANCE: Party.FINANCE, Kind.DEPARTMENT: Party.DEPARTMENT}
KIND_LABELS = dict(Kind.choices)


def _calendar_due():
    """The due date of the evaluation's plan kind in its department's region and the plan's year."""
    return Subquery(
        WorkCalendar.objects.filter(
            organization__kind=Organization.Kind.FINANCE,
            organization__region_id=OuterRef("department__region_id"),
            fiscal_year_id=OuterRef("plan__fiscal_year_id"),
            step=OuterRef("calendar_step"),
        ).values("due_on")[:1]
    )


def _title(row: dict) -> str:
    verb = WORK[row["status"]][1].format(kind=KIND_LABELS[row["plan__kind"]])
    subject = (
        f"{row['fund__code']} {row['fund__name']}" if row["fund__code"] else f"{row['department__name']}部门整体评价"
    )
    return f"{verb}：{row['plan__fiscal_year_id']}年度 {subject}"


@register("key_evaluations")
def key_evaluation_work(today: date, horizon: int, region_id: int | None = None) -> list[OpenWork]:
    rows = (
        KeyEvaluation.objects.filter(
            status__in=list(WORK),
            plan__status=EvaluationPlan.Status.ISSUED,
        )
        .annotate(calendar_step=Case(*(When(plan__kind=kind, then=Value(step)) for kind, step in STEPS.items())))
        .annotate(due=_calendar_due())
        .filter(due__lte=today + timedelta(days=horizon))
    )
    if region_id is not None:
        rows = rows.filter(department__region_id=region_id)
    found = []
    for row in rows.order_by("pk").values(
        "pk", "status", "plan__kind", "plan__fiscal_year_id", "department_id", "department__name",
        "fund__code", "fund__name", "fund__is_classified", "due",
    ):  # fmt: skip
        kind = row["plan__kind"]
        found.append(
            OpenWork(
                model=KeyEvaluation,
                object_id=row["pk"],
                step=str(STEPS[kind]),
                action=f"evaluation.{WORK[row['status']][0]}_{kind}",
                owner_id=row["department_id"],  # KeyEvaluation.scope_path == "department"
                due_on=row["due"],
                title=_title(row),
                url=reverse("evaluations:key_detail", args=[row["pk"]]),
                party=PARTIES[kind],
                classified=bool(row["fund__is_classified"]),  # a 涉密 fund: e-mail leaves the title out
            )
        )
    return found
