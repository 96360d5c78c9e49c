"""The API answers clients in Chinese also where DRF or Django would speak English: a 404 (an id
that does not exist or is out of scope), a body that is not JSON, a ``null`` body. Nothing changes."""

from django.urls import reverse

from apps.results import services_disclosure
from apps.results.models import Rectification
from tests import test_selfeval_flow as flow
from tests.test_key_evaluations import years_fixture as years_fixture  # noqa: F401  (fixture "years")
from tests.test_public import disclose
from tests.test_rectification import confirm, raise_items, snapshot

year2025, approved2025, evaluation = flow.year2025, flow.approved2025, flow.evaluation
API = "/api/v1/rectifications/"
NOT_FOUND = {"detail": "未找到该记录，或不在您的查看范围内。"}


def test_404_is_chinese_for_missing_and_out_of_scope_records(world, evaluation, login):
    item = raise_items(world, confirm(world, evaluation))[0]
    client = login(world.perf_admin)
    assert client.get(f"{API}999999/").json() == NOT_FOUND
    response = client.post(f"{API}999999/save/", {"measures": "x"}, content_type="application/json")
    assert response.status_code == 404 and response.json() == NOT_FOUND
    outsider = login(world.shinan_finance)
    response = outsider.get(f"{API}{item.pk}/")
    assert response.status_code == 404 and response.json() == NOT_FOUND  # the same answer as "does not exist"
    assert login(world.perf_admin).get("/api/v1/organizations/999999/").json() == NOT_FOUND


def test_json_parse_error_and_null_body_are_chinese_and_change_nothing(world, evaluation, login):
    item = raise_items(world, confirm(world, evaluation))[0]
    before = snapshot(item)
    unit = login(world.edu_unit_filler)
    bad = unit.post(f"{API}{item.pk}/save/", '{"measures": "x",', content_type="application/json")
    assert bad.status_code == 400 and bad.json() == {"detail": "请求内容不是有效的 JSON。"}
    empty = unit.post(f"{API}{item.pk}/save/", "null", content_type="application/json")
    assert empty.status_code == 400 and empty.json() == {"non_field_errors": ["请求内容为空。"]}
    finance = login(world.perf_admin)
    created = finance.post(API, "null", content_type="application/json")
    assert created.status_code == 400 and created.json() == {"non_field_errors": ["请求内容为空。"]}
    assert snapshot(item) == before and Rectification.objects.count() == 3


def test_chinese_messages_of_our_own_404s_are_kept(world, login):
    from apps.core.models import BackgroundJob

    job = BackgroundJob.objects.create(
        kind="t", label="t", organization=world.perf_division, created_by=world.perf_admin
    )
    response = login(world.perf_admin).get(f"/api/v1/jobs/{job.pk}/download/")
    assert response.status_code == 404 and response.json() == {"detail": "该任务没有可下载的结果文件。"}


def test_public_json_of_a_withdrawn_disclosure_is_a_chinese_404(world, years, client):
    shown = disclose(world, "EDU-1")
    withdrawn = disclose(world, "EDU-2")
    services_disclosure.disclosure_withdraw(actor=world.perf_admin, disclosure=withdrawn, reason="有误")
    client.logout()
    assert client.get(reverse("public:api_disclosure_detail", args=[shown.pk])).status_code == 200
    for pk in (withdrawn.pk, 999999):
        response = client.get(reverse("public:api_disclosure_detail", args=[pk]))
        assert response.status_code == 404 and response.json() == NOT_FOUND
