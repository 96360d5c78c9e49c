"""评价计分规则: the form finance fills in, and the write that saves it and starts the re-scoring.

A region's rules for a year live in one ``ScoringRules`` row, created from the national defaults
(``scoring.DEFAULT_RULES`` and the model defaults) on the first save. Saving is audited with the
values before and after; when a scoring parameter changed, a background job re-scores every
scored self-evaluation of the region and year (``tasks.rescore_job``), so stored scores, lists,
summaries and exports follow the new rules. Changing only the key-evaluation parameters (cycle,
产出+效益 minimum) re-scores nothing.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse

from apps.core import audit, permissions
from apps.core.forms import StyledFormMixin
from apps.core.jobs import job_start
from apps.orgs.models import FiscalYear, Organization

from . import scoring
from .models import ScoringRules, SelfEvaluationLine
from .tasks import RESCORE_KIND, rescore_job

D = Decimal
WEIGHT_FIELDS = ["weight_execution", "weight_output", "weight_effect", "weight_satisfaction"]
BAND_FIELDS = ["band_achieved_min", "band_partial_min"]
GRADE_FIELDS = ["grade_excellent", "grade_good", "grade_fair"]
SCORING_FIELDS = [*WEIGHT_FIELDS, *BAND_FIELDS, *GRADE_FIELDS]  # = scoring.Rules' fields
KEY_FIELDS = ["cycle_years", "key_min_output_effect"]
FIELDS = [*SCORING_FIELDS, *KEY_FIELDS]
assert set(SCORING_FIELDS) == set(scoring.Rules.__dataclass_fields__)


def national_defaults() -> dict[str, object]:
    """The national defaults (财预〔2020〕10号 and the 3-year key-evaluation cycle)."""
    values: dict[str, object] = {f: getattr(scoring.DEFAULT_RULES, f) for f in SCORING_FIELDS}
    for name in KEY_FIELDS:
        values[name] = ScoringRules._meta.get_field(name).default
    return values


def effective_values(row: ScoringRules | None) -> dict[str, object]:
    return {f: getattr(row, f) for f in FIELDS} if row is not None else national_defaults()


def _field(name: str, **kwargs) -> forms.Field:
    label = ScoringRules._meta.get_field(name).verbose_name
    if name == "cycle_years":
        return forms.IntegerField(
            label=label,
            min_value=1,
            max_value=10,
            error_messages={"min_value": "重点评价周期至少为 1 年。", "max_value": "重点评价周期不能超过 10 年。"},
            **kwargs,
        )
    label_text = str(label).replace("%", "%%")  # the messages are %-formatted with their params
    return forms.DecimalField(
        label=label,
        min_value=D("0"),
        max_value=D("100"),
        max_digits=5,
        decimal_places=2,
        error_messages={
            "invalid": f"“{label_text}”必须是数字。",
            "min_value": f"“{label_text}”不能为负数。",
            "max_value": f"“{label_text}”不能超过 100。",
            "max_decimal_places": f"“{label_text}”最多保留两位小数。",
            "max_digits": f"“{label_text}”数值过大。",
            "required": f"请填写“{label_text}”。",
        },
        widget=forms.NumberInput(attrs={"step": "0.01"}),
        **kwargs,
    )


class ScoringRulesForm(StyledFormMixin, forms.Form):
    weight_execution = _field("weight_execution", help_text="预算执行率的分值")
    weight_output = _field("weight_output")
    weight_effect = _field("weight_effect")
    weight_satisfaction = _field("weight_satisfaction", help_text="没有满意度指标的项目，该权重并入效益指标")
    band_achieved_min = _field("band_achieved_min", help_text="定性指标“达成”：[下限, 100]")
    band_partial_min = _field("band_partial_min", help_text="“部分达成”：[下限, “达成”下限)；“未达成”：[0, 本下限)")
    grade_excellent = _field("grade_excellent")
    grade_good = _field("grade_good")
    grade_fair = _field("grade_fair", help_text="低于“中”下限为“差”；各分数线含下限")
    cycle_years = _field("cycle_years", help_text="每个专项资金在此周期内至少重点评价一次")
    key_min_output_effect = _field("key_min_output_effect", help_text="重点评价指标体系中产出与效益权重之和的下限")

    def clean(self):
        data = super().clean()
        if all(data.get(f) is not None for f in WEIGHT_FIELDS):
            total = sum((data[f] for f in WEIGHT_FIELDS), D("0"))
            if total != 100:
                self.add_error(
                    "weight_execution",
                    f"预算执行率、产出、效益、满意度四类权重之和应为 100 分，当前为 {scoring.fmt(total)} 分。",
                )
        achieved, partial = data.get("band_achieved_min"), data.get("band_partial_min")
        if achieved is not None and partial is not None:
            if not partial > 0:
                self.add_error("band_partial_min", "“部分达成”下限应大于 0。")
            elif not partial < achieved:
                self.add_error("band_partial_min", "“部分达成”下限应小于“达成”下限。")
            if not achieved < 100:
                self.add_error("band_achieved_min", "“达成”下限应小于 100。")
        excellent, good, fair = (data.get(f) for f in GRADE_FIELDS)
        if None not in (excellent, good, fair):
            if not fair > 0:
                self.add_error("grade_fair", "“中”的分数线应大于 0。")
            elif not fair < good:
                self.add_error("grade_fair", "“中”的分数线应低于“良”的分数线。")
            if not good < excellent:
                self.add_error("grade_good", "“良”的分数线应低于“优”的分数线。")
        return data


# --- writes ------------------------------------------------------------------------------------


def finance_bureau_of(user) -> Organization | None:
    """The finance bureau the user works in (its own organisation or the bureau above its division)."""
    org = user.organization
    if org is None:
        return None
    bureau = org if org.kind == Organization.Kind.FINANCE else org.parent
    return bureau if bureau is not None and bureau.kind == Organization.Kind.FINANCE else None


def may_manage(user, bureau: Organization | None) -> bool:
    return bureau is not None and permissions.can(user, "selfeval.manage", bureau)


def _band_conflicts(region_id: int, fiscal_year_id: int, values: dict) -> str:
    """Why the new band limits cannot apply: qualitative lines already rated outside them ("" if none)."""
    achieved, partial = values["band_achieved_min"], values["band_partial_min"]
    outside = (
        Q(band=scoring.ACHIEVED, band_percent__lt=achieved)
        | Q(band=scoring.PARTIAL, band_percent__lt=partial)
        | Q(band=scoring.PARTIAL, band_percent__gte=achieved)
        | Q(band=scoring.NOT_ACHIEVED, band_percent__gte=partial)
    )
    lines = SelfEvaluationLine.objects.filter(
        evaluation__round__organization__region_id=region_id,
        evaluation__round__fiscal_year_id=fiscal_year_id,
        band_percent__isnull=False,
    ).filter(outside)
    count = lines.aggregate(n=Count("pk"))["n"]
    if not count:
        return ""
    example = lines.select_related("evaluation__fund", "indicator").order_by("pk").first()
    return (
        f"已有 {count} 条定性指标的得分比例不在新的区间内（例如“{example.evaluation.fund.name}”的"
        f"“{example.indicator.name}”评定为{example.get_band_display()} {scoring.fmt(example.band_percent)}%），"
        "按新区间无法计分。请保持原区间，或先请相关单位修改后再调整。"
    )


def rules_save(*, actor, bureau: Organization, fiscal_year: FiscalYear, values: dict):
    """Save the region's rules for the year (from ``ScoringRulesForm.cleaned_data`` or the national
    defaults). Returns ``(row, job, changed)``: ``job`` is the re-scoring job, or None when no scoring
    parameter changed; ``changed`` the names of the fields that changed (empty: nothing saved).
    ``ValidationError`` (by field) / ``PermissionDenied``: nothing changed."""
    if not may_manage(actor, bureau):
        raise PermissionDenied("只有本区域财政部门可以设置评价计分规则。")
    region = bureau.region
    values = {f: values[f] for f in FIELDS}
    with transaction.atomic():
        row = ScoringRules.objects.select_for_update().filter(region=region, fiscal_year=fiscal_year).first()
        before = effective_values(row)
        changed = [f for f in FIELDS if D(str(before[f])) != D(str(values[f]))]
        if not changed:
            return row, None, []
        rescore = any(f in SCORING_FIELDS for f in changed)
        if any(f in BAND_FIELDS for f in changed):
            problem = _band_conflicts(region.pk, fiscal_year.pk, values)
            if problem:
                raise ValidationError({"band_achieved_min": [problem]})
        created = row is None
        if created:
            row = ScoringRules(region=region, fiscal_year=fiscal_year)
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_by = actor
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:  # a colleague created the region's rules at the same moment
            raise ValidationError("计分规则刚刚被他人修改，请刷新页面后重新填写。") from None
        audit.record(
            audit.Kind.CREATE if created else audit.Kind.UPDATE,
            actor=actor,
            obj=row,
            organization=bureau,
            changes=audit.diff(_plain(before), _plain(values)),
            comment=f"修改{fiscal_year.year}年度评价计分规则" + ("，重新计算单位自评得分" if rescore else ""),
        )
        job = None
        if rescore:
            job = job_start(
                actor=actor,
                kind=RESCORE_KIND,
                label=f"{region.name}{fiscal_year.year}年度单位自评重新计分",
                params={"region_id": region.pk, "fiscal_year_id": fiscal_year.pk},
                task=rescore_job,
                back_url=reverse("evaluations:rules"),
            )
    return row, job, changed


def _plain(values: dict) -> dict[str, str]:
    """Values as the audit shows them: 10 and 10.00 are the same number."""
    return {k: scoring.fmt(D(str(v))) for k, v in values.items()}
