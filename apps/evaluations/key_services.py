"""Writes of key evaluations (部门评价 / 财政重点评价 / 部门整体评价): the indicator frame, weights,
line scores, findings and the workflow.

The frame is 决策 / 过程 / 产出 / 效益. Its weights add up to 100 and 产出 + 效益 is at least the
region's ``ScoringRules.key_min_output_effect`` (default 60); the lines of a dimension add up to its
weight. The score is the sum of the line points (Decimal, two places) and the grade is read off it
with the region's grade limits (``scoring.grade_of``), the same limits as the self-evaluation.

Status flow::

    planned ──start──▶ in_progress ──submit──▶ submitted ──complete──▶ completed
                           ▲                        │
                           └────────return──────────┘  (with a comment)

Scoring actions are ``evaluation.conduct_<kind>`` (finance scores finance's evaluations, a
department its own; assigned agency staff and experts through their object permission), the last
step is ``evaluation.complete_<kind>``. Every write locks the evaluation row and is audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.attachments.models import Attachment
from apps.core import audit, permissions
from apps.core.workflow import Transition, Workflow
from apps.targets.rows import parse_decimal

from . import scoring
from .models import DEFAULT_FRAME, Dimension, EvaluationPlan, KeyEvaluation, KeyEvaluationLine, ScoringRules

D = Decimal
ZERO = D("0")
HUNDRED = D("100")
CENT = D("0.01")
KS = KeyEvaluation.Status
EDITABLE = (KS.PLANNED, KS.IN_PROGRESS)
DIMENSIONS: list[str] = list(Dimension.values)
DIMENSION_LABELS: dict[str, str] = dict(Dimension.choices)
WEIGHT_FIELDS = [f"weight_{d}" for d in DIMENSIONS]

# 部门整体评价: the same four dimensions, with lines about the department's duties and budget.
DEPARTMENT_FRAME = [
    (Dimension.DECISION, "目标设定", D("5")),
    (Dimension.DECISION, "预算编制", D("10")),
    (Dimension.PROCESS, "预算执行", D("10")),
    (Dimension.PROCESS, "预算管理", D("5")),
    (Dimension.PROCESS, "资产管理", D("5")),
    (Dimension.OUTPUT, "重点工作完成", D("15")),
    (Dimension.OUTPUT, "履职质量与时效", D("10")),
    (Dimension.OUTPUT, "成本控制", D("5")),
    (Dimension.EFFECT, "履职效益", D("25")),
    (Dimension.EFFECT, "服务对象满意度", D("10")),
]


# --- rules -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyRules:
    """The parameters of key evaluations in one region and year (defaults when finance set none)."""

    cycle_years: int
    min_output_effect: Decimal
    scoring: scoring.Rules


def key_rules(region_id: int, fiscal_year_id: int) -> KeyRules:
    row = ScoringRules.objects.filter(region_id=region_id, fiscal_year_id=fiscal_year_id).first()
    row = row or ScoringRules()  # the model's defaults are the national / Qingdao defaults
    return KeyRules(cycle_years=row.cycle_years, min_output_effect=row.key_min_output_effect, scoring=row.as_rules())


def rules_of(evaluation: KeyEvaluation) -> KeyRules:
    return key_rules(evaluation.department.region_id, evaluation.plan.fiscal_year_id)


def fmt(value: Decimal | None) -> str:
    return "—" if value is None else scoring.fmt(value)


# --- building the frame ----------------------------------------------------------------------


def frame_for(subject: str) -> list[tuple[str, str, Decimal]]:
    return DEPARTMENT_FRAME if subject == KeyEvaluation.Subject.DEPARTMENT else DEFAULT_FRAME


def create_evaluations(plan: EvaluationPlan, evaluations: list[KeyEvaluation]) -> list[KeyEvaluation]:
    """Save new evaluations of ``plan`` with their default frame (weights = the frame's sums), in bulk."""
    now = timezone.now()
    for evaluation in evaluations:
        evaluation.plan = plan
        evaluation.status_changed_at = now
        for dimension, total in _frame_weights(frame_for(evaluation.subject)).items():
            setattr(evaluation, f"weight_{dimension}", total)
    KeyEvaluation.objects.bulk_create(evaluations)
    if evaluations and evaluations[0].pk is None:  # backends without RETURNING (not ours): read ids back
        by_key = {
            (e.fund_id, e.department_id, e.subject): e.pk
            for e in KeyEvaluation.objects.filter(plan=plan).only("pk", "fund_id", "department_id", "subject")
        }
        for evaluation in evaluations:
            evaluation.pk = by_key[(evaluation.fund_id, evaluation.department_id, evaluation.subject)]
    KeyEvaluationLine.objects.bulk_create(
        [
            KeyEvaluationLine(evaluation_id=e.pk, dimension=dimension, sort_order=i, name=name, max_points=points)
            for e in evaluations
            for i, (dimension, name, points) in enumerate(frame_for(e.subject))
        ]
    )
    return evaluations


def _frame_weights(frame) -> dict[str, Decimal]:
    totals = dict.fromkeys(DIMENSIONS, ZERO)
    for dimension, _, points in frame:
        totals[dimension] += points
    return totals


# --- checks ----------------------------------------------------------------------------------


def _number(raw, label: str, *, maximum: Decimal = HUNDRED) -> Decimal:
    """A typed number with at most two decimals, 0 ≤ value ≤ maximum (ValidationError otherwise)."""
    try:
        value = parse_decimal(raw)
    except (InvalidOperation, ValueError):
        raise ValidationError(f"{label}必须是数字。") from None
    if value is None:
        raise ValidationError(f"{label}不能为空。")
    if value < 0:
        raise ValidationError(f"{label}不能为负数。")
    if value > maximum:
        raise ValidationError(f"{label}不能超过 {fmt(maximum)}。")
    if value != value.quantize(CENT):
        raise ValidationError(f"{label}最多保留两位小数。")
    return value.quantize(CENT)


def parse_weights(raw: Mapping[str, object]) -> tuple[dict[str, Decimal], list[str]]:
    """``{dimension: value}`` as typed → Decimals and the messages for bad values."""
    weights, errors = {}, []
    for dimension in DIMENSIONS:
        try:
            weights[dimension] = _number(raw.get(dimension), f"{DIMENSION_LABELS[dimension]}权重")
        except ValidationError as exc:
            errors.extend(exc.messages)
    return weights, errors


def weight_problems(weights: Mapping[str, Decimal], min_output_effect: Decimal) -> list[str]:
    """Why these weights are not allowed (empty: they are): sum 100, 产出 + 效益 ≥ the minimum."""
    problems = []
    total = sum(weights.values(), ZERO)
    if total != HUNDRED:
        problems.append(f"决策、过程、产出、效益四项权重合计应为 100，当前为 {fmt(total)}。")
    output_effect = weights[Dimension.OUTPUT] + weights[Dimension.EFFECT]
    if output_effect < min_output_effect:
        problems.append(f"产出与效益权重合计应不低于 {fmt(min_output_effect)}，当前为 {fmt(output_effect)}。")
    return problems


def frame_problems(weights: Mapping[str, Decimal], lines: Iterable[KeyEvaluationLine]) -> list[str]:
    """Dimensions whose lines do not add up to the dimension's weight."""
    sums = dict.fromkeys(DIMENSIONS, ZERO)
    for line in lines:
        sums[line.dimension] += line.max_points
    return [
        f"{DIMENSION_LABELS[d]}各项指标分值合计 {fmt(sums[d])} 与{DIMENSION_LABELS[d]}权重 {fmt(weights[d])} 不一致。"
        for d in DIMENSIONS
        if sums[d] != weights[d]
    ]


def total_of(lines: Iterable[KeyEvaluationLine]) -> Decimal | None:
    """The score: the sum of the line points, or ``None`` while a line is not scored."""
    lines = list(lines)
    if not lines or any(line.points is None for line in lines):
        return None
    return sum((line.points for line in lines), ZERO).quantize(CENT, rounding=ROUND_HALF_UP)


def submission_problems(evaluation: KeyEvaluation, lines: list[KeyEvaluationLine], rules: KeyRules) -> list[str]:
    """What still blocks submitting the scores."""
    problems = weight_problems(evaluation.weights, rules.min_output_effect)
    problems += frame_problems(evaluation.weights, lines)
    if not lines:
        problems.append("评价指标体系为空，请先设置评价指标。")
    problems += [f"“{line.name}”（{line.get_dimension_display()}）尚未评分。" for line in lines if line.points is None]
    if not evaluation.findings.strip():
        problems.append("请填写评价发现的主要问题。")
    return problems


def has_report(evaluation: KeyEvaluation) -> bool:
    return Attachment.objects.for_object(evaluation).exists()


# --- edits -----------------------------------------------------------------------------------


def _lock(evaluation: KeyEvaluation, actor) -> KeyEvaluation:
    locked = (
        KeyEvaluation.objects.select_for_update(of=("self",)).select_related("plan", "department").get(pk=evaluation.pk)
    )
    if not permissions.can(actor, locked.conduct_action, locked):
        raise PermissionDenied("您无权修改该重点评价。")
    if locked.status not in EDITABLE:
        raise ValidationError(f"该评价当前状态为“{locked.get_status_display()}”，不能修改。")
    return locked


def _lines(evaluation: KeyEvaluation) -> list[KeyEvaluationLine]:
    return list(KeyEvaluationLine.objects.filter(evaluation=evaluation).order_by("sort_order", "pk"))


def _line_digest(lines: Iterable[KeyEvaluationLine]) -> list[str]:
    return [
        f"{line.get_dimension_display()}·{line.name}：{fmt(line.points)}/{fmt(line.max_points)}"
        for line in sorted(lines, key=lambda line: (DIMENSIONS.index(line.dimension), line.sort_order, line.pk or 0))
    ]


def _store_score(evaluation: KeyEvaluation, lines: list[KeyEvaluationLine], rules: KeyRules) -> None:
    evaluation.score = total_of(lines)
    evaluation.grade = scoring.grade_of(evaluation.score, rules.scoring) if evaluation.score is not None else ""


@transaction.atomic
def evaluation_set_weights(*, actor, evaluation: KeyEvaluation, weights: Mapping[str, object]) -> KeyEvaluation:
    """Set the four weights; each dimension's lines (分值, and points already given) are scaled to the
    new weight so the frame stays consistent. Refused (nothing changes) if the weights break a rule."""
    evaluation = _lock(evaluation, actor)
    rules = rules_of(evaluation)
    new, errors = parse_weights(weights)
    if errors:
        raise ValidationError(errors)
    problems = weight_problems(new, rules.min_output_effect)
    if problems:
        raise ValidationError(problems)
    lines = _lines(evaluation)
    before = {**audit.snapshot(evaluation, WEIGHT_FIELDS), "指标": _line_digest(lines)}
    created: list[KeyEvaluationLine] = []
    for dimension in DIMENSIONS:
        mine = [line for line in lines if line.dimension == dimension]
        created += _rescale(evaluation, dimension, mine, new[dimension])
        setattr(evaluation, f"weight_{dimension}", new[dimension])
    KeyEvaluationLine.objects.bulk_update(lines, ["max_points", "points"])
    for line in created:
        line.save()
    lines += created
    _store_score(evaluation, lines, rules)
    evaluation.save(update_fields=[*WEIGHT_FIELDS, "score", "grade", "updated_at"])
    after = {**audit.snapshot(evaluation, WEIGHT_FIELDS), "指标": _line_digest(lines)}
    audit.record(
        audit.Kind.UPDATE, actor=actor, obj=evaluation, changes=audit.diff(before, after), comment="调整一级指标权重"
    )
    return evaluation


def _rescale(evaluation, dimension: str, lines: list[KeyEvaluationLine], weight: Decimal) -> list[KeyEvaluationLine]:
    """Scale the lines of one dimension to ``weight`` (the last line takes the rounding rest).
    Returns a new line when the dimension had none and now carries weight."""
    if not lines:
        if weight == 0:
            return []
        return [
            KeyEvaluationLine(
                evaluation=evaluation,
                dimension=dimension,
                sort_order=99,
                name=DIMENSION_LABELS[dimension],
                max_points=weight,
            )
        ]
    old_total = sum((line.max_points for line in lines), ZERO)
    if old_total == weight:
        return []
    remaining = weight
    for i, line in enumerate(lines):
        old_max = line.max_points
        if i == len(lines) - 1:
            new_max = remaining
        elif old_total:
            new_max = (old_max * weight / old_total).quantize(CENT, rounding=ROUND_HALF_UP)
        else:
            new_max = (weight / len(lines)).quantize(CENT, rounding=ROUND_HALF_UP)
        new_max = max(min(new_max, remaining), ZERO)
        remaining -= new_max
        if line.points is not None:
            scaled = line.points * new_max / old_max if old_max else ZERO
            line.points = min(scaled.quantize(CENT, rounding=ROUND_HALF_UP), new_max)
        line.max_points = new_max
    return []


@dataclass
class LineEntry:
    """One line as typed (page or API). ``id`` is None for a new line."""

    dimension: str
    name: str
    max_points: object
    points: object = None
    comment: str = ""
    id: int | None = None


def _clean_entries(
    evaluation: KeyEvaluation, entries: list[LineEntry], existing: dict[int, KeyEvaluationLine]
) -> tuple[list[KeyEvaluationLine], list[str]]:
    errors: list[str] = []
    kept: list[KeyEvaluationLine] = []
    seen: set[int] = set()
    for position, entry in enumerate(entries, start=1):
        dimension = entry.dimension or ""
        label = f"第 {position} 行"
        if dimension not in DIMENSION_LABELS:
            errors.append(f"{label}：请选择一级指标（决策、过程、产出或效益）。")
            continue
        name = (entry.name or "").strip()
        label = f"第 {position} 行（{DIMENSION_LABELS[dimension]}·{name or '未命名'}）"
        if entry.id is not None:
            line = existing.get(entry.id)
            if line is None or entry.id in seen:
                raise ValidationError("指标行不属于该评价，请刷新页面后重新填写。")
            seen.add(entry.id)
        else:
            line = KeyEvaluationLine(evaluation=evaluation)
        problems = []
        if not name:
            problems.append(f"{label}：请填写评价指标名称。")
        elif len(name) > 100:
            problems.append(f"{label}：评价指标名称不能超过 100 个字。")
        try:
            max_points = _number(entry.max_points, "分值")
        except ValidationError as exc:
            problems += [f"{label}：{m}" for m in exc.messages]
            max_points = None
        points = None
        if entry.points not in (None, ""):
            try:
                points = _number(entry.points, "得分")
            except ValidationError as exc:
                problems += [f"{label}：{m}" for m in exc.messages]
            else:
                if max_points is not None and points > max_points:
                    problems.append(f"{label}：得分 {fmt(points)} 不能超过分值 {fmt(max_points)}。")
        errors += problems
        if problems:
            continue
        line.dimension, line.name, line.max_points, line.points = dimension, name, max_points, points
        line.comment = (entry.comment or "").strip()
        kept.append(line)
    if not errors and not kept:
        errors.append("评价指标体系不能为空。")
    return kept, errors


@transaction.atomic
def evaluation_save(
    *,
    actor,
    evaluation: KeyEvaluation,
    lines: list[LineEntry] | None = None,
    weights: Mapping[str, object] | None = None,
    findings: str | None = None,
    recommendations: str | None = None,
) -> KeyEvaluation:
    """Save the frame as a whole: ``lines`` is the complete list (lines left out are removed, lines
    without ``id`` are added), optionally new ``weights``, findings and recommendations. All or
    nothing: every problem is reported, naming the row, and nothing is saved. ``None`` = unchanged."""
    evaluation = _lock(evaluation, actor)
    rules = rules_of(evaluation)
    current = _lines(evaluation)
    existing = {line.pk: line for line in current}
    before = {
        **audit.snapshot(evaluation, [*WEIGHT_FIELDS, "findings", "recommendations", "score", "grade"]),
        "指标": _line_digest(current),
    }
    errors: list[str] = []
    new_weights = evaluation.weights
    if weights is not None:
        new_weights, weight_errors = parse_weights(weights)
        errors += weight_errors or weight_problems(new_weights, rules.min_output_effect)
    if lines is None:
        kept = current
    else:
        kept, line_errors = _clean_entries(evaluation, lines, existing)
        errors += line_errors
    if not errors:
        errors += frame_problems(new_weights, kept)
    if errors:
        raise ValidationError(errors)
    for dimension, value in new_weights.items():
        setattr(evaluation, f"weight_{dimension}", value)
    if findings is not None:
        evaluation.findings = findings.strip()
    if recommendations is not None:
        evaluation.recommendations = recommendations.strip()
    if lines is not None:
        order = dict.fromkeys(DIMENSIONS, 0)
        for line in sorted(kept, key=lambda line: DIMENSIONS.index(line.dimension)):
            line.sort_order = DIMENSIONS.index(line.dimension) * 100 + order[line.dimension]
            order[line.dimension] += 1
        removed = set(existing) - {line.pk for line in kept if line.pk}
        KeyEvaluationLine.objects.filter(pk__in=removed).delete()
        KeyEvaluationLine.objects.bulk_update(
            [line for line in kept if line.pk], ["dimension", "sort_order", "name", "max_points", "points", "comment"]
        )
        KeyEvaluationLine.objects.bulk_create([line for line in kept if not line.pk])
    _store_score(evaluation, kept, rules)
    evaluation.save(update_fields=[*WEIGHT_FIELDS, "findings", "recommendations", "score", "grade", "updated_at"])
    after = {
        **audit.snapshot(evaluation, [*WEIGHT_FIELDS, "findings", "recommendations", "score", "grade"]),
        "指标": _line_digest(kept),
    }
    changes = audit.diff(before, after)
    if changes:
        audit.record(audit.Kind.UPDATE, actor=actor, obj=evaluation, changes=changes, comment="保存评价评分")
    return evaluation


# --- workflow --------------------------------------------------------------------------------


def _plan_issued(evaluation: KeyEvaluation, actor) -> None:
    if evaluation.plan.status == EvaluationPlan.Status.DRAFT:
        raise ValidationError("评价计划尚未下达，不能开始评价。")


def _ready_to_submit(evaluation: KeyEvaluation, actor) -> None:
    problems = submission_problems(evaluation, _lines(evaluation), rules_of(evaluation))
    if problems:
        raise ValidationError(problems)


def _ready_to_complete(evaluation: KeyEvaluation, actor) -> None:
    problems = []
    if evaluation.score is None:
        problems.append("评价尚未完成评分，不能审定。")
    if not has_report(evaluation):
        problems.append("请先上传评价报告（附件），再审定评价结果。")
    if problems:
        raise ValidationError(problems)


def _flow(kind: str) -> Workflow:
    conduct, complete = f"evaluation.conduct_{kind}", f"evaluation.complete_{kind}"
    return Workflow(
        [
            Transition("start", frozenset({KS.PLANNED}), KS.IN_PROGRESS, conduct, "开始评价", _plan_issued),
            Transition("submit", frozenset({KS.IN_PROGRESS}), KS.SUBMITTED, conduct, "提交评价结果", _ready_to_submit),
            Transition("complete", frozenset({KS.SUBMITTED}), KS.COMPLETED, complete, "审定", _ready_to_complete),
            Transition(
                "return", frozenset({KS.SUBMITTED}), KS.IN_PROGRESS, complete, "退回修改", comment_required=True
            ),
        ]
    )


FLOWS = {kind: _flow(kind) for kind in EvaluationPlan.Kind.values}
TRANSITION_NAMES = ("start", "submit", "complete", "return")


def flow_of(evaluation: KeyEvaluation) -> Workflow:
    return FLOWS[evaluation.plan.kind]


def evaluation_transition(*, actor, evaluation: KeyEvaluation, name: str, comment: str = "") -> KeyEvaluation:
    """Take one step of the flow (``start``, ``submit``, ``complete``, ``return``)."""
    if name not in TRANSITION_NAMES:
        raise ValidationError(f"未知操作“{name}”。")
    now = timezone.now()
    fields = {"status_changed_at": now}
    if name == "complete":
        fields["completed_at"] = now
    flow = flow_of(evaluation)
    return flow.apply(evaluation, name=name, actor=actor, comment=(comment or "").strip(), fields=fields)


def available_transitions(evaluation: KeyEvaluation, user) -> list[Transition]:
    return flow_of(evaluation).available(evaluation, user)


def history(evaluation: KeyEvaluation):
    """Every audit row of the evaluation (edits and steps), oldest first."""
    from apps.core.models import AuditEvent

    return AuditEvent.objects.for_object(evaluation).select_related("actor").order_by("occurred_at", "id")
