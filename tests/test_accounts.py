"""Login, lock-out, password policy, idle sessions, account management and 三员分立."""

from datetime import timedelta

import pytest
from django.contrib.auth import password_validation
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from apps.accounts import services
from apps.accounts.models import SecurityPolicy, User
from apps.accounts.roles import Role
from apps.core.models import AuditEvent
from tests.factories import TEST_PASSWORD

LOGIN = reverse("accounts:login")


def post_login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


# --- login, failures, lock-out -------------------------------------------------------------


def test_login_success_is_audited_with_ip(world, client):
    response = post_login(client, "edu_filler", TEST_PASSWORD)
    assert response.status_code == 302 and response.url == reverse("core:home")
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.LOGIN)
    assert (event.actor, event.organization, event.ip) == (world.edu_filler, world.edu, "127.0.0.1")


def test_wrong_password_shows_chinese_error_and_attempts_left(world, client):
    response = post_login(client, "edu_filler", "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码不正确。再失败 4 次，账号将被锁定 15 分钟。" in response.content.decode()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.LOGIN_FAILED)
    assert (event.actor_name, event.organization) == ("edu_filler", world.edu)


def test_five_failures_lock_the_account_for_fifteen_minutes(world, client):
    for _ in range(4):
        assert post_login(client, "edu_filler", "wrong-password").status_code == 200
    locked = post_login(client, "edu_filler", "wrong-password")
    assert locked.status_code == 429
    assert "账号已被锁定 15 分钟" in locked.content.decode()
    # Even the right password is refused while locked.
    again = post_login(client, "edu_filler", TEST_PASSWORD)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LOCKOUT, actor_name="edu_filler").exists()


def test_lockout_follows_the_security_policy(world, client):
    SecurityPolicy.objects.filter(pk=1).update(lockout_attempts=3, lockout_minutes=60)
    for _ in range(2):
        post_login(client, "edu_filler", "nope")
    response = post_login(client, "edu_filler", "nope")
    assert response.status_code == 429
    assert "连续登录失败 3 次，账号已被锁定 60 分钟" in response.content.decode()


def test_sysadmin_unlocks_an_account_and_it_is_audited(world, client, login):
    for _ in range(5):
        post_login(client, "edu_filler", "wrong-password")
    admin = login(world.sysadmin)
    page = admin.get(reverse("accounts:user_edit", args=[world.edu_filler.pk]))
    assert "已被锁定" in page.content.decode()
    admin.post(reverse("accounts:user_unlock", args=[world.edu_filler.pk]))
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.UNLOCK, object_id=str(world.edu_filler.pk)).exists()
    admin.logout()
    assert post_login(client, "edu_filler", TEST_PASSWORD).status_code == 302


def test_unknown_username_is_audited_without_revealing_it(world, client):
    response = post_login(client, "nobody", "whatever-1A")
    assert "用户名或密码不正确" in response.content.decode()
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.LOGIN_FAILED).comment == "账号不存在"


# --- password policy -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Ab1!", "至少需要 10 个字符"),
        ("abcdefghijk1", "至少 3 类"),
        ("edu_filler-2026A", "不能包含用户名"),
    ],
)
def test_password_policy_rejects(world, password, message):
    with pytest.raises(ValidationError, match=message):
        password_validation.validate_password(password, world.edu_filler)


def test_password_policy_accepts_a_good_one(world):
    password_validation.validate_password("Qingdao#Perf88", world.edu_filler)


def test_last_five_passwords_cannot_be_reused(world):
    user = world.edu_filler
    history = [f"Renewed#Pass{i:02d}" for i in range(6)]
    old = TEST_PASSWORD
    for new in history:
        services.user_change_password(user=user, old_password=old, new_password=new)
        old = new
    # The 5 most recent (incl. the current one) are refused; the 6th most recent is allowed again.
    for reused in history[1:]:
        with pytest.raises(ValidationError, match="最近 5 次"):
            services.user_change_password(user=user, old_password=old, new_password=reused)
    services.user_change_password(user=user, old_password=old, new_password=history[0])


