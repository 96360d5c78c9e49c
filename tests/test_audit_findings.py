"""Audit findings open rectifications in one transaction; referrals stay with the audit bureau."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.core.models import AuditEvent
from apps.results.models import Rectification
from apps.supervision import services_audit as services
from apps.supervision.models import AuditCategory, AuditFinding, Referral

TODAY = date(2026, 6, 15)


def record_finding(world, year, **overrides):
    values = {
        "actor": world.auditor,
        "organization": world.edu,
        "fiscal_year": year,
        "source_audit": "青审报〔2026〕12号",
        "category": AuditCategory.IDLE,
        "problem": "专项资金结存 300 万元未使用",
        "requirement": "盘活结存资金",
        "deadline": date(2026, 9, 30),
        "amount_involved": "3000000",
        "found_on": date(2026, 6, 1),
        "today": TODAY,
    }
    return services.finding_create(**(values | overrides))


def test_a_finding_opens_a_rectification_for_the_responsible_unit(world, year):
    finding = record_finding(world, year)
    item = finding.rectification
    assert item.source == Rectification.Source.AUDIT
    assert item.organization == world.edu and item.region == world.city
    assert item.source_reference == "青审报〔2026〕12号"
    assert item.deadline == date(2026, 9, 30) and item.status == Rectification.Status.PENDING
    assert finding.amount_involved == Decimal("3000000.00") and finding.status == AuditFinding.Status.RECTIFYING
    kinds = set(AuditEvent.objects.filter(object_id__in=[str(finding.pk), str(item.pk)]).values_list("kind", flat=True))
    assert "create" in kinds


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "nonsense"}, "category"),
        ({"source_audit": "  "}, "source_audit"),
        ({"problem": ""}, "problem"),
        ({"amount_involved": "-1"}, "amount_involved"),
        ({"amount_involved": "三百万"}, "amount_involved"),
        ({"found_on": date(2026, 7, 1)}, "found_on"),
        ({"organization": None}, "organization"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(world, year, overrides, field):
    with pytest.raises(ValidationError) as caught:
        record_finding(world, year, **overrides)
    assert field in caught.value.message_dict
    assert not AuditFinding.objects.exists() and not Rectification.objects.exists()


@pytest.mark.parametrize("persona", ["perf_admin", "edu_approver", "shinan_finance", "finance_leader", "npc_liaison"])
def test_only_the_auditor_records_findings(world, year, persona):
    with pytest.raises(PermissionDenied):
        record_finding(world, year, actor=getattr(world, persona))
    assert not AuditFinding.objects.exists() and not Rectification.objects.exists()


def test_close_only_after_the_rectification_is_done_and_only_once(world, year):
    finding = record_finding(world, year)
    with pytest.raises(ValidationError, match="整改尚未完成"):
        services.finding_close(actor=world.auditor, finding=finding, comment="已整改")
    Rectification.objects.filter(pk=finding.rectification_id).update(status=Rectification.Status.DONE)
    with pytest.raises(PermissionDenied):
        services.finding_close(actor=world.perf_admin, finding=finding, comment="已整改")
    with pytest.raises(ValidationError):
        services.finding_close(actor=world.auditor, finding=finding, comment=" ")
    closed = services.finding_close(actor=world.auditor, finding=finding, comment="资金已盘活，予以销号")
    assert closed.status == AuditFinding.Status.CLOSED and closed.closed_by == world.auditor
    with pytest.raises(ValidationError, match="已销号"):
        services.finding_close(actor=world.auditor, finding=finding, comment="再次销号")


def test_a_referral_is_owned_by_the_audit_bureau_not_the_department(world, year):
    finding = record_finding(world, year)
    referral = services.referral_create(
        actor=world.auditor,
        referred_on=date(2026, 6, 20),
        subject="教育局某项目违规发放补贴",
        summary="涉嫌套取专项资金",
        subject_organization=world.edu,
        finding=finding,
    )
    assert referral.organization == world.audit_org and referral.status == Referral.Status.REFERRED
    event = AuditEvent.objects.get(object_id=str(referral.pk), kind="create", comment="登记移送纪委监委线索")
    assert event.organization_id == world.audit_org.pk  # not filed under the department concerned
    for persona in ("edu_filler", "edu_approver", "perf_admin", "sector_kjw"):
        assert not Referral.objects.restrict(getattr(world, persona), "referral.view").exists()


def test_only_the_auditor_records_referrals_and_bad_input_is_refused(world, year):
    with pytest.raises(PermissionDenied):
        services.referral_create(
            actor=world.finance_leader, referred_on=date(2026, 6, 20), subject="某事项", summary="摘要"
        )
    with pytest.raises(ValidationError) as caught:
        services.referral_create(actor=world.auditor, referred_on=date(2026, 6, 20), subject=" ", summary="")
    assert {"subject", "summary"} <= set(caught.value.message_dict)
    assert not Referral.objects.exists()
