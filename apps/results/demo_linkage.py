"""Demo of 预算挂钩 for ``seed_demo`` (after the evaluations demo): 2027 budget requests (已申报) for a
handful of 市本级 and 市南区 funds whose ``previous`` chain reaches graded 2025 funds — one per grade
优/良/中/差 where the demo has it, and one without any grade — with approved targets (the arrange
gate needs them), 市南区's own rule table, and a few decisions (one departing with a reason).

The 2026 fund of the same code (``…-2026-NN``) is linked to its 2025 predecessor when it has none,
so the chain is 2027 → 2026 → 2025. Rows are written directly (a setup step, like fixtures);
decisions go through ``fund_arrange`` (audited like real work). Idempotent: a 2027 fund code that
exists is skipped, so a second run changes nothing.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.assessments.models import Conclusion, ExAnteAssessment
from apps.funds import gate
from apps.funds import services as fund_services
from apps.funds.models import SpecialFund
from apps.orgs.models import FiscalYear, Region
from apps.targets.models import PerformanceTarget, TargetIndicator, TargetStatus

from . import selectors_linkage as sel
from . import services_linkage
from .models import LinkageRule

RS = SpecialFund.RequestStatus
BUDGET_YEAR = 2027
REGIONS = ("370200", "370202")
GRADES = ("excellent", "good", "fair", "poor")


def _graded_2025(region: Region) -> dict[str, SpecialFund]:
    """One 2025 fund per grade of the region (the first by code) and one without any result."""
    funds = list(
        SpecialFund.objects.filter(region=region, fiscal_year_id=BUDGET_YEAR - 2)
        .exclude(code__endswith="-07")
        .order_by("code")
    )
    ids = {f.pk for f in funds}
    results = sel._self_results(ids)
    results.update(sel._key_results(ids))
    found: dict[str, SpecialFund] = {}
    for f in funds:
        if f.pk in results:
            found.setdefault(results[f.pk][1], f)
        elif f.previous_id is None:  # no result and no earlier year that could have one
            found.setdefault("none", f)
    return found


def _next_year(f: SpecialFund, year: int, previous: SpecialFund, amount: Decimal, status: str) -> SpecialFund:
    code = f.code.replace(f"-{f.fiscal_year_id}-", f"-{year}-")
    existing = SpecialFund.objects.filter(region=f.region, fiscal_year_id=year, code=code).first()
    if existing is not None:
        if existing.previous_id is None:
            SpecialFund.objects.filter(pk=existing.pk).update(previous=previous)
            existing.previous = previous
        return existing
    return SpecialFund.objects.create(
        fiscal_year_id=year, region=f.region, code=code, name=f.name, budget_type=f.budget_type, sector=f.sector,
        organization=f.organization, department=f.department, fiscal_amount=amount, other_amount=Decimal("0"),
        period_start=f.period_start, period_end=max(f.period_end, year), description=f.description,
        previous=previous, request_status=status,
    )  # fmt: skip


def _approved_target(fund: SpecialFund, source: SpecialFund) -> None:
    if PerformanceTarget.objects.filter(fund=fund).exists():
        return
    old = PerformanceTarget.objects.filter(fund=source, status=TargetStatus.APPROVED).order_by("-version").first()
    now = timezone.now()
    target = PerformanceTarget.objects.create(
        kind=PerformanceTarget.Kind.FUND, fund=fund, organization=fund.organization, fiscal_year=fund.fiscal_year,
        status=TargetStatus.APPROVED, long_term_goal=old.long_term_goal if old else f"持续推进{fund.name}。",
        annual_goal=f"{fund.fiscal_year_id}年完成{fund.name}年度任务。", status_changed_at=now, submitted_at=now,
        approved_at=now,
    )  # fmt: skip
    if old is not None:
        rows = list(TargetIndicator.objects.filter(target=old))
        for row in rows:
            row.pk, row.target = None, target
        TargetIndicator.objects.bulk_create(rows)


def _completed_assessment(fund: SpecialFund) -> None:
    """A completed, supported ex-ante assessment where the gate asks for one (≥ the threshold)."""
    if not gate.needs_assessment(fund) or ExAnteAssessment.objects.filter(fund=fund).exists():
        return
    ExAnteAssessment.objects.create(
        fund=fund, organization=fund.organization, status=ExAnteAssessment.Status.COMPLETED,
        necessity="项目延续实施，上年度绩效评价结果已作为本年度申报依据。",
        economy="申报金额参照上年实际支出和挂钩建议测算。",
        target_reasonableness="绩效目标延续上年指标并根据评价发现的问题作了调整。",
        feasibility="实施主体、进度安排和管理制度已具备。",
        funding_compliance="资金来源符合预算管理规定。",
        finance_opinion="经评审，同意延续实施。", conclusion=Conclusion.SUPPORT, completed_at=timezone.now(),
    )  # fmt: skip


@transaction.atomic
def seed_linkage() -> int:
    """Returns the number of 2027 requests created."""
    year = FiscalYear.objects.filter(pk=BUDGET_YEAR).first()
    if year is None:
        return 0
    created = 0
    for code in REGIONS:
        region = Region.objects.filter(code=code).first()
        if region is None:
            continue
        for _grade, f25 in _graded_2025(region).items():
            code27 = f25.code.replace("-2025-", f"-{BUDGET_YEAR}-")
            if SpecialFund.objects.filter(region=region, fiscal_year=year, code=code27).exists():
                continue
            f26 = _next_year(f25, BUDGET_YEAR - 1, f25, f25.fiscal_amount, RS.ARRANGED)
            requested = (f25.fiscal_amount * Decimal("1.1")).quantize(Decimal("100"))
            f27 = _next_year(f25, BUDGET_YEAR, f26, requested, RS.SUBMITTED)
            _approved_target(f27, f25)
            if _grade != "poor":  # the 差 request stays blocked by the gate: the 安排 page shows why
                _completed_assessment(f27)
            created += 1
        if region.code == "370202" and not LinkageRule.objects.filter(region=region, fiscal_year=year).exists():
            finance = User.objects.filter(username="shinan_finance").first()
            if finance is not None:
                services_linkage.linkage_rules_save(
                    actor=finance, fiscal_year=year,
                    rows={
                        "excellent": {"suggestion": "priority", "adjust_percent": "0", "note": "优先保障，足额安排"},
                        "good": {"suggestion": "normal", "adjust_percent": "0"},
                        "fair": {"suggestion": "cut", "adjust_percent": "-15", "note": "区级从严压减"},
                        "poor": {"suggestion": "cancel", "adjust_percent": "0", "note": "原则上取消"},
                    },
                )  # fmt: skip
    if created:
        _decisions(year)
    return created


def _decisions(year: FiscalYear) -> None:
    """市财政局 arranges two city requests: one at the suggestion, one departing with a reason."""
    actor = User.objects.filter(username="perf_admin").first()
    if actor is None:
        return
    city = list(
        SpecialFund.objects.filter(region__code=REGIONS[0], fiscal_year=year, request_status=RS.SUBMITTED)
        .select_related("region")
        .order_by("code")
    )
    links = sel.linkage_for(city)
    at_suggestion = next((f for f in city if links[f.pk].suggestion == "priority"), None)
    departing = next((f for f in city if links[f.pk].suggestion == "cut"), None)
    if at_suggestion is not None:
        fund_services.fund_arrange(actor=actor, fund=at_suggestion, comment="按挂钩建议安排。")
    if departing is not None:
        amount = (links[departing.pk].requested * Decimal("0.95")).quantize(Decimal("0.01"))
        fund_services.fund_arrange(
            actor=actor, fund=departing, amount=amount, comment="适度压减。",
            reason="项目属民生刚性支出，已落实整改措施，压减幅度由建议的 10% 调整为 5%。",
        )  # fmt: skip