def test_password_change_page_shows_field_errors_and_keeps_password(world, login):
    client = login(world.edu_filler)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    assert response.status_code == 200
    assert "至少需要 10 个字符" in response.content.decode()
    world.edu_filler.refresh_from_db()
    assert world.edu_filler.check_password(TEST_PASSWORD)
    ok = client.post(
        reverse("accounts:password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "Qingdao#Perf88", "new_password2": "Qingdao#Perf88"},
    )
    assert ok.status_code == 302
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.PASSWORD_CHANGE, actor=world.edu_filler).exists()


def test_wrong_old_password_is_refused(world, login):
    client = login(world.edu_filler)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "not-it", "new_password1": "Qingdao#Perf88", "new_password2": "Qingdao#Perf88"},
    )
    assert "原密码不正确" in response.content.decode()


# --- idle sessions ---------------------------------------------------------------------------


def test_every_request_rearms_a_thirty_minute_idle_timeout(world, login):
    client = login(world.edu_filler)
    client.get(reverse("core:home"))
    assert client.session.get_expiry_age() == 30 * 60
    session = Session.objects.get(session_key=client.session.session_key)
    assert timedelta(minutes=29) < session.expire_date - timezone.now() <= timedelta(minutes=30)


def test_idle_session_expires_and_sends_back_to_login(world, login):
    client = login(world.edu_filler)
    client.get(reverse("core:home"))
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get(reverse("core:home"))
    assert response.status_code == 302 and response.url.startswith(LOGIN)


def test_idle_timeout_follows_the_security_policy(world, login):
    SecurityPolicy.objects.filter(pk=1).update(session_idle_minutes=10)
    client = login(world.edu_filler)
    client.get(reverse("core:home"))
    assert client.session.get_expiry_age() == 10 * 60


# --- security policy page (安全管理员) --------------------------------------------------------


def test_security_admin_changes_policy_and_it_is_audited(world, login):
    client = login(world.security_admin)
    data = {f: getattr(SecurityPolicy.current(), f) for f in SecurityPolicy.FIELDS} | {"lockout_attempts": 6}
    assert client.post(reverse("accounts:security_policy"), data).status_code == 302
    assert SecurityPolicy.current().lockout_attempts == 6
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.POLICY_CHANGE)
    assert event.changes == {"lockout_attempts": {"from": 5, "to": 6}}


def test_security_policy_bad_value_is_refused_in_chinese(world, login):
    client = login(world.security_admin)
    data = {f: getattr(SecurityPolicy.current(), f) for f in SecurityPolicy.FIELDS} | {"password_min_length": 4}
    response = client.post(reverse("accounts:security_policy"), data)
    assert response.status_code == 200
    assert "8" in response.content.decode() and "确保该值大于或等于" in response.content.decode()
    assert SecurityPolicy.current().password_min_length == 10


@pytest.mark.parametrize("persona", ["sysadmin", "audit_admin", "perf_admin", "edu_filler"])
def test_only_security_admin_opens_the_policy_page(world, login, persona):
    client = login(getattr(world, persona))
    assert client.get(reverse("accounts:security_policy")).status_code == 403
    data = dict.fromkeys(SecurityPolicy.FIELDS, 99)
    assert client.post(reverse("accounts:security_policy"), data).status_code == 403
    assert SecurityPolicy.current().lockout_attempts == 5


# --- account management (系统管理员) ----------------------------------------------------------


def user_form(user, **overrides):
    data = {
        "username": user.username,
        "real_name": user.real_name,
        "phone": "",
        "organization": user.organization_id,
        "roles": sorted(user.role_codes),
        "is_active": "on",
    }
    return {**data, **overrides}


