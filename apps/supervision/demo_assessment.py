"""Demo 年度考核 for ``seed_demo`` (after the targets, monitoring, evaluations, rectification and
disclosure demos, whose records the assessment measures):

* the city's FY 2025 部门考核, computed from the demo data, hand-scored items scored with their
  佐证, one computed line adjusted with a reason written from its own basis (教育局's self-evaluation
  timeliness: one self-evaluation had a written extension, counted as on time), and published
  with its 通报 — ``edu_approver`` opens 教育局's breakdown and sees the adjustment and the basis;
* the city's FY 2026 部门考核, computed and left under review (待审定): finance can try adjusting,
  and publishing is refused until its hand-scored items are scored.

Through the engine and the review services (computed synchronously, as the job would), so the
lines, the history and the audit trail are the real ones. A sheet that already exists is left as
it is, so a second run creates nothing.
"""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from apps.accounts.models import User
from apps.orgs.models import FiscalYear

from . import services_assessment as engine
from . import services_assessment_review as review
from .models import AnnualAssessment, AssessmentKind, AssessmentLine, Metric

log = logging.getLogger(__name__)

NOTICE = (
    "根据《青岛市预算绩效管理工作考核办法》，市财政局对2025年度市级预算部门预算绩效管理工作进行了考核。"
    "考核依据系统记录的绩效目标报送、绩效监控、单位自评、财政重点评价、问题整改和信息公开情况计算，"
    "工作创新与配合情况由市财政局结合佐证材料评分。现将考核结果予以通报，请各部门对照得分明细查找不足、"
    "抓好整改，考核结果将作为下一年度预算安排的参考。"
)
# Hand-scored points by department code suffix (the rest get DEFAULT_MANUAL), with their 佐证.
MANUAL_POINTS = {"EDU": "9", "HEALTH": "8.5", "TRANS": "7", "HRSS": "6"}
DEFAULT_MANUAL = "8"
# The demo adjustment: one of 教育局's self-evaluations had a written extension from finance, so
# finance counts it as on time by hand. The reason is written from the line's own basis (which
# records, how many, how many points), so it always agrees with the data it adjusts.
ADJUST = ("370200-EDU", Metric.SELFEVAL_ON_TIME)


def extension_adjustment(line: AssessmentLine) -> tuple[Decimal, str] | None:
    """(points, reason) counting the first record that cost points as on time; None if none did."""
    basis = line.basis or {}
    total, ok = basis.get("denominator") or 0, basis.get("numerator") or 0
    missed = [r for r in basis.get("records", []) if not r.get("ok")]
    if not total or not missed:
        return None
    first = missed[0]
    fund = first["label"].split("（", 1)[0]
    extended_to = f"{int(first['due'][:4])}年12月31日" if first.get("due") else "年底"
    points = (line.item.max_points * Decimal(ok + 1) / Decimal(total)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    others = len(missed) - 1
    unsent = all(r.get("note") == "未报送" for r in missed[1:])
    rest = f"其余 {others} 份{'未报送' if unsent else '未按时报送'}，不予调整；" if others else ""
    reason = (
        f"“{fund}”项目因所属学校撤并、资金划转，经市财政局书面同意延期至{extended_to}报送自评，"
        f"按延期后的时限视同按时；{rest}"
        f"按应报 {total} 份、按时 {ok + 1} 份计，由 {line.points} 分调整为 {points} 分。"
    )
    return points, reason


def _sheet(actor, year: int, kind=AssessmentKind.DEPARTMENTS) -> AnnualAssessment | None:
    fiscal_year = FiscalYear.objects.filter(year=year).first()
    if fiscal_year is None:
        return None
    region_id = actor.organization.region_id
    if AnnualAssessment.objects.filter(region_id=region_id, fiscal_year=fiscal_year, kind=kind).exists():
        return None
    sheet = engine.assessment_create(actor=actor, fiscal_year=fiscal_year, kind=kind)
    engine.assessment_compute(sheet.pk)
    sheet.refresh_from_db()
    return sheet


def _score_manual(actor, sheet: AnnualAssessment) -> None:
    lines = AssessmentLine.objects.filter(body__assessment=sheet, item__metric=Metric.MANUAL).select_related(
        "item", "body__organization"
    )
    for line in lines:
        code = line.body.organization.code.rsplit("-", 1)[-1]
        points = MANUAL_POINTS.get(code, DEFAULT_MANUAL)
        review.line_adjust(
            actor=actor,
            line=line,
            points=min(Decimal(points), line.item.max_points),
            reason="绩效管理制度健全，按时参加培训，配合财政重点评价工作。"
            if Decimal(points) >= 8
            else "绩效管理制度有待完善，重点评价配合不够及时。",
            evidence="部门预算绩效管理办法、年度工作总结及培训签到表（已报送市财政局）",
        )


@transaction.atomic
def seed_assessment_demo() -> int:
    """Create the demo sheets; returns how many were created (0 on a second run)."""
    actor = User.objects.filter(username="perf_admin").select_related("organization").first()
    if actor is None or actor.organization is None:
        return 0
    created = 0
    sheet = _sheet(actor, 2025)
    if sheet is not None:
        created += 1
        _score_manual(actor, sheet)
        code, metric = ADJUST
        line = (
            AssessmentLine.objects.filter(body__assessment=sheet, body__organization__code=code, item__metric=metric)
            .select_related("item")
            .first()
        )
        adjustment = extension_adjustment(line) if line is not None else None
        if adjustment is not None:
            points, reason = adjustment
            review.line_adjust(actor=actor, line=line, points=points, reason=reason)
        review.assessment_publish(actor=actor, assessment=sheet, notice=NOTICE)
    if _sheet(actor, 2026) is not None:
        created += 1
    log.info("demo assessments: %s created", created)
    return created
