"""Actions of the test-only Dossier: the same shape later apps use for real records."""

from apps.accounts.roles import Role as R
from apps.core.permissions import Action, register
from apps.core.permissions import Scope as S

register(
    Action(
        "dossier.view",
        "查看（测试）",
        {
            R.DEPT_FILLER: S.SUBTREE,
            R.DEPT_APPROVER: S.SUBTREE,
            R.FINANCE_PERF: S.REGION,
            R.FINANCE_SECTOR: S.REGION,
            R.DISTRICT_FINANCE: S.REGION,
            R.NPC_LIAISON: S.REGION,
            R.AUDITOR: S.REGION,
            R.EXPERT: S.OBJECT,
        },
    ),
    Action("dossier.submit", "报送（测试）", {R.DEPT_APPROVER: S.SUBTREE}),
    Action("dossier.review", "审核（测试）", {R.FINANCE_SECTOR: S.ASSIGNED, R.DISTRICT_FINANCE: S.REGION}),
    Action("dossier.approve", "批复（测试）", {R.FINANCE_PERF: S.REGION, R.DISTRICT_FINANCE: S.REGION}),
)
