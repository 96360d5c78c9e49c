"""Demo key evaluations for ``seed_demo`` (after ``seed_targets(2025)`` and the agencies demo).

So that the 3-year rule means something, part of 市本级's 2025 funds get predecessors in 2024 and
2023 (created minimally: the fund and an approved target) and some of those were evaluated in the
2023 and 2024 finance plans. Then:

* the 2025 finance plan of 市财政局, issued, with coverage gaps (fewer funds than one third, and
  due funds neither evaluated earlier nor planned), a 部门整体评价 of 市教育局, and two evaluations
  entrusted to the demo agency — one completed (scores, findings, grade, report, appraisal), one in
  progress;
* the 2025 department plan of 市教育局 (draft; one of its funds would miss its cycle).

The 2025 plans are made through the services (audited like real work); the history of 2023/2024
is written directly, as a setup step. Deterministic, and only created when 市财政局's 2025 plan does
not exist yet, so a second run changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, time
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.funds.models import SpecialFund
from apps.orgs.models import FiscalYear, Organization
from apps.targets.models import DepartmentTask, PerformanceTarget, TargetStatus

from . import key_services, plans
from .key_services import LineEntry, create_evaluations
from .models import EvaluationPlan, KeyEvaluation, KeyEvaluationLine

logger = logging.getLogger(__name__)

CITY = "370200"
AGENCY_CREDIT_CODE = "91370200MA3C000001"
D = Decimal
KS = KeyEvaluation.Status

# Story of the i-th 2025 city fund with an approved target (by code), i % 4:
#   0 → running since 2021, evaluated in the 2023 plan (covered earlier)
#   1 → running since 2022, evaluated in the 2024 plan (covered earlier)
#   2 → running since 2022, never evaluated: due now (some planned, the rest would miss the cycle)
#   3 → new in 2025: not yet due
STARTS = {0: 2021, 1: 2022, 2: 2022}
PLANNED_DUE = 3  # of the "due now" funds, this many are in the 2025 plan …
PLANNED_NEW = 2  # … and this many of the new ones

# Points given per line of DEFAULT_FRAME (same order), for the completed and the earlier evaluations.
GOOD_POINTS = [D("5"), D("4"), D("4.5"), D("9"), D("8.5"), D("9"), D("8"), D("4"), D("4.5"), D("21"), D("8.5")]
FINDINGS = (
    "1. 部分绩效指标未细化量化，目标值偏保守；\n"
    "2. 资金拨付进度滞后于计划，年中执行率低于时间进度；\n"
    "3. 项目验收资料归档不完整。"
)
RECOMMENDATIONS = "1. 按照核心指标要求细化绩效目标；\n2. 建立资金拨付台账，按月调度；\n3. 完善项目档案管理。"
# --- the demo report file: a one-page PDF with Chinese text -------------------------------------------
# Written by hand so that no package is needed: the text uses Adobe's standard Chinese font
# STSong-Light with the UniGB-UCS2-H encoding (UTF-16 code units), which every PDF reader supplies
# itself, so nothing is embedded and the file stays about 3 KB.
PDF_FONT = (
    "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [6 0 R] >>",
    "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light"
    " /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 7 0 R"
    " /DW 1000 /W [1 95 500] >>",
    "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880]"
    " /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
)
PAGE_WIDTH, PAGE_HEIGHT, MARGIN = 595, 842, 72  # A4 in points


def _pdf_text(text: str) -> str:
    """A PDF hex string of the text's UTF-16 code units (what UniGB-UCS2-H reads)."""
    return "<" + text.encode("utf-16-be").hex().upper() + ">"


def _wrap(text: str, size: float) -> list[str]:
    """Lines that fit the text width: a Chinese character is ``size`` wide, an ASCII one half."""
    room, lines, line, used = PAGE_WIDTH - 2 * MARGIN, [], "", 0.0
    for char in text:
        width = size / 2 if char.isascii() else size
        if used + width > room:
            lines.append(line)
            line, used = "", 0.0
        line, used = line + char, used + width
    return [*lines, line]


