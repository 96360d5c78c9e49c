"""The 3-year rule of key evaluations (coverage of one plan): funds that enter and leave, identity
across years through ``previous``, the cycle length, the one-third boundary, constant queries."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.evaluations import plans
from apps.evaluations.coverage import plan_coverage
from apps.evaluations.models import EvaluationPlan, ScoringRules
from apps.funds.models import PolicyTag
from apps.orgs.models import FiscalYear
from tests.test_key_evaluations import finance_plan, make_fund, years_fixture  # noqa: F401  (fixture)


def chain(world, code: str, start: int, last: int = 2025, **extra):
    """The same fund in every year from ``start`` (at most 2021) to ``last``, linked by ``previous``."""
    funds, previous = {}, None
    for year in range(max(start, 2021), last + 1):
        previous = funds[year] = make_fund(world, year, f"{code}-{year}", start=start, previous=previous, **extra)
    return funds


def closed_plan(world, year: int, funds, *, status="issued", org=None, actor=None) -> EvaluationPlan:
    """A plan of an earlier year that evaluated ``funds``."""
    org, actor = org or world.city_finance, actor or world.perf_admin
    plan = plans.plan_create(actor=actor, organization=org, fiscal_year=FiscalYear.objects.get(pk=year))
    plans.plan_add_funds(actor=actor, plan=plan, funds=funds)
    EvaluationPlan.objects.filter(pk=plan.pk).update(status=status)
    return plan


def test_counts_on_a_small_region(world, years):
    a = chain(world, "A", 2021)  # evaluated in 2023: covered earlier
    b = chain(world, "B", 2022)  # evaluated in 2024: covered earlier
    c = chain(world, "C", 2022)  # due, never evaluated: would miss its cycle
    d = chain(world, "D", 2023)  # due (2023 ≤ 2025 − 3 + 1), planned now
    chain(world, "E", 2024)  # entered recently: not yet due
    make_fund(world, 2025, "NO-TARGET", approved=False)  # not in the universe
    make_fund(world, 2025, "SN-1", dept=world.shinan_edu, unit=world.shinan_edu_unit, start=2020)  # other region
    closed_plan(world, 2023, [a[2023]])
    closed_plan(world, 2024, [b[2024]])
    plan = finance_plan(world)
    plans.plan_add_funds(actor=world.perf_admin, plan=plan, funds=[d[2025]])
    cov = plan_coverage(plan)
    assert (cov.universe, cov.planned, cov.required, cov.share) == (5, 1, 2, Decimal("20.0"))
    assert (cov.covered_earlier, cov.covered, cov.due, cov.not_yet_due) == (2, 3, 4, 1)
    assert [(m.fund.code, m.years, m.last_evaluated) for m in cov.missing] == [("C-2025", 4, None)]
    fund, years_missed = cov.missing[0]  # reads as (fund, years)
    assert fund.pk == c[2025].pk and years_missed == 4
    assert not cov.meets_minimum and cov.shortfall == 1
    assert cov.last_evaluated == {a[2025].pk: 2023, b[2025].pk: 2024}
    assert cov.window == (2023, 2024)


def test_previous_chain_reaches_back_exactly_one_cycle(world, years):
    funds = {n: chain(world, f"F{n}", 2021) for n in range(4)}
    closed_plan(world, 2024, [funds[1][2024]])  # one step back: covered
    closed_plan(world, 2023, [funds[2][2023]])  # two steps back: covered
    closed_plan(world, 2022, [funds[3][2022]])  # three steps back: outside the cycle
    cov = plan_coverage(finance_plan(world))
    assert cov.covered_earlier == 2
    assert [(m.fund.code, m.years, m.last_evaluated) for m in cov.missing] == [
        ("F0-2025", 5, None),  # since it started in 2021
        ("F3-2025", 3, 2022),  # last evaluated three years ago: due now
    ]


def test_identity_follows_previous_not_the_code(world, years):
    old = make_fund(world, 2024, "OLD-CODE", start=2020)
    renamed = make_fund(world, 2025, "NEW-CODE", start=2020, previous=old)
    same_code_unlinked = make_fund(world, 2025, "OLD-CODE", start=2020)
    closed_plan(world, 2024, [old])
    cov = plan_coverage(finance_plan(world))
    assert cov.covered_earlier == 1 and cov.last_evaluated == {renamed.pk: 2024}
    assert [m.fund.pk for m in cov.missing] == [same_code_unlinked.pk]


def test_funds_that_leave_do_not_count_and_funds_that_enter_are_not_due(world, years):
    gone = make_fund(world, 2024, "ENDED-2024", start=2020)  # no 2025 successor: left
    closed_plan(world, 2024, [gone])
    new = make_fund(world, 2025, "NEW-2025")  # started this year
    young = chain(world, "YOUNG", 2024)  # started last year
    edge = chain(world, "EDGE", 2023)  # started exactly at the start of the cycle: due
    cov = plan_coverage(finance_plan(world))
    assert cov.universe == 3 and cov.covered_earlier == 0
    assert cov.not_yet_due == 2 and cov.due == 1
    assert [m.fund.pk for m in cov.missing] == [edge[2025].pk]
    assert new.pk not in cov.due_ids and young[2025].pk not in cov.due_ids


def test_only_issued_plans_of_the_same_kind_and_evaluator_scope_count(world, years):
    funds = {n: chain(world, f"K{n}", 2021) for n in range(4)}
    closed_plan(world, 2024, [funds[0][2024]], status="draft")  # never issued
    closed_plan(world, 2024, [funds[1][2024]], org=world.edu, actor=world.edu_approver)  # a department plan
    closed_plan(world, 2023, [funds[2][2023]], status="closed")  # closed counts
    cov = plan_coverage(finance_plan(world))
    assert cov.covered_earlier == 1 and cov.last_evaluated == {funds[2][2025].pk: 2023}
    # The department's own cycle counts its own plans only.
    own = plans.plan_create(actor=world.edu_approver, organization=world.edu, fiscal_year=years[2025])
    cov = plan_coverage(own)
    assert cov.universe == 4 and cov.covered_earlier == 1
    assert cov.last_evaluated == {funds[1][2025].pk: 2024}


def test_a_department_plan_covers_the_departments_funds_only(world, years):
    chain(world, "EDU", 2021)
    chain(world, "HEALTH", 2021, dept=world.health, unit=world.health_unit)
    own = plans.plan_create(actor=world.edu_approver, organization=world.edu, fiscal_year=years[2025])
    cov = plan_coverage(own)
    assert cov.universe == 1 and [m.fund.code for m in cov.missing] == ["EDU-2025"]
    assert plan_coverage(finance_plan(world)).universe == 2


@pytest.mark.parametrize("cycle, covered, required, missing", [(2, 1, 3, 4), (3, 2, 2, 3), (5, 4, 1, 1)])
def test_the_cycle_length_is_configurable(world, years, cycle, covered, required, missing):
    if cycle != 3:
        ScoringRules.objects.create(region=world.city, fiscal_year=years[2025], cycle_years=cycle)
    funds = {n: chain(world, f"C{n}", 2019) for n in range(5)}
    for n, plan_year in enumerate((2024, 2023, 2022, 2021)):
        closed_plan(world, plan_year, [funds[n][plan_year]])
    cov = plan_coverage(finance_plan(world))
    assert cov.cycle_years == cycle
    assert (cov.covered_earlier, cov.required, len(cov.missing)) == (covered, required, missing)


@pytest.mark.parametrize(
    "universe, planned, required, meets",
    [(6, 1, 2, False), (6, 2, 2, True), (7, 2, 3, False), (7, 3, 3, True), (3, 1, 1, True), (1, 0, 1, False)],
)
def test_one_third_per_year_boundary(world, years, universe, planned, required, meets):
    funds = [make_fund(world, 2025, f"T-{n}") for n in range(universe)]
    plan = finance_plan(world)
    if planned:
        plans.plan_add_funds(actor=world.perf_admin, plan=plan, funds=funds[:planned])
    cov = plan_coverage(plan)
    assert (cov.universe, cov.planned, cov.required, cov.meets_minimum) == (universe, planned, required, meets)


def test_policy_tags_are_shown_and_prioritise_missing_funds(world, years):
    PolicyTag.objects.all().delete()  # the reference list, replaced by two tags of known order
    ocean = PolicyTag.objects.create(name="海洋攻势", sort_order=1)
    village = PolicyTag.objects.create(name="乡村振兴攻势", sort_order=8)
    chain(world, "PLAIN", 2022)
    tagged = chain(world, "TAGGED", 2022, tags=[village, ocean])
    planned = make_fund(world, 2025, "NEW", tags=[ocean])
    plan = finance_plan(world)
    plans.plan_add_funds(actor=world.perf_admin, plan=plan, funds=[planned])
    cov = plan_coverage(plan)
    assert [(m.fund.code, m.fund.tags) for m in cov.missing] == [
        ("TAGGED-2025", ("海洋攻势", "乡村振兴攻势")),  # same years unevaluated: tagged first
        ("PLAIN-2025", ()),
    ]
    assert [(t.tag, t.universe, t.planned, t.covered) for t in cov.by_tag] == [
        ("海洋攻势", 2, 1, 1),
        ("乡村振兴攻势", 1, 0, 0),
    ]
    assert tagged[2025].pk in cov.due_ids


def test_coverage_runs_a_fixed_number_of_queries(world, years):
    counter = iter(range(1000))

    def grow():
        earlier = []
        for _ in range(5):
            funds = chain(world, f"Q{next(counter)}", 2021)
            earlier.append(funds[2024])
        plans.plan_add_funds(actor=world.perf_admin, plan=plan_2024, funds=earlier[:2])

    plan_2024 = plans.plan_create(actor=world.perf_admin, organization=world.city_finance, fiscal_year=years[2024])
    grow()
    EvaluationPlan.objects.filter(pk=plan_2024.pk).update(status="issued")
    plan = EvaluationPlan.objects.get(pk=finance_plan(world).pk)

    def run():
        fresh = EvaluationPlan.objects.get(pk=plan.pk)  # as a page or the benchmark gets it
        with CaptureQueriesContext(connection) as ctx:
            cov = plan_coverage(fresh)
        return cov, len(ctx.captured_queries)

    cov, first = run()
    assert cov.universe == 5 and cov.covered_earlier == 2
    EvaluationPlan.objects.filter(pk=plan_2024.pk).update(status="draft")
    for _ in range(4):
        grow()
    EvaluationPlan.objects.filter(pk=plan_2024.pk).update(status="issued")
    cov, after = run()
    assert cov.universe == 25 and cov.covered_earlier == 10
    assert first == after == 6
