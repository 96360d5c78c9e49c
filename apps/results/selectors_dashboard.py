"""分析看板: the finance / department dashboards and the city comparison, as aggregate queries.

Every figure is computed in the database (``Count(filter=…)``, ``Sum``, ``Exists``) grouped by
department (finance), by implementing unit (a department's own dashboard) or by region (the city
comparison), so the number of queries is fixed whatever the number of funds; Python only adds up
and orders the grouped rows (a hundred departments, eleven regions — never the funds).

* **Universe**: the special funds of the year whose budget type needs a target (一般公共 /
  政府性基金 / 国有资本经营预算), in the region, within the user's ``dashboard.view`` scope.
* **Coverage**: share of the universe with an approved target (已批复); monitored (a report
  报送财政 or 财政已接收 in a round of the year); self-evaluated (财政已审核); key-evaluated this
  cycle (the fund, or its predecessor along ``SpecialFund.previous`` up to cycle − 1 years back, is
  in an issued finance or department key-evaluation plan — the idea of ``evaluations.coverage``).
* **Grades**: the final grade of confirmed self-evaluations (finance's adjustment wins), and the
  grades of completed key evaluations of the year's funds (finance / department).
* **Execution**: the latest monitoring round of the region for the year: executed ÷ adjusted budget
  against the time-elapsed ratio (``monitoring.rules``); a fund lags when its rate is below the
  ratio minus the round's tolerance.
* **Overdue rectifications**: a *current* state, not a figure of the year: every open rectification
  item of the region (whatever its ``fiscal_year`` — items belong to the evaluated year, usually
  the year before the one on screen) and those of them past their deadline today, as the
  rectification list counts them (``CURRENT_NOTE`` says so on the page).
* **Ranking** (finance only): see ``RANKING_FORMULA``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404
from django.utils import timezone

from apps.core import permissions
from apps.core.permissions import Scope
from apps.core.templatetags.qd import cn_date, wan_yuan
from apps.evaluations.models import EvaluationPlan, Grade, KeyEvaluation, ScoringRules, SelfEvaluation
from apps.funds.models import TARGET_REQUIRED_BUDGET_TYPES, SpecialFund
from apps.monitoring import rules
from apps.monitoring.models import MonitoringReport, MonitoringRound
from apps.orgs.models import Organization, Region
from apps.targets.models import PerformanceTarget, TargetStatus

from .models import Rectification

VIEW, COMPARE = "dashboard.view", "dashboard.compare"
ZERO = Decimal("0")
MONEY = DecimalField(max_digits=20, decimal_places=2)
SCORE = DecimalField(max_digits=12, decimal_places=2)
MONITORED = (MonitoringReport.Status.SUBMITTED, MonitoringReport.Status.RECEIVED)
ISSUED = (EvaluationPlan.Status.ISSUED, EvaluationPlan.Status.CLOSED)
GRADES = list(Grade)  # 优 良 中 差
RANKING_CHART_TOP = 20  # the chart shows the first 20 departments; the table and Excel all of them
DEFAULT_CYCLE = ScoringRules._meta.get_field("cycle_years").default

CURRENT_NOTE = "当前逾期，不分年度"
RANKING_FORMULA = (
    "综合得分 = 自评平均分 × 50% + 自评按时报送率 × 20% + 全过程覆盖率 × 30%。"
    "自评平均分为财政已审核自评的最终得分（含财政调整）平均值；"
    "按时报送率 = 报送财政时间不晚于批次截止日期的自评数 ÷ 自评任务数；"
    "全过程覆盖率 = 目标、监控、自评、重点评价四项覆盖率的平均值。无自评的部门自评平均分与按时率按 0 计。"
)


def percent(part, whole, places: str = "0.1") -> Decimal:
    if not whole:
        return Decimal(places) * 0
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _q2(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- who sees what --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardScope:
    region: Region
    year: int
    department_mode: bool  # a department (or unit) reading only its own funds
    regions: tuple[Region, ...]  # what the region picker offers (one region unless scope ALL)
    can_compare: bool
    organization: Organization | None = None

    @property
    def can_pick_region(self) -> bool:
        return len(self.regions) > 1

    @property
    def label(self) -> str:
        if self.department_mode and self.organization is not None:
            return f"{self.organization.name} · {self.year}年度"
        return f"{self.region.name} · {self.year}年度"

    @property
    def group_label(self) -> str:
        return "实施单位" if self.department_mode else "部门"


def resolve_scope(user, *, region_code: str | None, year: int) -> DashboardScope:
    """The region and mode the user may read; 403 without the action, 404 for a region out of scope.

    The city's finance_perf (scope 全市) picks any region, default 市本级; every other role reads its
    own region; department roles (本机构及下属) read only their own organisation's funds."""
    scopes = permissions.user_scopes(user, VIEW)
    if not scopes:
        raise PermissionDenied("您的角色无权查看分析看板。")
    org = user.organization
    regions = tuple(Region.objects.order_by("sort_order", "code"))
    if Scope.ALL in scopes:
        if region_code:
            region = next((r for r in regions if r.code == region_code), None)
            if region is None:
                raise Http404("没有这个区域。")
        else:
            region = next((r for r in regions if r.is_city), regions[0])
        offered = regions
    else:
        if org is None:
            raise Http404("您未分配机构。")
        region = next(r for r in regions if r.pk == org.region_id)
        if region_code and region_code != region.code:
            raise Http404("您只能查看本区域的分析看板。")
        offered = (region,)
    department_mode = not (scopes & {Scope.ALL, Scope.REGION})
    return DashboardScope(
        region=region,
        year=year,
        department_mode=department_mode,
        regions=offered,
        can_compare=permissions.has_action(user, COMPARE),
        organization=org,
    )


