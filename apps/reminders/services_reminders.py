"""Finance's writes on reminders: the region's reminder rule, and resending a failed e-mail by hand.

Keyword-only, transactional, permission-checked and audited; a ``ValidationError`` names the field
in Chinese and leaves the data as it was. Pages and API call the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core import audit, permissions
from apps.core.templatetags.qd import cn_date
from apps.orgs.models import Organization

from .models import EmailDigest, ReminderRule, parse_days
from .selectors_reminders import MANAGE, PROBLEM_STATUSES, finance_bureau_of

RULE_FIELDS = [
    "enabled", "days_before", "on_due_day", "escalate_department_after", "escalate_finance_after", "stop_after",
]  # fmt: skip
MAX_ESCALATE = 60
MAX_STOP = 365
S = EmailDigest.Status


def may_manage(user) -> bool:
    bureau = finance_bureau_of(user)
    return bureau is not None and permissions.can(user, MANAGE, bureau)


def _bureau_to_manage(actor) -> Organization:
    bureau = finance_bureau_of(actor)
    if bureau is None or not permissions.can(actor, MANAGE, bureau):
        raise PermissionDenied("只有本区域财政部门（绩效管理处）可以设置提醒规则。")
    return bureau


def _int(data: dict, name: str, label: str, low: int, high: int, errors: dict, hint: str = "") -> int | None:
    value = data.get(name)
    if isinstance(value, bool) or value in (None, ""):
        errors[name] = f"请填写“{label}”。"
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        errors[name] = f"“{label}”必须是整数。"
        return None
    if not low <= number <= high:
        errors[name] = f"“{label}”应在 {low}–{high} 之间{hint}。"
        return None
    return number


def clean_rule(data: dict) -> dict:
    """The rule's values from ``data`` (form or API), or ``ValidationError`` by field, in Chinese."""
    errors: dict[str, str] = {}
    cleaned = {"enabled": bool(data.get("enabled")), "on_due_day": bool(data.get("on_due_day"))}
    text = str(data.get("days_before") or "")
    try:
        if not text.replace("，", ",").isascii():
            # ``parse_days`` takes "²" for a digit (``str.isdigit``), then ``int`` fails on it.
            raise ValidationError(f"提前提醒天数“{text}”无效：请填写 1–60 之间的整数，用逗号分隔，如 7,3,1。")
        days = parse_days(text)
    except ValidationError as exc:
        errors["days_before"] = exc.messages[0]
        days = []
    cleaned["days_before"] = ",".join(str(d) for d in days)
    label_dep = "逾期多少天后提醒部门审核人"
    label_fin = "逾期多少天后提醒财政审核人"
    label_stop = "逾期多少天后不再提醒"
    dep = _int(data, "escalate_department_after", label_dep, 0, MAX_ESCALATE, errors, "（0 表示不升级）")
    fin = _int(data, "escalate_finance_after", label_fin, 0, MAX_ESCALATE, errors, "（0 表示不升级）")
    stop = _int(data, "stop_after", label_stop, 0, MAX_STOP, errors, "（0 表示一直提醒）")
    if dep and fin and fin <= dep:
        errors["escalate_finance_after"] = f"“{label_fin}”（{fin}）应大于“{label_dep}”（{dep}）。"
    if stop and dep is not None and fin is not None and stop < max(dep, fin):
        errors["stop_after"] = f"“{label_stop}”（{stop}）不能早于升级提醒的天数（{max(dep, fin)}）。"
    if cleaned["enabled"] and not errors and not (days or cleaned["on_due_day"] or dep or fin):
        errors["days_before"] = (
            "已启用催办提醒，但没有任何提醒节点：请填写提前提醒天数，或勾选到期当日提醒、设置升级天数。"
        )
    if errors:
        raise ValidationError(errors)
    cleaned.update(escalate_department_after=dep, escalate_finance_after=fin, stop_after=stop)
    return cleaned


def _values(rule: ReminderRule) -> dict:
    return audit.snapshot(rule, RULE_FIELDS)


