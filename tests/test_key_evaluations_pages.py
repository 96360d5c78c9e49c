"""Key-evaluation pages: plans with the coverage panel and the fund picker, the evaluation form and
its workflow, who sees and changes what (403/404, nothing changes), the to-do list, query counts."""

from decimal import Decimal

import pytest
from django.urls import reverse
from guardian.shortcuts import assign_perm

from apps.evaluations import key_services, plans
from apps.evaluations.models import EvaluationPlan
from apps.orgs.models import FiscalYear
from tests.querycount import assert_constant_queries
from tests.test_coverage import chain, closed_plan
from tests.test_key_evaluations import (  # noqa: F401  (years: fixture)
    department_target,
    finance_plan,
    issued_evaluation,
    make_fund,
    points_for,
    score,
    upload_report,
    years_fixture,
)

D = Decimal


def url(name, *args, **query):
    base = reverse(f"evaluations:{name}", args=args)
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def form_data(evaluation, points=None, **extra) -> dict:
    """What the evaluation form posts (every existing line; ``points`` per line, default the saved)."""
    data = {"line": [], "findings": evaluation.findings, "recommendations": evaluation.recommendations}
    for i, line in enumerate(evaluation.lines.order_by("sort_order", "pk")):
        data["line"].append(str(line.pk))
        value = line.points if points is None else points[i]
        data.update({
            f"line-{line.pk}-dimension": line.dimension, f"line-{line.pk}-name": line.name,
            f"line-{line.pk}-max_points": str(line.max_points), f"line-{line.pk}-comment": line.comment,
            f"line-{line.pk}-points": "" if value is None else str(value),
        })  # fmt: skip
    data.update(extra)
    return data


def test_finance_draws_up_a_plan_with_the_coverage_check(world, years, login):
    chain(world, "DUE", 2022)
    chain(world, "MORE", 2022)
    new = make_fund(world, 2025, "NEW")
    client = login(world.perf_admin)
    page = client.get(url("plan_list", year=2025)).content.decode()
    assert 'id="plans-empty"' in page and 'id="plan-create"' in page
    response = client.post(url("plan_create"), {"fiscal_year": 2025, "name": ""})
    plan = EvaluationPlan.objects.get()
    assert response.url == url("plan_detail", plan.pk)
    again = client.post(url("plan_create"), {"fiscal_year": 2025, "name": ""})
    assert again.status_code == 400 and "每年只编制一个" in again.content.decode()
    page = client.get(url("plan_detail", plan.pk)).content.decode()
    assert 'id="cov-universe">3<' in page and 'id="cov-required">1<' in page and 'id="cov-missing-count">2<' in page
    assert "DUE-2025" in page and 'id="picker-funds"' in page
    filtered = client.get(url("plan_detail", plan.pk, q="NEW")).content.decode()
    picker = filtered[filtered.index('id="picker-funds"') :]
    assert "项目NEW" in picker and "DUE-2025" not in picker and "新项目，未到期" in picker
    # One click on a missing fund, then the picker.
    client.post(url("plan_add_funds", plan.pk), {"fund": [plan_fund_id(world, "DUE-2025")]})
    client.post(url("plan_add_funds", plan.pk), {"fund": [new.pk], "next": url("plan_detail", plan.pk, q="NEW")})
    assert set(plan.evaluations.values_list("fund__code", flat=True)) == {"DUE-2025", "NEW"}
    page = client.get(url("plan_detail", plan.pk)).content.decode()
    assert 'id="cov-planned">2<' in page and 'id="cov-missing-count">1<' in page
    client.post(url("plan_issue", plan.pk))
    plan.refresh_from_db()
    assert plan.status == "issued"
    page = client.get(url("plan_detail", plan.pk)).content.decode()
    assert 'id="picker-funds"' not in page and 'id="cov-add-all"' not in page  # fixed once issued
    assert client.get(url("plan_list", year=2025)).content.decode().count("evaluations/plans/") >= 1


