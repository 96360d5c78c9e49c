from django import forms

from apps.core.forms import StyledFormMixin

from .framework import LEVEL2_PARENT, Level1, Level2, Sector
from .models import LibraryIndicator


def level2_choices(empty_label: str) -> list:
    """二级 categories grouped under their 一级 category (a select with optgroups)."""
    groups = [
        (level1.label, [(l2.value, l2.label) for l2 in Level2 if LEVEL2_PARENT[l2] == level1]) for level1 in Level1
    ]
    return [("", empty_label), *groups]


def check_level2(form: forms.Form, data: dict) -> None:
    level1, level2 = data.get("level1"), data.get("level2")
    if level1 and level2 and LEVEL2_PARENT.get(level2) != level1:
        form.add_error(
            "level2",
            f"二级指标“{Level2(level2).label}”不属于一级指标“{Level1(level1).label}”，"
            f"应归入“{Level1(LEVEL2_PARENT[level2]).label}”。请重新选择。",
        )


class LibraryFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(
        label="关键字",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "指标名称、编码或计算方法，如“满意度”“入学率”", "type": "search"}),
    )
    sector = forms.ChoiceField(label="行业领域", required=False, choices=[("", "全部行业领域"), *Sector.choices])
    level1 = forms.ChoiceField(label="一级指标", required=False, choices=[("", "全部一级指标"), *Level1.choices])
    level2 = forms.ChoiceField(label="二级指标", required=False, choices=level2_choices("全部二级指标"))
    include_retired = forms.BooleanField(label="含已停用", required=False)


REQUIRED_MESSAGES = {
    "name": {"required": "请填写指标名称。", "max_length": "指标名称不能超过 %(limit_value)d 个字。"},
    "level1": {"required": "请选择一级指标。"},
    "level2": {"required": "请选择二级指标。"},
    "sector": {"required": "请选择行业领域。"},
    "comparison": {"required": "请选择比较方式。"},
}
WIDGETS = {"description": forms.Textarea(attrs={"rows": 4})}
HELP_TEXTS = {
    "reference_value": "常用目标值或参考区间，如 95、按批复任务。",
    "description": "写明计算公式、口径和数据来源，便于填报单位统一理解。",
}


class IndicatorForm(StyledFormMixin, forms.ModelForm):
    """Library maintenance (绩效管理处). The view passes cleaned data to the services; the form
    never saves, so a refused change leaves the database as it was."""

    class Meta:
        model = LibraryIndicator
        fields = [
            "code",
            "name",
            "sector",
            "level1",
            "level2",
            "comparison",
            "unit",
            "reference_value",
            "description",
            "is_core",
        ]
        widgets = WIDGETS
        help_texts = {**HELP_TEXTS, "code": "留空则按“行业-二级指标-序号”自动生成，如 EDU-Q-006。"}
        error_messages = {**REQUIRED_MESSAGES, "code": {"unique": "该指标编码已被使用。"}}

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].required = False
        self.fields["level2"].choices = level2_choices("---------")
        if editing:
            # The code is the indicator's stable business key: shown, not changed.
            self.fields["code"].disabled = True
            self.fields["code"].help_text = "指标编码创建后不可修改。"

    def clean(self):
        data = super().clean()
        check_level2(self, data)
        return data

    def validate_unique(self):
        """Uniqueness is the service's job (it reports the code in Chinese); skip the form's check."""

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name != "code"}


class ProposalForm(StyledFormMixin, forms.ModelForm):
    """A department proposes an indicator missing from the library."""

    class Meta:
        model = LibraryIndicator
        fields = [
            "name",
            "sector",
            "level1",
            "level2",
            "comparison",
            "unit",
            "reference_value",
            "description",
            "proposal_reason",
        ]
        widgets = {**WIDGETS, "proposal_reason": forms.Textarea(attrs={"rows": 3})}
        help_texts = {**HELP_TEXTS, "proposal_reason": "说明用于哪些项目、现有库指标为何不适用。"}
        error_messages = {**REQUIRED_MESSAGES, "proposal_reason": {"required": "请说明建议理由。"}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["level2"].choices = level2_choices("---------")
        self.fields["proposal_reason"].required = True

    def clean(self):
        data = super().clean()
        check_level2(self, data)
        return data

    def validate_unique(self):
        pass

    def service_fields(self) -> dict:
        fields = {name: self.cleaned_data[name] for name in self.Meta.fields if name != "proposal_reason"}
        return {**fields, "reason": self.cleaned_data["proposal_reason"]}


class CommentForm(StyledFormMixin, forms.Form):
    comment = forms.CharField(
        label="意见",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "审核意见（不予采纳时必填）"}),
    )
