"""Roles → actions: the whole map, in one place.

Each action names the scope every role gets for it (see ``apps.core.permissions.Scope``). A role
missing from an action may never do it (403); a row outside the scope is invisible (404). Later
apps add their actions here, so ``docs/permissions.md`` (``manage.py permissions_doc``) stays
the complete table.
"""

from apps.accounts.roles import Role as R

from .permissions import Action, register
from .permissions import Scope as S

BUSINESS_READERS = {
    R.FINANCE_PERF: S.REGION,
    R.FINANCE_SECTOR: S.REGION,
    R.DISTRICT_FINANCE: S.REGION,
    R.DEPT_FILLER: S.REGION,
    R.DEPT_APPROVER: S.REGION,
    R.NPC_LIAISON: S.REGION,
    R.AUDITOR: S.REGION,
}

register(
    Action(
        "todo.view",
        "查看待办事项",
        {**dict.fromkeys(BUSINESS_READERS, S.OWN), R.EXPERT: S.OWN},
    ),
    Action(
        "org.view",
        "查看组织机构",
        {
            R.FINANCE_PERF: S.ALL,  # the city oversees and assesses the districts
            R.FINANCE_SECTOR: S.REGION,
            R.DISTRICT_FINANCE: S.REGION,
            R.DEPT_FILLER: S.SUBTREE,
            R.DEPT_APPROVER: S.SUBTREE,
            R.NPC_LIAISON: S.REGION,
            R.AUDITOR: S.REGION,
            R.EXPERT: S.OWN,
            R.SYSADMIN: S.REGION,  # reference data needed to place accounts; no business rows
        },
    ),
    Action(
        "calendar.view",
        "查看工作日历",
        {**BUSINESS_READERS, R.FINANCE_PERF: S.ALL},
    ),
    Action(
        "calendar.manage",
        "维护工作日历",
        {R.FINANCE_PERF: S.REGION, R.DISTRICT_FINANCE: S.REGION},
    ),
    Action("user.manage", "管理用户账号与角色", {R.SYSADMIN: S.REGION}),
    Action("policy.manage", "设置安全策略", {R.SECURITY_ADMIN: S.ALL}),
    Action("audit.view", "查阅审计日志", {R.AUDIT_ADMIN: S.ALL, R.AUDITOR: S.REGION}),
)
