"""Demo of the special-area summaries (专项领域) for ``seed_demo`` (after the evaluation demos).

The targets demo already flags one fund per area in every department of every region, so every area
has funds, budgets, targets and monitoring warnings. The 2025 grades, though, fall on the few funds
the self-evaluation and key-evaluation demos graded, which are 政府采购 and 政府购买服务 funds only.
So that each area's 评价等级 columns show something for 2025, each area without a graded 2025 fund
gets the area flag added to two graded funds (a fund may belong to several areas). A second run
finds every area graded and changes nothing. Returns the number of funds flagged."""

from __future__ import annotations

from django.db.models import Q

from apps.funds.models import SpecialFund

from . import selectors_areas as sel

YEAR = 2025
PER_AREA = 2


def _graded(funds):
    return sel.with_area_figures(funds, YEAR).exclude(area_grade="")


def seed_area_demo(year: int = YEAR) -> int:
    funds = SpecialFund.objects.filter(fiscal_year_id=year)
    graded_ids = list(_graded(funds).order_by("region__sort_order", "code").values_list("pk", flat=True))
    if not graded_ids:
        return 0
    flagged = 0
    for i, flag in enumerate(sel.FLAGS):
        if _graded(funds.filter(**{flag: True})).exists():
            continue
        # Take graded funds in turn (a different pair for each area where there are enough).
        start = (i * PER_AREA) % len(graded_ids)
        picks = (graded_ids[start:] + graded_ids[:start])[:PER_AREA]
        flagged += SpecialFund.objects.filter(pk__in=picks).filter(~Q(**{flag: True})).update(**{flag: True})
    return flagged
