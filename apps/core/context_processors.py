from . import navigation, years


def shell(request):
    """What the base layout needs: menu, fiscal years, the user's organisation and roles."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_items": navigation.menu_for(user),
        "fiscal_years": years.fiscal_years(request),
        "selected_year": years.selected_year(request),
    }
