"""Internal pages and API of 信息公开: who sees what (403 wrong role, 404 out of scope, nothing changed),
publish / batch / withdraw through pages and API, the panel on the record pages, constant queries."""

import pytest
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.results import services_disclosure as services
from apps.results.models import Disclosure
from tests.querycount import assert_constant_queries
from tests.test_disclosure import completed_key, key_done, publish_target, state  # noqa: F401
from tests.test_key_evaluations import make_fund, years_fixture  # noqa: F401

K = Disclosure.Kind
LIST = reverse("results:disclosure_list")
PENDING = reverse("results:disclosure_pending")
API = "/api/v1/disclosures/"


def publish_url(kind, pk):
    return reverse("results:disclosure_publish", args=[kind, pk])


# --- reading -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona, status, sees",
    [
        ("perf_admin", 200, True), ("sector_kjw", 200, True), ("edu_approver", 200, True),
        ("edu_unit_filler", 200, False), ("npc_liaison", 200, True), ("auditor", 200, True),
        ("health_filler", 200, False), ("shinan_finance", 200, False), ("shinan_edu_filler", 200, False),
        ("expert_li", 403, False), ("sysadmin", 403, False), ("audit_admin", 403, False),
    ],
)  # fmt: skip
def test_list_and_detail_are_scoped(world, approved, login, persona, status, sees):
    disclosure = publish_target(world, approved)
    client = login(getattr(world, persona))
    response = client.get(LIST)
    assert response.status_code == status
    if status == 200:
        assert (disclosure.title in response.content.decode()) is sees
    detail = client.get(reverse("results:disclosure_detail", args=[disclosure.pk]))
    assert detail.status_code == (status if sees or status == 403 else 404)
    api = client.get(API)
    assert api.status_code == status
    if status == 200:
        assert [r["id"] for r in api.json()["results"]] == ([disclosure.pk] if sees else [])
    api_detail = client.get(f"{API}{disclosure.pk}/")
    assert api_detail.status_code == (status if sees or status == 403 else 404)


def test_anonymous_is_sent_to_login(world, approved, client):
    publish_target(world, approved)
    assert client.get(LIST).status_code == 302
    assert client.get(API).status_code in (401, 403)


def test_detail_shows_the_snapshot_and_the_withdraw_form_for_finance_only(world, approved, login):
    disclosure = publish_target(world, approved)
    html = login(world.perf_admin).get(reverse("results:disclosure_detail", args=[disclosure.pk])).content.decode()
    assert "应助尽助" in html and 'id="withdraw-form"' in html and 'id="pub-indicators"' in html
    html = login(world.edu_approver).get(reverse("results:disclosure_detail", args=[disclosure.pk])).content.decode()
    assert "应助尽助" in html and 'id="withdraw-form"' not in html


def test_list_filters_and_constant_queries(world, years, login):
    client = login(world.perf_admin)
    counter = iter(range(100))

    def grow():
        for _ in range(3):
            fund = make_fund(world, 2026, f"EDU-L{next(counter)}")
            publish_target(world, fund.targets.get())

    grow()
    assert_constant_queries(lambda: client.get(LIST), grow, 10)
    first = Disclosure.objects.order_by("pk").first()
    services.disclosure_withdraw(actor=world.perf_admin, disclosure=first, reason="测试")
    html = client.get(f"{LIST}?status=withdrawn").content.decode()
    assert first.title in html and html.count("badge text-bg-success") == 0
    assert client.get(f"{LIST}?status=published&q=EDU-L1").content.decode().count("results/disclosures/") >= 1
    assert_constant_queries(lambda: client.get(f"{API}?status=published"), grow, 8)


