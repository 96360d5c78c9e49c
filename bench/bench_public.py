#!/usr/bin/env python
"""Public disclosure pages on the scale data (PostgreSQL), anonymous, target ≤ 100 ms server time:

1. the public list, first page; a filtered page (region + kind + grade, and year); a text search;
   a deep page; the same list as JSON;
2. one disclosure's detail page and its JSON.

Tops the scale database up to ≈30,000 published disclosures first
(``apps.results.scale_disclosure.seed_scale_disclosures``; a second run adds nothing).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qdperf_bench6 .venv/bin/python bench/bench_public.py
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qdperf.settings")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from apps.results.models import Disclosure  # noqa: E402
from apps.results.scale_disclosure import seed_scale_disclosures  # noqa: E402
from bench.common import measure  # noqa: E402

TARGET_MS = 100


def main() -> None:
    seed_scale_disclosures(stdout=sys.stdout)
    public = Disclosure.objects.public()
    print(f"公开记录：{public.count()} 条（含已撤回共 {Disclosure.objects.count()} 条）")
    client = Client(HTTP_HOST="127.0.0.1")
    sample = public.select_related("region").order_by("pk")[public.count() // 2]
    graded = public.exclude(grade="").select_related("region").order_by("pk").first()
    word = sample.title[7:11]
    base = reverse("public:disclosure_list")
    api = reverse("public:api_disclosure_list")
    cases = [
        ("公开列表 第1页", base),
        ("公开列表 区域+类型+等级", f"{base}?region={graded.region.code}&kind={graded.kind}&grade={graded.grade}"),
        ("公开列表 年度", f"{base}?year={sample.fiscal_year_id}"),
        (f"公开列表 搜索“{word}”", f"{base}?q={word}"),
        ("公开列表 第500页", f"{base}?page=500"),
        ("公开列表 JSON", api),
        (f"公开列表 JSON 搜索“{word}”", f"{api}?q={word}"),
        ("公开详情", reverse("public:disclosure_detail", args=[sample.pk])),
        ("公开详情 JSON", reverse("public:api_disclosure_detail", args=[sample.pk])),
    ]
    print(f"{'页面':<28}{'中位数 ms':>10}{'p95 ms':>10}{'SQL':>6}")
    worst = 0.0
    for label, url in cases:
        median, p95, queries = measure(client, url)
        worst = max(worst, p95)
        flag = "" if p95 <= TARGET_MS else f"  超过 {TARGET_MS} ms"
        print(f"{label:<28}{median:>10.1f}{p95:>10.1f}{queries:>6}{flag}")
    print(f"最慢 p95：{worst:.1f} ms（目标 ≤ {TARGET_MS} ms）")


if __name__ == "__main__":
    main()
