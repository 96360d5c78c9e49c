"""区市财政运行综合绩效评价, the city's side of the frame: the city finance bureau creates the
evaluation with its indicator frame, opens it to the districts, and publishes the ranking. The
districts' figures, 报送, the city's return and scores, and the suggested scores are in
``services_fiscal_scoring``.

Flow: evaluation 草稿 → 区市填报中 (``fiscal_evaluation_open`` creates one submission per district
finance office) → 评分中 (the first score) → 已发布 (``fiscal_publish``, every submission scored).
A submission: 填报中/已退回 → 已报送 (``fiscal_submit``) → 已退回 (``fiscal_return``) or 已评分
(``fiscal_score``; re-scoring is allowed until the evaluation is published).

The frame may change while the evaluation is a draft, and while collecting as long as no district
has entered any figure (a new indicator then gets an empty value row in every submission).
Every write is atomic, checked against the policy (``fiscal.manage`` on the evaluation,
``fiscal.fill`` on the submission), audited, and refused with a Chinese message naming the field.
The guards and locks below are shared with ``services_fiscal_scoring``.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.core import audit, permissions
from apps.evaluations.scoring import grade_of
from apps.orgs.models import Organization

from .metrics import district_offices
from .models import DEFAULT_FISCAL_GROUPS, FiscalEvaluation, FiscalIndicator, FiscalSubmission, FiscalValue
from .ranking import competition_ranks

D = Decimal
TWO = D("0.01")
HUNDRED = D("100")
Direction = FiscalIndicator.Direction
EStatus = FiscalEvaluation.Status
SStatus = FiscalSubmission.Status

# (group, name, unit, direction, points, guidance) — points sum to 100.
DEFAULT_FISCAL_INDICATORS = (
    (DEFAULT_FISCAL_GROUPS[0], "税收收入占比", "%", Direction.HIGHER, D("10"), "税收收入占一般公共预算收入的比重。"),
    (DEFAULT_FISCAL_GROUPS[0], "一般公共预算收入增幅", "%", Direction.HIGHER, D("10"), "比上年同口径增长。"),
    (DEFAULT_FISCAL_GROUPS[1], "民生支出占比", "%", Direction.HIGHER, D("10"), "民生支出占一般公共预算支出的比重。"),
    (DEFAULT_FISCAL_GROUPS[1], "“三公”经费压减率", "%", Direction.HIGHER, D("10"), "比上年决算数压减的比例。"),
    (DEFAULT_FISCAL_GROUPS[2], "预算支出执行率", "%", Direction.HIGHER, D("10"), "一般公共预算支出执行进度。"),
    (DEFAULT_FISCAL_GROUPS[2], "结转结余资金占比", "%", Direction.LOWER, D("10"), "年末结转结余占当年预算，越低越好。"),
    (DEFAULT_FISCAL_GROUPS[3], "债务率", "%", Direction.LOWER, D("10"), "政府债务余额/综合财力，越低越好。"),
    (DEFAULT_FISCAL_GROUPS[3], "隐性债务化解完成率", "%", Direction.HIGHER, D("10"), "当年化解任务完成比例。"),
    (DEFAULT_FISCAL_GROUPS[4], "绩效目标覆盖率", "%", Direction.HIGHER, D("10"), "编制绩效目标的项目支出占比。"),
    (
        DEFAULT_FISCAL_GROUPS[4],
        "评价结果应用情况",
        "",
        Direction.QUALITATIVE,
        D("10"),
        "评价结果与预算安排挂钩、整改、公开的情况（定性）。",
    ),
)


# --- guards ----------------------------------------------------------------------------------


def round_points(value: Decimal) -> Decimal:
    """Points the system computes (suggested scores, totals, 折算 scores): two places, half up."""
    return value.quantize(TWO, rounding=ROUND_HALF_UP)


def has_more_than_two_places(value: Decimal) -> bool:
    """True for ``1.005`` (refused: typed scores and points have at most two decimals), not ``1.50``."""
    return value != value.quantize(TWO, rounding=ROUND_HALF_UP)


def frame_points(evaluation: FiscalEvaluation) -> Decimal:
    """The frame's total points (100 when it is set up as the defaults)."""
    return sum(evaluation.indicators.values_list("max_points", flat=True), D("0"))


def graded_score(total: Decimal, frame_total: Decimal) -> Decimal:
    """The score the grade is read from: the total itself on a 100-point frame, else the total
    折算 to 100 (``total × 100 ÷ frame total``, half up) — indicators may be added after opening."""
    if frame_total == HUNDRED or frame_total <= 0:
        return total
    return round_points(total * HUNDRED / frame_total)


