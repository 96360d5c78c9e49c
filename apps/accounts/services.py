"""Account writes: every one is permission-checked, transactional and audited."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from apps.core import audit, permissions
from apps.orgs.models import Organization

from .models import SecurityPolicy, User
from .roles import ADMIN_ROLES, CITY_ONLY_ROLES, DISTRICT_ONLY_ROLES, PROTECTED_ROLES, ROLE_ORG_KINDS, Role

PROFILE_FIELDS = ["real_name", "phone", "organization", "is_active"]


def _require(actor, action: str, obj=None) -> None:
    allowed = permissions.can(actor, action, obj) if obj is not None else permissions.has_action(actor, action)
    if not allowed:
        raise PermissionDenied("您无权执行此操作。")


def _not_protected(*role_sets) -> None:
    """三员分立: the system administrator cannot create, change, reset or unlock the accounts of the
    security administrator and the security auditor, nor grant their roles."""
    if any(PROTECTED_ROLES & set(roles) for roles in role_sets):
        raise PermissionDenied(
            "安全管理员、安全审计员账号不能由系统管理员维护（三员分立），请由部署管理员使用专用命令配置。"
        )


def validate_roles(*, roles: Iterable[str], organization: Organization | None, departments=()) -> None:
    """Roles must fit the organisation, and 三员 roles are held alone."""
    roles = set(roles)
    unknown = roles - set(Role.values)
    if unknown:
        raise ValidationError({"roles": f"未知角色：{'、'.join(sorted(unknown))}。"})
    admin = roles & ADMIN_ROLES
    if admin and len(roles) > 1:
        raise ValidationError(
            {"roles": "系统管理员、安全管理员、安全审计员须“三员分立”：这些角色只能单独授予，不能与其他角色兼任。"}
        )
    if roles and organization is None:
        raise ValidationError({"organization": "授予角色前请先选择所属机构。"})
    for code in sorted(roles):
        label = Role(code).label
        if organization.kind not in ROLE_ORG_KINDS[code]:
            raise ValidationError(
                {"roles": f"角色“{label}”不能授予{organization.get_kind_display()}“{organization.name}”的人员。"}
            )
        if code in CITY_ONLY_ROLES and not organization.region.is_city:
            raise ValidationError({"roles": f"角色“{label}”仅限市本级财政部门；区市请使用“区市财政绩效管理”。"})
        if code in DISTRICT_ONLY_ROLES and organization.region.is_city:
            raise ValidationError({"roles": f"角色“{label}”仅限区（市）财政部门。"})
    departments = list(departments)
    if departments and Role.FINANCE_SECTOR not in roles:
        raise ValidationError({"assigned_departments": "只有“财政业务处室审核”角色可以分管部门。"})
    for dept in departments:
        if dept.kind != Organization.Kind.DEPARTMENT or dept.region_id != organization.region_id:
            raise ValidationError({"assigned_departments": f"“{dept.name}”不是本区域的预算部门，不能分管。"})


def _set_roles(user: User, roles: Iterable[str]) -> None:
    groups = [Group.objects.get_or_create(name=code)[0] for code in sorted(set(roles))]
    user.groups.set(groups)
    user.__dict__.pop("role_codes", None)


def _role_changes(before_roles, after_roles, before_depts, after_depts) -> dict:
    changes = {}
    if set(before_roles) != set(after_roles):
        changes["roles"] = {"from": sorted(before_roles), "to": sorted(after_roles)}
    if set(before_depts) != set(after_depts):
        changes["assigned_departments"] = {"from": sorted(before_depts), "to": sorted(after_depts)}
    return changes


@transaction.atomic
def user_create(
    *,
    actor: User,
    username: str,
    password: str,
    organization: Organization,
    roles: Iterable[str] = (),
    real_name: str = "",
    phone: str = "",
    assigned_departments: Iterable[Organization] = (),
) -> User:
    _require(actor, "user.manage", organization)
    roles, assigned_departments = list(roles), list(assigned_departments)
    _not_protected(roles)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": f"用户名“{username}”已被使用。"})
    validate_roles(roles=roles, organization=organization, departments=assigned_departments)
    user = User(username=username, organization=organization, real_name=real_name, phone=phone)
    password_validation.validate_password(password, user)
    user.set_password(password)
    user.password_changed_at = timezone.now()
    user.full_clean()
    user.save()
    _set_roles(user, roles)
    user.assigned_departments.set(assigned_departments)
    audit.record(
        audit.Kind.CREATE,
        actor=actor,
        obj=user,
        changes={
            **audit.diff({}, audit.snapshot(user, ["username", *PROFILE_FIELDS])),
            **_role_changes([], roles, [], [d.name for d in assigned_departments]),
        },
    )
    return user


@transaction.atomic
def user_update(
    *,
    actor: User,
    user: User,
    organization: Organization,
    roles: Iterable[str],
    real_name: str,
    phone: str,
    is_active: bool,
    assigned_departments: Iterable[Organization] = (),
) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    _require(actor, "user.manage", user)
    _require(actor, "user.manage", organization)  # cannot move an account out of one's own region
    roles, assigned_departments = set(roles), list(assigned_departments)
    before_roles = set(user.groups.values_list("name", flat=True))
    _not_protected(before_roles, roles)
    before_depts = list(user.assigned_departments.values_list("name", flat=True))
    if user.pk == actor.pk and (before_roles != roles or not is_active):
        raise ValidationError({"roles": "不能修改自己的角色或停用自己的账号，请由另一位系统管理员操作。"})
    validate_roles(roles=roles, organization=organization, departments=assigned_departments)
    before = audit.snapshot(user, PROFILE_FIELDS)
    user.organization, user.real_name, user.phone, user.is_active = organization, real_name, phone, is_active
    user.full_clean(exclude=["password"])
    user.save(update_fields=PROFILE_FIELDS)
    _set_roles(user, roles)
    user.assigned_departments.set(assigned_departments)
    profile = audit.diff(before, audit.snapshot(user, PROFILE_FIELDS))
    role_changes = _role_changes(before_roles, roles, before_depts, [d.name for d in assigned_departments])
    if profile:
        audit.record(audit.Kind.UPDATE, actor=actor, obj=user, changes=profile)
    if role_changes:
        audit.record(audit.Kind.ROLE_CHANGE, actor=actor, obj=user, changes=role_changes)
    return user


def _store_password(user: User, password: str) -> None:
    password_validation.validate_password(password, user)
    user.set_password(password)
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "password_changed_at"])


@transaction.atomic
def user_change_password(*, user: User, old_password: str, new_password: str) -> None:
    """The user changes their own password."""
    if not user.check_password(old_password):
        raise ValidationError({"old_password": "原密码不正确。"})
    _store_password(user, new_password)
    audit.record(audit.Kind.PASSWORD_CHANGE, actor=user, obj=user)


@transaction.atomic
def user_reset_password(*, actor: User, user: User, new_password: str) -> None:
    """The system administrator sets a temporary password for a user of its region."""
    _require(actor, "user.manage", user)
    _not_protected(user.groups.values_list("name", flat=True))
    _store_password(user, new_password)
    audit.record(audit.Kind.PASSWORD_RESET, actor=actor, obj=user)


@transaction.atomic
def user_unlock(*, actor: User, user: User) -> int:
    """Lift a lock-out caused by failed logins."""
    from axes.utils import reset

    _require(actor, "user.manage", user)
    _not_protected(user.groups.values_list("name", flat=True))
    cleared = reset(username=user.username)
    audit.record(audit.Kind.UNLOCK, actor=actor, obj=user, comment=f"清除 {cleared} 条失败记录")
    return cleared


@transaction.atomic
def token_issue(*, user: User) -> Token:
    """A new API token for the user; the old one stops working."""
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    audit.record(audit.Kind.TOKEN, actor=user, obj=user, comment="生成新的 API 令牌")
    return token


@transaction.atomic
def token_revoke(*, user: User) -> None:
    if Token.objects.filter(user=user).delete()[0]:
        audit.record(audit.Kind.TOKEN, actor=user, obj=user, comment="吊销 API 令牌")


@transaction.atomic
def security_policy_update(*, actor: User, **values) -> SecurityPolicy:
    _require(actor, "policy.manage")
    policy = SecurityPolicy.objects.select_for_update().filter(pk=1).first() or SecurityPolicy(pk=1)
    before = audit.snapshot(policy, SecurityPolicy.FIELDS)
    for name in SecurityPolicy.FIELDS:
        setattr(policy, name, values[name])
    policy.full_clean()
    policy.save()
    changes = audit.diff(before, audit.snapshot(policy, SecurityPolicy.FIELDS))
    if changes:
        audit.record(audit.Kind.POLICY_CHANGE, actor=actor, obj=policy, changes=changes)
    return policy
