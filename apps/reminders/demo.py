"""Demo deadlines for the reminder sweep, run last in ``seed_demo`` (``seed_reminder_demo``).

The rest of the demo dates its history in the past (the 2026 monitoring round closed in August,
the 2025 self-evaluation in March), so on any given day little is *about* to fall due. This gives
the demo accounts current work with deadlines relative to the day the demo is loaded — on the
records that stand for open work, without rewriting past history:

* 青岛第二中学's returned 2026 target (``edu_unit_filler``, with ``edu_filler`` of 市教育局):
  重新报送期限 in 3 days → "还有3天到期";
* 市南区实验小学's returned 2026 target (``shinan_edu_filler``): due tomorrow → "还有1天到期";
* an audit finding for 青岛第二中学 raised five weeks ago whose 整改期限 passed 3 days ago → the
  unit is reminded "已逾期3天", and it escalates to 市教育局's approver (``edu_approver``) and to
  the finance reviewer of 教育局 (``sector_kjw``).

(The region demo of 整改 adds overdue items of 青岛市中心血站 and 市南区, which escalate to
``perf_admin`` and ``shinan_finance``.) Idempotent: a deadline already set is left alone and the
audit finding is raised once, so a second run creates 0.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.orgs.models import Organization
from apps.targets.models import PerformanceTarget, TargetStatus

# (fund code, days from today): the returned targets of the demo accounts' units.
RESUBMIT = (("370200-EDU-2026-04", 3), ("370202-EDU-2026-04", 1))
OVERDUE_UNIT = "370200-EDU-U1"  # 青岛第二中学
OVERDUE_REFERENCE = "青审财报〔2026〕15号"
OVERDUE_RAISED, OVERDUE_DAYS_LATE = 35, 3
OVERDUE_PROBLEM = "学校食堂委托经营合同到期后未按规定重新招标，继续由原经营方经营。"
OVERDUE_REQUIREMENT = "按政府采购规定重新组织招标，并报送招标文件及中标结果。"


def _resubmit_dates() -> int:
    today = timezone.localdate()
    changed = 0
    for code, days in RESUBMIT:
        changed += PerformanceTarget.objects.filter(
            fund__code=code, status=TargetStatus.RETURNED, resubmit_by__isnull=True
        ).update(resubmit_by=today + timedelta(days=days))
    return changed


def _overdue_finding() -> int:
    from apps.results import services_rectification as services
    from apps.results.demo_rectification import _raise
    from apps.results.models import Rectification

    unit = Organization.objects.filter(code=OVERDUE_UNIT).first()
    finance = User.objects.filter(username="perf_admin", is_active=True).first()
    if unit is None or finance is None:
        return 0
    if Rectification.objects.filter(organization=unit, source_reference=OVERDUE_REFERENCE).exists():
        return 0
    deadline = timezone.localdate() - timedelta(days=OVERDUE_DAYS_LATE)
    # Raised on a day in the past (so its 下达时间 and audit row come before the deadline).
    _raise(
        OVERDUE_RAISED,
        lambda: services.rectification_create(
            actor=finance,
            source=Rectification.Source.AUDIT,
            source_reference=OVERDUE_REFERENCE,
            organization=unit,
            fiscal_year=2025,
            problem=OVERDUE_PROBLEM,
            requirement=OVERDUE_REQUIREMENT,
            deadline=deadline,
        ),
    )
    return 1


@transaction.atomic
def seed_reminder_demo() -> int:
    """Set the demo's current deadlines (see the module docstring). Returns rows created or changed."""
    return _resubmit_dates() + _overdue_finding()