def scoped_funds(user, *, year: int, region_ids=None):
    """The universe: funds of the year needing a target, within the user's dashboard scope."""
    funds = SpecialFund.objects.restrict(user, VIEW).filter(
        fiscal_year_id=year, budget_type__in=TARGET_REQUIRED_BUDGET_TYPES
    )
    if region_ids is not None:
        funds = funds.filter(region_id__in=list(region_ids))
    return funds


# --- the figures --------------------------------------------------------------------------------


def cycles_by_region(year: int, region_ids) -> dict[int, int]:
    """region id → key-evaluation cycle length (``ScoringRules``, default 3), one query."""
    found = dict(
        ScoringRules.objects.filter(fiscal_year_id=year, region_id__in=list(region_ids)).values_list(
            "region_id", "cycle_years"
        )
    )
    return {rid: found.get(rid, DEFAULT_CYCLE) for rid in region_ids}


def _coverage_aliases(funds, cycles: dict[int, int], year: int):
    """The four coverage flags as SQL expressions on the funds (EXISTS sub-queries)."""
    deepest = max(cycles.values(), default=DEFAULT_CYCLE)
    # A fund's targets are of the fund's year: saying so lets the (fiscal_year, status) index serve.
    targets = PerformanceTarget.objects.filter(fiscal_year_id=year, status=TargetStatus.APPROVED)
    aliases = {
        "has_target": Exists(targets.filter(fund_id=OuterRef("pk"))),
        "is_monitored": Exists(MonitoringReport.objects.filter(fund_id=OuterRef("pk"), status__in=MONITORED)),
        "is_self_evaluated": Exists(
            SelfEvaluation.objects.filter(fund_id=OuterRef("pk"), status=SelfEvaluation.Status.CONFIRMED)
        ),
    }
    # Key evaluations along the predecessor chain as uncorrelated IN sets (small, hashed once): a fund
    # is covered k years back when its predecessor is in ``reach`` = the funds covered k − 1 years back.
    evaluated = KeyEvaluation.objects.filter(plan__status__in=ISSUED, fund__isnull=False).values("fund_id")
    key_q, reach = Q(pk__in=[]), evaluated
    for k in range(deepest):
        if k == 0:
            step = Q(pk__in=evaluated)
        else:
            step = Q(previous_id__in=reach)
            reach = SpecialFund.objects.filter(previous_id__in=reach).values("pk")
        regions = [rid for rid, cycle in cycles.items() if cycle > k]
        if regions:
            key_q |= step & Q(region_id__in=regions)
    return funds.alias(**aliases), key_q


