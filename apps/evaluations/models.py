"""绩效评价: self-evaluation (单位自评) with its scoring rules, key evaluation plans and key
evaluations (部门评价 / 财政重点评价 / 部门整体评价).

A self-evaluation is filed against the fund's latest approved target version of the year; its
score is computed by ``scoring`` and stored (``score``/``grade``) so lists, summaries and exports
read it without recomputing. Finance may adjust it with a written reason: the computed score stays,
each adjustment is a row of its own.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models

from apps.core.scoping import ScopedQuerySet

from . import scoring

D = Decimal


class Grade(models.TextChoices):
    EXCELLENT = scoring.EXCELLENT, "优"
    GOOD = scoring.GOOD, "良"
    FAIR = scoring.FAIR, "中"
    POOR = scoring.POOR, "差"


class ScoringRules(models.Model):
    """The scoring parameters of one region and year (the national defaults until finance edits them)."""

    region = models.ForeignKey("orgs.Region", verbose_name="区域", on_delete=models.PROTECT)
    fiscal_year = models.ForeignKey("orgs.FiscalYear", verbose_name="评价年度", on_delete=models.PROTECT)
    weight_execution = models.DecimalField("预算执行率权重", max_digits=5, decimal_places=2, default=D("10"))
    weight_output = models.DecimalField("产出指标权重", max_digits=5, decimal_places=2, default=D("50"))
    weight_effect = models.DecimalField("效益指标权重", max_digits=5, decimal_places=2, default=D("30"))
    weight_satisfaction = models.DecimalField("满意度指标权重", max_digits=5, decimal_places=2, default=D("10"))
    band_achieved_min = models.DecimalField("“达成”下限（%）", max_digits=5, decimal_places=2, default=D("80"))
    band_partial_min = models.DecimalField("“部分达成”下限（%）", max_digits=5, decimal_places=2, default=D("60"))
    grade_excellent = models.DecimalField("“优”下限", max_digits=5, decimal_places=2, default=D("90"))
    grade_good = models.DecimalField("“良”下限", max_digits=5, decimal_places=2, default=D("80"))
    grade_fair = models.DecimalField("“中”下限", max_digits=5, decimal_places=2, default=D("60"))
    # Key evaluations: cycle within which every fund is evaluated once (at least 1/cycle per year).
    cycle_years = models.PositiveSmallIntegerField("重点评价周期（年）", default=3)
    key_min_output_effect = models.DecimalField(
        "重点评价产出+效益最低权重（%）", max_digits=5, decimal_places=2, default=D("60")
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "评价计分规则"
        constraints = [
            models.UniqueConstraint(fields=["region", "fiscal_year"], name="scoring_rules_one_per_region_year"),
            models.CheckConstraint(
                condition=models.Q(
                    weight_execution__gte=0, weight_output__gte=0, weight_effect__gte=0, weight_satisfaction__gte=0
                ),
                name="scoring_weights_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(band_partial_min__gt=0, band_partial_min__lt=models.F("band_achieved_min"))
                & models.Q(band_achieved_min__lt=100),
                name="scoring_bands_ordered",
                violation_error_message="定性指标区间应满足 0 <“部分达成”下限 <“达成”下限 < 100。",
            ),
            models.CheckConstraint(
                condition=models.Q(grade_fair__gt=0, grade_fair__lt=models.F("grade_good"))
                & models.Q(grade_good__lt=models.F("grade_excellent"), grade_excellent__lte=100),
                name="scoring_grades_ordered",
                violation_error_message="等级分数线应满足 0 <“中”<“良”<“优”≤ 100。",
            ),
            models.CheckConstraint(condition=models.Q(cycle_years__gte=1), name="scoring_cycle_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.fiscal_year} 评价计分规则"

    def as_rules(self) -> scoring.Rules:
        return scoring.Rules(**{f: getattr(self, f) for f in scoring.Rules.__dataclass_fields__})


class SelfEvaluationRound(models.Model):
    """The self-evaluation of one region's funds for one year (opened by its finance bureau)."""

    class Status(models.TextChoices):
        OPEN = "open", "进行中"
        CLOSED = "closed", "已结束"

    organization = models.ForeignKey("orgs.Organization", verbose_name="财政部门", on_delete=models.PROTECT)
    fiscal_year = models.ForeignKey("orgs.FiscalYear", verbose_name="评价年度", on_delete=models.PROTECT)
    name = models.CharField("名称", max_length=100)
    due_on = models.DateField("报送截止日期")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField("开启时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "自评批次"
        ordering = ["-fiscal_year", "organization__path"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "fiscal_year"], name="one_self_evaluation_round_per_year")
        ]

    def __str__(self) -> str:
        return self.name


