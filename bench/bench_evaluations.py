#!/usr/bin/env python
"""Evaluations benchmark on the scale data (PostgreSQL):

1. Re-scoring every self-evaluation after a weight change (issue 5: ≈100,000 evaluations ≤ 60 s):
   the scale self-evaluations are topped up to every scale fund of 2025–2027 (≈99,000, see
   ``apps/evaluations/scale.py``), each region's weights are changed for each year and
   ``services.rescore`` runs region by region, as the background job does; evaluations/s and the
   process memory while re-scoring are printed. One region-year then runs through the real job
   path (``job_start`` → Celery eager → ``job_run`` with its progress writes).
2. The plan coverage check of one region (≈3,000 funds × 3 years; ≤ 300 ms):
   ``apps.evaluations.coverage.plan_coverage(plan)`` on finance plans of 2025–2027 holding a third
   of the region's funds each (skipped with a notice while the module is not there).
3. The live score preview (≤ 50 ms server time): POSTs of the typed values to
   ``evaluations:self_preview`` as the unit's filler (or, without that page, ``apply_entries``).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qdperf_bench .venv/bin/python bench/bench_evaluations.py
"""

import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qdperf.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")  # the job runs here (no worker needed)

import django  # noqa: E402

django.setup()

from decimal import Decimal  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.core.jobs import job_start  # noqa: E402
from apps.core.models import BackgroundJob  # noqa: E402
from apps.evaluations import services  # noqa: E402
from apps.evaluations.models import EvaluationPlan, KeyEvaluation, ScoringRules, SelfEvaluation  # noqa: E402
from apps.evaluations.scale import seed_scale_self_evaluations  # noqa: E402
from apps.evaluations.tasks import RESCORE_KIND, rescore_job  # noqa: E402
from apps.funds.models import SpecialFund  # noqa: E402
from apps.orgs.models import Organization  # noqa: E402

YEARS = (2025, 2026, 2027)


