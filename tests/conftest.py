"""Shared fixtures: a fixed organisation tree and the persona cast of style.md.

Every permission test uses the same people: city finance (perf_admin), a sector reviewer assigned
to 教育局 and 科技局 (sector_kjw), 教育局's filler and approver, a filler in a unit under 教育局,
卫生健康委's filler (another department), 市南区 finance and a 市南区 department filler (another
district), the NPC liaison, the auditor, an expert and the three 等保 administrators.
"""

import os
import shutil
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache

from apps.accounts.roles import Role, ensure_role_groups
from apps.orgs.models import FiscalYear, Region
from apps.orgs.reference import load_regions
from tests.factories import OrganizationFactory, UserFactory, region

# Playwright's sync API runs an event loop in the test thread; Django must allow ORM calls there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("QDPERF_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_report_header(config):
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return (
        f"qdperf: database={db} redis={'yes' if settings.REDIS_URL else 'no'} strict={settings.QDPERF_STRICT_SERVICES}"
    )


def pytest_collection_modifyitems(config, items):
    """Without Chromium, browser tests are skipped with a notice — except in CI, where it is an error."""
    strict = settings.QDPERF_STRICT_SERVICES
    if strict:
        problems = []
        if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
            problems.append("DATABASE_URL 未指向 PostgreSQL")
        if not settings.REDIS_URL:
            problems.append("REDIS_URL 未设置")
        if not shutil.which(CHROMIUM):
            problems.append(f"找不到 Chromium（{CHROMIUM}）")
        if problems:
            raise pytest.UsageError("CI 严格模式：" + "；".join(problems))
        return
    if not shutil.which(CHROMIUM):
        print(f"\n注意：找不到 Chromium（{CHROMIUM}），浏览器测试将被跳过。")
        skip = pytest.mark.skip(reason="Chromium not installed")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(autouse=True)
def _clear_cache():
    """The security policy is cached; each test starts from the database's truth."""
    cache.clear()
    yield
    cache.clear()


def build_world() -> SimpleNamespace:
    """The fixed organisation tree and personas. Returns a namespace of organisations and users."""
    # Transactional tests flush the database after each test: restore the migrations' reference data.
    load_regions(Region)
    ensure_role_groups(Group)
    city, shinan = region("370200"), region("370202")
    K = OrganizationFactory._meta.model.Kind
    w = SimpleNamespace(city=city, shinan=shinan)
    w.city_finance = OrganizationFactory(code="T-CZ", name="青岛市财政局", kind=K.FINANCE, region=city)
    w.perf_division = OrganizationFactory(
        code="T-CZ-JX", name="绩效管理处", kind=K.FINANCE_DIVISION, region=city, parent=w.city_finance
    )
    w.kjw_division = OrganizationFactory(
        code="T-CZ-KJW", name="科教文处", kind=K.FINANCE_DIVISION, region=city, parent=w.city_finance
    )
    w.info_center = OrganizationFactory(
        code="T-CZ-XX", name="信息网络中心", kind=K.FINANCE_DIVISION, region=city, parent=w.city_finance
    )
    w.edu = OrganizationFactory(code="T-EDU", name="青岛市教育局", kind=K.DEPARTMENT, region=city)
    w.edu_unit = OrganizationFactory(code="T-EDU-U1", name="青岛第二中学", kind=K.UNIT, region=city, parent=w.edu)
    w.sci = OrganizationFactory(code="T-SCI", name="青岛市科学技术局", kind=K.DEPARTMENT, region=city)
    w.health = OrganizationFactory(code="T-HEALTH", name="青岛市卫生健康委员会", kind=K.DEPARTMENT, region=city)
    w.health_unit = OrganizationFactory(
        code="T-HEALTH-U1", name="青岛市疾病预防控制中心", kind=K.UNIT, region=city, parent=w.health
    )
    w.audit_org = OrganizationFactory(code="T-AUDIT", name="青岛市审计局", kind=K.AUDIT, region=city)
    w.npc_org = OrganizationFactory(code="T-NPC", name="青岛市人大常委会预算工作室", kind=K.NPC, region=city)
    w.expert_pool = OrganizationFactory(code="T-EXP", name="专家库", kind=K.EXPERT_POOL, region=city)
    w.shinan_finance_org = OrganizationFactory(code="T-SN-CZ", name="市南区财政局", kind=K.FINANCE, region=shinan)
    w.shinan_edu = OrganizationFactory(code="T-SN-EDU", name="市南区教育和体育局", kind=K.DEPARTMENT, region=shinan)
    w.shinan_edu_unit = OrganizationFactory(
        code="T-SN-EDU-U1", name="市南区实验小学", kind=K.UNIT, region=shinan, parent=w.shinan_edu
    )

    def person(username, org, *roles, assigned=()):
        user = UserFactory(username=username, organization=org, roles=roles)
        if assigned:
            user.assigned_departments.set(assigned)
        return user

    w.perf_admin = person("perf_admin", w.perf_division, Role.FINANCE_PERF)
    w.finance_leader = person("finance_leader", w.city_finance, Role.FINANCE_LEADER)
    w.sector_kjw = person("sector_kjw", w.kjw_division, Role.FINANCE_SECTOR, assigned=[w.edu, w.sci])
    w.edu_filler = person("edu_filler", w.edu, Role.DEPT_FILLER)
    w.edu_approver = person("edu_approver", w.edu, Role.DEPT_APPROVER)
    w.edu_unit_filler = person("edu_unit_filler", w.edu_unit, Role.DEPT_FILLER)
    w.health_filler = person("health_filler", w.health, Role.DEPT_FILLER)
    w.shinan_finance = person("shinan_finance", w.shinan_finance_org, Role.DISTRICT_FINANCE)
    w.shinan_edu_filler = person("shinan_edu_filler", w.shinan_edu, Role.DEPT_FILLER)
    w.npc_liaison = person("npc_liaison", w.npc_org, Role.NPC_LIAISON)
    w.auditor = person("auditor", w.audit_org, Role.AUDITOR)
    w.expert_li = person("expert_li", w.expert_pool, Role.EXPERT)
    w.sysadmin = person("sysadmin", w.info_center, Role.SYSADMIN)
    w.shinan_sysadmin = person("shinan_sysadmin", w.shinan_finance_org, Role.SYSADMIN)
    w.security_admin = person("security_admin", w.info_center, Role.SECURITY_ADMIN)
    w.audit_admin = person("audit_admin", w.info_center, Role.AUDIT_ADMIN)
    return w


PERSONAS = [
    "perf_admin",
    "finance_leader",
    "sector_kjw",
    "edu_filler",
    "edu_approver",
    "edu_unit_filler",
    "health_filler",
    "shinan_finance",
    "shinan_edu_filler",
    "npc_liaison",
    "auditor",
    "expert_li",
    "sysadmin",
    "shinan_sysadmin",
    "security_admin",
    "audit_admin",
]


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def year(db):
    """The 2026 fiscal year (current), which most business tests work in."""
    return FiscalYear.objects.get_or_create(year=2026, defaults={"is_current": True})[0]


@pytest.fixture
def approved(world, year):
    """A 教育局 fund whose target went all the way to 批复 (the start of monitoring and evaluation)."""
    from tests.test_targets_flow import approve_all_the_way, filed_target, make_fund

    return approve_all_the_way(world, filed_target(world, make_fund(world, year)))


@pytest.fixture
def login(client):
    """``login(user)`` → the test client signed in as ``user`` (force_login: axes needs a request)."""

    def _login(user):
        client.force_login(user)
        return client

    return _login
