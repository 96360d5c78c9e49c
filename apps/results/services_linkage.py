"""预算挂钩 writes: the rule table of a region's budget year, and the decision snapshot taken when
finance arranges a fund (called by ``apps.funds.services.fund_arrange`` inside its transaction).

Every write is keyword-only, transactional, permission-checked and audited; a ``ValidationError``
names the field in Chinese and leaves the data as it was.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core import audit, permissions
from apps.evaluations.models import Grade
from apps.funds.models import SpecialFund
from apps.orgs.models import FiscalYear, Organization

from . import selectors_linkage as sel
from .models import BudgetDecision, LinkageRule, Suggestion

D = Decimal
RULE_SUGGESTIONS = [s for s in Suggestion.values if s != Suggestion.NONE]


def finance_bureau_of(user) -> Organization | None:
    """The finance bureau the user works in (its own organisation or the bureau above its division)."""
    org = getattr(user, "organization", None)
    if org is None:
        return None
    bureau = org if org.kind == Organization.Kind.FINANCE else org.parent
    return bureau if bureau is not None and bureau.kind == Organization.Kind.FINANCE else None


def may_manage_rules(user) -> bool:
    bureau = finance_bureau_of(user)
    return bureau is not None and permissions.can(user, "linkage.manage", bureau)


def _check_manage(actor) -> Organization:
    bureau = finance_bureau_of(actor)
    if bureau is None or not permissions.can(actor, "linkage.manage", bureau):
        raise PermissionDenied("只有本区域财政部门可以设置预算挂钩规则。")
    return bureau


def _wan(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{(D(value) / 10000).quantize(D('0.01')):,.2f}"


def clean_rule(grade: str, suggestion: str, percent) -> dict[str, str]:
    """Errors of one rule row by form field name (``<grade>_suggestion`` / ``<grade>_adjust_percent``)."""
    label = Grade(grade).label
    errors = {}
    if suggestion not in RULE_SUGGESTIONS:
        errors[f"{grade}_suggestion"] = f"“{label}”的预算安排建议无效，请选择优先保障、正常安排、压减或取消。"
        return errors
    try:
        percent = D(str(percent))
    except (InvalidOperation, TypeError, ValueError):
        errors[f"{grade}_adjust_percent"] = f"“{label}”的调整比例必须是数字。"
        return errors
    if not percent.is_finite() or percent < -100 or percent > 100:
        errors[f"{grade}_adjust_percent"] = f"“{label}”的调整比例应在 -100 至 100 之间。"
    elif percent != percent.quantize(D("0.01")):
        errors[f"{grade}_adjust_percent"] = f"“{label}”的调整比例最多保留两位小数。"
    elif suggestion == Suggestion.CUT and not percent < 0:
        errors[f"{grade}_adjust_percent"] = f"“{label}”选择“压减”时，调整比例应为负数（如 -10 表示压减 10%）。"
    elif suggestion != Suggestion.CUT and percent != 0:
        errors[f"{grade}_adjust_percent"] = (
            f"“{label}”选择“{Suggestion(suggestion).label}”时调整比例应为 0（只有“压减”按比例计算建议金额）。"
        )
    return errors


def _plain(table: dict[str, sel.Rule]) -> dict[str, str]:
    return {Grade(g).label: f"{r.text}" + (f"（{r.note}）" if r.note else "") for g, r in table.items()}


@transaction.atomic
def linkage_rules_save(*, actor, fiscal_year: FiscalYear, rows: dict[str, dict]) -> list[LinkageRule]:
    """Save the rule of every grade for the actor's region and the budget year ``fiscal_year``.
    ``rows``: grade → {"suggestion", "adjust_percent", "note"}. All four grades or nothing."""
    bureau = _check_manage(actor)
    region = bureau.region
    errors: dict[str, str] = {}
    for grade in Grade.values:
        row = rows.get(grade)
        if row is None:
            errors[f"{grade}_suggestion"] = f"请填写“{Grade(grade).label}”的预算安排建议。"
            continue
        errors.update(clean_rule(grade, row.get("suggestion", ""), row.get("adjust_percent", "")))
        if len(row.get("note", "") or "") > 200:
            errors[f"{grade}_note"] = f"“{Grade(grade).label}”的说明不能超过 200 字。"
    if errors:
        raise ValidationError(errors)
    existing = {
        r.grade: r for r in LinkageRule.objects.select_for_update().filter(region=region, fiscal_year=fiscal_year)
    }
    before = sel.rules_table(region.pk, fiscal_year.pk)
    saved = []
    for grade in Grade.values:
        row = rows[grade]
        rule = existing.get(grade) or LinkageRule(region=region, fiscal_year=fiscal_year, grade=grade)
        rule.suggestion = row["suggestion"]
        rule.adjust_percent = D(str(row["adjust_percent"])).quantize(D("0.01"))
        rule.note = (row.get("note") or "").strip()
        rule.updated_by = actor
        rule.full_clean()
        saved.append(rule)
    after = {r.grade: sel.Rule(r.grade, r.suggestion, r.adjust_percent, r.note, saved=True) for r in saved}
    changes = audit.diff(_plain(before), _plain(after))
    if not changes and len(existing) == len(Grade.values):
        return saved
    try:
        with transaction.atomic():
            for rule in saved:
                rule.save()
    except IntegrityError:  # a colleague saved the table at the same moment
        raise ValidationError("预算挂钩规则刚刚被他人修改，请刷新页面后重新填写。") from None
    audit.record(
        audit.Kind.UPDATE if existing else audit.Kind.CREATE,
        actor=actor,
        obj=saved[0],
        organization=bureau,
        changes=changes,
        comment=f"设置{region.name}{fiscal_year.year}年度预算挂钩规则",
    )
    return saved


@transaction.atomic
def linkage_rules_reset(*, actor, fiscal_year: FiscalYear) -> int:
    """Restore the defaults (LinkageRule.DEFAULTS) for the actor's region and budget year."""
    bureau = _check_manage(actor)
    region = bureau.region
    rows = LinkageRule.objects.select_for_update().filter(region=region, fiscal_year=fiscal_year)
    rows = list(rows)
    if not rows:
        return 0
    before = sel.rules_table(region.pk, fiscal_year.pk)
    changes = audit.diff(_plain(before), _plain(sel.default_rules()))
    first = rows[0]
    LinkageRule.objects.filter(pk__in=[r.pk for r in rows]).delete()
    audit.record(
        audit.Kind.UPDATE,
        actor=actor,
        obj=first,
        organization=bureau,
        changes=changes,
        comment=f"{region.name}{fiscal_year.year}年度预算挂钩规则恢复默认",
    )
    return len(rows)


