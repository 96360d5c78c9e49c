"""单位自评 through the API: the same services, scoping and Chinese messages as the pages."""

from decimal import Decimal

import pytest

from apps.evaluations.models import SelfEvaluation, SelfEvaluationAdjustment, SelfEvaluationRound
from tests import test_selfeval_flow as flow
from tests.querycount import assert_constant_queries
from tests.test_selfeval_flow import MECHANISM, TIMELY, lines_by_name, open_round, send_ready
from tests.test_targets_flow import approve_all_the_way, filed_target, make_fund

# Shared fixtures (pytest finds them as module attributes).
year2025, approved2025, evaluation = flow.year2025, flow.approved2025, flow.evaluation

ROUNDS = "/api/v1/self-evaluation-rounds/"
EVALUATIONS = "/api/v1/self-evaluations/"


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def send(client, url, data, method):
    return getattr(client, method)(url, data, content_type="application/json")


def lines_body(evaluation, **by_name):
    """Every indicator at its target, keyed by line id; ``by_name`` overrides."""
    rows = {}
    for name, line in lines_by_name(evaluation).items():
        if line.indicator.comparison == "qualitative":
            row = {"actual_text": "已建立", "band": "achieved", "band_percent": "100"}
        else:
            row = {"actual_value": f"{line.indicator.target_value.normalize():f}"}
        rows[str(line.pk)] = row | by_name.get(name, {})
    return rows


