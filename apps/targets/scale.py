"""Funds and performance targets of a large deployment, in bulk (for benchmarks).

``seed_scale_funds()`` fills the scale organisations of ``seed_scale`` (codes ``SC…``) with special
funds and their targets: per region that has scale organisations and per fiscal year ≈3,000 funds
(``SC370200-2026-00001`` …), each owned by a scale department or one of its units, with policy
tags on ≈60 %, transfer allocations for the city's transfer payments, and one target (version 1) in
a realistic spread of states with ≈8 indicator rows (产出/效益/满意度, valid 二级 under 一级,
weights adding up to 90, the sector's 核心约束 library indicators first). With the defaults that is
≈100,000 funds, ≈100,000 targets and ≈800,000 indicator rows.

Rows are pre-built as Python objects per region and year (memory stays bounded) and written with
``bulk_create`` in big batches inside one transaction; primary keys come back from the INSERT
(PostgreSQL, SQLite ≥ 3.35) or are fetched by code otherwise. The data is deterministic (seeded
from region and year) and created once: if any fund code starts with ``SC`` nothing is done.
"""

from __future__ import annotations

import math
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.funds.models import SPECIAL_AREAS, BudgetType, PolicyTag, SpecialFund, TransferAllocation
from apps.indicators.framework import Comparison, Level1, Level2, Sector
from apps.indicators.models import LibraryIndicator
from apps.orgs.models import FiscalYear, Organization, Region

from .models import PerformanceTarget, TargetIndicator
from .models import TargetStatus as S

CODE_PREFIX = "SC"
BATCH = 5000
K = Organization.Kind
Request = SpecialFund.RequestStatus

