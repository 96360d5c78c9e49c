"""The linkage demo: 2027 requests reaching graded 2025 funds (every grade and one without), 市南区's
rules, two decisions (one departing with a reason), idempotent; the scale function."""

from django.core.management import call_command

from apps.funds.models import SpecialFund
from apps.results import selectors_linkage as sel
from apps.results.demo_linkage import seed_linkage
from apps.results.models import BudgetDecision, LinkageRule
from apps.results.scale_linkage import seed_linkage_scale


def test_demo_linkage(db, client):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115  (seed_demo runs seed_linkage)
    assert SpecialFund.objects.filter(fiscal_year=2027).count() >= 7
    assert seed_linkage() == 0  # a second run changes nothing
    funds = list(SpecialFund.objects.filter(fiscal_year=2027).order_by("code"))
    links = sel.linkage_for(funds)
    grades = {
        region: {links[f.pk].grade or "none" for f in funds if f.region.code == region}
        for region in ("370200", "370202")
    }
    assert grades["370200"] | grades["370202"] == {"excellent", "good", "fair", "poor", "none"}, grades
    assert grades["370200"] == {"excellent", "good", "fair", "poor", "none"} and len(grades["370202"]) >= 2, grades
    assert all(links[f.pk].last is None or links[f.pk].last.year == 2025 for f in funds)
    assert LinkageRule.objects.filter(region__code="370202", fiscal_year=2027).count() == 4
    decisions = list(BudgetDecision.objects.all())
    assert len(decisions) == 2 and sum(d.departs for d in decisions) == 1
    assert next(d for d in decisions if d.departs).reason
    client.force_login(decisions[0].decided_by)
    page = client.get("/results/linkage/report/?year=2027").content.decode()
    assert "合计（" in page
    SpecialFund.objects.filter(fiscal_year=2026, request_status="arranged").update()
    before = BudgetDecision.objects.count()
    assert (
        seed_linkage_scale(log=lambda *_: None)
        == SpecialFund.objects.filter(request_status="arranged").count() - before
    )
    assert seed_linkage_scale(log=lambda *_: None) == 0
