"""The main menu. An entry shows only to users whose roles grant its action."""

from dataclasses import dataclass

from . import permissions


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    action: str | None  # None: every signed-in user
    icon: str = "circle"


MENU: list[NavItem] = [
    NavItem("我的待办", "core:home", None, "list-check"),
    NavItem("工作日历", "orgs:calendar_list", "calendar.view", "calendar3"),
    NavItem("组织机构", "orgs:organization_list", "org.view", "diagram-3"),
    NavItem("用户管理", "accounts:user_list", "user.manage", "people"),
    NavItem("安全策略", "accounts:security_policy", "policy.manage", "shield-lock"),
    NavItem("审计日志", "core:audit_list", "audit.view", "journal-text"),
    NavItem("接口文档", "api-docs", None, "braces"),
]


def menu_for(user) -> list[NavItem]:
    return [item for item in MENU if item.action is None or permissions.has_action(user, item.action)]
