"""Reads of audit supervision; every row starts from ``restrict`` (findings) or ``referral.view``."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet, Sum

from .models import AuditFinding, Referral


def finding_list(*, user, status: str = "", q: str = "") -> QuerySet:
    rows = AuditFinding.objects.restrict(user, "finding.view").select_related(
        "organization", "fund", "rectification", "fiscal_year"
    )
    if status:
        rows = rows.filter(status=status)
    if q:
        rows = rows.filter(Q(problem__icontains=q) | Q(source_audit__icontains=q) | Q(organization__name__icontains=q))
    return rows.order_by("-found_on", "-id")


def finding_counts(rows: QuerySet) -> dict:
    return rows.aggregate(
        total=Count("id"),
        rectifying=Count("id", filter=Q(status=AuditFinding.Status.RECTIFYING)),
        closed=Count("id", filter=Q(status=AuditFinding.Status.CLOSED)),
        amount=Sum("amount_involved"),
    )


def referral_list(*, user) -> QuerySet:
    return (
        Referral.objects.restrict(user, "referral.view")
        .select_related("subject_organization", "finding", "created_by")
        .order_by("-referred_on", "-id")
    )
