"""Writes on organisations' reference data (the work calendar)."""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction

from apps.core import audit, permissions
from apps.core.templatetags.qd import cn_date

from .models import FiscalYear, Organization, Region, WorkCalendar, WorkStep

CALENDAR_FIELDS = ["starts_on", "due_on", "note"]
KEY_FIELDS = ["organization", "fiscal_year", "step"]  # checked by the service itself
FIELD_LABELS = {"starts_on": "开始日期", "due_on": "截止日期"}

# An argument left out: the entry keeps its value (a new entry gets the field's default).
KEEP = object()


def calendar_span(fiscal_year: FiscalYear) -> tuple[date, date]:
    """The dates a year's calendar may hold: its targets are filed in the year before it, its
    self-evaluation and key evaluations done in the year after (seed_demo's default calendar runs
    from 1 September of N−1 to 31 October of N+1)."""
    return date(fiscal_year.year - 1, 1, 1), date(fiscal_year.year + 1, 12, 31)


def _check_dates(fiscal_year: FiscalYear, given: dict, starts_on: date | None, due_on: date | None) -> None:
    """The dates being set lie in the year's span, and the step does not start after it is due."""
    first, last = calendar_span(fiscal_year)
    errors = {}
    for name in ("starts_on", "due_on"):
        value = given.get(name)
        if value is not None and not first <= value <= last:
            errors[name] = (
                f"{FIELD_LABELS[name]}（{name}）应在{cn_date(first)}至{cn_date(last)}之间："
                f"{fiscal_year}的工作从上一年申报目标到下一年评价。"
            )
    if not errors and starts_on and due_on and starts_on > due_on:
        errors["starts_on"] = "开始日期（starts_on）不能晚于截止日期（due_on）。"
    if errors:
        raise ValidationError(errors)


def _insert_missing(entries: list[WorkCalendar]) -> set[tuple[int, str]]:
    """Add the entries whose step is not set yet; return the (organization id, step) actually added.

    ``INSERT … ON CONFLICT DO NOTHING RETURNING``: a step another transaction is adding at the same
    moment waits for it and is then skipped, so two requests never both create a step, nor fail on
    the unique key. (Django's ``bulk_create(ignore_conflicts=True)`` cannot say which rows it added.)
    Rows go in one order, so two copies running at once cannot deadlock."""
    if not entries:
        return set()
    columns = ["organization_id", "fiscal_year_id", "step", "starts_on", "due_on", "note"]
    rows = sorted(entries, key=lambda e: (e.organization_id, e.step))
    table = connection.ops.quote_name(WorkCalendar._meta.db_table)
    values = ", ".join([f"({', '.join(['%s'] * len(columns))})"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} "
            "ON CONFLICT (organization_id, fiscal_year_id, step) DO NOTHING RETURNING organization_id, step",
            [getattr(entry, column) for entry in rows for column in columns],
        )
        return set(cursor.fetchall())