def plan_fund_id(world, code):
    from apps.funds.models import SpecialFund

    return SpecialFund.objects.get(code=code).pk


def test_department_overall_evaluation_from_the_plan_page(world, years, login):
    department_target(world.edu, 2025)
    plan = finance_plan(world)
    client = login(world.perf_admin)
    page = client.get(url("plan_detail", plan.pk)).content.decode()
    assert 'id="plan-add-department"' in page and "青岛市教育局" in page
    client.post(url("plan_add_department", plan.pk), {"department": world.edu.pk})
    evaluation = plan.evaluations.get()
    assert evaluation.subject == "department"
    page = client.get(url("key_detail", evaluation.pk)).content.decode()
    assert "青岛市教育局 · 部门整体评价" in page and "重点工作完成" in page


def test_scoring_through_the_evaluation_form(world, years, login):
    evaluation = issued_evaluation(world)
    client = login(world.perf_admin)
    client.post(url("key_transition", evaluation.pk, "start"))
    page = client.get(url("key_detail", evaluation.pk)).content.decode()
    assert 'id="key-form"' in page and 'id="key-problems"' in page and "尚未评分" in page
    bad = form_data(evaluation, points_for(evaluation, D("80")))
    first = evaluation.lines.order_by("sort_order").first()
    bad[f"line-{first.pk}-points"] = "9"  # over its 5 points
    response = client.post(url("key_save", evaluation.pk), bad)
    assert response.status_code == 400
    page = response.content.decode()
    assert "第 1 行（决策·项目立项）：得分 9 不能超过分值 5。" in page and 'value="9"' in page
    assert not evaluation.lines.filter(points__isnull=False).exists()
    good = form_data(evaluation, points_for(evaluation, D("86.5")), findings="资金拨付滞后。")
    good["new-effect-0-name"] = ""  # the blank new row is ignored
    response = client.post(url("key_save", evaluation.pk), {**good, "then": "submit"})
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.score, evaluation.grade) == ("submitted", D("86.50"), "good")
    page = client.get(url("key_detail", evaluation.pk)).content.decode()
    assert 'id="key-form"' not in page and 'id="key-complete"' in page and "请先上传" not in page
    client.post(url("key_transition", evaluation.pk, "complete"))
    evaluation.refresh_from_db()
    assert evaluation.status == "submitted"  # no report yet: refused with a message
    upload_report(world.perf_admin, evaluation)
    client.post(url("key_transition", evaluation.pk, "complete"))
    evaluation.refresh_from_db()
    assert evaluation.status == "completed"
    page = client.get(url("key_detail", evaluation.pk)).content.decode()
    assert "评价中 → 待审定" in page and "评价报告.pdf" in page


def test_weights_and_new_lines_from_the_page(world, years, login):
    evaluation = issued_evaluation(world)
    client = login(world.perf_admin)
    client.post(url("key_weights", evaluation.pk), {"weight_decision": "25", "weight_process": "25",
                                                   "weight_output": "25", "weight_effect": "25"})  # fmt: skip
    evaluation.refresh_from_db()
    assert evaluation.weight_decision == 15  # refused: 产出 + 效益 < 60
    client.post(url("key_weights", evaluation.pk), {"weight_decision": "10", "weight_process": "20",
                                                   "weight_output": "30", "weight_effect": "40"})  # fmt: skip
    evaluation.refresh_from_db()
    assert evaluation.weight_effect == 40 and sum(evaluation.lines.values_list("max_points", flat=True)) == 100
    data = form_data(evaluation)
    satisfaction = evaluation.lines.get(name="满意度")
    data[f"line-{satisfaction.pk}-delete"] = "1"
    data.update({"new-effect-0-name": "服务对象满意度", "new-effect-0-max_points": str(satisfaction.max_points)})
    assert client.post(url("key_save", evaluation.pk), data).status_code == 302
    assert list(evaluation.lines.filter(dimension="effect").values_list("name", flat=True)) == [
        "项目效益",
        "服务对象满意度",
    ]


# --- who sees and changes what ---------------------------------------------------------------