# --- pending and publishing -------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["edu_approver", "npc_liaison", "auditor", "sector_kjw", "expert_li"])
def test_pending_and_publish_need_the_publish_role(world, approved, login, persona):
    client = login(getattr(world, persona))
    before = state()
    assert client.get(PENDING).status_code == 403
    assert client.post(publish_url(K.TARGET, approved.pk)).status_code == 403
    assert client.post(reverse("results:disclosure_batch"), {"kind": "target", "fiscal_year": 2026}).status_code == 403
    assert client.post(f"{API}publish/", {"kind": "target", "record": approved.pk}).status_code == 403
    assert state() == before


def test_another_districts_finance_gets_404_and_nothing_changes(world, approved, login):
    client = login(world.shinan_finance)
    before = state()
    assert approved.fund.code not in client.get(PENDING).content.decode()
    assert client.post(publish_url(K.TARGET, approved.pk)).status_code == 404
    assert client.post(publish_url("nonsense", approved.pk)).status_code == 404
    assert client.post(f"{API}publish/", {"kind": "target", "record": approved.pk}).status_code == 404
    assert state() == before
    disclosure = publish_target(world, approved)
    before = state()
    url = reverse("results:disclosure_withdraw", args=[disclosure.pk])
    assert client.post(url, {"withdraw_reason": "理由"}).status_code == 404
    assert client.post(f"{API}{disclosure.pk}/withdraw/", {"withdraw_reason": "理由"}).status_code == 404
    assert state() == before


def test_finance_publishes_from_the_pending_page(world, approved, login):
    client = login(world.perf_admin)
    html = client.get(PENDING).content.decode()
    assert approved.fund.code in html and 'id="batch-form"' in html
    response = client.post(publish_url(K.TARGET, approved.pk))
    disclosure = Disclosure.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "results:disclosure_detail", args=[disclosure.pk]
    )
    assert approved.fund.code not in client.get(PENDING).content.decode()
    # twice: a Chinese message, nothing changed
    before = state()
    response = client.post(publish_url(K.TARGET, approved.pk), follow=True)
    assert "未能公开：该记录已经公开" in response.content.decode() and state() == before


def test_batch_publish_page(world, years, login):
    from apps.funds.models import SpecialFund

    funds = [make_fund(world, 2026, f"EDU-P{i}") for i in range(3)]
    SpecialFund.objects.filter(pk=funds[0].pk).update(is_classified=True)
    client = login(world.perf_admin)
    html = client.get(f"{PENDING}?kind=target&year=2026").content.decode()
    assert "另有 1 项属于涉密项目" in html and funds[0].code not in html
    response = client.post(reverse("results:disclosure_batch"), {"kind": "target", "fiscal_year": 2026}, follow=True)
    assert "已公开 2 项。另有 1 项为涉密项目，已跳过。" in response.content.decode()
    assert Disclosure.objects.count() == 2
    before = state()
    response = client.post(
        reverse("results:disclosure_batch"), {"kind": "key_evaluation", "fiscal_year": 2026}, follow=True
    )
    assert "公开类型" in response.content.decode() and state() == before


def test_key_evaluation_publish_needs_a_report_via_page_and_api(world, key_done, login):  # noqa: F811
    evaluation, report = key_done
    client = login(world.perf_admin)
    before = state()
    response = client.post(publish_url(K.KEY_EVALUATION, evaluation.pk), follow=True)
    assert "请选择要公开的评价报告文件" in response.content.decode() and state() == before
    api = client.post(
        f"{API}publish/", {"kind": "key_evaluation", "record": evaluation.pk}, content_type="application/json"
    )
    assert api.status_code == 400 and api.json() == {"report": ["请选择要公开的评价报告文件（重点评价的附件）。"]}
    assert state() == before
    api = client.post(
        f"{API}publish/",
        {"kind": "key_evaluation", "record": evaluation.pk, "report": report.pk},
        content_type="application/json",
    )
    assert api.status_code == 201 and api.json()["content"]["report_name"] == "评价报告.pdf"


