"""第三方机构与专家库: the registry of third-party agencies and experts, the conflict-of-interest
ties that bar an assignment, and finance's quality appraisal of an agency after each job.

Agency staff and experts sign in with the ``expert`` role (an organisation of kind 第三方机构 or
专家库); what they may see is granted per object when finance assigns them (``Scope.OBJECT``).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models

from apps.core.scoping import ScopedQuerySet


class Agency(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "正常"
        SUSPENDED = "suspended", "暂停委托"

    # The finance bureau that registered the agency (scoping); staff accounts sit in ``organization``.
    registered_by = models.ForeignKey(
        "orgs.Organization", verbose_name="登记单位", on_delete=models.PROTECT, related_name="+"
    )
    organization = models.OneToOneField(
        "orgs.Organization",
        verbose_name="机构账号所在组织",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agency",
    )
    name = models.CharField("机构名称", max_length=100)
    credit_code = models.CharField("统一社会信用代码", max_length=18, unique=True)
    qualifications = models.TextField("资质情况", blank=True)
    contact_person = models.CharField("联系人", max_length=50, blank=True)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    email = models.EmailField("电子邮箱", blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.TextField("暂停原因", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    scope_path = "registered_by"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "第三方机构"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Expert(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "正常"
        SUSPENDED = "suspended", "暂停"

    registered_by = models.ForeignKey(
        "orgs.Organization", verbose_name="登记单位", on_delete=models.PROTECT, related_name="+"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="登录账号",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="expert_profile",
    )
    name = models.CharField("姓名", max_length=50)
    fields = models.CharField("专业领域", max_length=200, help_text="多个领域用顿号分隔")
    employer = models.CharField("工作单位", max_length=100, blank=True)
    # When the employer is an organisation in the system (a department or unit): conflict of interest.
    employer_organization = models.ForeignKey(
        "orgs.Organization",
        verbose_name="工作单位（系统内机构）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    title = models.CharField("职称", max_length=50, blank=True)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    scope_path = "registered_by"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "评审专家"
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class ConflictRelation(models.Model):
    """A kind of tie that bars an assignment (configurable: 任职、近三年提供服务、亲属关系 …)."""

    name = models.CharField("关系类型", max_length=50, unique=True)
    is_active = models.BooleanField("作为回避情形", default=True)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "利益冲突关系类型"
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class ConflictTie(models.Model):
    """A declared tie between an agency or an expert and a department (its units included)."""

    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.CASCADE, related_name="ties")
    expert = models.ForeignKey(Expert, null=True, blank=True, on_delete=models.CASCADE, related_name="ties")
    organization = models.ForeignKey(
        "orgs.Organization", verbose_name="关联部门/单位", on_delete=models.PROTECT, related_name="+"
    )
    relation = models.ForeignKey(ConflictRelation, verbose_name="关系类型", on_delete=models.PROTECT)
    note = models.CharField("说明", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "利益关联"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(agency__isnull=False, expert__isnull=True)
                | models.Q(agency__isnull=True, expert__isnull=False),
                name="tie_has_agency_or_expert",
            )
        ]

    def __str__(self) -> str:
        return f"{self.agency or self.expert} — {self.organization}（{self.relation}）"


class AppraisalCriterion(models.Model):
    """A scored item of the after-job quality appraisal (configurable list)."""

    name = models.CharField("考评项目", max_length=100, unique=True)
    max_points = models.DecimalField("分值", max_digits=5, decimal_places=2)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "机构考评项目"
        ordering = ["sort_order", "pk"]
        constraints = [models.CheckConstraint(condition=models.Q(max_points__gt=0), name="criterion_points_positive")]

    def __str__(self) -> str:
        return self.name


class AgencyAppraisal(models.Model):
    """Finance's quality appraisal of an agency after a job (a key evaluation or an ex-ante assessment)."""

    agency = models.ForeignKey(Agency, verbose_name="第三方机构", on_delete=models.PROTECT, related_name="appraisals")
    organization = models.ForeignKey(
        "orgs.Organization", verbose_name="考评单位", on_delete=models.PROTECT, related_name="+"
    )
    key_evaluation = models.ForeignKey(
        "evaluations.KeyEvaluation",
        verbose_name="重点评价",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appraisals",
    )
    assessment = models.ForeignKey(
        "assessments.ExAnteAssessment",
        verbose_name="事前评估",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appraisals",
    )
    total = models.DecimalField("总分", max_digits=5, decimal_places=2, default=Decimal("0"))
    comments = models.TextField("考评意见", blank=True)
    appraised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    appraised_at = models.DateTimeField("考评时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "第三方机构质量考评"
        ordering = ["-appraised_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(key_evaluation__isnull=False, assessment__isnull=True)
                | models.Q(key_evaluation__isnull=True, assessment__isnull=False),
                name="appraisal_is_for_one_job",
            ),
            models.UniqueConstraint(
                fields=["key_evaluation"],
                condition=models.Q(key_evaluation__isnull=False),
                name="one_appraisal_per_key_evaluation",
            ),
            models.UniqueConstraint(
                fields=["assessment"], condition=models.Q(assessment__isnull=False), name="one_appraisal_per_assessment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency} 质量考评"


class AppraisalScore(models.Model):
    appraisal = models.ForeignKey(AgencyAppraisal, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(AppraisalCriterion, verbose_name="考评项目", on_delete=models.PROTECT)
    max_points = models.DecimalField("分值", max_digits=5, decimal_places=2)  # as it was when appraised
    points = models.DecimalField("得分", max_digits=5, decimal_places=2)
    comment = models.CharField("说明", max_length=200, blank=True)

    scope_path = "appraisal__organization"

    class Meta:
        verbose_name = verbose_name_plural = "考评得分"
        ordering = ["appraisal", "criterion__sort_order"]
        constraints = [
            models.UniqueConstraint(fields=["appraisal", "criterion"], name="one_score_per_criterion"),
            models.CheckConstraint(
                condition=models.Q(points__gte=0, points__lte=models.F("max_points")),
                name="appraisal_points_within_max",
                violation_error_message="得分不能为负数，也不能超过分值。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.criterion}：{self.points}"
