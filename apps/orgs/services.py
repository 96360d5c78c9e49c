"""Writes on organisations' reference data (the work calendar)."""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from apps.core import audit, permissions

from .models import FiscalYear, Organization, Region, WorkCalendar, WorkStep

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


# --- copying the city's calendar to the districts -------------------------------------------------


@dataclass(frozen=True)
class CopyResult:
    regions: int  # districts copied to
    added: int  # steps that were missing and were filled
    overwritten: int  # steps whose dates were replaced (only with ``overwrite``)

    @property
    def message(self) -> str:
        return f"已复制到 {self.regions} 个区市，新增 {self.added} 项，覆盖 {self.overwritten} 项。"


def copy_target_regions():
    """The districts a copy can go to: those with a finance bureau ("全部区市")."""
    return Region.objects.filter(
        level=Region.Level.DISTRICT,
        organizations__kind=Organization.Kind.FINANCE,
        organizations__parent__isnull=True,
        organizations__is_active=True,
    ).distinct()


def _bureau_of(region: Region) -> Organization | None:
    """A region's finance bureau: the top-level finance organisation of the region."""
    return (
        Organization.objects.filter(region=region, kind=Organization.Kind.FINANCE, parent__isnull=True, is_active=True)
        .order_by("path")
        .first()
    )


def _span(entry: WorkCalendar | None) -> str | None:
    """An entry's dates as the audit row shows them: "2026-08-01 至 2026-08-15（说明）"."""
    if entry is None:
        return None
    text = (
        f"{entry.starts_on.isoformat()} 至 {entry.due_on.isoformat()}" if entry.starts_on else entry.due_on.isoformat()
    )
    return f"{text}（{entry.note}）" if entry.note else text


@transaction.atomic
def calendar_copy(*, actor, fiscal_year: FiscalYear | int, regions, overwrite: bool = False) -> CopyResult:
    """Copy 市本级's step dates of ``fiscal_year`` into each district's calendar.

    Without ``overwrite`` only the steps a district has not set yet are filled (a district's own
    dates win); with it every step is set to the city's date. One transaction; one audit row per
    district bureau that changed, with each step's from → to."""
    if not permissions.has_action(actor, "calendar.copy"):
        raise PermissionDenied("只有市财政局绩效管理处可以将工作日历复制到区市。")
    if not isinstance(fiscal_year, FiscalYear):
        fiscal_year = FiscalYear.objects.filter(pk=fiscal_year).first()
        if fiscal_year is None:
            raise ValidationError({"fiscal_year": "预算年度不存在。"})
    if fiscal_year.is_closed:
        raise ValidationError({"fiscal_year": f"{fiscal_year} 已结账，不能再修改工作日历。"})
    regions = list(regions)
    if not regions:
        raise ValidationError({"regions": "请选择要复制到的区市。"})
    if any(region.is_city for region in regions):
        raise ValidationError({"regions": "只能复制到区市，不能复制到市本级本身。"})
    city = Region.objects.filter(level=Region.Level.CITY).first()
    source = _bureau_of(city) if city else None
    entries = list(WorkCalendar.objects.filter(organization=source, fiscal_year=fiscal_year)) if source else []
    if not entries:
        raise ValidationError({"fiscal_year": f"市本级尚未设置{fiscal_year}的工作日历，没有可复制的日期。"})
    bureaus = []
    for region in sorted(set(regions), key=lambda r: (r.sort_order, r.code)):
        bureau = _bureau_of(region)
        if bureau is None:
            raise ValidationError({"regions": f"{region.name}尚未设置财政局，无法复制工作日历。"})
        if not permissions.can(actor, "calendar.copy", bureau):
            raise PermissionDenied(f"您无权修改{region.name}的工作日历。")
        bureaus.append(bureau)
    existing = {
        (e.organization_id, e.step): e
        for e in WorkCalendar.objects.select_for_update().filter(organization__in=bureaus, fiscal_year=fiscal_year)
    }
    added = overwritten = 0
    for bureau in bureaus:
        changes = {}
        for source_entry in entries:
            entry = existing.get((bureau.pk, source_entry.step))
            if entry is not None and not overwrite:
                continue
            before = _span(entry)
            if entry is None:
                entry = WorkCalendar(organization=bureau, fiscal_year=fiscal_year, step=source_entry.step)
            entry.starts_on, entry.due_on, entry.note = source_entry.starts_on, source_entry.due_on, source_entry.note
            after = _span(entry)
            if before == after:
                continue
            entry.full_clean()
            entry.save()
            changes[entry.get_step_display()] = {"from": before, "to": after}
            if before is None:
                added += 1
            else:
                overwritten += 1
        if changes:
            audit.record(
                audit.Kind.UPDATE,
                actor=actor,
                obj=bureau,
                changes=changes,
                comment=f"从市本级复制{fiscal_year}工作日历"
                + ("（覆盖已有日期）" if overwrite else "（只补缺失的环节）"),
            )
    return CopyResult(regions=len(bureaus), added=added, overwritten=overwritten)
