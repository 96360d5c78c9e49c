"""事前绩效评估 (ex-ante assessment) of new major policies and large items, with expert review."""

from django.conf import settings
from django.db import models

from apps.core.scoping import ScopedQuerySet

# The five dimensions of domain.md, in order: (field prefix, label).
DIMENSIONS = [
    ("necessity", "立项必要性"),
    ("economy", "投入经济性"),
    ("target_reasonableness", "绩效目标合理性"),
    ("feasibility", "实施方案可行性"),
    ("funding_compliance", "筹资合规性"),
]


class Conclusion(models.TextChoices):
    SUPPORT = "support", "予以支持"
    SUPPORT_ADJUSTED = "support_adjusted", "调整后支持"
    REJECT = "reject", "不予支持"


class ExAnteAssessment(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "单位评估中"
        SUBMITTED = "submitted", "待财政评审"
        REVIEWING = "reviewing", "专家评审中"
        COMPLETED = "completed", "已完成"
        RETURNED = "returned", "已退回"

    fund = models.ForeignKey(
        "funds.SpecialFund", verbose_name="专项资金", on_delete=models.PROTECT, related_name="assessments"
    )
    organization = models.ForeignKey("orgs.Organization", verbose_name="评估单位", on_delete=models.PROTECT)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.DRAFT)
    # The unit's analysis, one text per dimension.
    necessity = models.TextField("立项必要性", blank=True)
    economy = models.TextField("投入经济性", blank=True)
    target_reasonableness = models.TextField("绩效目标合理性", blank=True)
    feasibility = models.TextField("实施方案可行性", blank=True)
    funding_compliance = models.TextField("筹资合规性", blank=True)
    # Finance's review.
    finance_opinion = models.TextField("财政评审意见", blank=True)
    conclusion = models.CharField("评估结论", max_length=20, choices=Conclusion.choices, blank=True)
    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name="第三方机构",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assessments",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="评审人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "事前绩效评估"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="completed") | ~models.Q(conclusion=""),
                name="completed_assessment_has_conclusion",
            ),
            # 一个专项资金同时只能有一份未完成的事前评估 (a new one may start once the last is completed).
            models.UniqueConstraint(
                fields=["fund"],
                condition=~models.Q(status="completed"),
                name="one_open_assessment_per_fund",
                violation_error_message="该专项资金已有一份未完成的事前绩效评估。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fund.name} 事前绩效评估"


class ExpertOpinion(models.Model):
    """An expert's opinion on an assessment assigned to them (they see nothing else)."""

    assessment = models.ForeignKey(ExAnteAssessment, on_delete=models.CASCADE, related_name="expert_opinions")
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="专家", on_delete=models.PROTECT, related_name="+"
    )
    opinion = models.TextField("专家意见", blank=True)
    recommended_conclusion = models.CharField("建议结论", max_length=20, choices=Conclusion.choices, blank=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    assigned_at = models.DateTimeField("指派时间", auto_now_add=True)

    scope_path = "assessment__organization"

    class Meta:
        verbose_name = verbose_name_plural = "专家意见"
        constraints = [models.UniqueConstraint(fields=["assessment", "expert"], name="one_opinion_per_expert")]

    def __str__(self) -> str:
        return f"{self.expert} 对 {self.assessment} 的意见"


# Module-level name for the status choices, so settings can refer to it by import path
# (drf-spectacular ENUM_NAME_OVERRIDES: "AssessmentStatusEnum").
AssessmentStatus = ExAnteAssessment.Status
