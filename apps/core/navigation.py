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
    NavItem("专项资金", "funds:fund_list", "fund.view", "cash-coin"),
    NavItem("绩效目标", "targets:target_list", "target.view", "bullseye"),
    NavItem("目标审核", "targets:review_queue", "target.sector_review|target.approve|target.submit", "clipboard-check"),
    NavItem("运行监控", "monitoring:round_list", "monitoring.view", "activity"),
    NavItem("监控预警", "monitoring:warning_list", "monitoring.view", "exclamation-triangle"),
    NavItem("重点监控", "monitoring:key_list", "monitoring.key", "binoculars"),
    NavItem("事前评估", "assessments:assessment_list", "assessment.view", "clipboard-data"),
    NavItem("指标库", "indicators:library", "indicator.view", "collection"),
    NavItem("工作日历", "orgs:calendar_list", "calendar.view", "calendar3"),
    NavItem("组织机构", "orgs:organization_list", "org.view", "diagram-3"),
    NavItem("用户管理", "accounts:user_list", "user.manage", "people"),
    NavItem("安全策略", "accounts:security_policy", "policy.manage", "shield-lock"),
    NavItem("审计日志", "core:audit_list", "audit.view", "journal-text"),
    NavItem("接口文档", "api-docs", None, "braces"),
]


def _allowed(user, item: NavItem) -> bool:
    """``action`` may list alternatives separated by "|" (any of them shows the entry)."""
    return item.action is None or any(permissions.has_action(user, a) for a in item.action.split("|"))


def menu_for(user) -> list[NavItem]:
    return [item for item in MENU if _allowed(user, item)]
