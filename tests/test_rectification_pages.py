"""整改 pages: list (filters, counts, 逾期 per department, Excel), detail (unit's form, finance's
verification), the raise pages, the panel on other detail pages; scoping (403/404, nothing
changed), bad input, constant query counts."""

import io
from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from apps.core.models import AuditEvent
from apps.results import services_rectification as services
from apps.results.models import Rectification
from tests import test_selfeval_flow as flow
from tests.querycount import assert_constant_queries
from tests.test_key_evaluations import years_fixture as years_fixture  # noqa: F401  (fixture "years")
from tests.test_rectification import completed_key_evaluation, confirm, evidence, later, raise_items, snapshot

# Shared fixtures (pytest finds them as module attributes).
year2025, approved2025, evaluation = flow.year2025, flow.approved2025, flow.evaluation
S = Rectification.Status


@pytest.fixture
def confirmed(world, evaluation):
    return confirm(world, evaluation)


@pytest.fixture
def items(world, confirmed):
    return raise_items(world, confirmed)


def detail(pk):
    return reverse("results:rectification_detail", args=[pk])


def step(pk, name):
    return reverse("results:rectification_step", args=[pk, name])


def test_list_and_detail_for_the_people_involved(world, items, login):
    overdue = items[0]
    Rectification.objects.filter(pk=overdue.pk).update(deadline=timezone.localdate() - timedelta(days=3))
    for persona in ("perf_admin", "sector_kjw", "edu_approver", "edu_unit_filler", "npc_liaison", "auditor"):
        client = login(getattr(world, persona))
        page = client.get(reverse("results:rectification_list"))
        assert page.status_code == 200, persona
        html = page.content.decode()
        assert html.count('class="table-danger overdue"') == 1, persona
        assert page.context["counts"] == {
            "total": 3,
            "pending": 3,
            "in_progress": 0,
            "verifying": 0,
            "done": 0,
            "overdue": 1,
        }
        assert [d["department_name"] for d in page.context["by_department"]] == ["青岛市教育局"]
        assert client.get(detail(overdue.pk)).status_code == 200
    npc = login(world.npc_liaison).get(detail(overdue.pk)).content.decode()
    assert "fill-form" not in npc and "verify-form" not in npc and "逾期" in npc
    assert_status_and_overdue(npc, "pending", "待整改")
    unit = login(world.edu_unit_filler).get(detail(overdue.pk)).content.decode()
    assert "fill-form" in unit and "attachment-upload" in unit


def assert_status_and_overdue(html: str, status: str, label: str) -> None:
    """The real status badge, then the red 逾期 badge right after it (逾期 never replaces the status)."""
    badge = f'<span class="badge text-bg-secondary status-badge" data-status="{status}">{label}</span>'
    if status != "pending":
        badge = badge.replace(
            "text-bg-secondary", {"in_progress": "text-bg-primary", "verifying": "text-bg-info"}[status]
        )
    assert badge + ' <span class="badge text-bg-danger overdue-badge">逾期</span>' in html, html


def test_overdue_rows_show_the_real_status_and_a_red_overdue_badge(world, items, login):
    """List, detail and the self-evaluation's panel: 待整改 / 整改中 / 待核实 each with 逾期 next to it."""
    Rectification.objects.filter(pk__in=[i.pk for i in items]).update(deadline=timezone.localdate() - timedelta(days=3))
    unit = world.edu_unit_filler
    first = services.rectification_save(actor=unit, item=items[1], measures="a", progress_note="b")
    second = services.rectification_save(actor=unit, item=items[2], measures="a", progress_note="b")
    evidence(unit, second)
    services.rectification_submit(actor=unit, item=second)
    client = login(world.perf_admin)
    html = client.get(reverse("results:rectification_list")).content.decode()
    for status, label in (("pending", "待整改"), ("in_progress", "整改中"), ("verifying", "待核实")):
        assert_status_and_overdue(html, status, label)
    assert html.count("overdue-badge") == 3
    assert ">逾期</span>" in html and 'data-status="pending">逾期' not in html
    assert_status_and_overdue(client.get(detail(first.pk)).content.decode(), "in_progress", "整改中")
    panel = client.get(reverse("evaluations:self_detail", args=[items[0].self_evaluation_id])).content.decode()
    assert panel.count("overdue-badge") == 3
    assert_status_and_overdue(panel, "pending", "待整改")
    assert client.get(reverse("results:rectification_list"), {"status": "overdue"}).context["page"].paginator.count == 3


