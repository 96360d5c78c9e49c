"""Demo 整改 for ``seed_demo`` (after ``seed_self_evaluations(2025)`` and ``seed_key_evaluations(2025)``).

In 市本级 (perf_admin) and 市南区 (shinan_finance), through the services (so the audit trail and
the evidence are what the pages make):

* items from the 2025 finance-confirmed self-evaluations with shortfalls (one item per shortfall
  line), the first evaluation's raised ten weeks ago with a deadline already passed (逾期);
* items from the findings of 市本级's completed 2025 key evaluation;
* one 审计发现 item by hand (for a department whose people can sign in);
* then the stories, in turn: 待整改, 整改中, 待核实 (with evidence), 已完成 (with evidence, verified),
  重新整改 (evidence, submitted, reopened with a comment and a new deadline);
* for the demo accounts of 青岛第二中学 (``edu_unit_filler``, seen by ``edu_filler`` and
  ``edu_approver`` of 市教育局): two 审计发现 items on its own funds, one 待整改 and one 整改中.

Every step happens on a plausible day in the past (``_clock``): an item is raised weeks before its
deadline, the unit works on it afterwards and finance verifies after that, so 下达时间, the history
and the evidence dates read like real work and never come after the deadline they belong to.

Deterministic. The region's items are only created when the region has no rectification yet, and
the unit's when it has no 审计发现 item yet, so a second run creates 0.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core import permissions
from apps.evaluations.models import KeyEvaluation, SelfEvaluation
from apps.funds.models import SpecialFund
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
# When each group is raised (days before today) and its deadline (days from today; < 0: passed).
OVERDUE_RAISED, OVERDUE_DEADLINE = 70, -10
# 青岛第二中学 (edu_unit_filler): 审计发现 on its own funds, one 待整改 and one 整改中.
UNIT = "370200-EDU-U1"
UNIT_AUDIT_REFERENCE = "青审财报〔2026〕8号"
UNIT_ITEMS = (
    # (fund code, problem, requirement, raised days ago, deadline in days, story)
    (
        "370200-EDU-2025-01",
        "部分受助学生家庭经济困难认定材料不完整，资助名单未按规定在校内公示。",
        "补齐认定材料，按规定公示资助名单，并建立年度复核机制。",
        14,
        30,
        "pending",
    ),
    (
        "370200-EDU-2025-07",
        "项目资金中 12.60 万元用于购置办公设备，超出项目支出范围。",
        "调整账务、归还项目资金，并完善项目支出审核流程。",
        21,
        25,
        "in_progress",
    ),
)
UNIT_MEASURES = "逐项补齐受助学生认定材料，由学生资助工作小组复核后在校内公示 5 个工作日。"
UNIT_PROGRESS = "已完成 2025 年秋季学期名单复核，正在补齐 2 名学生的认定材料。"


# --- a clock for the demo ---------------------------------------------------------------------------


def _at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


@contextmanager
def _clock(moment: datetime | None) -> Iterator[None]:
    """Run the services as if it were ``moment``: every ``timezone.now()`` / ``localdate()`` (the
    item's 下达时间, the audit rows, the evidence's upload time, 完成日期, the deadline checks) reads it.

    Django's ``timezone.now`` asks the ``datetime`` class of ``django.utils.timezone`` for the time,
    so swapping that one name for the duration of a demo step is enough; it is put back at once.
    Demo seeding only (a single thread, inside ``seed_demo``). ``None``: the real time."""
    if moment is None:
        yield
        return

    class Then(datetime):
        @classmethod
        def now(cls, tz=None):
            return moment.astimezone(tz) if tz is not None else timezone.make_naive(moment)

    real = timezone.datetime
    timezone.datetime = Then
    try:
        yield
    finally:
        timezone.datetime = real


def _steps(raised_ago: int) -> tuple[datetime | None, datetime | None, datetime | None]:
    """When the unit saves, submits and finance verifies an item raised ``raised_ago`` days ago:
    spread over the time since, all before today (all now for an item raised today)."""
    if raised_ago == 0:
        return None, None, None
    today = timezone.localdate()
    saved, submitted, verified = (today - timedelta(days=max(1, raised_ago * k // 4)) for k in (3, 2, 1))
    return _at(saved, 10), _at(submitted, 11), _at(verified, 15)


# --- the stories ------------------------------------------------------------------------------------


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


def _play(
    item: Rectification, story: str, finance: User, raised_ago: int, *, measures: str = "", progress: str = ""
) -> None:
    """Move one item along its story, as the unit and the region's finance would, on the days after
    it was raised (``_steps``)."""
    if story == "pending":
        return
    unit = permissions.users_who_can("rectification.fill", item).order_by("pk").first()
    if unit is None:
        logger.warning("整改演示数据：%s 没有可填报的账号，保持待整改", item.organization)
        return
    saved, submitted, verified = _steps(raised_ago)
    with _clock(saved):
        measures = measures or item.measures or "健全项目管理制度，建立月度调度机制，按期完成整改。"
        item = services.rectification_save(actor=unit, item=item, measures=measures, progress_note=progress or PROGRESS)
    if story == "in_progress":
        return
    with _clock(submitted):
        _evidence(unit, item, 1)
        item = services.rectification_submit(actor=unit, item=item)
    if story == "verifying":
        return
    with _clock(verified):
        if story == "done":
            services.rectification_accept(actor=finance, item=item, comment="整改到位，同意销号。")
            return
        deadline = max(item.deadline, timezone.localdate()) + timedelta(days=30)
        services.rectification_reopen(actor=finance, item=item, comment=REOPEN_COMMENT, deadline=deadline)


def _raise(raised_ago: int, make) -> list[Rectification]:
    """Items made by ``make()`` on the day ``raised_ago`` days before today (0: now)."""
    moment = _at(timezone.localdate() - timedelta(days=raised_ago), 9) if raised_ago else None
    with _clock(moment):
        made = make()
    return list(made) if isinstance(made, list) else [made]


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
    # Units whose people can sign in first (the demo accounts), so the stories can be played.
    evaluations.sort(key=lambda e: (not _has_filler(e.organization), e.fund.code))
    groups: list[tuple[int, list[Rectification]]] = []  # (raised days ago, items)
    for evaluation in evaluations:
        if len(groups) == EVALUATIONS_PER_REGION:
            break
        if not services.self_evaluation_shortfalls(evaluation):
            continue
        if not groups:  # raised ten weeks ago with a deadline that has passed since: 逾期
            ago, deadline = OVERDUE_RAISED, today + timedelta(days=OVERDUE_DEADLINE)
        else:
            ago, deadline = 7 * (4 - len(groups)), today + timedelta(days=30 * len(groups) + 30)

        def make(evaluation=evaluation, deadline=deadline):
            return services.rectifications_from_self_evaluation(actor=finance, evaluation=evaluation, deadline=deadline)

        groups.append((ago, _raise(ago, make)))
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
    if key is not None and key.findings:  # the demo completes the key evaluation today: raised today
        groups.append(
            (
                0,
                _raise(
                    0,
                    lambda: services.rectifications_from_key_evaluation(
                        actor=finance,
                        evaluation=key,
                        problems=services.split_findings(key.findings),
                        deadline=today + timedelta(days=90),
                        requirement="请于三个月内完成整改，并报送整改报告及佐证材料。",
                    ),
                ),
            )
        )
    departments = Organization.objects.filter(
        region__code=region_code, kind=Organization.Kind.DEPARTMENT, is_active=True
    ).order_by("path")
    department = next((d for d in departments if _has_filler(d)), departments.first())
    if department is not None:
        groups.append(
            (
                30,
                _raise(
                    30,
                    lambda: services.rectification_create(
                        actor=finance,
                        source=Rectification.Source.AUDIT,
                        source_reference=f"青审财报〔2026〕{8 if region_code == '370200' else 21}号",
                        organization=department,
                        fiscal_year=2025,
                        problem="审计发现部分专项资金结转结余未及时清理，形成资金沉淀。",
                        requirement="清理结转结余资金，按规定收回统筹使用，并建立定期清理机制。",
                        deadline=today + timedelta(days=45),
                    ),
                ),
            )
        )
    # Keep the first (overdue) item untouched so that a 逾期 待整改 shows; the rest play the stories.
    made = [(ago, item) for ago, items in groups for item in items]
    for n, (ago, item) in enumerate(made[1:]):
        _play(item, STORIES[n % len(STORIES)], finance, ago)
    return len(made)


def _seed_unit(finance: User) -> int:
    """青岛第二中学's own items (the demo account ``edu_unit_filler``): one 待整改, one 整改中."""
    unit = Organization.objects.filter(code=UNIT).first()
    if unit is None or Rectification.objects.filter(organization=unit, source=Rectification.Source.AUDIT).exists():
        return 0
    today = timezone.localdate()
    made = 0
    for code, problem, requirement, ago, days, story in UNIT_ITEMS:
        fund = SpecialFund.objects.filter(code=code, organization=unit).first()
        if fund is None:
            continue
        (item,) = _raise(
            ago,
            lambda fund=fund, problem=problem, requirement=requirement, days=days: services.rectification_create(
                actor=finance,
                source=Rectification.Source.AUDIT,
                source_reference=UNIT_AUDIT_REFERENCE,
                organization=unit,
                fund=fund,
                problem=problem,
                requirement=requirement,
                deadline=today + timedelta(days=days),
            ),
        )
        _play(item, story, finance, ago, measures=UNIT_MEASURES, progress=UNIT_PROGRESS)
        made += 1
    return made


@transaction.atomic
def seed_rectifications() -> int:
    """Create the demo items (see the module docstring); returns the number of items created."""
    created = 0
    for region_code, username in REGIONS:
        finance = User.objects.filter(username=username, is_active=True).first()
        if finance is None:
            continue
        if not Rectification.objects.filter(region__code=region_code).exists():
            created += _seed_region(region_code, finance)
        if region_code == "370200":
            created += _seed_unit(finance)
    return created
