"""Reads of the annual assessment (考核): who sees which sheet, ranking and breakdown.

The rule, in one place for pages, API and exports:

* a sheet is visible to those who may manage it (``annual.manage``) in every status; to the other
  ``annual.view`` readers only once published; and, once published, to a body assessed in it that
  may read its own breakdown (a district finance office in the city's 区市 sheet);
* a breakdown (``AssessedBody`` with its lines) is visible through ``annual.breakdown`` — a
  department only its own — once the sheet is published, or always to those who manage the sheet;
* the ranking (name, total, rank, grade; no lines) goes with the sheet.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import F, Prefetch, Q, QuerySet
from django.http import Http404

from apps.core import permissions

from .models import AnnualAssessment, AssessedBody, AssessmentAdjustment, AssessmentItem, AssessmentLine

PUBLISHED = AnnualAssessment.Status.PUBLISHED
NOT_FOUND = "未找到该考核，或不在您的查看范围内。"


def managed(user) -> QuerySet:
    return AnnualAssessment.objects.restrict(user, "annual.manage")


def assessment_visible(user) -> QuerySet:
    """Every sheet the user may open (see the module's rule)."""
    readable = Q(pk__in=AnnualAssessment.objects.restrict(user, "annual.view").values("pk"))
    assessed = Q(pk__in=AssessedBody.objects.restrict(user, "annual.breakdown").values("assessment_id"))
    return AnnualAssessment.objects.filter(
        Q(pk__in=managed(user).values("pk")) | (Q(status=PUBLISHED) & (readable | assessed))
    )


def assessment_list(*, user, year: int | None = None, status: str = "") -> QuerySet:
    rows = assessment_visible(user).select_related("region", "organization", "fiscal_year")
    if year:
        rows = rows.filter(fiscal_year_id=year)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-fiscal_year_id", "region__sort_order", "kind", "pk")


def assessment_get(*, user, pk) -> AnnualAssessment:
    found = (
        assessment_visible(user)
        .select_related("region", "organization", "fiscal_year", "published_by", "compute_job")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404(NOT_FOUND)
    return found


def may_manage(user, assessment: AnnualAssessment) -> bool:
    return permissions.can(user, "annual.manage", assessment)


def items_of(assessment: AnnualAssessment) -> list[AssessmentItem]:
    return list(assessment.items.order_by("sort_order", "pk"))


def ranking(assessment: AnnualAssessment) -> QuerySet:
    """Every body of the sheet, ranked (unranked last), with its organisation."""
    return assessment.bodies.select_related("organization").order_by(
        F("rank").asc(nulls_last=True), "-total", "organization__sort_order", "organization__code", "pk"
    )


def body_visible(user) -> QuerySet:
    """Breakdowns the user may open (see the module's rule)."""
    return AssessedBody.objects.restrict(user, "annual.breakdown").filter(
        Q(assessment__status=PUBLISHED) | Q(assessment__in=managed(user).values("pk"))
    )


def breakdown_ids(user, assessment: AnnualAssessment) -> set[int]:
    """The bodies of this sheet whose breakdown the user may open (one query; for links)."""
    return set(body_visible(user).filter(assessment=assessment).values_list("pk", flat=True))


def body_get(*, user, assessment_pk, pk) -> AssessedBody:
    found = (
        body_visible(user)
        .select_related("assessment__fiscal_year", "assessment__organization", "organization")
        .filter(assessment_id=assessment_pk, pk=pk)
        .order_by()
        .first()
    )
    if found is None:
        raise Http404("未找到该单位的考核明细，或不在您的查看范围内。")
    return found


def lines_of(body: AssessedBody) -> list[AssessmentLine]:
    """The body's lines with their item, adjuster and adjustment history (three queries)."""
    return list(
        body.lines.select_related("item", "adjusted_by")
        .prefetch_related(
            Prefetch(
                "adjustments",
                queryset=AssessmentAdjustment.objects.select_related("adjusted_by").order_by("adjusted_at", "pk"),
            )
        )
        .order_by("item__sort_order", "item_id")
    )


def points_matrix(assessment: AnnualAssessment) -> dict[int, dict[int, object]]:
    """``{body_id: {item_id: final points}}`` in one query (the ranking sheet and page)."""
    matrix: dict[int, dict[int, object]] = defaultdict(dict)
    rows = (
        AssessmentLine.objects.filter(body__assessment=assessment)
        .order_by()
        .values_list("body_id", "item_id", "points")
    )
    for body_id, item_id, points in rows:
        matrix[body_id][item_id] = points
    return matrix


def all_lines(assessment: AnnualAssessment) -> QuerySet:
    """Every line of the sheet for the 明细 export, in ranking order (one streamed query)."""
    return (
        AssessmentLine.objects.filter(body__assessment=assessment)
        .order_by(
            F("body__rank").asc(nulls_last=True),
            "body__organization__sort_order",
            "body__organization__code",
            "body_id",
            "item__sort_order",
            "item_id",
        )
        .values_list(
            "body__organization__name",
            "item__name",
            "item__max_points",
            "value",
            "computed_points",
            "points",
            "adjusted",
            "adjust_reason",
            "evidence",
            "item__metric",
        )
    )


def publish_problems(assessment: AnnualAssessment, notice: str) -> dict[str, list[str]]:
    """Every reason the sheet can't be published now, together (the service checks them one by one):
    an empty 通报说明 and the hand-scored lines not yet scored. Empty when nothing is in the way."""
    from .services_assessment_review import unscored_manual_lines

    problems: dict[str, list[str]] = {}
    if assessment.status != AnnualAssessment.Status.REVIEW:
        return problems  # the service's message on the status says it all
    if not (notice or "").strip():
        problems["notice"] = ["请填写通报说明。"]
    missing = list(unscored_manual_lines(assessment)[:6])
    if missing:
        names = "；".join(f"{line.body.organization.name}“{line.item.name}”" for line in missing[:5])
        more = "等" if len(missing) > 5 else ""
        problems["status"] = [f"以下人工评分项尚未评分，不能发布：{names}{more}。"]
    return problems


def _shown_date(value) -> str:
    from datetime import date, datetime

    from apps.core.templatetags.qd import cn_date

    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return value
    return cn_date(value)


def basis_records(line: AssessmentLine) -> list[dict]:
    """The records behind a computed line (label, due, done, ok, note, url), dates in Chinese."""
    basis = line.basis if isinstance(line.basis, dict) else {}
    rows = []
    for record in basis.get("records") or []:
        if not isinstance(record, dict):
            continue
        url = str(record.get("url") or "")
        rows.append(
            {
                "label": record.get("label", ""),
                "due": _shown_date(record.get("due")),
                "done": _shown_date(record.get("done")),
                "ok": record.get("ok"),
                "note": record.get("note", ""),
                "url": url if url.startswith("/") and not url.startswith("//") else "",
            }
        )
    return rows
