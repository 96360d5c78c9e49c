"""Scale data of 信息公开 for the benchmarks: about 30,000 published rows on the scale database.

Confirmed self-evaluations (with scores and grades) and approved targets of every region, published
by each region's finance, written with ``bulk_create`` in chunks with the same snapshots the service
builds (no audit rows: this is set-up data, like the other scale generators). Records already
published are skipped, so a second run adds nothing.
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.evaluations.models import SelfEvaluation
from apps.targets.models import PerformanceTarget, TargetStatus

from . import services_disclosure as services
from .models import Disclosure

K = Disclosure.Kind
CHUNK = 2000


def _publishers() -> dict[int, User]:
    """One finance user per region (finance_perf or district_finance)."""
    found: dict[int, User] = {}
    users = (
        User.objects.filter(groups__name__in=["finance_perf", "district_finance"], is_active=True)
        .select_related("organization")
        .order_by("pk")
    )
    for user in users:
        if user.organization_id:
            found.setdefault(user.organization.region_id, user)
    return found


def _publish(kind: str, ids: list[int], publishers: dict[int, User], start) -> int:
    created = 0
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        rows = []
        for n, record in enumerate(services.record_queryset(kind).filter(pk__in=chunk).order_by("pk")):
            department = services._department_of(kind, record)
            actor = publishers.get(department.region_id)
            if actor is None:
                continue
            row = services._build(kind, record, actor=actor, report=None)
            row.published_at = start - timedelta(minutes=created + n)
            rows.append(row)
        with transaction.atomic():
            Disclosure.objects.bulk_create(rows, batch_size=1000)
        created += len(rows)
    return created


def seed_scale_disclosures(total: int = 30000, stdout=None) -> int:
    began = time.monotonic()
    publishers = _publishers()
    start = timezone.now()
    done_self = services.published_ids(K.SELF_EVALUATION)
    done_targets = services.published_ids(K.TARGET)
    existing = Disclosure.objects.count()
    budget = max(total - existing, 0)
    self_ids = [
        pk
        for pk in SelfEvaluation.objects.filter(status=SelfEvaluation.Status.CONFIRMED)
        .exclude(fund__is_classified=True)
        .order_by("pk")
        .values_list("pk", flat=True)
        if pk not in done_self
    ][: budget // 3]
    created = _publish(K.SELF_EVALUATION, self_ids, publishers, start)
    target_ids = [
        pk
        for pk in PerformanceTarget.objects.filter(status=TargetStatus.APPROVED, kind=PerformanceTarget.Kind.FUND)
        .exclude(fund__is_classified=True)
        .order_by("pk")
        .values_list("pk", flat=True)
        if pk not in done_targets
    ][: max(budget - created, 0)]
    created += _publish(K.TARGET, target_ids, publishers, start - timedelta(days=30))
    if stdout is not None:
        took = time.monotonic() - began
        stdout.write(
            f"信息公开：新建 {created} 条公开记录（共 {Disclosure.objects.count()} 条），用时 {took:.1f} 秒。\n"
        )
    return created
