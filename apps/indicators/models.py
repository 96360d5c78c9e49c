"""The 三级 indicator library: common and sector indicators, core constraints, proposals."""

from django.conf import settings
from django.db import models

from apps.core.scoping import ScopedQuerySet

from .framework import LEVEL2_PARENT, Comparison, Level1, Level2, Sector


class LibraryIndicator(models.Model):
    """A reusable 三级 indicator of the shared library (``organization`` empty: maintained by the
    city 绩效管理处), or a department's proposal (``organization`` = the proposing department).

    ``proposer_organization`` keeps the proposing department after a decision, so a department
    still finds its accepted proposals once they have joined the library."""

    class Status(models.TextChoices):
        ACTIVE = "active", "在用"
        RETIRED = "retired", "已停用"
        PROPOSED = "proposed", "待审核（部门建议）"
        REJECTED = "rejected", "未采纳"

    code = models.CharField("指标编码", max_length=30, unique=True)
    name = models.CharField("指标名称", max_length=200, db_index=True)
    level1 = models.CharField("一级指标", max_length=20, choices=Level1.choices)
    level2 = models.CharField("二级指标", max_length=30, choices=Level2.choices)
    sector = models.CharField("行业领域", max_length=20, choices=Sector.choices, db_index=True)
    comparison = models.CharField("比较方式", max_length=20, choices=Comparison.choices)
    unit = models.CharField("计量单位", max_length=30, blank=True)
    reference_value = models.CharField("参考值", max_length=100, blank=True)
    description = models.TextField("指标解释与计算方法", blank=True)
    is_core = models.BooleanField("核心约束指标", default=False, help_text="本行业每个绩效目标必须包含")
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    organization = models.ForeignKey(
        "orgs.Organization",
        verbose_name="建议机构",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposer_organization = models.ForeignKey(
        "orgs.Organization",
        verbose_name="建议部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="提出建议的部门；采纳后指标归入指标库（建议机构清空），此处仍保留，便于部门查看处理结果",
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="建议人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposal_reason = models.TextField("建议理由", blank=True)
    decision_comment = models.TextField("审核意见", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "库指标"
        ordering = ["sector", "level1", "level2", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    *[models.Q(level2=l2, level1=l1) for l2, l1 in LEVEL2_PARENT.items()], _connector=models.Q.OR
                ),
                name="library_level2_under_level1",
                violation_error_message="二级指标与一级指标不匹配。",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_quantitative(self) -> bool:
        return self.comparison != Comparison.QUALITATIVE