def grade_for(total: Decimal, frame_total: Decimal) -> str:
    return grade_of(graded_score(total, frame_total))


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _require_manage(actor, evaluation: FiscalEvaluation) -> None:
    _require(permissions.can(actor, "fiscal.manage", evaluation), "只有市财政局绩效管理处可以进行该操作。")


def _require_fill(actor, submission: FiscalSubmission) -> None:
    _require(permissions.can(actor, "fiscal.fill", submission), "只有本区市财政局可以填报和报送本区市数据。")


def city_bureau_of(actor) -> Organization | None:
    """The city finance bureau the actor works for (its own organisation or the division's parent)."""
    org = getattr(actor, "organization", None)
    if org is None:
        return None
    bureau = org if org.kind == Organization.Kind.FINANCE else org.parent
    if bureau is None or bureau.kind != Organization.Kind.FINANCE or not bureau.region.is_city:
        return None
    return bureau


def _lock_evaluation(evaluation: FiscalEvaluation) -> FiscalEvaluation:
    return FiscalEvaluation.objects.select_for_update().get(pk=evaluation.pk)


def _lock_submission(submission: FiscalSubmission) -> FiscalSubmission:
    locked = FiscalSubmission.objects.select_for_update().get(pk=submission.pk)
    locked.evaluation = FiscalEvaluation.objects.get(pk=locked.evaluation_id)
    return locked


def _transition(actor, obj, before: str, after: str, comment: str = "") -> None:
    audit.record(
        audit.Kind.TRANSITION, actor=actor, obj=obj, changes={"status": {"from": before, "to": after}}, comment=comment
    )


# --- the evaluation and its frame --------------------------------------------------------------


@transaction.atomic
def fiscal_evaluation_create(*, actor, fiscal_year, title: str, due_on: date | None = None) -> FiscalEvaluation:
    """A new evaluation for ``fiscal_year`` with the default indicator frame (100 points)."""
    bureau = city_bureau_of(actor)
    _require(bureau is not None, "只有市财政局可以组织区市财政运行综合绩效评价。")
    evaluation = FiscalEvaluation(
        organization=bureau,
        region_id=bureau.region_id,
        fiscal_year=fiscal_year,
        title=(title or "").strip(),
        due_on=due_on,
        created_by=actor,
    )
    _require_manage(actor, evaluation)
    errors: dict[str, list[str]] = {}
    if fiscal_year is None:
        errors["fiscal_year"] = ["请选择评价年度。"]
    if not evaluation.title:
        errors["title"] = ["请填写评价名称。"]
    elif len(evaluation.title) > 200:
        errors["title"] = ["评价名称不能超过200个字。"]
    if (
        fiscal_year is not None
        and FiscalEvaluation.objects.filter(region_id=bureau.region_id, fiscal_year=fiscal_year).exists()
    ):
        errors["fiscal_year"] = [f"评价年度：{fiscal_year}已组织过区市财政运行综合绩效评价，每年只能组织一次。"]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            evaluation.save()
    except IntegrityError:
        raise ValidationError(
            {"fiscal_year": [f"评价年度：{fiscal_year}已组织过区市财政运行综合绩效评价，每年只能组织一次。"]}
        )
    FiscalIndicator.objects.bulk_create(
        FiscalIndicator(
            evaluation=evaluation,
            group=group,
            sort_order=i,
            name=name,
            unit=unit,
            direction=direction,
            max_points=points,
            guidance=guidance,
        )
        for i, (group, name, unit, direction, points, guidance) in enumerate(DEFAULT_FISCAL_INDICATORS, start=1)
    )
    audit.record(
        audit.Kind.CREATE,
        actor=actor,
        obj=evaluation,
        changes={"status": {"from": None, "to": evaluation.status}},
        comment=f"新建评价，默认指标 {len(DEFAULT_FISCAL_INDICATORS)} 项",
    )
    return evaluation


def frame_editable(evaluation: FiscalEvaluation) -> bool:
    """Draft, or collecting before any district has entered a figure."""
    if evaluation.status == EStatus.DRAFT:
        return True
    if evaluation.status != EStatus.COLLECTING:
        return False
    filled = FiscalValue.objects.filter(submission__evaluation=evaluation).filter(
        Q(value__isnull=False) | ~Q(text_value="")
    )
    return not filled.exists()


def _require_frame_editable(evaluation: FiscalEvaluation) -> None:
    if not frame_editable(evaluation):
        raise ValidationError({"status": ["区市已开始填报（或评价已进入评分、发布），指标体系不能再修改。"]})


