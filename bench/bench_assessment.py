#!/usr/bin/env python
"""Annual assessment (考核) benchmark on the scale data (PostgreSQL), issue 8:

1. Computing the draft of one region's ``departments`` assessment (≈100 departments, FY 2025) through
   the real job path (``assessment_compute_start`` → Celery eager → ``job_run``): target ≤ 30 s.
2. Computing every region's sheet (11 ``departments`` sheets + the city's ``districts`` one): ≤ 5 min.
   Each is computed twice: the first run creates the bodies and lines, the second updates them.
3. A FY 2026 city sheet as well (created here once): in the scale data only 2026 has monitoring
   rounds and rectification deadlines, so this run exercises those two metrics at scale.
4. The assessment pages (part B's views): the ranking ``/supervision/assessments/<pk>/`` and one
   body's breakdown, as the city's finance user and as the department's approver: ≤ 200 ms. Skipped
   with a notice while those views are not there.

The scale sheets come from ``seed_scale`` (``apps/supervision/scale_assessment.py``)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qdperf_bench .venv/bin/python bench/bench_assessment.py
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qdperf.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")  # the job runs here (no worker needed)

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.core.models import BackgroundJob  # noqa: E402
from apps.orgs.models import FiscalYear, Region  # noqa: E402
from apps.supervision import services_assessment as svc  # noqa: E402
from apps.supervision.models import AnnualAssessment, AssessedBody, AssessmentKind, AssessmentLine  # noqa: E402
from apps.supervision.scale_assessment import SCALE_YEAR, seed_scale_assessments  # noqa: E402
from bench.common import measure  # noqa: E402

ONE_REGION_TARGET_S = 30
ALL_REGIONS_TARGET_S = 300
PAGE_TARGET_MS = 200


def finance_user(assessment: AnnualAssessment) -> User:
    return User.objects.filter(username__startswith="sc_", organization=assessment.organization).first()


def reopen(assessment: AnnualAssessment) -> None:
    """A benchmark run may follow another: the sheet an earlier run published is withdrawn (part B's
    service), one left "计算中" by an interrupted run is set back to 待审定."""
    if assessment.status == AnnualAssessment.Status.PUBLISHED:
        from apps.supervision import services_assessment_review as review

        review.assessment_withdraw(actor=finance_user(assessment), assessment=assessment, reason="基准测试重新计算")
    elif assessment.status == AnnualAssessment.Status.COMPUTING:
        AnnualAssessment.objects.filter(pk=assessment.pk).update(status=AnnualAssessment.Status.REVIEW)
    assessment.refresh_from_db()


def compute_via_job(assessment: AnnualAssessment) -> tuple[float, BackgroundJob, int]:
    reopen(assessment)
    user = finance_user(assessment)
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        with transaction.atomic():
            job = svc.assessment_compute_start(actor=user, assessment=assessment)
        seconds = time.perf_counter() - started  # on_commit ran the eager task: the job is finished
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.DONE, job.message
    return seconds, job, len(ctx.captured_queries)


def bench_one_region(assessment: AnnualAssessment) -> None:
    print(f"\n1. 计算一个区域的考核初稿（{assessment.title}）")
    bodies = AssessedBody.objects.filter(assessment=assessment).count()
    for attempt in ("首次" if not bodies else "重新", "重新"):
        seconds, job, queries = compute_via_job(assessment)
        lines = AssessmentLine.objects.filter(body__assessment=assessment).count()
        print(f"   {attempt}计算：{seconds:6.2f} s，SQL {queries} 条，明细 {lines} 行 — {job.message}")
    verdict = "达标" if seconds <= ONE_REGION_TARGET_S else "未达标"
    print(f"   目标 ≤ {ONE_REGION_TARGET_S} s：{verdict}")


def bench_all_regions(sheets: list[AnnualAssessment]) -> None:
    print(f"\n2. 计算全部区域的考核初稿（{len(sheets)} 份）")
    total = 0.0
    for assessment in sheets:
        seconds, job, queries = compute_via_job(assessment)
        total += seconds
        bodies = AssessedBody.objects.filter(assessment=assessment).count()
        print(f"   {assessment.title[:30]:<30} 被考核单位 {bodies:>3} 个  {seconds:6.2f} s  SQL {queries} 条")
    verdict = "达标" if total <= ALL_REGIONS_TARGET_S else "未达标"
    print(f"   合计 {total:6.1f} s（目标 ≤ {ALL_REGIONS_TARGET_S} s：{verdict}）")


def bench_2026_city() -> None:
    print("\n3. 2026 年度市本级考核（规模数据中只有 2026 年有监控轮次和到期整改）")
    year = FiscalYear.objects.filter(pk=2026).first()
    city_sheet = AnnualAssessment.objects.filter(
        fiscal_year_id=SCALE_YEAR, region__level=Region.Level.CITY, kind=AssessmentKind.DEPARTMENTS
    ).first()
    if year is None or city_sheet is None:
        print("   注意：缺少 2026 年度或市本级考核，跳过本项。")
        return
    assessment = AnnualAssessment.objects.filter(
        fiscal_year=year, region_id=city_sheet.region_id, kind=AssessmentKind.DEPARTMENTS
    ).first() or svc.assessment_create(
        actor=finance_user(city_sheet), fiscal_year=year, kind=AssessmentKind.DEPARTMENTS
    )
    seconds, job, queries = compute_via_job(assessment)
    counted = {}
    for line in AssessmentLine.objects.filter(body__assessment=assessment).select_related("item"):
        counted[line.item.metric] = counted.get(line.item.metric, 0) + (line.basis.get("denominator") or 0)
    print(f"   {seconds:6.2f} s，SQL {queries} 条；各项应报/应办事项数：{counted}")


def publish(assessment: AnnualAssessment) -> bool:
    """Score the hand-scored lines and publish (part B's services), so a department sees its own
    breakdown; False when those services are not there."""
    try:
        from apps.supervision import services_assessment_review as review
    except ImportError:
        return False
    user = finance_user(assessment)
    for line in review.unscored_manual_lines(assessment):
        review.line_adjust(actor=user, line=line, points="8", reason="基准测试：人工评分", evidence="基准测试")
    review.assessment_publish(actor=user, assessment=assessment, notice="基准测试通报")
    assessment.refresh_from_db()
    return True


def bench_pages(assessment: AnnualAssessment) -> None:
    print("\n4. 考核页面（服务器时间，中位数 / p95）")
    try:
        from apps.supervision import views_assessment  # noqa: F401

        detail = reverse("supervision:assessment_detail", args=[assessment.pk])
    except Exception as exc:  # noqa: BLE001 — part B's pages may not be there yet
        print(f"   注意：考核页面尚不可用（{exc.__class__.__name__}），跳过页面计时。")
        return
    published = assessment.status == AnnualAssessment.Status.PUBLISHED or publish(assessment)
    body = AssessedBody.objects.filter(assessment=assessment).order_by("rank", "pk").first()
    breakdown = reverse("supervision:assessment_body", args=[assessment.pk, body.pk])
    approver = User.objects.filter(organization=body.organization, username__endswith="_a").first()
    checks = [
        ("排名页（市财政）", finance_user(assessment), detail),
        ("单位得分明细（市财政）", finance_user(assessment), breakdown),
        ("本部门排名页（部门审核人）", approver, detail),
        ("本部门得分明细（部门审核人）", approver, breakdown),
    ]
    if not published:
        print("   注意：考核未通报（发布服务尚不可用），部门看不到，只计时财政的页面。")
        checks = checks[:2]
    for label, user, url in checks:
        if user is None:
            print(f"   {label}：缺少规模账号，跳过。")
            continue
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        try:
            median, p95, queries = measure(client, url)
        except AssertionError as exc:
            print(f"   {label} {url}：页面返回 {exc}，跳过。")
            continue
        verdict = "达标" if p95 <= PAGE_TARGET_MS else "未达标"
        figures = f"{median:7.1f} ms / {p95:7.1f} ms  SQL {queries} 条"
        print(f"   {label:<16} {figures}（目标 ≤ {PAGE_TARGET_MS} ms：{verdict}）")


def main() -> None:
    if connection.vendor != "postgresql":
        print("请在 PostgreSQL 规模数据库上运行（DATABASE_URL）。")
        return
    seed_scale_assessments(stdout=sys.stdout)
    print()
    sheets = list(
        AnnualAssessment.objects.filter(fiscal_year_id=SCALE_YEAR, organization__code__startswith="SC")
        .select_related("region", "organization")
        .order_by("region__sort_order", "kind")
    )
    if not sheets:
        print("没有规模考核数据：请先运行 manage.py seed_scale。")
        return
    city = next(s for s in sheets if s.region.is_city and s.kind == AssessmentKind.DEPARTMENTS)
    bench_one_region(city)
    bench_all_regions(sheets)
    bench_2026_city()
    bench_pages(city)


if __name__ == "__main__":
    main()