# Department name keyword (seed_scale's DEPARTMENT_NAMES) → (sector, programme names).
PROGRAMS: list[tuple[str, str, list[str]]] = [
    ("教育", Sector.EDUCATION, ["家庭经济困难学生资助", "中小学校舍改造提升", "智慧校园建设", "学前教育普惠发展",
                                "教师队伍建设", "职业教育产教融合", "义务教育优质均衡发展", "特殊教育提升"]),
    ("卫生", Sector.HEALTH, ["基本公共卫生服务", "重大传染病防控", "基层医疗卫生机构能力提升", "院前急救体系建设",
                             "妇幼健康服务", "卫生健康信息化", "中医药传承创新", "老年健康服务"]),
    ("交通", Sector.TRANSPORT, ["农村公路提档升级", "公交优先发展补贴", "交通安全设施完善", "港口集疏运体系建设",
                                "综合交通枢纽运营补助", "公路养护", "城市慢行系统建设", "智慧交通建设"]),
    ("农业", Sector.AGRICULTURE, ["高标准农田建设", "乡村振兴示范片区", "动物疫病防控", "农业社会化服务",
                                  "种业振兴行动", "农村人居环境整治", "耕地地力保护", "农产品质量安全监管"]),
    ("科技", Sector.SCIENCE, ["科技型企业培育", "重大科技创新工程", "新型研发机构建设", "科技成果转化引导",
                              "高新技术企业奖励", "科普能力建设", "技术创新中心建设", "科技人才引育"]),
    ("民政", Sector.CIVIL, ["城乡低保资金", "特困人员供养", "养老服务体系建设", "社区治理创新", "儿童福利保障",
                            "困难残疾人生活补贴", "殡葬设施改造", "社会救助信息化"]),
    ("人社", Sector.HRSS, ["就业创业补贴", "职业技能提升行动", "高校毕业生就业见习", "人才引进",
                           "公益性岗位补贴", "劳动保障监察", "创业担保贷款贴息", "技工教育发展"]),
    ("住建", Sector.HOUSING, ["城镇老旧小区改造", "公租房运营管理", "棚户区改造", "建筑节能改造",
                              "城市更新示范项目", "住房保障信息化", "农村危房改造", "城市燃气管网更新"]),
    ("生态环境", Sector.ENVIRONMENT, ["大气污染防治", "近岸海域水质提升", "土壤污染防治", "生态环境监测能力建设",
                                      "固体废物治理", "农村生活污水治理", "噪声污染防治", "生态保护修复"]),
    ("文旅", Sector.CULTURE, ["公共文化服务体系建设", "文物保护利用", "全域旅游推广", "群众文化活动补助",
                              "非物质文化遗产保护", "图书馆数字化", "文化惠民演出", "旅游公共服务设施建设"]),
    ("海洋", Sector.OCEAN, ["海洋牧场建设", "海洋防灾减灾", "渔港升级改造", "海洋生态修复", "远洋渔业发展",
                            "海洋科技创新平台", "海域使用动态监管", "海洋经济监测评估"]),
    ("工信", Sector.INDUSTRY, ["工业互联网发展", "中小企业专精特新培育", "技术改造奖补", "数字经济产业发展",
                               "绿色制造体系建设", "工业设计创新", "智能制造示范", "产业链协同发展"]),
    ("商务", Sector.GENERAL, ["外贸稳增长", "跨境电商发展", "商贸流通体系建设", "消费促进活动", "会展业发展",
                              "服务外包发展"]),
    ("水务", Sector.GENERAL, ["水库除险加固", "城市供水管网改造", "河道综合治理", "节水型社会建设",
                              "农村饮水安全巩固", "防汛抗旱物资储备"]),
    ("园林", Sector.GENERAL, ["城市公园建设", "道路绿化提升", "古树名木保护", "山头公园整治", "林业有害生物防治",
                              "森林防火能力建设"]),
    ("城管", Sector.GENERAL, ["环卫作业市场化", "生活垃圾分类", "城市照明设施维护", "市容秩序整治",
                              "数字城管平台运行", "建筑垃圾治理"]),
    ("应急", Sector.GENERAL, ["应急物资储备", "安全生产专项整治", "应急救援队伍建设", "自然灾害综合风险普查",
                              "应急指挥平台建设", "基层应急能力提升"]),
    ("市场监管", Sector.GENERAL, ["食品安全抽检", "特种设备安全监管", "知识产权保护", "质量强市建设",
                                  "计量检定能力建设", "药品安全监管"]),
    ("统计", Sector.GENERAL, ["经济普查", "统计调查专项", "统计信息化建设", "人口抽样调查", "统计执法检查",
                              "统计数据质量提升"]),
    ("医保", Sector.GENERAL, ["医疗救助资金", "医保基金监管", "医保信息平台运维", "长期护理保险试点",
                              "异地就医结算服务", "医保经办能力提升"]),
]  # fmt: skip
FALLBACK_PROGRAMS = (Sector.GENERAL, ["公共服务能力提升", "基础设施运行维护", "信息化建设运维", "业务能力建设"])
PREFIXES = ["", "", "", "", "农村", "城区", "重点区域", "全域", "试点区域"]
SUFFIXES = ["", "专项资金", "项目", "补助资金", "工程", "（二期）", "专项"]

# Weighted choices, as 100-slot lists (rng.choice on them is fast and exact).
STATUS_SPREAD = (
    [S.APPROVED] * 40
    + [S.PERF_REVIEW] * 15
    + [S.SECTOR_REVIEW] * 15
    + [S.DEPT_REVIEW] * 10
    + [S.DRAFT] * 10
    + [S.RETURNED] * 10
)
BUDGET_SPREAD = (
    [BudgetType.GENERAL] * 70
    + [BudgetType.GOVERNMENT_FUND] * 15
    + [BudgetType.STATE_CAPITAL] * 5
    + [BudgetType.SOCIAL_INSURANCE] * 10
)
AREA_FIELDS = [name for name, _ in SPECIAL_AREAS]

