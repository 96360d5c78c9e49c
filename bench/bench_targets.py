#!/usr/bin/env python
"""Funds and targets benchmark: response time and SQL queries of the fund list, the review queue and
a target detail at scale.

Usage (PostgreSQL recommended):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qdperf_bench .venv/bin/python bench/bench_targets.py

Migrates, loads demo data, ``seed_scale`` (≈11,000 organisations, ≈25,000 users) and
``seed_scale_funds`` (≈100,000 funds with targets, ≈800,000 indicator rows) if missing, adds one
target with 30 indicator rows, then requests each URL ``--repeat`` times in-process (Django test
client: no network, no server) in fiscal year 2026 and prints the rows the list holds, median / p95
milliseconds, the SQL query count per request and whether the issue's target is met (lists p95 ≤
150 ms, target detail ≤ 100 ms). ``--explain`` also prints EXPLAIN ANALYZE of each case's slowest
query (PostgreSQL).
"""

import argparse
import os
import random
import re
import statistics
import sys
import time
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
from django.utils import timezone  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.funds.models import SpecialFund  # noqa: E402
from apps.orgs.models import Organization  # noqa: E402
from apps.targets.models import PerformanceTarget, TargetIndicator, TargetStatus  # noqa: E402
from apps.targets.scale import Library, indicator_rows, seed_scale_funds  # noqa: E402

YEAR = 2026
CITY = "370200"
DISTRICT_USER = "sc_sc370202-cz"  # district_finance of the 市南区 scale finance bureau
BENCH_CODE = f"SC{CITY}-{YEAR}-BENCH30"
LIST_P95_MS, DETAIL_P95_MS = 150, 100

# (user, url, target p95 ms or None). "{detail}" is the 30-row target's pk.
CASES = [
    ("perf_admin", "/funds/", LIST_P95_MS),
    ("perf_admin", "/funds/?q=教育", LIST_P95_MS),
    ("perf_admin", "/funds/?budget_type=general&has_approved_target=yes", LIST_P95_MS),
    ("perf_admin", "/funds/?page=20", LIST_P95_MS),
    (DISTRICT_USER, "/funds/", LIST_P95_MS),
    (DISTRICT_USER, "/funds/?budget_type=general&has_approved_target=yes&page=20", LIST_P95_MS),
    ("perf_admin", "/targets/review/", LIST_P95_MS),
    ("perf_admin", "/targets/review/?page=5", LIST_P95_MS),
    (DISTRICT_USER, "/targets/review/", LIST_P95_MS),
    ("perf_admin", "/targets/{detail}/", DETAIL_P95_MS),
]
# The same lists at ≈100 rows and at all rows: the query count must not depend on the row count.
# (Fund codes run SC<region>-<year>-00001 … 03000, so "-001" matches 100 funds, "-00" 999.)
SAME_QUERIES = [
    ("perf_admin", f"/funds/?q=SC{CITY}-{YEAR}-001", "/funds/"),
    ("perf_admin", f"/targets/review/?q=SC{CITY}-{YEAR}-00", "/targets/review/"),
    (DISTRICT_USER, f"/funds/?q=SC370202-{YEAR}-001", "/funds/"),
    (DISTRICT_USER, f"/targets/review/?q=SC370202-{YEAR}-00", "/targets/review/"),
]
COUNT_RE = re.compile(r"共 (\d+) 条")


