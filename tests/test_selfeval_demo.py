"""The self-evaluation demo: every status and grade, one adjustment, the demo accounts' own work,
scores equal to what scoring computes, and a second run changes nothing."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import ensure_role_groups
from apps.core.models import AuditEvent
from apps.evaluations import selectors, services
from apps.evaluations.demo_self import seed_self_evaluations
from apps.evaluations.models import SelfEvaluation, SelfEvaluationAdjustment, SelfEvaluationLine, SelfEvaluationRound
from apps.indicators.models import LibraryIndicator
from apps.indicators.reference import load_indicators
from apps.orgs.models import Region
from apps.orgs.reference import load_regions
from apps.results import selectors_dashboard
from apps.targets.demo import seed_targets


def snapshot():
    return (
        SelfEvaluationRound.objects.count(),
        list(SelfEvaluation.objects.order_by("pk").values_list("pk", "status", "score", "grade", "adjusted_score")),
        list(SelfEvaluationLine.objects.order_by("pk").values_list("pk", "actual_value", "band_percent", "points")),
        SelfEvaluationAdjustment.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.mark.django_db
def test_demo_self_evaluations():
    # A transactional test earlier in this worker may have flushed the migrations' reference data.
    load_regions(Region)
    ensure_role_groups(Group)
    load_indicators(LibraryIndicator)
    call_command("seed_demo", stdout=StringIO())  # seeds the 2025 targets and self-evaluations (or not yet)
    seed_targets(2025)
    seed_self_evaluations(2025)
    assert SelfEvaluation.objects.count() > 20
    before = snapshot()
    assert seed_self_evaluations(2025) == 0
    call_command("seed_demo", stdout=StringIO())
    assert snapshot() == before

    for region in ("370200", "370202"):
        assert SelfEvaluationRound.objects.filter(organization__code=f"{region}-CZ", fiscal_year=2025).exists()
    city = SelfEvaluation.objects.filter(round__organization__code="370200-CZ")
    assert set(city.values_list("status", flat=True)) == set(SelfEvaluation.Status.values)
    graded = {e.final_grade for e in city if e.final_grade}
    assert graded == {"excellent", "good", "fair", "poor"}
    assert set(city.exclude(grade="").values_list("grade", flat=True)) == {"excellent", "good", "fair", "poor"}

    adjustment = SelfEvaluationAdjustment.objects.select_related("evaluation", "adjusted_by").get()
    assert adjustment.reason and adjustment.adjusted_by.username == "perf_admin"
    assert adjustment.previous_score == adjustment.evaluation.score != adjustment.new_score
    assert (
        adjustment.evaluation.status == "confirmed" and adjustment.evaluation.final_grade != adjustment.evaluation.grade
    )

    mine = SelfEvaluation.objects.filter(organization__code="370200-EDU-U1")
    assert {"draft", "returned"} <= set(mine.values_list("status", flat=True))
    assert mine.get(status="returned").return_comment
    assert SelfEvaluation.objects.filter(fund__department__code="370200-EDU", status="dept_review").exists()
    assert SelfEvaluation.objects.filter(organization__region__code="370202", status="submitted").exists()

    # Every stored score is what scoring computes, and the sent ones have nothing missing.
    for evaluation in SelfEvaluation.objects.select_related("round__organization").filter(score__isnull=False):
        lines = selectors.evaluation_lines(evaluation)
        result = services.compute(evaluation, lines)
        assert result.total == evaluation.score and result.grade == evaluation.grade
        if evaluation.status in ("dept_review", "submitted", "confirmed"):
            assert services.submission_problems(evaluation, lines, result) == []

    # Sent to finance around the due date: most on time, a few late; never in the future, and a
    # status that changed at or after sending (the dashboard's 按时报送率 reads ``submitted_at``).
    now = timezone.now()
    sent = list(SelfEvaluation.objects.select_related("round").filter(submitted_at__isnull=False))
    assert {e.status for e in sent} == {"submitted", "confirmed"}
    assert not SelfEvaluation.objects.filter(status__in=["submitted", "confirmed"], submitted_at__isnull=True).exists()
    on_time = [e for e in sent if timezone.localdate(e.submitted_at) <= e.round.due_on]
    late = [e for e in sent if e not in on_time]
    assert late and len(on_time) >= 0.75 * len(sent), (len(on_time), len(late))
    assert all(e.submitted_at <= e.status_changed_at < now for e in sent)
    assert all(e.status_changed_at == e.submitted_at for e in sent if e.status == "submitted")

    # So the 2025 ranking of 市本级 shows real on-time rates, not 0 % everywhere.
    perf_admin = User.objects.get(username="perf_admin")
    scope = selectors_dashboard.resolve_scope(perf_admin, region_code="370200", year=2025)
    ranking = selectors_dashboard.dashboard(perf_admin, scope).panel("ranking").rows
    rates = [row[4] for row in ranking]
    assert any(rate > 0 for rate in rates) and max(rates) >= 50, rates
