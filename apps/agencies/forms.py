"""Forms of the registry pages: shape only; the services check the rules and say what is wrong."""

from django import forms

from apps.core.forms import StyledFormMixin
from apps.orgs.models import Organization

from . import selectors
from .models import Agency, AppraisalCriterion, ConflictRelation, Expert
from .services import linkable_expert_users


def _org_label(org: Organization) -> str:
    return f"{org.name}（{org.region.name}）" if org.region_id else org.name


class AgencyFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(
        label="关键字",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "机构名称、信用代码、资质或联系人"}),
    )
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *Agency.Status.choices])


class ExpertFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(
        label="关键字",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "姓名、专业领域、工作单位或职称"}),
    )
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *Expert.Status.choices])


class AgencyForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label="机构名称", max_length=100, error_messages={"required": "请填写机构名称。"})
    credit_code = forms.CharField(
        label="统一社会信用代码",
        max_length=30,
        error_messages={"required": "请填写统一社会信用代码。"},
        help_text="18位，由数字和大写字母组成（不含 I、O、S、V、Z）。",
    )
    qualifications = forms.CharField(
        label="资质情况",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="资质等级、执业范围、主要业绩等。",
    )
    contact_person = forms.CharField(label="联系人", required=False, max_length=50)
    phone = forms.CharField(label="联系电话", required=False, max_length=30)
    email = forms.EmailField(label="电子邮箱", required=False, error_messages={"invalid": "电子邮箱格式不正确。"})
    address = forms.CharField(label="地址", required=False, max_length=200)
    organization = forms.ModelChoiceField(
        label="机构账号所在组织",
        queryset=Organization.objects.none(),
        required=False,
        empty_label="（暂无系统账号）",
        help_text="该组织下的用户即为机构工作人员，受托后可查看所委托的评价项目。",
        error_messages={"invalid_choice": "所选组织不存在或已关联其他机构。"},
    )

    def __init__(self, *args, user, agency: Agency | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        orgs = Organization.objects.restrict(user, "org.view").filter(kind=Organization.Kind.AGENCY)
        taken = Agency.objects.exclude(organization__isnull=True)
        if agency is not None:
            taken = taken.exclude(pk=agency.pk)
        self.fields["organization"].queryset = orgs.exclude(pk__in=taken.values("organization_id")).select_related(
            "region"
        )
        self.fields["organization"].label_from_instance = _org_label


class ReasonForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label="暂停原因",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=500,
        error_messages={"required": "请填写暂停的原因。"},
    )


class ExpertForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label="姓名", max_length=50, error_messages={"required": "请填写专家姓名。"})
    fields = forms.CharField(
        label="专业领域",
        max_length=200,
        help_text="多个领域用顿号分隔，如：教育、财政预算。",
        error_messages={"required": "请填写专业领域。"},
    )
    title = forms.CharField(label="职称", required=False, max_length=50)
    employer = forms.CharField(label="工作单位", required=False, max_length=100)
    employer_organization = forms.ModelChoiceField(
        label="工作单位（系统内机构）",
        queryset=Organization.objects.none(),
        required=False,
        empty_label="（不是系统内机构）",
        help_text="专家任职于本系统中的部门或单位时请选择：评价该部门时将自动回避。",
    )
    phone = forms.CharField(label="联系电话", required=False, max_length=30)
    user = forms.ModelChoiceField(
        label="登录账号",
        queryset=linkable_expert_users().none(),
        required=False,
        empty_label="（无登录账号）",
        help_text="“评审专家”角色、所在组织为专家库或第三方机构的账号；关联后专家可登录查看被指派的项目。",
        error_messages={"invalid_choice": "所选账号不存在、不是评审专家账号或已关联其他专家。"},
    )

    def __init__(self, *args, user, expert: Expert | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["employer_organization"].queryset = selectors.employer_organizations(user)
        self.fields["employer_organization"].label_from_instance = _org_label
        taken = Expert.objects.exclude(user__isnull=True)
        if expert is not None:
            taken = taken.exclude(pk=expert.pk)
        self.fields["user"].queryset = linkable_expert_users().exclude(pk__in=taken.values("user_id"))
        self.fields["user"].label_from_instance = lambda u: f"{u.display_name}（{u.get_username()}，{u.organization}）"

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class TieForm(StyledFormMixin, forms.Form):
    organization = forms.ModelChoiceField(
        label="关联部门/单位",
        queryset=Organization.objects.none(),
        error_messages={"required": "请选择关联的部门或单位。", "invalid_choice": "所选部门或单位不存在。"},
    )
    relation = forms.ModelChoiceField(
        label="关系类型",
        queryset=ConflictRelation.objects.filter(is_active=True),
        error_messages={"required": "请选择关系类型。", "invalid_choice": "所选关系类型不存在或已停用。"},
    )
    note = forms.CharField(label="说明", required=False, max_length=200)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = selectors.tie_organizations(user)
        self.fields["organization"].label_from_instance = _org_label


class AssignForm(forms.Form):
    """The chosen agency and experts; the page draws the choices itself (with conflict reasons)."""

    agency = forms.ModelChoiceField(
        queryset=Agency.objects.none(),
        required=False,
        error_messages={"invalid_choice": "所选第三方机构不存在。"},
    )
    experts = forms.ModelMultipleChoiceField(
        queryset=Expert.objects.none(),
        required=False,
        error_messages={"invalid_choice": "所选专家不存在。", "invalid_pk_value": "所选专家不存在。"},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = Agency.objects.restrict(user, "registry.view")
        self.fields["experts"].queryset = Expert.objects.restrict(user, "registry.view")


class AppraisalForm(StyledFormMixin, forms.Form):
    """One points field per active appraisal item (checked by the service), and the comments."""

    comments = forms.CharField(label="考评意见", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(AppraisalCriterion.objects.filter(is_active=True).order_by("sort_order", "pk"))
        for c in self.criteria:
            self.fields[f"score_{c.pk}"] = forms.CharField(
                label=f"{c.name}（{c.max_points.normalize():f} 分）", required=False, max_length=20
            )
            self.fields[f"score_{c.pk}"].widget.attrs.update({"inputmode": "decimal", "class": "form-control qd-num"})
            self.fields[f"note_{c.pk}"] = forms.CharField(label="说明", required=False, max_length=200)
            self.fields[f"note_{c.pk}"].widget.attrs["class"] = "form-control"

    def rows(self):
        return [(c, self[f"score_{c.pk}"], self[f"note_{c.pk}"]) for c in self.criteria]

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "scores": {c.pk: data.get(f"score_{c.pk}", "") for c in self.criteria},
            "score_comments": {c.pk: data.get(f"note_{c.pk}", "") for c in self.criteria},
            "comments": data.get("comments", ""),
        }
