"""Key evaluations through the API: the same services, scoping and messages as the pages."""

from decimal import Decimal

import pytest
from guardian.shortcuts import assign_perm

from apps.evaluations.models import EvaluationPlan, KeyEvaluation
from tests.querycount import assert_constant_queries
from tests.test_coverage import chain
from tests.test_key_evaluations import (  # noqa: F401  (years: fixture)
    department_target,
    finance_plan,
    issued_evaluation,
    make_fund,
    points_for,
    upload_report,
    years_fixture,
)

PLANS = "/api/v1/evaluation-plans/"
KEYS = "/api/v1/key-evaluations/"
D = Decimal


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def lines_body(evaluation, points=None) -> list[dict]:
    rows = []
    for i, line in enumerate(evaluation.lines.order_by("sort_order", "pk")):
        value = line.points if points is None else points[i]
        rows.append({"id": line.pk, "dimension": line.dimension, "name": line.name,
                     "max_points": str(line.max_points), "points": None if value is None else str(value)})  # fmt: skip
    return rows


def test_plans_through_the_api(world, years, login):
    due = chain(world, "DUE", 2022)
    new = make_fund(world, 2025, "NEW")
    department_target(world.edu, 2025)
    finance = login(world.perf_admin)
    created = post(finance, PLANS, {"fiscal_year": 2025})
    assert created.status_code == 201, created.json()
    plan = created.json()
    assert plan["kind"] == "finance" and plan["status"] == "draft" and plan["organization"] == world.city_finance.pk
    again = post(finance, PLANS, {"fiscal_year": 2025})
    assert again.status_code == 400 and "每年只编制一个" in again.json()["fiscal_year"][0]
    coverage = finance.get(f"{PLANS}{plan['id']}/coverage/").json()
    assert (coverage["universe"], coverage["required"], coverage["planned"]) == (2, 1, 0)
    assert [m["code"] for m in coverage["missing"]] == ["DUE-2025"] and coverage["missing"][0]["years"] == 4
    added = post(finance, f"{PLANS}{plan['id']}/add-funds/", {"funds": [due[2025].pk, new.pk]})
    assert added.status_code == 200 and added.json()["added"] == 2 and added.json()["plan"]["fund_count"] == 2
    assert post(finance, f"{PLANS}{plan['id']}/add-funds/", {"funds": [new.pk]}).json()["added"] == 0
    wrong_year = post(finance, f"{PLANS}{plan['id']}/add-funds/", {"funds": [due[2024].pk]})
    assert wrong_year.status_code == 400
    assert wrong_year.json()["non_field_errors"] == [
        "“DUE-2024 项目DUE-2024”是2024年度的项目，本计划评价2025年度的项目。"
    ]
    unknown = post(finance, f"{PLANS}{plan['id']}/add-funds/", {"funds": [999999]})
    assert unknown.status_code == 400 and "999999" in unknown.json()["funds"][0]
    removed = post(finance, f"{PLANS}{plan['id']}/remove-fund/", {"fund": new.pk})
    assert removed.status_code == 200 and removed.json()["fund_count"] == 1
    dept = post(finance, f"{PLANS}{plan['id']}/add-department/", {"department": world.edu.pk})
    assert dept.status_code == 201 and dept.json()["subject"] == "department" and len(dept.json()["lines"]) == 10
    issued = post(finance, f"{PLANS}{plan['id']}/issue/")
    assert issued.json()["status"] == "issued"
    assert post(finance, f"{PLANS}{plan['id']}/issue/").status_code == 400
    listed = finance.get(PLANS, {"fiscal_year": 2025}).json()
    assert listed["count"] == 1 and listed["results"][0]["evaluation_count"] == 2
    assert finance.get(f"{PLANS}{plan['id']}/").json()["department_count"] == 1
    own = post(login(world.edu_approver), PLANS, {"fiscal_year": 2025})
    assert own.status_code == 201 and own.json()["kind"] == "department"


def test_key_evaluation_through_the_api(world, years, login):
    evaluation = issued_evaluation(world)
    finance = login(world.perf_admin)
    url = f"{KEYS}{evaluation.pk}/"
    detail = finance.get(url).json()
    assert detail["fund_code"] == "EDU-2025-01" and detail["status"] == "planned" and len(detail["lines"]) == 11
    assert post(finance, f"{url}start/").json()["status"] == "in_progress"
    bad = post(finance, f"{url}set-weights/", {"decision": "25", "process": "25", "output": "25", "effect": "25"})
    assert bad.status_code == 400 and bad.json()["non_field_errors"] == ["产出与效益权重合计应不低于 60，当前为 50。"]
    weights = post(finance, f"{url}set-weights/", {"decision": "10", "process": "20", "output": "30", "effect": "40"})
    assert weights.status_code == 200 and weights.json()["weight_effect"] == "40.00"
    evaluation.refresh_from_db()
    body = {"lines": lines_body(evaluation, points_for(evaluation, D("91"))), "findings": "档案不全。"}
    body["lines"][0]["max_points"] = "101"
    refused = post(finance, f"{url}save-lines/", body)
    assert refused.status_code == 400
    assert refused.json()["non_field_errors"][0].startswith("第 1 行（决策·项目立项）：分值不能超过 100")
    body["lines"][0]["max_points"] = str(evaluation.lines.order_by("sort_order").first().max_points)
    saved = post(finance, f"{url}save-lines/", body)
    assert saved.status_code == 200, saved.json()
    assert (saved.json()["score"], saved.json()["grade"], saved.json()["grade_display"]) == ("91.00", "excellent", "优")
    assert post(finance, f"{url}submit/").json()["status"] == "submitted"
    no_report = post(finance, f"{url}complete/")
    assert no_report.status_code == 400 and no_report.json()["non_field_errors"] == [
        "请先上传评价报告（附件），再审定评价结果。"
    ]
    assert post(finance, f"{url}return/").status_code == 400
    assert post(finance, f"{url}return/", {"comment": "补充底稿"}).json()["status"] == "in_progress"
    post(finance, f"{url}submit/")
    upload_report(world.perf_admin, evaluation)
    assert post(finance, f"{url}complete/").json()["status"] == "completed"
    assert post(finance, f"{url}save-lines/", body).status_code == 400