def test_self_evaluation_through_the_api(world, year, year2025, approved2025, login):
    finance = login(world.perf_admin)
    too_early = post(finance, ROUNDS, {"fiscal_year": 2026, "due_on": "2027-03-31"})
    assert too_early.status_code == 400 and too_early.json() == {
        "fiscal_year": ["2026年度尚未结束，不能开启单位自评。"]
    }
    opened = post(finance, ROUNDS, {"fiscal_year": 2025, "due_on": "2026-03-31"})
    assert opened.status_code == 201, opened.json()
    assert opened.json()["created"] == 1 and opened.json()["round"]["evaluation_count"] == 1
    assert post(finance, ROUNDS, {"fiscal_year": 2025, "due_on": "2026-03-31"}).json()["created"] == 0
    assert post(login(world.edu_approver), ROUNDS, {"fiscal_year": 2025, "due_on": "2026-03-31"}).status_code == 403
    evaluation = SelfEvaluation.objects.get()
    url = f"{EVALUATIONS}{evaluation.pk}/"

    unit = login(world.edu_unit_filler)
    detail = unit.get(url).json()
    assert detail["status"] == "draft" and detail["score"] is None and len(detail["lines"]) == 6
    assert detail["breakdown"]["total"] == "0.00" and len(detail["breakdown"]["missing"]) == 7
    assert detail["available_transitions"] == ["send"] and len(detail["problems"]) == 7

    # Preview: scored, nothing saved.
    shortfalls = lines_body(evaluation, **{TIMELY: {"actual_value": "90"}})
    preview = post(unit, f"{url}preview/", {"executed_amount": "2700000", "lines": shortfalls})
    assert preview.status_code == 200, preview.json()
    body = preview.json()
    assert body["breakdown"]["total"] == "98.21" and body["breakdown"]["grade_display"] == "优"
    timely = next(line for line in body["breakdown"]["lines"] if line["name"] == TIMELY)
    assert timely["formula"] == "90 ÷ 95 × 15 = 14.2105" and timely["loss_reason"] == "实际 90%，未达到目标 95%"
    assert timely["points"] == "14.2105" and timely["lost"] is True
    assert body["problems"] == [
        "预算未全部执行：请填写执行偏差原因和改进措施。",
        "“资金发放及时率”未完成目标：请填写偏差原因和改进措施。",
    ]
    evaluation.refresh_from_db()
    assert evaluation.score is None and evaluation.executed_amount is None
    bad_preview = post(unit, f"{url}preview/", {"executed_amount": "-1"}).json()
    assert bad_preview["errors"] == {"executed_amount": ["实际执行数不能为负数。"]}

    # Save: field errors by name, all or nothing.
    line = lines_by_name(evaluation)[TIMELY]
    body_bad = {"executed_amount": "abc", "lines": lines_body(evaluation, **{TIMELY: {"actual_value": "x"}})}
    bad = send(unit, url, body_bad, "put")
    assert bad.status_code == 400
    assert bad.json() == {
        "executed_amount": ["实际执行数必须是数字。"],
        f"line-{line.pk}-actual_value": ["第 3 项指标“资金发放及时率”的实际完成值必须是数字。"],
    }
    unknown = send(unit, url, {"lines": {"999999": {"actual_value": "1"}}}, "patch")
    assert unknown.status_code == 400 and unknown.json() == {"lines": ["指标行不属于该自评表：999999。"]}
    saved = send(unit, url, {"executed_amount": "2700000", "lines": shortfalls}, "put")
    assert saved.status_code == 200, saved.json()
    assert saved.json()["score"] == "98.21" == body["breakdown"]["total"] and saved.json()["grade"] == "excellent"
    refused = post(unit, f"{url}send/")
    assert refused.status_code == 400 and len(refused.json()["non_field_errors"]) == 2

    # PATCH keeps what is left out: the amount and, within a line, the keys not sent.
    reasons = {str(line.pk): {"shortfall_reason": "名单延迟", "improvement_measure": "提前核对"}}
    patched = send(unit, url, {"execution_reason": "尾款未付", "execution_measure": "验收后支付", "lines": reasons},
                   "patch")  # fmt: skip
    assert patched.status_code == 200, patched.json()
    data = patched.json()
    row = next(r for r in data["lines"] if r["id"] == line.pk)
    assert data["executed_amount"] == "2700000.00" and row["actual_value"] == "90.0000"
    assert row["shortfall_reason"] == "名单延迟" and data["problems"] == [] and data["score"] == "98.21"

    assert post(unit, f"{url}send/").json()["status"] == "dept_review"
    assert post(unit, f"{url}submit/").status_code == 403
    assert send(unit, url, {"summary": "改"}, "patch").status_code == 400  # no longer editable
    approver = login(world.edu_approver)
    no_comment = post(approver, f"{url}dept_return/")
    assert no_comment.status_code == 400 and no_comment.json() == {"comment": ["执行“部门退回”必须填写意见。"]}
    assert post(approver, f"{url}submit/").json()["status"] == "submitted"
    again = post(approver, f"{url}submit/")
    assert again.status_code == 400 and "不能执行“部门审核通过并报送财政”" in again.json()["non_field_errors"][0]

    # Finance: adjust with a reason (the computed score is kept), confirm.
    finance = login(world.perf_admin)
    no_reason = post(finance, f"{url}adjust/", {"new_score": "85", "reason": ""})
    assert no_reason.status_code == 400 and no_reason.json() == {"reason": ["调整得分必须写明理由。"]}
    out_of_range = post(finance, f"{url}adjust/", {"new_score": "120", "reason": "x"})
    assert out_of_range.json() == {"new_score": ["调整后得分应在 0 到 100 之间。"]}
    adjusted = post(finance, f"{url}adjust/", {"new_score": "85", "reason": "佐证不足"})
    assert adjusted.status_code == 200, adjusted.json()
    data = adjusted.json()
    assert (data["score"], data["grade"], data["adjusted_score"], data["adjusted_grade"]) == (
        "98.21", "excellent", "85.00", "good",
    )  # fmt: skip
    assert (data["final_score"], data["final_grade_display"]) == ("85.00", "良")
    assert data["adjustments"][0]["previous_score"] == "98.21" and data["adjustments"][0]["reason"] == "佐证不足"
    assert data["adjustments"][0]["adjusted_by_name"] == world.perf_admin.display_name
    assert post(login(world.sector_kjw), f"{url}adjust/", {"new_score": "80", "reason": "x"}).status_code == 403
    finance = login(world.perf_admin)
    assert post(finance, f"{url}confirm/").json()["status"] == "confirmed"
    listed = finance.get(EVALUATIONS, {"grade": "good", "fiscal_year": 2025}).json()
    assert listed["count"] == 1 and listed["results"][0]["final_score"] == "85.00"
    assert finance.get(EVALUATIONS, {"grade": "excellent"}).json()["count"] == 0
    round_id = opened.json()["round"]["id"]
    closed = post(finance, f"{ROUNDS}{round_id}/close/")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert closed.json()["confirmed_count"] == 1


