#!/usr/bin/env python
"""Dashboard benchmark (分析看板) on the scale data: the figures of the city (市本级), a district,
the comparison of the 11 regions and a department's own dashboard — median / p95 / SQL queries of
the selectors alone and of the whole page (through the test client).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qdperf_bench6 .venv/bin/python bench/bench_dashboard.py [year]

Read-only on the business data (needs ``seed_scale`` to have run; migrates nothing, seeds nothing).
The page timings log the scale users in, which writes a session row. Target: ≤ 300 ms with ≈ 100,000
funds in the database.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qdperf.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.funds.models import SpecialFund  # noqa: E402
from apps.results import selectors_dashboard as sel  # noqa: E402
from bench.common import measure  # noqa: E402

REPEAT = 15


def time_it(fn, repeat: int = REPEAT) -> tuple[float, float, int]:
    fn()
    timings, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            fn()
            timings.append((time.perf_counter() - start) * 1000)
        queries = len(ctx.captured_queries)
    timings.sort()
    return statistics.median(timings), timings[max(int(len(timings) * 0.95) - 1, 0)], queries


def main() -> None:
    year = int(sys.argv[1]) if len(sys.argv) > 1 else 2025
    users = {
        "city (市本级)": ("sc_sc370200-cz", None),
        "district (市南区)": ("sc_sc370202-cz", None),
        "department": ("sc_sc370200-d000_a", None),
    }
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit") if connection.vendor == "postgresql" else None
        jit = cursor.fetchone()[0] if connection.vendor == "postgresql" else "n/a"
    print(
        f"database: {connection.vendor} (jit={jit}); funds in the database: {SpecialFund.objects.count():,};",
        f"year {year}",
    )
    print(f"{'case':<22}{'what':<10}{'funds':>8}{'median ms':>11}{'p95 ms':>9}{'queries':>9}")
    for label, (username, region) in users.items():
        user = User.objects.select_related("organization__region").get(username=username)
        scope = sel.resolve_scope(user, region_code=region, year=year)
        data = sel.dashboard(user, scope)
        med, p95, q = time_it(lambda user=user, scope=scope: sel.dashboard(user, scope))
        print(f"{label:<22}{'selectors':<10}{data.summary['funds']:>8}{med:>11.1f}{p95:>9.1f}{q:>9}")
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        med, p95, q = measure(client, f"/results/dashboard/?year={year}", repeat=REPEAT)
        print(f"{label:<22}{'page':<10}{data.summary['funds']:>8}{med:>11.1f}{p95:>9.1f}{q:>9}")
    admin = User.objects.select_related("organization__region").get(username="sc_sc370200-cz")
    panel = sel.comparison(admin, year=year)
    med, p95, q = time_it(lambda: sel.comparison(admin, year=year))
    funds = sum(row[1] for row in panel.rows)
    print(f"{'comparison (11 区域)':<22}{'selectors':<10}{funds:>8}{med:>11.1f}{p95:>9.1f}{q:>9}")
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    med, p95, q = measure(client, f"/results/dashboard/compare/?year={year}", repeat=REPEAT)
    print(f"{'comparison (11 区域)':<22}{'page':<10}{funds:>8}{med:>11.1f}{p95:>9.1f}{q:>9}")
    med, p95, q = measure(client, f"/results/dashboard/?region=370202&year={year}", repeat=REPEAT)
    print(f"{'city → 市南区':<22}{'page':<10}{'':>8}{med:>11.1f}{p95:>9.1f}{q:>9}")


if __name__ == "__main__":
    main()
