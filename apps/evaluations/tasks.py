"""Celery tasks of 绩效评价 (each runs through ``apps.core.jobs.job_run`` so a page follows it)."""

from celery import shared_task

from apps.core.jobs import JobError, job_run

from . import scoring, services

RESCORE_KIND = "evaluations.rescore"


@shared_task(name="evaluations.rescore")
def rescore_job(job_id: int) -> None:
    """Re-score every scored self-evaluation of a region and year with its current rules."""

    def work(job, progress):
        try:
            count = services.rescore(job.params["region_id"], job.params["fiscal_year_id"], progress)
        except scoring.ScoringError as exc:
            raise JobError(str(exc)) from exc
        if not count:
            return "该区域本年度还没有已计分的单位自评，无需重新计分。"
        return f"已按新的计分规则重新计算 {count} 份单位自评的得分和等级（财政调整过的得分保持不变）。"

    job_run(job_id, work)
