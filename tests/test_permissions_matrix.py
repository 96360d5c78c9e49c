"""The role × action × owner matrix: the table later apps extend with their own actions.

For each persona and each owner organisation the expected visibility is written out by hand, and
three answers must agree with it: ``restrict`` (which rows), ``can`` (this row) and
``users_who_can`` (who), so pages, services and reminder routing can never disagree.
"""

import pytest
from guardian.shortcuts import assign_perm

from apps.core import permissions
from apps.orgs.models import Organization
from tests.conftest import PERSONAS
from tests.testapp.models import Dossier

OWNERS = ["edu", "edu_unit", "sci", "health", "shinan_edu_unit"]

# persona → owners whose dossier it may *view* (dossier.view)
VIEW = {
    "perf_admin": {"edu", "edu_unit", "sci", "health"},
    "sector_kjw": {"edu", "edu_unit", "sci", "health"},
    "finance_leader": set(),  # the test policy grants the leader nothing
    "edu_filler": {"edu", "edu_unit"},
    "edu_approver": {"edu", "edu_unit"},
    "edu_unit_filler": {"edu_unit"},
    "health_filler": {"health"},
    "shinan_finance": {"shinan_edu_unit"},
    "shinan_edu_filler": {"shinan_edu_unit"},  # a department sees its units
    "npc_liaison": {"edu", "edu_unit", "sci", "health"},
    "auditor": {"edu", "edu_unit", "sci", "health"},
    "expert_li": {"sci"},  # only the one assigned to the expert
    "sysadmin": set(),
    "shinan_sysadmin": set(),
    "security_admin": set(),
    "audit_admin": set(),
}
# persona → owners whose dossier it may *review* (dossier.review: sector reviewers only their departments)
REVIEW = {p: set() for p in PERSONAS} | {
    "sector_kjw": {"edu", "edu_unit", "sci"},
    "shinan_finance": {"shinan_edu_unit"},
}
SUBMIT = {p: set() for p in PERSONAS} | {"edu_approver": {"edu", "edu_unit"}}
APPROVE = {p: set() for p in PERSONAS} | {
    "perf_admin": {"edu", "edu_unit", "sci", "health"},
    "shinan_finance": {"shinan_edu_unit"},
}
MATRIX = {"dossier.view": VIEW, "dossier.review": REVIEW, "dossier.submit": SUBMIT, "dossier.approve": APPROVE}


@pytest.fixture
def dossiers(world):
    made = {
        owner: Dossier.objects.create(organization=getattr(world, owner), title=f"{owner} 项目") for owner in OWNERS
    }
    assign_perm("testapp.view_dossier", world.expert_li, made["sci"])
    return made


@pytest.mark.parametrize("action", sorted(MATRIX))
@pytest.mark.parametrize("persona", PERSONAS)
def test_restrict_and_can_follow_the_matrix(world, dossiers, persona, action):
    user = getattr(world, persona)
    expected = MATRIX[action][persona]
    visible = set(Dossier.objects.restrict(user, action).values_list("title", flat=True))
    assert visible == {f"{owner} 项目" for owner in expected}
    for owner, dossier in dossiers.items():
        assert permissions.can(user, action, dossier) is (owner in expected), owner


@pytest.mark.parametrize("action", sorted(MATRIX))
def test_users_who_can_mirrors_can(world, dossiers, action):
    for owner, dossier in dossiers.items():
        expected = {p for p in PERSONAS if owner in MATRIX[action][p]}
        assert set(permissions.users_who_can(action, dossier).values_list("username", flat=True)) == expected, owner


def test_inactive_user_sees_nothing(world, dossiers):
    world.perf_admin.is_active = False
    assert not Dossier.objects.restrict(world.perf_admin, "dossier.view").exists()
    assert not permissions.can(world.perf_admin, "dossier.view", dossiers["edu"])


def test_unknown_action_is_a_programming_error(world):
    with pytest.raises(KeyError, match="unknown action"):
        Dossier.objects.restrict(world.perf_admin, "dossier.fly")


ORG_VIEW = {
    "perf_admin": "all",
    "edu_filler": {"T-EDU", "T-EDU-U1"},
    "edu_unit_filler": {"T-EDU-U1"},
    "health_filler": {"T-HEALTH", "T-HEALTH-U1"},
    "shinan_edu_filler": {"T-SN-EDU", "T-SN-EDU-U1"},
    "expert_li": {"T-EXP"},
    "security_admin": set(),
    "audit_admin": set(),
}


@pytest.mark.parametrize("persona", sorted(ORG_VIEW))
def test_organization_visibility(world, persona):
    user = getattr(world, persona)
    codes = set(
        Organization.objects.restrict(user, "org.view").filter(code__startswith="T-").values_list("code", flat=True)
    )
    expected = ORG_VIEW[persona]
    if expected == "all":
        expected = set(Organization.objects.filter(code__startswith="T-").values_list("code", flat=True))
    assert codes == expected


@pytest.mark.parametrize("persona", ["sector_kjw", "shinan_finance", "npc_liaison", "auditor", "sysadmin"])
def test_region_readers_see_exactly_their_region(world, persona):
    user = getattr(world, persona)
    regions = set(Organization.objects.restrict(user, "org.view").values_list("region_id", flat=True))
    assert regions == {user.organization.region_id}


# --- Special funds and targets (issue 3): the same three answers on the real models -----------

