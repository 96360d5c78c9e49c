"""Print docs/permissions.md: the role × action table, straight from apps/core/policy.py."""

from django.core.management.base import BaseCommand

from apps.accounts.roles import ADMIN_ROLES, Role
from apps.core import permissions


def render() -> str:
    roles = [(r.value, r.label) for r in Role]
    lines = [
        "# 角色与权限（Roles × actions）",
        "",
        "Generated from `apps/core/policy.py` by `make permissions-doc` — do not edit by hand;",
        "a test fails when this file and the code disagree.",
        "",
        "Each cell is the **scope** in which the role may perform the action; `—` means never (HTTP 403).",
        "Rows outside the scope are invisible (HTTP 404).",
        "",
        "| 范围 scope | meaning |",
        "|---|---|",
        "| 本机构 | rows of the user's own organisation |",
        "| 本机构及下属 | own organisation and everything below it (a department and its units) |",
        "| 分管部门 | departments assigned to a finance sector reviewer, with their units |",
        "| 本区域 | every organisation of the user's region (市本级 or one 区市) |",
        "| 全市 | every region |",
        "| 指派对象 | only records assigned to the user one by one (experts, agencies) |",
        "",
        "| action | 说明 | " + " | ".join(f"{label}<br>`{code}`" for code, label in roles) + " |",
        "|---|---|" + "---|" * len(roles),
    ]
    for code, label, cells in permissions.action_table(roles=roles):
        lines.append(f"| `{code}` | {label} | " + " | ".join(cells) + " |")
    admin = "、".join(Role(r).label for r in sorted(ADMIN_ROLES))
    lines += ["", f"等保“三员分立”：{admin}只能单独授予，不能与其他角色兼任；系统管理员不能读取业务数据。", ""]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "输出角色 × 权限表（docs/permissions.md）。"

    def handle(self, *args, **options):
        self.stdout.write(render(), ending="")
