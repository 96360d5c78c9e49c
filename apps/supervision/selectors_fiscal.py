"""Reads of the district fiscal-operation evaluation, shared by pages, API and export.

City finance (``fiscal.view`` ALL) reads evaluations; a district finance office reads only its own
submissions (``fiscal.view`` REGION on the submission — the evaluation itself belongs to the city),
and, once published, the ranking (names, totals, ranks, grades, group subtotals) of the evaluation
it took part in. It never reads another district's values, scores or comments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.http import Http404

from apps.core import permissions
from apps.core.params import int_param

from .models import FiscalEvaluation, FiscalIndicator, FiscalSubmission, FiscalValue

SStatus = FiscalSubmission.Status
EStatus = FiscalEvaluation.Status


def evaluation_list(*, user) -> QuerySet:
    """Evaluations the user reads as the organiser (city finance), with submission counts."""
    return (
        FiscalEvaluation.objects.restrict(user, "fiscal.view")
        .select_related("fiscal_year", "organization")
        .annotate(
            n_submissions=Count("submissions", distinct=True),
            n_reported=Count(
                "submissions", filter=Q(submissions__status__in=(SStatus.SUBMITTED, SStatus.SCORED)), distinct=True
            ),
            n_scored=Count("submissions", filter=Q(submissions__status=SStatus.SCORED), distinct=True),
        )
        .order_by("-fiscal_year_id", "-id")
    )


def own_submission_list(*, user) -> QuerySet:
    """The submissions of the user's own district (what a district finance office sees)."""
    if is_city_reader(user):
        return FiscalSubmission.objects.none()
    return (
        FiscalSubmission.objects.restrict(user, "fiscal.view")
        .select_related("evaluation", "evaluation__fiscal_year", "organization")
        .order_by("-evaluation__fiscal_year_id", "-evaluation_id")
    )


def evaluation_for(*, user, pk, action: str = "fiscal.view") -> FiscalEvaluation:
    rows = FiscalEvaluation.objects.restrict(user, action).select_related(
        "fiscal_year", "organization", "published_by", "created_by"
    )
    try:
        return rows.get(pk=int_param(pk, low=1))
    except (FiscalEvaluation.DoesNotExist, ValueError):
        raise Http404("未找到该评价，或不在您的查看范围内。")


def submission_for(*, user, pk) -> FiscalSubmission:
    rows = FiscalSubmission.objects.restrict(user, "fiscal.view").select_related(
        "evaluation", "evaluation__fiscal_year", "organization", "region", "submitted_by", "scored_by"
    )
    try:
        return rows.get(pk=int_param(pk, low=1))
    except (FiscalSubmission.DoesNotExist, ValueError):
        raise Http404("未找到该填报，或不在您的查看范围内。")


def is_organiser(user, evaluation: FiscalEvaluation) -> bool:
    """Reads the evaluation as a whole (city finance, leadership) — not just its own district's line."""
    return permissions.can(user, "fiscal.view", evaluation)


def indicators_of(evaluation: FiscalEvaluation) -> list[FiscalIndicator]:
    return list(evaluation.indicators.order_by("sort_order", "id"))


def groups_of(indicators: list[FiscalIndicator]) -> list[tuple[str, list[FiscalIndicator]]]:
    """Indicators grouped in frame order (a group appears where its first indicator is)."""
    groups: dict[str, list[FiscalIndicator]] = {}
    for indicator in indicators:
        groups.setdefault(indicator.group, []).append(indicator)
    return list(groups.items())


def submissions_of(evaluation: FiscalEvaluation) -> list[FiscalSubmission]:
    return list(
        evaluation.submissions.select_related("organization", "region").order_by(
            "region__sort_order", "organization__sort_order", "organization__path"
        )
    )


def values_of(submission: FiscalSubmission) -> list[FiscalValue]:
    return list(
        FiscalValue.objects.filter(submission=submission)
        .select_related("indicator")
        .order_by("indicator__sort_order", "indicator_id")
    )