class SelfEvaluation(models.Model):
    """One fund's self-evaluation (绩效自评表)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "待填报"
        DEPT_REVIEW = "dept_review", "待部门审核"
        SUBMITTED = "submitted", "待财政审核"
        CONFIRMED = "confirmed", "财政已审核"
        RETURNED = "returned", "已退回"

    round = models.ForeignKey(
        SelfEvaluationRound, verbose_name="自评批次", on_delete=models.PROTECT, related_name="evaluations"
    )
    fund = models.ForeignKey(
        "funds.SpecialFund", verbose_name="专项资金", on_delete=models.PROTECT, related_name="self_evaluations"
    )
    target = models.ForeignKey("targets.PerformanceTarget", verbose_name="绩效目标版本", on_delete=models.PROTECT)
    organization = models.ForeignKey("orgs.Organization", verbose_name="填报单位", on_delete=models.PROTECT)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.DRAFT)
    budget_amount = models.DecimalField("调整后预算（元）", max_digits=18, decimal_places=2)
    executed_amount = models.DecimalField("实际执行数（元）", max_digits=18, decimal_places=2, null=True, blank=True)
    execution_reason = models.TextField("执行偏差原因", blank=True)
    execution_measure = models.TextField("执行改进措施", blank=True)
    summary = models.TextField("总体完成情况", blank=True)
    # Computed by scoring.score on every save and after a rules change (never typed).
    score = models.DecimalField("自评得分", max_digits=5, decimal_places=2, null=True, blank=True, editable=False)
    grade = models.CharField("自评等级", max_length=10, choices=Grade.choices, blank=True, editable=False)
    # Finance's latest adjustment; every adjustment is kept in SelfEvaluationAdjustment.
    adjusted_score = models.DecimalField("财政调整得分", max_digits=5, decimal_places=2, null=True, blank=True)
    adjusted_grade = models.CharField("财政调整等级", max_length=10, choices=Grade.choices, blank=True)
    return_comment = models.TextField("退回意见", blank=True)
    status_changed_at = models.DateTimeField("进入当前状态时间", null=True, blank=True)
    submitted_at = models.DateTimeField("报送财政时间", null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "单位自评"
        ordering = ["round", "fund__code"]
        constraints = [
            models.UniqueConstraint(fields=["round", "fund"], name="one_self_evaluation_per_fund_and_round"),
            models.CheckConstraint(
                condition=models.Q(budget_amount__gte=0)
                & (models.Q(executed_amount__isnull=True) | models.Q(executed_amount__gte=0)),
                name="self_evaluation_amounts_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["round", "status"]), models.Index(fields=["round", "grade"])]

    def __str__(self) -> str:
        return f"{self.fund.name} 绩效自评"

    @property
    def final_score(self) -> Decimal | None:
        return self.adjusted_score if self.adjusted_score is not None else self.score

    @property
    def final_grade(self) -> str:
        return self.adjusted_grade or self.grade

    @property
    def final_grade_display(self) -> str:
        return Grade(self.final_grade).label if self.final_grade else ""


class SelfEvaluationLine(models.Model):
    """The actual result of one target indicator."""

    class Band(models.TextChoices):
        ACHIEVED = scoring.ACHIEVED, "达成"
        PARTIAL = scoring.PARTIAL, "部分达成"
        NOT_ACHIEVED = scoring.NOT_ACHIEVED, "未达成"

    evaluation = models.ForeignKey(SelfEvaluation, on_delete=models.CASCADE, related_name="lines")
    indicator = models.ForeignKey("targets.TargetIndicator", verbose_name="指标", on_delete=models.PROTECT)
    actual_value = models.DecimalField("实际完成值", max_digits=18, decimal_places=4, null=True, blank=True)
    actual_text = models.CharField("实际完成情况（定性）", max_length=200, blank=True)
    band = models.CharField("完成程度", max_length=20, choices=Band.choices, blank=True)
    band_percent = models.DecimalField("得分比例（%）", max_digits=5, decimal_places=2, null=True, blank=True)
    shortfall_reason = models.TextField("偏差原因", blank=True)
    improvement_measure = models.TextField("改进措施", blank=True)
    points = models.DecimalField("得分", max_digits=9, decimal_places=4, null=True, blank=True, editable=False)

    scope_path = "evaluation__organization"

    class Meta:
        verbose_name = verbose_name_plural = "自评指标完成情况"
        ordering = ["evaluation", "indicator__sort_order", "indicator_id"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "indicator"], name="one_self_evaluation_line_per_indicator"),
            models.CheckConstraint(
                condition=models.Q(actual_value__isnull=True) | models.Q(actual_value__gte=0),
                name="self_evaluation_actual_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(band_percent__isnull=True) | models.Q(band_percent__gte=0, band_percent__lte=100),
                name="self_evaluation_band_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.name} 完成情况"


class SelfEvaluationAdjustment(models.Model):
    """Finance's adjustment of a self-evaluation score, with its written reason (never deleted)."""

    evaluation = models.ForeignKey(SelfEvaluation, on_delete=models.PROTECT, related_name="adjustments")
    previous_score = models.DecimalField("调整前得分", max_digits=5, decimal_places=2, null=True)
    new_score = models.DecimalField("调整后得分", max_digits=5, decimal_places=2)
    new_grade = models.CharField("调整后等级", max_length=10, choices=Grade.choices)
    reason = models.TextField("调整理由")
    adjusted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    adjusted_at = models.DateTimeField("调整时间", auto_now_add=True)

    scope_path = "evaluation__organization"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "自评得分调整"
        ordering = ["evaluation", "adjusted_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(new_score__gte=0, new_score__lte=100), name="adjusted_score_range"
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="adjustment_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.evaluation} 得分调整"


# --- Key evaluations -------------------------------------------------------------------------


class Dimension(models.TextChoices):
    """The indicator frame of key evaluations."""

    DECISION = "decision", "决策"
    PROCESS = "process", "过程"
    OUTPUT = "output", "产出"
    EFFECT = "effect", "效益"


# Default lines of the frame: (dimension, name, points); points per dimension = its default weight.
DEFAULT_FRAME = [
    (Dimension.DECISION, "项目立项", D("5")),
    (Dimension.DECISION, "绩效目标", D("5")),
    (Dimension.DECISION, "资金投入", D("5")),
    (Dimension.PROCESS, "资金管理", D("10")),
    (Dimension.PROCESS, "组织实施", D("10")),
    (Dimension.OUTPUT, "产出数量", D("10")),
    (Dimension.OUTPUT, "产出质量", D("10")),
    (Dimension.OUTPUT, "产出时效", D("5")),
    (Dimension.OUTPUT, "产出成本", D("5")),
    (Dimension.EFFECT, "项目效益", D("25")),
    (Dimension.EFFECT, "满意度", D("10")),
]


class EvaluationPlan(models.Model):
    """A key-evaluation plan: which funds (or departments) an evaluator evaluates for a year."""

    class Kind(models.TextChoices):
        FINANCE = "finance", "财政重点评价"
        DEPARTMENT = "department", "部门评价"

    class Status(models.TextChoices):
        DRAFT = "draft", "编制中"
        ISSUED = "issued", "已下达"
        CLOSED = "closed", "已完成"

    # The evaluator: the region's finance bureau, or a department evaluating its own funds.
    organization = models.ForeignKey("orgs.Organization", verbose_name="评价主体", on_delete=models.PROTECT)
    fiscal_year = models.ForeignKey("orgs.FiscalYear", verbose_name="评价年度", on_delete=models.PROTECT)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    name = models.CharField("名称", max_length=100)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    issued_at = models.DateTimeField("下达时间", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "重点评价计划"
        ordering = ["-fiscal_year", "organization__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "fiscal_year"], name="one_evaluation_plan_per_evaluator_year"
            )
        ]

    def __str__(self) -> str:
        return self.name


class KeyEvaluation(models.Model):
    """One key evaluation of a fund, or a department's overall evaluation (部门整体评价)."""

    class Subject(models.TextChoices):
        FUND = "fund", "项目评价"
        DEPARTMENT = "department", "部门整体评价"

    class Status(models.TextChoices):
        PLANNED = "planned", "待评价"
        IN_PROGRESS = "in_progress", "评价中"
        SUBMITTED = "submitted", "待审定"
        COMPLETED = "completed", "已完成"

    plan = models.ForeignKey(
        EvaluationPlan, verbose_name="评价计划", on_delete=models.PROTECT, related_name="evaluations"
    )
    subject = models.CharField("评价对象类型", max_length=20, choices=Subject.choices, default=Subject.FUND)
    fund = models.ForeignKey(
        "funds.SpecialFund",
        verbose_name="专项资金",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="key_evaluations",
    )
    # The evaluated department (the fund's department, or the department evaluated as a whole):
    # scoping and the conflict-of-interest rule start here.
    department = models.ForeignKey(
        "orgs.Organization", verbose_name="被评价部门", on_delete=models.PROTECT, related_name="+"
    )
    target = models.ForeignKey(
        "targets.PerformanceTarget",
        verbose_name="评价依据的绩效目标",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.PLANNED)
    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name="第三方机构",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="key_evaluations",
    )
    weight_decision = models.DecimalField("决策权重", max_digits=5, decimal_places=2, default=D("15"))
    weight_process = models.DecimalField("过程权重", max_digits=5, decimal_places=2, default=D("20"))
    weight_output = models.DecimalField("产出权重", max_digits=5, decimal_places=2, default=D("30"))
    weight_effect = models.DecimalField("效益权重", max_digits=5, decimal_places=2, default=D("35"))
    findings = models.TextField("主要问题", blank=True)
    recommendations = models.TextField("意见建议", blank=True)
    score = models.DecimalField("评价得分", max_digits=5, decimal_places=2, null=True, blank=True, editable=False)
    grade = models.CharField("评价等级", max_length=10, choices=Grade.choices, blank=True, editable=False)
    status_changed_at = models.DateTimeField("进入当前状态时间", null=True, blank=True)
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    scope_path = "department"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "重点评价"
        ordering = ["plan", "subject", "fund__code", "department__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "fund"],
                condition=models.Q(fund__isnull=False),
                name="key_evaluation_fund_once_per_plan",
            ),
            models.UniqueConstraint(
                fields=["plan", "department"],
                condition=models.Q(subject="department"),
                name="department_evaluation_once_per_plan",
            ),
            models.CheckConstraint(
                condition=models.Q(subject="fund", fund__isnull=False)
                | models.Q(subject="department", fund__isnull=True),
                name="key_evaluation_subject_matches_fund",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    weight_decision__gte=0, weight_process__gte=0, weight_output__gte=0, weight_effect__gte=0
                ),
                name="key_evaluation_weights_not_negative",
            ),
        ]

    def __str__(self) -> str:
        subject = self.fund.name if self.fund_id else f"{self.department.name}部门整体"
        return f"{subject} {self.plan.get_kind_display()}"

    @property
    def conduct_action(self) -> str:
        """The action that lets a user score this evaluation: finance's, or the department's own."""
        return f"evaluation.conduct_{self.plan.kind}"

    @property
    def complete_action(self) -> str:
        return f"evaluation.complete_{self.plan.kind}"

    @property
    def weights(self) -> dict[str, Decimal]:
        return {d: getattr(self, f"weight_{d}") for d in Dimension.values}


