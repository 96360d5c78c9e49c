"""Audit supervision pages: the auditor records and closes findings and keeps referrals; the
department concerned follows its finding but never sees a referral (pages, menu, rectification)."""

from datetime import date

import pytest
from django.urls import reverse

from apps.results.models import Rectification
from apps.supervision import services_audit as services
from apps.supervision.models import AuditFinding, Referral
from tests.querycount import assert_constant_queries
from tests.test_audit_findings import record_finding

FINDINGS = reverse("supervision:finding_list")
REFERRALS = reverse("supervision:referral_list")


@pytest.fixture
def finding(world, year):
    return record_finding(world, year)


@pytest.fixture
def referral(world, finding):
    return services.referral_create(
        actor=world.auditor,
        referred_on=date(2026, 6, 20),
        subject="教育局某项目违规发放补贴",
        summary="涉嫌套取专项资金",
        subject_organization=world.edu,
        finding=finding,
    )


def form_data(world, year, **overrides):
    return {
        "organization": world.edu.pk,
        "fiscal_year": year.pk,
        "source_audit": "青审报〔2026〕30号",
        "category": "idle",
        "problem": "结转资金长期未用",
        "amount_involved": "500000",
        "found_on": "2026-06-01",
        "requirement": "盘活资金",
        "deadline": "2026-12-31",
    } | overrides


def test_auditor_records_a_finding_in_the_browser_form(world, year, login):
    client = login(world.auditor)
    assert client.get(reverse("supervision:finding_create")).status_code == 200
    response = client.post(reverse("supervision:finding_create"), form_data(world, year))
    finding = AuditFinding.objects.get()
    assert response.status_code == 302 and response.url == reverse("supervision:finding_detail", args=[finding.pk])
    assert finding.rectification.organization == world.edu
    page = client.get(response.url).content.decode()
    assert "结转资金长期未用" in page and "青审报〔2026〕30号" in page and "50.00 万元" in page


def test_bad_form_input_is_shown_by_field_and_saves_nothing(world, year, login):
    client = login(world.auditor)
    response = client.post(
        reverse("supervision:finding_create"), form_data(world, year, amount_involved="abc", problem="")
    )
    page = response.content.decode()
    assert response.status_code == 200 and "涉及金额应为数字（元）" in page and "存在问题" in page
    assert not AuditFinding.objects.exists() and not Rectification.objects.exists()


@pytest.mark.parametrize("persona", ["perf_admin", "edu_approver", "finance_leader", "shinan_finance"])
def test_only_the_auditor_may_open_the_record_form(world, year, login, persona):
    client = login(getattr(world, persona))
    assert client.get(reverse("supervision:finding_create")).status_code == 403
    assert client.post(reverse("supervision:finding_create"), form_data(world, year)).status_code == 403
    assert not AuditFinding.objects.exists()


def test_department_follows_its_finding_others_get_404(world, finding, login):
    detail = reverse("supervision:finding_detail", args=[finding.pk])
    assert login(world.edu_approver).get(detail).status_code == 200
    assert "结存" in login(world.edu_approver).get(FINDINGS).content.decode()
    for persona in ("health_filler", "shinan_finance", "shinan_edu_filler"):
        client = login(getattr(world, persona))
        assert client.get(detail).status_code == 404, persona
        assert "结存" not in client.get(FINDINGS).content.decode(), persona
    assert login(world.expert_li).get(FINDINGS).status_code == 403


def test_closing_is_refused_until_done_then_works_once(world, finding, login):
    client = login(world.auditor)
    detail = reverse("supervision:finding_detail", args=[finding.pk])
    page = client.post(detail, {"comment": "已整改"}).content.decode()
    assert "整改尚未完成" in page
    Rectification.objects.filter(pk=finding.rectification_id).update(status=Rectification.Status.DONE)
    assert login(world.edu_approver).post(detail, {"comment": "自行销号"}).status_code == 403
    finding.refresh_from_db()
    assert finding.status == AuditFinding.Status.RECTIFYING
    client = login(world.auditor)  # the login fixture signs the one test client in as someone else
    assert client.post(detail, {"comment": "资金已盘活"}).status_code == 302
    finding.refresh_from_db()
    assert finding.status == AuditFinding.Status.CLOSED and finding.closed_by == world.auditor