@pytest.mark.parametrize("persona", ["health_filler", "shinan_finance", "shinan_edu_filler"])
def test_other_departments_and_districts_get_404(world, years, login, persona):
    evaluation = issued_evaluation(world)
    plan_id = evaluation.plan_id
    client = login(getattr(world, persona))
    assert client.get(f"{PLANS}{plan_id}/").status_code == 404
    assert client.get(f"{PLANS}{plan_id}/coverage/").status_code == 404
    for action, body in (("add-funds", {"funds": [evaluation.fund_id]}), ("remove-fund", {"fund": evaluation.fund_id}),
                         ("add-department", {"department": world.edu.pk}), ("issue", {})):  # fmt: skip
        assert post(client, f"{PLANS}{plan_id}/{action}/", body).status_code == 404
    url = f"{KEYS}{evaluation.pk}/"
    assert client.get(url).status_code == 404
    assert (
        post(
            client, f"{url}set-weights/", {"decision": "10", "process": "20", "output": "30", "effect": "40"}
        ).status_code
        == 404
    )
    assert post(client, f"{url}save-lines/", {"lines": lines_body(evaluation)}).status_code == 404
    for step in ("start", "submit", "complete", "return"):
        assert post(client, f"{url}{step}/", {"comment": "x"}).status_code == 404
    assert client.get(KEYS).json()["count"] == 0
    evaluation.refresh_from_db()
    assert evaluation.status == "planned" and evaluation.weight_decision == 15
    assert KeyEvaluation.objects.filter(plan_id=plan_id).count() == 1


def test_the_evaluated_department_reads_but_gets_403(world, years, login):
    evaluation = issued_evaluation(world)
    client = login(world.edu_filler)
    assert client.get(f"{KEYS}{evaluation.pk}/").status_code == 200
    url = f"{KEYS}{evaluation.pk}/"
    assert post(client, f"{url}start/").status_code == 403
    assert (
        post(
            client, f"{url}set-weights/", {"decision": "10", "process": "20", "output": "30", "effect": "40"}
        ).status_code
        == 403
    )
    assert post(client, f"{url}save-lines/", {"lines": lines_body(evaluation, [D("1")] * 11)}).status_code == 403
    assert client.get(f"{PLANS}{evaluation.plan_id}/").status_code == 404
    assert post(client, PLANS, {"fiscal_year": 2025}).status_code == 403  # a filler draws up no plan
    sector = login(world.sector_kjw)
    assert sector.get(f"{PLANS}{evaluation.plan_id}/coverage/").status_code == 200
    assert post(sector, f"{PLANS}{evaluation.plan_id}/issue/").status_code in (400, 403)
    EvaluationPlan.objects.filter(pk=evaluation.plan_id).update(status="draft")
    assert post(sector, f"{PLANS}{evaluation.plan_id}/remove-fund/", {"fund": evaluation.fund_id}).status_code == 403
    evaluation.refresh_from_db()
    assert evaluation.status == "planned" and not evaluation.lines.filter(points__isnull=False).exists()


def test_wrong_role_gets_403_and_experts_see_only_assigned(world, years, login):
    evaluation = issued_evaluation(world)
    client = login(world.sysadmin)
    for url in (PLANS, KEYS, f"{PLANS}{evaluation.plan_id}/coverage/"):
        assert client.get(url).status_code == 403, url
    assert post(client, PLANS, {"fiscal_year": 2025}).status_code == 403
    expert = login(world.expert_li)
    assert expert.get(PLANS).status_code == 403
    assert expert.get(KEYS).json()["count"] == 0
    assert expert.get(f"{KEYS}{evaluation.pk}/").status_code == 404
    assign_perm("evaluations.view_keyevaluation", world.expert_li, evaluation)
    assert expert.get(KEYS).json()["count"] == 1
    assert post(expert, f"{KEYS}{evaluation.pk}/start/").json()["status"] == "in_progress"


def test_list_endpoints_constant_queries(world, years, login):
    counter = iter(range(1000))
    plan = finance_plan(world)

    def grow():
        from apps.evaluations import plans

        funds = [make_fund(world, 2025, f"L{next(counter)}") for _ in range(3)]
        plans.plan_add_funds(actor=world.perf_admin, plan=plan, funds=funds)

    grow()
    client = login(world.perf_admin)
    assert client.get(KEYS).json()["count"] == 3
    for url, expected in ((KEYS, 10), (PLANS, 8), (f"{PLANS}{plan.pk}/coverage/", 12)):
        assert_constant_queries(lambda url=url: client.get(url), grow, expected)
