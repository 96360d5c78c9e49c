"""Demo 审计监督 for ``seed_demo`` (after the rectification demo): the city audit bureau's findings
on three departments, each with its rectification for the department to work on (销号 follows
once finance accepts it), and one referral to the discipline commission that only
``auditor`` and ``finance_leader`` can see (``edu_approver`` sees its finding, never the referral).

Through the services, so the rectifications, the audit trail and the reminders are the real ones.
Created only when the bureau has no finding yet, so a second run creates 0.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.orgs.models import FiscalYear, Organization

from . import services_audit as services
from .models import AuditCategory, AuditFinding

REFERENCE = "青审报〔2026〕21号"
# (department code, category, problem, amount in 元, deadline in days from today, story)
FINDINGS = (
    ("370200-EDU", AuditCategory.IDLE, "校舍改造专项资金结存 320 万元超过一年未使用。", "3200000", 45, "open"),
    ("370200-HEALTH", AuditCategory.TARGET, "公共卫生服务项目绩效目标未细化量化，无法考核。", "0", 30, "open"),
    ("370200-TRANS", AuditCategory.MISUSE, "公路养护资金 56.8 万元用于单位日常办公支出。", "568000", 20, "referred"),
)


@transaction.atomic
def seed_audit_demo() -> int:
    auditor = User.objects.filter(username="auditor").first()
    year = FiscalYear.objects.filter(year=2025).first()
    if auditor is None or year is None or AuditFinding.objects.filter(source_audit=REFERENCE).exists():
        return 0
    today = timezone.localdate()
    created = 0
    for code, category, problem, amount, days, story in FINDINGS:
        organization = Organization.objects.filter(code=code).first()
        if organization is None:
            continue
        finding = services.finding_create(
            actor=auditor,
            organization=organization,
            fiscal_year=year,
            source_audit=REFERENCE,
            category=category,
            problem=problem,
            requirement="按审计决定书要求整改，并报送整改结果及佐证材料。",
            amount_involved=Decimal(amount),
            found_on=today - timedelta(days=40),
            deadline=today + timedelta(days=days),
            today=today,
        )
        created += 2  # the finding and its rectification
        if story == "referred":
            services.referral_create(
                actor=auditor,
                referred_on=today - timedelta(days=10),
                subject="市交通运输局公路养护资金挤占挪用问题",
                summary="审计发现公路养护资金用于日常办公支出，涉及相关责任人员，移送市纪委监委处理。",
                subject_organization=organization,
                finding=finding,
            )
            created += 1
    return created
