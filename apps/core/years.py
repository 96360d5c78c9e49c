"""The fiscal year a user is working in (switcher in the header, kept in the session)."""

from apps.orgs.models import FiscalYear

SESSION_KEY = "fiscal_year"


def fiscal_years(request) -> list[FiscalYear]:
    """All fiscal years, read once per request (the header and the page both need them)."""
    if not hasattr(request, "_fiscal_years"):
        request._fiscal_years = list(FiscalYear.objects.all())
    return request._fiscal_years


def selected_year(request) -> int | None:
    years = fiscal_years(request)
    chosen = request.session.get(SESSION_KEY)
    if chosen in {fy.year for fy in years}:
        return chosen
    current = next((fy.year for fy in years if fy.is_current), None)
    return current if current is not None else (years[0].year if years else None)
