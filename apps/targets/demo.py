"""Demo funds, targets and ex-ante assessments for ``seed_demo``: every department gets 5–6 funds
across budget types and special areas, with targets in every state so every page has real rows.

Demo rows are written directly (a setup step, like fixtures), deterministically from the fund code,
and only when the fund code does not exist yet, so a second run changes nothing.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.assessments.models import Conclusion, ExAnteAssessment
from apps.funds.models import BudgetType, PolicyTag, SpecialFund
from apps.indicators.framework import Comparison, Level1, Level2, Sector
from apps.indicators.models import LibraryIndicator
from apps.orgs.models import FiscalYear, Organization

from .models import PerformanceTarget, TargetIndicator
from .models import TargetStatus as S

# Department code suffix → (sector, fund names).
PROGRAMS = {
    "EDU": (Sector.EDUCATION, ["家庭经济困难学生资助", "中小学校舍改造提升", "智慧校园建设", "学前教育普惠发展",
                               "教师队伍建设专项", "职业教育产教融合"]),
    "HEALTH": (Sector.HEALTH, ["基本公共卫生服务", "重大传染病防控", "基层医疗卫生机构能力提升", "院前急救体系建设",
                               "妇幼健康服务", "卫生健康信息化"]),
    "TRANS": (Sector.TRANSPORT, ["农村公路提档升级", "公交优先发展补贴", "交通安全设施完善", "港口集疏运体系建设",
                                 "综合交通枢纽运营补助", "公路养护专项"]),
    "AGRI": (Sector.AGRICULTURE, ["高标准农田建设", "乡村振兴示范片区", "动物疫病防控", "农业社会化服务",
                                  "种业振兴行动", "农村人居环境整治"]),
    "SCI": (Sector.SCIENCE, ["科技型企业培育", "重大科技创新工程", "新型研发机构建设", "科技成果转化引导",
                             "高新技术企业奖励", "科普能力建设"]),
    "CIVIL": (Sector.CIVIL, ["城乡低保资金", "特困人员供养", "养老服务体系建设", "社区治理创新", "儿童福利保障",
                             "困难残疾人生活补贴"]),
    "HRSS": (Sector.HRSS, ["就业创业补贴", "职业技能提升行动", "高校毕业生就业见习", "人才引进专项",
                           "公益性岗位补贴", "劳动保障监察"]),
    "HOUSE": (Sector.HOUSING, ["城镇老旧小区改造", "公租房运营管理", "棚户区改造", "建筑节能改造",
                               "城市更新示范项目", "住房保障信息化"]),
    "ENV": (Sector.ENVIRONMENT, ["大气污染防治", "近岸海域水质提升", "土壤污染防治", "生态环境监测能力建设",
                                 "固体废物治理", "农村生活污水治理"]),
    "CULT": (Sector.CULTURE, ["公共文化服务体系建设", "文物保护利用", "全域旅游推广", "群众文化活动补助",
                              "非物质文化遗产保护", "图书馆数字化"]),
    "OCEAN": (Sector.OCEAN, ["海洋牧场建设", "海洋防灾减灾", "渔港升级改造", "海洋生态修复", "远洋渔业发展",
                             "海洋科技创新平台"]),
    "IIT": (Sector.INDUSTRY, ["工业互联网发展", "中小企业专精特新培育", "技术改造奖补", "数字经济产业发展",
                              "绿色制造体系建设", "工业设计创新"]),
}  # fmt: skip

BUDGET_TYPES = [BudgetType.GENERAL, BudgetType.GENERAL, BudgetType.GOVERNMENT_FUND, BudgetType.GENERAL,
                BudgetType.STATE_CAPITAL, BudgetType.SOCIAL_INSURANCE]  # fmt: skip
AREAS = ["is_procurement", "is_purchase_of_services", "is_ppp", "is_debt", "is_investment_fund", None]
# (target states of the versions, fund request status) for the 1st … 6th fund of a department.
STORIES = [
    ([S.APPROVED], SpecialFund.RequestStatus.ARRANGED),
    ([S.SUPERSEDED, S.APPROVED], SpecialFund.RequestStatus.ARRANGED),  # adjusted: two versions
    ([S.SECTOR_REVIEW], SpecialFund.RequestStatus.SUBMITTED),
    ([S.RETURNED], SpecialFund.RequestStatus.DRAFT),
    ([S.PERF_REVIEW], SpecialFund.RequestStatus.SUBMITTED),
    ([S.DRAFT], SpecialFund.RequestStatus.DRAFT),
]
# Weights per (一级, how many rows): 产出 50, 效益 30, 满意度 10 → 90 (+10 预算执行率).
SHAPE = [(Level1.OUTPUT, [15, 15, 10, 10]), (Level1.EFFECT, [15, 15]), (Level1.SATISFACTION, [10])]
FALLBACK = {
    Level1.OUTPUT: ("完成年度计划任务", Level2.QUANTITY, Comparison.GE, "100", "%"),
    Level1.EFFECT: ("服务对象受益面", Level2.SOCIAL, Comparison.GE, "90", "%"),
    Level1.SATISFACTION: ("服务对象满意度", Level2.SERVICE_SATISFACTION, Comparison.GE, "90", "%"),
}


def _rows_for(sector: str, rng: random.Random, library: dict) -> list[TargetIndicator]:
    rows, order = [], 0
    for level1, weights in SHAPE:
        pool = library.get((sector, level1)) or library.get((Sector.GENERAL, level1)) or []
        core = [ind for ind in pool if ind.is_core][: len(weights)]  # 核心约束 indicators first
        rest = [ind for ind in pool if not ind.is_core]
        picks = core + rng.sample(rest, min(len(rest), len(weights) - len(core)))
        for i, weight in enumerate(weights):
            if i < len(picks):
                ind = picks[i]
                value = ind.reference_value
                row = TargetIndicator(level1=ind.level1, level2=ind.level2, name=ind.name, comparison=ind.comparison,
                                      unit=ind.unit, library_indicator=ind)  # fmt: skip
            else:
                name, level2, comparison, value, unit = FALLBACK[level1]
                row = TargetIndicator(level1=level1, level2=level2, name=f"{name}{i + 1}", comparison=comparison,
                                      unit=unit)  # fmt: skip
            if row.comparison == Comparison.QUALITATIVE:
                row.target_text = value or "达到预期目标"
            else:
                try:
                    row.target_value = Decimal(value)
                except Exception:  # noqa: BLE001 - reference values may be ranges or words
                    row.target_value = Decimal(rng.choice([90, 95, 100, 120, 500]))
                if not row.unit:
                    row.unit = "%"
            row.weight, row.sort_order = Decimal(weight), order
            order += 1
            rows.append(row)
    return rows


def _filed_at(year: int, code: str):
    """When the demo unit first sent year ``year``'s target to finance: with the budget request in the
    autumn of ``year - 1`` (the calendar's 10-31), about one in seven a few days late — so the
    annual assessment's on-time rate has something to measure."""
    rng = random.Random(f"{code}-filed")  # its own stream: the fund's draws stay as they were
    if rng.random() < 0.15:
        day = date(year - 1, 11, rng.randint(2, 20))
    else:
        day = date(year - 1, 10, rng.randint(10, 31))
    return timezone.make_aware(datetime.combine(day, time(10, rng.randint(0, 59))))


@transaction.atomic
def seed_targets(year: int = 2026) -> int:
    """Funds with targets for every department of every region. Returns the number of funds created."""
    fiscal_year = FiscalYear.objects.get(pk=year)
    library: dict[tuple[str, str], list[LibraryIndicator]] = {}
    for ind in LibraryIndicator.objects.filter(status=LibraryIndicator.Status.ACTIVE):
        library.setdefault((ind.sector, ind.level1), []).append(ind)
    tags = list(PolicyTag.objects.filter(is_active=True))
    existing = set(SpecialFund.objects.filter(fiscal_year=fiscal_year).values_list("code", flat=True))
    departments = Organization.objects.filter(kind=Organization.Kind.DEPARTMENT).exclude(code__startswith="SC")
    created = 0
    now = timezone.now()
    for dept in departments.select_related("region").prefetch_related("children"):
        suffix = dept.code.rsplit("-", 1)[-1]
        sector, names = PROGRAMS.get(suffix, (Sector.GENERAL, ["公共服务能力提升", "基础设施运行维护"]))
        units = [u for u in dept.children.all() if u.kind == Organization.Kind.UNIT] or [dept]
        count = 6 if dept.region.is_city else 5
        for n in range(count):
            code = f"{dept.code}-{year}-{n + 1:02d}"
            if code in existing:
                continue
            rng = random.Random(code)
            amount = Decimal(rng.choice([80, 150, 300, 450, 620, 880, 1200, 2600])) * 10000
            area = AREAS[n % len(AREAS)]
            program = names[n % len(names)]
            fund = SpecialFund.objects.create(
                fiscal_year=fiscal_year,
                region=dept.region,
                code=code,
                name=program if dept.region.is_city else f"{dept.region.name}{program}",
                budget_type=BUDGET_TYPES[n % len(BUDGET_TYPES)],
                sector=sector,
                organization=units[n % len(units)],
                department=dept,
                fiscal_amount=amount * Decimal("0.9"),
                other_amount=amount * Decimal("0.1"),
                period_start=year,
                period_end=year + rng.choice([0, 1, 2]),
                is_transfer=(n == 4 and dept.region.is_city),
                is_new_major_policy=(n == 2),
                description=f"{program}，由{dept.name}组织实施。",
                **({area: True} if area else {}),
            )
            if tags and n % 2 == 0:
                fund.policy_tags.set(rng.sample(tags, 2))
            states, request_status = STORIES[n % len(STORIES)]
            filed_at = _filed_at(year, code)
            previous = None
            for version, state in enumerate(states, start=1):
                target = PerformanceTarget.objects.create(
                    kind=PerformanceTarget.Kind.FUND,
                    fund=fund,
                    organization=fund.organization,
                    fiscal_year=fiscal_year,
                    version=version,
                    previous=previous,
                    status=state,
                    long_term_goal=f"到{year + 2}年，{program}覆盖面和服务质量显著提升。",
                    annual_goal=f"{year}年完成{program}年度任务，资金使用规范高效。",
                    adjustment_reason="年中预算调整，实施范围相应调整。" if version > 1 else "",
                    return_comment="部分指标值偏低，请对照上年完成情况修改。" if state == S.RETURNED else "",
                    status_changed_at=now - timedelta(days=rng.randint(1, 20)),
                    submitted_at=(filed_at if version == 1 else now - timedelta(days=30))
                    if state not in (S.DRAFT, S.RETURNED)
                    else None,
                    approved_at=now - timedelta(days=10) if state in (S.APPROVED, S.SUPERSEDED) else None,
                )
                rows = _rows_for(sector, rng, library)
                for row in rows:
                    row.target = target
                if state == S.RETURNED and rows:
                    rows[0].review_comment = "指标值应与实施方案保持一致。"
                TargetIndicator.objects.bulk_create(rows)
                previous = target
            fund.request_status = request_status
            if request_status == SpecialFund.RequestStatus.ARRANGED:
                fund.arranged_amount = fund.total_amount
                fund.arrangement_comment = "按申报金额安排。"
            fund.save(update_fields=["request_status", "arranged_amount", "arrangement_comment"])
            if fund.total_amount >= Decimal("5000000") or fund.is_new_major_policy:
                done = request_status != SpecialFund.RequestStatus.DRAFT or n == 0
                ExAnteAssessment.objects.create(
                    fund=fund, organization=fund.organization,
                    status=ExAnteAssessment.Status.COMPLETED if done else ExAnteAssessment.Status.DRAFT,
                    necessity="项目符合国家和省市政策导向，群众需求迫切，立项依据充分。",
                    economy="投入标准参照同类项目及市场价格测算，成本构成合理。",
                    target_reasonableness="绩效目标与资金规模和实施内容相匹配，指标可衡量。",
                    feasibility="实施方案明确，组织保障和进度安排可行。",
                    funding_compliance="资金来源符合预算管理规定，不新增隐性债务。",
                    finance_opinion="经评审，同意立项。" if done else "",
                    conclusion=(Conclusion.SUPPORT if n != 2 else Conclusion.SUPPORT_ADJUSTED) if done else "",
                    completed_at=now - timedelta(days=40) if done else None,
                )  # fmt: skip
            created += 1
    return created