def coverage_rows(funds, group: str, cycles: dict[int, int], year: int) -> list[dict]:
    """Per group (``department`` / ``organization`` / ``region``): fund count and the four covered counts."""
    funds, key_q = _coverage_aliases(funds, cycles, year)
    return list(
        funds.values(f"{group}_id", f"{group}__name")
        .annotate(
            total=Count("pk"),
            amount=Coalesce(Sum(F("fiscal_amount") + F("other_amount"), output_field=MONEY), ZERO, output_field=MONEY),
            targeted=Count("pk", filter=Q(has_target=True)),
            monitored=Count("pk", filter=Q(is_monitored=True)),
            self_evaluated=Count("pk", filter=Q(is_self_evaluated=True)),
            key_evaluated=Count("pk", filter=key_q),
        )
        .order_by(f"{group}__name")
    )


FINAL_GRADE = Coalesce(NullIf("adjusted_grade", Value("")), "grade", output_field=CharField())
FINAL_SCORE = Coalesce("adjusted_score", "score", output_field=SCORE)
CONFIRMED = Q(status=SelfEvaluation.Status.CONFIRMED)


def self_evaluation_rows(funds, group: str) -> list[dict]:
    """Per group and final grade: confirmed count and score sum; all tasks and those sent on time."""
    return list(
        SelfEvaluation.objects.filter(fund__in=funds.values("pk"))
        .values(f"fund__{group}_id", final_grade=FINAL_GRADE)
        .annotate(
            confirmed=Count("pk", filter=CONFIRMED),
            score_sum=Coalesce(Sum(FINAL_SCORE, filter=CONFIRMED), ZERO, output_field=SCORE),
            tasks=Count("pk"),
            on_time=Count("pk", filter=Q(submitted_at__date__lte=F("round__due_on"))),
        )
        .order_by()
    )


def key_evaluation_rows(funds, group: str) -> list[dict]:
    """Per group, plan kind and grade: completed key evaluations of the year's funds."""
    return list(
        KeyEvaluation.objects.filter(
            fund__in=funds.values("pk"), status=KeyEvaluation.Status.COMPLETED, plan__status__in=ISSUED
        )
        .values(f"fund__{group}_id", "plan__kind", "grade")
        .annotate(n=Count("pk"))
        .order_by()
    )


def latest_rounds(year: int, region_ids) -> dict[int, MonitoringRound]:
    """region id → the round of the year with the latest data date (one query)."""
    latest: dict[int, MonitoringRound] = {}
    for round_ in (
        MonitoringRound.objects.filter(fiscal_year_id=year, organization__region_id__in=list(region_ids))
        .annotate(region_id=F("organization__region_id"))
        .order_by("-data_as_of", "-pk")
    ):
        latest.setdefault(round_.region_id, round_)
    return latest


def execution_rows(funds, group: str, rounds: dict[int, MonitoringRound]) -> list[dict]:
    """Per group: budget, executed, fund count, lagging funds — reports of the latest round only."""
    if not rounds:
        return []
    spent = Coalesce("executed_amount", "imported_executed_amount", output_field=MONEY)
    limit = Case(
        *[
            When(round_id=r.pk, then=Value(rules.elapsed_share(r.data_as_of, r.fiscal_year_id) - r.tolerance_points))
            for r in rounds.values()
        ],
        default=Value(Decimal("-1")),
        output_field=MONEY,
    )
    return list(
        MonitoringReport.objects.filter(round_id__in=[r.pk for r in rounds.values()], fund__in=funds.values("pk"))
        .annotate(spent=spent, limit=limit)
        .values(f"fund__{group}_id")
        .annotate(
            reports=Count("pk"),
            budget=Coalesce(Sum("budget_amount"), ZERO, output_field=MONEY),
            executed=Coalesce(Sum("spent"), ZERO, output_field=MONEY),
            behind=Count("pk", filter=Q(spent__isnull=False, spent__lt=F("budget_amount") * F("limit") / 100)),
        )
        .order_by()
    )