@pytest.mark.parametrize("persona", ["health_filler", "shinan_finance", "shinan_edu_filler", "edu_unit_filler"])
def test_outsiders_get_404_and_nothing_changes(world, years, login, persona):
    evaluation = issued_evaluation(world)
    plan = evaluation.plan
    client = login(getattr(world, persona))
    if persona != "edu_unit_filler":  # a unit does not see its department's plans at all (plan.view: subtree)
        assert client.get(url("plan_detail", plan.pk)).status_code == 404
    for name in ("plan_add_funds", "plan_add_department", "plan_issue"):
        assert client.post(url(name, plan.pk), {"fund": [evaluation.fund_id]}).status_code == 404
    assert client.post(url("plan_remove_evaluation", plan.pk, evaluation.pk)).status_code == 404
    assert client.get(url("key_detail", evaluation.pk)).status_code == 404
    assert client.post(url("key_save", evaluation.pk), form_data(evaluation, [D("1")] * 11)).status_code == 404
    assert client.post(url("key_weights", evaluation.pk), {"weight_decision": "10"}).status_code == 404
    for step in key_services.TRANSITION_NAMES:
        assert client.post(url("key_transition", evaluation.pk, step), {"comment": "x"}).status_code == 404
    assert 'id="key-empty"' in client.get(url("key_list")).content.decode()
    evaluation.refresh_from_db()
    assert evaluation.status == "planned" and not evaluation.lines.filter(points__isnull=False).exists()
    assert plan.evaluations.count() == 1


@pytest.mark.parametrize("persona", ["sysadmin", "security_admin", "expert_li"])
def test_wrong_role_gets_403(world, years, login, persona):
    evaluation = issued_evaluation(world)
    client = login(getattr(world, persona))
    assert client.get(url("plan_list")).status_code == 403
    assert client.post(url("plan_create"), {"fiscal_year": 2025}).status_code == 403
    assert client.get(url("plan_detail", evaluation.plan_id)).status_code == 403
    if persona != "expert_li":  # an expert has the evaluation pages, scoped to what is assigned
        assert client.get(url("key_list")).status_code == 403
        assert client.get(url("key_detail", evaluation.pk)).status_code == 403
    assert EvaluationPlan.objects.count() == 1


def test_a_sector_reviewer_reads_but_gets_403_on_changes(world, years, login):
    evaluation = issued_evaluation(world)
    plan = EvaluationPlan.objects.get()
    EvaluationPlan.objects.filter(pk=plan.pk).update(status="draft")
    client = login(world.sector_kjw)
    page = client.get(url("plan_detail", plan.pk)).content.decode()
    assert 'id="plan-coverage"' in page and 'id="picker-funds"' not in page
    other = make_fund(world, 2025, "EDU-2025-02")
    assert client.post(url("plan_add_funds", plan.pk), {"fund": [other.pk]}).status_code == 403
    assert client.post(url("plan_issue", plan.pk)).status_code == 403
    assert client.post(url("plan_remove_evaluation", plan.pk, evaluation.pk)).status_code == 403
    assert client.post(url("plan_create"), {"fiscal_year": 2024}).status_code == 403
    assert plan.evaluations.count() == 1 and EvaluationPlan.objects.count() == 1


def test_the_evaluated_department_reads_finances_evaluation_but_cannot_change_it(world, years, login):
    evaluation = issued_evaluation(world)
    client = login(world.edu_approver)
    page = client.get(url("key_detail", evaluation.pk)).content.decode()
    assert evaluation.fund.name in page and 'id="key-form"' not in page and 'id="key-start"' not in page
    assert client.post(url("key_save", evaluation.pk), form_data(evaluation, [D("1")] * 11)).status_code == 403
    assert client.post(url("key_weights", evaluation.pk), {"weight_decision": "10"}).status_code == 403
    assert client.post(url("key_transition", evaluation.pk, "start")).status_code == 403
    assert client.get(url("plan_detail", evaluation.plan_id)).status_code == 404  # finance's plan is finance's
    evaluation.refresh_from_db()
    assert evaluation.status == "planned" and not evaluation.lines.filter(points__isnull=False).exists()
    assert 'id="key-empty"' not in client.get(url("key_list")).content.decode()


