"""Audit supervision: findings that open rectifications, and referrals to the discipline commission.

A finding is recorded by the auditor; in the same transaction it opens a rectification of source
审计发现 for the responsible unit (the results app's rules apply: deadline, evidence, finance's
verification). The auditor closes (销号) the finding once the rectification is done. A referral is
a record of the audit bureau alone: it never names itself to the organisation concerned — no
notification, no reminder, no link from the finding or the rectification pages.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core import audit, permissions
from apps.results import services_rectification as rect
from apps.results.models import Rectification

from .models import AuditCategory, AuditFinding, Referral

MAX_AMOUNT = Decimal("9999999999999999.99")


def _require(actor, action: str, obj=None, message: str = "您的角色无权进行该操作。") -> None:
    allowed = permissions.can(actor, action, obj) if obj is not None else permissions.has_action(actor, action)
    if not allowed:
        raise PermissionDenied(message)


def _amount(value, errors: dict) -> Decimal:
    try:
        amount = Decimal(str(value if value not in (None, "") else "0")).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        errors.setdefault("amount_involved", []).append("涉及金额应为数字（元）。")
        return Decimal("0")
    if amount < 0 or amount > MAX_AMOUNT:
        errors.setdefault("amount_involved", []).append("涉及金额应在 0 至 9999999999999999.99 元之间。")
    return amount


@transaction.atomic
def finding_create(
    *,
    actor,
    organization,
    fiscal_year,
    source_audit: str,
    category: str,
    problem: str,
    deadline,
    requirement: str = "",
    amount_involved=0,
    found_on: date | None = None,
    fund=None,
    today: date | None = None,
) -> AuditFinding:
    """Record a finding and open its rectification; all or nothing."""
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    if category not in AuditCategory.values:
        errors.setdefault("category", []).append("问题类别无效。")
    if not (source_audit or "").strip():
        errors.setdefault("source_audit", []).append("请填写审计项目或审计报告文号。")
    amount = _amount(amount_involved, errors)
    found_on = found_on or today
    if found_on > today:
        errors.setdefault("found_on", []).append("发现日期不能晚于今天。")
    item = rect._build(
        actor=actor,
        source=Rectification.Source.AUDIT,
        draft=rect.Draft(problem, requirement, "", (source_audit or "").strip()),
        deadline=deadline,
        organization=organization,
        fund=fund,
        fiscal_year=fiscal_year,
        today=today,
        errors=errors,
    )
    finding = AuditFinding(
        organization_id=item.organization_id,
        fiscal_year_id=item.fiscal_year_id,
        fund=fund,
        source_audit=(source_audit or "").strip(),
        category=category,
        problem=item.problem,
        amount_involved=amount,
        found_on=found_on,
        created_by=actor,
    )
    if item.organization_id is not None:
        finding.region_id = item.region_id
        _require(actor, "finding.manage", finding, "只有本区域的审计部门可以登记审计发现。")
    rect._raise(errors)
    finding.rectification = rect._save_new(actor, item)
    finding.full_clean(exclude=["region", "created_by", "rectification"])
    finding.save()
    audit.record(
        audit.Kind.CREATE,
        actor=actor,
        obj=finding,
        changes={"status": {"from": None, "to": finding.status}, "amount_involved": {"from": None, "to": str(amount)}},
        comment=f"登记审计发现并下达整改：{finding.problem[:100]}",
    )
    return finding


@transaction.atomic
def finding_close(*, actor, finding: AuditFinding, comment: str) -> AuditFinding:
    """销号: the auditor confirms a finding whose rectification finance has accepted."""
    finding = AuditFinding.objects.select_for_update().get(pk=finding.pk)
    _require(actor, "finding.manage", finding, "只有本区域的审计部门可以销号。")
    if finding.status == AuditFinding.Status.CLOSED:
        raise ValidationError({"status": ["该审计发现已销号，请勿重复操作。"]})
    if finding.rectification and finding.rectification.status != Rectification.Status.DONE:
        raise ValidationError({"status": ["整改尚未完成（财政核实通过后方可销号）。"]})
    if not (comment or "").strip():
        raise ValidationError({"close_comment": ["请填写销号意见。"]})
    finding.status, finding.closed_at, finding.closed_by = AuditFinding.Status.CLOSED, timezone.now(), actor
    finding.close_comment = comment.strip()
    finding.save(update_fields=["status", "closed_at", "closed_by", "close_comment", "updated_at"])
    audit.record(
        audit.Kind.UPDATE,
        actor=actor,
        obj=finding,
        changes={"status": {"from": AuditFinding.Status.RECTIFYING, "to": AuditFinding.Status.CLOSED}},
        comment=comment.strip(),
    )
    return finding


@transaction.atomic
def referral_create(
    *, actor, referred_on: date, subject: str, summary: str, subject_organization=None, finding=None
) -> Referral:
    """Record a referral. Owned by the auditor's bureau; audited under that bureau, so the audit log
    of the organisation concerned does not show it either."""
    referral = Referral(
        organization=actor.organization,
        referred_on=referred_on,
        subject=(subject or "").strip(),
        summary=(summary or "").strip(),
        subject_organization=subject_organization,
        finding=finding,
        created_by=actor,
    )
    referral.region_id = actor.organization.region_id if actor.organization else None
    _require(actor, "referral.manage", referral, "只有审计部门可以登记移送线索。")
    if finding is not None and not permissions.can(actor, "finding.manage", finding):
        raise ValidationError({"finding": ["关联的审计发现不存在。"]})
    referral.full_clean(exclude=["region", "created_by"])
    referral.save()
    audit.record(
        audit.Kind.CREATE,
        actor=actor,
        obj=referral,
        organization=actor.organization,
        changes={"status": {"from": None, "to": referral.status}},
        comment="登记移送纪委监委线索",
    )
    return referral


@transaction.atomic
def referral_update(*, actor, referral: Referral, status: str, outcome: str = "") -> Referral:
    """Follow a referral (受理, 办结, 不予受理) with the commission's outcome; audited."""
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    _require(actor, "referral.manage", referral, "只有审计部门可以更新移送线索。")
    if status not in Referral.Status.values:
        raise ValidationError({"status": ["状态无效。"]})
    outcome = (outcome or "").strip()
    if status in (Referral.Status.CONCLUDED, Referral.Status.DECLINED) and not outcome:
        raise ValidationError({"outcome": ["办结或不予受理时请填写办理结果。"]})
    if status == referral.status and outcome == referral.outcome:
        raise ValidationError({"status": ["内容没有变化。"]})
    before = referral.status
    referral.status, referral.outcome = status, outcome
    referral.save(update_fields=["status", "outcome", "updated_at"])
    audit.record(
        audit.Kind.UPDATE,
        actor=actor,
        obj=referral,
        organization=referral.organization,
        changes={"status": {"from": before, "to": status}},
        comment=outcome,
    )
    return referral