@pytest.mark.parametrize("persona", ["health_filler", "shinan_edu_filler", "shinan_finance"])
def test_other_departments_and_districts_get_404(world, evaluation, login, persona):
    send_ready(world, evaluation)
    client = login(getattr(world, persona))
    url = f"{EVALUATIONS}{evaluation.pk}/"
    assert client.get(url).status_code == 404
    assert send(client, url, {"executed_amount": "1", "lines": {}}, "put").status_code == 404
    assert send(client, url, {"summary": "x"}, "patch").status_code == 404
    assert post(client, f"{url}preview/", {"executed_amount": "1"}).status_code == 404
    for step in ("send", "submit", "dept_return", "confirm", "return", "adjust"):
        assert post(client, f"{url}{step}/", {"comment": "x", "new_score": "1", "reason": "x"}).status_code in (
            403,
            404,
        )
    assert client.get(EVALUATIONS).json()["count"] == 0
    if persona == "shinan_finance":
        assert client.get(f"{ROUNDS}{evaluation.round_id}/").status_code == 404
        assert post(client, f"{ROUNDS}{evaluation.round_id}/close/").status_code == 404
    evaluation.refresh_from_db()
    assert evaluation.status == "draft" and evaluation.summary == "" and evaluation.round.status == "open"
    assert not SelfEvaluationAdjustment.objects.exists()


def test_wrong_role_gets_403(world, evaluation, login):
    send_ready(world, evaluation)
    url = f"{EVALUATIONS}{evaluation.pk}/"
    sysadmin = login(world.sysadmin)
    for endpoint in (ROUNDS, EVALUATIONS):
        assert sysadmin.get(endpoint).status_code == 403
    npc = login(world.npc_liaison)  # reads, may not write
    assert npc.get(url).status_code == 200
    assert send(npc, url, {"summary": "x"}, "patch").status_code == 403
    assert post(npc, f"{url}preview/", {}).status_code == 403
    assert post(npc, f"{url}send/").status_code == 403
    assert post(npc, f"{url}adjust/", {"new_score": "1", "reason": "x"}).status_code == 403
    assert post(npc, f"{ROUNDS}{evaluation.round_id}/close/").status_code == 403
    unit = login(world.edu_unit_filler)
    assert post(unit, f"{url}adjust/", {"new_score": "1", "reason": "x"}).status_code == 403
    assert post(unit, ROUNDS, {"fiscal_year": 2025, "due_on": "2026-03-31"}).status_code == 403
    evaluation.refresh_from_db()
    assert evaluation.status == "draft" and SelfEvaluationRound.objects.get().status == "open"


def test_detail_shows_the_breakdown_per_category(world, evaluation, login):
    send_ready(world, evaluation)
    data = login(world.edu_approver).get(f"{EVALUATIONS}{evaluation.pk}/").json()
    categories = {c["code"]: c for c in data["breakdown"]["categories"]}
    assert categories["execution"]["weight"] == "10.0000" and categories["execution"]["points"] == "9.0000"
    assert categories["output"]["points"] == "49.2105"  # 20 + 15 + 90/95×15
    mechanism = next(line for line in data["breakdown"]["lines"] if line["name"] == MECHANISM)
    assert mechanism["formula"] == "达成 90% × 10 = 9" and mechanism["missing"] is False
    assert data["breakdown"]["lines"][0]["line"] is None  # 预算执行率
    assert data["score"] == "97.21"
    assert data["available_transitions"] == ["send"]  # the department may also send its unit's work


def test_list_endpoints_constant_queries(world, year2025, login):
    counter = iter(range(100))

    def grow():
        for _ in range(3):
            approve_all_the_way(world, filed_target(world, make_fund(world, year2025, code=f"AQ-{next(counter)}")))
        open_round(world, year2025)
        SelfEvaluation.objects.update(score=Decimal("75"), grade="fair")

    grow()
    client = login(world.perf_admin)
    assert client.get(EVALUATIONS).json()["count"] == 3
    for url, expected in ((EVALUATIONS, 8), (f"{EVALUATIONS}?grade=fair&fiscal_year=2025", 8), (ROUNDS, 8)):
        assert_constant_queries(lambda url=url: client.get(url), grow, expected)
    assert client.get(EVALUATIONS).json()["count"] == 12
