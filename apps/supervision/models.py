"""监督考核: the annual assessment of the players (考核), the district fiscal-operation evaluation
(区市财政运行综合绩效评价) and audit supervision (审计发现、移送纪委监委线索).

The special-area summaries (政府投资基金, PPP, …) read the funds' flags and the other apps' tables,
so they need no table of their own.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models

from apps.core.scoping import RegionFromOrganizationMixin, ScopedQuerySet
from apps.evaluations.models import Grade

D = Decimal
POINTS = {"max_digits": 7, "decimal_places": 2}


# --- Annual assessment (考核) ----------------------------------------------------------------


class AssessmentKind(models.TextChoices):
    DEPARTMENTS = "departments", "部门预算绩效管理工作考核"  # every department of the region
    DISTRICTS = "districts", "区市财政局预算绩效管理工作考核"  # the 10 district finance offices (city only)


class Metric(models.TextChoices):
    """How an item's points are found. All but MANUAL are computed from the system's own records."""

    TARGET_ON_TIME = "target_on_time", "绩效目标按时报送率"
    MONITORING_ON_TIME = "monitoring_on_time", "绩效监控按时报送率"
    SELFEVAL_ON_TIME = "selfeval_on_time", "单位自评按时报送率"
    TARGET_FIRST_PASS = "target_first_pass", "绩效目标一次审核通过率"
    SCORE_GAP = "score_gap", "自评与财政重点评价得分偏差"
    RECTIFICATION_ON_TIME = "rectification_on_time", "整改按期完成率"
    DISCLOSURE = "disclosure", "信息公开完整率"
    MANUAL = "manual", "人工评分（附佐证）"


class AnnualAssessment(RegionFromOrganizationMixin):
    """One score sheet: the bodies a finance bureau assesses for one year, and the items it scores."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"  # items being set up; not yet computed
        COMPUTING = "computing", "计算中"
        REVIEW = "review", "待审定"  # computed; finance reviews and adjusts
        PUBLISHED = "published", "已通报"

    region = models.ForeignKey("orgs.Region", verbose_name="区域", on_delete=models.PROTECT, editable=False)
    # The finance bureau that runs the assessment (the scope owner).
    organization = models.ForeignKey(
        "orgs.Organization", verbose_name="考核机关", on_delete=models.PROTECT, related_name="+"
    )
    fiscal_year = models.ForeignKey("orgs.FiscalYear", verbose_name="考核年度", on_delete=models.PROTECT)
    kind = models.CharField("考核对象", max_length=20, choices=AssessmentKind.choices)
    title = models.CharField("考核名称", max_length=200)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.DRAFT)
    notice = models.TextField("通报说明", blank=True)
    compute_job = models.ForeignKey(
        "core.BackgroundJob",
        verbose_name="计算任务",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    computed_at = models.DateTimeField("计算时间", null=True, blank=True)
    published_at = models.DateTimeField("通报时间", null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="通报人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "region"

    class Meta:
        verbose_name = verbose_name_plural = "年度考核"
        ordering = ["-fiscal_year", "region__sort_order", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "fiscal_year", "kind"], name="assessment_one_per_region_year_kind"
            )
        ]

    def __str__(self) -> str:
        return self.title


class AssessmentItem(models.Model):
    """One configurable line of the score sheet: a metric and its points (``params`` tune the formula)."""

    assessment = models.ForeignKey(
        AnnualAssessment, verbose_name="考核", on_delete=models.CASCADE, related_name="items"
    )
    sort_order = models.PositiveSmallIntegerField("序号", default=0)
    name = models.CharField("考核项目", max_length=100)
    metric = models.CharField("计分方式", max_length=30, choices=Metric.choices)
    max_points = models.DecimalField("分值", **POINTS)
    # e.g. {"tolerance": 5, "deduct_per_point": 1} for SCORE_GAP; documented in services_assessment.
    params = models.JSONField("计分参数", default=dict, blank=True)
    guidance = models.TextField("评分标准", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "考核项目"
        ordering = ["assessment", "sort_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_points__gt=0),
                name="assessment_item_points_positive",
                violation_error_message="分值必须大于0。",
            )
        ]

    def __str__(self) -> str:
        return self.name