def report_pdf(title: str, paragraphs: list[str]) -> bytes:
    """A valid one-page A4 PDF: the title, then the paragraphs (wrapped), in STSong-Light."""
    ops = ["BT", f"/F1 18 Tf 1 0 0 1 {MARGIN} {PAGE_HEIGHT - MARGIN - 18} Tm", f"{_pdf_text(title)} Tj"]
    ops.append("/F1 11 Tf 17 TL 0 -34 Td")
    for paragraph in paragraphs:
        for line in _wrap(paragraph, 11) if paragraph else [""]:
            ops.append(f"{_pdf_text(line)} Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("ascii")
    info = f"<< /Title <FEFF{title.encode('utf-16-be').hex().upper()}> /Producer (qdperf demo) >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}]"
        " /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".encode("ascii"),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        *(font.encode("ascii") for font in PDF_FONT),
        info.encode("ascii"),
    ]
    out, offsets = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(objects) + 1, len(objects))
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _report(evaluation: KeyEvaluation, agency) -> bytes:
    """The demo report of a completed key evaluation (fund, score, grade, findings, advice)."""
    fund = evaluation.fund
    score = f"{evaluation.score:.2f}" if evaluation.score is not None else "—"
    return report_pdf(
        f"{fund.name}绩效评价报告",
        [
            f"评价对象：{fund.name}（{fund.code}）",
            f"主管部门：{evaluation.department.name}",
            f"评价类型：{evaluation.plan.fiscal_year_id}年度财政重点评价"
            + (f"，委托{agency.name}实施" if agency is not None else ""),
            f"评价得分：{score} 分    评价等级：{evaluation.get_grade_display() or '—'}",
            "",
            "一、主要问题",
            *FINDINGS.splitlines(),
            "",
            "二、意见建议",
            *RECOMMENDATIONS.splitlines(),
            "",
            "（演示数据）",
        ],
    )


def _aware(year: int, month: int, day: int) -> datetime:
    return timezone.make_aware(datetime.combine(datetime(year, month, day).date(), time(10, 0)))


def _predecessor(fund: SpecialFund, year: int, previous: SpecialFund | None, start: int) -> SpecialFund:
    """Fund ``fund`` as it was in ``year`` (minimal: the fund and an approved target)."""
    code = fund.code.replace(f"-{fund.fiscal_year_id}-", f"-{year}-")
    earlier = SpecialFund.objects.filter(region=fund.region, fiscal_year_id=year, code=code).first()
    if earlier is None:
        earlier = SpecialFund.objects.create(
            fiscal_year_id=year, region=fund.region, code=code, name=fund.name, budget_type=fund.budget_type,
            sector=fund.sector, organization=fund.organization, department=fund.department,
            fiscal_amount=fund.fiscal_amount, other_amount=fund.other_amount, period_start=start,
            period_end=max(fund.period_end, year), previous=previous,
            request_status=SpecialFund.RequestStatus.ARRANGED, arranged_amount=fund.total_amount,
            description=fund.description,
        )  # fmt: skip
        earlier.policy_tags.set(fund.policy_tags.all())
        PerformanceTarget.objects.create(
            kind=PerformanceTarget.Kind.FUND, fund=earlier, organization=earlier.organization, fiscal_year_id=year,
            status=TargetStatus.APPROVED, annual_goal=f"{year}年完成{fund.name}年度任务。",
            approved_at=_aware(year, 1, 20), status_changed_at=_aware(year, 1, 20),
        )  # fmt: skip
    return earlier


def _history_plan(bureau: Organization, year: int, funds: list[SpecialFund], actor: User) -> int:
    """A closed finance plan of ``year`` whose evaluations of ``funds`` were completed (direct writes)."""
    plan, made = EvaluationPlan.objects.get_or_create(
        organization=bureau,
        fiscal_year_id=year,
        defaults={
            "kind": EvaluationPlan.Kind.FINANCE,
            "name": f"{bureau.short_name or bureau.name}{year}年度项目财政重点评价计划",
            "status": EvaluationPlan.Status.CLOSED,
            "created_by": actor,
            "issued_at": _aware(year + 1, 4, 1),
        },
    )
    if not made:
        return 0
    targets = plans.latest_approved_targets(f.pk for f in funds)
    evaluations = create_evaluations(
        plan,
        [
            KeyEvaluation(fund=f, department_id=f.department_id, target=targets.get(f.pk), status=KS.COMPLETED)
            for f in funds
        ],
    )
    lines = list(KeyEvaluationLine.objects.filter(evaluation__plan=plan).order_by("evaluation_id", "sort_order"))
    by_evaluation: dict[int, list[KeyEvaluationLine]] = {}
    for line in lines:
        by_evaluation.setdefault(line.evaluation_id, []).append(line)
    rules = key_services.key_rules(bureau.region_id, year)
    for n, evaluation in enumerate(evaluations):
        mine = by_evaluation[evaluation.pk]
        for i, line in enumerate(mine):
            line.points = min(GOOD_POINTS[i % len(GOOD_POINTS)] - D(n % 3), line.max_points)
            line.comment = "依据评价工作底稿评分。"
        evaluation.score = key_services.total_of(mine)
        evaluation.grade = key_services.scoring.grade_of(evaluation.score, rules.scoring)
        evaluation.findings = "绩效目标细化量化不足，部分资金拨付滞后。"
        evaluation.recommendations = "细化绩效指标，加快预算执行。"
        evaluation.completed_at = evaluation.status_changed_at = _aware(year + 1, 8, 31)
    KeyEvaluationLine.objects.bulk_update(lines, ["points", "comment"])
    KeyEvaluation.objects.bulk_update(
        evaluations, ["score", "grade", "findings", "recommendations", "completed_at", "status_changed_at"]
    )
    return 1 + len(evaluations)


