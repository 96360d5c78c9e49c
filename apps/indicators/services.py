"""Writes on the indicator library: maintenance by 绩效管理处 and department proposals.

Every write is keyword-only, atomic, permission-checked and audited. Status changes go through
``_transition`` (lock the row, check the table below, save the changed fields, audit).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from apps.core import audit, permissions

from .framework import LEVEL2_PARENT, Comparison, Level1, Level2, Sector
from .models import LibraryIndicator
from .reference import code_prefix

Status = LibraryIndicator.Status

EDITABLE_FIELDS = [
    "name",
    "level1",
    "level2",
    "sector",
    "comparison",
    "unit",
    "reference_value",
    "description",
    "is_core",
]
PROPOSAL_FIELDS = [f for f in EDITABLE_FIELDS if f != "is_core"]
AUDITED_FIELDS = ["code", *EDITABLE_FIELDS, "status", "organization", "proposal_reason", "decision_comment"]

MANAGE_DENIED = "只有市财政局绩效管理处可以维护指标库、审核部门建议指标。"
PROPOSE_DENIED = "只有预算部门和预算单位的填报、审核人员可以建议新增库指标。"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    label: str
    comment_required: bool = False


TRANSITIONS: dict[str, Transition] = {
    "retire": Transition(frozenset({Status.ACTIVE}), Status.RETIRED, "停用", comment_required=True),
    "restore": Transition(frozenset({Status.RETIRED}), Status.ACTIVE, "恢复启用"),
    "accept": Transition(frozenset({Status.PROPOSED}), Status.ACTIVE, "采纳"),
    "reject": Transition(frozenset({Status.PROPOSED}), Status.REJECTED, "不予采纳", comment_required=True),
}


def _require(actor, action: str, message: str) -> None:
    if not permissions.has_action(actor, action):
        raise PermissionDenied(message)


def _clean_text(fields: dict) -> dict:
    return {k: v.strip() if isinstance(v, str) else v for k, v in fields.items()}


def _check_rules(indicator: LibraryIndicator) -> None:
    """Business rules with field-level Chinese messages (before the model's own validation)."""
    errors: dict[str, str] = {}
    if not indicator.name:
        errors["name"] = "请填写指标名称。"
    if indicator.sector not in Sector.values:
        errors["sector"] = "请选择行业领域。"
    if indicator.comparison not in Comparison.values:
        errors["comparison"] = "请选择比较方式（≥、≤、= 或定性）。"
    if indicator.level1 not in Level1.values:
        errors["level1"] = "请选择一级指标。"
    if indicator.level2 not in Level2.values:
        errors["level2"] = "请选择二级指标。"
    elif indicator.level1 in Level1.values and LEVEL2_PARENT[indicator.level2] != indicator.level1:
        errors["level2"] = (
            f"二级指标“{Level2(indicator.level2).label}”不属于一级指标“{Level1(indicator.level1).label}”，"
            f"应归入“{Level1(LEVEL2_PARENT[indicator.level2]).label}”。请重新选择。"
        )
    quantitative = indicator.comparison in Comparison.values and indicator.comparison != Comparison.QUALITATIVE
    if quantitative and not indicator.unit:
        errors["unit"] = "定量指标须填写计量单位（如 %、人次、万元）。"
    if errors:
        raise ValidationError(errors)


def _check(indicator: LibraryIndicator) -> None:
    _check_rules(indicator)
    indicator.full_clean()


def _check_not_duplicate(indicator: LibraryIndicator) -> None:
    """The library should not hold the same indicator twice within a sector."""
    clash = (
        LibraryIndicator.objects.filter(
            organization__isnull=True,
            status=Status.ACTIVE,
            sector=indicator.sector,
            name=indicator.name,
        )
        .exclude(pk=indicator.pk)
        .first()
    )
    if clash is not None:
        raise ValidationError({"name": f"指标库中已有同名指标“{clash.name}”（编码 {clash.code}），请勿重复。"})


def next_code(*, sector: str, level2: str) -> str:
    """The next free library code of a sector and 二级 category, e.g. EDU-Q-006."""
    prefix = code_prefix(sector, level2)
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)$")
    used = LibraryIndicator.objects.filter(code__startswith=prefix).values_list("code", flat=True)
    numbers = [int(match.group(1)) for match in map(pattern.match, used) if match]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


def _fields_of(fields: dict, allowed: list[str]) -> dict:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unexpected indicator fields: {sorted(unknown)}")
    return _clean_text(fields)


def _save_new_code(indicator: LibraryIndicator, update_fields=None) -> None:
    """Two people adding to the same category at once may both compute the same next code; the
    database's unique index refuses the second, which gets a message instead of an error page."""
    try:
        with transaction.atomic():
            indicator.save(update_fields=update_fields)
    except IntegrityError:
        raise ValidationError({"code": f"指标编码“{indicator.code}”刚被他人使用，请重新提交。"}) from None


@transaction.atomic
def indicator_create(*, actor, code: str = "", **fields) -> LibraryIndicator:
    """Add an indicator to the library (在用). ``code`` empty: the next code of its category."""
    _require(actor, "indicator.manage", MANAGE_DENIED)
    values = _fields_of(fields, EDITABLE_FIELDS)
    indicator = LibraryIndicator(status=Status.ACTIVE, organization=None, **values)
    _check_rules(indicator)
    code = (code or "").strip().upper()
    indicator.code = code or next_code(sector=indicator.sector, level2=indicator.level2)
    if LibraryIndicator.objects.filter(code=indicator.code).exists():
        raise ValidationError({"code": f"指标编码“{indicator.code}”已被使用，请换一个编码或留空自动生成。"})
    indicator.full_clean()
    _check_not_duplicate(indicator)
    _save_new_code(indicator)
    audit.record(
        audit.Kind.CREATE,
        actor=actor,
        obj=indicator,
        changes=audit.diff({}, audit.snapshot(indicator, AUDITED_FIELDS)),
    )
    return indicator


