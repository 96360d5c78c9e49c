#!/usr/bin/env python
"""Excel list-export benchmark: ≈3,000 approved targets × 8 indicators (≈25,000 rows) in one year.

Usage (PostgreSQL recommended):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qdperf_bench .venv/bin/python bench/bench_targets_excel.py

Migrates, loads demo data and, if missing, bulk-creates the scale targets (fund codes ``XB-…``) for
the city region and the current fiscal year — in a child process, so the measuring process's peak
memory is not the generator's. Then, as ``perf_admin``, requests ``targets:target_list_xlsx``
in-process (Django test client) and prints seconds, file size, SQL queries and the peak memory
growth: resident set size (``ru_maxrss``) around the request, then Python allocations
(``tracemalloc``) in a second request. Targets: ≤ 15 s and ≤ 100 MB.
"""

import argparse
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qdperf.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.funds.models import SpecialFund  # noqa: E402
from apps.orgs.models import FiscalYear, Organization  # noqa: E402
from apps.targets.models import PerformanceTarget, TargetIndicator, TargetStatus  # noqa: E402

PREFIX = "XB-"
TARGETS = 3000
ROWS = [
    ("output", "quantity", "资助学生人数", "ge", Decimal("1200"), "", "人", Decimal("20")),
    ("output", "quantity", "建设项目数量", "ge", Decimal("12"), "", "个", Decimal("10")),
    ("output", "quality", "项目验收合格率", "eq", Decimal("100"), "", "%", Decimal("10")),
    ("output", "timeliness", "资金拨付及时率", "ge", Decimal("95.5"), "", "%", Decimal("10")),
    ("effect", "social", "受益群众覆盖率", "ge", Decimal("90"), "", "%", Decimal("15")),
    ("effect", "sustainable", "长效管护机制", "qualitative", None, "建立并有效运行", "", Decimal("10")),
    ("effect", "economic", "带动社会投资", "ge", Decimal("3500.25"), "", "万元", Decimal("5")),
    ("satisfaction", "service_satisfaction", "服务对象满意度", "ge", Decimal("90"), "", "%", Decimal("10")),
]


def seed(region, year: FiscalYear) -> int:
    """Bulk-create the missing ``XB-`` funds with an approved target of 8 rows each."""
    have = SpecialFund.objects.filter(region=region, fiscal_year=year, code__startswith=PREFIX).count()
    if have >= TARGETS:
        return 0
    units = list(Organization.objects.filter(region=region, kind=Organization.Kind.UNIT).select_related("parent"))
    now = timezone.now()
    made = 0
    with transaction.atomic():
        for start in range(have, TARGETS, 500):
            funds = SpecialFund.objects.bulk_create(
                [
                    SpecialFund(
                        fiscal_year=year,
                        region=region,
                        code=f"{PREFIX}{year.year}-{i:05d}",
                        name=f"规模测试专项资金第{i}号（城市品质改善提升）",
                        organization=units[i % len(units)],
                        department=units[i % len(units)].parent or units[i % len(units)],
                        fiscal_amount=Decimal("1000000") + i,
                        other_amount=Decimal("0"),
                        period_start=year.year,
                        period_end=year.year + 2,
                        request_status=SpecialFund.RequestStatus.ARRANGED,
                    )
                    for i in range(start, min(start + 500, TARGETS))
                ]
            )
            targets = PerformanceTarget.objects.bulk_create(
                [
                    PerformanceTarget(
                        kind=PerformanceTarget.Kind.FUND,
                        fund=fund,
                        organization_id=fund.organization_id,
                        fiscal_year=year,
                        status=TargetStatus.APPROVED,
                        long_term_goal="三年内完成建设任务",
                        annual_goal="完成年度建设任务，受益群众满意",
                        status_changed_at=now,
                        submitted_at=now,
                        approved_at=now,
                    )
                    for fund in funds
                ]
            )
            TargetIndicator.objects.bulk_create(
                [
                    TargetIndicator(
                        target=target,
                        sort_order=n,
                        level1=l1,
                        level2=l2,
                        name=name,
                        comparison=comparison,
                        target_value=value,
                        target_text=text,
                        unit=unit,
                        weight=weight,
                    )
                    for target in targets
                    for n, (l1, l2, name, comparison, value, text, unit, weight) in enumerate(ROWS)
                ],
                batch_size=2000,
            )
            made += len(targets)
    return made


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def export(client: Client, url: str) -> tuple[float, int, int]:
    """Seconds, bytes and SQL queries of one export request (the file is read, not kept)."""
    with CaptureQueriesContext(connection) as ctx:
        start = time.perf_counter()
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        size = sum(len(chunk) for chunk in response.streaming_content)
        seconds = time.perf_counter() - start
    response.close()
    return seconds, size, len(ctx.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    user = None
    if args.seed_only:
        call_command("migrate", verbosity=0)
        call_command("seed_demo", verbosity=0)
        user = User.objects.select_related("organization__region").get(username="perf_admin")
        year = FiscalYear.objects.get(is_current=True)
        started = time.perf_counter()
        made = seed(user.organization.region, year)
        print(f"seeded {made} targets in {time.perf_counter() - started:.1f} s" if made else "scale data present")
        return
    subprocess.run([sys.executable, __file__, "--seed-only"], check=True)
    user = User.objects.select_related("organization__region").get(username="perf_admin")
    year = FiscalYear.objects.get(is_current=True)
    region = user.organization.region
    targets = PerformanceTarget.objects.filter(organization__region=region, fiscal_year=year)
    rows = TargetIndicator.objects.filter(target__in=targets).count()
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"database: {engine}; region {region}, {year.year}: {targets.count()} targets, {rows} indicator rows")

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    url = reverse("targets:target_list_xlsx")
    export(client, url + "?status=draft")  # warm: imports, caches, the session
    before = maxrss_mb()
    seconds, size, queries = export(client, url)
    growth = maxrss_mb() - before
    print(f"list export: {seconds:.2f} s, {size / 1024 / 1024:.1f} MB file, {queries} SQL queries")
    print(f"peak RSS growth (ru_maxrss): {growth:.1f} MB (before {before:.0f} MB)")
    tracemalloc.start()
    seconds_traced, _, _ = export(client, url)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak Python allocations (tracemalloc): {peak / 1024 / 1024:.1f} MB ({seconds_traced:.2f} s traced)")
    ok = seconds <= 15 and max(growth, peak / 1024 / 1024) <= 100
    print("targets ≤ 15 s and ≤ 100 MB:", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