@transaction.atomic
def calendar_entry_set(
    *,
    actor,
    organization: Organization,
    fiscal_year: FiscalYear,
    step: str,
    due_on=KEEP,
    starts_on=KEEP,
    note=KEEP,
) -> tuple[WorkCalendar, bool]:
    """Set the dates of one step in the finance bureau's region and year: created when missing,
    changed when present. A field left out (``KEEP``) keeps its value; ``due_on`` is needed to create.
    Returns ``(entry, created)``; two requests at once create the step once (one "create" audit row)."""
    if organization.kind != Organization.Kind.FINANCE:
        raise ValidationError({"organization": "工作日历只能由区域的财政局维护。"})
    if not permissions.can(actor, "calendar.manage", organization):
        raise PermissionDenied("您只能维护本区域的工作日历。")
    if step not in WorkStep.values:
        raise ValidationError({"step": "未知的业务环节。"})
    if fiscal_year.is_closed:
        raise ValidationError({"fiscal_year": f"{fiscal_year} 已结账，不能再修改工作日历。"})
    given = {
        name: value
        for name, value in (("starts_on", starts_on), ("due_on", due_on), ("note", note))
        if value is not KEEP
    }
    if "note" in given:
        given["note"] = given["note"] or ""
    if "due_on" in given and given["due_on"] is None:
        raise ValidationError({"due_on": "请填写截止日期（due_on）。"})
    key = {"organization": organization, "fiscal_year": fiscal_year, "step": step}
    created = False
    if "due_on" in given:
        new = WorkCalendar(**key, **{"starts_on": None, "note": "", **given})
        _check_dates(fiscal_year, given, new.starts_on, new.due_on)
        new.full_clean(exclude=KEY_FIELDS, validate_constraints=False)  # note's length; the key: ON CONFLICT
        created = bool(_insert_missing([new]))
    entry = WorkCalendar.objects.select_for_update().filter(**key).first()
    if entry is None:
        raise ValidationError({"due_on": "请填写截止日期（due_on）。"})
    if created:
        audit.record(audit.Kind.CREATE, actor=actor, obj=entry, changes=audit.diff({}, _snapshot(entry)))
        return entry, True
    before = _snapshot(entry)
    for name, value in given.items():
        setattr(entry, name, value)
    _check_dates(fiscal_year, given, entry.starts_on, entry.due_on)
    entry.full_clean(exclude=KEY_FIELDS, validate_constraints=False)
    changes = audit.diff(before, _snapshot(entry))
    if changes:
        entry.save(update_fields=list(changes))
        audit.record(audit.Kind.UPDATE, actor=actor, obj=entry, changes=changes)
    return entry, False


def _snapshot(entry: WorkCalendar) -> dict:
    return audit.snapshot(entry, CALENDAR_FIELDS)


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
    district bureau that changed, with each step's from → to. Two copies at once add each missing
    step once (the second counts it as already there) and never fail on the unique key."""
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
    city_bureau = _bureau_of(city) if city else None
    entries = (
        list(WorkCalendar.objects.filter(organization=city_bureau, fiscal_year=fiscal_year)) if city_bureau else []
    )
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
    city_dates = {entry.step: entry for entry in entries}
    wanted = [
        WorkCalendar(organization=bureau, fiscal_year=fiscal_year, step=step, starts_on=dates.starts_on,
                     due_on=dates.due_on, note=dates.note)
        for bureau in bureaus
        for step, dates in city_dates.items()
    ]  # fmt: skip
    changes: dict[int, dict] = {bureau.pk: {} for bureau in bureaus}
    added = _insert_missing(wanted)
    for entry in wanted:
        if (entry.organization_id, entry.step) in added:
            changes[entry.organization_id][entry.get_step_display()] = {"from": None, "to": _span(entry)}
    overwritten = 0
    if overwrite:
        # A district's own dates are replaced under row locks (a concurrent edit waits for this copy).
        locked = WorkCalendar.objects.select_for_update().filter(
            organization__in=bureaus, fiscal_year=fiscal_year, step__in=list(city_dates)
        )
        for entry in locked.order_by("pk"):
            if (entry.organization_id, entry.step) in added:
                continue
            before = _span(entry)
            dates = city_dates[entry.step]
            entry.starts_on, entry.due_on, entry.note = dates.starts_on, dates.due_on, dates.note
            if _span(entry) == before:
                continue
            entry.save(update_fields=CALENDAR_FIELDS)
            changes[entry.organization_id][entry.get_step_display()] = {"from": before, "to": _span(entry)}
            overwritten += 1
    for bureau in bureaus:
        if changes[bureau.pk]:
            audit.record(
                audit.Kind.UPDATE,
                actor=actor,
                obj=bureau,
                changes=changes[bureau.pk],
                comment=f"从市本级复制{fiscal_year}工作日历"
                + ("（覆盖已有日期）" if overwrite else "（只补缺失的环节）"),
            )
    return CopyResult(regions=len(bureaus), added=len(added), overwritten=overwritten)
