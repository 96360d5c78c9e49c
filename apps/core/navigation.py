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
    NavItem("消息提醒", "notifications:notification_list", None, "bell"),
    NavItem("专项资金", "funds:fund_list", "fund.view", "cash-coin"),
    NavItem("绩效目标", "targets:target_list", "target.view", "bullseye"),
    NavItem("目标审核", "targets:review_queue", "target.sector_review|target.approve|target.submit", "clipboard-check"),
    NavItem("运行监控", "monitoring:round_list", "monitoring.view", "activity"),
    NavItem("监控预警", "monitoring:warning_list", "monitoring.view", "exclamation-triangle"),
    NavItem("重点监控", "monitoring:key_list", "monitoring.key", "binoculars"),
    NavItem("单位自评", "evaluations:self_list", "selfeval.view", "pencil-square"),
    NavItem("自评汇总", "evaluations:summary_page", "selfeval.view", "bar-chart"),
    NavItem("评价计划", "evaluations:plan_list", "plan.view", "calendar-check"),
    NavItem("重点评价", "evaluations:key_list", "evaluation.view", "award"),
    NavItem("我的评价任务", "agencies:my_assignments", "assignment.mine", "briefcase"),
    NavItem("计分规则", "evaluations:rules", "selfeval.manage", "sliders"),
    NavItem("机构与专家库", "agencies:agency_list", "registry.view", "building"),
    NavItem("整改管理", "results:rectification_list", "rectification.view", "tools"),
    NavItem("预算安排", "results:linkage_arrange", "fund.arrange", "cash-stack"),
    NavItem("预算挂钩", "results:linkage_report", "linkage.view", "link-45deg"),
    NavItem("信息公开", "results:disclosure_list", "disclosure.view", "megaphone"),
    NavItem("报人大报表", "results:npc_export", "npc.export", "file-earmark-spreadsheet"),
    NavItem("分析看板", "results:dashboard", "dashboard.view", "graph-up"),
    NavItem("区市对比", "results:dashboard_compare", "dashboard.compare", "columns-gap"),
    NavItem("年度考核", "supervision:assessment_list", "annual.view", "trophy"),
    NavItem("财政运行评价", "supervision:fiscal_list", "fiscal.view", "bank"),
    NavItem("审计发现", "supervision:finding_list", "finding.view", "search"),
    NavItem("移送线索", "supervision:referral_list", "referral.view", "shield-exclamation"),
    NavItem("专项领域", "supervision:area_summary", "area.view", "pie-chart"),
    NavItem("事前评估", "assessments:assessment_list", "assessment.view", "clipboard-data"),
    NavItem("指标库", "indicators:library", "indicator.view", "collection"),
    NavItem("工作日历", "orgs:calendar_list", "calendar.view", "calendar3"),
    NavItem("催办提醒", "reminders:overview", "reminder.view", "alarm"),
    NavItem("组织机构", "orgs:organization_list", "org.view", "diagram-3"),
    NavItem("用户管理", "accounts:user_list", "user.manage", "people"),
    NavItem("安全策略", "accounts:security_policy", "policy.manage", "shield-lock"),
    NavItem("审计日志", "core:audit_list", "audit.view", "journal-text"),
    NavItem("后台任务", "jobs:job_list", "job.view", "hourglass-split"),
    NavItem("接口文档", "api-docs", None, "braces"),
]


def _allowed(user, item: NavItem) -> bool:
    """``action`` may list alternatives separated by "|" (any of them shows the entry)."""
    return item.action is None or any(permissions.has_action(user, a) for a in item.action.split("|"))


def menu_for(user) -> list[NavItem]:
    return [item for item in MENU if _allowed(user, item)]