def value_matrix(evaluation: FiscalEvaluation) -> dict[tuple[int, int], FiscalValue]:
    """(submission id, indicator id) → value, for the whole evaluation in one query (organisers only)."""
    return {
        (v.submission_id, v.indicator_id): v
        for v in FiscalValue.objects.filter(submission__evaluation=evaluation).only(
            "submission_id", "indicator_id", "value", "text_value", "note", "score", "comment"
        )
    }


def ranking_evaluation(*, user, pk) -> FiscalEvaluation:
    """The evaluation whose ranking the user may read: the organiser's any time (provisional before
    publishing), a district's once published and only if it took part. Otherwise 404."""
    rows = FiscalEvaluation.objects.select_related("fiscal_year", "organization")
    key = int_param(pk, low=1)  # "²" is a digit to ``isdigit`` but not to ``int``: a 404, never a 500
    evaluation = rows.filter(pk=key).first() if key is not None else None
    if evaluation is None:
        raise Http404("未找到该评价。")
    if is_organiser(user, evaluation):
        return evaluation
    own = FiscalSubmission.objects.restrict(user, "fiscal.view").filter(evaluation=evaluation)
    if evaluation.status == EStatus.PUBLISHED and own.exists():
        return evaluation
    raise Http404("评价结果尚未发布，或不在您的查看范围内。")


@dataclass
class RankRow:
    submission_id: int
    name: str
    region: str
    status: str
    status_label: str
    total: Decimal | None
    rank: int | None
    grade: str
    grade_label: str
    groups: list[Decimal | None] = field(default_factory=list)
    position: int = 0  # the district's place in the fixed region order


@dataclass
class Ranking:
    evaluation: FiscalEvaluation
    groups: list[str]
    group_points: list[Decimal]
    rows: list[RankRow]
    provisional: bool

    def chart(self) -> dict:
        """The comparison chart's data (for ``json_script``): totals, and points by group stacked."""
        ordered = self.rows
        return {
            "labels": [r.region for r in ordered],
            "totals": [float(r.total) if r.total is not None else None for r in ordered],
            "groups": [
                {"label": g, "data": [float(r.groups[i]) if r.groups[i] is not None else 0 for r in ordered]}
                for i, g in enumerate(self.groups)
            ],
        }


def ranking(evaluation: FiscalEvaluation) -> Ranking:
    """Totals, ranks and group subtotals of every district — three queries whatever the size.

    Before publishing the rank is computed on the fly from the scored totals (provisional)."""
    from .ranking import competition_ranks

    indicators = indicators_of(evaluation)
    groups = groups_of(indicators)
    names = [g for g, _ in groups]
    points = [sum((i.max_points for i in items), Decimal("0")) for _, items in groups]
    submissions = submissions_of(evaluation)
    sums = {
        (sid, group): total
        for sid, group, total in FiscalValue.objects.filter(submission__evaluation=evaluation, score__isnull=False)
        .values_list("submission_id", "indicator__group")
        .annotate(total=Sum("score"))
        .values_list("submission_id", "indicator__group", "total")
    }
    published = evaluation.status == EStatus.PUBLISHED
    full = sum(points, Decimal("0"))
    if published:
        ranks = {s.pk: s.rank for s in submissions}
    else:
        scored = [s for s in submissions if s.status == SStatus.SCORED]
        ranks = {s.pk: r for s, r in competition_ranks(scored, lambda s: s.total)}
    from apps.evaluations.models import Grade

    from .services_fiscal import grade_for

    labels = dict(Grade.choices)
    rows = []
    for position, s in enumerate(submissions):
        scored = s.status == SStatus.SCORED
        grade = s.grade if published else (grade_for(s.total, full) if scored and s.total is not None else "")
        rows.append(
            RankRow(
                submission_id=s.pk,
                name=s.organization.name,
                region=s.region.name,
                status=s.status,
                status_label=s.get_status_display(),
                total=s.total if scored else None,
                rank=ranks.get(s.pk),
                grade=grade,
                grade_label=labels.get(grade, ""),
                groups=[sums.get((s.pk, g)) if scored else None for g in names],
                position=position,
            )
        )
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.position))
    return Ranking(evaluation=evaluation, groups=names, group_points=points, rows=rows, provisional=not published)


