"""The public pages and JSON (no login): only ``Disclosure.objects.public()`` rows, withdrawn and 涉密
never shown (pages, JSON, report download, guessed URLs), search, filters, pagination, constant queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.funds.models import SpecialFund
from apps.results import services_disclosure as services
from apps.results.models import Disclosure
from tests.querycount import assert_constant_queries
from tests.test_disclosure import completed_key, confirmed, key_done, publish_target  # noqa: F401
from tests.test_key_evaluations import make_fund, years_fixture  # noqa: F401
from tests.test_selfeval_flow import approved2025, year2025  # noqa: F401

K = Disclosure.Kind
LIST = reverse("public:disclosure_list")
API = reverse("public:api_disclosure_list")


def disclose(world, code, *, dept=None, year=2026, grade="", score=None, kind=K.TARGET, ago=0):
    """A published disclosure written directly (like the scale data), one fund and target each."""
    fund = make_fund(world, year, code, dept=dept)
    target = fund.targets.get()
    dept = dept or world.edu
    return Disclosure.objects.create(
        kind=K.TARGET, target=target, fund=fund, department=dept, region=dept.region, fiscal_year_id=year,
        title=f"{year}年度{fund.name}绩效目标", amount=Decimal("1000000"), score=score, grade=grade,
        content={"kind": "target", "fund_name": fund.name, "indicators": []}, published_by=world.perf_admin,
        published_at=timezone.now() - timedelta(minutes=ago),
    )  # fmt: skip


def titles(response) -> list[str]:
    return [row["title"] for row in response.json()["results"]]


@pytest.fixture
def anon(client):
    client.logout()
    return client


def test_anonymous_visitor_reads_list_detail_and_json(world, years, anon):
    shown = disclose(world, "EDU-1")
    withdrawn = disclose(world, "EDU-2")
    services.disclosure_withdraw(actor=world.perf_admin, disclosure=withdrawn, reason="有误")
    classified = disclose(world, "EDU-3")
    SpecialFund.objects.filter(pk=classified.fund_id).update(is_classified=True)

    page = anon.get(LIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert shown.title in html and "项目EDU-2" not in html and "项目EDU-3" not in html
    assert "登录" not in html.split("<main")[0]  # its own layout, not the logged-in shell
    assert anon.get(reverse("public:disclosure_detail", args=[shown.pk])).status_code == 200
    for hidden in (withdrawn, classified):
        assert anon.get(reverse("public:disclosure_detail", args=[hidden.pk])).status_code == 404
        assert anon.get(reverse("public:api_disclosure_detail", args=[hidden.pk])).status_code == 404
    assert anon.get(reverse("public:disclosure_detail", args=[999999])).status_code == 404

    data = anon.get(API).json()
    assert data["count"] == 1 and titles(anon.get(API)) == [shown.title]
    row = data["results"][0]
    assert "published_by" not in row and "target" not in row and "content" not in row
    assert row["region"] == "市本级" or row["region"] == shown.region.name
    detail = anon.get(reverse("public:api_disclosure_detail", args=[shown.pk])).json()
    assert detail["content"]["fund_name"] == "项目EDU-1" and "published_by" not in detail


def test_json_needs_no_session_and_ignores_credentials(world, years, client):
    disclose(world, "EDU-1")
    client.force_login(world.shinan_edu_filler)  # another district: the public answer is the same for everyone
    assert client.get(API).json()["count"] == 1
    response = client.get(API, HTTP_AUTHORIZATION="Token not-a-real-token")
    assert response.status_code == 200 and response.json()["count"] == 1


def test_the_report_download_is_public_only_while_the_disclosure_is(world, key_done, anon):  # noqa: F811
    evaluation, report = key_done
    disclosure = services.disclosure_publish(
        actor=world.perf_admin, kind=K.KEY_EVALUATION, record=evaluation, report=report.pk
    )
    url = reverse("public:report_download", args=[disclosure.pk])
    response = anon.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert "attachment" in response["Content-Disposition"] and response["Cache-Control"] == "no-store"
    assert anon.get(API).json()["results"][0]["report_url"].endswith(url)
    # the internal attachment URL stays closed to the public
    assert anon.get(reverse("attachments:download", args=[report.pk])).status_code == 302
    services.disclosure_withdraw(actor=world.perf_admin, disclosure=disclosure, reason="报告需更正")
    assert anon.get(url).status_code == 404
    assert anon.get(reverse("public:disclosure_detail", args=[disclosure.pk])).status_code == 404
    again = services.disclosure_publish(
        actor=world.perf_admin, kind=K.KEY_EVALUATION, record=evaluation, report=report.pk
    )
    assert anon.get(reverse("public:report_download", args=[again.pk])).status_code == 200
    assert anon.get(url).status_code == 404  # the old address stays dead
    SpecialFund.objects.filter(pk=evaluation.fund_id).update(is_classified=True)
    assert anon.get(reverse("public:report_download", args=[again.pk])).status_code == 404
    assert anon.get(API).json()["count"] == 0


def test_a_disclosure_without_a_report_has_no_download(world, years, anon):
    disclosure = disclose(world, "EDU-1")
    assert anon.get(reverse("public:report_download", args=[disclosure.pk])).status_code == 404


def test_search_and_filters(world, years, anon):
    disclose(world, "EDU-1", grade="excellent", score=Decimal("95"))
    disclose(world, "EDU-2", year=2025, grade="poor", score=Decimal("50"))
    disclose(world, "HEALTH-1", dept=world.health)
    sn = disclose(world, "SN-1", dept=world.shinan_edu)
    cases = {
        "q=EDU-1": ["2026年度项目EDU-1绩效目标"],
        "q=卫生健康": ["2026年度项目HEALTH-1绩效目标"],
        "year=2025": ["2025年度项目EDU-2绩效目标"],
        "region=370202": [sn.title],
        f"region=370200&department={world.health.pk}": ["2026年度项目HEALTH-1绩效目标"],
        "grade=excellent": ["2026年度项目EDU-1绩效目标"],
        "kind=self_evaluation": [],
        f"department={world.health.pk}": None,  # ignored without a region: everything
        "year=abc&grade=bogus": None,  # bad values are ignored, never an error
    }
    for query, expected in cases.items():
        api = anon.get(f"{API}?{query}")
        page = anon.get(f"{LIST}?{query}")
        assert api.status_code == 200 and page.status_code == 200, query
        got = titles(api)
        if expected is None:
            assert len(got) == 4, query
        else:
            assert got == expected, query
        for title in got:
            assert title in page.content.decode(), query
    assert "没有符合条件的公开信息" in anon.get(f"{LIST}?q=不存在的项目").content.decode()


def test_pagination_20_per_page_newest_first(world, years, anon):
    for i in range(23):
        disclose(world, f"EDU-{i:02d}", ago=i)
    first = anon.get(API).json()
    assert first["count"] == 23 and len(first["results"]) == 20
    assert first["results"][0]["title"] == "2026年度项目EDU-00绩效目标"
    second = anon.get(f"{API}?page=2").json()
    assert [r["title"] for r in second["results"]][-1] == "2026年度项目EDU-22绩效目标"
    html = anon.get(f"{LIST}?page=2").content.decode()
    assert "第 2/2 页" in html and "项目EDU-22" in html and "项目EDU-00<" not in html
    assert anon.get(f"{LIST}?page=99").status_code == 200  # last page, not an error


def test_constant_queries(world, years, anon, django_assert_num_queries):
    disclose(world, "EDU-A")
    counter = iter(range(100))

    def grow():
        for _ in range(3):
            disclose(world, f"EDU-G{next(counter)}", dept=world.health)

    assert_constant_queries(lambda: anon.get(LIST), grow, 4)  # regions, years, count, page
    # + the region's departments (filter choices) + the ids of departments matching the search
    assert_constant_queries(lambda: anon.get(f"{LIST}?region=370200&q=项目"), grow, 6)
    assert_constant_queries(lambda: anon.get(API), grow, 4)
    one = disclose(world, "EDU-D")
    assert_constant_queries(lambda: anon.get(reverse("public:disclosure_detail", args=[one.pk])), grow, 1)
    assert_constant_queries(lambda: anon.get(reverse("public:api_disclosure_detail", args=[one.pk])), grow, 1)


def test_writes_are_not_allowed_on_the_public_json(world, years, anon):
    one = disclose(world, "EDU-1")
    assert anon.post(API, {}).status_code == 405
    assert anon.delete(reverse("public:api_disclosure_detail", args=[one.pk])).status_code == 405
    assert anon.post(LIST).status_code == 405
    assert Disclosure.objects.get().status == "published"


def test_json_gives_the_amount_in_yuan_and_in_wan_yuan(world, years, anon):
    """``amount`` stays in 元 as stored; ``amount_wan`` is the pages' 万元 with two decimals (rounded)."""
    shown = disclose(world, "EDU-1")
    Disclosure.objects.filter(pk=shown.pk).update(amount=Decimal("8812345.67"))
    none = disclose(world, "EDU-2", ago=5)
    Disclosure.objects.filter(pk=none.pk).update(amount=None)
    rows = {r["id"]: r for r in anon.get(API).json()["results"]}
    assert rows[shown.pk]["amount"] == "8812345.67" and rows[shown.pk]["amount_wan"] == "881.23"
    assert rows[none.pk]["amount"] is None and rows[none.pk]["amount_wan"] is None
    detail = anon.get(reverse("public:api_disclosure_detail", args=[shown.pk])).json()
    assert detail["amount_wan"] == "881.23"
    assert "881.23 万元" in anon.get(LIST).content.decode()  # the page shows the same figure


