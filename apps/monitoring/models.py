"""双监控: monitoring rounds, one report per fund and round, indicator progress.

Built so far: rounds, reports and progress rows, round opening, the report rules and the warning
rules (services/warnings). Pages, execution import, key monitoring, Excel and API follow.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models

from apps.core.scoping import ScopedQuerySet


class MonitoringRound(models.Model):
    """A round of monitoring in one region and year: data as of a date, reports due by another."""

    class Status(models.TextChoices):
        OPEN = "open", "进行中"
        CLOSED = "closed", "已结束"

    # The region's finance bureau runs the round (scoping goes through it, like the work calendar).
    organization = models.ForeignKey("orgs.Organization", verbose_name="财政部门", on_delete=models.PROTECT)
    fiscal_year = models.ForeignKey("orgs.FiscalYear", verbose_name="预算年度", on_delete=models.PROTECT)
    name = models.CharField("名称", max_length=100)
    data_as_of = models.DateField("数据截止日期")
    due_on = models.DateField("报送截止日期")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    tolerance_points = models.DecimalField(
        "执行进度容差（百分点）", max_digits=5, decimal_places=2, default=Decimal("15.00")
    )
    opened_at = models.DateTimeField("开启时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "监控轮次"
        ordering = ["-fiscal_year", "data_as_of"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "fiscal_year", "data_as_of"], name="one_round_per_cutoff_date"
            ),
            models.CheckConstraint(
                condition=models.Q(data_as_of__lte=models.F("due_on")),
                name="round_cutoff_before_due",
                violation_error_message="数据截止日期不能晚于报送截止日期。",
            ),
            models.CheckConstraint(
                condition=models.Q(tolerance_points__gte=0, tolerance_points__lte=100),
                name="round_tolerance_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MonitoringReport(models.Model):
    """One fund's report in one round, filed against the target version approved at opening."""

    class Status(models.TextChoices):
        DRAFT = "draft", "待填报"
        DEPT_REVIEW = "dept_review", "待部门审核"
        SUBMITTED = "submitted", "已报送财政"
        RECEIVED = "received", "财政已接收"
        RETURNED = "returned", "已退回"

    round = models.ForeignKey(
        MonitoringRound, verbose_name="监控轮次", on_delete=models.PROTECT, related_name="reports"
    )
    fund = models.ForeignKey("funds.SpecialFund", verbose_name="专项资金", on_delete=models.PROTECT)
    target = models.ForeignKey("targets.PerformanceTarget", verbose_name="绩效目标版本", on_delete=models.PROTECT)
    organization = models.ForeignKey("orgs.Organization", verbose_name="填报单位", on_delete=models.PROTECT)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.DRAFT)
    budget_amount = models.DecimalField("调整后预算（元）", max_digits=18, decimal_places=2)
    executed_amount = models.DecimalField("已执行金额（元）", max_digits=18, decimal_places=2, null=True, blank=True)
    imported_executed_amount = models.DecimalField(
        "国库支付系统执行数（元）", max_digits=18, decimal_places=2, null=True, blank=True
    )
    imported_at = models.DateTimeField("执行数导入时间", null=True, blank=True)
    execution_note = models.TextField("执行情况说明", blank=True)
    # Kept by report_save from the rows: 3 = an indicator 完全不可能, 2 = one at risk, 0 = none. The
    # warning list then decides everything in one indexed query.
    indicator_risk = models.PositiveSmallIntegerField("指标风险等级", default=0, editable=False)
    return_comment = models.TextField("退回意见", blank=True)
    status_changed_at = models.DateTimeField("进入当前状态时间", null=True, blank=True)
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "监控报告"
        ordering = ["round", "fund__code"]
        constraints = [
            models.UniqueConstraint(fields=["round", "fund"], name="one_report_per_fund_and_round"),
            models.CheckConstraint(
                condition=models.Q(budget_amount__gte=0)
                & (models.Q(executed_amount__isnull=True) | models.Q(executed_amount__gte=0)),
                name="report_amounts_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["round", "status"])]

    def __str__(self) -> str:
        return f"{self.fund.name} · {self.round.name}"


class IndicatorProgress(models.Model):
    """Progress of one target indicator in one report."""

    class Likelihood(models.TextChoices):
        CERTAIN = "certain", "确定能"
        POSSIBLE = "possible", "有可能"
        IMPOSSIBLE = "impossible", "完全不可能"

    class Cause(models.TextChoices):
        FUNDING = "funding", "经费保障"
        SYSTEM = "system", "制度保障"
        STAFF = "staff", "人员保障"
        HARDWARE = "hardware", "硬件条件保障"
        OTHER = "other", "其他"

    report = models.ForeignKey(MonitoringReport, on_delete=models.CASCADE, related_name="progress")
    indicator = models.ForeignKey("targets.TargetIndicator", verbose_name="指标", on_delete=models.PROTECT)
    progress_value = models.DecimalField("截至目前完成值", max_digits=18, decimal_places=4, null=True, blank=True)
    expected_value = models.DecimalField("全年预计完成值", max_digits=18, decimal_places=4, null=True, blank=True)
    progress_text = models.CharField("完成情况（定性）", max_length=200, blank=True)
    likelihood = models.CharField("能否完成目标", max_length=20, choices=Likelihood.choices, blank=True)
    deviation_cause = models.CharField("偏差原因", max_length=20, choices=Cause.choices, blank=True)
    corrective_measure = models.TextField("纠偏措施", blank=True)
    # Kept by report_save (rules.at_risk) so the warning list need not join every indicator row.
    at_risk = models.BooleanField("预计难以完成", default=False, editable=False)

    scope_path = "report__organization"

    class Meta:
        verbose_name = verbose_name_plural = "指标完成进度"
        ordering = ["report", "indicator__sort_order", "indicator_id"]
        constraints = [models.UniqueConstraint(fields=["report", "indicator"], name="one_progress_per_indicator")]

    def __str__(self) -> str:
        return f"{self.indicator.name} 进度"


class KeyMonitoring(models.Model):
    """重点监控: a fund finance picked for in-depth monitoring in a year, and the measure it took."""

    class Measure(models.TextChoices):
        CONTINUE = "continue", "继续执行"
        ADJUST_TARGET = "adjust_target", "调整目标"
        SUSPEND = "suspend", "暂缓拨款"
        STOP = "stop", "停止拨款"
        RECOVER = "recover", "收回资金"

    # Measures that stop money flowing: shown as a flag on the fund everywhere it appears.
    PAYMENT_FLAGS = (Measure.SUSPEND, Measure.STOP, Measure.RECOVER)

    fund = models.ForeignKey(
        "funds.SpecialFund", verbose_name="专项资金", on_delete=models.PROTECT, related_name="key_monitoring"
    )
    fiscal_year = models.ForeignKey("orgs.FiscalYear", verbose_name="预算年度", on_delete=models.PROTECT)
    selected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    selected_at = models.DateTimeField("选定时间", auto_now_add=True)
    measure = models.CharField("处理措施", max_length=20, choices=Measure.choices, blank=True)
    measure_reason = models.TextField("措施理由", blank=True)
    measured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    measured_at = models.DateTimeField("措施时间", null=True, blank=True)

    scope_path = "fund__organization"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "重点监控"
        ordering = ["-fiscal_year", "fund__code"]
        constraints = [models.UniqueConstraint(fields=["fund", "fiscal_year"], name="key_monitoring_once_per_year")]

    def __str__(self) -> str:
        return f"{self.fund} 重点监控"
