"""The NPC export form: region (only those in the user's scope are offered), budget year, report sets."""

from django import forms

from apps.orgs.models import FiscalYear, Region

from . import selectors_npc as sel
from .selectors_npc import ReportSet


class NpcExportForm(forms.Form):
    # Offered: the user's regions only. Accepted: any known region code, so that a crafted POST for
    # another region reaches the service, which refuses it (403) and starts nothing.
    region = forms.CharField(label="报送区域", widget=forms.Select, error_messages={"required": "请选择报送区域。"})
    year = forms.TypedChoiceField(label="预算年度", coerce=int, error_messages={"required": "请选择预算年度。"})
    sets = forms.MultipleChoiceField(
        label="报表内容",
        choices=ReportSet.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请至少选择一张报表。", "invalid_choice": "报表内容“%(value)s”不存在。"},
    )

    def __init__(self, *args, user, default_year=None, **kwargs):
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("sets", ReportSet.values)
        if default_year:
            initial.setdefault("year", default_year)
        super().__init__(*args, **kwargs)
        self.offered = sel.export_regions(user)
        self.fields["region"].widget.choices = self.offered
        if len(self.offered) == 1:
            self.fields["region"].initial = self.offered[0][0]
        self.fields["year"].choices = [(fy.year, f"{fy.year}年") for fy in FiscalYear.objects.all()]
        self.fields["year"].error_messages["invalid_choice"] = "预算年度“%(value)s”不存在，请从列表中选择。"

    def clean_region(self):
        code = self.cleaned_data["region"].strip()
        if code != sel.ALL_REGIONS and not Region.objects.filter(code=code).exists():
            raise forms.ValidationError(f"报送区域“{code}”不存在，请从列表中选择。")
        return code