def ensure_detail_target(rows: int = 30) -> PerformanceTarget:
    """A 市本级 scale fund of YEAR whose target (待绩效处审核, so perf_admin sees the review actions)
    has ``rows`` indicator rows; created once."""
    existing = PerformanceTarget.objects.filter(fund__code=BENCH_CODE).first()
    if existing is not None:
        return existing
    template = SpecialFund.objects.filter(code=f"SC{CITY}-{YEAR}-00001").select_related("organization").first()
    if template is None:
        raise SystemExit("规模专项资金不存在：请先运行 seed_scale_funds。")
    rng = random.Random(BENCH_CODE)
    now = timezone.now()
    with transaction.atomic():
        fund = SpecialFund.objects.get(pk=template.pk)
        fund.pk, fund.code, fund.name = None, BENCH_CODE, f"{template.name}（30 项指标）"
        fund.request_status = SpecialFund.RequestStatus.SUBMITTED
        fund.arranged_amount, fund.arrangement_comment = None, ""
        fund.save()
        target = PerformanceTarget.objects.create(
            kind=PerformanceTarget.Kind.FUND, fund=fund, organization_id=fund.organization_id, fiscal_year_id=YEAR,
            version=1, status=TargetStatus.PERF_REVIEW, long_term_goal="到2028年，项目覆盖面和服务质量显著提升。",
            annual_goal=f"{YEAR}年完成年度任务，资金使用规范高效。", status_changed_at=now, submitted_at=now,
        )  # fmt: skip
        program = fund.description.split("，", 1)[0] or fund.name
        indicators = indicator_rows(rng, program=program, sector=fund.sector, rows=rows, library=Library.load())
        for row in indicators:
            row.target = target
        TargetIndicator.objects.bulk_create(indicators)
    return target


def measure(client: Client, url: str, repeat: int) -> tuple[float, float, int, int | None, list]:
    timings, queries, captured = [], 0, []
    client.get(url)  # warm caches
    rows = None
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries, captured = len(ctx.captured_queries), ctx.captured_queries
        match = COUNT_RE.search(response.content.decode())
        rows = int(match.group(1)) if match else None
    timings.sort()
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    return statistics.median(timings), p95, queries, rows, captured


def explain(captured: list) -> None:
    if connection.vendor != "postgresql" or not captured:
        return
    slowest = max(captured, key=lambda q: float(q["time"]))
    print(f"    slowest query ({float(slowest['time']) * 1000:.1f} ms): {slowest['sql'][:300]}…")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
        for (line,) in cursor.fetchall():
            print(f"      {line}")


def client_for(clients: dict[str, Client], username: str) -> Client | None:
    if username not in clients:
        user = User.objects.filter(username=username).first()
        if user is None:
            return None
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        session = client.session
        session["fiscal_year"] = YEAR
        session.save()
        clients[username] = client
    return clients[username]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest query of each case")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    call_command("seed_scale", verbosity=0)
    seed_scale_funds()
    detail = ensure_detail_target()
    if connection.vendor == "postgresql":
        # Bulk-loaded tables need planner statistics; autovacuum may be off or not have run yet.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(
        f"database: {engine}; organisations: {Organization.objects.count()}; funds: {SpecialFund.objects.count()}; "
        f"targets: {PerformanceTarget.objects.count()}; indicator rows: {TargetIndicator.objects.count()}; "
        f"year {YEAR}; 30-row target: {detail.pk}"
    )
    header = f"{'user':<16}{'url':<62}{'rows':>7}{'median ms':>10}{'p95 ms':>9}{'queries':>8}  target"
    print(header)
    clients: dict[str, Client] = {}
    for username, url, limit in CASES:
        url = url.format(detail=detail.pk)
        client = client_for(clients, username)
        if client is None:
            print(f"{username:<16}{url:<62}  (no such user)")
            continue
        median, p95, queries, rows, captured = measure(client, url, args.repeat)
        verdict = f"p95 ≤ {limit}: {'ok' if p95 <= limit else 'MISSED'}" if limit else ""
        shown = rows if rows is not None else ""
        print(f"{username:<16}{url:<62}{shown:>7}{median:>10.1f}{p95:>9.1f}{queries:>8}  {verdict}")
        if args.explain:
            explain(captured)
    print()
    print("query count at ≈100 rows versus all rows (must be equal):")
    print(f"{'user':<16}{'small url':<44}{'rows':>7}{'queries':>8}   {'all rows url':<20}{'rows':>7}{'queries':>8}")
    for username, small, full in SAME_QUERIES:
        client = client_for(clients, username)
        if client is None:
            continue
        _, _, q_small, r_small, _ = measure(client, small, 3)
        _, _, q_full, r_full, _ = measure(client, full, 3)
        same = "same" if q_small == q_full else "DIFFERENT"
        print(f"{username:<16}{small:<44}{r_small or 0:>7}{q_small:>8}   {full:<20}{r_full or 0:>7}{q_full:>8}  {same}")


if __name__ == "__main__":
    main()
