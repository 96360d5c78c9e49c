from decimal import Decimal

from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from apps.core.api import ScopedViewSetMixin
from apps.orgs.models import FiscalYear, Organization, Region

from . import selectors, services
from .models import PolicyTag, SpecialFund


class TransferSerializer(serializers.Serializer):
    region = serializers.PrimaryKeyRelatedField(queryset=Region.objects.filter(level=Region.Level.DISTRICT))
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal("0"))


class SpecialFundSerializer(serializers.ModelSerializer):
    """Amounts in yuan (元); ``total_amount`` is derived."""

    fiscal_year = serializers.PrimaryKeyRelatedField(queryset=FiscalYear.objects.all())
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    policy_tags = serializers.PrimaryKeyRelatedField(
        queryset=PolicyTag.objects.filter(is_active=True), many=True, required=False
    )
    transfers = TransferSerializer(many=True, required=False)
    total_amount = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    target_status = serializers.CharField(read_only=True, default=None)
    has_approved_target = serializers.BooleanField(read_only=True, default=False)

    class Meta:
        model = SpecialFund
        fields = [
            "id", "fiscal_year", "code", "name", "budget_type", "sector", "organization", "organization_name",
            "department", "department_name", "fiscal_amount", "other_amount", "total_amount", "period_start",
            "period_end", "is_investment_fund", "is_ppp", "is_procurement", "is_purchase_of_services", "is_debt",
            "is_transfer", "transfers", "is_new_major_policy", "is_classified", "policy_tags", "description",
            "request_status", "arranged_amount", "arrangement_comment", "target_status", "has_approved_target",
        ]  # fmt: skip
        read_only_fields = ["department", "request_status", "arranged_amount", "arrangement_comment"]
        validators = []  # uniqueness of the code is checked by the service, with a Chinese message

    def to_service_kwargs(self) -> dict:
        data = dict(self.validated_data)
        if "transfers" in data:
            data["transfers"] = [(t["region"], t["amount"]) for t in data["transfers"]]
        data.pop("fiscal_year", None)
        return data


class ArrangeSerializer(serializers.Serializer):
    """Amount in 元 (default: the linkage's suggested amount); ``reason`` is required when the amount
    departs from the suggestion (``GET /api/v1/linkage/suggestions/?fund=<id>``)."""

    amount = serializers.DecimalField(max_digits=18, decimal_places=2, required=False, min_value=Decimal("0"))
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class FundCommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class SpecialFundViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    GenericViewSet,
):
    """Special funds; writes and the 申报/安排 actions go through the same services as the pages."""

    queryset = SpecialFund.objects.all()
    serializer_class = SpecialFundSerializer
    scope_action = "fund.view"
    filterset_fields = ["fiscal_year", "budget_type", "department", "request_status", "sector"]
    search_fields = ["name", "code"]
    ordering_fields = ["code", "fiscal_amount"]

    def get_queryset(self):
        return selectors.fund_detail_queryset(self.request.user).order_by("code", "pk")

    def perform_create(self, serializer):
        data = serializer.to_service_kwargs()
        serializer.instance = services.fund_create(
            actor=self.request.user, fiscal_year=serializer.validated_data["fiscal_year"], **data
        )

    def perform_update(self, serializer):
        serializer.instance = services.fund_update(
            actor=self.request.user, fund=serializer.instance, **serializer.to_service_kwargs()
        )

    def _reply(self, fund):
        fund = selectors.fund_detail_queryset(self.request.user).get(pk=fund.pk)
        return Response(SpecialFundSerializer(fund, context=self.get_serializer_context()).data)

    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """预算申报 (the budget gate applies)."""
        return self._reply(services.fund_submit(actor=request.user, fund=self.get_object()))

    @action(detail=True, methods=["post"], serializer_class=ArrangeSerializer)
    def arrange(self, request, pk=None):
        """安排预算 (default amount: the linkage's suggested amount; a departure needs ``reason``)."""
        payload = ArrangeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        fund = services.fund_arrange(actor=request.user, fund=self.get_object(), **payload.validated_data)
        return self._reply(fund)

    @action(detail=True, methods=["post"], serializer_class=FundCommentSerializer)
    def decline(self, request, pk=None):
        """不予安排 (comment required)."""
        payload = FundCommentSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        fund = services.fund_decline(actor=request.user, fund=self.get_object(), **payload.validated_data)
        return self._reply(fund)