# --- the decision ----------------------------------------------------------------------------------


def departure_error(linkage: sel.Linkage, amount: Decimal, reason: str) -> ValidationError | None:
    """The error when the arranged amount departs from the suggestion without a reason."""
    if D(amount) == linkage.suggested or (reason or "").strip():
        return None
    return ValidationError(
        {
            "reason": (
                f"安排金额 {_wan(amount)} 万元与挂钩建议金额 {_wan(linkage.suggested)} 万元"
                f"（{linkage.suggestion_text}）不一致，请填写“偏离建议的理由”。"
            )
        }
    )


def decision_record(
    *, actor, fund: SpecialFund, linkage: sel.Linkage, amount: Decimal, reason: str = ""
) -> BudgetDecision:
    """The snapshot of what finance arranged against the suggestion. Called by ``fund_arrange``
    inside its transaction, after the 安排 transition (which checked ``fund.arrange``)."""
    if not permissions.can(actor, "fund.arrange", fund):
        raise PermissionDenied("您的角色无权安排该专项资金的预算。")
    error = departure_error(linkage, amount, reason)
    if error is not None:
        raise error
    last = linkage.last
    values = {
        "basis_fund_id": linkage.basis_fund_id,
        "last_grade": last.grade if last else "",
        "last_score": last.score if last else None,
        "grade_source": last.source if last else "",
        "suggestion": linkage.suggestion,
        "adjust_percent": linkage.adjust_percent,
        "base_amount": linkage.base,
        "requested_amount": linkage.requested,
        "suggested_amount": linkage.suggested,
        "decided_amount": D(amount).quantize(D("0.01")),
        "reason": (reason or "").strip(),
        "decided_by": actor,
        "decided_at": timezone.now(),
    }
    decision, created = BudgetDecision.objects.update_or_create(fund=fund, defaults=values)
    audit.record(
        audit.Kind.CREATE if created else audit.Kind.UPDATE,
        actor=actor,
        obj=decision,
        changes={
            "挂钩建议": {"from": None, "to": linkage.suggestion_text},
            "建议金额（万元）": {"from": None, "to": _wan(linkage.suggested)},
            "安排金额（万元）": {"from": None, "to": _wan(decision.decided_amount)},
            **({"偏离建议的理由": {"from": None, "to": decision.reason}} if decision.reason else {}),
        },
        comment="安排预算（与绩效挂钩）" + ("，偏离建议" if decision.departs else ""),
    )
    return decision
