"""双监控 through the API: the same services, scoping and messages as the pages."""

from decimal import Decimal

import pytest

from apps.monitoring.models import IndicatorProgress, KeyMonitoring, MonitoringReport
from tests.querycount import assert_constant_queries
from tests.test_monitoring import open_round
from tests.test_targets_flow import approve_all_the_way, filed_target, make_fund

REPORTS = "/api/v1/monitoring-reports/"


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def put(client, url, data, method="put"):
    return getattr(client, method)(url, data, content_type="application/json")


def progress_body(report, **first):
    """Every indicator on track, ``first`` overriding the first row (keyed by progress row id)."""
    rows = {}
    for i, row in enumerate(report.progress.select_related("indicator").order_by("indicator__sort_order")):
        quantitative = row.indicator.comparison != "qualitative"
        rows[str(row.pk)] = {
            "likelihood": "certain",
            "progress_value": "1" if quantitative else "",
            "expected_value": f"{row.indicator.target_value.normalize():f}" if quantitative else "",
            "progress_text": "" if quantitative else "按计划推进",
        }
        if i == 0:
            rows[str(row.pk)].update(first)
    return rows


def test_monitoring_through_the_api(world, year, approved, login):
    finance = login(world.perf_admin)
    body = {"fiscal_year": year.pk, "data_as_of": "2026-07-31", "due_on": "2026-08-15", "tolerance_points": "15"}
    opened = post(finance, "/api/v1/monitoring-rounds/", body)
    assert opened.status_code == 201, opened.json()
    assert opened.json()["created"] == 1
    round_ = opened.json()["round"]
    assert round_["name"] == "2026年绩效运行监控（数据截至7月31日）" and round_["report_count"] == 1
    assert post(finance, "/api/v1/monitoring-rounds/", body).json()["created"] == 0  # idempotent
    assert post(login(world.edu_filler), "/api/v1/monitoring-rounds/", body).status_code == 403
    report = MonitoringReport.objects.get()
    first = approved.indicators.order_by("sort_order").first()

    unit = login(world.edu_unit_filler)
    listed = unit.get(REPORTS, {"round": round_["id"]}).json()
    assert listed["count"] == 1 and listed["results"][0]["execution_rate"] is None
    detail = unit.get(f"{REPORTS}{report.pk}/").json()
    assert [row["indicator_name"] for row in detail["progress"]][0] == first.name
    assert detail["progress"][0]["comparison"] == first.comparison

    # An at-risk indicator without a cause or a measure: refused, naming it; nothing saved.
    at_risk = {"expected_value": "1000", "likelihood": "possible"}  # target ≥1200
    bad = put(
        unit, f"{REPORTS}{report.pk}/", {"executed_amount": "1200000", "progress": progress_body(report, **at_risk)}
    )
    assert bad.status_code == 400
    assert bad.json()["non_field_errors"] == [
        f"指标“{first.name}”：预计难以完成目标，请选择偏差原因。",
        f"指标“{first.name}”：预计难以完成目标，请填写纠偏措施。",
    ]
    report.refresh_from_db()
    assert report.executed_amount is None and not IndicatorProgress.objects.exclude(likelihood="").exists()

    fixed = progress_body(report, **at_risk, deviation_cause="funding", corrective_measure="申请追加资金")
    saved = put(unit, f"{REPORTS}{report.pk}/", {"executed_amount": "1200000", "progress": fixed})
    assert saved.status_code == 200, saved.json()
    data = saved.json()
    assert data["executed_amount"] == "1200000.00" and data["execution_rate"] == "40.00"
    assert data["progress"][0]["deviation_cause"] == "funding" and data["progress"][0]["at_risk"] is True
    assert "indicator_at_risk" in {w["kind"] for w in data["warnings"]}

    # PATCH keeps what is left out: the amount and, within a row, the keys not sent.
    only_measure = {str(first_row_id(report)): {"corrective_measure": "调整实施计划"}}
    patched = put(unit, f"{REPORTS}{report.pk}/", {"execution_note": "进度正常", "progress": only_measure}, "patch")
    assert patched.status_code == 200, patched.json()
    row = patched.json()["progress"][0]
    assert patched.json()["executed_amount"] == "1200000.00" and patched.json()["execution_note"] == "进度正常"
    assert (row["corrective_measure"], row["deviation_cause"], row["likelihood"]) == (
        "调整实施计划",
        "funding",
        "possible",
    )

    assert post(unit, f"{REPORTS}{report.pk}/send/").json()["status"] == "dept_review"
    assert post(unit, f"{REPORTS}{report.pk}/submit/").status_code == 403
    assert put(unit, f"{REPORTS}{report.pk}/", {"executed_amount": "1", "progress": {}}).status_code == 400
    approver = login(world.edu_approver)
    assert post(approver, f"{REPORTS}{report.pk}/submit/").json()["status"] == "submitted"
    finance = login(world.perf_admin)
    refused = post(finance, f"{REPORTS}{report.pk}/return/")
    assert refused.status_code == 400 and "必须填写意见" in refused.json()["comment"][0]
    assert post(finance, f"{REPORTS}{report.pk}/receive/").json()["status"] == "received"
    again = post(finance, f"{REPORTS}{report.pk}/receive/")
    assert again.status_code == 400 and "不能执行“财政接收”" in again.json()["non_field_errors"][0]

    warnings = finance.get("/api/v1/monitoring-warnings/").json()
    assert warnings["count"] == 1
    item = warnings["results"][0]
    assert (item["report"], item["fund_code"], item["rate"]) == (report.pk, report.fund.code, "40.00")
    assert item["department_name"] == "青岛市教育局"
    assert any(w["kind"] == "indicator_at_risk" and first.name in w["message"] for w in item["warnings"])
    assert item["warnings"][0]["kind"] == "behind_schedule" and item["severity"] == 3  # 40% < 58.08% − 15
    assert finance.get("/api/v1/monitoring-warnings/", {"kind": "overdue"}).json()["count"] == 0  # submitted
    assert finance.get("/api/v1/monitoring-warnings/", {"fiscal_year": 2025}).json()["count"] == 0
    assert login(world.edu_filler).get("/api/v1/monitoring-warnings/").json()["count"] == 1

    # 重点监控: select, a measure needs a reason, 暂缓拨款 flags the fund.
    finance = login(world.perf_admin)
    selected = post(finance, "/api/v1/key-monitoring/", {"funds": [report.fund_id], "fiscal_year": year.pk})
    assert selected.status_code == 201 and selected.json()["created"] == 1
    key_id = selected.json()["results"][0]["id"]
    assert (
        post(finance, "/api/v1/key-monitoring/", {"funds": [report.fund_id], "fiscal_year": year.pk}).json()["created"]
        == 0
    )
    no_reason = post(finance, f"/api/v1/key-monitoring/{key_id}/measure/", {"measure": "suspend"})
    assert no_reason.status_code == 400 and no_reason.json()["measure_reason"] == ["请填写处理措施的理由。"]
    measured = post(finance, f"/api/v1/key-monitoring/{key_id}/measure/", {"measure": "suspend", "reason": "严重滞后"})
    assert measured.status_code == 200 and measured.json()["measure_display"] == "暂缓拨款"
    assert finance.get("/api/v1/key-monitoring/").json()["results"][0]["measure"] == "suspend"
    assert finance.get(f"{REPORTS}{report.pk}/").json()["payment_flag"] == "暂缓拨款"
    assert finance.get("/api/v1/monitoring-warnings/").json()["results"][0]["payment_flag"] == "暂缓拨款"