@pytest.mark.parametrize(
    "query,count",
    [("status=overdue", 1), ("status=pending", 3), ("status=done", 0), ("source=audit", 0),
     ("source=self_evaluation", 3), ("q=资金发放", 1), ("year=2025", 3), ("year=2026", 0)],
)  # fmt: skip
def test_list_filters(world, year, items, login, query, count):
    Rectification.objects.filter(pk=items[0].pk).update(deadline=timezone.localdate() - timedelta(days=3))
    page = login(world.perf_admin).get(reverse("results:rectification_list") + "?" + query)
    assert page.context["page"].paginator.count == count


def test_department_filter(world, items, login):
    client = login(world.perf_admin)
    url = reverse("results:rectification_list")
    assert client.get(url, {"department": world.edu.pk}).context["page"].paginator.count == 3
    assert client.get(url, {"department": world.health.pk}).context["page"].paginator.count == 0


@pytest.mark.parametrize("persona", ["health_filler", "shinan_finance", "shinan_edu_filler"])
def test_outsiders_see_nothing_and_change_nothing(world, items, login, persona):
    item = items[0]
    client = login(getattr(world, persona))
    page = client.get(reverse("results:rectification_list"))
    assert page.status_code == 200 and page.context["counts"]["total"] == 0
    before = snapshot(item)
    assert client.get(detail(item.pk)).status_code == 404
    assert client.post(reverse("results:rectification_save", args=[item.pk]), {"measures": "x"}).status_code in (
        403,
        404,
    )
    for name in ("submit", "accept", "reopen"):
        assert client.post(step(item.pk, name), {"comment": "x"}).status_code in (403, 404)
    assert snapshot(item) == before
    export = client.get(reverse("results:rectification_export"))
    assert export.status_code == 200 and load_workbook(io.BytesIO(export.content)).active.max_row == 2


def test_wrong_roles_get_403_and_nothing_changes(world, items, login):
    item = items[0]
    before = snapshot(item)
    for persona in ("sysadmin", "expert_li", "security_admin"):
        client = login(getattr(world, persona))
        assert client.get(reverse("results:rectification_list")).status_code == 403
        assert client.get(detail(item.pk)).status_code == 403
    npc = login(world.npc_liaison)
    assert npc.get(detail(item.pk)).status_code == 200
    assert npc.post(reverse("results:rectification_save", args=[item.pk]), {"measures": "x"}).status_code == 403
    assert npc.post(step(item.pk, "accept")).status_code == 403
    assert npc.get(reverse("results:rectification_create")).status_code == 403
    unit = login(world.edu_unit_filler)
    assert unit.post(step(item.pk, "accept")).status_code == 403
    assert unit.post(step(item.pk, "reopen"), {"comment": "x"}).status_code == 403
    assert unit.get(reverse("results:rectification_create_self", args=[item.self_evaluation_id])).status_code == 403
    finance = login(world.perf_admin)
    assert finance.post(reverse("results:rectification_save", args=[item.pk]), {"measures": "x"}).status_code == 403
    assert finance.post(step(item.pk, "submit")).status_code == 403
    assert snapshot(item) == before


