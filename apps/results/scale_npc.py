"""Scale data the NPC workbook reads beyond the funds and targets of ``seed_scale``: a finance
key-evaluation plan per region with completed evaluations, and department overall targets."""

import random
import sys
import time
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.evaluations.models import EvaluationPlan, KeyEvaluation
from apps.funds.models import SpecialFund
from apps.orgs.models import Organization, Region
from apps.targets.models import DepartmentTask, PerformanceTarget, TargetIndicator

PREFIX = "SC"
NPC_USER = "sc_npc370200"
PLAN_NAME = "{year}年度财政重点评价（规模数据）"
GRADES = [
    ("excellent", Decimal("93.50")),
    ("good", Decimal("85.00")),
    ("fair", Decimal("72.25")),
    ("poor", Decimal("55.00")),
]
INDICATORS = [
    ("output", "quantity", "年度主要任务完成数", "ge", Decimal("12"), "项", Decimal("30")),
    ("output", "quality", "任务验收合格率", "ge", Decimal("95"), "%", Decimal("20")),
    ("effect", "social", "服务对象覆盖人数", "ge", Decimal("5000"), "人", Decimal("30")),
    ("satisfaction", "service_satisfaction", "服务对象满意度", "ge", Decimal("90"), "%", Decimal("20")),
]


def seed_scale_npc(year: int = 2025, stdout=sys.stdout) -> dict:
    """Add this part's scale rows for ``year`` if missing (see the module docstring)."""
    started = time.perf_counter()
    rng = random.Random(year)
    bureaus = list(
        Organization.objects.filter(code__startswith=PREFIX, kind=Organization.Kind.FINANCE).select_related("region")
    )
    counts = {"plans": 0, "evaluations": 0, "department_targets": 0}
    completed = timezone.make_aware(datetime(year + 1, 8, 31, 17, 0))
    with transaction.atomic():
        for bureau in bureaus:
            if EvaluationPlan.objects.filter(organization=bureau, fiscal_year_id=year).exists():
                continue
            creator = User.objects.filter(organization=bureau).first()
            plan = EvaluationPlan.objects.create(
                organization=bureau, fiscal_year_id=year, kind=EvaluationPlan.Kind.FINANCE,
                name=PLAN_NAME.format(year=year), status=EvaluationPlan.Status.ISSUED, created_by=creator,
                issued_at=completed,
            )  # fmt: skip
            counts["plans"] += 1
            targets = dict(
                PerformanceTarget.objects.filter(
                    kind="fund", status="approved", fiscal_year_id=year, fund__region=bureau.region,
                    fund__request_status=SpecialFund.RequestStatus.ARRANGED,
                ).values_list("fund_id", "pk")
            )  # fmt: skip
            funds = SpecialFund.objects.filter(pk__in=list(targets)).order_by("code").values_list("pk", "department_id")
            evaluations = []
            for i, (fund_id, dept_id) in enumerate(funds):
                if i % 3:
                    continue
                grade, score = GRADES[rng.randrange(4)]
                evaluations.append(KeyEvaluation(
                    plan=plan, subject="fund", fund_id=fund_id, department_id=dept_id, target_id=targets[fund_id],
                    status="completed", score=score, grade=grade, completed_at=completed, status_changed_at=completed,
                    findings="部分绩效指标设置不够细化，资金拨付进度偏慢。",
                    recommendations="细化量化指标，加快资金拨付，按季度跟踪执行。",
                ))  # fmt: skip
            departments = list(
                Organization.objects.filter(
                    region=bureau.region, kind=Organization.Kind.DEPARTMENT, code__startswith=PREFIX
                ).order_by("code")
            )
            dept_targets = PerformanceTarget.objects.bulk_create(
                [
                    PerformanceTarget(
                        kind="department", organization=d, fiscal_year_id=year, version=1, status="approved",
                        long_term_goal="三年内全面完成部门重点任务，提升公共服务水平。",
                        annual_goal=f"{year}年完成部门年度主要任务，预算执行率不低于95%。", approved_at=completed,
                    )
                    for d in departments
                ]
            )  # fmt: skip
            counts["department_targets"] += len(dept_targets)
            DepartmentTask.objects.bulk_create(
                [
                    DepartmentTask(target=t, sort_order=k, name=name, amount=Decimal(rng.randrange(100, 5000)) * 10000)
                    for t in dept_targets
                    for k, name in enumerate(["保障基本运转", "推进重点项目建设", "提升公共服务能力"], start=1)
                ]
            )
            TargetIndicator.objects.bulk_create(
                [
                    TargetIndicator(target=t, sort_order=k, level1=l1, level2=l2, name=name, comparison=comp,
                                    target_value=value, unit=unit, weight=weight)
                    for t in dept_targets
                    for k, (l1, l2, name, comp, value, unit, weight) in enumerate(INDICATORS, start=1)
                ]
            )  # fmt: skip
            for k, t in enumerate(dept_targets):
                if k % 5 == 0:
                    grade, score = GRADES[rng.randrange(4)]
                    evaluations.append(KeyEvaluation(
                        plan=plan, subject="department", department_id=t.organization_id, target=t,
                        status="completed", score=score, grade=grade, completed_at=completed,
                        status_changed_at=completed, findings="部门整体绩效目标与预算衔接不够紧密。",
                        recommendations="将年度主要任务与预算项目逐项对应。",
                    ))  # fmt: skip
            KeyEvaluation.objects.bulk_create(evaluations, batch_size=2000)
            counts["evaluations"] += len(evaluations)
        city = Region.objects.get(code="370200")
        npc_org, _ = Organization.objects.get_or_create(
            code=f"{PREFIX}370200-NPC",
            defaults={"name": "规模测试人大常委会预算工作室", "kind": Organization.Kind.NPC, "region": city},
        )
        if not User.objects.filter(username=NPC_USER).exists():
            user = User.objects.create(username=NPC_USER, real_name="规模人大联络员", organization=npc_org)
            user.set_unusable_password()
            user.save()
            user.groups.set([Group.objects.get(name=Role.NPC_LIAISON)])
    if connection.vendor == "postgresql" and counts["plans"]:
        with connection.cursor() as cursor:
            for model in (EvaluationPlan, KeyEvaluation, PerformanceTarget, DepartmentTask, TargetIndicator):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    stdout.write(f"报人大规模数据：{counts}，用时 {time.perf_counter() - started:.1f} 秒。\n")
    return counts
