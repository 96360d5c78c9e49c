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
    R.FINANCE_LEADER: S.REGION,
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

# --- Special funds, indicator library, ex-ante assessment, performance targets (issue 3) -----

# Who may read business records of a fund: finance, NPC and audit within the region; a department
# its own and its units'; a unit its own.
FUND_READERS = {
    R.FINANCE_PERF: S.REGION,
    R.FINANCE_SECTOR: S.REGION,
    R.DISTRICT_FINANCE: S.REGION,
    R.DEPT_FILLER: S.SUBTREE,
    R.DEPT_APPROVER: S.SUBTREE,
    R.NPC_LIAISON: S.REGION,
    R.AUDITOR: S.REGION,
    R.FINANCE_LEADER: S.REGION,
}
UNIT_WRITERS = {R.DEPT_FILLER: S.SUBTREE, R.DEPT_APPROVER: S.SUBTREE}
FINANCE_DECIDERS = {R.FINANCE_PERF: S.REGION, R.DISTRICT_FINANCE: S.REGION}

register(
    Action("fund.view", "查看专项资金", FUND_READERS),
    Action("fund.edit", "新建/修改专项资金（草稿）", UNIT_WRITERS),
    Action("fund.submit", "预算申报（部门）", {R.DEPT_APPROVER: S.SUBTREE}),
    Action("fund.arrange", "安排预算（财政）", FINANCE_DECIDERS),
    Action(
        "indicator.view",
        "查看指标库",
        dict.fromkeys([*FUND_READERS, R.EXPERT], S.ALL),
    ),
    Action("indicator.manage", "维护指标库、审核部门建议指标", {R.FINANCE_PERF: S.ALL}),
    Action("indicator.propose", "建议新增库指标", UNIT_WRITERS),
    Action("target.view", "查看绩效目标", FUND_READERS),
    Action("target.edit", "填报/修改绩效目标（草稿、退回）", UNIT_WRITERS),
    Action("target.send", "提交部门审核", UNIT_WRITERS),
    Action("target.submit", "部门审核通过并报送财政 / 部门退回", {R.DEPT_APPROVER: S.SUBTREE}),
    Action(
        "target.sector_review",
        "业务处室审核绩效目标",
        {R.FINANCE_SECTOR: S.ASSIGNED, R.DISTRICT_FINANCE: S.REGION},
    ),
    Action("target.approve", "绩效处审核并批复绩效目标", FINANCE_DECIDERS),
    Action("target.adjust", "调整已批复的绩效目标（新版本）", UNIT_WRITERS),
    Action("assessment.view", "查看事前绩效评估", {**FUND_READERS, R.EXPERT: S.OBJECT}),
    Action("assessment.edit", "填写事前绩效评估", UNIT_WRITERS),
    Action("assessment.submit", "提交事前绩效评估", {R.DEPT_APPROVER: S.SUBTREE}),
    Action(
        "assessment.review",
        "财政评审事前绩效评估（指派专家、作出结论）",
        {R.FINANCE_PERF: S.REGION, R.FINANCE_SECTOR: S.ASSIGNED, R.DISTRICT_FINANCE: S.REGION},
    ),
    Action("assessment.opine", "专家评审意见", {R.EXPERT: S.OBJECT}),
)

# --- Dual monitoring (issue 4) --------------------------------------------------------------

register(
    Action("monitoring.round", "查看本区域的监控轮次", BUSINESS_READERS),
    Action("monitoring.view", "查看监控报告", FUND_READERS),
    Action("monitoring.manage", "开启/结束监控轮次、导入执行数", FINANCE_DECIDERS),
    Action("monitoring.fill", "填报监控报告", UNIT_WRITERS),
    Action("monitoring.submit", "部门审核并报送监控报告", {R.DEPT_APPROVER: S.SUBTREE}),
    Action(
        "monitoring.receive",
        "财政接收/退回监控报告",
        {R.FINANCE_PERF: S.REGION, R.FINANCE_SECTOR: S.ASSIGNED, R.DISTRICT_FINANCE: S.REGION},
    ),
    Action("monitoring.key", "选定重点监控项目并作出处理措施", FINANCE_DECIDERS),
)

register(
    Action(
        "job.view", "查看本机构发起的后台任务（进度、下载结果）", dict.fromkeys([*BUSINESS_READERS, R.EXPERT], S.OWN)
    )
)

