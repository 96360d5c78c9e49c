"""The 3-year rule of key evaluations (重点评价三年全覆盖), checked on one plan.

Qingdao's rule: each evaluator evaluates at least one third of the special funds every year and
every fund at least once within the cycle (``ScoringRules.cycle_years`` of the region, default 3).

* **Universe**: the funds of the plan's year in the evaluator's scope (the region for finance, the
  department's own and its units' funds for a department) with an approved target.
* **Identity across years** follows ``SpecialFund.previous`` (codes contain the year): a fund of
  year N is *covered earlier* if its predecessor of N−1, or that one's of N−2 … (cycle − 1 steps)
  was evaluated in an issued plan of the same kind and evaluator scope.
* A fund is **due** in this cycle if ``period_start <= N − cycle + 1`` (it has existed for the whole
  cycle); a due fund that is neither covered earlier nor in this plan **misses its cycle**. Funds
  that started later are *not yet due*; funds that ended are simply no longer in the universe.
* **Required per year** = ⌈universe / cycle⌉ (the one-third rule for a 3-year cycle).

A fixed number of queries whatever the number of funds (the predecessor chain is read as joins of
the universe query), so it can be called directly by the benchmark: ``plan_coverage(plan)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

from apps.funds.models import SpecialFund

from .key_services import key_rules
from .models import EvaluationPlan, KeyEvaluation
from .plans import approved_target_exists, scope_q

PK = EvaluationPlan.Kind
PS = EvaluationPlan.Status


@dataclass(frozen=True)
class FundRow:
    """A fund of the universe, as the coverage panel shows it."""

    pk: int
    code: str
    name: str
    department_id: int
    department_name: str
    period_start: int
    amount: Decimal
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class MissingFund:
    """A due fund that would miss its cycle; ``years`` without evaluation (counting this year):
    since the last evaluation found along the predecessor chain, else since ``period_start``."""

    fund: FundRow
    years: int
    last_evaluated: int | None

    def __iter__(self):  # (fund, years), as the brief of the coverage panel reads it
        yield self.fund
        yield self.years


@dataclass(frozen=True)
class TagCoverage:
    tag: str
    universe: int
    planned: int
    covered: int  # covered earlier or planned


@dataclass
class Coverage:
    fiscal_year: int
    cycle_years: int
    universe: int
    planned: int
    required: int  # per year: ceil(universe / cycle_years)
    share: Decimal  # planned / universe, in %
    covered_earlier: int  # evaluated in the previous cycle_years − 1 years' plans
    covered: int  # covered earlier or planned now
    due: int
    not_yet_due: int
    missing: list[MissingFund]
    by_tag: list[TagCoverage] = field(default_factory=list)
    last_evaluated: dict[int, int] = field(default_factory=dict)  # fund id → year of its last evaluation
    due_ids: frozenset[int] = frozenset()
    planned_ids: frozenset[int] = frozenset()

    @property
    def meets_minimum(self) -> bool:
        return self.planned >= self.required

    @property
    def shortfall(self) -> int:
        return max(self.required - self.planned, 0)

    @property
    def window(self) -> tuple[int, int]:
        """The earlier plan years that count (N − cycle + 1 … N − 1)."""
        return self.fiscal_year - self.cycle_years + 1, self.fiscal_year - 1

    @property
    def covered_share(self) -> Decimal:
        return _percent(self.covered, self.universe)

    @property
    def missing_ids(self) -> list[int]:
        return [m.fund.pk for m in self.missing]


def _percent(part: int, whole: int) -> Decimal:
    if not whole:
        return Decimal("0.0")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _chain_lookups(depth: int) -> list[str]:
    """``previous_id``, ``previous__previous_id`` … (``depth`` steps back)."""
    return ["previous__" * (k - 1) + "previous_id" for k in range(1, depth + 1)]


def plan_coverage(plan: EvaluationPlan) -> Coverage:
    """The coverage of ``plan`` (see the module docstring); six queries at most."""
    evaluator = plan.organization
    year = plan.fiscal_year_id
    cycle = key_rules(evaluator.region_id, year).cycle_years
    depth = 2 * cycle - 1  # far enough back to say how long a missing fund went unevaluated
    chain = _chain_lookups(depth)

    universe = list(
        SpecialFund.objects.filter(scope_q(plan.kind, evaluator), fiscal_year_id=year)
        .alias(has_target=approved_target_exists())
        .filter(has_target=True)
        .order_by("code")
        .values_list(
            "pk",
            "code",
            "name",
            "department_id",
            "department__name",
            "period_start",
            "fiscal_amount",
            "other_amount",
            *chain,
        )  # fmt: skip
    )
    planned_ids = frozenset(
        KeyEvaluation.objects.filter(plan=plan, fund__isnull=False).values_list("fund_id", flat=True)
    )
    earlier_plans = Q(
        plan__kind=plan.kind,
        plan__status__in=[PS.ISSUED, PS.CLOSED],
        plan__fiscal_year_id__gte=year - depth,
        plan__fiscal_year_id__lt=year,
    )
    if plan.kind == PK.FINANCE:
        earlier_plans &= Q(plan__organization__region_id=evaluator.region_id)
    else:
        earlier_plans &= Q(plan__organization_id=evaluator.pk)
    evaluated: dict[int, int] = {}
    for fund_id, plan_year in KeyEvaluation.objects.filter(earlier_plans, fund__isnull=False).values_list(
        "fund_id", "plan__fiscal_year_id"
    ):
        evaluated[fund_id] = max(plan_year, evaluated.get(fund_id, 0))
    tags: dict[int, list[str]] = {}
    tag_order: dict[str, int] = {}
    through = SpecialFund.policy_tags.through
    for fund_id, tag in (
        through.objects.filter(scope_q(plan.kind, evaluator, "specialfund__"), specialfund__fiscal_year_id=year)
        .order_by("policytag__sort_order", "policytag__name")
        .values_list("specialfund_id", "policytag__name")
    ):
        tags.setdefault(fund_id, []).append(tag)
        tag_order.setdefault(tag, len(tag_order))

    first_counted = year - cycle + 1
    covered_earlier = covered = due = not_yet_due = 0
    missing: list[MissingFund] = []
    last_evaluated: dict[int, int] = {}
    due_ids: set[int] = set()
    tag_counts: dict[str, list[int]] = {}
    for row in universe:
        pk, code, name, dept_id, dept_name, period_start, fiscal, other, *ancestors = row
        years_found = [evaluated[f] for f in ancestors if f is not None and f in evaluated]
        last = max(years_found, default=None)
        if last is not None:
            last_evaluated[pk] = last
        earlier = last is not None and last >= first_counted
        is_planned = pk in planned_ids
        covered_earlier += earlier
        covered += earlier or is_planned
        fund_tags = tuple(tags.get(pk, ()))
        for tag in fund_tags:
            counts = tag_counts.setdefault(tag, [0, 0, 0])
            counts[0] += 1
            counts[1] += is_planned
            counts[2] += earlier or is_planned
        if period_start > first_counted:
            not_yet_due += 1
            continue
        due += 1
        due_ids.add(pk)
        if earlier or is_planned:
            continue
        fund = FundRow(pk, code, name, dept_id, dept_name, period_start, fiscal + other, fund_tags)
        years = year - last if last is not None else year - period_start + 1
        missing.append(MissingFund(fund, years, last))
    missing.sort(key=lambda m: (-m.years, not m.fund.tags, m.fund.code))
    total = len(universe)
    planned = sum(1 for row in universe if row[0] in planned_ids)
    by_tag = [TagCoverage(tag, *tag_counts[tag]) for tag in sorted(tag_counts, key=tag_order.__getitem__)]
    return Coverage(
        fiscal_year=year,
        cycle_years=cycle,
        universe=total,
        planned=planned,
        required=-(-total // cycle),
        share=_percent(planned, total),
        covered_earlier=covered_earlier,
        covered=covered,
        due=due,
        not_yet_due=not_yet_due,
        missing=missing,
        by_tag=by_tag,
        last_evaluated=last_evaluated,
        due_ids=frozenset(due_ids),
        planned_ids=planned_ids,
    )
