"""Reads of special funds shared by the list page, the API and exports."""

from django.db.models import BooleanField, Exists, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce

from apps.monitoring.models import KeyMonitoring
from apps.targets.models import PerformanceTarget, TargetStatus

from .models import SPECIAL_AREAS, PolicyTag, SpecialFund, TransferAllocation


def _approved_targets():
    return PerformanceTarget.objects.filter(fund=OuterRef("pk"), status=TargetStatus.APPROVED)


def with_target_state(funds):
    """Annotate each fund with its latest target's status and whether any version is approved.

    ``has_approved_target`` is a scalar subquery (evaluated for the page's rows only); an EXISTS in
    the SELECT list makes PostgreSQL hash every approved target of the table on each page."""
    latest = PerformanceTarget.objects.filter(fund=OuterRef("pk")).order_by("-version")
    approved_flag = _approved_targets().order_by().values(flag=Value(True, output_field=BooleanField()))[:1]
    stopping = KeyMonitoring.objects.filter(fund=OuterRef("pk"), measure__in=KeyMonitoring.PAYMENT_FLAGS)
    return funds.annotate(
        target_status=Subquery(latest.values("status")[:1]),
        target_id=Subquery(latest.values("pk")[:1]),
        has_approved_target=Coalesce(Subquery(approved_flag), Value(False), output_field=BooleanField()),
        # 暂缓拨款 / 停止拨款 / 收回资金 from key monitoring: a flag wherever the fund appears.
        payment_flag=Subquery(stopping.order_by("-measured_at").values("measure")[:1]),
    )


def fund_list(
    *,
    user,
    fiscal_year=None,
    budget_type: str = "",
    department=None,
    request_status: str = "",
    policy_tag=None,
    special_area: str = "",
    has_approved_target: str = "",
    q: str = "",
    action: str = "fund.view",
):
    funds = with_target_state(
        SpecialFund.objects.restrict(user, action).select_related("department", "organization", "fiscal_year")
    ).prefetch_related(Prefetch("policy_tags", queryset=PolicyTag.objects.only("id", "name")))
    if fiscal_year:
        funds = funds.filter(fiscal_year=fiscal_year)
    if budget_type:
        funds = funds.filter(budget_type=budget_type)
    if department:
        funds = funds.filter(department=department)
    if request_status:
        funds = funds.filter(request_status=request_status)
    if policy_tag:
        funds = funds.filter(policy_tags=policy_tag)
    if special_area in dict(SPECIAL_AREAS):
        funds = funds.filter(**{special_area: True})
    if has_approved_target == "yes":
        funds = funds.filter(Exists(_approved_targets()))
    elif has_approved_target == "no":
        funds = funds.filter(~Exists(_approved_targets()))
    if q:
        funds = funds.filter(Q(name__icontains=q) | Q(code__icontains=q))
    return funds.order_by("code", "pk")


def fund_detail_queryset(user):
    return with_target_state(
        SpecialFund.objects.restrict(user, "fund.view").select_related(
            "department", "organization__region", "fiscal_year", "previous"
        )
    ).prefetch_related(
        "policy_tags", Prefetch("transfers", queryset=TransferAllocation.objects.select_related("region"))
    )
