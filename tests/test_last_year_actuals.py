"""The target editor shows, beside a library indicator, last year's target and — once last year's
self-evaluation of the predecessor fund has been sent on — last year's actual value."""

import pytest
from django.urls import reverse

from apps.evaluations import services as evaluation_services
from apps.evaluations.models import SelfEvaluation
from apps.indicators.models import LibraryIndicator
from apps.orgs.models import FiscalYear
from apps.targets import selectors, services
from tests.test_selfeval_flow import complete_entries, open_round, save
from tests.test_targets_flow import GOOD_ROWS, approve_all_the_way, filed_target, make_fund


@pytest.fixture
def linked_rows(db):
    core = LibraryIndicator.objects.get(name="义务教育巩固率", organization__isnull=True)
    return [GOOD_ROWS[0], dict(GOOD_ROWS[1], library_indicator_id=core.pk), *GOOD_ROWS[2:]], core


def test_last_year_actual_value_appears_once_the_self_evaluation_is_sent(world, year, linked_rows, login):
    rows, core = linked_rows
    year2025 = FiscalYear.objects.get_or_create(year=2025)[0]
    last = approve_all_the_way(world, filed_target(world, make_fund(world, year2025, code="EDU-2025-001"), rows=rows))
    this_fund = make_fund(world, year, previous=last.fund)
    target = services.target_start(actor=world.edu_unit_filler, fund=this_fund)
    assert selectors.last_year_values(target) == {core.pk: "上年目标值：≥99%；上年实际值：—"}

    open_round(world, year2025)
    evaluation = SelfEvaluation.objects.get()
    save(world, evaluation, entries=complete_entries(evaluation, 义务教育巩固率={"actual_value": "99.5"}))
    # A draft is the unit's work in progress: not shown yet.
    assert selectors.last_year_values(target) == {core.pk: "上年目标值：≥99%；上年实际值：—"}
    evaluation_services.evaluation_transition(actor=world.edu_unit_filler, evaluation=evaluation, name="send")
    assert selectors.last_year_values(target) == {core.pk: "上年目标值：≥99%；上年实际值：99.5%"}
    page = login(world.edu_unit_filler).get(reverse("targets:target_edit", args=[target.pk])).content.decode()
    assert "上年目标值：≥99%；上年实际值：99.5%" in page