def first_row_id(report) -> int:
    return report.progress.order_by("indicator__sort_order").values_list("pk", flat=True).first()


@pytest.mark.parametrize("persona", ["health_filler", "shinan_edu_filler", "shinan_finance"])
def test_other_departments_and_districts_get_404(world, year, approved, login, persona):
    round_, _ = open_round(world, year)
    report = MonitoringReport.objects.get()
    client = login(getattr(world, persona))
    assert client.get(f"{REPORTS}{report.pk}/").status_code == 404
    assert put(client, f"{REPORTS}{report.pk}/", {"executed_amount": "1", "progress": {}}).status_code == 404
    assert put(client, f"{REPORTS}{report.pk}/", {"execution_note": "x"}, "patch").status_code == 404
    for step in ("send", "submit", "dept_return", "receive", "return"):
        assert post(client, f"{REPORTS}{report.pk}/{step}/", {"comment": "x"}).status_code == 404
    assert client.get(REPORTS).json()["count"] == 0
    assert client.get("/api/v1/monitoring-warnings/").json()["count"] == 0
    if persona == "shinan_finance":
        assert client.get(f"/api/v1/monitoring-rounds/{round_.pk}/").status_code == 404
        key = KeyMonitoring.objects.create(fund=report.fund, fiscal_year=year, selected_by=world.perf_admin)
        measure = post(client, f"/api/v1/key-monitoring/{key.pk}/measure/", {"measure": "stop", "reason": "x"})
        assert measure.status_code == 404
        chosen = post(client, "/api/v1/key-monitoring/", {"funds": [report.fund_id], "fiscal_year": year.pk})
        assert chosen.status_code == 400 and "不在您的监管范围内" in chosen.json()["funds"][0]
        key.refresh_from_db()
        assert key.measure == "" and KeyMonitoring.objects.count() == 1
    report.refresh_from_db()
    assert report.status == "draft" and report.executed_amount is None and report.execution_note == ""


def test_wrong_role_gets_403(world, year, login):
    client = login(world.sysadmin)
    for url in ("/api/v1/monitoring-rounds/", REPORTS, "/api/v1/monitoring-warnings/", "/api/v1/key-monitoring/"):
        assert client.get(url).status_code == 403, url
    assert login(world.edu_filler).get("/api/v1/key-monitoring/").status_code == 403
    assert (
        post(login(world.edu_filler), "/api/v1/key-monitoring/", {"funds": [1], "fiscal_year": 2026}).status_code == 403
    )


def test_list_endpoints_constant_queries(world, year, login):
    counter = iter(range(100))

    def grow():
        for _ in range(3):
            approve_all_the_way(world, filed_target(world, make_fund(world, year, code=f"MQ-{next(counter)}")))
        open_round(world, year)
        MonitoringReport.objects.update(executed_amount=Decimal("1000"))  # behind schedule: a warning each

    grow()
    client = login(world.perf_admin)
    assert client.get(REPORTS).json()["count"] == 3
    assert len(client.get("/api/v1/monitoring-warnings/").json()["results"]) == 3
    for url, expected in ((REPORTS, 11), ("/api/v1/monitoring-warnings/", 13)):
        assert_constant_queries(lambda url=url: client.get(url), grow, expected)
    assert client.get("/api/v1/monitoring-warnings/").json()["count"] == 9