def rectification_rows(user, *, region_ids, group: str, today=None) -> list[dict]:
    """Per group: the rectification items open now and those of them overdue today (the responsible
    unit's department), of every year: 逾期 is a current state, the same whichever year is on screen."""
    today = today or timezone.localdate()
    items = Rectification.objects.restrict(user, VIEW).filter(region_id__in=list(region_ids))
    if group == "department":
        unit = Q(organization__kind=Organization.Kind.UNIT)
        key = Case(When(unit, then=F("organization__parent_id")), default=F("organization_id"))
        name = Case(When(unit, then=F("organization__parent__name")), default=F("organization__name"))
    else:
        key, name = F(f"{group}_id"), F(f"{group}__name")
    return list(
        items.open()
        .annotate(group_id=key, group_name=name)
        .values("group_id", "group_name")
        .annotate(
            open=Count("pk"),
            overdue=Count("pk", filter=Q(deadline__lt=today)),
        )
        .order_by("group_name")
    )


# --- panels: one table of numbers per chart (page, Excel and API read the same) --------------------


@dataclass
class Column:
    label: str
    kind: str = "text"  # text | int | pct | wan | score


@dataclass
class Panel:
    key: str
    title: str
    note: str
    columns: list[Column]
    rows: list[list]
    chart: dict = field(default_factory=dict)  # Chart.js type, labels, datasets (plain numbers)

    @property
    def chart_height(self) -> float:
        """rem: a horizontal bar chart gets 2.2 rem per bar (labels stay readable), others 18."""
        if self.chart.get("horizontal"):
            return min(max(4 + 2.2 * len(self.chart.get("labels", [])), 12), 60)
        return 18

    def display_rows(self) -> list[list[tuple[str, bool]]]:
        """Rows as the page's table shows them: (text, right-aligned)."""
        return [
            [(display(v, c.kind), c.kind != "text") for c, v in zip(self.columns, row, strict=True)]
            for row in self.rows
        ]

    def as_json(self) -> dict:
        return {
            "key": self.key,
            "title": self.title,
            "note": self.note,
            "columns": [{"label": c.label, "kind": c.kind} for c in self.columns],
            "rows": [[_plain(v) for v in row] for row in self.rows],
        }


