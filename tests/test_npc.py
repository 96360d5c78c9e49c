"""报人大 export: who may export which region (page, service and API agree; a crafted request for
another region is refused and starts no job), bad input, the background job and its download, the
export history, npc_liaison's read-only role elsewhere, and a query count that does not grow."""

import io
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import load_workbook

from apps.core.models import AuditEvent, BackgroundJob
from apps.funds import services as fund_services
from apps.funds.models import SpecialFund
from apps.results import npc_excel, services_npc
from apps.results import selectors_npc as sel
from apps.targets.models import PerformanceTarget
from tests.conftest import PERSONAS
from tests.querycount import assert_constant_queries
from tests.test_targets_flow import approve_all_the_way, filed_target, make_fund

URL = "/results/npc/"
API = "/api/v1/npc-exports/"
EXPORTERS = {"perf_admin", "npc_liaison", "shinan_finance"}
ALL_SETS = sel.ReportSet.values


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "private_media"
    return settings.MEDIA_ROOT


def reported_fund(world, year, code, name="家庭经济困难学生资助", amount="3000000"):
    """A 教育局 fund with an approved target, arranged in the budget (reported to the NPC)."""
    fund = make_fund(world, year, code=code, name=name, amount=amount)
    target = filed_target(world, fund)
    approve_all_the_way(world, target)
    fund_services.fund_submit(actor=world.edu_approver, fund=fund)
    return fund_services.fund_arrange(actor=world.perf_admin, fund=fund, comment="同意")


@pytest.fixture
def reported(world, year):
    return reported_fund(world, year, "EDU-2026-001")


def post_form(client, region, year=2026, sets=ALL_SETS, capture=None):
    data = {"region": region, "year": year, "sets": list(sets)}
    if capture is None:
        return client.post(URL, data)
    with capture(execute=True):
        return client.post(URL, data)


# --- who sees the page and which regions are offered -------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_page_only_for_exporters(world, year, login, persona):
    response = login(getattr(world, persona)).get(URL)
    assert response.status_code == (200 if persona in EXPORTERS else 403)


def test_region_choices_follow_the_scope(world, year, login):
    assert sel.export_regions(world.npc_liaison) == [("370200", "市本级")]
    assert sel.export_regions(world.shinan_finance) == [("370202", "市南区")]
    city = sel.export_regions(world.perf_admin)
    assert city[0] == ("all", "全市（含各区市）") and len(city) == 12
    assert sel.export_regions(world.edu_filler) == []
    page = login(world.shinan_finance).get(URL).content.decode()
    assert 'value="370202"' in page and 'value="370200"' not in page and 'value="all"' not in page
    page = login(world.perf_admin).get(URL).content.decode()
    assert 'value="all"' in page and "全市（含各区市）" in page


# --- refusals: nothing is created ----------------------------------------------------------------


@pytest.mark.parametrize(
    "persona, region",
    [
        ("shinan_finance", "370200"),  # a district exporting the city's data
        ("shinan_finance", "370203"),  # … or another district's
        ("shinan_finance", "all"),
        ("npc_liaison", "all"),  # the city's NPC liaison: its own region only
        ("npc_liaison", "370202"),
    ],
)
def test_crafted_region_is_refused_by_page_service_and_api(world, year, login, persona, region,
                                                          django_capture_on_commit_callbacks):  # fmt: skip
    user = getattr(world, persona)
    client = login(user)
    audit_before = AuditEvent.objects.count()
    response = post_form(client, region, capture=django_capture_on_commit_callbacks)
    assert response.status_code == 403
    response = client.post(API, {"region": region, "year": 2026, "sets": ALL_SETS}, content_type="application/json")
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        services_npc.npc_export_start(actor=user, region=region, year=2026, sets=ALL_SETS)
    assert not BackgroundJob.objects.exists() and AuditEvent.objects.count() == audit_before


