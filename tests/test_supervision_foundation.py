"""Supervision foundation: who may read the new records (the policy map), and ranking ties.

The pages and API of issue 8 build on these answers, so they are pinned here first: a referral to
the discipline commission is readable only by the auditor and 财政局领导, never by the department
concerned; a department reads only its own assessment breakdown.
"""

from datetime import date
from decimal import Decimal

import pytest

from apps.core import permissions
from apps.supervision.models import (
    AnnualAssessment,
    AssessedBody,
    AssessmentKind,
    AuditCategory,
    AuditFinding,
    Referral,
)
from apps.supervision.ranking import competition_ranks
from tests.conftest import PERSONAS

D = Decimal


@pytest.fixture
def referral(world, year):
    finding = AuditFinding.objects.create(
        organization=world.edu,
        fiscal_year=year,
        source_audit="青审报〔2026〕12号",
        category=AuditCategory.MISUSE,
        problem="挤占专项资金用于日常办公",
        amount_involved=D("125000.00"),
        found_on=date(2026, 6, 1),
        created_by=world.auditor,
    )
    return Referral.objects.create(
        organization=world.audit_org,
        referred_on=date(2026, 6, 10),
        subject="市教育局某项目负责人违规使用资金",
        subject_organization=world.edu,
        finding=finding,
        summary="涉嫌虚列支出",
        created_by=world.auditor,
    )


def test_referral_is_read_only_by_audit_and_finance_leadership(world, referral):
    readers = {p for p in PERSONAS if Referral.objects.restrict(getattr(world, p), "referral.view").exists()}
    assert readers == {"auditor", "finance_leader"}
    for persona in PERSONAS:
        user = getattr(world, persona)
        assert permissions.can(user, "referral.view", referral) is (persona in readers), persona
    assert set(permissions.users_who_can("referral.view", referral)) == {world.auditor, world.finance_leader}


def test_department_concerned_reads_its_finding_but_not_the_referral(world, referral):
    finding = referral.finding
    for persona in ("edu_filler", "edu_approver"):
        user = getattr(world, persona)
        assert permissions.can(user, "finding.view", finding)
        assert not permissions.can(user, "referral.view", referral)
        assert not permissions.can(user, "finding.manage", finding)
    assert not permissions.can(world.health_filler, "finding.view", finding)
    assert not permissions.can(world.shinan_finance, "finding.view", finding)
    assert permissions.can(world.auditor, "finding.manage", finding)


def test_a_department_reads_only_its_own_breakdown(world, year):
    sheet = AnnualAssessment.objects.create(
        organization=world.perf_division,
        fiscal_year=year,
        kind=AssessmentKind.DEPARTMENTS,
        title="2026年度部门预算绩效管理工作考核",
        created_by=world.perf_admin,
    )
    edu = AssessedBody.objects.create(assessment=sheet, organization=world.edu)
    health = AssessedBody.objects.create(assessment=sheet, organization=world.health)
    assert set(AssessedBody.objects.restrict(world.edu_approver, "annual.breakdown")) == {edu}
    assert set(AssessedBody.objects.restrict(world.health_filler, "annual.breakdown")) == {health}
    assert not AssessedBody.objects.restrict(world.edu_unit_filler, "annual.breakdown").exists()
    assert not AssessedBody.objects.restrict(world.shinan_finance, "annual.breakdown").exists()
    assert set(AssessedBody.objects.restrict(world.perf_admin, "annual.breakdown")) == {edu, health}
    assert permissions.can(world.perf_admin, "annual.manage", sheet)
    assert not permissions.can(world.shinan_finance, "annual.manage", sheet)
    assert not permissions.can(world.edu_approver, "annual.manage", sheet)


def test_district_office_reads_its_own_line_in_the_city_sheet(world, year):
    sheet = AnnualAssessment.objects.create(
        organization=world.perf_division,
        fiscal_year=year,
        kind=AssessmentKind.DISTRICTS,
        title="2026年度区市财政局预算绩效管理工作考核",
        created_by=world.perf_admin,
    )
    shinan = AssessedBody.objects.create(assessment=sheet, organization=world.shinan_finance_org)
    assert shinan.region == world.shinan
    assert set(AssessedBody.objects.restrict(world.shinan_finance, "annual.breakdown")) == {shinan}
    assert not AssessedBody.objects.restrict(world.shinan_edu_filler, "annual.breakdown").exists()
    assert not permissions.can(world.shinan_finance, "annual.manage", sheet)  # assessed, not assessor


@pytest.mark.parametrize(
    ("scores", "ranks"),
    [
        ([90, 85, 85, 80], [1, 2, 2, 4]),
        ([70, 95, 70, 70], [2, 1, 2, 2]),
        ([88, None, 88], [1, None, 1]),
        ([], []),
    ],
)
def test_ties_share_a_rank_and_the_next_rank_skips(scores, ranks):
    rows = [(f"单位{i}", None if s is None else D(s)) for i, s in enumerate(scores)]
    ranked = dict(competition_ranks(rows, score=lambda r: r[1]))
    assert [ranked[row] for row in rows] == ranks


def test_rows_without_score_come_last_and_ties_keep_the_given_order():
    rows = [("甲", None), ("乙", D("80")), ("丙", D("90")), ("丁", D("80"))]
    assert [(r[0], rank) for r, rank in competition_ranks(rows, score=lambda r: r[1])] == [
        ("丙", 1),
        ("乙", 2),
        ("丁", 2),
        ("甲", None),
    ]


def test_finance_leader_group_exists_after_migrations(db):
    from django.contrib.auth.models import Group

    assert Group.objects.filter(name="finance_leader").exists()
