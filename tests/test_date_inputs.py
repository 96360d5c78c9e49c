"""Date pickers get ISO values: zh-hans formats dates as 2026/08/15, which the browser's date input
rejects and shows empty — and saving the form then erased the date nobody meant to change."""

from datetime import date

from django import forms

from apps.core.forms import StyledFormMixin
from apps.orgs.forms import CalendarEntryForm
from apps.orgs.models import WorkCalendar


class Dated(StyledFormMixin, forms.Form):
    due_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


def test_styled_date_pickers_render_iso_dates(settings):
    settings.LANGUAGE_CODE = "zh-hans"
    html = str(Dated(initial={"due_on": date(2026, 8, 15)})["due_on"])
    assert 'value="2026-08-15"' in html


def test_the_calendar_edit_form_shows_the_dates_it_has():
    entry = WorkCalendar(starts_on=date(2025, 11, 16), due_on=date(2025, 12, 20))
    form = CalendarEntryForm(instance=entry)
    assert 'value="2025-11-16"' in str(form["starts_on"]) and 'value="2025-12-20"' in str(form["due_on"])
