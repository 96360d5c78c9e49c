"""Regions, the organisation tree, fiscal years and the work calendar."""

from django.core.exceptions import ValidationError
from django.db import models

from apps.core.scoping import ScopedQuerySet


class Region(models.Model):
    """市本级 or one of the 10 区市; every organisation belongs to exactly one."""

    class Level(models.TextChoices):
        CITY = "city", "市本级"
        DISTRICT = "district", "区（市）"

    code = models.CharField("行政区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=50, unique=True)
    level = models.CharField("层级", max_length=10, choices=Level.choices)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "区域"
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_city(self) -> bool:
        return self.level == self.Level.CITY


class Organization(models.Model):
    """A node of the organisation tree. ``path`` (codes from the root) makes subtree checks cheap."""

    class Kind(models.TextChoices):
        FINANCE = "finance", "财政局"
        FINANCE_DIVISION = "finance_division", "财政内设处室"
        DEPARTMENT = "department", "预算部门"
        UNIT = "unit", "预算单位"
        AUDIT = "audit", "审计局"
        NPC = "npc", "人大预算工作机构"
        AGENCY = "agency", "第三方机构"
        EXPERT_POOL = "expert_pool", "专家库"

    code = models.CharField("机构编码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=100)
    short_name = models.CharField("简称", max_length=50, blank=True)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    region = models.ForeignKey(Region, verbose_name="区域", on_delete=models.PROTECT, related_name="organizations")
    parent = models.ForeignKey(
        "self", verbose_name="上级机构", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    path = models.CharField("路径", max_length=400, editable=False, db_index=True)
    is_active = models.BooleanField("启用", default=True)
    sort_order = models.PositiveIntegerField("排序", default=0)

    scope_path = ""  # an organisation is its own owner

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "组织机构"
        ordering = ["region__sort_order", "path"]
        constraints = [
            models.UniqueConstraint(fields=["region", "parent", "name"], name="org_unique_name_under_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.path = self.build_path(self.parent, self.code)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.parent_id and self.parent.region_id != self.region_id:
            raise ValidationError({"parent": "上级机构必须与本机构属于同一区域。"})
        if self.kind == self.Kind.UNIT and (not self.parent_id or self.parent.kind != self.Kind.DEPARTMENT):
            raise ValidationError({"parent": "预算单位的上级必须是预算部门。"})

    @staticmethod
    def build_path(parent: "Organization | None", code: str) -> str:
        return f"{parent.path if parent else '/'}{code}/"

    def is_within(self, other: "Organization") -> bool:
        """True if this organisation is ``other`` or below it in the tree."""
        return self.path.startswith(other.path)

    @property
    def department(self) -> "Organization | None":
        """The budget department this organisation belongs to (itself for a department)."""
        if self.kind == self.Kind.DEPARTMENT:
            return self
        if self.kind == self.Kind.UNIT:
            return self.parent
        return None


class FiscalYear(models.Model):
    year = models.PositiveSmallIntegerField("预算年度", primary_key=True)
    is_current = models.BooleanField("当前年度", default=False)
    is_closed = models.BooleanField("已结账", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "预算年度"
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=models.Q(is_current=True), name="one_current_year"
            ),
            models.CheckConstraint(condition=models.Q(year__gte=2000, year__lte=2100), name="fiscal_year_range"),
        ]

    def __str__(self) -> str:
        return f"{self.year}年度"


class WorkStep(models.TextChoices):
    """Process steps that carry a due date. Later issues add their steps here."""

    TARGET_FILING = "target_filing", "绩效目标申报"
    TARGET_DEPT_REVIEW = "target_dept_review", "部门审核绩效目标"
    TARGET_FINANCE_REVIEW = "target_finance_review", "财政审核绩效目标"
    MONITORING = "monitoring", "绩效运行监控"
    SELF_EVALUATION = "self_evaluation", "单位绩效自评"
    DEPT_EVALUATION = "dept_evaluation", "部门评价"
    FINANCE_EVALUATION = "finance_evaluation", "财政重点评价"
    DISCLOSURE = "disclosure", "绩效信息公开"


class WorkCalendar(models.Model):
    """A due date for one process step in one region and fiscal year."""

    # The region's finance bureau owns (and may edit) the calendar; scoping goes through it.
    organization = models.ForeignKey(
        Organization, verbose_name="财政部门", on_delete=models.PROTECT, related_name="calendar_entries"
    )
    fiscal_year = models.ForeignKey(FiscalYear, verbose_name="预算年度", on_delete=models.PROTECT)
    step = models.CharField("业务环节", max_length=40, choices=WorkStep.choices)
    starts_on = models.DateField("开始日期", null=True, blank=True)
    due_on = models.DateField("截止日期")
    note = models.CharField("说明", max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "工作日历"
        ordering = ["fiscal_year", "organization__region__sort_order", "due_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "fiscal_year", "step"], name="calendar_one_due_date_per_step"
            ),
            models.CheckConstraint(
                condition=models.Q(starts_on__isnull=True) | models.Q(starts_on__lte=models.F("due_on")),
                name="calendar_start_before_due",
                violation_error_message="开始日期不能晚于截止日期。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.fiscal_year} {self.get_step_display()}"
