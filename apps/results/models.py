"""结果应用: rectification (整改), budget linkage (预算挂钩), disclosure (信息公开).

NPC workbooks (报人大) are ``BackgroundJob`` rows of kind ``results.npc_workbook`` — the export
history is the job history — and dashboards read aggregates of the other apps' tables, so neither
needs a table of its own.
"""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.core.scoping import RegionFromOrganizationMixin, ScopedQuerySet
from apps.evaluations.models import Grade

D = Decimal


class RectificationQuerySet(ScopedQuerySet):
    def open(self) -> "RectificationQuerySet":
        return self.exclude(status=Rectification.Status.DONE)

    def overdue(self, today: date | None = None) -> "RectificationQuerySet":
        """Not done and past the deadline (逾期 is derived, never stored: it cannot go stale)."""
        return self.open().filter(deadline__lt=today or timezone.localdate())


class Rectification(RegionFromOrganizationMixin):
    """One problem a unit must fix by a deadline, with evidence, verified by finance."""

    class Source(models.TextChoices):
        SELF_EVALUATION = "self_evaluation", "单位自评"
        KEY_EVALUATION = "key_evaluation", "重点评价"
        MONITORING = "monitoring", "绩效监控"
        AUDIT = "audit", "审计发现"

    class Status(models.TextChoices):
        PENDING = "pending", "待整改"
        IN_PROGRESS = "in_progress", "整改中"
        VERIFYING = "verifying", "待核实"
        DONE = "done", "已完成"

    OVERDUE_LABEL = "逾期"

    source = models.CharField("问题来源", max_length=20, choices=Source.choices)
    self_evaluation = models.ForeignKey(
        "evaluations.SelfEvaluation",
        verbose_name="来源单位自评",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rectifications",
    )
    key_evaluation = models.ForeignKey(
        "evaluations.KeyEvaluation",
        verbose_name="来源重点评价",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rectifications",
    )
    key_monitoring = models.ForeignKey(
        "monitoring.KeyMonitoring",
        verbose_name="来源重点监控",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rectifications",
    )
    source_reference = models.CharField("来源文号/说明", max_length=200, blank=True)
    fund = models.ForeignKey(
        "funds.SpecialFund",
        verbose_name="专项资金",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rectifications",
    )
    # The responsible unit: it fills in measures and evidence; scoping starts here.
    organization = models.ForeignKey(
        "orgs.Organization", verbose_name="整改责任单位", on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey("orgs.Region", verbose_name="区域", on_delete=models.PROTECT, editable=False)
    fiscal_year = models.ForeignKey("orgs.FiscalYear", verbose_name="所属年度", on_delete=models.PROTECT)
    problem = models.TextField("存在问题")
    requirement = models.TextField("整改要求", blank=True)
    deadline = models.DateField("整改期限")
    measures = models.TextField("整改措施", blank=True)
    progress_note = models.TextField("整改情况", blank=True)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.PENDING)
    submitted_at = models.DateTimeField("报送核实时间", null=True, blank=True)
    completed_on = models.DateField("完成日期", null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="核实人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    verified_at = models.DateTimeField("核实时间", null=True, blank=True)
    verification_comment = models.TextField("核实意见", blank=True)
    reopen_count = models.PositiveSmallIntegerField("重新整改次数", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="下达人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("下达时间", auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    region_field = "region"

    objects = RectificationQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "整改事项"
        ordering = ["deadline", "id"]
        indexes = [
            models.Index(fields=["region", "fiscal_year", "status"]),
            models.Index(fields=["status", "deadline"]),
        ]

    def __str__(self) -> str:
        return f"整改：{self.problem[:30]}"

    @property
    def is_overdue(self) -> bool:
        return self.status != self.Status.DONE and self.deadline < timezone.localdate()

    @property
    def status_label(self) -> str:
        """The status as users read it: always the real status (待整改/整改中/待核实/已完成); 逾期 is
        shown next to it as a flag of its own (``is_overdue``), never instead of it."""
        return self.get_status_display()

    @property
    def status_with_overdue(self) -> str:
        """One line of text for places without badges (待办, messages): "整改中（逾期）"."""
        label = self.get_status_display()
        return f"{label}（{self.OVERDUE_LABEL}）" if self.is_overdue else label


class Suggestion(models.TextChoices):
    PRIORITY = "priority", "优先保障"
    NORMAL = "normal", "正常安排"
    CUT = "cut", "压减"
    CANCEL = "cancel", "取消"
    NONE = "none", "无评价结果"


class LinkageRule(models.Model):
    """Grade → budget suggestion for next year's budgets of one region (defaults from domain.md)."""

    DEFAULTS = {
        Grade.EXCELLENT: (Suggestion.PRIORITY, D("0")),
        Grade.GOOD: (Suggestion.NORMAL, D("0")),
        Grade.FAIR: (Suggestion.CUT, D("-10")),
        Grade.POOR: (Suggestion.CUT, D("-50")),
    }

    region = models.ForeignKey("orgs.Region", verbose_name="区域", on_delete=models.PROTECT)
    # The budget year the suggestion applies to (grades come from the year before).
    fiscal_year = models.ForeignKey("orgs.FiscalYear", verbose_name="预算年度", on_delete=models.PROTECT)
    grade = models.CharField("评价等级", max_length=10, choices=Grade.choices)
    suggestion = models.CharField(
        "预算安排建议", max_length=20, choices=[c for c in Suggestion.choices if c[0] != Suggestion.NONE]
    )
    adjust_percent = models.DecimalField(
        "调整比例（%）", max_digits=5, decimal_places=2, default=D("0"), help_text="负数为压减，如 -10 表示压减 10%"
    )
    note = models.CharField("说明", max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="修改人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    region_field = "region"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "预算挂钩规则"
        ordering = ["region", "fiscal_year", "grade"]
        constraints = [
            models.UniqueConstraint(fields=["region", "fiscal_year", "grade"], name="linkage_rule_once_per_grade"),
            models.CheckConstraint(
                condition=models.Q(adjust_percent__gte=-100, adjust_percent__lte=100),
                name="linkage_rule_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fiscal_year} {self.get_grade_display()} → {self.get_suggestion_display()}"


class BudgetDecision(models.Model):
    """What finance arranged for next year's fund, against the linkage suggestion (a snapshot)."""

    class GradeSource(models.TextChoices):
        KEY_EVALUATION = "key_evaluation", "财政重点评价"
        DEPARTMENT_EVALUATION = "department_evaluation", "部门评价"
        SELF_EVALUATION = "self_evaluation", "单位自评"
        NONE = "", "无"

    fund = models.OneToOneField(
        "funds.SpecialFund", verbose_name="申报项目", on_delete=models.PROTECT, related_name="budget_decision"
    )
    basis_fund = models.ForeignKey(
        "funds.SpecialFund",
        verbose_name="上年项目",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    last_grade = models.CharField("上年评价等级", max_length=10, choices=Grade.choices, blank=True)
    last_score = models.DecimalField("上年评价得分", max_digits=5, decimal_places=2, null=True, blank=True)
    grade_source = models.CharField("等级来源", max_length=30, choices=GradeSource.choices, blank=True)
    suggestion = models.CharField("挂钩建议", max_length=20, choices=Suggestion.choices)
    adjust_percent = models.DecimalField("调整比例（%）", max_digits=5, decimal_places=2, default=D("0"))
    base_amount = models.DecimalField("上年预算（元）", max_digits=18, decimal_places=2, null=True, blank=True)
    requested_amount = models.DecimalField("申报金额（元）", max_digits=18, decimal_places=2)
    suggested_amount = models.DecimalField("建议金额（元）", max_digits=18, decimal_places=2)
    decided_amount = models.DecimalField("安排金额（元）", max_digits=18, decimal_places=2)
    reason = models.TextField("偏离建议的理由", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="安排人", on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("安排时间", default=timezone.now)

    scope_path = "fund__organization"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "预算安排与绩效挂钩"
        ordering = ["fund__code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decided_amount__gte=0) & models.Q(suggested_amount__gte=0),
                name="budget_decision_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fund} 预算安排"

    @property
    def departs(self) -> bool:
        return self.decided_amount != self.suggested_amount


class DisclosureQuerySet(ScopedQuerySet):
    def public(self) -> "DisclosureQuerySet":
        """What anyone may read: published, and nothing derived from a 涉密 fund.

        The 涉密 funds are few: an anti-join against their ids (a partial index) costs far less than
        joining every published row to its fund, and it still hides a fund flagged later at once."""
        from apps.funds.models import SpecialFund

        classified = SpecialFund.objects.filter(is_classified=True).values("pk")
        return self.filter(status=Disclosure.Status.PUBLISHED).exclude(fund_id__in=classified)


class Disclosure(models.Model):
    """A record finance published on the public pages: a frozen snapshot, withdrawn with a reason."""

    class Kind(models.TextChoices):
        TARGET = "target", "绩效目标"
        SELF_EVALUATION = "self_evaluation", "自评结果"
        KEY_EVALUATION = "key_evaluation", "重点评价报告"

    class Status(models.TextChoices):
        PUBLISHED = "published", "已公开"
        WITHDRAWN = "withdrawn", "已撤回"

    kind = models.CharField("公开类型", max_length=20, choices=Kind.choices)
    target = models.ForeignKey(
        "targets.PerformanceTarget", null=True, blank=True, on_delete=models.PROTECT, related_name="disclosures"
    )
    self_evaluation = models.ForeignKey(
        "evaluations.SelfEvaluation", null=True, blank=True, on_delete=models.PROTECT, related_name="disclosures"
    )
    key_evaluation = models.ForeignKey(
        "evaluations.KeyEvaluation", null=True, blank=True, on_delete=models.PROTECT, related_name="disclosures"
    )
    fund = models.ForeignKey(
        "funds.SpecialFund",
        verbose_name="专项资金",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disclosures",
    )
    department = models.ForeignKey(
        "orgs.Organization", verbose_name="主管部门", on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey("orgs.Region", verbose_name="区域", on_delete=models.PROTECT)
    fiscal_year = models.ForeignKey("orgs.FiscalYear", verbose_name="年度", on_delete=models.PROTECT)
    title = models.CharField("标题", max_length=250)
    amount = models.DecimalField("资金金额（元）", max_digits=18, decimal_places=2, null=True, blank=True)
    score = models.DecimalField("得分", max_digits=5, decimal_places=2, null=True, blank=True)
    grade = models.CharField("等级", max_length=10, choices=Grade.choices, blank=True)
    # What the public reads, frozen when published: later changes to the record never leak out.
    content = models.JSONField("公开内容", default=dict)
    report = models.ForeignKey(
        "attachments.Attachment",
        verbose_name="评价报告文件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.PUBLISHED)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发布人", on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField("公开时间", default=timezone.now, db_index=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="撤回人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    withdraw_reason = models.TextField("撤回理由", blank=True)

    scope_path = "department"
    region_field = "region"

    objects = DisclosureQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "信息公开"
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(fields=["status", "region", "fiscal_year", "kind"]),
            models.Index(fields=["status", "-published_at", "-id"], name="disclosure_public_order"),
            # Counting the public rows (pagination) reads this small index only.
            models.Index(fields=["fund"], condition=models.Q(status="published"), name="disclosure_published_fund"),
            models.Index(
                fields=["fiscal_year", "fund"], condition=models.Q(status="published"), name="disclosure_published_year"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["target"], condition=models.Q(status="published"), name="disclosure_target_published_once"
            ),
            models.UniqueConstraint(
                fields=["self_evaluation"],
                condition=models.Q(status="published"),
                name="disclosure_selfeval_published_once",
            ),
            models.UniqueConstraint(
                fields=["key_evaluation"],
                condition=models.Q(status="published"),
                name="disclosure_keyeval_published_once",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="target", target__isnull=False)
                | models.Q(kind="self_evaluation", self_evaluation__isnull=False)
                | models.Q(kind="key_evaluation", key_evaluation__isnull=False),
                name="disclosure_kind_matches_record",
            ),
        ]

    def __str__(self) -> str:
        return self.title
