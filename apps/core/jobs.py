"""Background jobs: start a Celery task for a long piece of work and let a page follow it.

Two functions, used by every kind of job (re-scoring, large exports …):

* ``job_start(actor=…, kind=…, label=…, params=…, task=…)`` creates a ``BackgroundJob`` owned by
  the actor's organisation and enqueues ``task.delay(job_id)`` **after the surrounding transaction
  commits** (a worker never looks for a job or data that is not there yet).
* ``job_run(job_id, work)`` is called by the task. It marks the job running, calls
  ``work(job, progress)`` and records the outcome: done with the message ``work`` returned (and
  its file, if any), or failed with a message for the user — the error text, never a traceback;
  the traceback goes to the log. ``progress(done, total)`` writes the counters with one
  ``UPDATE`` at most every 1 % or every second, so a job of 100,000 rows costs ≈100 small writes.

A task::

    @shared_task(name="evaluations.rescore")
    def rescore_job(job_id):
        def work(job, progress):
            n = services.rescore(job.params["region_id"], job.params["fiscal_year_id"], progress)
            return f"已重新计算 {n} 份单位自评的得分。"
        job_run(job_id, work)

``work`` may return ``JobResult(message, file=…, name="汇总表.xlsx")`` to attach a file; the
page then offers it for download (``/jobs/<pk>/download/``, scoped like the job); API clients use
``/api/v1/jobs/<pk>/download/``. Both answer with ``result_file_response`` (one place for the checks,
the audit row and the headers).
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from . import audit
from .models import BackgroundJob

logger = logging.getLogger(__name__)

Status = BackgroundJob.Status
MESSAGE_LIMIT = 2000
DONE_MESSAGE = "任务已完成。"


class JobError(Exception):
    """A failure the user can act on; its text is shown as it is (no class name, no traceback)."""


@dataclass
class JobResult:
    """What a job's work produced: a message and optionally a file (closed by ``job_run``)."""

    message: str = ""
    file: IO[bytes] | None = None
    name: str = ""  # the file name the user downloads (Chinese is fine)


def job_start(
    *, actor, kind: str, label: str, params: dict[str, Any] | None = None, task, back_url: str = ""
) -> BackgroundJob:
    """Create the job (queued, owned by the actor's organisation) and enqueue ``task`` on commit.

    ``task`` is a Celery task taking the job id; ``back_url`` (a path of this site) is where the
    job page's "返回" link leads."""
    if actor is None or getattr(actor, "organization_id", None) is None:
        raise ValidationError("您的账号未分配所属机构，不能发起后台任务。")
    params = dict(params or {})
    if safe_back_url(back_url):
        params["back_url"] = back_url
    job = BackgroundJob.objects.create(
        kind=kind, label=label[:200], organization_id=actor.organization_id, created_by=actor, params=params
    )
    job_id = job.pk
    transaction.on_commit(lambda: task.delay(job_id))
    return job


def safe_back_url(url: str) -> bool:
    """A path of this site only: no scheme, no host (``//evil``, ``/\\evil``, ``https://…`` are refused)."""
    if not url or not url.startswith("/") or any(c in url for c in "\\\r\n\t"):
        return False
    return url_has_allowed_host_and_scheme(url, allowed_hosts=set(), require_https=True)