def test_an_expert_sees_only_assigned_evaluations(world, years, login):
    mine = issued_evaluation(world)
    other = issued_evaluation(world, make_fund(world, 2025, "EDU-2025-02"), kind="department")
    assign_perm("evaluations.view_keyevaluation", world.expert_li, mine)
    client = login(world.expert_li)
    listed = client.get(url("key_list")).content.decode()
    assert mine.fund.code in listed and "EDU-2025-02" not in listed
    page = client.get(url("key_detail", mine.pk)).content.decode()
    assert 'id="key-start"' in page and 'href="/evaluations/plans/' not in page
    assert client.get(url("key_detail", other.pk)).status_code == 404


def test_assignment_button_only_for_finance(world, years, login):
    evaluation = issued_evaluation(world)
    try:
        target = reverse("agencies:assign_key_evaluation", args=[evaluation.pk])
    except Exception:  # noqa: BLE001 - the agencies part may not be installed
        target = None
    page = login(world.perf_admin).get(url("key_detail", evaluation.pk)).content.decode()
    assert ('id="key-assign"' in page) is (target is not None)
    page = login(world.edu_approver).get(url("key_detail", evaluation.pk)).content.decode()
    assert 'id="key-assign"' not in page


def test_todo_lists_evaluations_to_work_on_and_to_complete(world, years, login):
    from apps.core.todo import todos_for

    evaluation = issued_evaluation(world)
    own = issued_evaluation(world, make_fund(world, 2025, "EDU-2025-02"), kind="department")
    assert [i.title for i in todos_for(world.perf_admin, 2026) if "重点评价" in i.title] == [
        f"开展重点评价：EDU-2025-01 {evaluation.fund.name}"
    ]
    assert any("EDU-2025-02" in i.title for i in todos_for(world.edu_filler, 2026))
    assert not any("EDU-2025-01" in i.title for i in todos_for(world.edu_filler, 2026))
    assert not any("重点评价" in i.title for i in todos_for(world.expert_li, 2026))
    assign_perm("evaluations.view_keyevaluation", world.expert_li, evaluation)
    assert [i.category for i in todos_for(world.expert_li, 2026)] == ["财政重点评价"]
    key_services.evaluation_transition(actor=world.edu_filler, evaluation=own, name="start")
    score(world, own, "70", actor=world.edu_filler)
    key_services.evaluation_transition(actor=world.edu_filler, evaluation=own, name="submit")
    assert any(i.title.startswith("审定重点评价结果：EDU-2025-02") for i in todos_for(world.edu_approver, 2026))
    assert not any("重点评价" in i.title for i in todos_for(world.perf_admin, 2024))  # other years


# --- constant queries ------------------------------------------------------------------------


def test_lists_and_the_plan_page_run_a_constant_number_of_queries(world, years, login):
    counter = iter(range(1000))
    plan = finance_plan(world)
    closed = closed_plan(world, 2024, [make_fund(world, 2024, "PAST-0", start=2020)])

    def grow():
        funds = [chain(world, f"G{next(counter)}", 2022) for _ in range(3)]
        plans.plan_add_funds(actor=world.perf_admin, plan=plan, funds=[funds[0][2025], funds[1][2025]])
        EvaluationPlan.objects.filter(pk=closed.pk).update(status="draft")
        plans.plan_add_funds(actor=world.perf_admin, plan=closed, funds=[funds[2][2024]])
        EvaluationPlan.objects.filter(pk=closed.pk).update(status="issued")
        FiscalYear.objects.get_or_create(year=2025)

    grow()
    client = login(world.perf_admin)
    for target, expected in (
        (url("plan_list", year=2025), 11),
        (url("key_list"), 10),
        (url("plan_detail", plan.pk), 24),
    ):
        assert_constant_queries(lambda target=target: client.get(target), grow, expected)