def test_sysadmin_changes_roles_and_the_change_is_audited(world, login):
    client = login(world.sysadmin)
    url = reverse("accounts:user_edit", args=[world.edu_filler.pk])
    response = client.post(url, user_form(world.edu_filler, roles=[Role.DEPT_FILLER, Role.DEPT_APPROVER]))
    assert response.status_code == 302
    assert User.objects.get(pk=world.edu_filler.pk).groups.filter(name=Role.DEPT_APPROVER).exists()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ROLE_CHANGE)
    assert event.actor == world.sysadmin
    assert event.changes == {"roles": {"from": ["dept_filler"], "to": ["dept_approver", "dept_filler"]}}


def test_role_not_fitting_the_organisation_is_refused(world, login):
    client = login(world.sysadmin)
    url = reverse("accounts:user_edit", args=[world.edu_filler.pk])
    response = client.post(url, user_form(world.edu_filler, roles=[Role.FINANCE_PERF]))
    assert response.status_code == 200
    assert "角色“财政绩效管理”不能授予预算部门“青岛市教育局”的人员" in response.content.decode()
    assert set(User.objects.get(pk=world.edu_filler.pk).groups.values_list("name", flat=True)) == {"dept_filler"}
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.ROLE_CHANGE).exists()


def test_three_admin_roles_are_held_alone(world):
    with pytest.raises(ValidationError, match="三员分立"):
        services.validate_roles(roles=[Role.SYSADMIN, Role.AUDIT_ADMIN], organization=world.info_center)
    with pytest.raises(ValidationError, match="三员分立"):
        services.validate_roles(roles=[Role.SYSADMIN, Role.FINANCE_PERF], organization=world.info_center)


def test_sysadmin_cannot_change_own_roles(world):
    with pytest.raises(ValidationError, match="不能修改自己的角色"):
        services.user_update(
            actor=world.sysadmin,
            user=world.sysadmin,
            organization=world.info_center,
            roles=[],
            real_name="x",
            phone="",
            is_active=True,
        )


def test_sysadmin_creates_an_account_with_policy_checked_password(world, login):
    client = login(world.sysadmin)
    data = {
        "username": "new_clerk",
        "real_name": "新同事",
        "phone": "13800000000",
        "organization": world.edu_unit.pk,
        "roles": [Role.DEPT_FILLER],
        "is_active": "on",
        "new_password1": "weak",
        "new_password2": "weak",
    }
    bad = client.post(reverse("accounts:user_create"), data)
    assert bad.status_code == 200 and "至少需要 10 个字符" in bad.content.decode()
    assert not User.objects.filter(username="new_clerk").exists()
    good = client.post(
        reverse("accounts:user_create"), data | {"new_password1": "Clerk#2026ok", "new_password2": "Clerk#2026ok"}
    )
    assert good.status_code == 302
    user = User.objects.get(username="new_clerk")
    assert user.organization == world.edu_unit and user.role_codes == {"dept_filler"}
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.CREATE, object_id=str(user.pk)).exists()