# Generated indicator rows per 二级: (name template, comparison, unit, (low, high) or qualitative text).
# ``{p}`` is the fund's programme name.
TEMPLATES: dict[str, list[tuple[str, str, str, tuple[int, int] | str]]] = {
    Level2.QUANTITY: [
        ("{p}覆盖人数", Comparison.GE, "人", (500, 50000)),
        ("{p}实施项目数", Comparison.GE, "个", (3, 60)),
        ("{p}建设规模", Comparison.GE, "平方米", (1000, 80000)),
        ("开展培训（宣传）场次", Comparison.GE, "场", (5, 120)),
        ("服务对象数量", Comparison.GE, "户", (100, 20000)),
        ("购置设备数量", Comparison.GE, "台（套）", (10, 500)),
        ("补助发放人次", Comparison.GE, "人次", (200, 30000)),
    ],
    Level2.QUALITY: [
        ("{p}验收合格率", Comparison.GE, "%", (95, 100)),
        ("资金使用合规率", Comparison.EQ, "%", (100, 100)),
        ("项目质量达标率", Comparison.GE, "%", (90, 100)),
        ("群众投诉办结率", Comparison.GE, "%", (95, 100)),
        ("补助对象认定准确率", Comparison.GE, "%", (98, 100)),
    ],
    Level2.TIMELINESS: [
        ("资金拨付及时率", Comparison.GE, "%", (95, 100)),
        ("{p}按期完成率", Comparison.GE, "%", (90, 100)),
        ("项目完成时限", Comparison.LE, "月", (6, 12)),
    ],
    Level2.OUTPUT_COST: [
        ("{p}单位成本", Comparison.LE, "万元", (5, 300)),
        ("成本控制率", Comparison.LE, "%", (100, 100)),
    ],
    Level2.ECONOMIC: [
        ("带动社会投资", Comparison.GE, "万元", (100, 50000)),
        ("带动相关产业增收", Comparison.GE, "万元", (50, 20000)),
    ],
    Level2.SOCIAL: [
        ("{p}受益人口覆盖率", Comparison.GE, "%", (80, 100)),
        ("带动就业人数", Comparison.GE, "人", (20, 2000)),
        ("公共服务水平", Comparison.QUALITATIVE, "", "明显提升"),
        ("群众获得感", Comparison.QUALITATIVE, "", "有效增强"),
    ],
    Level2.ECOLOGICAL: [
        ("节能减排量", Comparison.GE, "吨标准煤", (50, 5000)),
        ("绿化覆盖率提升", Comparison.GE, "个百分点", (1, 5)),
    ],
    Level2.SUSTAINABLE: [
        ("长效管护机制", Comparison.QUALITATIVE, "", "建立健全"),
        ("项目持续发挥效益年限", Comparison.GE, "年", (3, 15)),
    ],
    Level2.SERVICE_SATISFACTION: [
        ("服务对象满意度", Comparison.GE, "%", (85, 98)),
        ("受益群众满意度", Comparison.GE, "%", (85, 98)),
        ("社会公众满意度", Comparison.GE, "%", (80, 95)),
        ("项目实施单位满意度", Comparison.GE, "%", (85, 95)),
    ],
}
LEVEL2_CYCLE = {
    Level1.OUTPUT: [Level2.QUANTITY, Level2.QUALITY, Level2.TIMELINESS, Level2.QUANTITY, Level2.OUTPUT_COST],
    Level1.EFFECT: [Level2.SOCIAL, Level2.ECONOMIC, Level2.SUSTAINABLE, Level2.SOCIAL, Level2.ECOLOGICAL],
    Level1.SATISFACTION: [Level2.SERVICE_SATISFACTION],
}
# Points per 一级 (产出 50, 效益 30, 满意度 10 → 90; the other 10 are the budget execution rate).
POINTS = {Level1.OUTPUT: 50, Level1.EFFECT: 30, Level1.SATISFACTION: 10}
NUMERALS = "一二三四五六七八九十"


@dataclass(slots=True)
class Slot:
    """What stays the same for fund number n of a region over the years (owner, programme, type …)."""

    organization_id: int
    department_id: int
    org_name: str
    filer_id: int | None
    sector: str
    program: str
    name: str
    budget_type: str
    period_start: int
    period_end: int
    area: str | None
    is_transfer: bool
    is_new_major_policy: bool
    tag_ids: tuple[int, ...]


