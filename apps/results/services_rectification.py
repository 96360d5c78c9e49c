"""Writes of 整改 (rectification): raising items, the unit's work, finance's verification.

Every function is keyword-only, transactional, permission-checked (``apps.core.permissions``)
and audited (``apps.core.audit``); state changes go through ``RECTIFICATION_FLOW``
(``apps.core.workflow``): lock, check the table, the role and the guard, save, audit ``from → to``.

* raising (``rectification.create``, finance of the responsible unit's region):
  ``rectification_create`` (any source; manual and audit findings), and the three helpers that
  prefill from a record — ``rectifications_from_self_evaluation`` (one item per shortfall line of a
  finance-confirmed self-evaluation, idempotent), ``rectifications_from_key_evaluation`` (the
  findings of a completed key evaluation, one item per problem as finance edited/split them),
  ``rectification_from_key_monitoring`` (for the measure finance took);
* the unit (``rectification.fill``): ``rectification_save`` (measures and progress; the first
  save moves 待整改 → 整改中) and ``rectification_submit`` (报送核实: needs measures, a progress note
  and at least one evidence file);
* finance (``rectification.verify``): ``rectification_accept`` (→ 已完成) and
  ``rectification_reopen`` (comment required, → 整改中, counted, optionally a new deadline).

逾期 is never stored: ``Rectification.is_overdue`` / ``objects.overdue()`` derive it from the deadline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core import audit, permissions
from apps.core.templatetags.qd import cn_date
from apps.core.workflow import Transition, Workflow
from apps.evaluations.models import KeyEvaluation, SelfEvaluation
from apps.orgs.models import FiscalYear, Organization

from .models import Rectification
from .public_text import sentence

R = Rectification
S = Rectification.Status
Source = Rectification.Source
MAX_TEXT = 2000
MAX_ITEMS = 50  # one raise from a key evaluation's findings
RESPONSIBLE_KINDS = (Organization.Kind.DEPARTMENT, Organization.Kind.UNIT)


# --- helpers ---------------------------------------------------------------------------------------


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def _require_action(actor, action: str, message: str) -> None:
    if not permissions.has_action(actor, action):
        raise PermissionDenied(message)


def _text(value, field: str, label: str, *, required: bool, errors: dict) -> str:
    text = (value or "").strip()
    if required and not text:
        errors.setdefault(field, []).append(f"请填写{label}。")
    elif len(text) > MAX_TEXT:
        errors.setdefault(field, []).append(f"{label}不能超过 {MAX_TEXT} 个字（现有 {len(text)} 个字）。")
    return text


def _deadline(value, errors: dict, today: date, field: str = "deadline") -> date | None:
    if value in (None, ""):
        errors.setdefault(field, []).append("请填写整改期限。")
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            errors.setdefault(field, []).append("整改期限格式不正确，请按 2027-03-31 的格式填写。")
            return None
    if value <= today:
        errors.setdefault(field, []).append(f"整改期限应晚于今天（{cn_date(today)}）。")
        return None
    return value


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def evidence_count(item: Rectification) -> int:
    from apps.attachments.models import Attachment

    return Attachment.objects.for_object(item).count()


# --- the workflow table ------------------------------------------------------------------------


def _ready_for_verification(item: Rectification, actor) -> None:
    """Guard of 报送核实: measures, a progress note and at least one evidence file."""
    problems = []
    if not item.measures.strip():
        problems.append("请先填写整改措施。")
    if not item.progress_note.strip():
        problems.append("请先填写整改情况。")
    if evidence_count(item) == 0:
        problems.append("请至少上传一份整改佐证材料。")
    if problems:
        raise ValidationError(problems)


RECTIFICATION_FLOW = Workflow(
    [
        Transition("start", frozenset({S.PENDING}), S.IN_PROGRESS, "rectification.fill", "开始整改"),
        Transition(
            "submit",
            frozenset({S.PENDING, S.IN_PROGRESS}),
            S.VERIFYING,
            "rectification.fill",
            "报送核实",
            _ready_for_verification,
        ),
        Transition("accept", frozenset({S.VERIFYING}), S.DONE, "rectification.verify", "核实通过"),
        Transition(
            "reopen", frozenset({S.VERIFYING}), S.IN_PROGRESS, "rectification.verify", "重新整改", comment_required=True
        ),
    ]
)


def available_steps(item: Rectification, user) -> list[str]:
    """Names of the workflow steps the user may take now (buttons; the services check again)."""
    return [t.name for t in RECTIFICATION_FLOW.available(item, user)]


def history(item: Rectification):
    """Every audited change of the item (raised, saves, transitions, evidence), oldest first."""
    from apps.core.models import AuditEvent

    return AuditEvent.objects.for_object(item).order_by("occurred_at", "id")


# --- raising ---------------------------------------------------------------------------------------


def _source_defaults(source: str, record) -> dict:
    """Fund, responsible unit and year of the record an item is raised from."""
    if source == Source.SELF_EVALUATION:
        return {
            "self_evaluation": record,
            "fund": record.fund,
            "organization": record.organization,
            "fiscal_year_id": record.round.fiscal_year_id,
        }
    if source == Source.KEY_EVALUATION:
        # The fund's implementing unit; a 部门整体评价 is the department's own.
        org = record.fund.organization if record.fund_id else record.department
        return {
            "key_evaluation": record,
            "fund": record.fund,
            "organization": org,
            "fiscal_year_id": record.plan.fiscal_year_id,
        }
    if source == Source.MONITORING:
        return {
            "key_monitoring": record,
            "fund": record.fund,
            "organization": record.fund.organization,
            "fiscal_year_id": record.fiscal_year_id,
        }
    return {}


@dataclass
class Draft:
    """One item as finance typed it (before validation)."""

    problem: str
    requirement: str = ""
    measures: str = ""
    source_reference: str = ""


def _build(
    *,
    actor,
    source: str,
    draft: Draft,
    deadline,
    record=None,
    organization: Organization | None = None,
    fund=None,
    fiscal_year=None,
    today: date,
    errors: dict,
) -> Rectification:
    if source not in Source.values:
        errors.setdefault("source", []).append("问题来源无效。")
        source = Source.AUDIT
    problem = _text(draft.problem, "problem", "存在问题", required=True, errors=errors)
    requirement = _text(draft.requirement, "requirement", "整改要求", required=False, errors=errors)
    measures = _text(draft.measures, "measures", "整改措施", required=False, errors=errors)
    reference = (draft.source_reference or "").strip()
    if len(reference) > 200:
        errors.setdefault("source_reference", []).append("来源文号/说明不能超过 200 个字。")
    if source == Source.AUDIT and not reference:
        errors.setdefault("source_reference", []).append("审计发现的问题请填写审计报告文号。")
    when = _deadline(deadline, errors, today)
    values = _source_defaults(source, record) if record is not None else {}
    if record is None and source in (Source.SELF_EVALUATION, Source.KEY_EVALUATION):
        errors.setdefault("source", []).append("请从单位自评或重点评价页面下达该来源的整改。")
    if record is None:
        if fund is not None:
            values["fund"] = fund
            values["fiscal_year_id"] = fund.fiscal_year_id
            organization = organization or fund.organization
            if organization is not None and organization.pk not in (fund.organization_id, fund.department_id):
                errors.setdefault("organization", []).append(f"整改责任单位应为项目“{fund.name}”的实施单位或主管部门。")
        if organization is None:
            errors.setdefault("organization", []).append("请选择整改责任单位。")
        elif organization.kind not in RESPONSIBLE_KINDS:
            errors.setdefault("organization", []).append("整改责任单位应为预算部门或预算单位。")
        values["organization"] = organization
        if "fiscal_year_id" not in values:
            year = fiscal_year.pk if isinstance(fiscal_year, FiscalYear) else fiscal_year
            values["fiscal_year_id"] = year or today.year
    item = Rectification(
        source=source,
        problem=problem,
        requirement=requirement,
        measures=measures,
        source_reference=reference,
        deadline=when or today,
        created_by=actor,
        **values,
    )
    if item.organization_id is not None:
        item.region_id = item.organization.region_id
    return item


def _check_may_create(actor, item: Rectification) -> None:
    if item.organization is None or not permissions.can(actor, "rectification.create", item):
        raise PermissionDenied("只有该单位所在区域的财政部门可以下达整改事项。")


def _save_new(actor, item: Rectification) -> Rectification:
    if not FiscalYear.objects.filter(pk=item.fiscal_year_id).exists():
        raise ValidationError({"fiscal_year": f"{item.fiscal_year_id}年度不存在。"})
    item.full_clean(exclude=["region", "created_by"])
    item.save()
    audit.record(
        audit.Kind.CREATE,
        actor=actor,
        obj=item,
        changes={
            "status": {"from": None, "to": item.status},
            "deadline": {"from": None, "to": item.deadline.isoformat()},
            "organization": {"from": None, "to": str(item.organization)},
        },
        comment=f"下达整改（{item.get_source_display()}）：{item.problem[:100]}",
    )
    return item


@transaction.atomic
def rectification_create(
    *,
    actor,
    problem: str,
    deadline,
    requirement: str = "",
    source: str = Source.AUDIT,
    record=None,
    organization: Organization | None = None,
    fund=None,
    fiscal_year=None,
    source_reference: str = "",
    measures: str = "",
    today: date | None = None,
) -> Rectification:
    """Raise one item. With ``record`` (a SelfEvaluation, KeyEvaluation or KeyMonitoring matching
    ``source``) the fund, the responsible unit (the fund's implementing unit) and the year come from
    it; otherwise (an audit finding, a manual item) from ``fund`` / ``organization`` / ``fiscal_year``."""
    _require_action(actor, "rectification.create", "您的角色无权下达整改事项。")
    today = _today(today)
    errors: dict[str, list[str]] = {}
    if record is not None:
        _check_record(source, record, errors)
        if source == Source.MONITORING:
            record = _lock_key_monitoring(record)
    item = _build(
        actor=actor,
        source=source,
        draft=Draft(problem, requirement, measures, source_reference),
        deadline=deadline,
        record=record,
        organization=organization,
        fund=fund,
        fiscal_year=fiscal_year,
        today=today,
        errors=errors,
    )
    if item.organization_id is not None:
        _check_may_create(actor, item)
    _raise(errors)
    return _save_new(actor, item)


def _lock_key_monitoring(key):
    """The key-monitoring row, locked until commit, refused when it has an open item already: a
    double click (or two finance users at once) raises one item, not two. The second request waits
    for the first to commit, then finds its item."""
    from apps.monitoring.models import KeyMonitoring

    locked = KeyMonitoring.objects.select_for_update(of=("self",)).select_related("fund__organization").get(pk=key.pk)
    open_item = Rectification.objects.filter(key_monitoring=locked).exclude(status=S.DONE).order_by("id").first()
    if open_item is not None:
        raise ValidationError(
            {
                "source": [
                    f"该重点监控项目已下达整改（{open_item.status_label}，整改期限 {cn_date(open_item.deadline)}），"
                    "整改完成前不能重复下达。"
                ]
            }
        )
    return locked


def _check_record(source: str, record, errors: dict) -> None:
    from apps.monitoring.models import KeyMonitoring

    expected = {
        Source.SELF_EVALUATION: SelfEvaluation,
        Source.KEY_EVALUATION: KeyEvaluation,
        Source.MONITORING: KeyMonitoring,
    }.get(source)
    if expected is None or not isinstance(record, expected):
        raise ValidationError({"source": "问题来源与来源记录不符。"})
    if source == Source.SELF_EVALUATION and record.status != SelfEvaluation.Status.CONFIRMED:
        errors.setdefault("source", []).append("只能对财政已审核的单位自评下达整改。")
    if source == Source.KEY_EVALUATION and record.status != KeyEvaluation.Status.COMPLETED:
        errors.setdefault("source", []).append("只能对已完成的重点评价下达整改。")
    if source == Source.MONITORING and not record.measure:
        errors.setdefault("source", []).append("请先对该重点监控项目作出处理措施，再下达整改。")


# --- from a self-evaluation: one item per shortfall line ------------------------------------------


@dataclass(frozen=True)
class Shortfall:
    """A line (or the budget execution) of a self-evaluation that lost points."""

    reference: str  # stored in ``source_reference``: the line's identity for idempotency
    name: str
    problem: str
    measure: str
    raised: bool = False


EXECUTION_REFERENCE = "自评项目：预算执行率"


def _plain_number(value) -> str:
    """Decimal('90.0000') → '90' (no trailing zeros)."""
    if value is None:
        return "—"
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _line_reference(name: str, position: int, duplicated: bool) -> str:
    return f"自评指标：{name}" + (f"（第 {position} 项）" if duplicated else "")


def self_evaluation_shortfalls(evaluation: SelfEvaluation) -> list[Shortfall]:
    """The shortfalls of the evaluation as computed by the scoring rules, each marked ``raised``
    when an item with its reference exists already (3 queries: lines, rules, items)."""
    from apps.evaluations import scoring
    from apps.evaluations import services as self_services

    lines = self_services.locked_lines(evaluation)
    try:
        result = self_services.compute(evaluation, lines)
    except scoring.ScoringError:
        return []
    names = [line.indicator.name for line in lines]
    by_pk = {line.pk: (position, line) for position, line in enumerate(lines, start=1)}
    raised = set(Rectification.objects.filter(self_evaluation=evaluation).values_list("source_reference", flat=True))
    shortfalls = []
    for row in result.lines:
        if row.missing or not row.lost:
            continue
        if row.key == scoring.EXECUTION:
            executed = evaluation.executed_amount or 0
            rate = (executed / evaluation.budget_amount * 100) if evaluation.budget_amount else 100
            problem = f"预算执行率为 {rate:.2f}%，未全部执行。" + (
                f"偏差原因：{sentence(evaluation.execution_reason)}" if sentence(evaluation.execution_reason) else ""
            )
            ref, measure = EXECUTION_REFERENCE, evaluation.execution_measure
        else:
            position, line = by_pk[row.key]
            ref = _line_reference(line.indicator.name, position, names.count(line.indicator.name) > 1)
            ind = line.indicator
            if ind.comparison == "qualitative":
                actual, unit = f"{line.get_band_display()}，得分比例 {_plain_number(line.band_percent)}%", ""
            else:
                actual, unit = _plain_number(line.actual_value), ind.unit
            problem = f"指标“{ind.name}”未完成年度目标（目标值 {ind.value_display}，实际完成 {actual}{unit}）。"
            if sentence(line.shortfall_reason):
                problem += f"偏差原因：{sentence(line.shortfall_reason)}"
            measure = line.improvement_measure
        shortfalls.append(Shortfall(ref, row.name, problem, measure or "", ref in raised))
    return shortfalls


@transaction.atomic
def rectifications_from_self_evaluation(
    *, actor, evaluation: SelfEvaluation, deadline, requirement: str = "", today: date | None = None
) -> list[Rectification]:
    """One item per shortfall line (and for an unspent budget) of a finance-confirmed
    self-evaluation, prefilled with the unit's reason and measure. Lines already raised are skipped,
    so running it twice creates nothing the second time. Returns the items created."""
    _require_action(actor, "rectification.create", "您的角色无权下达整改事项。")
    today = _today(today)
    evaluation = SelfEvaluation.objects.select_for_update().get(pk=evaluation.pk)
    evaluation = SelfEvaluation.objects.select_related("fund", "organization", "round__organization").get(
        pk=evaluation.pk
    )
    errors: dict[str, list[str]] = {}
    _check_record(Source.SELF_EVALUATION, evaluation, errors)
    probe = Rectification(organization=evaluation.organization)
    _check_may_create(actor, probe)
    _raise(errors)
    todo = [s for s in self_evaluation_shortfalls(evaluation) if not s.raised]
    if not todo:
        _deadline(deadline, errors, today)
        _raise(errors)
        return []
    items = []
    for shortfall in todo:
        item = _build(
            actor=actor,
            source=Source.SELF_EVALUATION,
            draft=Draft(
                problem=shortfall.problem,
                requirement=requirement or "请针对偏差原因落实改进措施，按期报送整改情况和佐证材料。",
                measures=shortfall.measure,
                source_reference=shortfall.reference,
            ),
            deadline=deadline,
            record=evaluation,
            today=today,
            errors=errors,
        )
        _raise(errors)
        items.append(_save_new(actor, item))
    return items


# --- from a key evaluation's findings -----------------------------------------------------------

_NUMBERING = re.compile(r"^\s*(?:[（(]?\d+[)）.、．]|[一二三四五六七八九十]+[、.．]|[-•·*])\s*")


def split_findings(text: str) -> list[str]:
    """The findings text as one problem per line, without numbering (“1. …；” → “…”)."""
    problems = []
    for raw in (text or "").splitlines():
        line = _NUMBERING.sub("", raw).strip().rstrip("；;。").strip()
        if line:
            problems.append(line + "。")
    return problems


@transaction.atomic
def rectifications_from_key_evaluation(
    *,
    actor,
    evaluation: KeyEvaluation,
    problems: Iterable[str],
    deadline,
    requirement: str = "",
    today: date | None = None,
) -> list[Rectification]:
    """One item per problem (finance edits/splits the findings first; ``split_findings`` proposes
    them). A problem already raised for this evaluation with the same text is skipped."""
    _require_action(actor, "rectification.create", "您的角色无权下达整改事项。")
    today = _today(today)
    # Lock the evaluation: two raises at once (a double click) cannot both create the same items.
    list(KeyEvaluation.objects.select_for_update().filter(pk=evaluation.pk).order_by().values_list("pk"))
    evaluation = KeyEvaluation.objects.select_related("fund__organization", "department", "plan").get(pk=evaluation.pk)
    errors: dict[str, list[str]] = {}
    _check_record(Source.KEY_EVALUATION, evaluation, errors)
    org = evaluation.fund.organization if evaluation.fund_id else evaluation.department
    _check_may_create(actor, Rectification(organization=org))
    problems = [p.strip() for p in problems if p and p.strip()]
    if not problems:
        errors.setdefault("problems", []).append("请至少填写一项存在问题。")
    if len(problems) > MAX_ITEMS:
        errors.setdefault("problems", []).append(f"一次最多下达 {MAX_ITEMS} 项整改。")
    _deadline(deadline, errors, today)
    _raise(errors)
    existing = set(Rectification.objects.filter(key_evaluation=evaluation).values_list("problem", flat=True))
    items = []
    for n, problem in enumerate(dict.fromkeys(problems), start=1):
        if problem in existing:
            continue
        item = _build(
            actor=actor,
            source=Source.KEY_EVALUATION,
            draft=Draft(problem=problem, requirement=requirement, source_reference=f"{evaluation}：问题 {n}"[:200]),
            deadline=deadline,
            record=evaluation,
            today=today,
            errors=errors,
        )
        if errors:
            raise ValidationError({"problems": [f"第 {n} 项：{m}" for ms in errors.values() for m in ms]})
        items.append(_save_new(actor, item))
    return items


def key_monitoring_problem(key) -> str:
    """The proposed problem text for a key-monitoring measure."""
    text = f"重点监控发现问题，财政已作出“{key.get_measure_display()}”处理。" if key.measure else ""
    return text + (f"理由：{sentence(key.measure_reason)}" if sentence(key.measure_reason) else "")


@transaction.atomic
def rectification_from_key_monitoring(
    *, actor, key, problem: str, deadline, requirement: str = "", today: date | None = None
) -> Rectification:
    """An item for the measure finance took on a key-monitored fund; refused while an earlier item
    for it is still open (the row is locked, see ``_lock_key_monitoring``)."""
    key = _lock_key_monitoring(key)
    return rectification_create(
        actor=actor,
        problem=problem,
        deadline=deadline,
        requirement=requirement,
        source=Source.MONITORING,
        record=key,
        source_reference=f"{key.fiscal_year_id}年度重点监控：{key.get_measure_display()}",
        today=today,
    )


# --- the unit's work -------------------------------------------------------------------------------


def _locked(item: Rectification) -> Rectification:
    return Rectification.objects.select_for_update(of=("self",)).select_related("organization").get(pk=item.pk)


@transaction.atomic
def rectification_save(
    *, actor, item: Rectification, measures: str | None = None, progress_note: str | None = None
) -> Rectification:
    """Save the unit's measures and progress (整改措施、整改情况). Only the fields given are changed:
    ``None`` (absent from an API payload) keeps the stored text; the page form always sends both.
    The first save moves 待整改 → 整改中 (audited as a transition); later saves are audited as changes."""
    _require_action(actor, "rectification.fill", "您的角色无权填报整改情况。")
    locked = _locked(item)
    if not permissions.can(actor, "rectification.fill", locked):
        raise PermissionDenied("只有整改责任单位（及其主管部门）可以填报整改情况。")
    if locked.status not in (S.PENDING, S.IN_PROGRESS):
        raise ValidationError(f"该整改事项当前状态为“{locked.get_status_display()}”，不能修改。")
    errors: dict[str, list[str]] = {}
    fields: dict[str, str] = {}
    if measures is not None:
        fields["measures"] = _text(measures, "measures", "整改措施", required=False, errors=errors)
    if progress_note is not None:
        fields["progress_note"] = _text(progress_note, "progress_note", "整改情况", required=False, errors=errors)
    after = {"measures": locked.measures, "progress_note": locked.progress_note, **fields}
    if not fields or not (after["measures"].strip() or after["progress_note"].strip()):
        errors.setdefault("measures", []).append("请填写整改措施或整改情况。")
    _raise(errors)
    if locked.status == S.PENDING:
        return RECTIFICATION_FLOW.apply(locked, name="start", actor=actor, fields=fields)
    before = audit.snapshot(locked, list(fields))
    for name, value in fields.items():
        setattr(locked, name, value)
    changes = audit.diff(before, audit.snapshot(locked, list(fields)))
    if changes:
        locked.save(update_fields=[*fields, "updated_at"])
        audit.record(audit.Kind.UPDATE, actor=actor, obj=locked, changes=changes)
    return locked


def rectification_submit(*, actor, item: Rectification, comment: str = "") -> Rectification:
    """报送核实: measures, progress note and at least one evidence file are required."""
    _require_action(actor, "rectification.fill", "您的角色无权报送整改情况。")
    return RECTIFICATION_FLOW.apply(
        item, name="submit", actor=actor, comment=(comment or "").strip(), fields={"submitted_at": timezone.now()}
    )


# --- finance's verification -----------------------------------------------------------------------


def rectification_accept(*, actor, item: Rectification, comment: str = "", today: date | None = None) -> Rectification:
    """核实通过 → 已完成 (completed today; who and when recorded; the comment is optional)."""
    _require_action(actor, "rectification.verify", "您的角色无权核实整改。")
    comment = (comment or "").strip()
    if len(comment) > MAX_TEXT:
        raise ValidationError({"comment": f"核实意见不能超过 {MAX_TEXT} 个字。"})
    return RECTIFICATION_FLOW.apply(
        item,
        name="accept",
        actor=actor,
        comment=comment,
        fields={
            "completed_on": _today(today),
            "verified_by": actor,
            "verified_at": timezone.now(),
            "verification_comment": comment,
        },
    )


def rectification_reopen(
    *, actor, item: Rectification, comment: str, deadline=None, today: date | None = None
) -> Rectification:
    """重新整改 → 整改中: the comment says what is still missing; optionally a new deadline."""
    _require_action(actor, "rectification.verify", "您的角色无权核实整改。")
    comment = (comment or "").strip()
    errors: dict[str, list[str]] = {}
    if len(comment) > MAX_TEXT:
        errors["comment"] = [f"核实意见不能超过 {MAX_TEXT} 个字。"]
    fields: dict = {"verification_comment": comment, "verified_by": actor, "verified_at": timezone.now()}
    if deadline not in (None, ""):
        when = _deadline(deadline, errors, _today(today))
        if when is not None:
            fields["deadline"] = when
    _raise(errors)
    with transaction.atomic():
        locked = _locked(item)
        fields["reopen_count"] = locked.reopen_count + 1
        return RECTIFICATION_FLOW.apply(locked, name="reopen", actor=actor, comment=comment, fields=fields)
