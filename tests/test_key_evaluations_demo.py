"""The key-evaluation demo: a plan with coverage gaps, two evaluations by the demo agency, idempotent."""

from django.core.management import call_command

from apps.evaluations.coverage import plan_coverage
from apps.evaluations.demo_key import AGENCY_CREDIT_CODE, seed_key_evaluations
from apps.evaluations.models import EvaluationPlan, KeyEvaluation


def test_demo_key_evaluations(db, client):
    # seed_demo runs seed_targets(2025), the agencies demo and then this one.
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert KeyEvaluation.objects.filter(plan__fiscal_year=2025).exists()
    assert seed_key_evaluations(2025) == 0  # a second run changes nothing

    plan = EvaluationPlan.objects.get(organization__code="370200-CZ", fiscal_year=2025)
    assert plan.status == "issued"
    cov = plan_coverage(plan)
    assert cov.universe == 25 and cov.planned == 5 and not cov.meets_minimum
    assert cov.covered_earlier == 13 and len(cov.missing) == 3 and cov.not_yet_due == 6
    assert plan.evaluations.filter(subject="department").count() == 1
    assert EvaluationPlan.objects.filter(fiscal_year__in=[2023, 2024], status="closed").count() == 2
    own = EvaluationPlan.objects.get(organization__code="370200-EDU", fiscal_year=2025)
    assert own.status == "draft" and len(plan_coverage(own).missing) == 2

    by_agency = KeyEvaluation.objects.filter(plan=plan, agency__credit_code=AGENCY_CREDIT_CODE)
    assert sorted(by_agency.values_list("status", flat=True)) == ["completed", "in_progress"]
    done = by_agency.get(status="completed")
    assert done.score is not None and done.grade and done.findings and done.appraisals.count() == 1
    client.force_login(done.plan.created_by)
    page = client.get(f"/evaluations/key/{done.pk}/").content.decode()
    assert "绩效评价报告.pdf" in page and "青岛正衡绩效评价咨询有限公司" in page
