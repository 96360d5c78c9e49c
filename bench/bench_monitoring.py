#!/usr/bin/env python
"""Monitoring benchmark: opening a round on the scale data (first open, then a second open), then
the warning list and the department chart of a region as its finance user (median / p95 / queries).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qdperf_bench .venv/bin/python bench/bench_monitoring.py

Needs the scale data (``seed_scale``); opens the 7-月末 round of 2026 for every region's scale
finance bureau and prints seconds and reports created per region.
"""

import os
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qdperf.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.monitoring.models import MonitoringReport  # noqa: E402
from apps.monitoring.services import round_open  # noqa: E402
from apps.orgs.models import FiscalYear, Organization  # noqa: E402
from bench.common import measure  # noqa: E402


def main() -> None:
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    call_command("seed_scale", verbosity=0)
    year = FiscalYear.objects.get(pk=2026)
    print(f"database: {connection.vendor}; fiscal year {year.year}")
    print(f"{'region':<22}{'open s':>9}{'created':>9}{'reopen s':>10}{'created':>9}")
    for bureau in Organization.objects.filter(code__startswith="SC", kind="finance").select_related("region"):
        actor = User.objects.filter(organization=bureau).first()
        started = time.perf_counter()
        _, made = round_open(
            actor=actor, organization=bureau, fiscal_year=year, data_as_of=date(2026, 7, 31), due_on=date(2026, 8, 15)
        )
        first = time.perf_counter() - started
        started = time.perf_counter()
        _, again = round_open(
            actor=actor, organization=bureau, fiscal_year=year, data_as_of=date(2026, 7, 31), due_on=date(2026, 8, 15)
        )
        second = time.perf_counter() - started
        print(f"{bureau.region.name:<22}{first:>9.2f}{made:>9}{second:>10.2f}{again:>9}")
    print(f"reports in total: {MonitoringReport.objects.count()}")
    fill_some_reports()
    print(f"{'user':<16}{'url':<40}{'median ms':>10}{'p95 ms':>9}{'queries':>9}")
    for username in ("perf_admin", "sc_sc370202-cz"):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(User.objects.get(username=username))
        client.post("/year/", {"year": 2026})
        for url in ("/monitoring/warnings/", "/monitoring/warnings/?kind=behind_schedule", "/monitoring/"):
            median, p95, queries = measure(client, url)
            print(f"{username:<16}{url:<40}{median:>10.1f}{p95:>9.1f}{queries:>9}")


def fill_some_reports() -> None:
    """Give a third of the scale reports an executed amount (some behind schedule) once."""
    reports = MonitoringReport.objects.filter(fund__code__startswith="SC", executed_amount__isnull=True)
    batch = []
    for i, report in enumerate(reports.only("pk", "budget_amount").iterator(chunk_size=5000)):
        if i % 3 == 0:
            report.executed_amount = (report.budget_amount * Decimal(20 + (i % 60)) / 100).quantize(Decimal("0.01"))
            batch.append(report)
    MonitoringReport.objects.bulk_update(batch, ["executed_amount"], batch_size=5000)


if __name__ == "__main__":
    main()
