"""Forms of 信息公开: the public filter, the internal filter, withdraw and batch publish."""

from __future__ import annotations

from django import forms

from apps.evaluations.models import Grade
from apps.orgs.models import Organization, Region

from .models import Disclosure
from .selectors_disclosure import PublicFilters

ALL = [("", "全部")]


class PublicFilterForm(forms.Form):
    q = forms.CharField(label="关键词", required=False, max_length=100)
    year = forms.TypedChoiceField(label="年度", required=False, coerce=int, empty_value=None)
    region = forms.ChoiceField(label="区域", required=False)
    department = forms.TypedChoiceField(label="主管部门", required=False, coerce=int, empty_value=None)
    kind = forms.ChoiceField(label="公开类型", required=False, choices=ALL + list(Disclosure.Kind.choices))
    grade = forms.ChoiceField(label="等级", required=False, choices=ALL + list(Grade.choices))

    def __init__(self, data=None, *, regions: list[Region], years: list[int], departments=()):
        super().__init__(data)
        self.regions = {r.code: r for r in regions}
        self.fields["region"].choices = ALL + [(r.code, r.name) for r in regions]
        self.fields["year"].choices = ALL + [(y, f"{y}年") for y in years]
        self.fields["department"].choices = ALL + list(departments)

    def filters(self) -> PublicFilters:
        """The valid filters; an invalid value (a guessed URL) is ignored rather than failing."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return PublicFilters(
            q=(data.get("q") or "").strip(),
            year=data.get("year"),
            region=self.regions.get(data.get("region") or ""),
            department=data.get("department") if data.get("region") else None,
            kind=data.get("kind") or "",
            grade=data.get("grade") or "",
        )

    @staticmethod
    def region_code(data) -> str:
        return (data.get("region") or "").strip()


class InternalFilterForm(PublicFilterForm):
    status = forms.ChoiceField(label="状态", required=False, choices=ALL + list(Disclosure.Status.choices))

    field_order = ["q", "status", "kind", "year", "grade"]

    def __init__(self, data=None, *, years: list[int]):
        super().__init__(data, regions=[], years=years)
        del self.fields["region"]
        del self.fields["department"]


class WithdrawForm(forms.Form):
    withdraw_reason = forms.CharField(
        label="撤回理由", widget=forms.Textarea(attrs={"rows": 2}), max_length=1000, required=False
    )


class BatchPublishForm(forms.Form):
    kind = forms.ChoiceField(
        label="公开类型",
        choices=[
            (Disclosure.Kind.TARGET, Disclosure.Kind.TARGET.label),
            (Disclosure.Kind.SELF_EVALUATION, Disclosure.Kind.SELF_EVALUATION.label),
        ],
    )
    fiscal_year = forms.TypedChoiceField(label="年度", coerce=int)
    department = forms.ModelChoiceField(label="主管部门", required=False, queryset=Organization.objects.none())

    def __init__(self, data=None, *, years: list[int], departments=None):
        super().__init__(data)
        self.fields["fiscal_year"].choices = [(y, f"{y}年") for y in years]
        if departments is not None:
            self.fields["department"].queryset = departments
