"""整改 of a large deployment, in bulk (for benchmarks).

``seed_scale_rectifications()`` raises about two items per finance-confirmed scale self-evaluation
with a shortfall (``SelfEvaluationLine.shortfall_reason`` set; at most two lines each), prefilled
like ``rectifications_from_self_evaluation`` does, in a realistic spread of statuses and
deadlines: ≈35 % 待整改, 25 % 整改中, 15 % 待核实, 25 % 已完成; about a fifth of the open ones past
their deadline (逾期) and ≈5 % reopened once. Written with ``bulk_create`` from one streamed query
(no audit rows and no evidence files: this is benchmark volume, not a story).

Deterministic (seeded from the evaluation id) and created once: an evaluation that already has
items is skipped, so a second run changes nothing.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.evaluations.models import SelfEvaluation, SelfEvaluationLine
from apps.orgs.models import Organization

from .models import Rectification

CODE_PREFIX = "SC"
BATCH = 5000
PER_EVALUATION = 2
S = Rectification.Status
# 20 slots: (status, reopened)
SPREAD = [(S.PENDING, False)] * 7 + [(S.IN_PROGRESS, False)] * 4 + [(S.IN_PROGRESS, True)] + \
    [(S.VERIFYING, False)] * 3 + [(S.DONE, False)] * 5  # fmt: skip
REQUIREMENT = "请针对偏差原因落实改进措施，按期报送整改情况和佐证材料。"


def _say(stdout, message: str) -> None:
    stdout.write(message + "\n")


def _finance_users() -> dict[int, int]:
    """region id → a finance user of the region (the one who raises and verifies)."""
    users = (
        User.objects.filter(
            organization__kind=Organization.Kind.FINANCE,
            groups__name__in=("finance_perf", "district_finance"),
            is_active=True,
        )
        .order_by("pk")
        .values_list("organization__region_id", "pk")
    )
    found: dict[int, int] = {}
    for region_id, pk in users:
        found.setdefault(region_id, pk)
    return found


def seed_scale_rectifications(stdout=None) -> dict:
    stdout = stdout or sys.stdout
    started = time.perf_counter()
    today = timezone.localdate()
    now = timezone.now()
    finance = _finance_users()
    lines = (
        SelfEvaluationLine.objects.filter(
            evaluation__fund__code__startswith=CODE_PREFIX,
            evaluation__status=SelfEvaluation.Status.CONFIRMED,
        )
        .exclude(shortfall_reason="")
        .exclude(evaluation__rectifications__isnull=False)
        .order_by("evaluation_id", "indicator__sort_order", "indicator_id")
        .values_list(
            "evaluation_id", "evaluation__organization_id", "evaluation__organization__region_id",
            "evaluation__fund_id", "evaluation__round__fiscal_year_id", "indicator__name", "shortfall_reason",
            "improvement_measure",
        )
    )  # fmt: skip
    created = evaluations = 0
    batch: list[Rectification] = []
    current, taken = None, 0
    with transaction.atomic():
        for evaluation_id, org_id, region_id, fund_id, year, name, reason, measure in lines.iterator(chunk_size=5000):
            if evaluation_id != current:
                current, taken = evaluation_id, 0
                evaluations += 1
            if taken == PER_EVALUATION or region_id not in finance:
                continue
            taken += 1
            rng = random.Random(evaluation_id * 10 + taken)
            status, reopened = rng.choice(SPREAD)
            overdue = status != S.DONE and rng.random() < 0.2
            deadline = (
                today - timedelta(days=rng.randint(1, 60)) if overdue else today + timedelta(days=rng.randint(5, 120))
            )
            if status == S.DONE:
                deadline = today + timedelta(days=rng.randint(-60, 60))
            started_work = status != S.PENDING
            submitted = status in (S.VERIFYING, S.DONE)
            item = Rectification(
                source=Rectification.Source.SELF_EVALUATION,
                self_evaluation_id=evaluation_id,
                source_reference=f"自评指标：{name}",
                fund_id=fund_id,
                organization_id=org_id,
                region_id=region_id,
                fiscal_year_id=year,
                problem=f"指标“{name}”未完成年度目标。偏差原因：{reason}",
                requirement=REQUIREMENT,
                deadline=deadline,
                measures=measure,
                progress_note="已按整改措施推进，相关资料正在整理。" if started_work else "",
                status=status,
                submitted_at=now - timedelta(days=rng.randint(1, 20)) if submitted else None,
                completed_on=today - timedelta(days=rng.randint(0, 10)) if status == S.DONE else None,
                verified_by_id=finance[region_id] if status == S.DONE or reopened else None,
                verified_at=now - timedelta(days=rng.randint(0, 10)) if status == S.DONE or reopened else None,
                verification_comment="请补充落实情况的佐证材料。" if reopened else "",
                reopen_count=1 if reopened else 0,
                created_by_id=finance[region_id],
            )
            batch.append(item)
            if len(batch) >= BATCH:
                Rectification.objects.bulk_create(batch)
                created += len(batch)
                batch = []
        if batch:
            Rectification.objects.bulk_create(batch)
            created += len(batch)
    if connection.vendor == "postgresql" and created:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Rectification._meta.db_table}")
    elapsed = time.perf_counter() - started
    if created:
        _say(stdout, f"整改：{evaluations} 份有偏差的单位自评，新建整改事项 {created} 项，用时 {elapsed:.1f} 秒。")
    else:
        _say(stdout, "规模整改事项已存在（或没有已审核且有偏差的规模单位自评），未做改动。")
    return {"created": created, "evaluations": evaluations, "seconds": round(elapsed, 1)}