def _locked(indicator: LibraryIndicator) -> LibraryIndicator:
    return LibraryIndicator.objects.select_for_update().get(pk=indicator.pk)


@transaction.atomic
def indicator_update(*, actor, indicator: LibraryIndicator, **fields) -> LibraryIndicator:
    """Change a library indicator (or polish a pending proposal before deciding on it)."""
    _require(actor, "indicator.manage", MANAGE_DENIED)
    values = _fields_of(fields, EDITABLE_FIELDS)
    locked = _locked(indicator)
    if locked.status == Status.REJECTED:
        raise ValidationError(f"该指标当前状态为“{locked.get_status_display()}”，不能修改。")
    before = audit.snapshot(locked, AUDITED_FIELDS)
    for name, value in values.items():
        setattr(locked, name, value)
    _check(locked)
    if locked.status == Status.ACTIVE:
        _check_not_duplicate(locked)
    changes = audit.diff(before, audit.snapshot(locked, AUDITED_FIELDS))
    if changes:
        locked.save(update_fields=[*changes, "updated_at"])
        audit.record(audit.Kind.UPDATE, actor=actor, obj=locked, changes=changes)
    return locked


def _transition(
    *, actor, indicator: LibraryIndicator, name: str, comment: str = "", fields: dict | None = None
) -> LibraryIndicator:
    """Move ``indicator`` along TRANSITIONS under a row lock; a second click finds it moved on."""
    transition = TRANSITIONS[name]
    comment = (comment or "").strip()
    _require(actor, "indicator.manage", MANAGE_DENIED)
    locked = _locked(indicator)
    if locked.status not in transition.sources:
        raise ValidationError(
            f"该指标当前状态为“{locked.get_status_display()}”，不能执行“{transition.label}”。"
            "可能已被他人处理，请刷新页面后查看。"
        )
    if transition.comment_required and not comment:
        raise ValidationError({"comment": f"执行“{transition.label}”必须填写理由或意见。"})
    before = audit.snapshot(locked, AUDITED_FIELDS)
    locked.status = transition.target
    for field, value in (fields or {}).items():
        setattr(locked, field, value)
    if name == "accept":
        _check_not_duplicate(locked)
    changes = audit.diff(before, audit.snapshot(locked, AUDITED_FIELDS))
    locked.save(update_fields=[*changes, "updated_at"])
    audit.record(audit.Kind.TRANSITION, actor=actor, obj=locked, changes=changes, comment=comment)
    return locked


@transaction.atomic
def indicator_retire(*, actor, indicator: LibraryIndicator, reason: str) -> LibraryIndicator:
    """停用: the indicator stays on record (targets keep referring to it) but is no longer offered."""
    return _transition(actor=actor, indicator=indicator, name="retire", comment=reason)


@transaction.atomic
def indicator_restore(*, actor, indicator: LibraryIndicator, comment: str = "") -> LibraryIndicator:
    locked = _transition(actor=actor, indicator=indicator, name="restore", comment=comment)
    _check_not_duplicate(locked)
    return locked


@transaction.atomic
def indicator_propose(*, actor, reason: str, **fields) -> LibraryIndicator:
    """A department (or one of its units) proposes a new library indicator for 绩效管理处 to decide."""
    _require(actor, "indicator.propose", PROPOSE_DENIED)
    values = _fields_of(fields, PROPOSAL_FIELDS)
    org = actor.organization
    department = (org.department or org) if org is not None else None
    if department is None:
        raise PermissionDenied("您的账号未分配机构，不能建议新增库指标。")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"proposal_reason": "请说明建议理由（用于哪些项目、现有库指标为何不适用）。"})
    indicator = LibraryIndicator(
        code=f"P-TMP-{uuid.uuid4().hex[:20]}",
        status=Status.PROPOSED,
        organization=department,
        proposer_organization=department,
        proposed_by=actor,
        proposal_reason=reason,
        is_core=False,
        **values,
    )
    _check(indicator)
    _check_not_duplicate(indicator)
    indicator.save()
    indicator.code = f"P-{indicator.pk}"
    indicator.save(update_fields=["code"])
    audit.record(
        audit.Kind.CREATE,
        actor=actor,
        obj=indicator,
        changes=audit.diff({}, audit.snapshot(indicator, AUDITED_FIELDS)),
        comment=reason,
    )
    return indicator


@transaction.atomic
def proposal_accept(*, actor, indicator: LibraryIndicator, comment: str = "") -> LibraryIndicator:
    """采纳: the proposal joins the library (no owner, 在用) under a proper library code."""
    _require(actor, "indicator.manage", MANAGE_DENIED)
    code = next_code(sector=indicator.sector, level2=indicator.level2)
    return _transition(
        actor=actor,
        indicator=indicator,
        name="accept",
        comment=comment,
        fields={"organization": None, "code": code, "decision_comment": (comment or "").strip()},
    )


@transaction.atomic
def proposal_reject(*, actor, indicator: LibraryIndicator, comment: str) -> LibraryIndicator:
    """不予采纳: the department sees the reason on its proposals page."""
    return _transition(
        actor=actor,
        indicator=indicator,
        name="reject",
        comment=comment,
        fields={"decision_comment": (comment or "").strip()},
    )
