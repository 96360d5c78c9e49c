"""Scale rows of 预算挂钩 for ``seed_scale``: a ``BudgetDecision`` per arranged scale fund that has
none, computed in batches through ``selectors_linkage.linkage_for`` (constant queries per batch)
and written with ``bulk_create``. The decided amount is the fund's arranged amount; a departure
gets a standard reason. Idempotent (funds with a decision are skipped)."""

from __future__ import annotations

from django.utils import timezone

from apps.accounts.models import User
from apps.funds.models import SpecialFund

from . import selectors_linkage as sel
from .models import BudgetDecision

BATCH = 2000


def seed_linkage_scale(*, actor_username: str = "perf_admin", batch: int = BATCH, log=print) -> int:
    actor = User.objects.filter(username=actor_username).first() or User.objects.filter(is_active=True).first()
    if actor is None:
        return 0
    todo = SpecialFund.objects.filter(
        request_status=SpecialFund.RequestStatus.ARRANGED, arranged_amount__isnull=False, budget_decision__isnull=True
    ).order_by("pk")
    created, now, last = 0, timezone.now(), 0
    while True:
        funds = list(todo.filter(pk__gt=last).only(
            "pk", "region_id", "fiscal_year_id", "fiscal_amount", "previous_id", "arranged_amount"
        )[:batch])  # fmt: skip
        if not funds:
            break
        last = funds[-1].pk
        links = sel.linkage_for(funds)
        rows = []
        for f in funds:
            link = links[f.pk]
            rows.append(
                BudgetDecision(
                    fund_id=f.pk,
                    basis_fund_id=link.basis_fund_id,
                    last_grade=link.grade,
                    last_score=link.last.score if link.last else None,
                    grade_source=link.last.source if link.last else "",
                    suggestion=link.suggestion,
                    adjust_percent=link.adjust_percent,
                    base_amount=link.base,
                    requested_amount=link.requested,
                    suggested_amount=link.suggested,
                    decided_amount=f.arranged_amount,
                    reason="" if f.arranged_amount == link.suggested else "按预算编制时的安排（批量数据）",
                    decided_by=actor,
                    decided_at=now,
                )  # fmt: skip
            )
        BudgetDecision.objects.bulk_create(rows, ignore_conflicts=True)
        created += len(rows)
        log(f"linkage decisions: {created}")
    return created
