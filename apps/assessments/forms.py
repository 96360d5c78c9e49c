from django import forms

from apps.accounts.models import User
from apps.core.forms import StyledFormMixin

from .models import DIMENSIONS, Conclusion, ExAnteAssessment
from .services import MIN_DIMENSION_LENGTH

DIMENSION_HELP = {
    "necessity": "项目设立的政策依据、现实需求、与部门职能的相关性，是否属于财政支持范围。",
    "economy": "投入成本测算依据是否充分、标准是否合理，有无更节约的替代方案。",
    "target_reasonableness": "绩效目标是否明确、可衡量，与资金量和实施内容是否匹配。",
    "feasibility": "实施方案、组织管理、进度安排和风险应对是否切实可行。",
    "funding_compliance": "资金来源是否合规，财政支出责任划分是否清晰，有无违规举债等风险。",
}


class AssessmentFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(label="项目名称/编码", required=False, max_length=100)
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部状态"), *ExAnteAssessment.Status.choices]
    )


class AssessmentForm(StyledFormMixin, forms.ModelForm):
    """The unit's analysis, one text per dimension (blank allowed while drafting)."""

    class Meta:
        model = ExAnteAssessment
        fields = [name for name, _ in DIMENSIONS]
        widgets = {name: forms.Textarea(attrs={"rows": 4}) for name, _ in DIMENSIONS}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.help_text = f"{DIMENSION_HELP[name]}提交前每项不少于 {MIN_DIMENSION_LENGTH} 个字。"


class AssignExpertsForm(StyledFormMixin, forms.Form):
    experts = forms.ModelMultipleChoiceField(
        label="评审专家",
        queryset=User.objects.none(),
        error_messages={"required": "请至少选择一位评审专家。", "invalid_choice": "所选专家不存在或已停用。"},
        help_text="可按住 Ctrl 多选。指派后专家只能查看本评估。",
    )

    def __init__(self, *args, experts=None, **kwargs):
        super().__init__(*args, **kwargs)
        if experts is not None:
            self.fields["experts"].queryset = experts
        self.fields["experts"].label_from_instance = lambda u: (
            f"{u.display_name}（{u.organization.name if u.organization else '未分配机构'}）"
        )
        self.fields["experts"].widget.attrs["size"] = 6


class ExpertOpinionForm(StyledFormMixin, forms.Form):
    opinion = forms.CharField(
        label="专家意见",
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "请填写专家意见。"},
    )
    recommended_conclusion = forms.ChoiceField(
        label="建议结论", required=False, choices=[("", "（不提出建议）"), *Conclusion.choices]
    )


class CompleteForm(StyledFormMixin, forms.Form):
    conclusion = forms.ChoiceField(
        label="评估结论",
        choices=Conclusion.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择评估结论。"},
    )
    finance_opinion = forms.CharField(
        label="财政评审意见",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "请填写财政评审意见。"},
    )


class ReturnForm(StyledFormMixin, forms.Form):
    comment = forms.CharField(
        label="退回意见",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "退回必须填写意见，请写明需要修改的内容。"},
    )