def submission_rows(evaluation: FiscalEvaluation) -> list[FiscalSubmission]:
    """The status table of the evaluation page."""
    return submissions_of(evaluation)


def prefetch_values(queryset: QuerySet) -> QuerySet:
    return queryset.prefetch_related(
        Prefetch(
            "values",
            queryset=FiscalValue.objects.select_related("indicator").order_by("indicator__sort_order", "indicator_id"),
        )
    )


def is_city_reader(user) -> bool:
    """City finance and leadership read whole evaluations; a district office reads its own line."""
    return permissions.has_action(user, "fiscal.manage") or permissions.Scope.ALL in permissions.user_scopes(
        user, "fiscal.view"
    )


def suggestions_for(submission: FiscalSubmission, values: list[FiscalValue]) -> dict[int, Decimal | None]:
    """建议得分 per indicator of one submission, from the figures every reported district gave."""
    from .services_fiscal_scoring import reported_values, suggest

    reported = reported_values(submission.evaluation)
    return {v.indicator_id: suggest(v.indicator, v.value, reported.get(v.indicator_id, [])) for v in values}


TODO_LIMIT = 10


def fiscal_todos(user, fiscal_year=None) -> list:
    """待办 provider (``apps.core.todo``): a district's submissions to fill or correct, and the city's
    reported submissions to score. Open items whatever year is selected; at most two queries."""
    from django.urls import reverse

    from apps.core.todo import TodoItem

    from . import reminder_sources

    items: list[TodoItem] = []
    if permissions.has_action(user, "fiscal.fill"):
        rows = (
            FiscalSubmission.objects.restrict(user, "fiscal.fill")
            .filter(
                status__in=(SStatus.DRAFT, SStatus.RETURNED),
                evaluation__status__in=(EStatus.COLLECTING, EStatus.SCORING),
            )
            .select_related("evaluation")
            .order_by("evaluation__due_on", "pk")[:TODO_LIMIT]
        )
        rows = list(rows)
        # A returned submission is due when the reminders say (at least a week after the return).
        returns = reminder_sources.returned_on([s.pk for s in rows if s.status == SStatus.RETURNED])
        for s in rows:
            returned = s.status == SStatus.RETURNED
            due_on = s.evaluation.due_on
            if returned and due_on is not None:
                due_on = reminder_sources.due_date(due_on, returns.get(s.pk))
            items.append(
                TodoItem(
                    title=f"{'修改并重新报送' if returned else '填报'}：{s.evaluation.title}",
                    url=reverse("supervision:fiscal_submission", args=[s.pk]),
                    category="财政运行评价",
                    due_on=due_on,
                    note=f"市财政局退回：{s.return_comment}" if returned else s.get_status_display(),
                )
            )
    if permissions.has_action(user, "fiscal.manage"):
        evaluations = FiscalEvaluation.objects.restrict(user, "fiscal.manage")
        rows = (
            FiscalSubmission.objects.filter(evaluation__in=evaluations, status=SStatus.SUBMITTED)
            .select_related("evaluation", "organization")
            .order_by("submitted_at", "pk")[:TODO_LIMIT]
        )
        for s in rows:
            items.append(
                TodoItem(
                    title=f"评分：{s.organization.name} — {s.evaluation.title}",
                    url=reverse("supervision:fiscal_score", args=[s.pk]),
                    category="财政运行评价",
                    note="已报送，待审核评分",
                )
            )
    return items
