"""API: authentication, scoping (403 for the wrong role, 404 out of scope), constant query counts."""

import pytest
from django.urls import reverse

from apps.core import audit
from apps.orgs.models import FiscalYear, Organization, WorkCalendar
from tests.factories import TEST_PASSWORD, OrganizationFactory, UserFactory
from tests.querycount import assert_constant_queries


def test_anonymous_gets_401_or_403(client, db):
    assert client.get("/api/v1/me/").status_code in (401, 403)
    assert client.get("/api/v1/organizations/").status_code in (401, 403)


def test_me_returns_organisation_and_roles(world, login):
    data = login(world.edu_approver).get("/api/v1/me/").json()
    assert data["organization_name"] == "青岛市教育局"
    assert data["roles"] == ["dept_approver"] and data["role_labels"] == ["部门审核"]


def test_organizations_are_scoped(world, login):
    client = login(world.edu_filler)
    codes = {row["code"] for row in client.get("/api/v1/organizations/?page_size=500").json()["results"]}
    assert codes == {"T-EDU", "T-EDU-U1"}
    assert client.get(f"/api/v1/organizations/{world.health.pk}/").status_code == 404
    assert client.get(f"/api/v1/organizations/{world.edu_unit.pk}/").json()["parent_name"] == "青岛市教育局"


def test_organizations_filters_and_search(world, login):
    client = login(world.perf_admin)
    units = client.get("/api/v1/organizations/", {"kind": "unit", "region": world.city.pk}).json()["results"]
    assert {u["code"] for u in units if u["code"].startswith("T-")} == {"T-EDU-U1", "T-HEALTH-U1"}
    found = client.get("/api/v1/organizations/", {"search": "疾病预防"}).json()["results"]
    assert [o["code"] for o in found] == ["T-HEALTH-U1"]


def test_organizations_refused_to_roles_without_it(world, login):
    for persona in ("audit_admin", "security_admin"):
        assert login(getattr(world, persona)).get("/api/v1/organizations/").status_code == 403


def test_organizations_api_is_read_only(world, login):
    client = login(world.perf_admin)
    assert client.post("/api/v1/organizations/", {"code": "X", "name": "X"}).status_code == 405
    assert client.delete(f"/api/v1/organizations/{world.edu.pk}/").status_code == 405
    assert Organization.objects.filter(pk=world.edu.pk).exists()


def test_users_api_for_sysadmin_only_within_region(world, login):
    rows = login(world.shinan_sysadmin).get("/api/v1/users/").json()["results"]
    assert {r["username"] for r in rows} == {"shinan_finance", "shinan_edu_filler", "shinan_sysadmin"}
    assert login(world.perf_admin).get("/api/v1/users/").status_code == 403


def test_token_endpoint(world, client):
    bad = client.post("/api/v1/auth/token/", {"username": "edu_filler", "password": "nope"})
    assert bad.status_code in (401, 403) and "用户名或密码不正确" in bad.json()["detail"]
    good = client.post("/api/v1/auth/token/", {"username": "edu_filler", "password": TEST_PASSWORD})
    token = good.json()["token"]
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").json()["username"] == "edu_filler"


def test_schema_and_docs_are_served_without_external_assets(world, login):
    client = login(world.edu_filler)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/organizations/" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs and "cdn" not in docs.lower() and "https://" not in docs


# --- constant query counts -------------------------------------------------------------------


def add_units(world, n=3):
    """More units with users, audit rows and calendar entries: every list endpoint has more rows."""
    for _ in range(n):
        unit = OrganizationFactory(kind=Organization.Kind.UNIT, region=world.city, parent=world.edu)
        UserFactory(organization=unit, roles=["dept_filler"])
        audit.record(audit.Kind.UPDATE, actor=world.perf_admin, obj=unit)
        year, _ = FiscalYear.objects.get_or_create(year=2020 + FiscalYear.objects.count())
        for bureau in (world.city_finance, world.shinan_finance_org):
            WorkCalendar.objects.create(organization=bureau, fiscal_year=year, step="monitoring", due_on="2026-08-15")


@pytest.mark.parametrize(
    ("persona", "url", "expected"),
    [
        ("perf_admin", "/api/v1/organizations/", 8),
        ("edu_approver", "/api/v1/organizations/", 8),
        ("sysadmin", "/api/v1/users/", 9),
        ("auditor", "/api/v1/audit-events/", 8),
        ("perf_admin", "/api/v1/calendar/", 8),
    ],
)
def test_api_lists_run_a_constant_number_of_queries(world, login, persona, url, expected):
    client = login(getattr(world, persona))
    add_units(world)

    def grow():
        add_units(world)

    def fetch():
        assert client.get(url).status_code == 200

    assert_constant_queries(fetch, grow, expected)


def test_calendar_api_lists_the_region_calendar(world, login):
    fy = FiscalYear.objects.create(year=2026, is_current=True)
    WorkCalendar.objects.create(organization=world.city_finance, fiscal_year=fy, step="monitoring", due_on="2026-08-15")
    WorkCalendar.objects.create(
        organization=world.shinan_finance_org, fiscal_year=fy, step="monitoring", due_on="2026-08-20"
    )
    rows = login(world.edu_filler).get(reverse("api:calendar-list")).json()["results"]
    assert [(r["organization_name"], r["due_on"]) for r in rows] == [("青岛市财政局", "2026-08-15")]