def _department_target(department: Organization, year: int) -> PerformanceTarget:
    target = plans.latest_department_target(department, year)
    if target is not None:
        return target
    target = PerformanceTarget.objects.create(
        kind=PerformanceTarget.Kind.DEPARTMENT, organization=department, fiscal_year_id=year,
        status=TargetStatus.APPROVED, long_term_goal="推动教育优质均衡发展。",
        annual_goal=f"{year}年完成部门重点工作任务，预算执行率不低于90%。",
        approved_at=_aware(year, 1, 20), status_changed_at=_aware(year, 1, 20),
    )  # fmt: skip
    DepartmentTask.objects.bulk_create(
        [
            DepartmentTask(target=target, sort_order=0, name="义务教育优质均衡发展", amount=D("120000000")),
            DepartmentTask(target=target, sort_order=1, name="学生资助政策落实", amount=D("45000000")),
            DepartmentTask(target=target, sort_order=2, name="教师队伍建设", amount=D("30000000")),
        ]
    )
    return target


def _agency_work(plan: EvaluationPlan, candidates: list[KeyEvaluation], finance: User) -> tuple[int, list[str]]:
    """Entrust two evaluations to the demo agency: one completed and appraised, one in progress."""
    from apps.agencies.models import Agency, Expert

    notes: list[str] = []
    agency = Agency.objects.filter(credit_code=AGENCY_CREDIT_CODE).first()
    if agency is None:
        return 0, ["未找到演示第三方机构，跳过委托（请先运行第三方机构演示数据）"]
    try:
        from apps.agencies.services import key_evaluation_assign
    except ImportError:  # the agencies part not installed: set the agency directly
        key_evaluation_assign = None
    experts = list(Expert.objects.filter(status=Expert.Status.ACTIVE).order_by("pk")[:2])
    done: list[KeyEvaluation] = []
    for evaluation in candidates:
        if len(done) == 2:
            break
        if key_evaluation_assign is None:
            KeyEvaluation.objects.filter(pk=evaluation.pk).update(agency=agency)
            done.append(evaluation)
            continue
        for chosen in (experts, []):
            try:
                with transaction.atomic():
                    key_evaluation_assign(actor=finance, evaluation=evaluation, agency=agency, experts=chosen)
            except ValidationError:
                continue  # a conflict of interest with this department: try without experts, then the next one
            done.append(evaluation)
            break
    staff = User.objects.filter(organization_id=agency.organization_id, is_active=True).order_by("pk").first()
    if staff is None or key_evaluation_assign is None:
        staff = finance  # nobody of the agency can sign in: finance records the agency's work
    made = 0
    for n, evaluation in enumerate(done):
        evaluation.refresh_from_db()
        key_services.evaluation_transition(actor=staff, evaluation=evaluation, name="start")
        lines = list(evaluation.lines.order_by("sort_order", "pk"))
        entries = [
            LineEntry(
                id=line.pk,
                dimension=line.dimension,
                name=line.name,
                max_points=line.max_points,
                points=GOOD_POINTS[i] if n == 0 or i < 5 else None,
                comment="对照评价指标和工作底稿评分。" if n == 0 or i < 5 else "",
            )
            for i, line in enumerate(lines)
        ]
        key_services.evaluation_save(
            actor=staff,
            evaluation=evaluation,
            lines=entries,
            findings=FINDINGS if n == 0 else "现场核查进行中。",
            recommendations=RECOMMENDATIONS if n == 0 else "",
        )
        made += 1
        if n != 0:
            continue
        from apps.attachments.services import attachment_add

        evaluation.refresh_from_db()
        report = ContentFile(_report(evaluation, agency), name=f"{evaluation.fund.name}绩效评价报告.pdf")
        attachment_add(
            actor=staff,
            obj=evaluation,
            file=report,
            view_action="evaluation.view",
            edit_action=evaluation.conduct_action,
            description="第三方机构出具的评价报告",
        )
        key_services.evaluation_transition(actor=staff, evaluation=evaluation, name="submit")
        key_services.evaluation_transition(actor=finance, evaluation=evaluation, name="complete", comment="同意")
        notes += _appraise(finance, agency, evaluation)
    if len(done) < 2:
        notes.append(f"只委托了 {len(done)} 项重点评价（其余存在利益冲突）")
    return made, notes


