"""Monitoring reports for the scale funds: the July round of 2026 opened in every scale region."""

from datetime import date

from apps.orgs.models import FiscalYear, Organization

from .models import MonitoringRound
from .services import create_missing_reports


def seed_scale_reports(year: int = 2026) -> int:
    """Open the round for every scale finance bureau (idempotent) and create the report tasks."""
    fiscal_year = FiscalYear.objects.filter(pk=year).first()
    if fiscal_year is None:
        return 0
    made = 0
    for bureau in Organization.objects.filter(code__startswith="SC", kind=Organization.Kind.FINANCE):
        round_, _ = MonitoringRound.objects.get_or_create(
            organization=bureau,
            fiscal_year=fiscal_year,
            data_as_of=date(year, 7, 31),
            defaults={"name": f"{year}年绩效运行监控（数据截至7月31日）", "due_on": date(year, 8, 15)},
        )
        made += create_missing_reports(round_)
    return made
