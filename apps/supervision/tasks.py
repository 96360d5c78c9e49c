"""Celery tasks of 监督考核 (each runs through ``apps.core.jobs.job_run`` so a page follows it)."""

from celery import shared_task

from apps.core.jobs import job_run


@shared_task(name="supervision.compute_assessment")
def compute_assessment_task(job_id: int) -> None:
    """Compute the draft of an annual assessment (``services_assessment.assessment_compute``)."""
    from . import services_assessment

    def work(job, progress):
        return services_assessment.assessment_compute(job.params["assessment_id"], progress)

    job_run(job_id, work)