def test_unit_fills_submits_and_finance_reopens_then_accepts(world, items, login):
    item = items[1]
    unit = login(world.edu_unit_filler)
    bad = unit.post(reverse("results:rectification_save", args=[item.pk]), {"measures": "", "progress_note": ""})
    assert bad.status_code == 400 and "请填写整改措施或整改情况。" in bad.content.decode()
    assert snapshot(item)[0] == S.PENDING
    ok = unit.post(
        reverse("results:rectification_save", args=[item.pk]), {"measures": "按月调度", "progress_note": "已完成"}
    )
    assert ok.status_code == 302
    refused = unit.post(step(item.pk, "submit"), follow=True)
    assert "不能报送核实：请至少上传一份整改佐证材料。" in refused.content.decode()
    assert snapshot(item)[0] == S.IN_PROGRESS
    upload = unit.post(
        reverse("attachments:upload", args=[_content_type_id(), item.pk]),
        {"file": _pdf(), "next": detail(item.pk)},
    )
    assert upload.status_code in (200, 302)
    assert unit.post(step(item.pk, "submit")).status_code == 302
    assert snapshot(item)[0] == S.VERIFYING
    finance = login(world.perf_admin)  # the test client signs in as one person at a time
    page = finance.get(detail(item.pk)).content.decode()
    assert "verify-form" in page and "fill-form" not in page
    no_comment = finance.post(step(item.pk, "reopen"), {"comment": ""})
    assert no_comment.status_code == 400 and "执行“重新整改”必须填写意见。" in no_comment.content.decode()
    past = finance.post(step(item.pk, "reopen"), {"comment": "补充", "deadline": "2020-01-01"})
    assert past.status_code == 400 and "整改期限应晚于今天" in past.content.decode()
    assert snapshot(item)[0] == S.VERIFYING
    new_deadline = later(45)
    assert (
        finance.post(step(item.pk, "reopen"), {"comment": "补充台账", "deadline": new_deadline.isoformat()}).status_code
        == 302
    )
    item.refresh_from_db()
    assert (item.status, item.reopen_count, item.deadline) == (S.IN_PROGRESS, 1, new_deadline)
    unit = login(world.edu_unit_filler)
    assert "补充台账" in unit.get(detail(item.pk)).content.decode()
    assert unit.post(step(item.pk, "submit")).status_code == 302
    finance = login(world.perf_admin)
    assert finance.post(step(item.pk, "accept"), {"comment": "同意"}).status_code == 302
    item.refresh_from_db()
    assert item.status == S.DONE and item.verification_comment == "同意"
    history = finance.get(detail(item.pk)).context["history"]
    assert [(f, t) for _, f, t in history if f] == [
        ("待整改", "整改中"),
        ("整改中", "待核实"),
        ("待核实", "整改中"),
        ("整改中", "待核实"),
        ("待核实", "已完成"),
    ]


def _content_type_id():
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Rectification).pk


def _pdf():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.test_rectification import PDF

    return SimpleUploadedFile("整改佐证.pdf", PDF, content_type="application/pdf")


# --- raising ----------------------------------------------------------------------------------------


def test_raise_from_self_evaluation_page(world, confirmed, login):
    url = reverse("results:rectification_create_self", args=[confirmed.pk])
    finance = login(world.perf_admin)
    page = finance.get(url)
    assert page.status_code == 200 and len(page.context["shortfalls"]) == 3
    bad = finance.post(url, {"deadline": "2020-01-01"})
    assert bad.status_code == 400 and "整改期限应晚于今天" in bad.content.decode()
    assert not Rectification.objects.exists()
    assert finance.post(url, {"deadline": later().isoformat()}).status_code == 302
    assert Rectification.objects.count() == 3
    assert finance.post(url, {"deadline": later().isoformat()}).status_code == 302
    assert Rectification.objects.count() == 3
    assert login(world.shinan_finance).get(url).status_code == 404
    finance = login(world.perf_admin)
    assert login(world.shinan_finance).post(url, {"deadline": later().isoformat()}).status_code == 404
    assert login(world.sector_kjw).post(url, {"deadline": later().isoformat()}).status_code == 403
    assert Rectification.objects.count() == 3


def test_panel_on_self_evaluation_and_fund_pages(world, confirmed, login):
    finance = login(world.perf_admin)
    page = finance.get(reverse("evaluations:self_detail", args=[confirmed.pk])).content.decode()
    assert 'id="rectification-raise"' in page
    raise_items(world, confirmed)
    page = finance.get(reverse("evaluations:self_detail", args=[confirmed.pk])).content.decode()
    assert page.count("results/rectifications/") >= 3 and "rectification-panel" in page
    unit = login(world.edu_unit_filler).get(reverse("evaluations:self_detail", args=[confirmed.pk])).content.decode()
    assert "rectification-panel" in unit and 'id="rectification-raise"' not in unit
    fund = (
        login(world.npc_liaison)
        .get(reverse("funds:fund_detail", args=[confirmed.fund_id]) + "?tab=results")
        .content.decode()
    )
    assert "rectification-panel" in fund and 'id="rectification-raise"' not in fund


def test_raise_from_key_evaluation_page(world, years, login):
    evaluation = completed_key_evaluation(world)
    url = reverse("results:rectification_create_key", args=[evaluation.pk])
    finance = login(world.perf_admin)
    page = finance.get(url)
    assert page.status_code == 200 and "资金拨付滞后。" in page.context["form"].initial["problems"]
    empty = finance.post(url, {"problems": " \n ", "deadline": later().isoformat()})
    assert empty.status_code == 400 and "请至少填写一项存在问题。" in empty.content.decode()
    ok = finance.post(url, {"problems": "问题一\n问题二", "deadline": later().isoformat()})
    assert ok.status_code == 302 and Rectification.objects.count() == 2
    key_page = finance.get(reverse("evaluations:key_detail", args=[evaluation.pk])).content.decode()
    assert "问题一" in key_page and "rectification-raise" in key_page


