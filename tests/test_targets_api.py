"""The API walks the same path as the pages, through the same services and scoping."""

import pytest

from apps.funds.models import SpecialFund
from apps.targets.models import PerformanceTarget
from tests.querycount import assert_constant_queries
from tests.test_targets_flow import GOOD_ROWS, filed_target, make_fund


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def test_fund_and_target_through_the_api(world, year, login):
    filler = login(world.edu_filler)
    created = post(filler, "/api/v1/funds/", {
        "fiscal_year": year.pk, "code": "API-1", "name": "校园安全提升", "budget_type": "general",
        "sector": "education", "organization": world.edu_unit.pk, "fiscal_amount": "2000000.00",
        "other_amount": "0", "period_start": 2026, "period_end": 2026,
    })  # fmt: skip
    assert created.status_code == 201, created.json()
    fund_id = created.json()["id"]
    dup = post(filler, "/api/v1/funds/", {**created.json(), "organization": world.edu_unit.pk, "fiscal_year": year.pk})
    assert dup.status_code == 400 and "已被使用" in str(dup.json())

    unit = login(world.edu_unit_filler)
    started = post(unit, "/api/v1/targets/", {"fund": fund_id})
    assert started.status_code == 201
    tid = started.json()["id"]
    bad = unit.put(f"/api/v1/targets/{tid}/", {"annual_goal": "x", "indicators": [dict(GOOD_ROWS[0], value="abc")]},
                   content_type="application/json")  # fmt: skip
    assert bad.status_code == 400 and bad.json()["indicators"][0]["message"] == "第 1 行“指标值”：“abc”不是数字。"
    saved = unit.put(f"/api/v1/targets/{tid}/", {"annual_goal": "安全", "indicators": GOOD_ROWS},
                     content_type="application/json")  # fmt: skip
    assert saved.status_code == 200 and len(saved.json()["indicators"]) == 6
    sent = post(unit, f"/api/v1/targets/{tid}/send/")
    assert sent.status_code == 200, sent.json()
    assert sent.json()["status"] == "dept_review"
    assert post(unit, f"/api/v1/targets/{tid}/submit/").status_code == 403
    assert post(login(world.edu_approver), f"/api/v1/targets/{tid}/submit/").json()["status"] == "sector_review"
    row = PerformanceTarget.objects.get(pk=tid).indicators.first()
    returned = post(login(world.sector_kjw), f"/api/v1/targets/{tid}/return/",
                    {"comment": "请细化", "indicator_comments": {str(row.pk): "口径不清"}})  # fmt: skip
    assert returned.json()["status"] == "returned"
    assert returned.json()["indicators"][0]["review_comment"] == "口径不清"
    assert post(login(world.edu_approver), f"/api/v1/targets/{tid}/submit/").status_code == 200
    assert post(login(world.sector_kjw), f"/api/v1/targets/{tid}/pass/").json()["status"] == "perf_review"
    assert post(login(world.perf_admin), f"/api/v1/targets/{tid}/approve/").json()["status"] == "approved"
    assert post(login(world.edu_approver), f"/api/v1/funds/{fund_id}/submit/").json()["request_status"] == "submitted"
    arranged = post(login(world.perf_admin), f"/api/v1/funds/{fund_id}/arrange/", {"comment": "同意"})
    assert arranged.json()["request_status"] == "arranged"
    adjusted = post(login(world.edu_unit_filler), f"/api/v1/targets/{tid}/adjust/", {"reason": "范围扩大"})
    assert adjusted.status_code == 201 and adjusted.json()["version"] == 2


def test_gate_refusal_is_a_400_with_the_reason(world, year, login):
    fund = make_fund(world, year)
    response = post(login(world.edu_approver), f"/api/v1/funds/{fund.pk}/submit/")
    assert response.status_code == 400 and "尚未报送绩效目标" in str(response.json())
    assert SpecialFund.objects.get(pk=fund.pk).request_status == "draft"


@pytest.mark.parametrize("persona", ["health_filler", "shinan_edu_filler", "shinan_finance"])
def test_other_departments_and_districts_get_404(world, year, login, persona):
    target = filed_target(world, make_fund(world, year))
    client = login(getattr(world, persona))
    assert client.get(f"/api/v1/funds/{target.fund_id}/").status_code == 404
    assert client.get(f"/api/v1/targets/{target.pk}/").status_code == 404
    assert post(client, f"/api/v1/targets/{target.pk}/approve/").status_code == 404
    assert client.get("/api/v1/targets/").json()["count"] == 0


def test_wrong_role_gets_403(world, year, login):
    client = login(world.sysadmin)
    assert client.get("/api/v1/funds/").status_code == 403
    assert client.get("/api/v1/targets/").status_code == 403


def test_list_endpoints_constant_queries(world, year, login):
    client = login(world.perf_admin)
    counter = iter(range(100))

    def grow():
        for _ in range(3):
            filed_target(world, make_fund(world, year, code=f"Q-{next(counter)}"))

    grow()
    for url, expected in (("/api/v1/funds/", 10), ("/api/v1/targets/", 9)):
        assert_constant_queries(lambda url=url: client.get(url), grow, expected)
