"""The fiscal year a user is working in (switcher in the header, kept in the session)."""

from apps.orgs.models import FiscalYear

SESSION_KEY = "fiscal_year"


def fiscal_years() -> list[FiscalYear]:
    return list(FiscalYear.objects.all())


def selected_year(request, years: list[FiscalYear] | None = None) -> int | None:
    years = fiscal_years() if years is None else years
    known = {fy.year for fy in years}
    chosen = request.session.get(SESSION_KEY)
    if chosen in known:
        return chosen
    current = next((fy.year for fy in years if fy.is_current), None)
    return current if current is not None else (years[0].year if years else None)
