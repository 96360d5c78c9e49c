"""Performance targets (绩效目标申报表) with indicator rows; fund targets and department targets.

A target is versioned: version 1 is filed with the budget request; an approved version is never
changed again — 调整 creates version n+1 (``previous`` points back) which goes through review; when
it is approved the predecessor becomes 已调整（历史版本）.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models

from apps.core.scoping import ScopedQuerySet
from apps.indicators.framework import LEVEL2_PARENT, Comparison, Level1, Level2


class TargetStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    DEPT_REVIEW = "dept_review", "待部门审核"
    SECTOR_REVIEW = "sector_review", "待业务处室审核"
    PERF_REVIEW = "perf_review", "待绩效处审核"
    APPROVED = "approved", "已批复"
    RETURNED = "returned", "已退回"
    SUPERSEDED = "superseded", "已调整（历史版本）"


EDITABLE_STATUSES = (TargetStatus.DRAFT, TargetStatus.RETURNED)
IN_REVIEW_STATUSES = (TargetStatus.DEPT_REVIEW, TargetStatus.SECTOR_REVIEW, TargetStatus.PERF_REVIEW)


class PerformanceTarget(models.Model):
    class Kind(models.TextChoices):
        FUND = "fund", "项目绩效目标"
        DEPARTMENT = "department", "部门整体绩效目标"

    kind = models.CharField("类型", max_length=20, choices=Kind.choices, default=Kind.FUND)
    fund = models.ForeignKey(
        "funds.SpecialFund",
        verbose_name="专项资金",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="targets",
    )
    # The filing unit (the fund's responsible unit, or the department for a department target).
    organization = models.ForeignKey("orgs.Organization", verbose_name="填报单位", on_delete=models.PROTECT)
    fiscal_year = models.ForeignKey("orgs.FiscalYear", verbose_name="预算年度", on_delete=models.PROTECT)
    version = models.PositiveSmallIntegerField("版本", default=1)
    previous = models.OneToOneField(
        "self", verbose_name="上一版本", null=True, blank=True, on_delete=models.PROTECT, related_name="next_version"
    )
    status = models.CharField("状态", max_length=20, choices=TargetStatus.choices, default=TargetStatus.DRAFT)
    long_term_goal = models.TextField("中长期目标", blank=True)
    annual_goal = models.TextField("年度目标", blank=True)
    adjustment_reason = models.TextField("调整原因", blank=True)
    return_comment = models.TextField("退回意见", blank=True)
    # Set when the target is returned: the unit must resubmit by then (its reminders follow this date).
    resubmit_by = models.DateField("重新报送期限", null=True, blank=True)
    status_changed_at = models.DateTimeField("进入当前状态时间", null=True, blank=True)
    submitted_at = models.DateTimeField("报送财政时间", null=True, blank=True)
    approved_at = models.DateTimeField("批复时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填报人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "绩效目标"
        ordering = ["-fiscal_year", "organization__path", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "version"], condition=models.Q(fund__isnull=False), name="target_one_per_fund_version"
            ),
            models.UniqueConstraint(
                fields=["organization", "fiscal_year", "version"],
                condition=models.Q(kind="department"),
                name="dept_target_one_per_year_version",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="fund", fund__isnull=False) | models.Q(kind="department", fund__isnull=True),
                name="target_kind_matches_fund",
            ),
        ]
        indexes = [models.Index(fields=["fiscal_year", "status"])]

    def __str__(self) -> str:
        subject = self.fund.name if self.fund_id else f"{self.organization.name}部门整体"
        return f"{subject}（第{self.version}版）"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES


class TargetIndicator(models.Model):
    """One 三级 indicator row of a target."""

    target = models.ForeignKey(PerformanceTarget, on_delete=models.CASCADE, related_name="indicators")
    sort_order = models.PositiveSmallIntegerField("序号", default=0)
    level1 = models.CharField("一级指标", max_length=20, choices=Level1.choices)
    level2 = models.CharField("二级指标", max_length=30, choices=Level2.choices)
    name = models.CharField("三级指标", max_length=200)
    comparison = models.CharField("比较方式", max_length=20, choices=Comparison.choices)
    target_value = models.DecimalField("指标值", max_digits=18, decimal_places=4, null=True, blank=True)
    target_text = models.CharField("定性指标值", max_length=200, blank=True)
    unit = models.CharField("计量单位", max_length=30, blank=True)
    weight = models.DecimalField("分值", max_digits=6, decimal_places=2, default=Decimal("0"))
    library_indicator = models.ForeignKey(
        "indicators.LibraryIndicator", verbose_name="库指标", null=True, blank=True, on_delete=models.PROTECT
    )
    review_comment = models.TextField("审核意见", blank=True)

    scope_path = "target__organization"

    class Meta:
        verbose_name = verbose_name_plural = "绩效指标"
        ordering = ["target", "sort_order", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(weight__gte=0), name="indicator_weight_not_negative"),
            models.CheckConstraint(
                condition=models.Q(
                    *[models.Q(level2=l2, level1=l1) for l2, l1 in LEVEL2_PARENT.items()], _connector=models.Q.OR
                ),
                name="indicator_level2_under_level1",
                violation_error_message="二级指标与一级指标不匹配。",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_quantitative(self) -> bool:
        return self.comparison != Comparison.QUALITATIVE

    @property
    def value(self) -> str:
        """The value as typed in the editor: the qualitative text, or the number without trailing zeros."""
        if not self.is_quantitative:
            return self.target_text
        return "" if self.target_value is None else f"{self.target_value.normalize():f}"

    @property
    def value_display(self) -> str:
        if not self.is_quantitative:
            return self.target_text
        value = self.target_value.normalize() if self.target_value is not None else ""
        return f"{self.get_comparison_display()}{value:f}{self.unit}" if value != "" else ""


class DepartmentTask(models.Model):
    """A main annual task of a department overall target (部门整体绩效目标), with its amount."""

    target = models.ForeignKey(PerformanceTarget, on_delete=models.CASCADE, related_name="tasks")
    sort_order = models.PositiveSmallIntegerField("序号", default=0)
    name = models.CharField("年度主要任务", max_length=200)
    amount = models.DecimalField("预算金额（元）", max_digits=18, decimal_places=2, default=Decimal("0"))
    description = models.TextField("任务说明", blank=True)

    scope_path = "target__organization"

    class Meta:
        verbose_name = verbose_name_plural = "年度主要任务"
        ordering = ["target", "sort_order", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gte=0), name="task_amount_not_negative")]

    def __str__(self) -> str:
        return self.name