CITY_FINANCE_READERS = {"perf_admin", "sector_kjw", "npc_liaison", "auditor", "finance_leader"}
FUND_MATRIX = {
    # action → persona → owners (funds owned by these organisations) the persona may act on
    "fund.view": {p: set() for p in PERSONAS}
    | {p: {"edu", "edu_unit", "sci", "health"} for p in CITY_FINANCE_READERS}
    | {"edu_filler": {"edu", "edu_unit"}, "edu_approver": {"edu", "edu_unit"}, "edu_unit_filler": {"edu_unit"},
       "health_filler": {"health"}, "shinan_finance": {"shinan_edu_unit"}, "shinan_edu_filler": {"shinan_edu_unit"}},
    "fund.submit": {p: set() for p in PERSONAS} | {"edu_approver": {"edu", "edu_unit"}},
    "fund.arrange": {p: set() for p in PERSONAS}
    | {"perf_admin": {"edu", "edu_unit", "sci", "health"}, "shinan_finance": {"shinan_edu_unit"}},
    "target.edit": {p: set() for p in PERSONAS}
    | {"edu_filler": {"edu", "edu_unit"}, "edu_approver": {"edu", "edu_unit"}, "edu_unit_filler": {"edu_unit"},
       "health_filler": {"health"}, "shinan_edu_filler": {"shinan_edu_unit"}},
    "target.sector_review": {p: set() for p in PERSONAS}
    | {"sector_kjw": {"edu", "edu_unit", "sci"}, "shinan_finance": {"shinan_edu_unit"}},
    "target.approve": {p: set() for p in PERSONAS}
    | {"perf_admin": {"edu", "edu_unit", "sci", "health"}, "shinan_finance": {"shinan_edu_unit"}},
}  # fmt: skip


@pytest.fixture
def funds(world):
    from decimal import Decimal

    from apps.funds.models import SpecialFund
    from apps.orgs.models import FiscalYear

    year = FiscalYear.objects.get_or_create(year=2026)[0]
    made = {}
    for owner in OWNERS:
        org = getattr(world, owner)
        made[owner] = SpecialFund.objects.create(
            fiscal_year=year, region=org.region, code=f"M-{owner}", name=f"{owner} 资金", organization=org,
            department=org.department, fiscal_amount=Decimal("1"), period_start=2026, period_end=2026,
        )  # fmt: skip
    return made


@pytest.mark.parametrize("action", sorted(FUND_MATRIX))
@pytest.mark.parametrize("persona", PERSONAS)
def test_fund_actions_follow_the_matrix(world, funds, persona, action):
    from apps.funds.models import SpecialFund

    user = getattr(world, persona)
    expected = FUND_MATRIX[action][persona]
    visible = set(SpecialFund.objects.restrict(user, action).values_list("code", flat=True))
    assert visible == {f"M-{owner}" for owner in expected}
    for owner, fund in funds.items():
        assert permissions.can(user, action, fund) is (owner in expected), owner


@pytest.mark.parametrize("action", sorted(FUND_MATRIX))
def test_fund_users_who_can_mirrors_can(world, funds, action):
    for owner, fund in funds.items():
        expected = {p for p in PERSONAS if owner in FUND_MATRIX[action][p]}
        assert set(permissions.users_who_can(action, fund).values_list("username", flat=True)) == expected, owner


# --- Monitoring (issue 4): reports follow the fund's owner; finance acts in its region ------------

REPORT_MATRIX = {
    "monitoring.view": FUND_MATRIX["fund.view"],
    "monitoring.fill": FUND_MATRIX["target.edit"],
    "monitoring.submit": {p: set() for p in PERSONAS} | {"edu_approver": {"edu", "edu_unit"}},
    "monitoring.receive": {p: set() for p in PERSONAS}
    | {"perf_admin": {"edu", "edu_unit", "sci", "health"}, "sector_kjw": {"edu", "edu_unit", "sci"},
       "shinan_finance": {"shinan_edu_unit"}},
}  # fmt: skip


@pytest.fixture
def reports(world, funds):
    from apps.monitoring.models import MonitoringReport, MonitoringRound
    from apps.targets.models import PerformanceTarget

    made = {}
    for owner, fund in funds.items():
        bureau = world.city_finance if fund.region_id == world.city.pk else world.shinan_finance_org
        round_, _ = MonitoringRound.objects.get_or_create(
            organization=bureau, fiscal_year=fund.fiscal_year, data_as_of="2026-07-31",
            defaults={"name": "七月", "due_on": "2026-08-15"},
        )  # fmt: skip
        target = PerformanceTarget.objects.create(
            fund=fund, organization=fund.organization, fiscal_year=fund.fiscal_year, status="approved"
        )
        made[owner] = MonitoringReport.objects.create(
            round=round_, fund=fund, target=target, organization=fund.organization, budget_amount=1
        )
    return made


@pytest.mark.parametrize("action", sorted(REPORT_MATRIX))
@pytest.mark.parametrize("persona", PERSONAS)
def test_monitoring_actions_follow_the_matrix(world, reports, persona, action):
    from apps.monitoring.models import MonitoringReport

    user = getattr(world, persona)
    expected = REPORT_MATRIX[action][persona]
    visible = set(MonitoringReport.objects.restrict(user, action).values_list("fund__code", flat=True))
    assert visible == {f"M-{owner}" for owner in expected}
    for owner, report in reports.items():
        assert permissions.can(user, action, report) is (owner in expected), owner
        users = set(permissions.users_who_can(action, report).values_list("username", flat=True))
        assert (persona in users) is (owner in expected), owner
