"""单位自评 pages: rounds, list, detail with the breakdown, the fill-in form with its live score,
the workflow buttons, finance's adjustment; scoping (404/403, nothing changes); query counts."""

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.evaluations import services
from apps.evaluations.models import SelfEvaluation, SelfEvaluationAdjustment, SelfEvaluationRound
from tests import test_selfeval_flow as flow
from tests.querycount import assert_constant_queries, count_queries
from tests.test_selfeval_flow import TIMELY, lines_by_name, open_round, send_ready
from tests.test_targets_flow import approve_all_the_way, filed_target, make_fund

# Shared fixtures (pytest finds them as module attributes).
year2025, approved2025, evaluation = flow.year2025, flow.approved2025, flow.evaluation

HTMX = {"HTTP_HX_REQUEST": "true"}


def in_2025(client):
    client.post(reverse("core:fiscal_year_switch"), {"year": 2025})
    return client


def form_for(evaluation, executed_wan="300", **by_name):
    """A complete POST of the fill-in form: every indicator at its target; ``by_name`` overrides."""
    data = {
        "executed_wan": executed_wan,
        "summary": "年度任务全部完成",
        "execution_reason": "",
        "execution_measure": "",
    }
    for name, line in lines_by_name(evaluation).items():
        prefix = f"line-{line.pk}-"
        if line.indicator.comparison == "qualitative":
            values = {"actual_text": "已建立", "band": "achieved", "band_percent": "100"}
        else:
            values = {"actual_value": f"{line.indicator.target_value.normalize():f}"}
        values |= {"shortfall_reason": "", "improvement_measure": ""}
        values |= by_name.get(name, {})
        data.update({prefix + k: v for k, v in values.items()})
    return data


def test_self_evaluation_pages_end_to_end(world, year, year2025, approved2025, login):
    finance = in_2025(login(world.perf_admin))
    opened = finance.post(reverse("evaluations:self_round_list"), {"due_on": "2026-03-31"})
    assert opened.status_code == 302, opened.content.decode()
    round_ = SelfEvaluationRound.objects.get()
    assert opened.url == reverse("evaluations:self_round_detail", args=[round_.pk])
    evaluation = SelfEvaluation.objects.get()

    unit = in_2025(login(world.edu_unit_filler))
    listed = unit.get(reverse("evaluations:self_list")).content.decode()
    assert evaluation.fund.name in listed and "待填报" in listed
    edit_url = reverse("evaluations:self_edit", args=[evaluation.pk])
    page = unit.get(edit_url).content.decode()
    assert 'hx-trigger="input changed delay:300ms"' in page and 'id="live-score"' in page
    assert "调整后预算 300.00 万元" in page

    # Live score: the typed values are scored, nothing is saved.
    preview_url = reverse("evaluations:self_preview", args=[evaluation.pk])
    partial = unit.post(
        preview_url, form_for(evaluation, executed_wan="270", **{TIMELY: {"actual_value": "90"}}), **HTMX
    )
    body = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in body
    assert '<span class="fs-3 fw-bold" id="live-score">98.21</span>' in body  # 9 + 90/95×15 + 75
    assert "90 ÷ 95 × 15 = 14.2105" in body and "“资金发放及时率”未完成目标" in body
    assert SelfEvaluation.objects.get().score is None

    # Save and send: the reasons are missing, so it is saved but not sent.
    data = form_for(evaluation, executed_wan="270", **{TIMELY: {"actual_value": "90"}}) | {"then": "send"}
    sent = unit.post(edit_url, data)
    assert sent.status_code == 302 and sent.url == edit_url
    evaluation.refresh_from_db()
    assert evaluation.status == "draft" and evaluation.score == Decimal("98.21")
    assert evaluation.executed_amount == Decimal("2700000.00")
    warning = unit.get(edit_url).content.decode()
    assert "已保存，但还不能提交部门审核" in warning and "预算未全部执行：请填写执行偏差原因和改进措施。" in warning

    reasons = {TIMELY: {"actual_value": "90", "shortfall_reason": "名单延迟", "improvement_measure": "提前核对"}}
    data = form_for(evaluation, executed_wan="270", **reasons) | {
        "execution_reason": "尾款未付", "execution_measure": "验收后支付", "then": "send",
    }  # fmt: skip
    assert unit.post(edit_url, data).status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.status == "dept_review"
    detail_url = reverse("evaluations:self_detail", args=[evaluation.pk])
    assert unit.get(edit_url).status_code == 403  # no longer editable

    approver = login(world.edu_approver)
    detail = approver.get(detail_url).content.decode()
    assert 'id="self-submit"' in detail and 'id="self-dept_return"' in detail and 'id="self-edit"' not in detail
    assert "90 ÷ 95 × 15 = 14.2105" in detail and "名单延迟" in detail
    approver.post(reverse("evaluations:self_transition", args=[evaluation.pk, "submit"]))
    evaluation.refresh_from_db()
    assert evaluation.status == "submitted"

    finance = login(world.perf_admin)
    detail = finance.get(detail_url).content.decode()
    assert 'id="self-confirm"' in detail and 'id="adjust-form"' in detail
    refused = finance.post(reverse("evaluations:self_adjust", args=[evaluation.pk]), {"new_score": "80", "reason": ""})
    assert refused.status_code == 400 and "调整得分必须写明理由。" in refused.content.decode()
    adjusted = finance.post(
        reverse("evaluations:self_adjust", args=[evaluation.pk]), {"new_score": "88.5", "reason": "佐证不足，核减"}
    )
    assert adjusted.status_code == 302
    detail = finance.get(detail_url).content.decode()
    assert '<span id="original-score">98.21</span>' in detail and "98.21 → 88.50" in detail
    assert "佐证不足，核减" in detail and "财政调整后得分" in detail
    finance.post(reverse("evaluations:self_transition", args=[evaluation.pk, "confirm"]))
    evaluation.refresh_from_db()
    assert evaluation.status == "confirmed" and evaluation.final_score == Decimal("88.50")
    round_page = in_2025(finance).get(reverse("evaluations:self_round_detail", args=[round_.pk])).content.decode()
    assert 'data-status="confirmed"' in round_page and "含财政调整 1 个" in round_page


