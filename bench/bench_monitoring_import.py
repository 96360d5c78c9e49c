#!/usr/bin/env python
"""Execution-import benchmark: the treasury's executed amounts for the whole 市本级 round at once.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qdperf_bench .venv/bin/python bench/bench_monitoring_import.py

Needs the scale data and an open round (``seed_scale``, then ``bench/bench_monitoring.py``). Builds
an .xlsx with one row per report of the 市本级 round (up to 9,000 rows; fewer when the round has
fewer reports — the row count is printed) and times ``execution_import`` as the region's finance
user: reading and checking the file, the code look-up, the bulk update and the audit row. Then a
9,000-row file padded with unknown codes, which must be refused with every bad row listed and
nothing written, and the round's summary export. When the round has fewer than 9,000 reports,
one more import of 9,000 rows runs with reports of other rounds moved into it, all rolled back.
Target: ≤ 15 s for 9,000 rows. The round's imported figures are put back unless ``--keep``.
"""

import argparse
import io
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qdperf.settings")

import django  # noqa: E402

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from apps.core import permissions  # noqa: E402
from apps.monitoring import excel  # noqa: E402
from apps.monitoring.models import MonitoringReport, MonitoringRound  # noqa: E402

ROWS = 9000


def build(codes: list[str]) -> SimpleUploadedFile:
    """A treasury-style export: a title line, then 项目编码 / 项目名称 / 支出金额（元）."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("国库支付执行情况")
    ws.append(["国库集中支付系统 项目执行情况表"])
    ws.append(["项目编码", "项目名称", "支出金额（元）"])
    for i, code in enumerate(codes):
        ws.append([code, f"项目{i}", round((i * 7919) % 5_000_000 + 0.37, 2)])
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile("执行数.xlsx", buffer.getvalue(), content_type=excel.XLSX_CONTENT_TYPE)


def timed(fn):
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - started
    return result, seconds, len(ctx.captured_queries)


def full_size(round_, actor, codes: list[str]) -> None:
    """The round has fewer than 9,000 reports: for one measurement, move reports of other rounds
    (distinct fund codes) into it, import 9,000 rows, and roll everything back."""
    need, have, borrowed = ROWS - len(codes), set(codes), []
    others = MonitoringReport.objects.exclude(round=round_).order_by("pk").values_list("pk", "fund__code")
    for pk, code in others.iterator(chunk_size=5000):
        if code not in have:
            have.add(code)
            borrowed.append((pk, code))
            if len(borrowed) == need:
                break
    with transaction.atomic():
        MonitoringReport.objects.filter(pk__in=[pk for pk, _ in borrowed]).update(round=round_)
        upload = build(codes + [code for _, code in borrowed])
        count, seconds, queries = timed(lambda: excel.execution_import(actor=actor, round=round_, file=upload))
        print(f"import {count} rows ({len(borrowed)} reports borrowed from other rounds, rolled back): "
              f"{seconds:.2f} s, {queries} SQL queries, file {upload.size / 1024:.0f} KB")  # fmt: skip
        transaction.set_rollback(True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", action="store_true", help="leave the imported figures in the database")
    args = parser.parse_args()
    round_ = (
        MonitoringRound.objects.filter(organization__region__code="370200", status=MonitoringRound.Status.OPEN)
        .select_related("organization__region")
        .annotate(n=Count("reports"))
        .order_by("-n", "pk")
        .first()
    )
    if round_ is None:
        sys.exit("没有市本级的进行中监控轮次：请先运行 seed_scale 和 bench/bench_monitoring.py。")
    actor = permissions.users_who_can("monitoring.manage", round_.organization).order_by("pk").first()
    codes = list(
        MonitoringReport.objects.filter(round=round_).order_by("fund__code").values_list("fund__code", flat=True)
    )[:ROWS]
    saved = list(
        MonitoringReport.objects.filter(round=round_).values_list("pk", "imported_executed_amount", "imported_at")
    )
    print(f"database: {connection.vendor}; round: {round_} ({round_.organization.name}); actor: {actor.username}")
    note = "" if len(codes) >= ROWS else f" (the round has {len(codes)} reports, fewer than {ROWS})"
    print(f"rows imported: {len(codes)}{note}")

    upload = build(codes)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    count, seconds, queries = timed(lambda: excel.execution_import(actor=actor, round=round_, file=upload))
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) / 1024
    print(f"import {count} rows: {seconds:.2f} s, {queries} SQL queries, file {upload.size / 1024:.0f} KB, "
          f"peak RSS growth {grown:.0f} MB")  # fmt: skip
    upload.seek(0)
    count, seconds, queries = timed(lambda: excel.execution_import(actor=actor, round=round_, file=upload))
    print(f"re-import {count} rows: {seconds:.2f} s, {queries} SQL queries")

    padded = codes + [f"BENCH-UNKNOWN-{i:05d}" for i in range(ROWS - len(codes))]
    bad = build(padded)

    def refused():
        try:
            excel.execution_import(actor=actor, round=round_, file=bad)
        except excel.ImportRefused as exc:
            return len(exc.cell_errors)
        raise SystemExit("the padded file was not refused")

    errors, seconds, queries = timed(refused)
    print(
        f"check {len(padded)} rows ({errors} unknown codes, refused, nothing written): {seconds:.2f} s, {queries} SQL"
    )

    (file, name), seconds, queries = timed(lambda: excel.summary_export(actor=actor, round=round_))
    size = file.seek(0, os.SEEK_END)
    file.close()
    print(f"summary export ({name}): {seconds:.2f} s, {queries} SQL queries, {size / 1024:.0f} KB")

    if len(codes) < ROWS:
        full_size(round_, actor, codes)

    if not args.keep:
        MonitoringReport.objects.bulk_update(
            [MonitoringReport(pk=pk, imported_executed_amount=amount, imported_at=at) for pk, amount, at in saved],
            ["imported_executed_amount", "imported_at"],
            batch_size=1000,
        )
        print("imported figures restored (use --keep to leave them)")


if __name__ == "__main__":
    main()
