"""Demo disclosures for ``seed_demo`` (after the targets, self-evaluation and key-evaluation demos).

市财政局's ``perf_admin`` publishes, through the services (audited like real work):

* the approved 2026 targets of 市本级 (batch; one fund flagged 涉密 first, so it is skipped and never
  appears on the public pages);
* the 2025 self-evaluations finance confirmed (batch);
* every completed 2025 key evaluation, with its report file (the newest attachment);

and withdraws one published target with a reason. 市南区's ``shinan_finance`` publishes the
district's approved 2026 targets and its confirmed 2025 self-evaluations, so the public region filter
shows a district too. Each region's part only runs when that region has no disclosure yet, so a
second run changes nothing.
"""

from __future__ import annotations

import logging

from django.db import transaction

from apps.accounts.models import User
from apps.attachments.models import Attachment
from apps.evaluations.models import KeyEvaluation
from apps.funds.models import SpecialFund
from apps.orgs.models import Region

from . import services_disclosure as services
from .models import Disclosure

logger = logging.getLogger(__name__)

CITY = "370200"
DISTRICT = "370202"  # 市南区
K = Disclosure.Kind
WITHDRAW_REASON = "指标值填报有误，待部门更正后重新公开。"


def _classify_one(region: Region, year: int) -> SpecialFund | None:
    """Flag the last 市本级 fund of ``year`` with an approved target as 涉密 (the demo of the rule)."""
    fund = (
        SpecialFund.objects.filter(region=region, fiscal_year_id=year, targets__status="approved")
        .order_by("-code")
        .first()
    )
    if fund is not None and not fund.is_classified:
        fund.is_classified = True
        fund.save(update_fields=["is_classified", "updated_at"])
    return fund


def _seed_city(region: Region, finance: User, target_year: int, result_year: int) -> int:
    created = 0
    _classify_one(region, target_year)
    created += services.disclosure_publish_batch(actor=finance, kind=K.TARGET, fiscal_year=target_year).published
    created += services.disclosure_publish_batch(
        actor=finance, kind=K.SELF_EVALUATION, fiscal_year=result_year
    ).published
    completed = services.eligible_records(finance, K.KEY_EVALUATION, fiscal_year=result_year)
    for evaluation in completed.filter(status=KeyEvaluation.Status.COMPLETED):
        report = Attachment.objects.for_object(evaluation).order_by("-uploaded_at", "-pk").first()
        if report is None or services.problems(K.KEY_EVALUATION, evaluation):
            continue
        services.disclosure_publish(actor=finance, kind=K.KEY_EVALUATION, record=evaluation, report=report)
        created += 1
    first = Disclosure.objects.filter(region=region, kind=K.TARGET, status="published").order_by("pk").first()
    if first is not None:
        services.disclosure_withdraw(actor=finance, disclosure=first, reason=WITHDRAW_REASON)
    return created


def _seed_district(finance: User, target_year: int, result_year: int) -> int:
    """A district's finance publishes its approved targets and confirmed self-evaluations."""
    return sum(
        services.disclosure_publish_batch(actor=finance, kind=kind, fiscal_year=year).published
        for kind, year in ((K.TARGET, target_year), (K.SELF_EVALUATION, result_year))
    )


def seed_disclosures(target_year: int = 2026, result_year: int = 2025) -> int:
    """Publish the demo disclosures (see the module docstring); returns the rows created."""
    created = 0
    for code, username in ((CITY, "perf_admin"), (DISTRICT, "shinan_finance")):
        region = Region.objects.filter(code=code).first()
        finance = User.objects.filter(username=username).first()
        if region is None or finance is None or Disclosure.objects.filter(region=region).exists():
            continue
        with transaction.atomic():
            if code == CITY:
                created += _seed_city(region, finance, target_year, result_year)
            else:
                created += _seed_district(finance, target_year, result_year)
    logger.info("demo disclosures: %s published", created)
    return created