def _appraise(finance: User, agency, evaluation: KeyEvaluation) -> list[str]:
    try:
        from apps.agencies.models import AppraisalCriterion
        from apps.agencies.services import appraisal_record
    except ImportError:
        return ["第三方机构考评服务不可用，未登记质量考评"]
    criteria = list(AppraisalCriterion.objects.filter(is_active=True).order_by("sort_order", "pk"))
    if not criteria:
        return ["没有机构考评项目，未登记质量考评"]
    scores = {c.pk: (c.max_points * D("0.9")).quantize(D("0.01")) for c in criteria}
    appraisal_record(
        actor=finance,
        agency=agency,
        key_evaluation=evaluation,
        scores=scores,
        comments="评价报告结构完整、问题查找准确，按期完成；个别指标评分依据说明不够充分。",
    )
    return []


@transaction.atomic
def seed_key_evaluations(year: int = 2025) -> int:
    """Create the demo plans and evaluations (see the module docstring); returns the rows created."""
    bureau = Organization.objects.filter(code=f"{CITY}-CZ").first()
    finance = User.objects.filter(username="perf_admin").first()
    if bureau is None or finance is None:
        return 0
    fiscal_year = FiscalYear.objects.get(pk=year)
    if EvaluationPlan.objects.filter(organization=bureau, fiscal_year=fiscal_year).exists():
        return 0
    created = 0
    for earlier in (year - 2, year - 1):
        created += FiscalYear.objects.get_or_create(year=earlier, defaults={"is_closed": True})[1]
    funds = list(
        SpecialFund.objects.filter(region_id=bureau.region_id, fiscal_year=fiscal_year)
        .alias(has_target=plans.approved_target_exists())
        .filter(has_target=True)
        .select_related("region")
        .order_by("code")
    )
    evaluated: dict[int, list[SpecialFund]] = {year - 2: [], year - 1: []}
    due_now: list[SpecialFund] = []
    new: list[SpecialFund] = []
    for i, fund in enumerate(funds):
        story = i % 4
        if story == 3:
            new.append(fund)
            continue
        start = STARTS[story]
        oldest = _predecessor(fund, year - 2, None, start)
        middle = _predecessor(fund, year - 1, oldest, start)
        created += 2
        fund.previous, fund.period_start = middle, start
        fund.save(update_fields=["previous", "period_start", "updated_at"])
        if story == 0:
            evaluated[year - 2].append(oldest)
        elif story == 1:
            evaluated[year - 1].append(middle)
        else:
            due_now.append(fund)
    for plan_year, chosen in evaluated.items():
        if chosen:
            created += _history_plan(bureau, plan_year, chosen, finance)

    # 2025: 市财政局's plan, through the services.
    plan = plans.plan_create(actor=finance, organization=bureau, fiscal_year=fiscal_year)
    planned = due_now[:PLANNED_DUE] + new[:PLANNED_NEW]
    created += 1 + plans.plan_add_funds(actor=finance, plan=plan, funds=planned)
    education = Organization.objects.filter(code=f"{CITY}-EDU").first()
    if education is not None:
        _department_target(education, year)
        plans.plan_add_department(actor=finance, plan=plan, department=education)
        created += 1
    plans.plan_issue(actor=finance, plan=plan)
    candidates = list(plan.evaluations.filter(fund__in=due_now[:PLANNED_DUE]).select_related("fund", "department"))
    made, notes = _agency_work(plan, candidates, finance)
    created += made
    for note in notes:
        logger.warning("重点评价演示数据：%s", note)

    # 市教育局 evaluates its own funds (draft: one of them would miss its cycle).
    approver = User.objects.filter(username="edu_approver").first()
    if education is not None and approver is not None:
        own = plans.plan_create(actor=approver, organization=education, fiscal_year=fiscal_year)
        created += 1
        mine = [f for f in funds if f.department_id == education.pk and f in new][:1]
        if mine:
            created += plans.plan_add_funds(actor=approver, plan=own, funds=mine)
    return created