@dataclass
class Library:
    """Active library indicators by (sector, 一级): the 核心约束 ones and the others."""

    core: dict[tuple[str, str], list[LibraryIndicator]]
    other: dict[tuple[str, str], list[LibraryIndicator]]

    @classmethod
    def load(cls) -> Library:
        core, other = defaultdict(list), defaultdict(list)
        rows = LibraryIndicator.objects.filter(status=LibraryIndicator.Status.ACTIVE).exclude(code__startswith="SC-")
        for ind in rows.order_by("code"):
            (core if ind.is_core else other)[(ind.sector, ind.level1)].append(ind)
        return cls(core=dict(core), other=dict(other))


def split_points(total: int, n: int) -> list[Decimal]:
    """``total`` points over ``n`` rows in whole cents, adding up exactly."""
    base, extra = divmod(total * 100, n)
    return [Decimal(base + (1 if i < extra else 0)).scaleb(-2) for i in range(n)]


def level1_counts(rows: int) -> dict[str, int]:
    rows = max(rows, 3)
    satisfaction = max(1, rows // 8)
    effect = max(1, round(rows / 4))
    return {Level1.OUTPUT: rows - satisfaction - effect, Level1.EFFECT: effect, Level1.SATISFACTION: satisfaction}


def _number(rng: random.Random, low: int, high: int) -> Decimal:
    if high - low <= 20:
        return Decimal(rng.randint(low, high))
    magnitude = 10 ** max(0, int(math.log10(high)) - 2)  # round to 2–3 significant digits
    return Decimal(rng.randint(low // magnitude or 1, high // magnitude) * magnitude)


def indicator_rows(
    rng: random.Random, *, program: str, sector: str, rows: int, library: Library, returned: bool = False
) -> list[TargetIndicator]:
    """≈``rows`` unsaved indicator rows for one target (target not set), weights adding up to 90."""
    result: list[TargetIndicator] = []
    used: set[str] = set()
    order = 0
    for level1, count in level1_counts(rows).items():
        weights = split_points(POINTS[level1], count)
        core = library.core.get((sector, level1), [])[:count]
        others = library.other.get((sector, level1), [])
        cycle = LEVEL2_CYCLE[level1]
        for i in range(count):
            ind = None
            if i < len(core):
                ind = core[i]
            elif others and rng.random() < 0.3:
                ind = rng.choice(others)
                if ind.name in used:
                    ind = None
            if ind is not None:
                row = TargetIndicator(
                    level1=ind.level1, level2=ind.level2, name=ind.name, comparison=ind.comparison,
                    unit=ind.unit, library_indicator_id=ind.pk,
                )  # fmt: skip
                value: tuple[int, int] | str = ind.reference_value
                if ind.comparison != Comparison.QUALITATIVE:
                    try:
                        number = Decimal(ind.reference_value)
                        value = (int(number), int(number)) if number == int(number) else ind.reference_value
                    except (InvalidOperation, ValueError):
                        value = (90, 100)
            else:
                level2 = cycle[i % len(cycle)]
                templates = TEMPLATES[level2]
                if i == 0:  # the first row of 产出/效益 is quantitative (quality check)
                    templates = [t for t in templates if t[1] != Comparison.QUALITATIVE]
                template, comparison, unit, value = rng.choice(templates)
                row = TargetIndicator(
                    level1=level1, level2=level2, name=template.format(p=program), comparison=comparison, unit=unit
                )
            if row.name in used:
                k = 2
                while f"{row.name}（{NUMERALS[(k - 1) % 10]}）" in used:
                    k += 1
                row.name = f"{row.name}（{NUMERALS[(k - 1) % 10]}）"
            used.add(row.name)
            if row.comparison == Comparison.QUALITATIVE:
                row.target_text = value if isinstance(value, str) and value else "达到预期目标"
            elif isinstance(value, tuple):
                row.target_value = _number(rng, *value)
            else:
                row.target_value = Decimal(value)
            if row.comparison != Comparison.QUALITATIVE and not row.unit:
                row.unit = "%"
            row.weight = weights[i]
            row.sort_order = order
            order += 1
            result.append(row)
    if returned and result:
        result[0].review_comment = "指标值偏低，应与实施方案和上年完成情况保持一致。"
    return result


def _say(stdout, message: str) -> None:
    stdout.write(message + "\n")


def _program_table(dept_name: str) -> tuple[str, list[str]]:
    for keyword, sector, names in PROGRAMS:
        if keyword in dept_name:
            return sector, names
    return FALLBACK_PROGRAMS


def _slots(
    region: Region, orgs: list[dict], users: dict[str, int], tags: list[int], n: int, years: list[int]
) -> list[Slot]:
    """The stable part of the region's n funds (owner, programme, name, type, flags, tags)."""
    rng = random.Random(f"scale-funds-{region.code}")
    departments = {o["id"]: o for o in orgs if o["kind"] == K.DEPARTMENT}
    units_of: dict[int, list[dict]] = defaultdict(list)
    for o in orgs:
        if o["kind"] == K.UNIT and o["parent_id"] in departments:
            units_of[o["parent_id"]].append(o)
    dept_list = sorted(departments.values(), key=lambda o: o["code"])
    slots = []
    for _ in range(n):
        dept = rng.choice(dept_list)
        units = units_of.get(dept["id"], [])
        owner = rng.choice(units) if units and rng.random() < 0.8 else dept
        filer = f"sc_{owner['code'].lower()}_1" if owner is not dept else f"sc_{dept['code'].lower()}_f"
        sector, programs = _program_table(dept["name"])
        program = rng.choice(programs)
        name = f"{rng.choice(PREFIXES)}{program}{rng.choice(SUFFIXES)}"
        chosen_tags = tuple(rng.sample(tags, min(len(tags), rng.choice((1, 1, 2, 3))))) if rng.random() < 0.6 else ()
        slots.append(
            Slot(
                organization_id=owner["id"], department_id=dept["id"], org_name=owner["name"],
                filer_id=users.get(filer), sector=sector, program=program, name=name,
                budget_type=rng.choice(BUDGET_SPREAD),
                period_start=years[0] - rng.choice((0, 0, 0, 1, 2, 3)), period_end=years[-1] + rng.choice((0, 0, 1, 2)),
                area=rng.choice(AREA_FIELDS) if rng.random() < 0.3 else None,
                is_transfer=rng.random() < 0.10, is_new_major_policy=rng.random() < 0.05, tag_ids=chosen_tags,
            )
        )  # fmt: skip
    return slots


def _amount(rng: random.Random) -> tuple[Decimal, Decimal]:
    """Fiscal and other amount in yuan; the total is log-uniform between 20万 and 5000万 (whole 百元)."""
    total = int(math.exp(rng.uniform(math.log(200_000), math.log(50_000_000))) // 100 * 100)
    fiscal = total * rng.choice((100, 100, 100, 95, 90, 80, 70)) // 100
    return Decimal(fiscal), Decimal(total - fiscal)


def _request_status(rng: random.Random, status: str) -> str:
    if status == S.APPROVED:
        return Request.ARRANGED if rng.random() < 0.9 else Request.SUBMITTED
    if status in (S.SECTOR_REVIEW, S.PERF_REVIEW):
        return Request.SUBMITTED
    if status == S.RETURNED:
        return Request.NOT_ARRANGED if rng.random() < 0.2 else Request.DRAFT
    return Request.DRAFT


def _times(rng: random.Random, status: str, anchor: datetime) -> tuple[datetime, datetime | None, datetime | None]:
    """(status_changed_at, submitted_at, approved_at), consistent with the status."""
    changed = anchor - timedelta(days=rng.uniform(0, 60), minutes=rng.randint(0, 600))
    submitted = approved = None
    if status == S.SECTOR_REVIEW:
        submitted = changed
    elif status == S.PERF_REVIEW:
        submitted = changed - timedelta(days=rng.uniform(1, 15))
    elif status == S.APPROVED:
        approved = changed
        submitted = changed - timedelta(days=rng.uniform(5, 40))
    return changed, submitted, approved


def _assign_pks(objs: list, fetch, key) -> None:
    """After bulk_create: fill missing pks (databases that cannot return them) from ``fetch()``."""
    if all(obj.pk is not None for obj in objs):
        return
    mapping = fetch()
    for obj in objs:
        obj.pk = mapping[key(obj)]


def _seed_region_year(
    *,
    region: Region,
    fiscal_year: FiscalYear,
    slots: list[Slot],
    previous: dict[int, int],
    rows_per_target: int,
    library: Library,
    now: datetime,
    district_ids: list[int],
    counts: dict[str, int],
) -> dict[int, int]:
    """One region and year: funds, tags, transfers, targets, indicator rows. Returns slot → fund pk."""
    year = fiscal_year.year
    rng = random.Random(f"scale-funds-{region.code}-{year}")
    anchor = min(now, datetime(year - 1, 12, 20, 10, tzinfo=now.tzinfo))
    prefix = f"{CODE_PREFIX}{region.code}-{year}-"
    funds: list[SpecialFund] = []
    states: list[str] = []
    for n, slot in enumerate(slots):
        status = rng.choice(STATUS_SPREAD)
        request_status = _request_status(rng, status)
        fiscal, other = _amount(rng)
        fund = SpecialFund(
            fiscal_year_id=year, region_id=region.pk, code=f"{prefix}{n + 1:05d}", name=slot.name,
            budget_type=slot.budget_type, sector=slot.sector, organization_id=slot.organization_id,
            department_id=slot.department_id, fiscal_amount=fiscal, other_amount=other,
            period_start=slot.period_start, period_end=slot.period_end, is_transfer=slot.is_transfer,
            is_new_major_policy=slot.is_new_major_policy,
            description=f"{slot.program}，由{slot.org_name}组织实施，{year}年度安排。",
            previous_id=previous.get(n), request_status=request_status,
            arranged_amount=fiscal + other if request_status == Request.ARRANGED else None,
            arrangement_comment="按申报金额安排。" if request_status == Request.ARRANGED else "",
        )  # fmt: skip
        if slot.area:
            setattr(fund, slot.area, True)
        funds.append(fund)
        states.append(status)
    SpecialFund.objects.bulk_create(funds, batch_size=BATCH)
    _assign_pks(
        funds,
        lambda: dict(
            SpecialFund.objects.filter(region=region, fiscal_year=fiscal_year, code__startswith=prefix).values_list(
                "code", "pk"
            )
        ),
        lambda f: f.code,
    )
    counts["funds"] += len(funds)

    Tagging = SpecialFund.policy_tags.through
    taggings = [
        Tagging(specialfund_id=fund.pk, policytag_id=tag)
        for fund, slot in zip(funds, slots, strict=True)
        for tag in slot.tag_ids
    ]
    Tagging.objects.bulk_create(taggings, batch_size=BATCH)
    counts["policy_tags"] += len(taggings)

    if region.level == Region.Level.CITY and district_ids:
        transfers = []
        for fund in funds:
            if fund.is_transfer:
                receivers = rng.sample(district_ids, min(len(district_ids), rng.randint(2, 5)))
                share = fund.total_amount // (len(receivers) + 1)  # the city keeps a part
                transfers += [TransferAllocation(fund_id=fund.pk, region_id=r, amount=share) for r in receivers]
        TransferAllocation.objects.bulk_create(transfers, batch_size=BATCH)
        counts["transfers"] += len(transfers)

    targets = []
    for fund, slot, status in zip(funds, slots, states, strict=True):
        changed, submitted, approved = _times(rng, status, anchor)
        targets.append(
            PerformanceTarget(
                kind=PerformanceTarget.Kind.FUND, fund_id=fund.pk, organization_id=slot.organization_id,
                fiscal_year_id=year, version=1, status=status,
                long_term_goal=f"到{slot.period_end}年，{slot.program}覆盖面和服务质量显著提升，形成长效机制。",
                annual_goal=f"{year}年完成{slot.program}年度任务{rng.randint(80, 100)}%以上，资金使用规范高效。",
                return_comment="部分指标值偏低，请对照上年完成情况修改。" if status == S.RETURNED else "",
                status_changed_at=changed, submitted_at=submitted, approved_at=approved, created_by_id=slot.filer_id,
            )
        )  # fmt: skip
    PerformanceTarget.objects.bulk_create(targets, batch_size=BATCH)
    _assign_pks(
        targets,
        lambda: dict(
            PerformanceTarget.objects.filter(fund__in=[f.pk for f in funds], version=1).values_list("fund_id", "pk")
        ),
        lambda t: t.fund_id,
    )
    counts["targets"] += len(targets)

    rows: list[TargetIndicator] = []
    for target, slot in zip(targets, slots, strict=True):
        for row in indicator_rows(
            rng,
            program=slot.program,
            sector=slot.sector,
            rows=rows_per_target,
            library=library,
            returned=target.status == S.RETURNED,
        ):
            row.target_id = target.pk
            rows.append(row)
        if len(rows) >= BATCH:
            TargetIndicator.objects.bulk_create(rows, batch_size=BATCH)
            counts["indicators"] += len(rows)
            rows = []
    TargetIndicator.objects.bulk_create(rows, batch_size=BATCH)
    counts["indicators"] += len(rows)
    return {n: fund.pk for n, fund in enumerate(funds)}


def seed_scale_funds(*, years=(2025, 2026, 2027), funds_per_region=3000, rows_per_target=8, stdout=None) -> dict:
    """Create the scale funds, targets and indicator rows once. Returns what was created and how long it took."""
    stdout = stdout or sys.stdout
    if SpecialFund.objects.filter(code__startswith=CODE_PREFIX).exists():
        _say(stdout, "规模专项资金已存在，未做改动。")
        return {"created": False}
    started = time.perf_counter()
    years = sorted(years)
    orgs_by_region: dict[int, list[dict]] = defaultdict(list)
    for org in Organization.objects.filter(code__startswith=CODE_PREFIX, kind__in=[K.DEPARTMENT, K.UNIT]).values(
        "id", "code", "name", "kind", "parent_id", "region_id"
    ):
        orgs_by_region[org["region_id"]].append(org)
    regions = [r for r in Region.objects.order_by("sort_order", "code") if orgs_by_region.get(r.pk)]
    if not regions:
        _say(stdout, "没有规模机构（请先运行 seed_scale），未生成专项资金。")
        return {"created": False}
    fiscal_years = {y: FiscalYear.objects.get_or_create(year=y)[0] for y in years}
    tags = list(PolicyTag.objects.filter(is_active=True).values_list("pk", flat=True))
    district_ids = list(Region.objects.filter(level=Region.Level.DISTRICT).values_list("pk", flat=True))
    library = Library.load()
    now = timezone.now()
    counts: dict[str, int] = defaultdict(int)
    with transaction.atomic():
        for region in regions:
            region_started = time.perf_counter()
            users = dict(
                User.objects.filter(username__startswith=f"sc_{CODE_PREFIX.lower()}{region.code}-").values_list(
                    "username", "id"
                )
            )
            slots = _slots(region, orgs_by_region[region.pk], users, tags, funds_per_region, years)
            previous: dict[int, int] = {}
            for year in years:
                previous = _seed_region_year(
                    region=region, fiscal_year=fiscal_years[year], slots=slots, previous=previous,
                    rows_per_target=rows_per_target, library=library, now=now, district_ids=district_ids,
                    counts=counts,
                )  # fmt: skip
            _say(
                stdout,
                f"{region.name}：{len(slots) * len(years)} 个专项资金，"
                f"用时 {time.perf_counter() - region_started:.1f} 秒",
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # fresh statistics, so the planner knows the new sizes
            for model in (SpecialFund, PerformanceTarget, TargetIndicator, SpecialFund.policy_tags.through):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    elapsed = time.perf_counter() - started
    result = {"created": True, **counts, "regions": len(regions), "years": years, "seconds": round(elapsed, 1)}
    _say(
        stdout,
        f"已生成 {counts['funds']} 个专项资金、{counts['targets']} 个绩效目标、{counts['indicators']} 条绩效指标、"
        f"{counts['policy_tags']} 个政策标签关联、{counts['transfers']} 条转移支付分配，用时 {elapsed:.1f} 秒。",
    )
    return result
