"""Demo 整改 for ``seed_demo`` (after ``seed_self_evaluations(2025)`` and ``seed_key_evaluations(2025)``).

In 市本级 (perf_admin) and 市南区 (shinan_finance), through the services (so the audit trail and
the evidence are what the pages make):

* items from the 2025 finance-confirmed self-evaluations with shortfalls (one item per shortfall
  line), the first evaluation's raised on an earlier day with a deadline already passed (逾期);
* items from the findings of 市本级's completed 2025 key evaluation;
* one 审计发现 item by hand;
* then the stories, in turn: 待整改, 整改中, 待核实 (with evidence), 已完成 (with evidence, verified),
  重新整改 (evidence, submitted, reopened with a comment and a new deadline).

Deterministic and only created when the region has no rectification yet, so a second run creates 0.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core import permissions
from apps.evaluations.models import KeyEvaluation, SelfEvaluation
from apps.orgs.models import Organization

from . import services_rectification as services
from .models import Rectification

logger = logging.getLogger(__name__)

REGIONS = (("370200", "perf_admin"), ("370202", "shinan_finance"))
EVALUATIONS_PER_REGION = 3
EVIDENCE_PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)
STORIES = ("pending", "in_progress", "verifying", "done", "reopened")
PROGRESS = "已对照问题逐项整改：完善了项目管理制度，建立月度调度台账，相关资料已归档。"
REOPEN_COMMENT = "佐证材料只有制度文本，缺少落实情况（台账、验收记录），请补充后重新报送。"


def _evidence(actor, item: Rectification, n: int) -> None:
    from apps.attachments.services import attachment_add

    content = EVIDENCE_PDF + f"% 整改事项 {item.pk} 佐证 {n}\n".encode()
    attachment_add(
        actor=actor,
        obj=item,
        file=ContentFile(content, name=f"整改佐证材料{n}.pdf"),
        view_action="rectification.view",
        edit_action="rectification.fill",
        description="整改台账及相关制度文件",
    )


def _has_filler(organization: Organization) -> bool:
    return permissions.users_who_can("rectification.fill", Rectification(organization=organization)).exists()


def _play(item: Rectification, story: str, finance: User) -> None:
    """Move one item along its story, as the unit and the region's finance would."""
    if story == "pending":
        return
    unit = permissions.users_who_can("rectification.fill", item).order_by("pk").first()
    if unit is None:
        logger.warning("整改演示数据：%s 没有可填报的账号，保持待整改", item.organization)
        return
    measures = item.measures or "健全项目管理制度，建立月度调度机制，按期完成整改。"
    item = services.rectification_save(actor=unit, item=item, measures=measures, progress_note=PROGRESS)
    if story == "in_progress":
        return
    _evidence(unit, item, 1)
    item = services.rectification_submit(actor=unit, item=item)
    if story == "verifying":
        return
    if story == "done":
        services.rectification_accept(actor=finance, item=item, comment="整改到位，同意销号。")
        return
    deadline = max(item.deadline, timezone.localdate()) + timedelta(days=30)
    services.rectification_reopen(actor=finance, item=item, comment=REOPEN_COMMENT, deadline=deadline)


def _seed_region(region_code: str, finance: User) -> int:
    today = timezone.localdate()
    evaluations = list(
        SelfEvaluation.objects.filter(
            round__organization__code=f"{region_code}-CZ",
            round__fiscal_year_id=2025,
            status=SelfEvaluation.Status.CONFIRMED,
        )
        .select_related("fund", "organization", "round__organization")
        .order_by("fund__code")
    )
    # Units whose people can sign in first (the demo accounts of 教育局), so the stories can be played.
    evaluations.sort(key=lambda e: (not _has_filler(e.organization), e.fund.code))
    items: list[Rectification] = []
    raised = 0
    for evaluation in evaluations:
        if raised == EVALUATIONS_PER_REGION:
            break
        if not services.self_evaluation_shortfalls(evaluation):
            continue
        if raised == 0:  # raised in the summer with a deadline that has passed: 逾期
            made = services.rectifications_from_self_evaluation(
                actor=finance,
                evaluation=evaluation,
                deadline=today - timedelta(days=10),
                today=today - timedelta(days=70),
            )
        else:
            made = services.rectifications_from_self_evaluation(
                actor=finance, evaluation=evaluation, deadline=today + timedelta(days=30 * raised + 30)
            )
        items.extend(made)
        raised += 1
    key = (
        KeyEvaluation.objects.filter(
            plan__organization__code=f"{region_code}-CZ",
            plan__fiscal_year_id=2025,
            status=KeyEvaluation.Status.COMPLETED,
        )
        .select_related("fund__organization", "department", "plan")
        .order_by("pk")
        .first()
    )
    if key is not None and key.findings:
        items.extend(
            services.rectifications_from_key_evaluation(
                actor=finance,
                evaluation=key,
                problems=services.split_findings(key.findings),
                deadline=today + timedelta(days=90),
                requirement="请于三个月内完成整改，并报送整改报告及佐证材料。",
            )
        )
    departments = Organization.objects.filter(
        region__code=region_code, kind=Organization.Kind.DEPARTMENT, is_active=True
    ).order_by("path")
    department = next((d for d in departments if _has_filler(d)), departments.first())
    if department is not None:
        items.append(
            services.rectification_create(
                actor=finance,
                source=Rectification.Source.AUDIT,
                source_reference=f"青审财报〔2026〕{8 if region_code == '370200' else 21}号",
                organization=department,
                fiscal_year=2025,
                problem="审计发现部分专项资金结转结余未及时清理，形成资金沉淀。",
                requirement="清理结转结余资金，按规定收回统筹使用，并建立定期清理机制。",
                deadline=today + timedelta(days=45),
            )
        )
    # Keep the first (overdue) item untouched so that a 逾期 待整改 shows; the rest play the stories.
    for n, item in enumerate(items[1:]):
        _play(item, STORIES[n % len(STORIES)], finance)
    return len(items)


@transaction.atomic
def seed_rectifications() -> int:
    """Create the demo items (see the module docstring); returns the number of items created."""
    created = 0
    for region_code, username in REGIONS:
        finance = User.objects.filter(username=username, is_active=True).first()
        if finance is None or Rectification.objects.filter(region__code=region_code).exists():
            continue
        created += _seed_region(region_code, finance)
    return created
