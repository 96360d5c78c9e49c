"""预算挂钩 API: rules (read, replace, reset), suggestions, decisions, report, and the arrange endpoint's
reason rule; scoped (403 wrong role, 404 out of scope) and nothing changed on refusal."""

from decimal import Decimal

import pytest

from apps.results.models import BudgetDecision, LinkageRule
from tests.test_linkage import build_report_world, chain, snapshot

D = Decimal
RULES = "/api/v1/linkage/rules/"
TABLE = {
    "fiscal_year": 2027,
    "rules": [
        {"grade": "excellent", "suggestion": "priority", "adjust_percent": "0"},
        {"grade": "good", "suggestion": "normal", "adjust_percent": "0"},
        {"grade": "fair", "suggestion": "cut", "adjust_percent": "-25"},
        {"grade": "poor", "suggestion": "cancel", "adjust_percent": "0"},
    ],
}


def test_rules_read_replace_and_reset(world, year, login):
    chain(world, "55")
    client = login(world.perf_admin)
    data = client.get(RULES, {"fiscal_year": 2027}).json()
    assert [r["suggestion_display"] for r in data["rules"]] == ["优先保障", "正常安排", "压减 10%", "压减 50%"]
    assert not any(r["saved"] for r in data["rules"])
    response = client.post(RULES, TABLE, content_type="application/json")
    assert response.status_code == 200 and response.json()["rules"][2]["suggestion_display"] == "压减 25%"
    assert LinkageRule.objects.filter(region=world.city, fiscal_year=2027).count() == 4
    reader = login(world.npc_liaison).get(RULES, {"fiscal_year": 2027}).json()
    assert reader["rules"][3]["suggestion"] == "cancel"
    client = login(world.perf_admin)
    assert client.post(f"{RULES}reset/?fiscal_year=2027").status_code == 200
    assert not LinkageRule.objects.exists()


def test_bad_rules_give_400_in_chinese_and_change_nothing(world, year, login):
    chain(world, "55")
    before = snapshot()
    bad = {**TABLE, "rules": [*TABLE["rules"][:2], {"grade": "fair", "suggestion": "cut", "adjust_percent": "5"},
                              TABLE["rules"][3]]}  # fmt: skip
    response = login(world.perf_admin).post(RULES, bad, content_type="application/json")
    assert response.status_code == 400 and "应为负数" in response.json()["fair_adjust_percent"][0]
    assert snapshot() == before


@pytest.mark.parametrize(("persona", "status"), [("edu_approver", 403), ("npc_liaison", 403), ("expert_li", 403)])
def test_wrong_roles_cannot_change_rules(world, year, login, persona, status):
    chain(world, "55")
    before = snapshot()
    client = login(getattr(world, persona))
    assert client.post(RULES, TABLE, content_type="application/json").status_code == status
    assert client.post(f"{RULES}reset/?fiscal_year=2027").status_code == status
    assert snapshot() == before


def test_suggestions_are_scoped_and_batched(world, year, login, django_assert_max_num_queries):
    a, b, c, h, s = build_report_world(world)
    client = login(world.perf_admin)
    data = client.get("/api/v1/linkage/suggestions/", {"fiscal_year": 2027}).json()
    by_code = {row["code"]: row["linkage"] for row in data["results"]}
    assert set(by_code) == {"A-2027-01", "B-2027-01", "C-2027-01", "H-2027-01"}
    assert by_code["B-2027-01"]["suggestion"] == "cut" and by_code["B-2027-01"]["suggested_amount"] == "1800000.00"
    assert by_code["C-2027-01"]["suggestion"] == "none" and by_code["A-2027-01"]["history"][0]["year"] == 2025
    one = client.get(f"/api/v1/linkage/suggestions/{h.pk}/").json()
    assert one["linkage"]["last_grade_display"] == "差"
    assert login(world.shinan_finance).get(f"/api/v1/linkage/suggestions/{h.pk}/").status_code == 404
    assert login(world.edu_filler).get(f"/api/v1/linkage/suggestions/{h.pk}/").status_code == 404
    assert login(world.expert_li).get("/api/v1/linkage/suggestions/").status_code == 403


def test_decisions_and_report(world, year, login):
    a, b, c, h, s = build_report_world(world)
    client = login(world.perf_admin)
    decisions = client.get("/api/v1/linkage/decisions/", {"fund__fiscal_year": 2027}).json()["results"]
    assert [(d["fund_code"], d["departs"], d["reason"]) for d in decisions] == [
        ("A-2027-01", False, ""),
        ("B-2027-01", True, "新增学位需求"),
        ("H-2027-01", False, ""),
    ]
    own = login(world.health_filler).get("/api/v1/linkage/decisions/").json()["results"]
    assert [d["fund_code"] for d in own] == ["H-2027-01"]
    other = BudgetDecision.objects.get(fund=a)
    assert login(world.shinan_finance).get(f"/api/v1/linkage/decisions/{other.pk}/").status_code == 404
    client = login(world.perf_admin)
    report = client.get("/api/v1/linkage/report/", {"fiscal_year": 2027}).json()
    assert (report["requested_amount"], report["suggested_amount"], report["decided_amount"]) == (
        "4000000.00",
        "3500000.00",
        "3350000.00",
    )
    assert [d["department_name"] for d in report["departments"]] == ["青岛市教育局", "青岛市卫生健康委员会"]
    assert login(world.sysadmin).get("/api/v1/linkage/report/").status_code == 403


def test_arrange_api_needs_a_reason_when_departing(world, year, login):
    _, _, f27 = chain(world, "55")
    client = login(world.perf_admin)
    before = snapshot()
    response = client.post(f"/api/v1/funds/{f27.pk}/arrange/", {"amount": "700000"}, content_type="application/json")
    assert response.status_code == 400 and "偏离建议的理由" in response.json()["reason"][0]
    assert snapshot() == before
    assert login(world.shinan_finance).post(f"/api/v1/funds/{f27.pk}/arrange/", {}).status_code == 404
    assert login(world.edu_approver).post(f"/api/v1/funds/{f27.pk}/arrange/", {}).status_code == 403
    assert snapshot() == before
    client = login(world.perf_admin)
    response = client.post(
        f"/api/v1/funds/{f27.pk}/arrange/", {"amount": "700000", "reason": "试点扩面"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["arranged_amount"] == "700000.00"
    assert BudgetDecision.objects.get(fund=f27).reason == "试点扩面"


def test_arrange_api_refuses_more_than_the_requested_total(world, year, login):
    _, _, f27 = chain(world, "85")  # 申报金额 1 000 000 (财政拨款, no 其他资金)
    client = login(world.perf_admin)
    before = snapshot()
    url = f"/api/v1/funds/{f27.pk}/arrange/"
    for amount in ("99999999999", "1000000.01"):
        response = client.post(url, {"amount": amount, "reason": "x"}, content_type="application/json")
        assert response.status_code == 400
        assert "不能超过申报金额 100.00万元" in response.json()["arranged_amount"][0]
        assert snapshot() == before
    response = client.post(url, {"amount": "1000000", "reason": "x"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["arranged_amount"] == "1000000.00"
