"""Demo 年度考核 for ``seed_demo`` (after the targets, monitoring, evaluations, rectification and
disclosure demos, whose records the assessment measures):

* the city's FY 2025 部门考核, computed from the demo data, hand-scored items scored with their
  佐证, one computed line adjusted with a reason (教育局's self-evaluation timeliness), and published
  with its 通报 — ``edu_approver`` opens 教育局's breakdown and sees the adjustment and the basis;
* the city's FY 2026 部门考核, computed and left under review (待审定): finance can try adjusting,
  and publishing is refused until its hand-scored items are scored.

Through the engine and the review services (computed synchronously, as the job would), so the
lines, the history and the audit trail are the real ones. A sheet that already exists is left as
it is, so a second run creates nothing.
"""

from __future__ import annotations

import logging
from decimal import Decimal

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
ADJUST = (
    "370200-EDU",
    Metric.SELFEVAL_ON_TIME,
    "7.50",
    "两个项目因所属学校撤并经市财政局同意延期报送自评，按延期后的时限认定为按时，调增得分。",
)


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
        code, metric, points, reason = ADJUST
        line = (
            AssessmentLine.objects.filter(body__assessment=sheet, body__organization__code=code, item__metric=metric)
            .select_related("item")
            .first()
        )
        if line is not None:
            review.line_adjust(actor=actor, line=line, points=min(Decimal(points), line.item.max_points), reason=reason)
        review.assessment_publish(actor=actor, assessment=sheet, notice=NOTICE)
    if _sheet(actor, 2026) is not None:
        created += 1
    log.info("demo assessments: %s created", created)
    return created