def test_withdraw_via_page_and_api(world, approved, login, years):
    disclosure = publish_target(world, approved)
    url = reverse("results:disclosure_withdraw", args=[disclosure.pk])
    login(world.auditor)
    before = state()
    assert login(world.auditor).post(url, {"withdraw_reason": "x"}).status_code == 403
    client = login(world.perf_admin)
    response = client.post(url, {"withdraw_reason": "  "})
    assert response.status_code == 400 and "请填写撤回理由。" in response.content.decode()
    api = client.post(f"{API}{disclosure.pk}/withdraw/", {"withdraw_reason": ""}, content_type="application/json")
    assert api.status_code == 400 and api.json() == {"withdraw_reason": ["请填写撤回理由。"]}
    assert state() == before
    response = client.post(url, {"withdraw_reason": "数据有误"})
    assert response.status_code == 302
    disclosure.refresh_from_db()
    assert disclosure.status == "withdrawn" and disclosure.withdraw_reason == "数据有误"
    api = client.post(f"{API}{disclosure.pk}/withdraw/", {"withdraw_reason": "再撤"}, content_type="application/json")
    assert api.status_code == 400 and "不能执行“撤回公开”" in str(api.json())
    api = client.post(f"{API}publish/", {"kind": "target", "record": approved.pk}, content_type="application/json")
    assert api.status_code == 201 and api.json()["status"] == "published"
    assert AuditEvent.objects.filter(kind="transition", comment="数据有误").count() == 1


# --- the panel on the record pages ------------------------------------------------------------


def test_panel_on_target_and_fund_pages(world, approved, login):
    target_url = reverse("targets:target_detail", args=[approved.pk])
    fund_url = reverse("funds:fund_detail", args=[approved.fund_id]) + "?tab=results"
    html = login(world.perf_admin).get(target_url).content.decode()
    assert 'id="disclosure-panel"' in html and 'id="disclosure-publish"' in html and "该绩效目标尚未公开" in html
    html = login(world.edu_approver).get(target_url).content.decode()
    assert 'id="disclosure-panel"' in html and 'id="disclosure-publish"' not in html
    publish_target(world, approved)
    html = login(world.perf_admin).get(target_url).content.decode()
    assert "已公开" in html and 'id="disclosure-publish"' not in html and "已经公开" in html
    html = login(world.edu_approver).get(fund_url).content.decode()
    assert "2026年度家庭经济困难学生资助绩效目标" in html
    html = login(world.expert_li).get(target_url)
    assert html.status_code in (403, 404)


def test_panel_on_key_evaluation_offers_the_report_files(world, key_done, login):  # noqa: F811
    evaluation, report = key_done
    html = login(world.perf_admin).get(reverse("evaluations:key_detail", args=[evaluation.pk])).content.decode()
    assert 'id="disclosure-report"' in html and report.original_name in html


def test_panel_and_detail_name_the_person_with_spacing(world, approved, login):
    """ "王绩效 公开", not "perf_admin公开"; the username only when no name is registered; same in the API."""
    world.perf_admin.real_name = "王绩效"
    world.perf_admin.save(update_fields=["real_name"])
    disclosure = publish_target(world, approved)
    services.disclosure_withdraw(actor=world.perf_admin, disclosure=disclosure, reason="数据有误")
    client = login(world.perf_admin)
    html = client.get(reverse("targets:target_detail", args=[approved.pk])).content.decode()
    assert "，王绩效 公开；" in html and "，王绩效 撤回，理由：数据有误" in html
    assert (
        "perf_admin公开" not in html and "perf_admin" not in html.split('id="disclosure-panel"')[1].split("</div>")[0]
    )
    detail = client.get(reverse("results:disclosure_detail", args=[disclosure.pk])).content.decode()
    assert "，王绩效" in detail
    api = client.get(f"{API}{disclosure.pk}/").json()
    assert api["published_by_name"] == "王绩效" and api["withdrawn_by_name"] == "王绩效"
    world.perf_admin.real_name = ""
    world.perf_admin.save(update_fields=["real_name"])
    html = login(world.perf_admin).get(reverse("targets:target_detail", args=[approved.pk])).content.decode()
    assert "，perf_admin 公开；" in html