def _clean_indicator(*, group, name, unit, direction, max_points, guidance) -> dict:
    errors: dict[str, list[str]] = {}
    group, name, unit, guidance = (str(v or "").strip() for v in (group, name, unit, guidance))
    if not group:
        errors["group"] = ["请填写指标类别。"]
    elif len(group) > 50:
        errors["group"] = ["指标类别不能超过50个字。"]
    if not name:
        errors["name"] = ["请填写指标名称。"]
    elif len(name) > 100:
        errors["name"] = ["指标名称不能超过100个字。"]
    if len(unit) > 20:
        errors["unit"] = ["计量单位不能超过20个字。"]
    if direction not in Direction.values:
        errors["direction"] = ["指标方向无效。"]
    points = None
    try:
        points = D(str(max_points).strip())
    except (InvalidOperation, ValueError, TypeError):
        errors["max_points"] = ["分值应为数字。"]
    else:
        if not points.is_finite() or points <= 0 or points > HUNDRED:
            errors["max_points"] = ["分值应大于0且不超过100分。"]
        elif has_more_than_two_places(points):
            errors["max_points"] = [f"分值最多保留两位小数（“{points}”）。"]
        else:
            points = points.quantize(TWO)
    if errors:
        raise ValidationError(errors)
    return {
        "group": group,
        "name": name,
        "unit": unit,
        "direction": direction,
        "max_points": points,
        "guidance": guidance,
    }


@transaction.atomic
def fiscal_indicator_add(
    *,
    actor,
    evaluation: FiscalEvaluation,
    group: str,
    name: str,
    unit: str = "",
    direction: str,
    max_points,
    guidance: str = "",
) -> FiscalIndicator:
    evaluation = _lock_evaluation(evaluation)
    _require_manage(actor, evaluation)
    _require_frame_editable(evaluation)
    data = _clean_indicator(
        group=group, name=name, unit=unit, direction=direction, max_points=max_points, guidance=guidance
    )
    if evaluation.indicators.filter(name=data["name"]).exists():
        raise ValidationError({"name": [f"指标“{data['name']}”已存在。"]})
    last = evaluation.indicators.order_by("-sort_order").values_list("sort_order", flat=True).first() or 0
    indicator = FiscalIndicator.objects.create(evaluation=evaluation, sort_order=last + 1, **data)
    FiscalValue.objects.bulk_create(
        FiscalValue(submission_id=pk, indicator=indicator) for pk in evaluation.submissions.values_list("pk", flat=True)
    )
    audit.record(
        audit.Kind.UPDATE,
        actor=actor,
        obj=evaluation,
        changes={
            "indicator": {"from": None, "to": f"{indicator.group} · {indicator.name}（{indicator.max_points}分）"}
        },
        comment="新增评价指标",
    )
    return indicator


@transaction.atomic
def fiscal_indicator_update(*, actor, indicator: FiscalIndicator, **fields) -> FiscalIndicator:
    evaluation = _lock_evaluation(indicator.evaluation)
    indicator = FiscalIndicator.objects.get(pk=indicator.pk)
    _require_manage(actor, evaluation)
    _require_frame_editable(evaluation)
    current = {k: getattr(indicator, k) for k in ("group", "name", "unit", "direction", "max_points", "guidance")}
    data = _clean_indicator(**(current | fields))
    if evaluation.indicators.filter(name=data["name"]).exclude(pk=indicator.pk).exists():
        raise ValidationError({"name": [f"指标“{data['name']}”已存在。"]})
    before = audit.snapshot(indicator, list(data))
    for key, value in data.items():
        setattr(indicator, key, value)
    indicator.save(update_fields=list(data))
    changes = audit.diff(before, audit.snapshot(indicator, list(data)))
    if changes:
        audit.record(
            audit.Kind.UPDATE, actor=actor, obj=evaluation, changes=changes, comment=f"修改评价指标：{indicator.name}"
        )
    return indicator


@transaction.atomic
def fiscal_indicator_delete(*, actor, indicator: FiscalIndicator) -> None:
    evaluation = _lock_evaluation(indicator.evaluation)
    _require_manage(actor, evaluation)
    _require_frame_editable(evaluation)
    label = f"{indicator.group} · {indicator.name}"
    FiscalIndicator.objects.filter(pk=indicator.pk).delete()
    audit.record(
        audit.Kind.UPDATE,
        actor=actor,
        obj=evaluation,
        changes={"indicator": {"from": label, "to": None}},
        comment="删除评价指标",
    )