def test_manual_audit_item(world, year, login):
    url = reverse("results:rectification_create")
    finance = login(world.perf_admin)
    assert finance.get(url).status_code == 200
    data = {"source": "audit", "source_reference": "", "organization": world.health.pk, "problem": "资金闲置",
            "deadline": later().isoformat()}  # fmt: skip
    bad = finance.post(url, data)
    assert bad.status_code == 400 and "审计发现的问题请填写审计报告文号。" in bad.content.decode()
    unknown = finance.post(url, {**data, "source_reference": "青审〔2026〕3号", "fund_code": "NOPE"})
    assert unknown.status_code == 400 and "找不到项目编码为“NOPE”的专项资金。" in unknown.content.decode()
    assert not Rectification.objects.exists()
    ok = finance.post(url, {**data, "source_reference": "青审〔2026〕3号"})
    assert ok.status_code == 302 and Rectification.objects.get().organization == world.health
    shinan = login(world.shinan_finance).post(url, {**data, "source_reference": "x"})
    assert shinan.status_code == 400  # 卫健委 is not in 市南区's list
    assert Rectification.objects.count() == 1


# --- Excel and query counts -------------------------------------------------------------------------


def test_export_follows_the_filters(world, items, login):
    Rectification.objects.filter(pk=items[0].pk).update(deadline=timezone.localdate() - timedelta(days=3))
    client = login(world.perf_admin)
    response = client.get(reverse("results:rectification_export"), {"status": "overdue"})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    ws = load_workbook(io.BytesIO(response.content)).active
    assert ws.max_row == 3 and ws.cell(2, 9).value == "存在问题" and ws.cell(3, 13).value == "逾期"
    assert ws.cell(2, 12).value == "状态" and ws.cell(3, 12).value == "待整改"  # the real status, 逾期 beside it
    assert ws.cell(2, 13).value == "是否逾期"
    assert ws.cell(3, 8).value == "青岛第二中学" and ws.cell(3, 7).value == "青岛市教育局"


def test_export_is_audited_with_scope_and_filters(world, items, login):
    exports = AuditEvent.objects.filter(kind=AuditEvent.Kind.EXPORT)
    client = login(world.edu_approver)
    client.get(reverse("results:rectification_export"))
    event = exports.get()
    assert event.actor == world.edu_approver and event.organization == world.edu
    assert event.comment == "导出整改事项清单（Excel；范围：青岛市教育局；筛选：全部）"
    client.get(reverse("results:rectification_export"), {"status": "overdue", "year": 2025, "q": "预算"})
    assert exports.latest("pk").comment == (
        "导出整改事项清单（Excel；范围：青岛市教育局；筛选：年度：2025年度，状态：逾期，项目：预算）"
    )
    # A role without rectification.view gets 403 and nothing is recorded.
    assert login(world.sysadmin).get(reverse("results:rectification_export")).status_code == 403
    assert exports.count() == 2


def test_list_export_and_panel_run_a_constant_number_of_queries(world, confirmed, login):
    raise_items(world, confirmed)
    client = login(world.perf_admin)
    n = [0]

    def grow():
        for _ in range(3):
            n[0] += 1
            services.rectification_create(
                actor=world.perf_admin, source="audit", source_reference=f"青审〔2026〕{n[0]}号",
                organization=world.edu_unit, fund=confirmed.fund, problem=f"问题{n[0]}", deadline=later(),
            )  # fmt: skip

    list_url = reverse("results:rectification_list")
    assert_constant_queries(lambda: client.get(list_url), grow, 12)
    assert_constant_queries(lambda: client.get(reverse("results:rectification_export")), grow, 9)
    template = Template("{% load rectification_tags %}{% rectification_panel record %}")
    request = RequestFactory().get("/")
    request.user = world.perf_admin
    render = lambda: template.render(Context({"record": confirmed, "request": request, "user": world.perf_admin}))  # noqa: E731
    assert_constant_queries(render, grow, 1)
    render_fund = lambda: template.render(Context({"record": confirmed.fund, "user": world.perf_admin}))  # noqa: E731
    assert_constant_queries(render_fund, grow, 1)
