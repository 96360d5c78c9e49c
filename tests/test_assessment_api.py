"""Annual assessment (考核) API: the same visibility and services as the pages — finance creates,
computes, adjusts, publishes and withdraws; a department reads the published ranking and only its
own breakdown; 403 for roles that may not write, 404 for invisible rows, Chinese 400s by field."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.core.models import BackgroundJob
from apps.supervision import services_assessment_review as review
from apps.supervision.models import (
    AnnualAssessment,
    AssessedBody,
    AssessmentAdjustment,
    AssessmentItem,
    AssessmentKind,
    Metric,
)
from tests.test_assessment_review import body, computed_sheet, line_of, score_manual

D = Decimal
S = AnnualAssessment.Status
BASE = "/api/v1/annual-assessments/"
BODIES = "/api/v1/assessment-bodies/"


@pytest.fixture
def api():
    def _as(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return _as


@pytest.fixture
def sheet(world, year):
    return computed_sheet(world, year)


def adjust_url(line):
    return f"/api/v1/assessment-lines/{line.pk}/adjust/"


def test_finance_creates_and_reads_with_items_and_ranking(world, year, api):
    client = api(world.perf_admin)
    response = client.post(BASE, {"fiscal_year": 2026, "kind": "departments"}, format="json")
    assert response.status_code == 201, response.data
    assert len(response.data["items"]) == 8 and response.data["status"] == "draft"
    again = client.post(BASE, {"fiscal_year": 2026, "kind": "departments"}, format="json")
    assert again.status_code == 400 and "已经建立" in str(again.data["fiscal_year"])
    bad = client.post(BASE, {"fiscal_year": 2026, "kind": "nobody"}, format="json")
    assert bad.status_code == 400 and "kind" in bad.data
    assert AnnualAssessment.objects.count() == 1


@pytest.mark.parametrize("persona", ["edu_approver", "finance_leader", "auditor"])
def test_create_is_403_for_other_roles(world, year, api, persona):
    response = api(getattr(world, persona)).post(BASE, {"fiscal_year": 2026, "kind": "departments"}, format="json")
    assert response.status_code == 403 and not AnnualAssessment.objects.exists()


def test_compute_returns_the_job(world, year, api, django_capture_on_commit_callbacks):
    from apps.supervision import services_assessment as engine

    sheet = engine.assessment_create(actor=world.perf_admin, fiscal_year=year, kind=AssessmentKind.DEPARTMENTS)
    assert api(world.edu_approver).post(f"{BASE}{sheet.pk}/compute/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = api(world.perf_admin).post(f"{BASE}{sheet.pk}/compute/")
    assert response.status_code == 202
    job = BackgroundJob.objects.get(pk=response.data["job"])
    assert response.data["job_url"] == f"/jobs/{job.pk}/"
    sheet.refresh_from_db()
    assert sheet.status == S.REVIEW


def test_adjust_publish_withdraw(world, sheet, api):
    client = api(world.perf_admin)
    line = line_of(sheet, world.edu, Metric.TARGET_ON_TIME)
    refused = client.post(adjust_url(line), {"points": "12", "reason": ""}, format="json")
    assert refused.status_code == 400 and refused.data["reason"] == ["请填写调整理由。"]
    refused = client.post(adjust_url(line), {"points": "99", "reason": "超分"}, format="json")
    assert refused.status_code == 400 and "得分应在 0 至 15.00 分之间" in refused.data["points"][0]
    assert not AssessmentAdjustment.objects.exists()
    done = client.post(adjust_url(line), {"points": "12", "reason": "延迟报送"}, format="json")
    assert done.status_code == 200 and done.data["points"] == "12.00" and done.data["adjusted"]
    assert done.data["adjustments"][0]["reason"] == "延迟报送"
    early = client.post(f"{BASE}{sheet.pk}/publish/", {"notice": "通报"}, format="json")
    assert early.status_code == 400 and "尚未评分" in early.data["status"][0]
    score_manual(world, sheet)
    published = client.post(f"{BASE}{sheet.pk}/publish/", {"notice": "现通报如下"}, format="json")
    assert published.status_code == 200 and published.data["status"] == "published"
    assert [row["rank"] for row in published.data["ranking"]] == [1, 1, 3]
    assert client.post(f"{BASE}{sheet.pk}/withdraw/", {"reason": ""}, format="json").status_code == 400
    withdrawn = client.post(f"{BASE}{sheet.pk}/withdraw/", {"reason": "更正"}, format="json")
    assert withdrawn.status_code == 200 and withdrawn.data["status"] == "review"


@pytest.mark.parametrize("persona", ["edu_approver", "health_filler", "finance_leader", "npc_liaison"])
def test_roles_that_may_not_write_get_403_and_nothing_changes(world, sheet, api, persona):
    client = api(getattr(world, persona))
    line = line_of(sheet, world.edu, Metric.TARGET_ON_TIME)
    assert client.post(adjust_url(line), {"points": "1", "reason": "x"}, format="json").status_code == 403
    assert client.post(f"{BASE}{sheet.pk}/publish/", {"notice": "x"}, format="json").status_code == 403
    line.refresh_from_db()
    sheet.refresh_from_db()
    assert not line.adjusted and sheet.status == S.REVIEW


def test_district_finance_gets_404_on_the_city_sheet(world, sheet, api):
    client = api(world.shinan_finance)
    line = line_of(sheet, world.edu, Metric.TARGET_ON_TIME)
    assert client.get(f"{BASE}{sheet.pk}/").status_code == 404
    assert _ids(client.get(BASE).data) == []
    assert client.post(adjust_url(line), {"points": "1", "reason": "x"}, format="json").status_code == 404
    assert client.post(f"{BASE}{sheet.pk}/publish/", {"notice": "x"}, format="json").status_code == 404
    assert client.get(f"{BODIES}{body(sheet, world.edu).pk}/").status_code == 404
    line.refresh_from_db()
    assert not line.adjusted


def _ids(data):
    rows = data["results"] if isinstance(data, dict) else data
    return [row["id"] for row in rows]


def test_department_reads_only_published_and_only_its_own_breakdown(world, sheet, api):
    client = api(world.edu_approver)
    assert client.get(f"{BASE}{sheet.pk}/").status_code == 404
    assert _ids(client.get(BODIES).data) == []
    score_manual(world, sheet)
    review.assessment_publish(actor=world.perf_admin, assessment=sheet, notice="通报")
    assert client.get(f"{BASE}{sheet.pk}/").status_code == 200
    own, health = body(sheet, world.edu), body(sheet, world.health)
    assert _ids(client.get(BODIES).data) == [own.pk]
    detail = client.get(f"{BODIES}{own.pk}/").data
    assert len(detail["lines"]) == 8 and "summary" in detail["lines"][0]["basis"]
    assert client.get(f"{BODIES}{health.pk}/").status_code == 404
    assert set(_ids(api(world.perf_admin).get(f"{BODIES}?assessment={sheet.pk}").data)) == set(
        AssessedBody.objects.filter(assessment=sheet).values_list("pk", flat=True)
    )


def test_unauthenticated_and_roleless_are_refused(world, sheet, api):
    assert APIClient().get(BASE).status_code in (401, 403)
    assert api(world.expert_li).get(BASE).status_code == 403
    assert api(world.expert_li).get(BODIES).status_code == 403


def test_constant_queries_on_the_api_lists(world, sheet, api):
    from tests.querycount import assert_constant_queries
    from tests.test_assessment_pages import _grow

    client = api(world.perf_admin)

    def both():
        assert client.get(f"{BODIES}?assessment={sheet.pk}").status_code == 200
        assert client.get(f"{BASE}{sheet.pk}/").status_code == 200
        assert client.get(BASE).status_code == 200

    assert_constant_queries(both, _grow(world, sheet), expected=10)


def test_schema_validates_and_this_part_adds_no_component_warning(db):
    """No warning names this part's components (the enum names of ``status``/``kind`` need the
    ENUM_NAME_OVERRIDES lines given in the report for the whole-schema ``--fail-on-warn`` gate)."""
    from django.core.management import call_command
    from drf_spectacular.drainage import GENERATOR_STATS

    GENERATOR_STATS.reset()
    call_command("spectacular", "--validate", "--file", "/dev/null")
    messages = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    mine = ("api_assessment", "AnnualAssessment", "AssessedBody", "AssessmentLine", "AssessmentItem")
    assert not [m for m in messages if any(name in m for name in mine)], messages


BAD_NUMBERS = ["²", "abc", "99999999999999999999"]


@pytest.mark.parametrize("raw", BAD_NUMBERS)
def test_bad_query_numbers_are_a_400_naming_the_parameter(world, sheet, api, raw):
    client = api(world.perf_admin)
    response = client.get(BASE, {"year": raw})
    assert response.status_code == 400 and "考核年度" in response.data["year"][0]
    response = client.get(BODIES, {"assessment": raw})
    assert response.status_code == 400 and "考核编号" in response.data["assessment"][0]
    assert client.get(f"{BASE}{sheet.pk}/items/{raw}/").status_code in (404, 405)
    assert client.patch(f"{BASE}{sheet.pk}/items/{raw}/", {"name": "x"}, format="json").status_code == 404


def test_publish_reports_the_notice_and_the_unscored_items_together(world, sheet, api):
    response = api(world.perf_admin).post(f"{BASE}{sheet.pk}/publish/", {"notice": ""}, format="json")
    assert response.status_code == 400
    assert response.data["notice"] == ["请填写通报说明。"] and "尚未评分" in response.data["status"][0]
    sheet.refresh_from_db()
    assert sheet.status == S.REVIEW


def items_url(sheet, item=None):
    return f"{BASE}{sheet.pk}/items/" + (f"{item.pk}/" if item else "")


def test_finance_configures_items_by_api(world, year, api):
    from apps.supervision import services_assessment as engine

    sheet = engine.assessment_create(actor=world.perf_admin, fiscal_year=year, kind=AssessmentKind.DEPARTMENTS)
    client = api(world.perf_admin)
    listed = client.get(items_url(sheet))
    assert listed.status_code == 200 and len(listed.data) == 8 and listed.data[0]["sort_order"] == 1
    bad = client.post(items_url(sheet), {"name": "", "metric": "manual", "max_points": "abc"}, format="json")
    assert (
        bad.status_code == 400 and bad.data["name"] == ["请填写考核项目名称。"] and "分值" in bad.data["max_points"][0]
    )
    bad = client.post(items_url(sheet), {"name": "偏差", "metric": "score_gap", "max_points": "5",
                                         "params": {"tolerance": "x"}}, format="json")  # fmt: skip
    assert bad.status_code == 400 and "允许偏差" in str(bad.data["params"])
    assert sheet.items.count() == 8
    made = client.post(
        items_url(sheet),
        {"name": "评价偏差二", "metric": "score_gap", "max_points": "6", "params": {"tolerance": 3}},
        format="json",
    )
    assert made.status_code == 201, made.data
    item = AssessmentItem.objects.get(pk=made.data["id"])
    assert item.params == {"tolerance": 3} and item.sort_order == 9
    changed = client.patch(items_url(sheet, item), {"max_points": "7.5"}, format="json")
    assert changed.status_code == 200 and changed.data["max_points"] == "7.50"
    item.refresh_from_db()
    assert item.name == "评价偏差二" and item.params == {"tolerance": 3}  # what was not sent is kept
    switched = client.patch(items_url(sheet, item), {"metric": "manual"}, format="json")
    assert switched.status_code == 200 and switched.data["params"] == {}
    refused = client.patch(items_url(sheet, item), {"max_points": "0"}, format="json")
    assert refused.status_code == 400 and "max_points" in refused.data
    assert client.delete(items_url(sheet, item)).status_code == 204
    assert not AssessmentItem.objects.filter(pk=item.pk).exists()


@pytest.mark.parametrize("persona", ["edu_approver", "finance_leader", "npc_liaison", "shinan_finance"])
def test_items_are_configured_only_by_the_managing_finance_bureau(world, sheet, api, persona):
    item = sheet.items.order_by("pk").first()
    client = api(getattr(world, persona))
    data = {"name": "x", "metric": "manual", "max_points": "1"}
    assert client.post(items_url(sheet), data, format="json").status_code in (403, 404)
    assert client.patch(items_url(sheet, item), {"max_points": "1"}, format="json").status_code in (403, 404)
    assert client.delete(items_url(sheet, item)).status_code in (403, 404)
    expected = 404 if persona == "shinan_finance" else 403
    assert client.post(items_url(sheet), data, format="json").status_code == expected
    assert sheet.items.count() == 8 and AssessmentItem.objects.get(pk=item.pk).max_points == item.max_points


def test_items_cannot_change_once_published(world, sheet, api):
    score_manual(world, sheet)
    review.assessment_publish(actor=world.perf_admin, assessment=sheet, notice="通报")
    item = sheet.items.order_by("pk").first()
    response = api(world.perf_admin).patch(items_url(sheet, item), {"max_points": "1"}, format="json")
    assert response.status_code == 400
    assert api(world.edu_approver).get(items_url(sheet)).status_code == 200  # a reader of the 通报 sees them
