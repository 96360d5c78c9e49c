"""The Chinese UI shell: home (待办), navigation by role, year switcher, error pages, calendar."""

import pytest
from django.urls import reverse

from apps.core import audit
from apps.core.models import AuditEvent
from apps.orgs.models import FiscalYear, Organization, WorkCalendar
from tests.conftest import PERSONAS
from tests.factories import OrganizationFactory, UserFactory
from tests.querycount import assert_constant_queries

# Everyone who reads the region's business data (not the expert, not the system administrators).
BUSINESS_READERS = {
    "perf_admin",
    "sector_kjw",
    "edu_filler",
    "edu_approver",
    "edu_unit_filler",
    "health_filler",
    "shinan_finance",
    "shinan_edu_filler",
    "npc_liaison",
    "auditor",
    "finance_leader",
}
NAV = {
    "工作日历": BUSINESS_READERS,
    "专项领域": BUSINESS_READERS,
    "年度考核": BUSINESS_READERS,
    "财政运行评价": {"perf_admin", "finance_leader", "shinan_finance"},
    "用户管理": {"sysadmin", "shinan_sysadmin"},
    "事前评估": BUSINESS_READERS | {"expert_li"},
    "目标审核": {"perf_admin", "sector_kjw", "edu_approver", "shinan_finance"},
    "安全策略": {"security_admin"},
    "审计日志": {"audit_admin", "auditor"},
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_home_shows_organisation_and_only_permitted_menu(world, login, persona):
    user = getattr(world, persona)
    page = login(user).get(reverse("core:home")).content.decode()
    assert '<html lang="zh-CN">' in page
    assert user.organization.name in page
    nav = page[page.index('id="main-nav"') : page.index("</aside>")]
    for label, allowed in NAV.items():
        assert (label in nav) is (persona in allowed), label


def test_business_home_shows_empty_todo_state(world, login):
    page = login(world.edu_filler).get(reverse("core:home")).content.decode()
    assert 'id="todo-empty"' in page and "暂无待办事项" in page


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(reverse("core:home"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_home_page_runs_a_constant_number_of_queries(world, login):
    from tests.test_targets_flow import filed_target, make_fund

    year = FiscalYear.objects.create(year=2026, is_current=True)
    client = login(world.edu_filler)
    counter = iter(range(100))

    def grow():
        for _ in range(3):
            FiscalYear.objects.create(year=2030 + next(counter))
            filed_target(world, make_fund(world, year, code=f"H-{next(counter)}"))

    grow()
    # 13: one query per to-do kind (targets, monitoring, self-evaluation, key evaluation, rectification …)
    assert_constant_queries(lambda: client.get(reverse("core:home")), grow, 13)
    assert "填报/修改：H-" in client.get(reverse("core:home")).content.decode()


def test_fiscal_year_switcher_keeps_the_choice(world, login):
    FiscalYear.objects.create(year=2026, is_current=True)
    FiscalYear.objects.create(year=2027)
    client = login(world.edu_filler)
    assert 'value="2026" selected' in client.get(reverse("core:home")).content.decode()
    client.post(reverse("core:fiscal_year_switch"), {"year": "2027", "next": reverse("orgs:calendar_list")})
    assert 'value="2027" selected' in client.get(reverse("core:home")).content.decode()
    # An unknown year or a foreign redirect target changes nothing.
    response = client.post(reverse("core:fiscal_year_switch"), {"year": "1999", "next": "https://evil.example/"})
    assert response.url == reverse("core:home")
    assert client.session["fiscal_year"] == 2027


def test_404_and_403_pages_are_chinese_and_helpful(world, login):
    client = login(world.edu_filler)
    missing = client.get("/no/such/page/")
    assert missing.status_code == 404 and "找不到该页面或记录" in missing.content.decode()
    denied = client.get(reverse("core:audit_list"))
    assert denied.status_code == 403 and "请联系本单位系统管理员" in denied.content.decode()


def test_pages_reference_no_outside_asset(world, login):
    page = login(world.perf_admin).get(reverse("core:home")).content.decode()
    assert "http://" not in page and "https://" not in page
    assert "/static/vendor/bootstrap/bootstrap.min.css" in page and "/static/vendor/htmx/htmx.min.js" in page


# --- organisation directory ----------------------------------------------------------------


def test_organization_list_is_scoped_and_filterable(world, login):
    page = login(world.edu_filler).get(reverse("orgs:organization_list")).content.decode()
    assert "青岛第二中学" in page and "青岛市卫生健康委员会" not in page
    htmx = login(world.perf_admin).get(reverse("orgs:organization_list"), {"q": "疾病"}, HTTP_HX_REQUEST="true")
    body = htmx.content.decode()
    assert "<html" not in body and "青岛市疾病预防控制中心" in body and "青岛第二中学" not in body


@pytest.mark.parametrize(
    ("persona", "url_name", "expected"),
    [
        ("perf_admin", "orgs:organization_list", 10),
        ("audit_admin", "core:audit_list", 9),
        ("sysadmin", "accounts:user_list", 11),
        ("perf_admin", "orgs:calendar_list", 21),
    ],
)
def test_list_pages_run_a_constant_number_of_queries(world, login, persona, url_name, expected):
    fy = FiscalYear.objects.create(year=2026, is_current=True)
    client = login(getattr(world, persona))

    def add(n):
        for _ in range(n):
            unit = OrganizationFactory(kind=Organization.Kind.UNIT, region=world.city, parent=world.edu)
            UserFactory(organization=unit, roles=["dept_filler"])
            audit.record(audit.Kind.UPDATE, actor=world.perf_admin, obj=unit)
            bureau = OrganizationFactory(kind=Organization.Kind.FINANCE, region=world.city)
            WorkCalendar.objects.create(organization=bureau, fiscal_year=fy, step="monitoring", due_on="2026-08-15")

    add(3)
    assert_constant_queries(lambda: client.get(reverse(url_name)), lambda: add(3), expected)


# --- work calendar ---------------------------------------------------------------------------


def test_finance_sets_a_due_date_for_its_region(world, login, year):
    client = login(world.perf_admin)
    url = reverse("orgs:calendar_edit", args=["monitoring"])
    assert client.post(url, {"starts_on": "2026-08-01", "due_on": "2026-08-15", "note": "7月末数据"}).status_code == 302
    entry = WorkCalendar.objects.get(step="monitoring")
    assert entry.organization == world.city_finance and str(entry.due_on) == "2026-08-15"
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.CREATE, object_id=str(entry.pk)).exists()
    page = login(world.edu_filler).get(reverse("orgs:calendar_list")).content.decode()
    assert "2026年8月15日" in page and "calendar/monitoring/edit" not in page


def test_calendar_bad_dates_are_refused_and_nothing_changes(world, login, year):
    client = login(world.perf_admin)
    url = reverse("orgs:calendar_edit", args=["monitoring"])
    response = client.post(url, {"starts_on": "2026-09-01", "due_on": "2026-08-15"})
    assert response.status_code == 200 and "开始日期不能晚于截止日期" in response.content.decode()
    response = client.post(url, {"due_on": "八月十五"})
    assert "截止日期格式不正确" in response.content.decode()
    assert not WorkCalendar.objects.exists()


def test_district_finance_edits_only_its_own_calendar(world, login, year):
    client = login(world.shinan_finance)
    client.post(reverse("orgs:calendar_edit", args=["monitoring"]), {"due_on": "2026-08-20"})
    assert WorkCalendar.objects.get().organization == world.shinan_finance_org
    city_page = login(world.edu_filler).get(reverse("orgs:calendar_list")).content.decode()
    assert "2026年8月20日" not in city_page


@pytest.mark.parametrize("persona", ["edu_approver", "sector_kjw", "npc_liaison", "sysadmin", "audit_admin"])
def test_others_cannot_edit_the_calendar(world, login, persona, year):
    client = login(getattr(world, persona))
    response = client.post(reverse("orgs:calendar_edit", args=["monitoring"]), {"due_on": "2026-08-20"})
    assert response.status_code == 403
    assert not WorkCalendar.objects.exists()


def test_unknown_step_is_404(world, login, year):
    assert login(world.perf_admin).get(reverse("orgs:calendar_edit", args=["nonsense"])).status_code == 404