# --- Evaluations: self-evaluation, key evaluations, agencies and experts (issue 5) ------------

FINANCE_REVIEWERS = {R.FINANCE_PERF: S.REGION, R.FINANCE_SECTOR: S.ASSIGNED, R.DISTRICT_FINANCE: S.REGION}

register(
    Action("selfeval.round", "查看本区域的自评批次", BUSINESS_READERS),
    Action("selfeval.manage", "开启/结束自评批次、设置计分规则、导入", FINANCE_DECIDERS),
    Action("selfeval.view", "查看单位自评", FUND_READERS),
    Action("selfeval.fill", "填报单位自评", UNIT_WRITERS),
    Action("selfeval.submit", "部门审核并报送单位自评 / 部门退回", {R.DEPT_APPROVER: S.SUBTREE}),
    Action("selfeval.review", "财政审核单位自评（确认/退回）", FINANCE_REVIEWERS),
    Action("selfeval.adjust", "财政抽查调整自评得分（须写明理由）", FINANCE_DECIDERS),
    Action(
        "plan.view",
        "查看重点评价计划",
        {**BUSINESS_READERS, R.DEPT_FILLER: S.SUBTREE, R.DEPT_APPROVER: S.SUBTREE},
    ),
    Action("plan.manage_finance", "编制/下达财政重点评价计划", FINANCE_DECIDERS),
    Action("plan.manage_department", "编制/下达部门评价计划", {R.DEPT_APPROVER: S.OWN}),
    Action("evaluation.view", "查看重点评价与部门整体评价", {**FUND_READERS, R.EXPERT: S.OBJECT}),
    Action(
        "evaluation.conduct_finance", "开展财政重点评价（评分、问题、报告）", {**FINANCE_DECIDERS, R.EXPERT: S.OBJECT}
    ),
    Action("evaluation.conduct_department", "开展部门评价（评分、问题、报告）", {**UNIT_WRITERS, R.EXPERT: S.OBJECT}),
    Action("evaluation.complete_finance", "审定财政重点评价结果", FINANCE_DECIDERS),
    Action("evaluation.complete_department", "审定部门评价结果", {R.DEPT_APPROVER: S.SUBTREE}),
    Action("evaluation.assign", "委托第三方机构、指派专家", FINANCE_DECIDERS),
    Action(
        "registry.view",
        "查看第三方机构与专家库",
        {
            R.FINANCE_PERF: S.ALL,
            R.FINANCE_SECTOR: S.ALL,
            R.DISTRICT_FINANCE: S.ALL,  # one registry for the whole city; districts use it too
            R.AUDITOR: S.REGION,
        },
    ),
    Action("assignment.mine", "查看委托/指派给本人的评价任务（第三方机构、专家）", {R.EXPERT: S.OWN}),
    Action("registry.manage", "登记/修改/暂停第三方机构与专家、登记利益关联", FINANCE_DECIDERS),
    Action(
        "appraisal.view",
        "查看第三方机构质量考评",
        {R.FINANCE_PERF: S.ALL, R.FINANCE_SECTOR: S.REGION, R.DISTRICT_FINANCE: S.REGION, R.AUDITOR: S.REGION},
    ),
    Action("appraisal.manage", "考评第三方机构工作质量", FINANCE_DECIDERS),
)

# --- Result application: rectification, budget linkage, disclosure, NPC reports, dashboards (issue 6)

# Who reads the NPC workbooks and the export history: the NPC liaison and finance of the region;
# the city's performance division exports every region (the whole city's workbook).
NPC_EXPORTERS = {R.NPC_LIAISON: S.REGION, R.FINANCE_PERF: S.ALL, R.DISTRICT_FINANCE: S.REGION}