def display(value, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "wan":
        return wan_yuan(value)
    if kind == "int":
        return f"{value:,}"
    return str(value)


def _plain(value):
    return str(value) if isinstance(value, Decimal) else value


def _num(value) -> float:
    return float(value or 0)


@dataclass
class Dashboard:
    scope: DashboardScope
    panels: list[Panel]
    summary: dict
    round: MonitoringRound | None = None

    def panel(self, key: str) -> Panel:
        for p in self.panels:
            if p.key == key:
                return p
        raise Http404("没有这个图表。")


def _sum(rows, key):
    return sum((r[key] for r in rows), 0)


def coverage_panel(cov: list[dict]) -> tuple[Panel, dict]:
    total = _sum(cov, "total")
    items = [
        ("已批复绩效目标", _sum(cov, "targeted")),
        ("已开展绩效监控", _sum(cov, "monitored")),
        ("已完成单位自评（财政已审核）", _sum(cov, "self_evaluated")),
        ("本周期已纳入重点评价", _sum(cov, "key_evaluated")),
    ]
    rows = [[label, n, total, percent(n, total)] for label, n in items]
    summary = {"funds": total, "amount": _sum(cov, "amount") if cov else ZERO}
    panel = Panel(
        "coverage",
        "全过程覆盖率",
        "口径：本年度需编制绩效目标的专项资金（一般公共、政府性基金、国有资本经营预算）。"
        "监控：监控报告已报送或财政已接收；自评：财政已审核；重点评价：本项目或其前序年度项目在重点评价周期内纳入已下达的财政或部门评价计划。",
        [Column("环节"), Column("覆盖项目数", "int"), Column("项目总数", "int"), Column("覆盖率（%）", "pct")],
        rows,
        {
            "type": "bar",
            "labels": [r[0] for r in rows],
            "datasets": [{"label": "覆盖率（%）", "data": [_num(r[3]) for r in rows]}],
            "max": 100,
            "horizontal": True,
        },
    )
    return panel, summary


def grade_panel(se_rows: list[dict], ke_rows: list[dict]) -> Panel:
    self_counts = defaultdict(int)
    for r in se_rows:
        if r["confirmed"]:
            self_counts[r["final_grade"]] += r["confirmed"]
    key_counts = {kind: defaultdict(int) for kind in EvaluationPlan.Kind.values}
    for r in ke_rows:
        key_counts[r["plan__kind"]][r["grade"]] += r["n"]
    series = [
        ("单位自评", self_counts),
        ("财政重点评价", key_counts[EvaluationPlan.Kind.FINANCE]),
        ("部门评价", key_counts[EvaluationPlan.Kind.DEPARTMENT]),
    ]
    totals = [sum(c[g] for g in Grade.values) for _, c in series]
    rows = []
    for grade in GRADES:
        row = [grade.label]
        for (_, counts), total in zip(series, totals, strict=True):
            row += [counts[grade.value], percent(counts[grade.value], total)]
        rows.append(row)
    rows.append(["合计", totals[0], percent(totals[0], totals[0]), totals[1], percent(totals[1], totals[1]),
                 totals[2], percent(totals[2], totals[2])])  # fmt: skip
    columns = [Column("等级")]
    for label, _ in series:
        columns += [Column(f"{label}（个）", "int"), Column(f"{label}占比（%）", "pct")]
    return Panel(
        "grades",
        "评价等级分布",
        "单位自评取财政已审核自评的最终等级（有财政调整的按调整后等级）；重点评价取已完成的评价。"
        "等级：优 ≥ 90，良 80–90，中 60–80，差 < 60。",
        columns,
        rows,
        {
            "type": "bar",
            "labels": [g.label for g in GRADES],
            "integer": True,
            "datasets": [{"label": label, "data": [counts[g.value] for g in GRADES]} for label, counts in series],
        },
    )


def execution_panel(ex_rows: list[dict], names: dict, scope_label: str, round_) -> Panel:
    schedule = rules.elapsed_share(round_.data_as_of, round_.fiscal_year_id) if round_ else ZERO
    rows = []
    for r in sorted(ex_rows, key=lambda r: names.get(r["group_id"], "")):
        rate = rules.execution_rate(r["executed"], r["budget"]) or ZERO
        rows.append([names.get(r["group_id"], "—"), r["reports"], r["budget"], r["executed"], rate, schedule,
                     r["behind"]])  # fmt: skip
    if round_:
        note = (
            f"取本年度最新一轮监控“{round_.name}”：执行率 = 已执行金额 ÷ 调整后预算；按数据截止日期"
            f"{cn_date(round_.data_as_of)}计算时间进度 {schedule}%，执行率低于时间进度减容差"
            f" {round_.tolerance_points.normalize():f} 个百分点的项目为滞后。"
        )
    else:
        note = "本年度尚未开启绩效监控轮次。"
    return Panel(
        "execution",
        "预算执行进度",
        note,
        [
            Column(scope_label),
            Column("监控项目数", "int"),
            Column("调整后预算（万元）", "wan"),
            Column("已执行（万元）", "wan"),
            Column("执行率（%）", "pct"),
            Column("时间进度（%）", "pct"),
            Column("滞后项目数", "int"),
        ],  # fmt: skip
        rows,
        {
            "type": "bar",
            "labels": [r[0] for r in rows],
            "datasets": [
                {"label": "执行率（%）", "data": [_num(r[4]) for r in rows]},
                {"label": "时间进度（%）", "data": [_num(r[5]) for r in rows], "type": "line"},
            ],
        },
    )


def rectification_panel(rect_rows: list[dict], scope_label: str) -> Panel:
    rows = [[r["group_name"] or "—", r["open"], r["overdue"], percent(r["overdue"], r["open"])] for r in rect_rows]
    rows.sort(key=lambda r: (-r[2], r[0]))
    return Panel(
        "rectification",
        "逾期整改",
        f"{CURRENT_NOTE}：当前尚未完成的整改事项（含以前年度评价、审计发现的问题），按整改责任单位所属部门统计；"
        "超过整改期限仍未完成的为逾期。与所选年度无关。",
        [
            Column(scope_label),
            Column("未完成（项）", "int"),
            Column("其中逾期（项）", "int"),
            Column("逾期占比（%）", "pct"),
        ],
        rows,
        {
            "type": "bar",
            "labels": [r[0] for r in rows],
            "integer": True,
            "datasets": [
                {"label": "逾期（项）", "data": [r[2] for r in rows]},
                {"label": "未完成（项）", "data": [r[1] for r in rows]},
            ],
        },
    )


def ranking_rows(cov: list[dict], se_rows: list[dict], group: str) -> list[list]:
    stats = defaultdict(lambda: {"confirmed": 0, "score_sum": ZERO, "tasks": 0, "on_time": 0})
    for r in se_rows:
        s = stats[r[f"fund__{group}_id"]]
        s["confirmed"] += r["confirmed"]
        s["score_sum"] += r["score_sum"]
        s["tasks"] += r["tasks"]
        s["on_time"] += r["on_time"]
    rows = []
    for c in cov:
        s = stats[c[f"{group}_id"]]
        avg = _q2(s["score_sum"] / s["confirmed"]) if s["confirmed"] else None
        on_time = percent(s["on_time"], s["tasks"])
        shares = [percent(c[k], c["total"]) for k in ("targeted", "monitored", "self_evaluated", "key_evaluated")]
        coverage = _q2(sum(shares) / 4)
        composite = _q2((avg or ZERO) * Decimal("0.5") + on_time * Decimal("0.2") + coverage * Decimal("0.3"))
        rows.append([c[f"{group}__name"], c["total"], avg, on_time, coverage, composite])
    rows.sort(key=lambda r: (-r[5], r[0]))
    return [[i, *row] for i, row in enumerate(rows, start=1)]


def ranking_panel(cov, se_rows) -> Panel:
    rows = ranking_rows(cov, se_rows, "department")
    return Panel(
        "ranking",
        "部门绩效管理排名",
        RANKING_FORMULA,
        [
            Column("排名", "int"),
            Column("部门"),
            Column("项目数", "int"),
            Column("自评平均分", "score"),
            Column("自评按时报送率（%）", "pct"),
            Column("全过程覆盖率（%）", "pct"),
            Column("综合得分", "score"),
        ],  # fmt: skip
        rows,
        {
            "type": "bar",
            "labels": [r[1] for r in rows[:RANKING_CHART_TOP]],
            "datasets": [
                {
                    "label": f"综合得分（前 {RANKING_CHART_TOP} 名，完整排名见表格）"
                    if len(rows) > RANKING_CHART_TOP
                    else "综合得分",
                    "data": [_num(r[6]) for r in rows[:RANKING_CHART_TOP]],
                }
            ],
            "max": 100,
            "horizontal": True,
        },
    )


def dashboard(user, scope: DashboardScope, *, today=None) -> Dashboard:
    """The finance dashboard of a region (or a department's own) for a year: a fixed number of
    aggregate queries."""
    group = "organization" if scope.department_mode else "department"
    region_ids = [scope.region.pk]
    funds = scoped_funds(user, year=scope.year, region_ids=region_ids)
    cycles = cycles_by_region(scope.year, region_ids)
    cov = coverage_rows(funds, group, cycles, scope.year)
    names = {r[f"{group}_id"]: r[f"{group}__name"] for r in cov}
    se_rows = self_evaluation_rows(funds, group)
    ke_rows = key_evaluation_rows(funds, group)
    round_ = latest_rounds(scope.year, region_ids).get(scope.region.pk)
    ex_rows = [
        {**r, "group_id": r[f"fund__{group}_id"]}
        for r in execution_rows(funds, group, {scope.region.pk: round_} if round_ else {})
    ]
    rect = rectification_rows(user, region_ids=region_ids, group=group, today=today)
    coverage, summary = coverage_panel(cov)
    panels = [
        coverage,
        grade_panel(se_rows, ke_rows),
        execution_panel(ex_rows, names, scope.group_label, round_),
        rectification_panel(rect, scope.group_label),
    ]
    if not scope.department_mode:
        panels.append(ranking_panel(cov, se_rows))
    confirmed = sum(r["confirmed"] for r in se_rows)
    score_sum = sum((r["score_sum"] for r in se_rows), ZERO)
    summary.update(
        cycle=cycles[scope.region.pk],
        self_average=_q2(score_sum / confirmed) if confirmed else None,
        overdue=sum(r["overdue"] for r in rect),
        groups=len(cov),
    )
    return Dashboard(scope=scope, panels=panels, summary=summary, round=round_)


# --- the city comparison across regions ------------------------------------------------------------


def comparison(user, *, year: int, today=None) -> Panel:
    """市本级 and the 10 区市 side by side (``dashboard.compare``, the city's finance_perf only)."""
    if not permissions.has_action(user, COMPARE):
        raise PermissionDenied("只有市财政局绩效管理处可以查看区市对比分析。")
    regions = list(Region.objects.order_by("sort_order", "code"))
    region_ids = [r.pk for r in regions]
    funds = scoped_funds(user, year=year, region_ids=region_ids)
    cycles = cycles_by_region(year, region_ids)
    cov = {r["region_id"]: r for r in coverage_rows(funds, "region", cycles, year)}
    se = defaultdict(lambda: {"confirmed": 0, "score_sum": ZERO, "good": 0})
    for r in self_evaluation_rows(funds, "region"):
        s = se[r["fund__region_id"]]
        s["confirmed"] += r["confirmed"]
        s["score_sum"] += r["score_sum"]
        if r["final_grade"] in (Grade.EXCELLENT, Grade.GOOD):
            s["good"] += r["confirmed"]
    rounds = latest_rounds(year, region_ids)
    ex = {r["fund__region_id"]: r for r in execution_rows(funds, "region", rounds)}
    rect = {r["group_id"]: r for r in rectification_rows(user, region_ids=region_ids, group="region", today=today)}
    rows = []
    for region in regions:
        c = cov.get(region.pk, {"total": 0, "amount": ZERO, "targeted": 0, "monitored": 0, "self_evaluated": 0,
                                "key_evaluated": 0})  # fmt: skip
        s = se[region.pk]
        e = ex.get(region.pk)
        round_ = rounds.get(region.pk)
        rate = (rules.execution_rate(e["executed"], e["budget"]) or ZERO) if e else None
        schedule = rules.elapsed_share(round_.data_as_of, year) if round_ else None
        rows.append([
            region.name, c["total"], c["amount"],
            percent(c["targeted"], c["total"]), percent(c["monitored"], c["total"]),
            percent(c["self_evaluated"], c["total"]), percent(c["key_evaluated"], c["total"]),
            _q2(s["score_sum"] / s["confirmed"]) if s["confirmed"] else None, percent(s["good"], s["confirmed"]),
            rate, schedule, rect.get(region.pk, {}).get("overdue", 0),
        ])  # fmt: skip
    return Panel(
        "compare",
        "区市对比",
        "各区域口径相同：本年度需编制绩效目标的专项资金；执行率取各区域本年度最新一轮监控；"
        "优良率 = 自评等级为优或良的占财政已审核自评的比例；逾期整改为当前逾期，不分年度。",
        [
            Column("区域"),
            Column("项目数", "int"),
            Column("资金总额（万元）", "wan"),
            Column("目标覆盖率（%）", "pct"),
            Column("监控覆盖率（%）", "pct"),
            Column("自评覆盖率（%）", "pct"),
            Column("重点评价覆盖率（%）", "pct"),
            Column("自评平均分", "score"),
            Column("自评优良率（%）", "pct"),
            Column("预算执行率（%）", "pct"),
            Column("时间进度（%）", "pct"),
            Column(f"逾期整改（项，{CURRENT_NOTE}）", "int"),
        ],  # fmt: skip
        rows,
        {
            "type": "bar",
            "labels": [r[0] for r in rows],
            "datasets": [
                {"label": "目标覆盖率（%）", "data": [_num(r[3]) for r in rows]},
                {"label": "监控覆盖率（%）", "data": [_num(r[4]) for r in rows]},
                {"label": "自评覆盖率（%）", "data": [_num(r[5]) for r in rows]},
                {"label": "重点评价覆盖率（%）", "data": [_num(r[6]) for r in rows]},
            ],
            "max": 100,
        },
    )
