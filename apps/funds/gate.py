"""The budget gate: "no target, no budget", and no large or new-policy item without 事前绩效评估.

Pure reads that say exactly what is missing; the fund workflow's guards raise them, and the fund
detail page shows them before anyone presses the button.
"""

from decimal import Decimal

from apps.assessments.models import Conclusion, ExAnteAssessment
from apps.assessments.selectors import latest_assessment
from apps.targets.models import PerformanceTarget, TargetStatus

from .models import GateSettings, SpecialFund

DEFAULT_THRESHOLD = Decimal("5000000.00")  # 500 万元
SUBMITTED_TO_FINANCE = (TargetStatus.SECTOR_REVIEW, TargetStatus.PERF_REVIEW, TargetStatus.APPROVED)


def assessment_threshold(region_id: int) -> Decimal:
    setting = GateSettings.objects.filter(region_id=region_id).values_list("assessment_threshold", flat=True).first()
    return setting if setting is not None else DEFAULT_THRESHOLD


def needs_assessment(fund: SpecialFund) -> bool:
    return fund.is_new_major_policy or fund.total_amount >= assessment_threshold(fund.region_id)


def _assessment_reason(fund: SpecialFund) -> str:
    if fund.is_new_major_policy:
        return "属于新增重大政策"
    return f"金额达到 {assessment_threshold(fund.region_id) / 10000:,.2f} 万元的事前评估门槛"


def submit_blockers(fund: SpecialFund) -> list[str]:
    """What stops the department from 申报 this fund (empty: nothing)."""
    missing = []
    if (
        fund.requires_target
        and not PerformanceTarget.objects.filter(fund=fund, status__in=SUBMITTED_TO_FINANCE).exists()
    ):
        missing.append("尚未报送绩效目标（绩效目标须经部门审核并报送财政后才能申报预算）")
    if needs_assessment(fund):
        assessment = latest_assessment(fund)
        if assessment is None or assessment.status != ExAnteAssessment.Status.COMPLETED:
            missing.append(f"该项目{_assessment_reason(fund)}，须先完成事前绩效评估")
    return missing


def arrange_blockers(fund: SpecialFund) -> list[str]:
    """What stops finance from 安排 this fund (empty: nothing)."""
    missing = []
    if fund.requires_target and not PerformanceTarget.objects.filter(fund=fund, status=TargetStatus.APPROVED).exists():
        missing.append("绩效目标尚未批复（无目标不安排预算）")
    if needs_assessment(fund):
        assessment = latest_assessment(fund)
        if assessment is None or assessment.status != ExAnteAssessment.Status.COMPLETED:
            missing.append(f"该项目{_assessment_reason(fund)}，事前绩效评估尚未完成")
        elif assessment.conclusion == Conclusion.REJECT:
            missing.append("事前绩效评估结论为“不予支持”")
    return missing
