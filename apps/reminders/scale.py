"""What the reminder sweep needs of the scale data (``seed_scale``; ``bench/bench_reminders.py``).

The open work is already there: ``seed_scale`` leaves ≈60,000 targets of 2025–2027 being filed or
reviewed, ≈22,000 monitoring reports and ≈9,000 self-evaluations not yet through, and ≈7,000 open
rectification items — ≈92,000 records the sweep walks, for ≈24,000 users. Two things are missing:

* **addresses**: scale users are created without one, so every e-mail digest would be skipped
  ("未登记邮箱地址") and the e-mail side never measured. Each gets ``<username>@scale.qdperf.example``
  (a reserved domain); one in twenty turns e-mail off in their profile, as real people do.
* **a work calendar** for a scale region that has none (``seed_scale`` without ``seed_demo``): the
  target, monitoring and evaluation steps take their due dates from it. The region's demo calendar
  wins when there is one — two calendars in one region would disagree — so only missing
  (region, year, step) entries are added, owned by the region's scale finance bureau.

Idempotent: a second run finds everything in place and writes nothing.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat

from apps.orgs.models import FiscalYear, Organization, WorkCalendar

from .models import ChannelPreference

DOMAIN = "@scale.qdperf.example"
YEARS = (2025, 2026, 2027)
EMAIL_OFF_EVERY = 20  # one scale user in twenty turned e-mail off


def _addresses() -> int:
    User = get_user_model()
    return User.objects.filter(username__startswith="sc_", email="").update(email=Concat("username", Value(DOMAIN)))


def _email_off() -> int:
    User = get_user_model()
    scale = User.objects.filter(username__startswith="sc_").order_by("pk").values_list("pk", flat=True)
    chosen = [pk for n, pk in enumerate(scale) if n % EMAIL_OFF_EVERY == EMAIL_OFF_EVERY - 1]
    existing = set(ChannelPreference.objects.filter(user_id__in=chosen).values_list("user_id", flat=True))
    made = ChannelPreference.objects.bulk_create(
        [ChannelPreference(user_id=pk, email=False) for pk in chosen if pk not in existing], batch_size=5000
    )
    return len(made)


def _calendars() -> int:
    from apps.core.management.commands.seed_demo import default_calendar

    bureaus = {
        bureau.region_id: bureau
        for bureau in Organization.objects.filter(code__startswith="SC", kind=Organization.Kind.FINANCE)
    }
    if not bureaus:
        return 0
    have = set(
        WorkCalendar.objects.filter(
            organization__kind=Organization.Kind.FINANCE, organization__region_id__in=list(bureaus)
        ).values_list("organization__region_id", "fiscal_year_id", "step")
    )
    for year in YEARS:
        FiscalYear.objects.get_or_create(year=year)
    entries = [
        WorkCalendar(organization=bureau, fiscal_year_id=year, step=step, starts_on=starts_on, due_on=due_on)
        for region_id, bureau in bureaus.items()
        for year in YEARS
        for step, (starts_on, due_on) in default_calendar(year).items()
        if (region_id, year, step) not in have
    ]
    WorkCalendar.objects.bulk_create(entries)
    return len(entries)


def scale_reminders(stdout=None) -> dict[str, int]:
    """Give the scale data what the reminder sweep needs; returns what was written."""
    with transaction.atomic():
        made = {"addresses": _addresses(), "email_off": _email_off(), "calendar": _calendars()}
    if stdout is not None:
        stdout.write(
            f"催办提醒：{made['addresses']} 个账号补充邮箱，{made['email_off']} 人关闭邮件提醒，"
            f"补充 {made['calendar']} 条工作日历。"
        )
    return made