@pytest.mark.parametrize("persona", ["edu_filler", "edu_approver", "sector_kjw", "auditor", "expert_li", "sysadmin"])
def test_wrong_role_gets_403_everywhere(world, year, login, persona, django_capture_on_commit_callbacks):
    client = login(getattr(world, persona))
    assert post_form(client, "370200", capture=django_capture_on_commit_callbacks).status_code == 403
    assert client.post(API, {"region": "370200", "year": 2026}, content_type="application/json").status_code == 403
    assert client.get(API).status_code == 403
    assert client.get(API + "regions/").status_code == 403
    assert not BackgroundJob.objects.exists()


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"region": "370200", "year": 2026, "sets": []}, "sets", "请至少选择一张报表。"),
        ({"region": "370200", "year": 2026, "sets": ["budget"]}, "sets", "报表内容“budget”不存在。"),
        ({"region": "370200", "year": 1999, "sets": ALL_SETS}, "year", "预算年度“1999”不存在"),
        ({"region": "999999", "year": 2026, "sets": ALL_SETS}, "region", "报送区域“999999”不存在"),
        ({"region": "", "year": 2026, "sets": ALL_SETS}, "region", "请选择报送区域。"),
    ],
)
def test_bad_input_gets_a_chinese_message_and_starts_nothing(world, year, login, data, field, message,
                                                            django_capture_on_commit_callbacks):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = login(world.npc_liaison).post(URL, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and f'data-field="{field}"' in page
    assert not BackgroundJob.objects.exists()


def test_service_and_api_validate_too(world, year, login):
    with pytest.raises(ValidationError, match="请至少选择一张报表"):
        services_npc.npc_export_start(actor=world.npc_liaison, region="370200", year=2026, sets=[])
    with pytest.raises(ValidationError, match="预算年度“1990”不存在"):
        services_npc.npc_export_start(actor=world.npc_liaison, region="370200", year=1990, sets=ALL_SETS)
    client = login(world.npc_liaison)
    response = client.post(API, {"region": "370200", "year": 2026, "sets": ["x"]}, content_type="application/json")
    assert response.status_code == 400 and "sets" in response.json()
    response = client.post(API, {"region": "370200", "year": 1990}, content_type="application/json")
    assert response.status_code == 400 and "不存在" in json.dumps(response.json(), ensure_ascii=False)
    assert not BackgroundJob.objects.exists()


# --- the happy path: page → job → download; API; history ----------------------------------------


def test_npc_liaison_exports_through_the_page_and_downloads(world, reported, login, django_capture_on_commit_callbacks):
    client = login(world.npc_liaison)
    response = post_form(client, "370200", capture=django_capture_on_commit_callbacks)
    job = BackgroundJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{URL}?job={job.pk}"
    assert job.kind == "results.npc_workbook" and job.status == "done" and job.organization == world.npc_org
    assert job.params == {"region": "370200", "year": 2026, "sets": ALL_SETS, "back_url": URL}
    assert job.result_name.startswith("青岛市市本级2026年度报人大绩效报表_") and job.result_name.endswith(".xlsx")
    assert "1 个项目、6 个指标" in job.message
    assert AuditEvent.objects.filter(kind="export", actor=world.npc_liaison, comment__contains="报人大").exists()

    page = client.get(f"{URL}?job={job.pk}").content.decode()
    assert 'id="job-progress"' in page and 'data-status="done"' in page and 'id="job-download"' in page
    assert job.result_name in page and world.npc_liaison.display_name in page  # the history row

    download = client.get(f"/jobs/{job.pk}/download/")
    assert download.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert wb.sheetnames[:2] == ["封面", "项目绩效目标表"]
    assert wb["项目绩效目标表"]["C5"].value == reported.name


def test_api_creates_polls_and_downloads(world, reported, login, django_capture_on_commit_callbacks):
    client = login(world.npc_liaison)
    assert client.get(API + "regions/").json() == [{"code": "370200", "name": "市本级"}]
    with django_capture_on_commit_callbacks(execute=True):
        data = {"region": "370200", "year": 2026, "sets": ["targets"]}
        response = client.post(API, data, content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    job = BackgroundJob.objects.get()
    assert body["id"] == job.pk and body["sets"] == ["targets"]
    assert body["status_url"] == f"/api/v1/jobs/{job.pk}/" and body["page_url"] == f"/jobs/{job.pk}/"
    polled = client.get(body["status_url"]).json()
    assert polled["status"] == "done" and polled["percent"] == 100
    assert polled["download_url"] == f"/api/v1/jobs/{job.pk}/download/"
    wb = load_workbook(io.BytesIO(b"".join(client.get(polled["download_url"]).streaming_content)))
    assert wb.sheetnames == ["封面", "项目绩效目标表"]
    listed = client.get(API).json()
    assert [row["id"] for row in listed["results"]] == [job.pk]


def test_history_is_the_organisations_own(world, reported, login, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        mine = services_npc.npc_export_start(actor=world.npc_liaison, region="370200", year=2026, sets=ALL_SETS)
        theirs = services_npc.npc_export_start(actor=world.shinan_finance, region="370202", year=2026, sets=["summary"])
        city = services_npc.npc_export_start(actor=world.perf_admin, region="all", year=2026, sets=["summary"])
    client = login(world.npc_liaison)
    page = client.get(URL).content.decode()
    assert mine.label in page and theirs.label not in page and city.label not in page
    assert "项目绩效目标表、财政重点评价结果表、部门整体绩效目标和评价表" in page
    assert client.get(f"{URL}?job={theirs.pk}").status_code == 404
    assert client.get(f"/jobs/{theirs.pk}/download/").status_code == 404
    assert [r["id"] for r in client.get(API).json()["results"]] == [mine.pk]
    assert client.get(f"{API}{theirs.pk}/").status_code == 404
    shinan = login(world.shinan_finance).get(URL).content.decode()
    assert theirs.label in shinan and mine.label not in shinan
    assert city.label == "青岛市全市（含各区市）2026年度报人大绩效报表"


# --- npc_liaison reads and exports, but changes nothing else --------------------------------------


def test_npc_liaison_cannot_change_anything(world, reported, login):
    client = login(world.npc_liaison)
    target = PerformanceTarget.objects.get(fund=reported)
    before = (SpecialFund.objects.count(), reported.request_status, target.status, AuditEvent.objects.count())
    assert client.get(f"/funds/{reported.pk}/").status_code == 200  # reads
    assert client.post("/funds/new/", {"code": "X-1", "name": "新项目"}).status_code == 403
    assert client.post(f"/api/v1/funds/{reported.pk}/decline/", {"comment": "不安排"}).status_code == 403
    assert client.post(f"/targets/{target.pk}/edit/", {"annual_goal": "改"}).status_code == 403
    assert client.post("/results/rectifications/new/", {"problem": "x"}).status_code == 403
    assert client.post("/results/linkage/rules/", {}).status_code == 403
    reported.refresh_from_db()
    target.refresh_from_db()
    after = (SpecialFund.objects.count(), reported.request_status, target.status, AuditEvent.objects.count())
    assert after == before


# --- cost ---------------------------------------------------------------------------------------


def test_workbook_queries_do_not_grow_with_the_data(world, reported, year):
    scope = sel.resolve_scope(world.npc_liaison, region="370200", year=2026)
    codes = iter(range(2, 100))

    def build():
        file, _, figures = npc_excel.build_workbook(user=world.npc_liaison, scope=scope, sets=ALL_SETS)
        file.close()

    def grow():
        for _ in range(3):
            reported_fund(world, year, f"EDU-2026-{next(codes):03d}", name="学前教育补助")

    # cover 1 (涉密 count) + counts 2 + targets 1 + key evaluations 1 + departments 1 + summary 3
    assert_constant_queries(build, grow, expected=9)
    assert npc_excel.build_workbook(user=world.npc_liaison, scope=scope, sets=ALL_SETS)[2]["targets"]["funds"] == 4


def test_job_rechecks_the_requester(world, reported, django_capture_on_commit_callbacks):
    """A job whose requester has since lost the role fails with a message and writes no file."""
    with django_capture_on_commit_callbacks(execute=False):
        job = services_npc.npc_export_start(actor=world.npc_liaison, region="370200", year=2026, sets=ALL_SETS)
    world.npc_liaison.groups.clear()
    from apps.results.tasks import npc_workbook_job

    npc_workbook_job(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "无权导出报人大报表" in job.message and not job.result_file
