"""预算挂钩 pages: rules (read / edit / reset), the 安排 list with inline arrange, the report and its
Excel, the fund page panel; other units/districts/roles get 403/404 and nothing changes."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from apps.funds.models import SpecialFund
from apps.results.models import BudgetDecision, LinkageRule
from tests.querycount import assert_constant_queries
from tests.test_linkage import build_report_world, chain, fund, snapshot

D = Decimal
RULES_URL = reverse("results:linkage_rules")
ARRANGE_URL = reverse("results:linkage_arrange")
REPORT_URL = reverse("results:linkage_report")
EXCEL_URL = reverse("results:linkage_report_excel")

RULE_POST = {
    "year": "2027",
    "excellent_suggestion": "priority", "excellent_adjust_percent": "0", "excellent_note": "",
    "good_suggestion": "normal", "good_adjust_percent": "0", "good_note": "",
    "fair_suggestion": "cut", "fair_adjust_percent": "-20", "fair_note": "从严压减",
    "poor_suggestion": "cancel", "poor_adjust_percent": "0", "poor_note": "",
}  # fmt: skip


def test_rules_page_shows_defaults_and_finance_edits_and_resets(world, year, login):
    chain(world, "55")  # makes 2027 exist
    client = login(world.perf_admin)
    page = client.get(RULES_URL, {"year": 2027})
    assert page.status_code == 200 and "尚未设置 2027 年度规则" in page.content.decode()
    assert 'id="linkage-rules-form"' in page.content.decode() and "建议金额怎么算" in page.content.decode()
    response = client.post(RULES_URL, RULE_POST)
    assert response.status_code == 302
    assert LinkageRule.objects.get(region=world.city, fiscal_year=2027, grade="fair").adjust_percent == D("-20")
    assert "恢复默认" in client.get(RULES_URL, {"year": 2027}).content.decode()
    client.post(RULES_URL, {"year": "2027", "reset": "1"})
    assert not LinkageRule.objects.exists()


def test_bad_rule_input_shows_a_chinese_error_and_changes_nothing(world, year, login):
    chain(world, "55")
    before = snapshot()
    response = login(world.perf_admin).post(RULES_URL, {**RULE_POST, "fair_adjust_percent": "15"})
    assert response.status_code == 400 and "“中”选择“压减”时，调整比例应为负数" in response.content.decode()
    response = login(world.perf_admin).post(RULES_URL, {**RULE_POST, "good_adjust_percent": "x"})
    assert response.status_code == 400 and "“良”的调整比例必须是数字" in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("persona", ["edu_filler", "npc_liaison", "auditor", "sector_kjw"])
def test_readers_see_the_rules_but_cannot_change_them(world, year, login, persona):
    chain(world, "55")
    client = login(getattr(world, persona))
    page = client.get(RULES_URL, {"year": 2027})
    assert page.status_code == 200 and 'id="linkage-rules-table"' in page.content.decode()
    assert 'id="linkage-rules-form"' not in page.content.decode()
    before = snapshot()
    assert client.post(RULES_URL, RULE_POST).status_code == 403
    assert client.post(RULES_URL, {"year": "2027", "reset": "1"}).status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("persona", ["expert_li", "sysadmin", "security_admin"])
def test_roles_without_linkage_get_403(world, year, login, persona):
    client = login(getattr(world, persona))
    for url in (RULES_URL, REPORT_URL, EXCEL_URL, ARRANGE_URL):
        assert client.get(url).status_code == 403


def test_arrange_list_and_inline_arrange_with_htmx(world, year, login):
    _, _, f27 = chain(world, "70", base="1000000", requested="1200000")
    fund(world, 2027, "SN-2027-09", org=world.shinan_edu_unit)  # another district: not listed
    client = login(world.perf_admin)
    page = client.get(ARRANGE_URL, {"year": 2027}).content.decode()
    assert f'id="arrange-row-{f27.pk}"' in page and "SN-2027-09" not in page
    assert "压减 10%" in page and "90.00" in page  # suggested amount in 万元
    url = reverse("results:linkage_arrange_fund", args=[f27.pk])
    before = snapshot()
    # htmx swaps no 4xx answer: a refusal comes back as 200 with the row carrying the error.
    bad = client.post(url, {f"f{f27.pk}-amount_wan": "100", f"f{f27.pk}-reason": ""}, HTTP_HX_REQUEST="true")
    assert refused_row(bad, f27) and "请填写“偏离建议的理由”" in bad.content.decode()
    assert 'value="100"' in bad.content.decode()  # what finance typed stays in the row
    bad = client.post(url, {f"f{f27.pk}-amount_wan": "-1"}, HTTP_HX_REQUEST="true")
    assert refused_row(bad, f27) and "不能为负数" in bad.content.decode()
    assert snapshot() == before
    ok = client.post(url, {f"f{f27.pk}-amount_wan": "100", f"f{f27.pk}-reason": "学位扩容"}, HTTP_HX_REQUEST="true")
    assert ok.status_code == 200 and "已安排" in ok.content.decode() and "偏离建议" in ok.content.decode()
    assert "HX-Trigger" not in ok and "arrange-error" not in ok.content.decode()
    decision = BudgetDecision.objects.get(fund=f27)
    assert decision.decided_amount == D("1000000") and decision.reason == "学位扩容"


def refused_row(response, f) -> bool:
    """A refused 安排 as htmx needs it: 200, the one row with its error, the refusal signalled."""
    html = response.content.decode()
    return (
        response.status_code == 200
        and html.strip().startswith(f'<tr id="arrange-row-{f.pk}"')
        and 'class="w-100 text-danger small arrange-error"' in html
        and response["HX-Trigger"] == "arrange-refused"
    )


def test_refused_without_htmx_reloads_the_list_with_the_message(world, year, login):
    _, _, f27 = chain(world, "70", base="1000000", requested="1200000")
    client = login(world.perf_admin)
    before = snapshot()
    url = reverse("results:linkage_arrange_fund", args=[f27.pk])
    response = client.post(url, {f"f{f27.pk}-amount_wan": "100", f"f{f27.pk}-reason": ""}, follow=True)
    html = response.content.decode()
    assert response.redirect_chain == [(f"{ARRANGE_URL}?year=2027", 302)]
    assert "安排未成功：安排金额 100.00 万元与挂钩建议金额 90.00 万元" in html and "请填写“偏离建议的理由”" in html
    assert snapshot() == before


def gated(world, code, **changes):
    """A submitted 2027 request the budget gate stops or lets through, by ``changes``."""
    f = fund(world, 2027, code)
    SpecialFund.objects.filter(pk=f.pk).update(**changes)
    f.refresh_from_db()
    return f


def test_the_list_shows_the_gate_blockers_and_a_blocked_row_shows_the_refusal(world, year, login):
    _, _, free = chain(world, "70")
    policy = gated(world, "P-2027-01", is_new_major_policy=True)
    general = gated(world, "T-2027-01", budget_type="general")
    client = login(world.perf_admin)
    page = client.get(ARRANGE_URL, {"year": 2027}).content.decode()
    assert f'id="arrange-blockers-{policy.pk}"' in page
    assert "该项目属于新增重大政策，事前绩效评估尚未完成" in page
    assert f'id="arrange-blockers-{general.pk}"' in page and "绩效目标尚未批复（无目标不安排预算）" in page
    assert f'id="arrange-blockers-{free.pk}"' not in page
    assert page.count('disabled title="预算关口未通过，暂不能安排"') == 2
    before = snapshot()
    url = reverse("results:linkage_arrange_fund", args=[policy.pk])
    response = client.post(url, {f"f{policy.pk}-amount_wan": "100"}, HTTP_HX_REQUEST="true")
    assert refused_row(response, policy)
    assert "该项目属于新增重大政策，事前绩效评估尚未完成。" in response.content.decode()
    assert f'id="arrange-blockers-{policy.pk}"' in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize(("persona", "status"), [("shinan_finance", 404), ("edu_approver", 403), ("npc_liaison", 403)])
def test_others_cannot_arrange_inline_and_nothing_changes(world, year, login, persona, status):
    _, _, f27 = chain(world, "70")
    before = snapshot()
    url = reverse("results:linkage_arrange_fund", args=[f27.pk])
    response = login(getattr(world, persona)).post(url, {f"f{f27.pk}-amount_wan": "90"}, HTTP_HX_REQUEST="true")
    assert response.status_code == status
    assert snapshot() == before


def test_arrange_list_runs_constant_queries(world, year, login):
    chain(world, "70", prefix="A")
    gated(world, "P-2027-01", is_new_major_policy=True)
    gated(world, "T-2027-01", budget_type="general")
    client = login(world.perf_admin)
    n = iter(range(100))

    def grow():
        for score in ("95", "50", "82"):
            chain(world, score, prefix=f"G{next(n)}")
        i = next(n)
        gated(world, f"P{i}-2027-01", is_new_major_policy=True)
        gated(world, f"T{i}-2027-01", budget_type="general", fiscal_amount=D("6000000"))

    # linkage: 6; the gate: settings, approved targets, assessments
    assert_constant_queries(lambda: client.get(ARRANGE_URL, {"year": 2027}), grow, 17)


def test_fund_page_shows_the_panel_and_arranges_with_reason(world, year, login):
    _, _, f27 = chain(world, "70", base="1000000", requested="1200000")
    unit = login(world.edu_unit_filler).get(reverse("funds:fund_detail", args=[f27.pk])).content.decode()
    assert 'id="linkage-panel"' in unit and "压减 10%" in unit and 'id="arrange-form"' not in unit
    client = login(world.perf_admin)
    page = client.get(reverse("funds:fund_detail", args=[f27.pk])).content.decode()
    assert 'id="arrange-form"' in page, page
    assert 'name="amount_wan" value="90.00"' in page.replace(' class="form-control"', "") or 'value="90.00"' in page
    assert "偏离建议的理由" in page
    tab = client.get(reverse("funds:fund_detail", args=[f27.pk]), {"tab": "results"}).content.decode()
    assert 'id="linkage-history"' in tab and "财政重点评价" in tab
    url = reverse("funds:fund_transition", args=[f27.pk, "arrange"])
    before = snapshot()
    response = client.post(url, {"amount_wan": "120", "comment": ""}, follow=True)
    assert "请填写“偏离建议的理由”" in response.content.decode()
    assert snapshot() == before
    client.post(url, {"amount_wan": "120", "reason": "省级配套要求足额保障"})
    assert BudgetDecision.objects.get(fund=f27).reason == "省级配套要求足额保障"
    assert SpecialFund.objects.get(pk=f27.pk).arranged_amount == D("1200000")


def test_report_page_totals_and_scope(world, year, login):
    build_report_world(world)
    page = login(world.perf_admin).get(REPORT_URL, {"year": 2027}).content.decode()
    assert "青岛市教育局 小计（3 项，偏离 1 项）" in page and "新增学位需求" in page
    assert "合计（4 项，偏离建议 1 项）" in page and "400.00" in page and "335.00" in page
    assert "S-2027-01" not in page
    dept = login(world.health_filler).get(REPORT_URL, {"year": 2027}).content.decode()
    assert "H-2027-01" in dept and "A-2027-01" not in dept
    district = login(world.shinan_finance).get(REPORT_URL, {"year": 2027}).content.decode()
    assert "S-2027-01" in district and "A-2027-01" not in district


def test_report_excel_content_and_scope(world, year, login):
    build_report_world(world)
    response = login(world.perf_admin).get(EXCEL_URL, {"year": 2027})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    ws = load_workbook(BytesIO(b"".join(response.streaming_content)))["预算挂钩情况"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0][0] == "2027年度预算安排与绩效评价结果挂钩情况表"
    assert rows[2][:4] == ["序号", "主管部门", "项目编码", "项目名称"]
    codes = [r[2] for r in rows[3:] if r[2]]
    assert codes == ["A-2027-01", "B-2027-01", "C-2027-01", "H-2027-01"]
    total = rows[-1]
    assert (
        total[1].startswith("合计（4 项")
        and total[6:9] == [D("400.00"), D("350.00"), D("335.00")]
        or [float(x) for x in total[6:9]] == [400.0, 350.0, 335.0]
    )
    b_row = next(r for r in rows if r[2] == "B-2027-01")
    assert b_row[9] == "是" and b_row[10] == "新增学位需求"
    own = login(world.shinan_edu_filler).get(EXCEL_URL, {"year": 2027})
    ws = load_workbook(BytesIO(b"".join(own.streaming_content)))["预算挂钩情况"]
    assert [r[2].value for r in ws.iter_rows(min_row=4) if r[2].value] == ["S-2027-01"]


def test_report_and_excel_run_constant_queries(world, year, login):
    build_report_world(world)
    client = login(world.perf_admin)
    n = iter(range(100))

    def grow():
        for score in ("95", "50", "82"):
            f27 = chain(world, score, prefix=f"G{next(n)}")[2]
            from apps.funds import services as fund_services

            fund_services.fund_arrange(actor=world.perf_admin, fund=f27)

    assert_constant_queries(lambda: client.get(REPORT_URL, {"year": 2027}), grow, 15)
    assert_constant_queries(lambda: b"".join(client.get(EXCEL_URL, {"year": 2027}).streaming_content), grow, 15)