class Progress:
    """``progress(done, total)``: writes the counters cheaply (``QuerySet.update``), at most once per
    1 % of ``total`` or once per ``interval`` seconds, and always the first and the last call."""

    def __init__(self, job_id: int, interval: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.job_id, self.interval, self.clock = job_id, interval, clock
        self.done, self.total = 0, 0
        self.written: tuple[int, int] | None = None
        self.written_at = 0.0
        self.writes = 0

    def __call__(self, done: int, total: int) -> None:
        total = max(int(total), 0)
        done = min(max(int(done), 0), total) if total else max(int(done), 0)
        self.done, self.total = done, total
        if self.written == (done, total):
            return
        now = self.clock()
        step = max(total // 100, 1)
        due = (
            self.written is None
            or self.written[1] != total
            or done >= total
            or done - self.written[0] >= step
            or now - self.written_at >= self.interval
        )
        if due:
            BackgroundJob.objects.filter(pk=self.job_id).update(done=done, total=total)
            self.written, self.written_at = (done, total), now
            self.writes += 1


def _user_message(exc: BaseException) -> str:
    """The error text a user can read: a service's Chinese messages as they are, otherwise the
    exception's own text (first line), never a traceback."""
    if isinstance(exc, ValidationError):
        text = "；".join(exc.messages)
    elif isinstance(exc, JobError | PermissionDenied):
        text = str(exc)
    else:
        first = (str(exc).strip().splitlines() or [""])[0]
        text = f"系统错误（{exc.__class__.__name__}{'：' + first if first else ''}），错误已记录，请联系系统管理员。"
    return f"任务失败：{text or '未知原因'}"[:MESSAGE_LIMIT]


def _store_file(job: BackgroundJob, result: JobResult) -> None:
    """Save the result file under MEDIA_ROOT (a random name; the Chinese name is kept apart)."""
    extension = os.path.splitext(result.name or "")[1].lower()[:10]
    try:
        result.file.seek(0)
        job.result_file.save(f"{uuid.uuid4().hex}{extension}", File(result.file), save=False)
    finally:
        result.file.close()
    job.result_name = (result.name or f"任务{job.pk}结果{extension}")[:200]


def job_run(job_id: int, work: Callable[[BackgroundJob, Progress], JobResult | str | None]) -> BackgroundJob:
    """Run ``work`` for the job and record the outcome (see the module docstring). A job that has
    already finished is left alone (a task delivered twice does not run twice)."""
    job = BackgroundJob.objects.select_related("created_by", "organization").get(pk=job_id)
    if job.finished:
        logger.warning("background job %s already %s; not run again", job.pk, job.status)
        return job
    job.status, job.started_at, job.done = Status.RUNNING, timezone.now(), 0
    BackgroundJob.objects.filter(pk=job.pk).update(status=job.status, started_at=job.started_at, done=0)
    progress = Progress(job.pk)
    try:
        outcome = work(job, progress)
    except Exception as exc:  # noqa: BLE001 — every failure ends the job with a message
        logger.exception("background job %s (%s) failed", job.pk, job.kind)
        job.status, job.message = Status.FAILED, _user_message(exc)
        job.done, job.total = progress.done, progress.total
    else:
        result = outcome if isinstance(outcome, JobResult) else JobResult(message=outcome or "")
        job.status, job.message = Status.DONE, (result.message or DONE_MESSAGE)[:MESSAGE_LIMIT]
        job.total = max(progress.total, progress.done)
        job.done = job.total
        if result.file is not None:
            try:
                _store_file(job, result)
            except Exception as exc:  # noqa: BLE001
                logger.exception("background job %s: result file not stored", job.pk)
                job.status, job.message = Status.FAILED, _user_message(exc)
    job.finished_at = timezone.now()
    fields = ["status", "message", "done", "total", "finished_at", "result_file", "result_name"]
    BackgroundJob.objects.filter(pk=job.pk).update(**{f: getattr(job, f) for f in fields})
    return job


def result_file_response(*, actor, job: BackgroundJob) -> FileResponse:
    """The job's result file as a download, with its Chinese file name (``filename*``, RFC 5987),
    audited as an export. ``job`` must come from ``visible_jobs(actor)`` (the caller scopes it);
    a job without a result file, or whose file is gone, is ``Http404`` with a Chinese message."""
    if job.status != Status.DONE or not job.result_file:
        raise Http404("该任务没有可下载的结果文件。")
    try:
        handle = job.result_file.storage.open(job.result_file.name, "rb")
    except FileNotFoundError:
        logger.error("background job %s: result file %s missing", job.pk, job.result_file.name)
        raise Http404("结果文件已丢失，请重新发起任务。") from None
    audit.record(audit.Kind.EXPORT, actor=actor, obj=job, comment=f"下载后台任务结果“{job.result_name}”")
    response = FileResponse(handle, as_attachment=True, filename=job.result_name or f"任务{job.pk}结果")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def visible_jobs(user):
    """Jobs the user may follow and download: ``job.view``, and only those of the user's own
    organisation (a job's file may hold everything its requester could see)."""
    return BackgroundJob.objects.restrict(user, "job.view").filter(organization_id=user.organization_id)
