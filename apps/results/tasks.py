"""Celery tasks of 结果应用 (each runs through ``apps.core.jobs.job_run`` so a page follows it)."""

from celery import shared_task

from apps.core.jobs import JobResult, job_run

from . import npc_excel
from . import selectors_npc as sel

NPC_KIND = "results.npc_workbook"


@shared_task(name="results.npc_workbook")
def npc_workbook_job(job_id: int) -> None:
    """Write the NPC workbook of a job's region, year and report sets (checked again as the job's
    requester: a role changed since the request no longer exports)."""

    def work(job, progress):
        params = job.params
        user = job.created_by
        scope = sel.resolve_scope(user, region=params["region"], year=int(params["year"]))
        file, name, figures = npc_excel.build_workbook(user=user, scope=scope, sets=params["sets"], progress=progress)
        parts = []
        if "targets" in figures:
            t = figures["targets"]
            parts.append(f"项目绩效目标 {t['funds']} 个项目、{t['indicators']} 个指标")
        if "key_evaluations" in figures:
            parts.append(f"财政重点评价 {figures['key_evaluations']['count']} 个项目")
        if "departments" in figures:
            parts.append(f"部门整体目标 {figures['departments']['count']} 个部门")
        if "summary" in figures:
            parts.append(f"汇总 {figures['summary']['departments']} 个部门")
        message = f"已生成“{name}”：{'；'.join(parts)}。"
        return JobResult(message=message, file=file, name=name)

    job_run(job_id, work)
