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
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qdperf.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.results import npc_excel  # noqa: E402
from apps.results import selectors_npc as sel  # noqa: E402
from apps.results.scale_npc import NPC_USER, seed_scale_npc  # noqa: E402


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
