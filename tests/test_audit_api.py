"""The audit supervision API: same services and scoping as the pages; referrals only for audit and
finance leadership; bad payloads refused in Chinese naming the field, nothing saved."""

import pytest

from apps.supervision.models import AuditFinding, Referral
from tests.test_audit_pages import finding, referral  # noqa: F401  (fixtures)

FINDINGS = "/api/v1/audit-findings/"
REFERRALS = "/api/v1/referrals/"


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def payload(world, year, **overrides):
    return {
        "organization": world.edu.pk,
        "fiscal_year": year.pk,
        "source_audit": "青审报〔2026〕40号",
        "category": "misuse",
        "problem": "挤占项目资金",
        "amount_involved": "88000.50",
        "deadline": "2026-12-31",
    } | overrides


def test_auditor_records_and_lists_a_finding(world, year, login):
    client = login(world.auditor)
    response = post(client, FINDINGS, payload(world, year))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["organization_name"] == world.edu.name and body["amount_involved"] == "88000.50"
    assert body["rectification_status"] == "pending" and body["rectification_deadline"] == "2026-12-31"
    assert [row["id"] for row in client.get(FINDINGS).json()["results"]] == [body["id"]]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "x"}, "category"),
        ({"organization": 999999}, "organization"),
        ({"fiscal_year": 1999}, "fiscal_year"),
        ({"amount_involved": "-5"}, "amount_involved"),
        ({"source_audit": ""}, "source_audit"),
        ({"deadline": "明天"}, "deadline"),
    ],
)
def test_bad_payload_names_the_field_and_saves_nothing(world, year, login, overrides, field):
    response = post(login(world.auditor), FINDINGS, payload(world, year, **overrides))
    assert response.status_code == 400 and field in response.json()
    assert not AuditFinding.objects.exists()


def test_a_district_unit_is_not_the_city_auditors_to_name(world, year, login):
    response = post(login(world.auditor), FINDINGS, payload(world, year, organization=world.shinan_edu.pk))
    assert response.status_code == 400 and "organization" in response.json()


@pytest.mark.parametrize("persona", ["perf_admin", "edu_approver", "finance_leader"])
def test_others_cannot_record(world, year, login, persona):
    assert post(login(getattr(world, persona)), FINDINGS, payload(world, year)).status_code == 403
    assert not AuditFinding.objects.exists()


def test_findings_are_scoped(world, finding, login):  # noqa: F811
    assert login(world.edu_approver).get(f"{FINDINGS}{finding.pk}/").status_code == 200
    assert login(world.health_filler).get(f"{FINDINGS}{finding.pk}/").status_code == 404
    assert login(world.shinan_finance).get(FINDINGS).json()["count"] == 0
    assert login(world.expert_li).get(FINDINGS).status_code == 403


def test_close_through_the_api(world, finding, login):  # noqa: F811
    client = login(world.auditor)
    refused = post(client, f"{FINDINGS}{finding.pk}/close/", {"comment": "好"})
    assert refused.status_code == 400 and "整改尚未完成" in str(refused.json())
    finding.rectification.status = "done"
    finding.rectification.save(update_fields=["status"])
    assert post(client, f"{FINDINGS}{finding.pk}/close/", {"comment": "已销号"}).json()["status"] == "closed"


@pytest.mark.parametrize("persona", ["auditor", "finance_leader"])
def test_referrals_for_audit_and_leadership(world, referral, login, persona):  # noqa: F811
    client = login(getattr(world, persona))
    assert client.get(REFERRALS).json()["count"] == 1
    assert client.get(f"{REFERRALS}{referral.pk}/").json()["subject"] == referral.subject


@pytest.mark.parametrize("persona", ["perf_admin", "edu_approver", "edu_filler", "npc_liaison", "shinan_finance"])
def test_referrals_hidden_from_everyone_else(world, referral, login, persona):  # noqa: F811
    client = login(getattr(world, persona))
    assert client.get(REFERRALS).status_code == 403
    assert client.get(f"{REFERRALS}{referral.pk}/").status_code == 403
    found = client.get(f"{FINDINGS}{referral.finding_id}/")
    assert referral.subject not in found.content.decode() and "referral" not in found.content.decode()


def test_auditor_records_and_follows_a_referral(world, finding, login):  # noqa: F811
    client = login(world.auditor)
    bad = post(client, REFERRALS, {"referred_on": "2026-06-20", "subject": "", "summary": ""})
    assert bad.status_code == 400 and {"subject", "summary"} <= set(bad.json())
    made = post(
        client,
        REFERRALS,
        {"referred_on": "2026-06-20", "subject": "某项目负责人", "summary": "涉嫌虚列支出", "finding": finding.pk},
    )
    assert made.status_code == 201
    url = f"{REFERRALS}{made.json()['id']}/"
    no_outcome = client.patch(url, {"status": "concluded"}, content_type="application/json")
    assert no_outcome.status_code == 400 and "outcome" in no_outcome.json()
    done = client.patch(url, {"status": "concluded", "outcome": "已立案"}, content_type="application/json")
    assert done.json()["status"] == "concluded"
    leader = login(world.finance_leader)
    assert leader.patch(url, {"status": "referred"}, content_type="application/json").status_code == 403
    assert Referral.objects.get().status == Referral.Status.CONCLUDED
