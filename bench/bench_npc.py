#!/usr/bin/env python
"""NPC workbook (报人大) benchmark: one region and the whole city, time and memory growth.

Usage (PostgreSQL with the scale data of ``seed_scale``):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qdperf_bench6 .venv/bin/python bench/bench_npc.py [--year 2025]

First, in a child process (so the measuring process's memory is not the generator's), it adds this
part's scale rows if they are missing (``seed_scale_npc``, idempotent): per scale finance bureau a
finance key-evaluation plan of the year with a completed evaluation of every third arranged fund
and of every fifth department; per scale department an approved department overall target with
three tasks and four indicators; an NPC liaison account ``sc_npc370200`` for 市本级. Nothing
existing is changed.

Then it writes the full workbook (all four report sets) exactly as the background job does
(``npc_excel.build_workbook``) for 市本级 as the NPC liaison and for 全市（含各区市）as the city's
finance (``finance_perf``), and prints seconds, rows, file size, SQL queries and the memory growth:
peak resident set size (``ru_maxrss``) around the run, and Python's peak allocations
(``tracemalloc``) in a second run. Targets: ≤ 15 s (region), ≤ 60 s (city), ≤ 150 MB.
"""

import argparse
import os
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from datetime import datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qdperf.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.accounts.roles import Role  # noqa: E402
from apps.evaluations.models import EvaluationPlan, KeyEvaluation  # noqa: E402
from apps.funds.models import SpecialFund  # noqa: E402
from apps.orgs.models import Organization, Region  # noqa: E402
from apps.results import npc_excel  # noqa: E402
from apps.results import selectors_npc as sel  # noqa: E402
from apps.targets.models import DepartmentTask, PerformanceTarget, TargetIndicator  # noqa: E402

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


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(user, scope, label, with_tracemalloc: bool):
    rss_before = rss_mb()
    with CaptureQueriesContext(connection) as ctx:
        start, cpu = time.perf_counter(), time.process_time()
        file, name, figures = npc_excel.build_workbook(user=user, scope=scope, sets=sel.ReportSet.values)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    size = file.seek(0, 2) / 1024 / 1024
    file.close()
    rss_growth = rss_mb() - rss_before
    peak = None
    if with_tracemalloc:
        tracemalloc.start()
        file, _, _ = npc_excel.build_workbook(user=user, scope=scope, sets=sel.ReportSet.values)
        peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
        file.close()
    t = figures["targets"]
    print(
        f"{label}: {seconds:.1f} s（本进程 CPU {cpu:.1f} s）· 项目绩效目标 {t['funds']} 个项目 {t['indicators']} 行 · "
        f"重点评价 {figures['key_evaluations']['count']} 行 · 部门整体 {figures['departments']['count']} 行 · "
        f"{size:.1f} MB 文件 · {len(ctx.captured_queries)} 条 SQL · RSS 峰值增长 {rss_growth:.0f} MB"
        + (f" · tracemalloc 峰值 {peak:.0f} MB" if peak is not None else "")
        + f" · {name}"
    )
    return seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument("--no-tracemalloc", action="store_true")
    args = parser.parse_args()
    if args.seed_only:
        seed_scale_npc(args.year)
        return
    if not args.no_seed:
        subprocess.run([sys.executable, __file__, "--seed-only", "--year", str(args.year)], check=True)
    npc = User.objects.select_related("organization__region").get(username=NPC_USER)
    finance = User.objects.select_related("organization__region").get(username="sc_sc370200-cz")
    connection.ensure_connection()
    load = os.getloadavg()
    print(
        f"数据库：{connection.vendor}，年度 {args.year}，openpyxl 使用 lxml：{npc_excel.openpyxl_uses_lxml()}，"
        f"负载 {load[0]:.1f}（{os.cpu_count()} 核）"
    )
    region = run(npc, sel.resolve_scope(npc, region="370200", year=args.year), "市本级（人大联络员）",
                 not args.no_tracemalloc)  # fmt: skip
    city = run(finance, sel.resolve_scope(finance, region=sel.ALL_REGIONS, year=args.year), "全市（含各区市）",
               not args.no_tracemalloc)  # fmt: skip
    verdict = {True: "达标", False: "未达标"}
    print(f"目标：区域 ≤ 15 s（{verdict[region <= 15]}），全市 ≤ 60 s（{verdict[city <= 60]}），内存增长 ≤ 150 MB")


if __name__ == "__main__":
    main()