def test_district_sysadmin_cannot_see_or_touch_city_accounts(world, login):
    client = login(world.shinan_sysadmin)
    url = reverse("accounts:user_edit", args=[world.edu_filler.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, user_form(world.edu_filler, roles=[Role.DEPT_APPROVER])).status_code == 404
    assert client.post(reverse("accounts:user_unlock", args=[world.edu_filler.pk])).status_code == 404
    assert set(world.edu_filler.groups.values_list("name", flat=True)) == {"dept_filler"}
    listing = client.get(reverse("accounts:user_list")).content.decode()
    assert '">shinan_edu_filler<' in listing and '">edu_filler<' not in listing


def test_sysadmin_cannot_move_an_account_to_another_region(world):
    with pytest.raises(Exception, match="无权"):
        services.user_update(
            actor=world.sysadmin,
            user=world.edu_filler,
            organization=world.shinan_edu,
            roles=[Role.DEPT_FILLER],
            real_name="x",
            phone="",
            is_active=True,
        )


@pytest.mark.parametrize("persona", ["perf_admin", "edu_approver", "security_admin", "audit_admin", "auditor"])
def test_other_roles_cannot_manage_accounts(world, login, persona):
    client = login(getattr(world, persona))
    assert client.get(reverse("accounts:user_list")).status_code == 403
    url = reverse("accounts:user_edit", args=[world.edu_filler.pk])
    assert client.post(url, user_form(world.edu_filler, roles=[Role.DEPT_APPROVER])).status_code == 403
    assert set(world.edu_filler.groups.values_list("name", flat=True)) == {"dept_filler"}


def test_sysadmin_resets_a_password(world, login):
    client = login(world.sysadmin)
    url = reverse("accounts:user_password_reset", args=[world.edu_filler.pk])
    mismatch = client.post(url, {"new_password1": "Reset#2026ok", "new_password2": "Reset#2026no"})
    assert "两次输入的新密码不一致" in mismatch.content.decode()
    assert client.post(url, {"new_password1": "Reset#2026ok", "new_password2": "Reset#2026ok"}).status_code == 302
    world.edu_filler.refresh_from_db()
    assert world.edu_filler.check_password("Reset#2026ok")
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.PASSWORD_RESET, actor=world.sysadmin).exists()


# --- 三员分立: the system administrator reads no business data ----------------------------------


@pytest.mark.parametrize("url_name", ["orgs:calendar_list", "core:audit_list", "accounts:security_policy"])
def test_sysadmin_cannot_open_business_or_audit_pages(world, login, url_name):
    response = login(world.sysadmin).get(reverse(url_name))
    assert response.status_code == 403
    assert "无权" in response.content.decode()


def test_sysadmin_home_offers_no_business_work(world, login):
    page = login(world.sysadmin).get(reverse("core:home")).content.decode()
    assert 'id="admin-home"' in page and "我的待办" in page
    assert "工作日历" not in page and "审计日志" not in page


# --- API token -------------------------------------------------------------------------------


def test_api_token_is_issued_and_works(world, login, client):
    login(world.edu_filler).post(reverse("accounts:token_issue"))
    from rest_framework.authtoken.models import Token

    key = Token.objects.get(user=world.edu_filler).key
    client.logout()
    me = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")
    assert me.status_code == 200 and me.json()["username"] == "edu_filler"


# --- 三员分立: the system administrator cannot reach the two officers who check on it ----------


@pytest.mark.parametrize("target_persona", ["security_admin", "audit_admin"])
def test_sysadmin_cannot_touch_security_or_audit_admin_accounts(world, login, target_persona):
    target = getattr(world, target_persona)
    client = login(world.sysadmin)
    before = target.password
    reset = client.post(
        reverse("accounts:user_password_reset", args=[target.pk]),
        {"new_password1": "Takeover#2026", "new_password2": "Takeover#2026"},
    )
    assert reset.status_code == 403
    deactivate = client.post(reverse("accounts:user_edit", args=[target.pk]), user_form(target, is_active="", roles=[]))
    assert deactivate.status_code == 403
    target.refresh_from_db()
    assert target.password == before and target.is_active
    with pytest.raises(PermissionDenied, match="三员分立"):
        services.user_create(
            actor=world.sysadmin,
            username="new_auditor",
            password="Auditor#2026ok",
            organization=world.info_center,
            roles=[Role.AUDIT_ADMIN],
        )


def test_provision_admin_command_creates_the_protected_accounts(world, monkeypatch):
    from django.core.management import call_command

    monkeypatch.setenv("QDPERF_ADMIN_PASSWORD", "Security#2026ok")
    call_command("provision_admin", "sec2", "--role", "security_admin", "--organization", "T-CZ-XX")
    user = User.objects.get(username="sec2")
    assert user.role_codes == {"security_admin"} and user.check_password("Security#2026ok")