@pytest.mark.parametrize("persona", ["auditor", "finance_leader"])
def test_referrals_are_read_by_audit_and_finance_leadership(world, referral, login, persona):
    client = login(getattr(world, persona))
    assert "教育局某项目违规发放补贴" in client.get(REFERRALS).content.decode()
    assert client.get(reverse("supervision:referral_detail", args=[referral.pk])).status_code == 200
    assert "移送线索" in client.get(reverse("core:home")).content.decode()  # the menu entry


@pytest.mark.parametrize(
    "persona",
    ["perf_admin", "sector_kjw", "edu_filler", "edu_approver", "edu_unit_filler", "shinan_finance", "npc_liaison"],
)
def test_referrals_are_hidden_from_everyone_else(world, referral, login, persona):
    client = login(getattr(world, persona))
    assert client.get(REFERRALS).status_code == 403
    assert client.get(reverse("supervision:referral_detail", args=[referral.pk])).status_code == 403
    assert (
        client.post(
            reverse("supervision:referral_detail", args=[referral.pk]), {"status": "concluded", "outcome": "x"}
        ).status_code
        == 403
    )
    assert "移送线索" not in client.get(reverse("core:home")).content.decode()
    referral.refresh_from_db()
    assert referral.status == Referral.Status.REFERRED


def test_the_department_concerned_sees_nothing_of_the_referral_on_its_own_pages(world, referral, login):
    client = login(world.edu_approver)
    pages = [
        reverse("supervision:finding_detail", args=[referral.finding_id]),
        FINDINGS,
        reverse("results:rectification_detail", args=[referral.finding.rectification_id]),
        reverse("results:rectification_list"),
    ]
    for url in pages:
        page = client.get(url).content.decode()
        assert "违规发放补贴" not in page and "套取" not in page and "纪委" not in page, url


def test_auditor_follows_a_referral_and_must_give_the_outcome_to_conclude(world, referral, login):
    client = login(world.auditor)
    detail = reverse("supervision:referral_detail", args=[referral.pk])
    assert (
        "办结或不予受理时请填写办理结果" in client.post(detail, {"status": "concluded", "outcome": ""}).content.decode()
    )
    assert client.post(detail, {"status": "concluded", "outcome": "已立案查处"}).status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.CONCLUDED and referral.outcome == "已立案查处"
    # a district's finance leadership does not exist; the finance leader reads but cannot change
    assert login(world.finance_leader).post(detail, {"status": "referred", "outcome": ""}).status_code == 403


def test_finding_list_runs_constant_queries(world, year, login):
    record_finding(world, year)
    client = login(world.auditor)
    counter = iter(range(100))

    def grow():
        for _ in range(3):
            record_finding(world, year, problem=f"问题{next(counter)}")

    assert_constant_queries(lambda: client.get(FINDINGS), grow, expected=10)


def test_demo_findings_and_referral_are_visible_to_the_right_people(db, client):
    from io import StringIO

    from django.core.management import call_command

    from apps.accounts.models import User

    call_command("seed_demo", stdout=StringIO())
    assert AuditFinding.objects.count() == 3 and Referral.objects.count() == 1
    assert set(AuditFinding.objects.values_list("rectification__source", flat=True)) == {"audit"}
    referral = Referral.objects.get()
    for username, sees in (("auditor", True), ("finance_leader", True), ("perf_admin", False)):
        client.force_login(User.objects.get(username=username))
        assert (client.get(REFERRALS).status_code == 200) is sees, username
    transport = User.objects.filter(organization=referral.subject_organization).first()
    if transport is not None:
        client.force_login(transport)
        assert client.get(REFERRALS).status_code == 403
    call_command("seed_demo", stdout=StringIO())  # repeatable: nothing new
    assert AuditFinding.objects.count() == 3 and Referral.objects.count() == 1