@transaction.atomic
def fiscal_evaluation_open(*, actor, evaluation: FiscalEvaluation, today: date | None = None) -> FiscalEvaluation:
    """草稿 → 区市填报中: one submission per district finance office, with an empty row per indicator."""
    evaluation = _lock_evaluation(evaluation)
    _require_manage(actor, evaluation)
    if evaluation.status != EStatus.DRAFT:
        raise ValidationError(
            {"status": [f"评价当前状态为“{evaluation.get_status_display()}”，只有草稿可以启动填报。"]}
        )
    indicators = list(evaluation.indicators.all())
    if not indicators:
        raise ValidationError({"indicators": ["请先设置评价指标。"]})
    total = sum((i.max_points for i in indicators), D("0"))
    if total != HUNDRED:
        raise ValidationError({"indicators": [f"指标分值合计应为100分（当前为{total:.2f}分）。"]})
    today = today or timezone.localdate()
    if evaluation.due_on is not None and evaluation.due_on < today:
        raise ValidationError({"due_on": ["区市填报截止日期已过，请先修改截止日期。"]})
    bureaus = district_offices(evaluation.region_id)
    if not bureaus:
        raise ValidationError({"status": ["没有可参加评价的区市财政局。"]})
    submissions = FiscalSubmission.objects.bulk_create(
        FiscalSubmission(evaluation=evaluation, organization=org, region_id=org.region_id) for org in bureaus
    )
    FiscalValue.objects.bulk_create(FiscalValue(submission=s, indicator=i) for s in submissions for i in indicators)
    evaluation.status = EStatus.COLLECTING
    evaluation.save(update_fields=["status", "updated_at"])
    _transition(actor, evaluation, EStatus.DRAFT, EStatus.COLLECTING, f"启动区市填报（{len(submissions)} 个区市）")
    return evaluation


@transaction.atomic
def fiscal_evaluation_update(
    *, actor, evaluation: FiscalEvaluation, title: str, due_on: date | None
) -> FiscalEvaluation:
    """Rename or move the due date (not once published)."""
    evaluation = _lock_evaluation(evaluation)
    _require_manage(actor, evaluation)
    if evaluation.status == EStatus.PUBLISHED:
        raise ValidationError({"status": ["评价已发布，不能修改。"]})
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": ["请填写评价名称。"]})
    before = audit.snapshot(evaluation, ["title", "due_on"])
    evaluation.title, evaluation.due_on = title[:200], due_on
    evaluation.save(update_fields=["title", "due_on", "updated_at"])
    changes = audit.diff(before, audit.snapshot(evaluation, ["title", "due_on"]))
    if changes:
        audit.record(audit.Kind.UPDATE, actor=actor, obj=evaluation, changes=changes)
    return evaluation


@transaction.atomic
def fiscal_publish(*, actor, evaluation: FiscalEvaluation, summary: str) -> FiscalEvaluation:
    """评分中 → 已发布 once every district is scored: ranks (ties share a rank) and grades."""
    evaluation = _lock_evaluation(evaluation)
    _require_manage(actor, evaluation)
    if evaluation.status != EStatus.SCORING:
        raise ValidationError({"status": [f"评价当前状态为“{evaluation.get_status_display()}”，评分完成后方可发布。"]})
    submissions = list(
        evaluation.submissions.select_for_update(of=("self",))
        .select_related("organization")
        .order_by("region__sort_order", "organization__sort_order", "organization__path")
    )
    unscored = [s.organization.name for s in submissions if s.status != SStatus.SCORED]
    if unscored:
        raise ValidationError({"status": [f"以下区市尚未评分：{'、'.join(unscored)}。"]})
    summary = (summary or "").strip()
    if not summary:
        raise ValidationError({"summary": ["请填写总体评价意见。"]})
    # Indicators may have been added or removed after opening: the frame is re-read here, and on a
    # frame that doesn't total 100 the grade is read from the total 折算 to 100.
    full = frame_points(evaluation)
    if full <= 0:
        raise ValidationError({"indicators": ["评价没有指标，不能发布。"]})
    for submission, rank in competition_ranks(submissions, lambda s: s.total):
        submission.rank, submission.grade = rank, grade_for(submission.total, full)
    FiscalSubmission.objects.bulk_update(submissions, ["rank", "grade"])
    evaluation.status, evaluation.summary = EStatus.PUBLISHED, summary[:4000]
    evaluation.published_at, evaluation.published_by = timezone.now(), actor
    evaluation.save(update_fields=["status", "summary", "published_at", "published_by", "updated_at"])
    note = "" if full == HUNDRED else f"（指标分值合计{full:.2f}分，等次按总分折算为百分制后评定）"
    _transition(actor, evaluation, EStatus.SCORING, EStatus.PUBLISHED, f"发布评价结果{note}")
    return evaluation