def rss_mb() -> float:
    """The process's resident memory now (MB), from /proc."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def change_weights(region_id: int, year: int) -> str:
    """Move 10 points between 预算执行率 and 产出 (back and forth on each run), as finance would."""
    rules, _ = ScoringRules.objects.get_or_create(region_id=region_id, fiscal_year_id=year)
    if rules.weight_execution == 10:
        rules.weight_execution, rules.weight_output = Decimal("20"), Decimal("40")
    else:
        rules.weight_execution, rules.weight_output = Decimal("10"), Decimal("50")
    rules.save()
    return f"{rules.weight_execution}/{rules.weight_output}"


def bench_rescore(bureaus) -> None:
    print("\n1. 重新计分（修改权重后全部单位自评）")
    total_scored = SelfEvaluation.objects.filter(fund__code__startswith="SC", score__isnull=False).count()
    print(f"   已计分的规模单位自评：{total_scored}")
    baseline, peak = rss_mb(), 0.0

    def sample(done, total):
        nonlocal peak
        peak = max(peak, rss_mb())

    per_year: dict[int, tuple[int, float]] = {}
    started = time.perf_counter()
    for year in YEARS:
        year_started, year_count = time.perf_counter(), 0
        for bureau in bureaus:
            change_weights(bureau.region_id, year)
            year_count += services.rescore(bureau.region_id, year, sample)
        per_year[year] = (year_count, time.perf_counter() - year_started)
    elapsed = time.perf_counter() - started
    count = sum(n for n, _ in per_year.values())
    for year, (n, seconds) in per_year.items():
        print(f"   {year}年度：{n:>7} 份  {seconds:6.1f} s  {n / seconds:7.0f} 份/秒")
    print(
        f"   合计：{count} 份，{elapsed:.1f} s，{count / elapsed:.0f} 份/秒（目标 ≤ 60 s）；"
        f"进程内存 {baseline:.0f} MB → 重新计分期间最高 {peak:.0f} MB"
    )
    # One region-year through the real job path (Celery eager here, a worker in production).
    bureau = max(
        bureaus, key=lambda b: SelfEvaluation.objects.filter(round__organization=b, round__fiscal_year=2025).count()
    )
    actor = User.objects.filter(organization=bureau).first()
    change_weights(bureau.region_id, 2025)
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        with transaction.atomic():
            params = {"region_id": bureau.region_id, "fiscal_year_id": 2025}
            job = job_start(actor=actor, kind=RESCORE_KIND, label="基准测试重新计分", params=params, task=rescore_job)
        seconds = time.perf_counter() - started
    job.refresh_from_db()
    progress_writes = sum(1 for q in ctx.captured_queries if q["sql"].startswith('UPDATE "core_backgroundjob"'))
    print(
        f"   后台任务（{bureau.region.name} 2025年度）：{job.get_status_display()}，{job.done}/{job.total} 份，"
        f"{seconds:.1f} s，进度写入 {progress_writes} 次；{job.message}"
    )
    BackgroundJob.objects.filter(pk=job.pk).delete()


def seed_plans(bureau) -> EvaluationPlan | None:
    """Finance plans of 2025–2027 for one region, a rotating third of its funds each (once)."""
    actor = User.objects.filter(organization=bureau).first()
    plans = {}
    for year in YEARS:
        plan, created = EvaluationPlan.objects.get_or_create(
            organization=bureau, fiscal_year_id=year, kind=EvaluationPlan.Kind.FINANCE,
            defaults={"name": f"{year}年度财政重点评价计划（基准）", "created_by": actor,
                      "status": EvaluationPlan.Status.ISSUED if year < YEARS[-1] else EvaluationPlan.Status.DRAFT,
                      "issued_at": timezone.now() if year < YEARS[-1] else None},
        )  # fmt: skip
        plans[year] = plan
        if created:
            funds = SpecialFund.objects.filter(region_id=bureau.region_id, fiscal_year_id=year, code__startswith="SC")
            rows = funds.order_by("code").values_list("pk", "department_id", "code")
            third = YEARS.index(year)
            KeyEvaluation.objects.bulk_create(
                [
                    KeyEvaluation(plan=plan, fund_id=pk, department_id=dept)
                    for pk, dept, code in rows
                    if int(code[-5:]) % 3 == third
                ],
                batch_size=5000,
            )
    return plans[YEARS[-1]]


def bench_coverage(bureau) -> None:
    print("\n2. 重点评价三年覆盖检查（一个区域）")
    if importlib.util.find_spec("apps.evaluations.coverage") is None:
        print("   注意：apps.evaluations.coverage 尚不存在，跳过本项。")
        return
    from apps.evaluations.coverage import plan_coverage

    plan = seed_plans(bureau)
    funds = SpecialFund.objects.filter(region_id=bureau.region_id, code__startswith="SC").count()
    planned = KeyEvaluation.objects.filter(plan__organization=bureau).count()
    plan_coverage(plan)  # warm-up
    timings, queries = [], 0
    for _ in range(20):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            result = plan_coverage(plan)
            timings.append((time.perf_counter() - started) * 1000)
        queries = len(ctx.captured_queries)
    timings.sort()
    print(
        f"   {bureau.region.name}：{funds} 个专项资金（3 年），计划中 {planned} 项重点评价；"
        f"本年范围 {result.universe} 个，计划 {result.planned} 个，应评 {result.required} 个，"
        f"缺周期 {len(result.missing)} 个"
    )
    print(
        f"   plan_coverage：中位数 {statistics.median(timings):.1f} ms，p95 {timings[18]:.1f} ms，"
        f"{queries} 条 SQL（目标 ≤ 300 ms）"
    )


def bench_preview() -> None:
    print("\n3. 实时计分（填报页面每次输入后的服务器时间）")
    evaluation = (
        SelfEvaluation.objects.filter(
            fund__code__startswith="SC",
            round__fiscal_year_id=2025,
            status=SelfEvaluation.Status.DRAFT,
            score__isnull=False,
        )  # fmt: skip
        .select_related("organization", "round__organization")
        .order_by("pk")
        .first()
    )
    lines = services.locked_lines(evaluation)
    org = evaluation.organization
    username = f"sc_{org.code.lower()}_1" if org.kind == Organization.Kind.UNIT else f"sc_{org.code.lower()}_f"
    try:
        url = reverse("evaluations:self_preview", args=[evaluation.pk])
    except NoReverseMatch:
        url = None
    timings, queries = [], 0
    if url:
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(User.objects.get(username=username))
        data = {"executed_wan": f"{(evaluation.executed_amount or 0) / 10000:.2f}"}
        for line in lines:
            prefix = f"line-{line.pk}-"
            data[prefix + "actual_value"] = "" if line.actual_value is None else f"{line.actual_value.normalize():f}"
            data[prefix + "band"] = line.band
            data[prefix + "band_percent"] = "" if line.band_percent is None else f"{line.band_percent:f}"
            data[prefix + "actual_text"] = line.actual_text
            data[prefix + "shortfall_reason"] = line.shortfall_reason
            data[prefix + "improvement_measure"] = line.improvement_measure
        assert client.post(url, data, HTTP_HX_REQUEST="true").status_code == 200
        for i in range(30):
            first = next(line for line in lines if line.indicator.comparison != "qualitative")
            data[f"line-{first.pk}-actual_value"] = str(100 + i)  # the user types
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.post(url, data, HTTP_HX_REQUEST="true")
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
            queries = len(ctx.captured_queries)
        what = f"POST {url}（htmx，含权限、计分与得分明细渲染）"
    else:
        rules = services.rules_for(evaluation.round.organization.region_id, 2025)
        entries = {line.pk: services.Entry(actual_value=line.actual_value, band=line.band,
                                           band_percent=line.band_percent) for line in lines}  # fmt: skip
        for _ in range(30):
            started = time.perf_counter()
            services.apply_entries(evaluation, lines, evaluation.executed_amount, entries, rules)
            timings.append((time.perf_counter() - started) * 1000)
        what = "services.apply_entries（预览页面尚不存在）"
    timings.sort()
    print(
        f"   {what}：{len(lines)} 项指标，中位数 {statistics.median(timings):.1f} ms，"
        f"p95 {timings[int(len(timings) * 0.95) - 1]:.1f} ms，{queries} 条 SQL（目标 ≤ 50 ms）"
    )


def main() -> None:
    call_command("migrate", verbosity=0)
    call_command("seed_scale", verbosity=0)  # no seed_demo: nothing here needs the demo accounts
    print(f"database: {connection.vendor}")
    started = time.perf_counter()
    result = seed_scale_self_evaluations(years=YEARS, all_funds=True, stdout=sys.stdout)
    if result.get("created"):
        print(f"（补充生成规模单位自评用时 {time.perf_counter() - started:.1f} 秒）")
    bureaus = list(
        Organization.objects.filter(code__startswith="SC", kind=Organization.Kind.FINANCE)
        .select_related("region")
        .order_by("region__sort_order")
    )
    bench_rescore(bureaus)
    bench_coverage(bureaus[0])
    bench_preview()


if __name__ == "__main__":
    main()
