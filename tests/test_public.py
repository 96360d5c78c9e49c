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
from tests.test_disclosure import completed_key, key_done, publish_target  # noqa: F401
from tests.test_key_evaluations import make_fund, years_fixture  # noqa: F401

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