register(
    Action("rectification.view", "查看整改事项", FUND_READERS),
    Action("rectification.create", "下达整改事项", FINANCE_DECIDERS),
    Action("rectification.fill", "填报整改措施与情况、上传佐证、报送核实", UNIT_WRITERS),
    Action("rectification.verify", "核实整改（通过/重新整改）", FINANCE_DECIDERS),
    Action("linkage.view", "查看评价结果与预算挂钩", FUND_READERS),
    Action("linkage.manage", "维护预算挂钩规则", FINANCE_DECIDERS),
    Action("disclosure.view", "查看信息公开记录（含已撤回）", FUND_READERS),
    Action("disclosure.publish", "公开/撤回绩效信息", FINANCE_DECIDERS),
    Action("npc.export", "导出报人大报表、查看导出记录", NPC_EXPORTERS),
    Action(
        "dashboard.view",
        "查看绩效管理分析看板",
        {**FUND_READERS, R.FINANCE_PERF: S.ALL},
    ),
    Action("dashboard.compare", "区市对比分析", {R.FINANCE_PERF: S.ALL}),
)


# --- Deadline reminders and notifications (issue 7) -------------------------------------------

register(
    Action("reminder.view", "查看催办提醒（已安排、已发送、失败）", {**FINANCE_DECIDERS, R.FINANCE_SECTOR: S.ASSIGNED}),
    Action("reminder.manage", "设置提醒规则、手工重发提醒", FINANCE_DECIDERS),
    Action("calendar.copy", "将市本级工作日历复制到区市", {R.FINANCE_PERF: S.ALL}),
)

# Whom overdue work escalates to (the reminder sweep, ``apps.reminders.services``): after the first
# escalation day the department's approver; after the second the finance reviewer of that
# department — the sector division assigned to it, or the district's finance office — and the
# region's performance division when no one is assigned.
ESCALATE_TO_DEPARTMENT = {R.DEPT_APPROVER: S.SUBTREE}
ESCALATE_TO_FINANCE = {R.FINANCE_SECTOR: S.ASSIGNED, R.DISTRICT_FINANCE: S.REGION}
ESCALATE_TO_FINANCE_FALLBACK = {R.FINANCE_PERF: S.REGION}


# --- Supervision: annual assessment, district fiscal-operation evaluation, audit, special areas (issue 8)

# Assessed bodies see their own breakdown only (a department OWN; a district finance office its
# region, i.e. its own line in the city's sheet and its departments' in its own); the 通报 (ranked
# totals) is read by every business reader once published — drafts only by those who manage them.
register(
    Action("annual.manage", "配置考核项目、计算初稿、调整得分、发布通报", FINANCE_DECIDERS),
    Action(
        "annual.view",
        "查看年度考核通报（排名）",
        {**BUSINESS_READERS, R.FINANCE_PERF: S.ALL, R.FINANCE_LEADER: S.ALL},
    ),
    Action(
        "annual.breakdown",
        "查看考核得分明细及计算依据",
        {
            R.FINANCE_PERF: S.ALL,
            R.FINANCE_LEADER: S.ALL,
            R.FINANCE_SECTOR: S.ASSIGNED,
            R.DISTRICT_FINANCE: S.REGION,
            R.DEPT_FILLER: S.OWN,
            R.DEPT_APPROVER: S.OWN,
            R.AUDITOR: S.REGION,
        },
    ),
    Action("fiscal.manage", "设置财政运行评价指标、评分、发布", {R.FINANCE_PERF: S.REGION}),
    Action(
        "fiscal.view",
        "查看区市财政运行综合绩效评价",
        {R.FINANCE_PERF: S.ALL, R.FINANCE_LEADER: S.ALL, R.DISTRICT_FINANCE: S.REGION},
    ),
    Action("fiscal.fill", "填报本区市财政运行数据、上传佐证、报送", {R.DISTRICT_FINANCE: S.REGION}),
    Action("finding.view", "查看审计发现问题", {**FUND_READERS, R.FINANCE_LEADER: S.ALL}),
    Action("finding.manage", "登记审计发现、下达整改、跟踪销号", {R.AUDITOR: S.REGION}),
    # 移送纪委监委线索: audit and finance leadership only — never the organisation concerned.
    Action("referral.view", "查看移送纪委监委线索", {R.AUDITOR: S.REGION, R.FINANCE_LEADER: S.ALL}),
    Action("referral.manage", "登记/更新移送纪委监委线索", {R.AUDITOR: S.REGION}),
    Action(
        "area.view",
        "查看专项领域汇总（政府投资基金、PPP、政府采购、政府购买服务、政府债务）",
        {**FUND_READERS, R.FINANCE_PERF: S.ALL, R.FINANCE_LEADER: S.ALL},
    ),
)
