"""专项领域: what the query string may hold (review F6) and the one year selector (walkthrough #13).

``"²".isdigit()`` is true but ``int("²")`` raises; a 20-digit number overflows PostgreSQL's integer.
Pages ignore such a ``?year=``/``?region=`` (they fall back to the header's year / all regions);
the API answers 400 naming the parameter. The pages have no year selector of their own: they show
the 预算年度 chosen in the header; a ``?year=`` in the address moves the header (when valid) and is
dropped by a redirect."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.test_special_areas import SUMMARY, areas, ppp_url  # noqa: F401 — the hand-built funds

BAD = ["²", "abc", "99999999999999999999", "-1", "2026.0"]


@pytest.mark.parametrize("raw", BAD)
def test_pages_fall_back_on_a_bad_year(world, areas, login, raw):  # noqa: F811
    client = login(world.perf_admin)
    for url in (SUMMARY, ppp_url()):
        response = client.get(url, {"year": raw}, follow=True)
        assert response.status_code == 200, url
        assert "2026年度" in response.content.decode()
    assert client.session.get("fiscal_year") in (None, 2026)


@pytest.mark.parametrize("raw", BAD)
def test_pages_ignore_a_bad_region(world, areas, login, raw):  # noqa: F811
    client = login(world.perf_admin)
    response = client.get(ppp_url(), {"region": raw}, follow=True)
    page = response.content.decode()
    assert response.status_code == 200
    # all regions: both the city's and 市南区's funds
    assert 'data-fund="EDU-U"' in page and 'data-fund="SN"' in page


@pytest.mark.parametrize("raw", BAD)
def test_exports_fall_back_on_bad_parameters(world, areas, login, raw):  # noqa: F811
    client = login(world.perf_admin)
    assert client.get(reverse("supervision:area_summary_export"), {"year": raw}).status_code == 200
    response = client.get(reverse("supervision:area_export", args=["ppp"]), {"year": raw, "region": raw})
    assert response.status_code == 200


@pytest.mark.parametrize("raw", BAD)
def test_api_answers_400_naming_the_parameter(world, areas, login, raw):  # noqa: F811
    client = login(world.perf_admin)
    response = client.get("/api/v1/special-areas/", {"fiscal_year": raw})
    assert response.status_code == 400
    assert "预算年度" in response.json()["fiscal_year"][0]
    response = client.get("/api/v1/special-areas/ppp/funds/", {"fiscal_year": raw})
    assert response.status_code == 400 and "fiscal_year" in response.json()
    response = client.get("/api/v1/special-areas/ppp/funds/", {"fiscal_year": 2026, "region": raw})
    assert response.status_code == 400
    assert "区域" in response.json()["region"][0]


def test_the_pages_have_no_year_selector_of_their_own(world, areas, login):  # noqa: F811
    client = login(world.perf_admin)
    client.post(reverse("core:fiscal_year_switch"), {"year": 2025})
    for url in (SUMMARY, ppp_url()):
        page = client.get(url).content.decode()
        # the header's select is the only one, and the page shows its year; its links carry no year
        assert page.count('<select id="year-select"') == 1 and 'id="area-year-select"' not in page
        assert 'name="year"' not in page.split('id="year-switcher"')[1].split("</form>", 1)[1]
        assert '<option value="2025" selected>' in page and "2025年度" in page and "2026年度" not in page
    # a valid ?year= moves the header too, so header and page never disagree
    response = client.get(ppp_url(year=2026, region=world.shinan.pk))
    assert response.status_code == 302 and response["Location"] == ppp_url(region=world.shinan.pk)
    page = client.get(response["Location"]).content.decode()
    assert client.session["fiscal_year"] == 2026 and 'data-fund="SN"' in page
    assert '<option value="2026" selected>' in page and "2026年度" in page
    # the export follows the same year
    response = client.get(reverse("supervision:area_summary_export"))
    assert response.status_code == 200 and "2026" in response["Content-Disposition"]


def test_a_department_cannot_open_another_region_through_region(world, areas, login):  # noqa: F811
    client = login(world.edu_approver)
    before = client.get(ppp_url()).content.decode()
    page = client.get(ppp_url(), {"region": world.shinan.pk}).content.decode()
    assert 'data-fund="SN"' not in page and 'data-fund="EDU-U"' in page and "市南区" not in page
    assert 'data-fund="EDU-U"' in before
    response = client.get("/api/v1/special-areas/ppp/funds/", {"fiscal_year": 2026, "region": world.shinan.pk})
    assert response.status_code == 400
