#!/usr/bin/env python
"""Indicator library benchmark: search on the library page and the API over ≥10,000 indicators.

Usage (PostgreSQL: trigram ranking and the GIN index are only there):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qdperf_bench .venv/bin/python bench/bench_indicators.py

Migrates (the migration loads the ≈260 fixture indicators), loads the demo accounts and
``seed_scale_indicators`` (10,000 more, once), then requests each URL ``--repeat`` times in-process
as 绩效管理处 (perf_admin) and prints median / p95 milliseconds and SQL queries per request.
Target: ≤ 100 ms per search on PostgreSQL.
"""

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import unquote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qdperf.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.indicators.models import LibraryIndicator  # noqa: E402
from apps.indicators.scale import seed_scale_indicators  # noqa: E402
from bench.common import measure  # noqa: E402

SEARCHES = [
    {},
    {"q": "满意"},
    {"q": "入学率"},
    {"q": "学生满意度"},
    {"q": "资金拨付及时率", "sector": "general"},
    {"q": "市南区 农村 巩固率"},
    {"q": "SC-IND-0999"},
    {"sector": "education", "level1": "effect"},
    {"level2": "timeliness", "page": "5"},
]
CASES = [("perf_admin", f"/indicators/?{urlencode(p)}") for p in SEARCHES] + [
    ("perf_admin", f"/api/v1/indicators/?{urlencode(p)}") for p in SEARCHES
]
CASES += [("edu_filler", "/indicators/?" + urlencode({"q": "满意"})), ("perf_admin", "/indicators/proposals/")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--indicators", type=int, default=10000, help="额外生成的库指标数（默认 10000）")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    created = seed_scale_indicators(n=args.indicators)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    total = LibraryIndicator.objects.filter(organization__isnull=True, status="active").count()
    print(f"database: {engine}; library indicators (active): {total} (new this run: {created})")
    print(f"{'user':<12}{'url':<52}{'median ms':>10}{'p95 ms':>10}{'queries':>9}")
    clients: dict[str, Client] = {}
    for username, url in CASES:
        if username not in clients:
            clients[username] = Client(HTTP_HOST="127.0.0.1")
            clients[username].force_login(User.objects.get(username=username))
        median, p95, queries = measure(clients[username], url, args.repeat)
        print(f"{username:<12}{unquote(url):<52}{median:>10.1f}{p95:>10.1f}{queries:>9}")


if __name__ == "__main__":
    main()
