"""Writes of the NPC workbook (报人大): starting an export job. The workbook itself is written by the
job (``tasks.npc_workbook_job`` → ``npc_excel.build_workbook``); the export history is the
``BackgroundJob`` rows of kind ``results.npc_workbook`` (see ``selectors_npc`` for what each sheet reads).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse

from apps.core import audit
from apps.core.jobs import job_start
from apps.core.models import BackgroundJob

from . import selectors_npc as sel
from .selectors_npc import ReportSet
from .tasks import NPC_KIND, npc_workbook_job


def clean_sets(sets) -> list[str]:
    chosen = [s for s in ReportSet.values if s in set(sets or [])]
    unknown = set(sets or []) - set(ReportSet.values)
    if unknown or not chosen:
        raise ValidationError(
            {"sets": "请至少选择一张报表（项目绩效目标表、财政重点评价结果表、部门整体绩效目标和评价表、汇总表）。"}
        )
    return chosen


def npc_export_start(*, actor, region: str, year: int, sets) -> BackgroundJob:
    """Start the background job that writes the NPC workbook of ``region`` (a region code, or
    ``"all"`` for the whole city) and ``year`` with the chosen report ``sets``.

    Refuses (and creates nothing) when the actor's role has no ``npc.export`` or the region is outside
    the actor's scope (``PermissionDenied``), or when the year or the sets are invalid (``ValidationError``)."""
    if not sel.permissions.has_action(actor, sel.ACTION):
        raise PermissionDenied("您的角色无权导出报人大报表。")
    chosen = clean_sets(sets)
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationError({"year": "请选择预算年度。"}) from None
    scope = sel.resolve_scope(actor, region=str(region or ""), year=year)

    label = f"{scope.full_label}{scope.year}年度报人大绩效报表"
    with transaction.atomic():
        job = job_start(
            actor=actor,
            kind=NPC_KIND,
            label=label,
            params={"region": scope.code, "year": scope.year, "sets": chosen},
            task=npc_workbook_job,
            back_url=reverse("results:npc_export"),
        )
        audit.record(
            audit.Kind.EXPORT,
            actor=actor,
            obj=job,
            comment=f"发起导出{label}（{'、'.join(ReportSet.labels[s] for s in chosen)}）",
        )
    return job


def npc_history(user):
    """The export history the user may see: NPC workbook jobs of the user's organisation (``job.view``)."""
    from apps.core.jobs import visible_jobs

    if not sel.permissions.has_action(user, sel.ACTION):
        return BackgroundJob.objects.none()
    return visible_jobs(user).filter(kind=NPC_KIND).select_related("created_by")
