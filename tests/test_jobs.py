"""Background jobs: start on commit, run eagerly, progress, failure messages, result files, and who
may follow or download a job (the requester's organisation only)."""

import io
import logging
from urllib.parse import quote

import pytest
from celery import shared_task
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIRequestFactory, force_authenticate

from apps.core import jobs
from apps.core.api_jobs import JobViewSet
from apps.core.models import AuditEvent, BackgroundJob
from tests.factories import UserFactory
from tests.querycount import assert_constant_queries

Status = BackgroundJob.Status
SEEN: list[tuple[str, int, int]] = []  # (status, done, total) read back from the database during work


def _work(job, progress):
    mode = job.params.get("mode", "ok")
    total = job.params.get("total", 200)
    progress(0, total)
    row = BackgroundJob.objects.get(pk=job.pk)
    SEEN.append((row.status, row.done, row.total))
    for done in range(1, total + 1):
        progress(done, total)
        if done == total // 2:
            row = BackgroundJob.objects.get(pk=job.pk)
            SEEN.append((row.status, row.done, row.total))
            if mode == "invalid":
                raise ValidationError("第 3 行数据有误")
            if mode == "crash":
                raise RuntimeError("数据库连接中断\n第二行细节")
    if mode == "file":
        return jobs.JobResult(
            "汇总表已生成。", file=io.BytesIO(b"PK-demo-content"), name="单位自评结果汇总表-2025.xlsx"
        )
    return f"已处理 {total} 条。"


@shared_task(name="tests.demo_job")
def demo_task(job_id):
    jobs.job_run(job_id, _work)


@pytest.fixture(autouse=True)
def _seen():
    SEEN.clear()


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "private_media"
    return settings.MEDIA_ROOT


def start(user, capture, **params):
    with capture(execute=True):
        job = jobs.job_start(actor=user, kind="tests.demo", label="演示任务", params=params, task=demo_task,
                             back_url="/evaluations/rules/")  # fmt: skip
    job.refresh_from_db()
    return job


# --- starting and running ---------------------------------------------------------------------


