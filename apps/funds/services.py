"""Writes on special funds: create/edit drafts, 申报 (submit), 安排 / 未安排 (finance's decision)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from apps.assessments.models import ExAnteAssessment
from apps.core import audit, permissions
from apps.core.templatetags.qd import wan_yuan
from apps.core.workflow import Transition, Workflow
from apps.orgs.models import FiscalYear, Organization, Region
from apps.targets.models import EDITABLE_STATUSES, PerformanceTarget

from . import gate
from .models import SpecialFund

RS = SpecialFund.RequestStatus

EDIT_FIELDS = [
    "code", "name", "budget_type", "sector", "organization", "fiscal_amount", "other_amount", "period_start",
    "period_end", "is_investment_fund", "is_ppp", "is_procurement", "is_purchase_of_services", "is_debt",
    "is_transfer", "is_new_major_policy", "is_classified", "description", "previous",
]  # fmt: skip


# What a fund may no longer change once its target has gone to review (the target describes it).
FROZEN_AFTER_TARGET = {
    "organization", "code", "name", "budget_type", "sector", "fiscal_amount", "other_amount", "period_start",
    "period_end",
}  # fmt: skip


def _guard(blockers):
    def guard(fund, actor):
        missing = blockers(fund)
        if missing:
            raise ValidationError("；".join(missing) + "。")

    return guard


FUND_FLOW = Workflow(
    [
        Transition("submit", frozenset({RS.DRAFT, RS.NOT_ARRANGED}), RS.SUBMITTED, "fund.submit", "预算申报",
                   _guard(gate.submit_blockers)),
        Transition("arrange", frozenset({RS.SUBMITTED}), RS.ARRANGED, "fund.arrange", "安排预算",
                   _guard(gate.arrange_blockers)),
        Transition("decline", frozenset({RS.SUBMITTED}), RS.NOT_ARRANGED, "fund.arrange", "不予安排",
                   comment_required=True),
    ],
    field="request_status",
)  # fmt: skip


def _check_owner(actor, organization: Organization) -> None:
    if organization.kind not in (Organization.Kind.DEPARTMENT, Organization.Kind.UNIT):
        raise ValidationError({"organization": "实施单位必须是预算部门或预算单位。"})
    if not permissions.can(actor, "fund.edit", organization):
        raise PermissionDenied("您只能为本部门或本单位登记专项资金。")


def _set_relations(fund: SpecialFund, policy_tags, transfers) -> dict:
    changes = {}
    if policy_tags is not None:
        before = sorted(fund.policy_tags.values_list("name", flat=True))
        fund.policy_tags.set(policy_tags)
        after = sorted(t.name for t in policy_tags)
        if before != after:
            changes["policy_tags"] = {"from": before, "to": after}
    if transfers is not None:
        rows = [(region, Decimal(amount)) for region, amount in transfers if region is not None]
        if not fund.is_transfer and rows:
            raise ValidationError({"transfers": "未勾选“转移支付”，不能填写接收区市。"})
        if len({region.pk for region, _ in rows}) != len(rows):
            raise ValidationError({"transfers": "同一接收区市只能填写一行。"})
        if any(amount < 0 for _, amount in rows):
            raise ValidationError({"transfers": "转移支付金额不能为负数。"})
        if sum((a for _, a in rows), Decimal("0")) > fund.total_amount:
            raise ValidationError({"transfers": "转移支付分配合计不能超过项目资金总额。"})
        before = sorted(f"{t.region.name}:{t.amount}" for t in fund.transfers.select_related("region"))
        fund.transfers.all().delete()
        fund.transfers.bulk_create([fund.transfers.model(fund=fund, region=r, amount=a) for r, a in rows])
        after = sorted(f"{r.name}:{a.quantize(Decimal('0.01'))}" for r, a in rows)
        if before != after:
            changes["transfers"] = {"from": before, "to": after}
    return changes


@transaction.atomic
def fund_create(
    *,
    actor,
    fiscal_year: FiscalYear,
    organization: Organization,
    policy_tags=(),
    transfers: list[tuple[Region, Decimal]] = (),
    **fields,
) -> SpecialFund:
    _check_owner(actor, organization)
    if fiscal_year.is_closed:
        raise ValidationError({"fiscal_year": f"{fiscal_year} 已结账，不能新增专项资金。"})
    fund = SpecialFund(
        fiscal_year=fiscal_year,
        organization=organization,
        region=organization.region,
        department=organization.department,
        **{k: v for k, v in fields.items() if k in EDIT_FIELDS},
    )
    _validate_code(fund)
    fund.full_clean()
    try:
        with transaction.atomic():
            fund.save()
    except IntegrityError:  # a double click: the first one created it
        raise ValidationError({"code": f"项目编码“{fund.code}”已被使用，请刷新页面后查看。"}) from None
    changes = audit.diff({}, audit.snapshot(fund, EDIT_FIELDS))
    changes.update(_set_relations(fund, list(policy_tags), list(transfers)))
    audit.record(audit.Kind.CREATE, actor=actor, obj=fund, changes=changes)
    return fund


def _validate_code(fund: SpecialFund) -> None:
    clash = SpecialFund.objects.filter(region=fund.region, fiscal_year=fund.fiscal_year, code=fund.code)
    if fund.pk:
        clash = clash.exclude(pk=fund.pk)
    if clash.exists():
        raise ValidationError({"code": f"项目编码“{fund.code}”在{fund.region}{fund.fiscal_year}已被使用。"})


@transaction.atomic
def fund_update(*, actor, fund: SpecialFund, policy_tags=None, transfers=None, **fields) -> SpecialFund:
    fund = SpecialFund.objects.select_for_update().get(pk=fund.pk)
    if not permissions.can(actor, "fund.edit", fund):
        raise PermissionDenied("您无权修改该专项资金。")
    if fund.request_status not in (RS.DRAFT, RS.NOT_ARRANGED):
        raise ValidationError(f"专项资金已{fund.get_request_status_display()}，不能再修改。")
    changed = {k for k, v in fields.items() if k in FROZEN_AFTER_TARGET and getattr(fund, k) != v}
    if changed and PerformanceTarget.objects.filter(fund=fund).exclude(status__in=EDITABLE_STATUSES).exists():
        raise ValidationError(
            "绩效目标已报送或已批复，不能再修改项目名称、金额、实施单位等内容；如需变更，请先“调整”绩效目标。"
        )
    before = audit.snapshot(fund, EDIT_FIELDS)
    for name, value in fields.items():
        if name in EDIT_FIELDS:
            setattr(fund, name, value)
    if "organization" in fields:
        _check_owner(actor, fund.organization)
        fund.region, fund.department = fund.organization.region, fund.organization.department
        # The target and open assessments follow the fund to its new responsible unit.
        PerformanceTarget.objects.filter(fund=fund).update(organization=fund.organization)
        ExAnteAssessment.objects.filter(fund=fund).exclude(status=ExAnteAssessment.Status.COMPLETED).update(
            organization=fund.organization
        )
    _validate_code(fund)
    fund.full_clean()
    fund.save()
    changes = audit.diff(before, audit.snapshot(fund, EDIT_FIELDS))
    changes.update(_set_relations(fund, policy_tags, transfers))
    if changes:
        audit.record(audit.Kind.UPDATE, actor=actor, obj=fund, changes=changes)
    return fund


def fund_submit(*, actor, fund: SpecialFund) -> SpecialFund:
    """申报: the department sends the fund into the budget; the gate must be open."""
    return FUND_FLOW.apply(fund, name="submit", actor=actor)


def fund_arrange(
    *, actor, fund: SpecialFund, amount: Decimal | None = None, comment: str = "", reason: str = ""
) -> SpecialFund:
    """安排: finance arranges the budget (default: the linkage's suggested amount).

    In the same transaction a ``BudgetDecision`` snapshot records the last grade, the suggestion and
    the suggested amount (``apps.results.selectors_linkage``); an amount that departs from the
    suggestion needs ``reason`` (偏离建议的理由), else nothing changes."""
    from apps.results import selectors_linkage, services_linkage

    with transaction.atomic():
        linkage = selectors_linkage.linkage_of(fund)
        amount = linkage.suggested if amount is None else Decimal(amount)
        if not amount.is_finite() or amount < 0:
            raise ValidationError({"arranged_amount": "安排金额不能为负数。"})
        if amount > fund.total_amount:
            raise ValidationError(
                {
                    "arranged_amount": f"安排金额 {wan_yuan(amount)}万元 不能超过申报金额 "
                    f"{wan_yuan(fund.total_amount)}万元（财政拨款+其他资金）。"
                }
            )
        fund = FUND_FLOW.apply(
            fund,
            name="arrange",
            actor=actor,
            comment=comment,
            fields={"arranged_amount": amount, "arrangement_comment": comment},
        )
        services_linkage.decision_record(actor=actor, fund=fund, linkage=linkage, amount=amount, reason=reason)
    return fund


def fund_decline(*, actor, fund: SpecialFund, comment: str) -> SpecialFund:
    """未安排: finance declines, with the reason."""
    return FUND_FLOW.apply(
        fund, name="decline", actor=actor, comment=comment, fields={"arrangement_comment": comment.strip()}
    )