def test_edit_form_shows_errors_inline_and_changes_nothing(world, evaluation, login):
    unit = login(world.edu_unit_filler)
    line = lines_by_name(evaluation)[TIMELY]
    bad = unit.post(
        reverse("evaluations:self_edit", args=[evaluation.pk]),
        form_for(evaluation, executed_wan="三百", **{TIMELY: {"actual_value": "九十"}}),
    )
    page = bad.content.decode()
    assert bad.status_code == 400 and "保存未成功，数据没有改动" in page
    assert f'name="line-{line.pk}-actual_value" id="line-{line.pk}-actual_value" value="九十"' in page
    assert '<div class="invalid-feedback">第 3 项指标“资金发放及时率”的实际完成值必须是数字。</div>' in page
    assert '<div class="invalid-feedback">实际执行数必须是数字。</div>' in page
    evaluation.refresh_from_db()
    assert evaluation.score is None and evaluation.summary == ""


def test_preview_uses_a_handful_of_queries(world, evaluation, login):
    """Its speed is measured in bench/bench_evaluations.py, not asserted here (timings flake under load)."""
    unit = login(world.edu_unit_filler)
    url = reverse("evaluations:self_preview", args=[evaluation.pk])
    data = form_for(evaluation)
    unit.post(url, data, **HTMX)  # warm caches
    queries, _ = count_queries(lambda: unit.post(url, data, **HTMX))
    assert queries <= 9  # session, user, roles; evaluation, lines, rules; the session's idle-time update
    assert unit.post(url, data, **HTMX).status_code == 200


def test_round_pages(world, year, year2025, approved2025, login):
    finance = login(world.perf_admin)
    refused = finance.post(reverse("evaluations:self_round_list"), {"due_on": "2027-03-31"})  # 2026 selected
    assert refused.status_code == 400 and "2026年度尚未结束，不能开启单位自评。" in refused.content.decode()
    assert "2025年度的自评请切换到2025年度查看" in finance.get(reverse("evaluations:self_round_list")).content.decode()
    in_2025(finance)
    assert 'value="2026-03-31"' in finance.get(reverse("evaluations:self_round_list")).content.decode()  # default
    finance.post(reverse("evaluations:self_round_list"), {"due_on": "2026-03-31"})
    round_ = SelfEvaluationRound.objects.get()
    assert login(world.edu_approver).post(reverse("evaluations:self_round_close", args=[round_.pk])).status_code == 403
    assert (
        login(world.shinan_finance).post(reverse("evaluations:self_round_close", args=[round_.pk])).status_code == 404
    )
    finance = login(world.perf_admin)
    finance.post(reverse("evaluations:self_round_close", args=[round_.pk]))
    round_.refresh_from_db()
    assert round_.status == "closed"
    evaluation = SelfEvaluation.objects.get()
    assert login(world.edu_unit_filler).get(reverse("evaluations:self_edit", args=[evaluation.pk])).status_code == 403


# --- scoping: other unit, other district, wrong role → 404/403, nothing changes ------------------


@pytest.mark.parametrize("persona", ["health_filler", "shinan_edu_filler", "shinan_finance"])
def test_pages_are_scoped(world, evaluation, login, persona):
    send_ready(world, evaluation)
    client = login(getattr(world, persona))
    pk = evaluation.pk
    assert client.get(reverse("evaluations:self_detail", args=[pk])).status_code == 404
    assert client.get(reverse("evaluations:self_edit", args=[pk])).status_code in (403, 404)
    assert client.post(reverse("evaluations:self_edit", args=[pk]), form_for(evaluation)).status_code in (403, 404)
    assert client.post(reverse("evaluations:self_preview", args=[pk]), form_for(evaluation)).status_code in (403, 404)
    for step in services.TRANSITIONS:
        url = reverse("evaluations:self_transition", args=[pk, step])
        assert client.post(url, {"comment": "x"}).status_code == 404
    adjust = client.post(reverse("evaluations:self_adjust", args=[pk]), {"new_score": "1", "reason": "x"})
    assert adjust.status_code in (403, 404)
    round_detail = client.get(reverse("evaluations:self_round_detail", args=[evaluation.round_id]))
    assert round_detail.status_code == (404 if persona.startswith("shinan") else 200)
    if persona == "health_filler":
        assert evaluation.fund.name not in round_detail.content.decode()
    listed = in_2025(client).get(reverse("evaluations:self_list")).content.decode()
    assert evaluation.fund.name not in listed
    evaluation.refresh_from_db()
    assert evaluation.status == "draft" and evaluation.summary == "" and evaluation.adjusted_score is None


