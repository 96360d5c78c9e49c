"""年终办结 of key-evaluation plans: issued → closed only when every evaluation in the plan is
completed, by the plan's owner (finance for finance plans, the department approver for department
plans); the service, the button on the plan page and the API action; 403/404 and nothing changed."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.evaluations import key_services, plans
from apps.evaluations.models import EvaluationPlan, KeyEvaluation
from tests.test_key_evaluations import (  # noqa: F401  (years: fixture)
    issued_evaluation,
    make_fund,
    score,
    upload_report,
    years_fixture,
)

KS = KeyEvaluation.Status
API = "/api/v1/evaluation-plans/{}/close/"


def complete(world, evaluation, actor=None, conductor=None):
    """Take ``evaluation`` through the real workflow to 已完成."""
    actor = actor or world.perf_admin
    conductor = conductor or actor
    key_services.evaluation_transition(actor=conductor, evaluation=evaluation, name="start")
    score(world, evaluation, "88", actor=conductor)
    key_services.evaluation_transition(actor=conductor, evaluation=evaluation, name="submit")
    upload_report(conductor, evaluation)
    return key_services.evaluation_transition(actor=actor, evaluation=evaluation, name="complete")


def two_evaluation_plan(world):
    """An issued finance plan with two fund evaluations, the first one completed."""
    first = issued_evaluation(world)
    plan = first.plan
    EvaluationPlan.objects.filter(pk=plan.pk).update(status="draft")
    plans.plan_add_funds(actor=world.perf_admin, plan=plan, funds=[make_fund(world, 2025, "EDU-2025-02")])
    EvaluationPlan.objects.filter(pk=plan.pk).update(status="issued")
    complete(world, first)
    return plan, first, plan.evaluations.exclude(pk=first.pk).get()


def closes(plan) -> int:
    return AuditEvent.objects.for_object(plan).filter(kind="transition", changes__status__to="closed").count()


# --- the service ---------------------------------------------------------------------------


def test_plan_closes_when_every_evaluation_is_completed_and_only_once(world, years):
    plan, first, second = two_evaluation_plan(world)
    with pytest.raises(ValidationError) as exc:
        plans.plan_close(actor=world.perf_admin, plan=plan, comment="年终")
    assert exc.value.messages == ["评价计划中还有 1 项评价尚未完成（待评价 1 项），全部完成后才能办结计划。"]
    plan.refresh_from_db()
    assert plan.status == "issued" and closes(plan) == 0

    complete(world, second)
    closed = plans.plan_close(actor=world.perf_admin, plan=plan, comment="2025年度重点评价全部完成")
    assert closed.status == "closed"
    assert EvaluationPlan.objects.get(pk=plan.pk).status == "closed"
    event = AuditEvent.objects.for_object(plan).filter(kind="transition").order_by("-id").first()
    assert event.changes["status"] == {"from": "issued", "to": "closed"}
    assert event.comment == "2025年度重点评价全部完成" and event.actor_id == world.perf_admin.pk

    with pytest.raises(ValidationError, match="当前状态为“已完成”，不能执行“办结计划”"):
        plans.plan_close(actor=world.perf_admin, plan=plan)
    assert closes(plan) == 1


def test_the_refusal_counts_open_evaluations_by_status(world, years):
    plan, first, second = two_evaluation_plan(world)
    third_fund = make_fund(world, 2025, "EDU-2025-03")
    EvaluationPlan.objects.filter(pk=plan.pk).update(status="draft")
    plans.plan_add_funds(actor=world.perf_admin, plan=plan, funds=[third_fund])
    EvaluationPlan.objects.filter(pk=plan.pk).update(status="issued")
    key_services.evaluation_transition(actor=world.perf_admin, evaluation=second, name="start")
    with pytest.raises(ValidationError) as exc:
        plans.plan_close(actor=world.perf_admin, plan=plan)
    assert exc.value.messages == [
        "评价计划中还有 2 项评价尚未完成（待评价 1 项，评价中 1 项），全部完成后才能办结计划。"
    ]
    assert EvaluationPlan.objects.get(pk=plan.pk).status == "issued"


def test_a_draft_plan_cannot_be_closed(world, years):
    evaluation = issued_evaluation(world)
    complete(world, evaluation)
    EvaluationPlan.objects.filter(pk=evaluation.plan_id).update(status="draft")
    with pytest.raises(ValidationError, match="当前状态为“编制中”"):
        plans.plan_close(actor=world.perf_admin, plan=evaluation.plan)
    assert EvaluationPlan.objects.get(pk=evaluation.plan_id).status == "draft"


def test_comment_is_limited(world, years):
    evaluation = issued_evaluation(world)
    complete(world, evaluation)
    with pytest.raises(ValidationError, match="办结说明不能超过 500 个字"):
        plans.plan_close(actor=world.perf_admin, plan=evaluation.plan, comment="长" * 501)
    assert EvaluationPlan.objects.get(pk=evaluation.plan_id).status == "issued"


@pytest.mark.parametrize(
    "persona", ["sector_kjw", "edu_approver", "edu_filler", "shinan_finance", "npc_liaison", "auditor"]
)
def test_only_finance_closes_a_finance_plan(world, years, persona):
    evaluation = issued_evaluation(world)
    complete(world, evaluation)
    with pytest.raises(PermissionDenied):
        plans.plan_close(actor=getattr(world, persona), plan=evaluation.plan)
    assert EvaluationPlan.objects.get(pk=evaluation.plan_id).status == "issued"


def test_the_department_approver_closes_the_department_plan(world, years):
    evaluation = issued_evaluation(world, kind="department")
    complete(world, evaluation, actor=world.edu_approver, conductor=world.edu_filler)
    for persona in ("perf_admin", "edu_filler", "health_filler"):
        with pytest.raises(PermissionDenied):
            plans.plan_close(actor=getattr(world, persona), plan=evaluation.plan)
    assert EvaluationPlan.objects.get(pk=evaluation.plan_id).status == "issued"
    plans.plan_close(actor=world.edu_approver, plan=evaluation.plan)
    assert EvaluationPlan.objects.get(pk=evaluation.plan_id).status == "closed"


# --- the page ------------------------------------------------------------------------------


def page_url(plan):
    return reverse("evaluations:plan_detail", args=[plan.pk])


def close_url(plan):
    return reverse("evaluations:plan_close", args=[plan.pk])


def test_button_on_the_plan_page(world, years, login):
    plan, first, second = two_evaluation_plan(world)
    client = login(world.perf_admin)
    page = client.get(page_url(plan)).content.decode()
    assert 'id="plan-close"' in page and "还有 1 项评价尚未完成" in page
    response = client.post(close_url(plan), {"comment": "年终"}, follow=True)
    assert "未能办结：评价计划中还有 1 项评价尚未完成" in response.content.decode()
    assert EvaluationPlan.objects.get(pk=plan.pk).status == "issued"

    complete(world, second)
    page = client.get(page_url(plan)).content.decode()
    assert 'id="plan-close"' in page and 'id="plan-open-count"' not in page
    response = client.post(close_url(plan), {"comment": "全部完成"}, follow=True)
    assert response.redirect_chain[-1][0] == page_url(plan)
    body = response.content.decode()
    assert "评价计划已办结。" in body and 'id="plan-close"' not in body and "已完成</span>" in body
    assert EvaluationPlan.objects.get(pk=plan.pk).status == "closed"
    response = client.post(close_url(plan), follow=True)
    assert "未能办结：该记录当前状态为“已完成”" in response.content.decode()
    assert closes(plan) == 1


def test_readers_see_no_button_and_get_403(world, years, login):
    evaluation = issued_evaluation(world)
    complete(world, evaluation)
    for persona in ("sector_kjw", "npc_liaison", "auditor"):
        client = login(getattr(world, persona))
        assert 'id="plan-close"' not in client.get(page_url(evaluation.plan)).content.decode()
        assert client.post(close_url(evaluation.plan)).status_code == 403
    assert EvaluationPlan.objects.get(pk=evaluation.plan_id).status == "issued" and closes(evaluation.plan) == 0


@pytest.mark.parametrize("persona", ["health_filler", "shinan_finance", "shinan_edu_filler", "edu_unit_filler"])
def test_outsiders_get_404(world, years, login, persona):
    evaluation = issued_evaluation(world)
    complete(world, evaluation)
    client = login(getattr(world, persona))
    assert client.post(close_url(evaluation.plan)).status_code == 404
    assert client.post(API.format(evaluation.plan_id), {}, content_type="application/json").status_code == 404
    assert EvaluationPlan.objects.get(pk=evaluation.plan_id).status == "issued"


@pytest.mark.parametrize("persona", ["sysadmin", "security_admin", "expert_li"])
def test_wrong_role_gets_403(world, years, login, persona):
    evaluation = issued_evaluation(world)
    complete(world, evaluation)
    client = login(getattr(world, persona))
    assert client.post(close_url(evaluation.plan)).status_code == 403
    assert client.post(API.format(evaluation.plan_id), {}, content_type="application/json").status_code == 403
    assert EvaluationPlan.objects.get(pk=evaluation.plan_id).status == "issued"


# --- the API -------------------------------------------------------------------------------


def test_close_through_the_api(world, years, login):
    plan, first, second = two_evaluation_plan(world)
    client = login(world.perf_admin)
    response = client.post(API.format(plan.pk), {"comment": "年终"}, content_type="application/json")
    assert response.status_code == 400
    assert "评价计划中还有 1 项评价尚未完成（待评价 1 项），全部完成后才能办结计划。" in str(response.json())
    assert EvaluationPlan.objects.get(pk=plan.pk).status == "issued"

    complete(world, second)
    response = client.post(API.format(plan.pk), {"comment": "全部完成"}, content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "closed" and body["status_display"] == "已完成" and body["completed_count"] == 2
    again = client.post(API.format(plan.pk), {}, content_type="application/json")
    assert again.status_code == 400 and "不能执行“办结计划”" in str(again.json())
    assert closes(plan) == 1


def test_api_readers_get_403_and_bad_comment_400(world, years, login):
    evaluation = issued_evaluation(world)
    complete(world, evaluation)
    reader = login(world.sector_kjw)
    assert reader.post(API.format(evaluation.plan_id), {}, content_type="application/json").status_code == 403
    owner = login(world.perf_admin)
    response = owner.post(API.format(evaluation.plan_id), {"comment": "长" * 501}, content_type="application/json")
    assert response.status_code == 400 and "comment" in response.json()
    assert EvaluationPlan.objects.get(pk=evaluation.plan_id).status == "issued" and closes(evaluation.plan) == 0
