"""Settings, commands, health, docs: the parts a deployer and a newcomer rely on."""

import os
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from apps.accounts.models import User
from apps.core.management.commands.permissions_doc import render
from apps.orgs.models import FiscalYear, Organization, WorkCalendar

ROOT = Path(__file__).resolve().parents[1]
PROD_ENV = {
    "PATH": os.environ.get("PATH", ""),
    "DJANGO_SETTINGS_MODULE": "qdperf.settings",
    "SECRET_KEY": "x7!k2p#q9v$w4z@m8n&b3c*d6f^g1h(j5l)r0t_y-u+e=a~s%o" + "Qd7Lm2",
    "ALLOWED_HOSTS": "perf.qingdao.gov.cn",
    "DATABASE_URL": "sqlite:////tmp/qdperf-deploy-check.sqlite3",
}


def run_manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_check_deploy_without_warnings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_missing_secret_key_refuses_to_start_with_a_clear_message():
    env = {k: v for k, v in PROD_ENV.items() if k != "SECRET_KEY"} | {"DEBUG": "0"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY 未设置" in result.stderr


@pytest.mark.django_db
def test_no_missing_migrations():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_creates_the_demo_accounts():
    call_command("seed_demo", stdout=StringIO())
    counts = (
        Organization.objects.count(),
        User.objects.count(),
        WorkCalendar.objects.count(),
        FiscalYear.objects.count(),
    )
    passwords = dict(User.objects.values_list("username", "password"))
    call_command("seed_demo", stdout=StringIO())
    assert (
        Organization.objects.count(),
        User.objects.count(),
        WorkCalendar.objects.count(),
        FiscalYear.objects.count(),
    ) == counts
    assert dict(User.objects.values_list("username", "password")) == passwords
    expected = {
        "perf_admin", "sector_kjw", "edu_filler", "edu_approver", "edu_unit_filler", "health_filler",
        "shinan_finance", "shinan_edu_filler", "npc_liaison", "auditor", "expert_li", "sysadmin",
        "security_admin", "audit_admin",
    }  # fmt: skip
    assert expected <= set(passwords)
    assert User.objects.get(username="edu_filler").check_password(settings.DEMO_PASSWORD)
    sector = User.objects.get(username="sector_kjw")
    assert set(sector.assigned_departments.values_list("name", flat=True)) == {"青岛市教育局", "青岛市科学技术局"}
    assert Organization.objects.filter(kind="department", region__code="370200").count() == 12
    assert Organization.objects.filter(kind="finance", region__level="district").count() == 10


@pytest.mark.django_db
def test_seed_scale_builds_in_bulk_and_only_once():
    call_command(
        "seed_scale", "--regions", "2", "--departments", "3", "--units", "2", "--indicators", "0", stdout=StringIO()
    )
    # Per region: a finance bureau, the departments and their units (plus one NPC office for the city,
    # which the NPC workbook's scale data adds).
    scale = Organization.objects.filter(code__startswith="SC").exclude(kind="npc")
    assert scale.count() == 2 * (1 + 3 + 3 * 2)
    users = User.objects.filter(username__startswith="sc_").exclude(organization__kind="npc")
    assert users.count() == 2 * (1 + 3 * 2 + 3 * 2 * 2)
    unit = scale.filter(kind="unit").select_related("parent").first()
    assert unit.path == f"/{unit.parent.code}/{unit.code}/" and unit.region_id == unit.parent.region_id
    assert User.objects.get(username=f"sc_{unit.code.lower()}_1").role_codes == {"dept_filler"}
    out = StringIO()
    call_command("seed_scale", "--indicators", "0", "--funds", "0", stdout=out)
    assert "已存在" in out.getvalue() and scale.count() == 20


def test_healthz_reports_database_and_redis(client, db):
    data = client.get("/healthz").json()
    assert data["database"] == "ok" and data["status"] == "ok"
    assert data["redis"] == ("ok" if settings.REDIS_URL else "not configured")


def test_permissions_doc_matches_the_policy():
    generated = "\n".join(line for line in render().splitlines() if "`dossier." not in line)
    assert (ROOT / "docs" / "permissions.md").read_text(encoding="utf-8").rstrip() == generated.rstrip()


def test_templates_and_static_reference_no_cdn():
    offenders = []
    for path in [*(ROOT / "templates").rglob("*.html"), *(ROOT / "static" / "css").rglob("*.css")]:
        text = path.read_text(encoding="utf-8")
        if "//cdn" in text or 'src="http' in text or 'href="http' in text:
            offenders.append(str(path))
    assert offenders == []


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL)")
def test_a_real_celery_worker_answers_through_redis(tmp_path):
    """Broker → worker → result backend, with a worker process of our own (as CI does)."""
    from celery import Celery

    # A plain client (the suite's own app is eager): send through Redis, read the result back.
    client = Celery(broker=settings.REDIS_URL, backend=settings.REDIS_URL)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "qdperf.settings",
        "DEBUG": "1",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{tmp_path / 'w.sqlite3'}"),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "qdperf", "worker", "-l", "warning", "--pool", "solo", "-Q", "ci-ping"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        result = client.send_task("apps.core.tasks.ping", queue="ci-ping")
        deadline = time.monotonic() + 60
        while not result.ready() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert result.get(timeout=1) == {"pong": True, "database": True}
    finally:
        worker.terminate()
        worker.wait(timeout=20)