@transaction.atomic
def reminder_rule_save(*, actor, data: dict, comment: str = "") -> tuple[ReminderRule, bool]:
    """Save the actor's region's rule. Returns (rule, changed); an unchanged save writes nothing."""
    bureau = _bureau_to_manage(actor)
    values = clean_rule(data)
    rule = ReminderRule.objects.select_for_update().filter(organization=bureau).first()
    created = rule is None
    if created:
        rule = ReminderRule.default(bureau)
    before = _values(rule)
    for name, value in values.items():
        setattr(rule, name, value)
    changes = audit.diff(before, _values(rule))
    if not changes:
        return rule, False
    rule.full_clean(exclude=["days_before"])  # checked above; empty is allowed (no advance reminders)
    rule.save()
    audit.record(
        audit.Kind.CREATE if created else audit.Kind.UPDATE,
        actor=actor,
        obj=rule,
        changes=changes,
        comment=comment or "修改提醒规则",
    )
    return rule, True


def reminder_rule_reset(*, actor) -> bool:
    """Back to the defaults (7,3,1 days before, on the due day, escalate after 1 and 3 days …)."""
    default = ReminderRule.default()
    return reminder_rule_save(actor=actor, data=_values(default), comment="提醒规则恢复默认")[1]


@dataclass(frozen=True)
class ResendResult:
    """What a resend did: ``resent`` (queued now), else ``message`` says why not — ``blocked`` when
    the person cannot receive e-mail now (deactivated, e-mail turned off, no address)."""

    resent: bool
    message: str
    blocked: bool = False

    def __bool__(self) -> bool:
        return self.resent


def _not_needed(digest: EmailDigest) -> str:
    name = digest.recipient.display_name
    if digest.status == S.SENT:
        when = timezone.localtime(digest.sent_at) if digest.sent_at else None
        at = f"已于{cn_date(when.date())} {when:%H:%M}发送" if when else "已发送"
        return f"发给 {name} 的邮件提醒{at}，无需重发。"
    if digest.status == S.SKIPPED:
        return f"发给 {name} 的邮件提醒未发送（原因：{digest.skip_reason or '无'}），不能重发。"
    return f"发给 {name} 的邮件提醒当前状态为“{digest.get_status_display()}”，正在排队发送，无需重发。"


def email_digest_resend(*, actor, digest: EmailDigest, comment: str = "") -> ResendResult:
    """Put a failed or retrying e-mail back in line and queue it now (audited). Nothing changes
    when it is no longer failed/retrying (already resent, sending, sent or skipped: a double
    submit) or when its recipient cannot receive e-mail now; the result's message says why."""
    from . import mail, tasks

    if not permissions.can(actor, MANAGE, digest):
        raise PermissionDenied("只有本区域财政部门（绩效管理处）可以重发邮件提醒。")
    with transaction.atomic():
        locked = EmailDigest.objects.select_for_update().select_related("recipient").get(pk=digest.pk)
        if locked.status not in PROBLEM_STATUSES:
            return ResendResult(False, _not_needed(locked))
        reason = mail.unsendable(locked.recipient)
        if reason:
            name = locked.recipient.display_name
            return ResendResult(False, f"接收人“{name}”{reason}，不能重发邮件提醒。", blocked=True)
        address = locked.recipient.email.strip()
        fields = ["status", "attempts", "address", "next_attempt_at"]
        last_error = locked.last_error[:200] or "无"
        before = audit.snapshot(locked, fields)
        # A fresh start: full retries again, and the address as it is now (it may have been corrected).
        locked.status, locked.attempts, locked.address = S.PENDING, 0, address
        locked.next_attempt_at = locked.claimed_at = None
        locked.save(update_fields=[*fields, "claimed_at"])
        audit.record(
            audit.Kind.TRANSITION,
            actor=actor,
            obj=locked,
            changes=audit.diff(before, audit.snapshot(locked, fields)),
            comment=f"手工重发邮件提醒{'：' + comment if comment else ''}（上次错误：{last_error}）",
        )
        transaction.on_commit(lambda: tasks.send_email_digests.delay([locked.pk]))
    digest.refresh_from_db()
    return ResendResult(True, f"已将发给 {locked.recipient.display_name} 的邮件提醒重新排队发送。")
