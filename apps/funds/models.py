"""Special funds (专项资金/项目支出) per fiscal year, policy tags and the budget-request status."""

from decimal import Decimal

from django.db import models

from apps.core.scoping import ScopedQuerySet
from apps.indicators.framework import Sector


class BudgetType(models.TextChoices):
    GENERAL = "general", "一般公共预算"
    GOVERNMENT_FUND = "government_fund", "政府性基金预算"
    STATE_CAPITAL = "state_capital", "国有资本经营预算"
    SOCIAL_INSURANCE = "social_insurance", "社会保险基金预算"


# Targets are mandatory for these three; 社会保险基金预算 was a pilot from 2021 (domain.md).
TARGET_REQUIRED_BUDGET_TYPES = (BudgetType.GENERAL, BudgetType.GOVERNMENT_FUND, BudgetType.STATE_CAPITAL)

SPECIAL_AREAS = [
    ("is_investment_fund", "政府投资基金"),
    ("is_ppp", "PPP"),
    ("is_procurement", "政府采购"),
    ("is_purchase_of_services", "政府购买服务"),
    ("is_debt", "政府债务"),
]


class PolicyTag(models.Model):
    """A policy priority such as Qingdao's 十五个攻势; a configurable list, not code."""

    name = models.CharField("名称", max_length=50, unique=True)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "政策标签"
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class GateSettings(models.Model):
    """Per-region settings of the budget gate (configurable in the admin)."""

    region = models.OneToOneField("orgs.Region", verbose_name="区域", on_delete=models.CASCADE)
    assessment_threshold = models.DecimalField(
        "需事前评估的金额门槛（元）", max_digits=18, decimal_places=2, default=Decimal("5000000.00")
    )

    class Meta:
        verbose_name = verbose_name_plural = "预算关口设置"

    def __str__(self) -> str:
        return f"{self.region} 事前评估门槛"


class SpecialFund(models.Model):
    class RequestStatus(models.TextChoices):
        DRAFT = "draft", "草稿"
        SUBMITTED = "submitted", "已申报"
        ARRANGED = "arranged", "已安排"
        NOT_ARRANGED = "not_arranged", "未安排"

    fiscal_year = models.ForeignKey("orgs.FiscalYear", verbose_name="预算年度", on_delete=models.PROTECT)
    region = models.ForeignKey("orgs.Region", verbose_name="区域", on_delete=models.PROTECT, editable=False)
    code = models.CharField("项目编码", max_length=40)
    name = models.CharField("项目名称", max_length=200)
    budget_type = models.CharField("预算类型", max_length=20, choices=BudgetType.choices, default=BudgetType.GENERAL)
    sector = models.CharField("行业领域", max_length=20, choices=Sector.choices, default=Sector.GENERAL)
    # The responsible budget unit (a department or one of its units): owns the fund and its target.
    organization = models.ForeignKey(
        "orgs.Organization", verbose_name="实施单位", on_delete=models.PROTECT, related_name="funds"
    )
    department = models.ForeignKey(
        "orgs.Organization", verbose_name="主管部门", on_delete=models.PROTECT, related_name="department_funds"
    )
    fiscal_amount = models.DecimalField("财政拨款（元）", max_digits=18, decimal_places=2, default=Decimal("0"))
    other_amount = models.DecimalField("其他资金（元）", max_digits=18, decimal_places=2, default=Decimal("0"))
    period_start = models.PositiveSmallIntegerField("实施期起始年")
    period_end = models.PositiveSmallIntegerField("实施期截止年")
    is_investment_fund = models.BooleanField("政府投资基金", default=False)
    is_ppp = models.BooleanField("PPP", default=False)
    is_procurement = models.BooleanField("政府采购", default=False)
    is_purchase_of_services = models.BooleanField("政府购买服务", default=False)
    is_debt = models.BooleanField("政府债务", default=False)
    is_transfer = models.BooleanField("转移支付", default=False)
    is_new_major_policy = models.BooleanField("新增重大政策", default=False)
    # 涉密: never disclosed, and nothing derived from it (targets, evaluations) reaches the public.
    is_classified = models.BooleanField("涉密", default=False)
    policy_tags = models.ManyToManyField(PolicyTag, verbose_name="政策标签", blank=True, related_name="funds")
    description = models.TextField("项目概述", blank=True)
    previous = models.ForeignKey(
        "self", verbose_name="上年度同一项目", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    request_status = models.CharField(
        "预算申报状态", max_length=20, choices=RequestStatus.choices, default=RequestStatus.DRAFT, db_index=True
    )
    arranged_amount = models.DecimalField("安排金额（元）", max_digits=18, decimal_places=2, null=True, blank=True)
    arrangement_comment = models.TextField("安排说明", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "region"  # always the owner's region (kept equal by the services)

    class Meta:
        verbose_name = verbose_name_plural = "专项资金"
        ordering = ["-fiscal_year", "code"]
        constraints = [
            models.UniqueConstraint(fields=["region", "fiscal_year", "code"], name="fund_code_unique_per_region_year"),
            models.CheckConstraint(
                condition=models.Q(fiscal_amount__gte=0) & models.Q(other_amount__gte=0),
                name="fund_amounts_not_negative",
                violation_error_message="金额不能为负数。",
            ),
            models.CheckConstraint(
                condition=models.Q(period_start__lte=models.F("period_end")),
                name="fund_period_order",
                violation_error_message="实施期起始年不能晚于截止年。",
            ),
        ]
        indexes = [
            models.Index(fields=["fiscal_year", "region", "request_status"]),
            # The few 涉密 funds, looked up by every public page (Disclosure.objects.public()).
            models.Index(fields=["id"], condition=models.Q(is_classified=True), name="fund_classified_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def total_amount(self) -> Decimal:
        return (self.fiscal_amount or Decimal("0")) + (self.other_amount or Decimal("0"))

    @property
    def special_areas(self) -> list[str]:
        return [label for field, label in SPECIAL_AREAS if getattr(self, field)]

    @property
    def requires_target(self) -> bool:
        return self.budget_type in TARGET_REQUIRED_BUDGET_TYPES


class TransferAllocation(models.Model):
    """For a transfer payment: how much goes to each receiving 区市."""

    fund = models.ForeignKey(SpecialFund, on_delete=models.CASCADE, related_name="transfers")
    region = models.ForeignKey("orgs.Region", verbose_name="接收区市", on_delete=models.PROTECT)
    amount = models.DecimalField("金额（元）", max_digits=18, decimal_places=2)

    scope_path = "fund__organization"

    class Meta:
        verbose_name = verbose_name_plural = "转移支付分配"
        constraints = [
            models.UniqueConstraint(fields=["fund", "region"], name="transfer_one_row_per_region"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="transfer_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.fund.code} → {self.region}"