def test_wrong_roles_get_403_and_nothing_changes(world, evaluation, login):
    send_ready(world, evaluation)
    pk = evaluation.pk
    sysadmin = login(world.sysadmin)
    for name in ("self_list", "self_round_list"):
        assert sysadmin.get(reverse(f"evaluations:{name}")).status_code == 403
    assert sysadmin.get(reverse("evaluations:self_detail", args=[pk])).status_code == 403
    npc = login(world.npc_liaison)
    assert npc.get(reverse("evaluations:self_detail", args=[pk])).status_code == 200  # reads its region
    assert npc.get(reverse("evaluations:self_edit", args=[pk])).status_code == 403
    assert npc.post(reverse("evaluations:self_preview", args=[pk]), form_for(evaluation)).status_code == 403
    assert npc.post(reverse("evaluations:self_transition", args=[pk, "send"])).status_code == 403
    unit = login(world.edu_unit_filler)
    assert (
        unit.post(reverse("evaluations:self_adjust", args=[pk]), {"new_score": "1", "reason": "x"}).status_code == 403
    )
    assert unit.post(reverse("evaluations:self_round_list"), {"due_on": "2026-03-31"}).status_code == 403
    assert unit.post(reverse("evaluations:self_transition", args=[pk, "submit"])).status_code == 403
    sector = login(world.sector_kjw)  # may review, may not adjust
    assert (
        sector.post(reverse("evaluations:self_adjust", args=[pk]), {"new_score": "1", "reason": "x"}).status_code == 403
    )
    evaluation.refresh_from_db()
    assert evaluation.status == "draft" and not SelfEvaluationAdjustment.objects.exists()
    assert SelfEvaluationRound.objects.count() == 1


# --- constant queries on the list pages -----------------------------------------------------------


def test_list_pages_run_a_constant_number_of_queries(world, year2025, login):
    counter = iter(range(100))

    def grow():
        for _ in range(3):
            approve_all_the_way(world, filed_target(world, make_fund(world, year2025, code=f"SQ-{next(counter)}")))
        open_round(world, year2025)
        SelfEvaluation.objects.update(score=Decimal("85"), grade="good")

    grow()
    round_ = SelfEvaluationRound.objects.get()
    client = in_2025(login(world.perf_admin))
    pages = [
        (reverse("evaluations:self_list"), 10),
        (reverse("evaluations:self_list") + "?grade=good&status=draft&q=SQ", 10),
        (reverse("evaluations:self_round_list"), 9),
        (reverse("evaluations:self_round_detail", args=[round_.pk]), 12),
    ]
    for url, expected in pages:
        assert client.get(url).status_code == 200
        assert_constant_queries(lambda url=url: client.get(url), grow, expected)
    assert "SQ-8" in client.get(reverse("evaluations:self_list")).content.decode()


def test_detail_shows_the_last_monitoring_figures_for_reference(world, evaluation, year2025, login):
    from datetime import date

    from apps.monitoring import services as monitoring
    from apps.monitoring.models import MonitoringReport

    monitoring.round_open(
        actor=world.perf_admin, organization=world.city_finance, fiscal_year=year2025,
        data_as_of=date(2025, 7, 31), due_on=date(2025, 8, 15),
    )  # fmt: skip
    report = MonitoringReport.objects.get()
    rows = {}
    for row in report.progress.select_related("indicator"):
        quantitative = row.indicator.comparison != "qualitative"
        expected = "1100" if row.indicator.name == "资助学生人数" else row.indicator.target_value
        rows[row.pk] = {
            "likelihood": "possible" if row.indicator.name == "资助学生人数" else "certain",
            "expected_value": str(expected) if quantitative else "",
            "progress_text": "" if quantitative else "推进中",
            "deviation_cause": "funding" if row.indicator.name == "资助学生人数" else "",
            "corrective_measure": "追加资金" if row.indicator.name == "资助学生人数" else "",
        }
    monitoring.report_save(actor=world.edu_unit_filler, report=report, executed_amount="1650000", progress=rows)
    page = login(world.edu_unit_filler).get(reverse("evaluations:self_detail", args=[evaluation.pk])).content.decode()
    assert "165.00 万元" in page and "数据截至2025年7月31日" in page
    assert "1100人" in page and "有可能" in page
    edit = login(world.edu_unit_filler).get(reverse("evaluations:self_edit", args=[evaluation.pk])).content.decode()
    assert "2025年7月31日监控时已执行 165.00 万元" in edit and '<span class="monitoring-expected">1100人</span>' in edit