class KeyEvaluationLine(models.Model):
    """One scored line of the 决策/过程/产出/效益 frame."""

    evaluation = models.ForeignKey(KeyEvaluation, on_delete=models.CASCADE, related_name="lines")
    dimension = models.CharField("一级指标", max_length=20, choices=Dimension.choices)
    sort_order = models.PositiveSmallIntegerField("序号", default=0)
    name = models.CharField("评价指标", max_length=100)
    max_points = models.DecimalField("分值", max_digits=5, decimal_places=2)
    points = models.DecimalField("得分", max_digits=5, decimal_places=2, null=True, blank=True)
    comment = models.TextField("评分说明", blank=True)

    scope_path = "evaluation__department"

    class Meta:
        verbose_name = verbose_name_plural = "重点评价指标"
        ordering = ["evaluation", "sort_order", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(max_points__gte=0), name="key_line_max_not_negative"),
            models.CheckConstraint(
                condition=models.Q(points__isnull=True) | models.Q(points__gte=0, points__lte=models.F("max_points")),
                name="key_line_points_within_max",
                violation_error_message="得分不能为负数，也不能超过分值。",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class KeyEvaluationExpert(models.Model):
    """An expert assigned to a key evaluation (sees and scores only the evaluations assigned)."""

    evaluation = models.ForeignKey(KeyEvaluation, on_delete=models.CASCADE, related_name="expert_assignments")
    expert = models.ForeignKey("agencies.Expert", verbose_name="专家", on_delete=models.PROTECT, related_name="+")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField("指派时间", auto_now_add=True)

    scope_path = "evaluation__department"

    class Meta:
        verbose_name = verbose_name_plural = "重点评价专家"
        constraints = [models.UniqueConstraint(fields=["evaluation", "expert"], name="expert_once_per_key_evaluation")]

    def __str__(self) -> str:
        return f"{self.expert} → {self.evaluation}"


GradeChoices = Grade  # drf-spectacular ENUM_NAME_OVERRIDES
