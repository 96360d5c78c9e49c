"""Role codes (Django groups with fixed names) and the organisation kinds each may sit in."""

from django.db import models

from apps.orgs.models import Organization

K = Organization.Kind


class Role(models.TextChoices):
    FINANCE_PERF = "finance_perf", "财政绩效管理"
    FINANCE_SECTOR = "finance_sector", "财政业务处室审核"
    # 局领导: reads the whole city's performance work, incl. referrals to the discipline commission.
    FINANCE_LEADER = "finance_leader", "财政局领导"
    DEPT_FILLER = "dept_filler", "部门/单位填报"
    DEPT_APPROVER = "dept_approver", "部门审核"
    DISTRICT_FINANCE = "district_finance", "区市财政绩效管理"
    NPC_LIAISON = "npc_liaison", "人大联络"
    AUDITOR = "auditor", "审计监督"
    EXPERT = "expert", "评审专家"
    SYSADMIN = "sysadmin", "系统管理员"
    SECURITY_ADMIN = "security_admin", "安全管理员"
    AUDIT_ADMIN = "audit_admin", "安全审计员"


# 等保 三员分立: these roles are held alone, never together with each other or a business role.
ADMIN_ROLES = frozenset({Role.SYSADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})

# The system administrator manages accounts but not those of the two officers who check on it:
# security and audit administrators are provisioned with ``manage.py provision_admin`` (deployment).
PROTECTED_ROLES = frozenset({Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})

FINANCE_KINDS = frozenset({K.FINANCE, K.FINANCE_DIVISION})
ROLE_ORG_KINDS: dict[str, frozenset[str]] = {
    Role.FINANCE_PERF: FINANCE_KINDS,
    Role.FINANCE_SECTOR: FINANCE_KINDS,
    Role.DISTRICT_FINANCE: FINANCE_KINDS,
    Role.DEPT_FILLER: frozenset({K.DEPARTMENT, K.UNIT}),
    Role.DEPT_APPROVER: frozenset({K.DEPARTMENT}),
    Role.NPC_LIAISON: frozenset({K.NPC}),
    Role.AUDITOR: frozenset({K.AUDIT}),
    Role.EXPERT: frozenset({K.EXPERT_POOL, K.AGENCY}),
    Role.SYSADMIN: FINANCE_KINDS,
    Role.SECURITY_ADMIN: FINANCE_KINDS,
    Role.AUDIT_ADMIN: FINANCE_KINDS,
}
# City-level roles and district-level roles must sit in an organisation of the matching region level.
CITY_ONLY_ROLES = frozenset({Role.FINANCE_PERF, Role.FINANCE_SECTOR, Role.FINANCE_LEADER})
DISTRICT_ONLY_ROLES = frozenset({Role.DISTRICT_FINANCE})

BUSINESS_ROLES = [r for r in Role if r not in ADMIN_ROLES]


def ensure_role_groups(group_model) -> None:
    """The Django groups that carry the roles; takes the model so the migration can pass its own."""
    for code in Role.values:
        group_model.objects.get_or_create(name=code)
