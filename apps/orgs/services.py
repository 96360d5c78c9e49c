"""Writes on organisations' reference data (the work calendar)."""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from apps.core import audit, permissions

from .models import FiscalYear, Organization, WorkCalendar, WorkStep

CALENDAR_FIELDS = ["starts_on", "due_on", "note"]


@transaction.atomic
def calendar_entry_set(
    *,
    actor,
    organization: Organization,
    fiscal_year: FiscalYear,
    step: str,
    due_on: date,
    starts_on: date | None = None,
    note: str = "",
) -> WorkCalendar:
    """Set the due date of one step in the finance bureau's region and year (create or change)."""
    if organization.kind != Organization.Kind.FINANCE:
        raise ValidationError({"organization": "工作日历只能由区域的财政局维护。"})
    if not permissions.can(actor, "calendar.manage", organization):
        raise PermissionDenied("您只能维护本区域的工作日历。")
    if step not in WorkStep.values:
        raise ValidationError({"step": "未知的业务环节。"})
    if fiscal_year.is_closed:
        raise ValidationError({"fiscal_year": f"{fiscal_year} 已结账，不能再修改工作日历。"})
    entry = (
        WorkCalendar.objects.select_for_update()
        .filter(organization=organization, fiscal_year=fiscal_year, step=step)
        .first()
    )
    creating = entry is None
    if creating:
        entry = WorkCalendar(organization=organization, fiscal_year=fiscal_year, step=step)
    before = {} if creating else audit.snapshot(entry, CALENDAR_FIELDS)
    entry.starts_on, entry.due_on, entry.note = starts_on, due_on, note
    if starts_on and due_on and starts_on > due_on:
        raise ValidationError({"starts_on": "开始日期不能晚于截止日期。"})
    entry.full_clean()
    entry.save()
    changes = audit.diff(before, audit.snapshot(entry, CALENDAR_FIELDS))
    if changes:
        audit.record(audit.Kind.CREATE if creating else audit.Kind.UPDATE, actor=actor, obj=entry, changes=changes)
    return entry