class AssessedBody(RegionFromOrganizationMixin):
    """One department (or district finance office) in one assessment: its total and rank."""

    assessment = models.ForeignKey(
        AnnualAssessment, verbose_name="考核", on_delete=models.CASCADE, related_name="bodies"
    )
    organization = models.ForeignKey(
        "orgs.Organization", verbose_name="被考核单位", on_delete=models.PROTECT, related_name="+"
    )
    # The assessed body's own region (a district office's is its district): scoping stays on its side.
    region = models.ForeignKey("orgs.Region", verbose_name="区域", on_delete=models.PROTECT, editable=False)
    total = models.DecimalField("总分", default=D("0"), **POINTS)
    rank = models.PositiveSmallIntegerField("名次", null=True, blank=True)
    grade = models.CharField("等次", max_length=10, choices=Grade.choices, blank=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "region"

    class Meta:
        verbose_name = verbose_name_plural = "被考核单位"
        ordering = ["assessment", "rank", "organization__sort_order", "organization__code"]
        constraints = [models.UniqueConstraint(fields=["assessment", "organization"], name="assessed_body_once")]
        indexes = [models.Index(fields=["assessment", "rank"])]

    def __str__(self) -> str:
        return f"{self.assessment} · {self.organization}"


class AssessmentLine(models.Model):
    """One body × one item: the computed points, the data behind them, and finance's adjustment."""

    body = models.ForeignKey(AssessedBody, verbose_name="被考核单位", on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(AssessmentItem, verbose_name="考核项目", on_delete=models.CASCADE, related_name="lines")
    # The measured value (a rate in %, a score gap in points); null for hand-scored items.
    value = models.DecimalField("测算值", max_digits=9, decimal_places=2, null=True, blank=True)
    computed_points = models.DecimalField("系统计算得分", null=True, blank=True, **POINTS)
    points = models.DecimalField("得分", default=D("0"), **POINTS)  # the final points (adjusted or computed)
    # {"numerator": 8, "denominator": 10, "summary": "…", "records": [{"label", "due", "done", "note", "url"}]}
    basis = models.JSONField("计算依据", default=dict, blank=True)
    evidence = models.TextField("评分说明/佐证", blank=True)
    adjusted = models.BooleanField("已调整", default=False)
    adjust_reason = models.TextField("调整理由", blank=True)
    adjusted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="调整人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    adjusted_at = models.DateTimeField("调整时间", null=True, blank=True)

    scope_path = "body__organization"

    class Meta:
        verbose_name = verbose_name_plural = "考核得分明细"
        ordering = ["body", "item__sort_order", "item_id"]
        constraints = [models.UniqueConstraint(fields=["body", "item"], name="assessment_line_once")]

    def __str__(self) -> str:
        return f"{self.body} · {self.item}"


class AssessmentAdjustment(models.Model):
    """Every change of a line's points by hand, kept (the line holds only the latest)."""

    # PROTECT: a reasoned change of points is never lost with its line (nothing is lost, even in review).
    line = models.ForeignKey(
        AssessmentLine, verbose_name="得分明细", on_delete=models.PROTECT, related_name="adjustments"
    )
    from_points = models.DecimalField("调整前得分", **POINTS)
    to_points = models.DecimalField("调整后得分", **POINTS)
    reason = models.TextField("调整理由")
    adjusted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="调整人", on_delete=models.PROTECT, related_name="+"
    )
    adjusted_at = models.DateTimeField("调整时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "考核得分调整记录"
        ordering = ["line", "adjusted_at", "id"]

    def __str__(self) -> str:
        return f"{self.line}：{self.from_points} → {self.to_points}"


# --- District fiscal-operation comprehensive evaluation (区市财政运行综合绩效评价) -------------


DEFAULT_FISCAL_GROUPS = ["收入质量", "支出结构", "预算执行", "债务风险", "绩效管理"]


class FiscalEvaluation(RegionFromOrganizationMixin):
    """The city's evaluation of the districts' fiscal operation for one year."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"  # the indicator frame is being set up
        COLLECTING = "collecting", "区市填报中"
        SCORING = "scoring", "评分中"
        PUBLISHED = "published", "已发布"

    region = models.ForeignKey("orgs.Region", verbose_name="区域", on_delete=models.PROTECT, editable=False)
    organization = models.ForeignKey(
        "orgs.Organization", verbose_name="组织机关", on_delete=models.PROTECT, related_name="+"
    )
    fiscal_year = models.ForeignKey("orgs.FiscalYear", verbose_name="评价年度", on_delete=models.PROTECT)
    title = models.CharField("评价名称", max_length=200)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.DRAFT)
    due_on = models.DateField("区市填报截止日期", null=True, blank=True)
    summary = models.TextField("总体评价意见", blank=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发布人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "region"

    class Meta:
        verbose_name = verbose_name_plural = "区市财政运行综合绩效评价"
        ordering = ["-fiscal_year"]
        constraints = [models.UniqueConstraint(fields=["region", "fiscal_year"], name="fiscal_evaluation_one_per_year")]

    def __str__(self) -> str:
        return self.title


class FiscalIndicator(models.Model):
    """One indicator of the evaluation's frame (groups default to DEFAULT_FISCAL_GROUPS)."""

    class Direction(models.TextChoices):
        HIGHER = "higher", "越高越好"
        LOWER = "lower", "越低越好"
        QUALITATIVE = "qualitative", "定性"

    evaluation = models.ForeignKey(
        FiscalEvaluation, verbose_name="评价", on_delete=models.CASCADE, related_name="indicators"
    )
    group = models.CharField("指标类别", max_length=50)
    sort_order = models.PositiveSmallIntegerField("序号", default=0)
    name = models.CharField("指标名称", max_length=100)
    unit = models.CharField("计量单位", max_length=20, blank=True)
    direction = models.CharField("指标方向", max_length=20, choices=Direction.choices, default=Direction.HIGHER)
    max_points = models.DecimalField("分值", **POINTS)
    guidance = models.TextField("评分标准", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "财政运行评价指标"
        ordering = ["evaluation", "sort_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_points__gt=0),
                name="fiscal_indicator_points_positive",
                violation_error_message="分值必须大于0。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.group} · {self.name}"


class FiscalSubmission(RegionFromOrganizationMixin):
    """One district's data for the evaluation (owned by its finance office), and the city's scores."""

    class Status(models.TextChoices):
        DRAFT = "draft", "填报中"
        SUBMITTED = "submitted", "已报送"
        RETURNED = "returned", "已退回"
        SCORED = "scored", "已评分"

    evaluation = models.ForeignKey(
        FiscalEvaluation, verbose_name="评价", on_delete=models.CASCADE, related_name="submissions"
    )
    organization = models.ForeignKey(
        "orgs.Organization", verbose_name="区市财政局", on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey("orgs.Region", verbose_name="区市", on_delete=models.PROTECT, editable=False)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.DRAFT)
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="报送人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    return_comment = models.TextField("退回意见", blank=True)
    comment = models.TextField("市财政局评价意见", blank=True)
    total = models.DecimalField("总分", null=True, blank=True, **POINTS)
    rank = models.PositiveSmallIntegerField("名次", null=True, blank=True)
    grade = models.CharField("等次", max_length=10, choices=Grade.choices, blank=True)
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="评分人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    scored_at = models.DateTimeField("评分时间", null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "region"

    class Meta:
        verbose_name = verbose_name_plural = "区市财政运行数据填报"
        ordering = ["evaluation", "region__sort_order"]
        constraints = [models.UniqueConstraint(fields=["evaluation", "organization"], name="fiscal_submission_once")]

    def __str__(self) -> str:
        return f"{self.evaluation} · {self.organization}"


class FiscalValue(models.Model):
    """One district × one indicator: the value it reports, and the city's score and comment."""

    submission = models.ForeignKey(
        FiscalSubmission, verbose_name="填报", on_delete=models.CASCADE, related_name="values"
    )
    indicator = models.ForeignKey(FiscalIndicator, verbose_name="指标", on_delete=models.CASCADE, related_name="values")
    value = models.DecimalField("指标值", max_digits=18, decimal_places=4, null=True, blank=True)
    text_value = models.TextField("定性情况", blank=True)
    note = models.TextField("数据说明", blank=True)
    score = models.DecimalField("得分", null=True, blank=True, **POINTS)
    comment = models.TextField("评分意见", blank=True)

    scope_path = "submission__organization"

    class Meta:
        verbose_name = verbose_name_plural = "区市财政运行指标值"
        ordering = ["submission", "indicator__sort_order", "indicator_id"]
        constraints = [models.UniqueConstraint(fields=["submission", "indicator"], name="fiscal_value_once")]

    def __str__(self) -> str:
        return f"{self.submission} · {self.indicator}"


# --- Audit supervision (审计监督) ---------------------------------------------------------------


class AuditCategory(models.TextChoices):
    TARGET = "target", "绩效目标不实或未设定"
    IDLE = "idle", "资金闲置或执行缓慢"
    MISUSE = "misuse", "违规使用或挤占挪用资金"
    INEFFECTIVE = "ineffective", "资金使用绩效不高"
    MANAGEMENT = "management", "管理制度不健全"
    DISCLOSURE = "disclosure", "未按规定公开"
    OTHER = "other", "其他"


class AuditFinding(RegionFromOrganizationMixin):
    """A problem the audit bureau found on a fund or an organisation; it opens a rectification."""

    class Status(models.TextChoices):
        RECTIFYING = "rectifying", "整改中"
        CLOSED = "closed", "已销号"  # the auditor confirmed the rectification

    # The responsible unit (it rectifies; scoping starts here).
    organization = models.ForeignKey(
        "orgs.Organization", verbose_name="责任单位", on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey("orgs.Region", verbose_name="区域", on_delete=models.PROTECT, editable=False)
    fiscal_year = models.ForeignKey("orgs.FiscalYear", verbose_name="所属年度", on_delete=models.PROTECT)
    fund = models.ForeignKey(
        "funds.SpecialFund", verbose_name="专项资金", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_audit = models.CharField("审计项目/报告文号", max_length=200)
    category = models.CharField("问题类别", max_length=20, choices=AuditCategory.choices)
    problem = models.TextField("审计发现问题")
    amount_involved = models.DecimalField("涉及金额（元）", max_digits=18, decimal_places=2, default=D("0"))
    found_on = models.DateField("发现日期")
    rectification = models.OneToOneField(
        "results.Rectification",
        verbose_name="整改事项",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_finding",
    )
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.RECTIFYING)
    closed_at = models.DateTimeField("销号时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="销号人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    close_comment = models.TextField("销号意见", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "region"

    class Meta:
        verbose_name = verbose_name_plural = "审计发现问题"
        ordering = ["-found_on", "-id"]
        indexes = [models.Index(fields=["region", "fiscal_year", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_involved__gte=0),
                name="finding_amount_not_negative",
                violation_error_message="涉及金额不能为负数。",
            )
        ]

    def __str__(self) -> str:
        return f"审计发现：{self.problem[:30]}"


class Referral(RegionFromOrganizationMixin):
    """A violation lead referred to the discipline commission (移送纪委监委).

    Owned by the audit bureau that made it — never by the organisation concerned, which must not
    learn of it: only ``referral.view`` holders (audit, finance leadership) see it anywhere.
    """

    class Status(models.TextChoices):
        REFERRED = "referred", "已移送"
        ACCEPTED = "accepted", "纪委监委已受理"
        CONCLUDED = "concluded", "已办结"
        DECLINED = "declined", "不予受理"

    organization = models.ForeignKey(
        "orgs.Organization", verbose_name="移送机关", on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey("orgs.Region", verbose_name="区域", on_delete=models.PROTECT, editable=False)
    referred_on = models.DateField("移送日期")
    subject = models.CharField("移送对象及事由", max_length=200)
    subject_organization = models.ForeignKey(
        "orgs.Organization", verbose_name="涉及单位", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    finding = models.ForeignKey(
        AuditFinding,
        verbose_name="关联审计发现",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals",
    )
    summary = models.TextField("线索摘要")
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.REFERRED)
    outcome = models.TextField("办理结果", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "region"

    class Meta:
        verbose_name = verbose_name_plural = "移送纪委监委线索"
        ordering = ["-referred_on", "-id"]

    def __str__(self) -> str:
        return f"移送线索：{self.subject}"