def test_self_evaluation_page_joins_reason_and_measure_once_and_scrolls_on_a_phone(world, confirmed, anon, login):  # noqa: F811
    """ "待验收后支付。；改进措施" never shows: a typed 。/；/; is dropped before the join (snapshot kept
    as typed); the 8-column line table sits in a sideways-scrolling box with a minimum width."""
    confirmed.execution_reason = "部分合同尾款待验收后支付。"
    confirmed.execution_measure = "验收后及时支付。"
    confirmed.save(update_fields=["execution_reason", "execution_measure"])
    line = confirmed.lines.exclude(shortfall_reason="").order_by("pk").first()
    line.shortfall_reason, line.improvement_measure = "部分学校名单延迟报送。", "提前核对名单；"
    line.save(update_fields=["shortfall_reason", "improvement_measure"])
    disclosure = services.disclosure_publish(actor=world.perf_admin, kind=K.SELF_EVALUATION, record=confirmed)
    assert disclosure.content["execution_reason"] == "部分合同尾款待验收后支付。"  # the snapshot as typed
    html = anon.get(reverse("public:disclosure_detail", args=[disclosure.pk])).content.decode()
    assert "部分合同尾款待验收后支付；" in html and "验收后及时支付。</div>" in html
    assert "<td>部分学校名单延迟报送；提前核对名单</td>" in html
    for doubled in ("。；", "；；", "；。", "。。"):
        assert doubled not in html, doubled
    assert 'class="qd-card mb-3 table-responsive pub-scroll" id="pub-lines-wrap"' in html
    assert "pub-table-8" in html and ".pub-table-8 { min-width: 52rem; }" in html
    client = login(world.perf_admin)
    internal = client.get(reverse("results:disclosure_detail", args=[disclosure.pk])).content.decode()
    assert "部分学校名单延迟报送；提前核对名单" in internal and "。；" not in internal
    own = client.get(reverse("evaluations:self_detail", args=[confirmed.pk])).content.decode()  # the 自评 page
    assert "执行偏差原因：部分合同尾款待验收后支付。</div>" in own and "改进措施：验收后及时支付。" in own
    assert "。；" not in own


def test_region_select_submits_the_form_and_the_page_works_without_it(world, years, anon):
    """The 区域 select submits on change (progressive enhancement, no external script); without
    JavaScript the form is a plain GET form with its 查询 button; no template comment leaks out."""
    disclose(world, "EDU-1")
    html = anon.get(LIST).content.decode()
    region = html.split('id="id_region"')[1].split(">")[0]
    assert "onchange=" in region and "requestSubmit" in region and "elements.department" in region
    assert 'id="id_department" class="form-select" disabled' in html  # until a region is chosen
    assert html.count("onchange=") == 1 and 'method="get"' in html and 'id="public-search"' in html
    assert "{#" not in html and "#}" not in html and '<script src="http' not in html
    chosen = anon.get(LIST, {"region": "370200"}).content.decode()
    assert f'<option value="{world.edu.pk}"' in chosen and 'id="id_department" class="form-select">' in chosen