def test_job_is_queued_then_runs_after_commit_and_finishes(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = jobs.job_start(actor=world.perf_admin, kind="tests.demo", label="演示任务", params={"total": 10},
                             task=demo_task)  # fmt: skip
    assert len(callbacks) == 1 and SEEN == []  # nothing runs before the commit
    job.refresh_from_db()
    assert (job.status, job.organization, job.created_by, job.done) == (Status.QUEUED, world.perf_division,
                                                                        world.perf_admin, 0)  # fmt: skip
    callbacks[0]()
    job.refresh_from_db()
    assert job.status == Status.DONE and job.message == "已处理 10 条。"
    assert (job.done, job.total, job.percent) == (10, 10, 100)
    assert job.started_at <= job.finished_at


def test_progress_is_visible_while_the_work_runs(world, django_capture_on_commit_callbacks):
    job = start(world.perf_admin, django_capture_on_commit_callbacks, total=200)
    assert SEEN == [(Status.RUNNING, 0, 200), (Status.RUNNING, 100, 200)]
    assert (job.status, job.done, job.total) == (Status.DONE, 200, 200)


def test_a_rolled_back_request_starts_no_job(world, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        jobs.job_start(actor=world.perf_admin, kind="tests.demo", label="演示任务", task=demo_task)
        raise RuntimeError("表单保存失败")
    assert callbacks == [] and not BackgroundJob.objects.exists() and SEEN == []


def test_a_user_without_organisation_cannot_start_a_job(db):
    user = UserFactory(username="nobody", organization=None)
    with pytest.raises(ValidationError, match="未分配所属机构"):
        jobs.job_start(actor=user, kind="tests.demo", label="演示任务", task=demo_task)


def test_a_finished_job_is_not_run_twice(world, django_capture_on_commit_callbacks):
    job = start(world.perf_admin, django_capture_on_commit_callbacks, total=4)
    SEEN.clear()
    demo_task.delay(job.pk)
    assert SEEN == [] and BackgroundJob.objects.get(pk=job.pk).finished_at == job.finished_at


class FakeClock:
    def __init__(self, step: float = 0.0):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step
        return self.now


def test_progress_writes_at_most_every_percent(world, django_assert_max_num_queries):
    job = BackgroundJob.objects.create(
        kind="t", label="t", organization=world.perf_division, created_by=world.perf_admin
    )
    progress = jobs.Progress(job.pk, clock=FakeClock(step=0.0001))
    with django_assert_max_num_queries(101):
        for done in range(0, 10_001):
            progress(done, 10_000)
    assert progress.writes == 101  # 0, 1 %, 2 % … 100 %
    job.refresh_from_db()
    assert (job.done, job.total, job.percent) == (10_000, 10_000, 100)


def test_progress_writes_at_least_every_second_on_slow_work(world):
    job = BackgroundJob.objects.create(
        kind="t", label="t", organization=world.perf_division, created_by=world.perf_admin
    )
    progress = jobs.Progress(job.pk, clock=FakeClock(step=1.5))  # each item takes 1.5 s
    for done in range(0, 21):
        progress(done, 1_000_000)
    assert progress.writes == 21
    job.refresh_from_db()
    assert (job.done, job.total) == (20, 1_000_000) and job.percent == 0


def test_a_service_error_fails_the_job_with_its_message(world, django_capture_on_commit_callbacks, caplog):
    with caplog.at_level(logging.ERROR, logger="apps.core.jobs"):
        job = start(world.perf_admin, django_capture_on_commit_callbacks, mode="invalid", total=10)
    assert job.status == Status.FAILED and job.message == "任务失败：第 3 行数据有误"
    assert (job.done, job.total) == (5, 10) and job.finished_at is not None
    assert "Traceback" in caplog.text  # the traceback goes to the log, not to the user


def test_an_unexpected_error_keeps_the_error_text_not_the_traceback(world, django_capture_on_commit_callbacks):
    job = start(world.perf_admin, django_capture_on_commit_callbacks, mode="crash", total=10)
    assert job.status == Status.FAILED
    assert job.message == "任务失败：系统错误（RuntimeError：数据库连接中断），错误已记录，请联系系统管理员。"
    assert "Traceback" not in job.message and "第二行" not in job.message


# --- pages ------------------------------------------------------------------------------------


def test_job_page_polls_until_finished(world, login):
    job = BackgroundJob.objects.create(
        kind="t", label="重新计分", organization=world.perf_division, created_by=world.perf_admin,
        status=Status.RUNNING, done=30, total=120, params={"back_url": "/evaluations/rules/"},
    )  # fmt: skip
    client = login(world.perf_admin)
    page = client.get(reverse("jobs:job_detail", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page and 'aria-valuenow="25"' in page and "已处理 30 / 120" in page
    assert 'href="/evaluations/rules/"' in page and 'http-equiv="refresh"' in page
    partial = client.get(reverse("jobs:job_detail", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert partial.startswith('<div id="job-progress"') and "<html" not in partial
    BackgroundJob.objects.filter(pk=job.pk).update(status=Status.DONE, done=120, message="已重新计算 120 份。")
    partial = client.get(reverse("jobs:job_detail", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in partial and "已重新计算 120 份。" in partial and 'aria-valuenow="100"' in partial


@pytest.mark.parametrize(
    "back_url", ["//evil.example/", "/\\evil.example/", "/\\/evil.example", "https://evil.example/", "evil", "/\tx"]
)
def test_back_link_only_to_this_site(world, django_capture_on_commit_callbacks, back_url):
    with django_capture_on_commit_callbacks(execute=False):
        job = jobs.job_start(actor=world.perf_admin, kind="t", label="t", task=demo_task, back_url=back_url)
    assert "back_url" not in job.params


def test_back_link_keeps_a_path_of_this_site(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = jobs.job_start(
            actor=world.perf_admin, kind="t", label="t", task=demo_task, back_url="/results/?year=2026"
        )
    assert job.params["back_url"] == "/results/?year=2026"


def test_result_file_downloads_with_its_chinese_name(world, login, media, django_capture_on_commit_callbacks):
    job = start(world.perf_admin, django_capture_on_commit_callbacks, mode="file", total=3)
    assert job.status == Status.DONE and job.result_name == "单位自评结果汇总表-2025.xlsx"
    assert job.result_file.name.startswith("jobs/") and "汇总" not in job.result_file.name  # random stored name
    client = login(world.perf_admin)
    page = client.get(reverse("jobs:job_detail", args=[job.pk])).content.decode()
    assert reverse("jobs:job_download", args=[job.pk]) in page
    response = client.get(reverse("jobs:job_download", args=[job.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"PK-demo-content"
    assert f"filename*=utf-8''{quote(job.result_name)}" in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    event = AuditEvent.objects.filter(kind="export").latest("pk")
    assert event.object_id == str(job.pk) and event.actor == world.perf_admin


@pytest.mark.parametrize("persona", ["edu_filler", "shinan_finance", "npc_liaison", "auditor", "sector_kjw"])
def test_another_organisations_job_is_404(world, login, media, django_capture_on_commit_callbacks, persona):
    job = start(world.perf_admin, django_capture_on_commit_callbacks, mode="file", total=3)
    client = login(getattr(world, persona))
    for name in ("jobs:job_detail", "jobs:job_download"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert job.label not in client.get(reverse("jobs:job_list")).content.decode()
    assert not AuditEvent.objects.filter(kind="export").exists()


@pytest.mark.parametrize("persona", ["sysadmin", "security_admin", "audit_admin"])
def test_roles_without_jobs_get_403(world, login, persona):
    job = BackgroundJob.objects.create(kind="t", label="t", organization=getattr(world, persona).organization,
                                       created_by=getattr(world, persona))  # fmt: skip
    client = login(getattr(world, persona))
    for url in (reverse("jobs:job_list"), reverse("jobs:job_detail", args=[job.pk]),
                reverse("jobs:job_download", args=[job.pk])):  # fmt: skip
        assert client.get(url).status_code == 403


def test_colleague_of_the_same_organisation_follows_and_downloads(
    world, login, media, django_capture_on_commit_callbacks
):
    colleague = UserFactory(username="perf_colleague", organization=world.perf_division, roles=["finance_perf"])
    job = start(world.perf_admin, django_capture_on_commit_callbacks, mode="file", total=3)
    client = login(colleague)
    assert client.get(reverse("jobs:job_download", args=[job.pk])).status_code == 200


def test_unfinished_or_fileless_job_has_nothing_to_download(world, login, django_capture_on_commit_callbacks):
    job = start(world.perf_admin, django_capture_on_commit_callbacks, total=3)
    client = login(world.perf_admin)
    assert client.get(reverse("jobs:job_download", args=[job.pk])).status_code == 404


def test_job_list_shows_own_organisation_in_constant_queries(world, login):
    client = login(world.perf_admin)
    other = BackgroundJob.objects.create(
        kind="t", label="教育局的导出", organization=world.edu, created_by=world.edu_filler
    )
    n = [0]

    def grow():
        for _ in range(5):
            n[0] += 1
            BackgroundJob.objects.create(kind="t", label=f"绩效处任务{n[0]}", organization=world.perf_division,
                                         created_by=world.perf_admin, status=Status.DONE)  # fmt: skip

    grow()

    def fetch():
        response = client.get(reverse("jobs:job_list"))
        assert response.status_code == 200
        page = response.content.decode()
        assert "绩效处任务1" in page and other.label not in page

    assert_constant_queries(fetch, grow, expected=9)


def test_job_list_filters_by_status(world, login):
    BackgroundJob.objects.create(kind="t", label="失败的任务", organization=world.perf_division,
                                 created_by=world.perf_admin, status=Status.FAILED, message="任务失败：x")  # fmt: skip
    BackgroundJob.objects.create(kind="t", label="完成的任务", organization=world.perf_division,
                                 created_by=world.perf_admin, status=Status.DONE)  # fmt: skip
    page = login(world.perf_admin).get(reverse("jobs:job_list"), {"status": "failed"}).content.decode()
    assert "失败的任务" in page and "完成的任务" not in page


# --- API --------------------------------------------------------------------------------------


def _api(user, action="list", **kwargs):
    factory = APIRequestFactory()
    request = factory.get("/api/v1/jobs/")
    force_authenticate(request, user=user)
    return JobViewSet.as_view({"get": action})(request, **kwargs)


def test_api_lists_and_shows_own_jobs(world, media, django_capture_on_commit_callbacks):
    job = start(world.perf_admin, django_capture_on_commit_callbacks, mode="file", total=3)
    BackgroundJob.objects.create(kind="t", label="教育局的导出", organization=world.edu, created_by=world.edu_filler)
    response = _api(world.perf_admin)
    assert response.status_code == 200 and [r["id"] for r in response.data["results"]] == [job.pk]
    row = _api(world.perf_admin, "retrieve", pk=job.pk).data
    assert row["status"] == "done" and row["percent"] == 100 and row["finished"] is True
    assert row["download_url"] == f"/api/v1/jobs/{job.pk}/download/" == reverse("api:job-download", args=[job.pk])
    assert row["result_name"] == "单位自评结果汇总表-2025.xlsx"
    assert _api(world.edu_filler, "retrieve", pk=job.pk).status_code == 404
    assert _api(world.sysadmin).status_code == 403


def _token_client(user):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def test_api_download_with_a_token(world, media, django_capture_on_commit_callbacks):
    """A token client (no session) follows ``download_url`` and gets the file, audited like the page."""
    job = start(world.perf_admin, django_capture_on_commit_callbacks, mode="file", total=3)
    client = _token_client(world.perf_admin)
    url = client.get(f"/api/v1/jobs/{job.pk}/").json()["download_url"]
    response = client.get(url, HTTP_ACCEPT="application/octet-stream")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"PK-demo-content"
    assert f"filename*=utf-8''{quote(job.result_name)}" in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store" and response["X-Content-Type-Options"] == "nosniff"
    event = AuditEvent.objects.get(kind="export")
    assert event.object_id == str(job.pk) and event.actor == world.perf_admin
    assert event.comment == f"下载后台任务结果“{job.result_name}”"


@pytest.mark.parametrize("persona", ["edu_filler", "shinan_finance", "npc_liaison"])
def test_api_download_of_another_organisations_job_is_404(world, media, django_capture_on_commit_callbacks, persona):
    job = start(world.perf_admin, django_capture_on_commit_callbacks, mode="file", total=3)
    response = _token_client(getattr(world, persona)).get(f"/api/v1/jobs/{job.pk}/download/")
    assert response.status_code == 404 and response.json() == {"detail": "未找到该记录，或不在您的查看范围内。"}
    assert not AuditEvent.objects.filter(kind="export").exists()


def test_api_download_refused_to_roles_without_jobs_and_for_unfinished_jobs(world, django_capture_on_commit_callbacks):
    job = BackgroundJob.objects.create(kind="t", label="t", organization=world.sysadmin.organization,
                                       created_by=world.sysadmin)  # fmt: skip
    assert _token_client(world.sysadmin).get(f"/api/v1/jobs/{job.pk}/download/").status_code == 403
    running = start(world.perf_admin, django_capture_on_commit_callbacks, total=3)  # done, but no file
    response = _token_client(world.perf_admin).get(f"/api/v1/jobs/{running.pk}/download/")
    assert response.status_code == 404 and response.json() == {"detail": "该任务没有可下载的结果文件。"}
    assert _token_client(world.perf_admin).get(f"/api/v1/jobs/{running.pk}/").json()["download_url"] is None
    assert not AuditEvent.objects.filter(kind="export").exists()
