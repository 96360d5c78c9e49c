"""The computed items of the annual assessment (考核), measured for every assessed body at once.

Each metric is **set-based**: a fixed number of queries (one for most; targets add the calendar, the
score gap reads self-evaluations and key evaluations, disclosure one query per kind of record) reads
the records of every assessed body of the assessment, whatever the number of bodies; the rows are
folded per body in Python through ``Bodies.body_of`` (organisation id → assessed body's organisation
id). Nothing here writes; ``services_assessment.assessment_compute`` turns the ``Measure``s into lines.

Who is assessed and whose records count
--------------------------------------
* ``departments``: every active department of the assessment's region; its records are its own and
  its units' (the organisation subtree, by ``path`` prefix).
* ``districts`` (city only): the finance office of every district (kind FINANCE, no parent); its
  records are everything in that district's region.

What each metric counts (fiscal year Y = the assessment's year; "first submission" is the first
audit-log transition into the submitted state, so a return and a resubmission do not make a late
filing look on time; records without such a row — bulk-loaded data — use ``submitted_at``)
* ``target_on_time``: the version-1 targets of Y (fund and department targets; those of funds finance
  did not arrange are not owed) — on time = first submission to finance on/before the region's
  绩效目标申报 due date of Y in the work calendar (no calendar date: submitted at all counts).
* ``monitoring_on_time`` / ``selfeval_on_time``: the reports / self-evaluations of Y's rounds — on time
  = first submission to finance on/before the round's ``due_on``.
* In the three above, a record not yet submitted whose due date is still ahead is not yet owed.
* ``target_first_pass``: the targets of Y (any version) that reached 批复 — passed at first = never
  returned by finance (a ``sector_return`` / ``perf_return`` transition); a department's own return
  before it reaches finance does not count against it.
* ``score_gap``: funds of Y with a submitted/confirmed self-evaluation score and a completed finance
  key evaluation (plan kind ``finance``) score — mean |self − key| (the latest completed key
  evaluation of the fund when there are several).
* ``rectification_on_time``: rectifications whose deadline falls in calendar year Y and has passed by
  the computation date — on time = done with ``completed_on`` ≤ deadline.
* ``disclosure``: the approved targets, confirmed self-evaluations and completed key evaluations of Y
  (涉密 funds excluded: they must not be disclosed) — disclosed = a published ``Disclosure``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.orgs.models import Organization, WorkCalendar, WorkStep

from .models import AssessmentKind, Metric

D = Decimal
HUNDRED = D("100")
CENT = D("0.01")
MAX_RECORDS = 50
NO_DATA = "本年度无应报事项，按满分计"
K = Organization.Kind

DEFAULT_PARAMS = {Metric.SCORE_GAP: {"tolerance": D("5"), "deduct_per_point": D("1")}}


def q2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def pct(value: Decimal) -> str:
    return f"{q2(value)}%"


# --- the assessed bodies ------------------------------------------------------------------------


@dataclass
class Bodies:
    """The assessed organisations and the map from any organisation id to its body's id."""

    kind: str
    fiscal_year: int
    orgs: list[Organization]
    region_ids: list[int]
    body_of: dict[int, int]
    today: date

    def of(self, organization_id: int | None) -> int | None:
        return self.body_of.get(organization_id) if organization_id is not None else None


def assessed_bodies(assessment, today: date | None = None) -> Bodies:
    """Two queries: the bodies, then every organisation of their regions (mapped to a body)."""
    today = today or timezone.localdate()
    if assessment.kind == AssessmentKind.DISTRICTS:
        orgs = list(
            Organization.objects.filter(kind=K.FINANCE, parent__isnull=True, is_active=True)
            .exclude(region_id=assessment.region_id)
            .select_related("region")
            .order_by("region__sort_order", "sort_order", "code")
        )
        by_region: dict[int, int] = {}
        for org in orgs:  # one office per district (the first in order, should a district have two)
            by_region.setdefault(org.region_id, org.pk)
        orgs = [o for o in orgs if by_region[o.region_id] == o.pk]
        region_ids = list(by_region)
        rows = Organization.objects.filter(region_id__in=region_ids).order_by().values_list("pk", "region_id")
        body_of = {pk: by_region[region_id] for pk, region_id in rows}
    else:
        orgs = list(
            Organization.objects.filter(region_id=assessment.region_id, kind=K.DEPARTMENT, is_active=True)
            .select_related("region")
            .order_by("sort_order", "code")
        )
        region_ids = [assessment.region_id]
        by_path = {o.path: o.pk for o in orgs}
        body_of = {}
        rows = Organization.objects.filter(region_id=assessment.region_id).order_by().values_list("pk", "path")
        for pk, path in rows:
            parts = path.strip("/").split("/")
            for depth in range(1, len(parts) + 1):  # the shallowest assessed ancestor (or itself)
                body = by_path.get("/" + "/".join(parts[:depth]) + "/")
                if body is not None:
                    body_of[pk] = body
                    break
    return Bodies(assessment.kind, assessment.fiscal_year_id, orgs, region_ids, body_of, today)


# --- measures -----------------------------------------------------------------------------------


@dataclass
class Record:
    label: str
    due: date | None
    done: date | None
    ok: bool
    note: str = ""
    url: str = ""
    weight: Decimal = D("0")  # the larger, the earlier among records of the same outcome (score gaps)

    def as_json(self) -> dict:
        return {
            "label": self.label,
            "due": self.due.isoformat() if self.due else None,
            "done": self.done.isoformat() if self.done else None,
            "ok": self.ok,
            "note": self.note,
            "url": self.url,
        }


@dataclass
class Tally:
    """One body's records for one metric."""

    ok: int = 0
    total: int = 0
    gaps: list[Decimal] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)

    def add(self, record: Record) -> None:
        self.total += 1
        self.ok += record.ok
        self.records.append(record)


@dataclass
class Measure:
    """What a line stores: the measured value, the computed points and the basis."""

    value: Decimal | None
    points: Decimal | None
    basis: dict


def _basis(tally: Tally, summary: str) -> dict:
    records = sorted(tally.records, key=lambda r: (r.ok, -r.weight, r.due or date.max, r.label))[:MAX_RECORDS]
    return {
        "numerator": tally.ok,
        "denominator": tally.total,
        "summary": summary,
        "records": [r.as_json() for r in records],
    }


RATE_SUMMARY = {
    Metric.TARGET_ON_TIME: "应报送绩效目标 {total} 项，按时报送 {ok} 项，按时率 {rate}",
    Metric.MONITORING_ON_TIME: "应报送监控报告 {total} 份，按时报送 {ok} 份，按时率 {rate}",
    Metric.SELFEVAL_ON_TIME: "应报送单位自评 {total} 份，按时报送 {ok} 份，按时率 {rate}",
    Metric.TARGET_FIRST_PASS: "已批复绩效目标 {total} 项，未经财政退回 {ok} 项，一次通过率 {rate}",
    Metric.RECTIFICATION_ON_TIME: "应完成整改 {total} 项，按期完成 {ok} 项，按期完成率 {rate}",
    Metric.DISCLOSURE: "应公开事项 {total} 项，已公开 {ok} 项，公开完整率 {rate}",
}


def rate_measure(metric: str, tally: Tally, max_points: Decimal) -> Measure:
    if tally.total == 0:
        return Measure(None, q2(max_points), _basis(tally, NO_DATA))
    rate = D(tally.ok) * HUNDRED / D(tally.total)
    points = q2(max_points * D(tally.ok) / D(tally.total))
    summary = RATE_SUMMARY[metric].format(total=tally.total, ok=tally.ok, rate=pct(rate))
    return Measure(q2(rate), points, _basis(tally, summary))


def gap_params(params: dict) -> tuple[Decimal, Decimal]:
    defaults = DEFAULT_PARAMS[Metric.SCORE_GAP]
    tolerance = D(str(params.get("tolerance", defaults["tolerance"])))
    deduct = D(str(params.get("deduct_per_point", defaults["deduct_per_point"])))
    return tolerance, deduct


def gap_measure(tally: Tally, max_points: Decimal, params: dict) -> Measure:
    if not tally.gaps:
        return Measure(None, q2(max_points), _basis(tally, NO_DATA))
    tolerance, deduct = gap_params(params)
    for record in tally.records:  # within the tolerance is fine; the largest gaps come first
        record.ok = record.weight <= tolerance
    tally.ok = sum(r.ok for r in tally.records)
    gap = q2(sum(tally.gaps, D("0")) / D(len(tally.gaps)))
    points = q2(max(D("0"), max_points - max(D("0"), gap - tolerance) * deduct))
    summary = (
        f"可比项目 {len(tally.gaps)} 个，自评与财政重点评价得分平均偏差 {gap} 分"
        f"（允许偏差 {q2(tolerance)} 分，超出部分每分扣 {q2(deduct)} 分）"
    )
    return Measure(gap, points, _basis(tally, summary))


# --- helpers ------------------------------------------------------------------------------------


def _local_date(moment: datetime | None) -> date | None:
    return timezone.localdate(moment) if moment is not None else None


class _Urls:
    """``reverse`` once per URL name, then format (thousands of records per computation)."""

    def __init__(self):
        self.cache: dict[str, str] = {}

    def __call__(self, name: str, pk: int) -> str:
        if name not in self.cache:
            self.cache[name] = reverse(name, args=[987654321]).replace("987654321", "{pk}")
        return self.cache[name].format(pk=pk)


def first_transition(model, to_status: str):
    """Subquery: when the record first entered ``to_status`` (from the audit log)."""
    content_type = ContentType.objects.get_for_model(model)
    return Subquery(
        AuditEvent.objects.filter(
            content_type=content_type,
            object_id=Cast(OuterRef("pk"), CharField()),
            kind=AuditEvent.Kind.TRANSITION,
            changes__status__to=to_status,
        )
        .order_by("occurred_at", "pk")
        .values("occurred_at")[:1]
    )


def _region_q(bodies: Bodies, path: str = "organization__region_id") -> Q:
    return Q(**{f"{path}__in": bodies.region_ids})


def _owed(due: date | None, done: date | None, today: date) -> bool:
    """A record not submitted yet whose due date is still ahead is not owed yet."""
    return not (done is None and due is not None and due >= today)


# --- the metrics --------------------------------------------------------------------------------


def filing_due_dates(bodies: Bodies, prefer_organization_id: int | None = None) -> dict[int, date]:
    """Region → the 绩效目标申报 due date of the year (the region's finance bureau's calendar)."""
    rows = WorkCalendar.objects.filter(
        fiscal_year_id=bodies.fiscal_year,
        step=WorkStep.TARGET_FILING,
        organization__kind=K.FINANCE,
        organization__region_id__in=bodies.region_ids,
    ).values_list("organization_id", "organization__region_id", "due_on")
    due: dict[int, date] = {}
    for _org_id, region_id, due_on in sorted(rows, key=lambda r: (r[0] != prefer_organization_id, r[0])):
        due.setdefault(region_id, due_on)
    return due


def target_on_time(bodies: Bodies, prefer_organization_id: int | None = None) -> dict[int, Tally]:
    from apps.funds.models import SpecialFund
    from apps.targets.models import PerformanceTarget, TargetStatus

    due_by_region = filing_due_dates(bodies, prefer_organization_id)
    rows = (
        PerformanceTarget.objects.filter(_region_q(bodies), fiscal_year_id=bodies.fiscal_year, version=1)
        .exclude(fund__request_status=SpecialFund.RequestStatus.NOT_ARRANGED)
        .annotate(first=Coalesce(first_transition(PerformanceTarget, TargetStatus.SECTOR_REVIEW), F("submitted_at")))
        .order_by()
        .values_list("pk", "organization_id", "organization__region_id", "fund__name", "organization__name", "first")
    )
    urls = _Urls()
    tallies: dict[int, Tally] = defaultdict(Tally)
    for pk, org_id, region_id, fund_name, org_name, first in rows.iterator(chunk_size=5000):
        body = bodies.of(org_id)
        if body is None:
            continue
        due, done = due_by_region.get(region_id), _local_date(first)
        if not _owed(due, done, bodies.today):
            continue
        if done is None:
            ok, note = False, "未报送"
        elif due is None:
            ok, note = True, "未设置申报截止日期，已报送即视为按时"
        else:
            ok = done <= due
            note = "" if ok else f"逾期 {(done - due).days} 天"
        label = f"{fund_name}绩效目标" if fund_name else f"{org_name}部门整体绩效目标"
        tallies[body].add(Record(label, due, done, ok, note, urls("targets:target_detail", pk)))
    return tallies


def _report_on_time(bodies: Bodies, model, round_path: str, to_status: str, url_name: str) -> dict[int, Tally]:
    rows = (
        model.objects.filter(_region_q(bodies), **{f"{round_path}__fiscal_year_id": bodies.fiscal_year})
        .annotate(first=Coalesce(first_transition(model, to_status), F("submitted_at")))
        .order_by()
        .values_list("pk", "organization_id", "fund__name", f"{round_path}__name", f"{round_path}__due_on", "first")
    )
    urls = _Urls()
    tallies: dict[int, Tally] = defaultdict(Tally)
    for pk, org_id, fund_name, round_name, due, first in rows.iterator(chunk_size=5000):
        body = bodies.of(org_id)
        if body is None:
            continue
        done = _local_date(first)
        if not _owed(due, done, bodies.today):
            continue
        ok = done is not None and done <= due
        note = "未报送" if done is None else ("" if ok else f"逾期 {(done - due).days} 天")
        tallies[body].add(Record(f"{fund_name}（{round_name}）", due, done, ok, note, urls(url_name, pk)))
    return tallies


def monitoring_on_time(bodies: Bodies) -> dict[int, Tally]:
    from apps.monitoring.models import MonitoringReport

    return _report_on_time(
        bodies, MonitoringReport, "round", MonitoringReport.Status.SUBMITTED, "monitoring:report_detail"
    )


def selfeval_on_time(bodies: Bodies) -> dict[int, Tally]:
    from apps.evaluations.models import SelfEvaluation

    return _report_on_time(bodies, SelfEvaluation, "round", SelfEvaluation.Status.SUBMITTED, "evaluations:self_detail")


FINANCE_RETURNS = ("sector_review", "perf_review")


def target_first_pass(bodies: Bodies) -> dict[int, Tally]:
    from apps.targets.models import PerformanceTarget, TargetStatus

    returned = AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(PerformanceTarget),
        object_id=Cast(OuterRef("pk"), CharField()),
        kind=AuditEvent.Kind.TRANSITION,
        changes__status__to=TargetStatus.RETURNED,
        changes__status__from__in=FINANCE_RETURNS,
    )
    rows = (
        PerformanceTarget.objects.filter(_region_q(bodies), fiscal_year_id=bodies.fiscal_year)
        .filter(Q(approved_at__isnull=False) | Q(status__in=[TargetStatus.APPROVED, TargetStatus.SUPERSEDED]))
        .annotate(was_returned=Exists(returned))
        .order_by()
        .values_list(
            "pk", "organization_id", "fund__name", "organization__name", "version", "approved_at", "was_returned"
        )
    )
    urls = _Urls()
    tallies: dict[int, Tally] = defaultdict(Tally)
    for pk, org_id, fund_name, org_name, version, approved_at, was_returned in rows.iterator(chunk_size=5000):
        body = bodies.of(org_id)
        if body is None:
            continue
        subject = f"{fund_name}绩效目标" if fund_name else f"{org_name}部门整体绩效目标"
        record = Record(
            f"{subject}（第{version}版）",
            None,
            _local_date(approved_at),
            not was_returned,
            "曾被财政退回" if was_returned else "",
            urls("targets:target_detail", pk),
        )
        tallies[body].add(record)
    return tallies


def score_gap(bodies: Bodies) -> dict[int, Tally]:
    from apps.evaluations.models import EvaluationPlan, KeyEvaluation, SelfEvaluation

    selfs = (
        SelfEvaluation.objects.filter(
            _region_q(bodies),
            round__fiscal_year_id=bodies.fiscal_year,
            status__in=[SelfEvaluation.Status.SUBMITTED, SelfEvaluation.Status.CONFIRMED],
            score__isnull=False,
        )
        .order_by()
        .values_list("pk", "organization_id", "fund_id", "fund__name", "score")
    )
    keys = (
        KeyEvaluation.objects.filter(
            plan__fiscal_year_id=bodies.fiscal_year,
            plan__kind=EvaluationPlan.Kind.FINANCE,
            status=KeyEvaluation.Status.COMPLETED,
            score__isnull=False,
            fund__isnull=False,
            department__region_id__in=bodies.region_ids,
        )
        .order_by("fund_id", "completed_at", "pk")
        .values_list("fund_id", "pk", "score")
    )
    key_of = {fund_id: (pk, score) for fund_id, pk, score in keys}  # the latest completed wins
    urls = _Urls()
    tallies: dict[int, Tally] = defaultdict(Tally)
    for _pk, org_id, fund_id, fund_name, self_score in selfs:
        body = bodies.of(org_id)
        if body is None or fund_id not in key_of:
            continue
        key_pk, key_score = key_of[fund_id]
        gap = abs(self_score - key_score)
        tallies[body].gaps.append(gap)
        record = Record(
            fund_name,
            None,
            None,
            True,
            f"自评 {self_score} 分，重点评价 {key_score} 分，偏差 {q2(gap)} 分",
            urls("evaluations:key_detail", key_pk),
            weight=gap,
        )
        tallies[body].add(record)
    return tallies


def rectification_on_time(bodies: Bodies) -> dict[int, Tally]:
    from apps.results.models import Rectification

    start = date(bodies.fiscal_year, 1, 1)
    end = min(date(bodies.fiscal_year, 12, 31), bodies.today)
    rows = (
        Rectification.objects.filter(region_id__in=bodies.region_ids, deadline__gte=start, deadline__lte=end)
        .order_by()
        .values_list("pk", "organization_id", "problem", "deadline", "status", "completed_on")
    )
    urls = _Urls()
    tallies: dict[int, Tally] = defaultdict(Tally)
    for pk, org_id, problem, deadline, status, completed_on in rows.iterator(chunk_size=5000):
        body = bodies.of(org_id)
        if body is None:
            continue
        done = completed_on if status == Rectification.Status.DONE else None
        ok = done is not None and done <= deadline
        if done is None:
            note = "逾期未完成"
        else:
            note = "" if ok else f"逾期 {(done - deadline).days} 天完成"
        label = problem if len(problem) <= 40 else problem[:40] + "…"
        tallies[body].add(Record(label, deadline, done, ok, note, urls("results:rectification_detail", pk)))
    return tallies


def disclosure(bodies: Bodies) -> dict[int, Tally]:
    from apps.evaluations.models import KeyEvaluation, SelfEvaluation
    from apps.results.models import Disclosure
    from apps.targets.models import PerformanceTarget, TargetStatus

    published = Disclosure.objects.filter(status=Disclosure.Status.PUBLISHED)
    urls = _Urls()
    tallies: dict[int, Tally] = defaultdict(Tally)
    sources = [
        (
            "绩效目标",
            PerformanceTarget.objects.filter(
                _region_q(bodies), fiscal_year_id=bodies.fiscal_year, status=TargetStatus.APPROVED
            ),
            "target",
            "organization_id",
            "targets:target_detail",
        ),
        (
            "自评结果",
            SelfEvaluation.objects.filter(
                _region_q(bodies), round__fiscal_year_id=bodies.fiscal_year, status=SelfEvaluation.Status.CONFIRMED
            ),
            "self_evaluation",
            "organization_id",
            "evaluations:self_detail",
        ),
        (
            "重点评价报告",
            KeyEvaluation.objects.filter(
                department__region_id__in=bodies.region_ids,
                plan__fiscal_year_id=bodies.fiscal_year,
                status=KeyEvaluation.Status.COMPLETED,
            ),
            "key_evaluation",
            "department_id",
            "evaluations:key_detail",
        ),
    ]
    for what, queryset, fk, org_field, url_name in sources:
        rows = (
            queryset.exclude(fund__is_classified=True)
            .annotate(disclosed=Exists(published.filter(**{fk: OuterRef("pk")})))
            .order_by()
            .values_list("pk", org_field, "fund__name", "disclosed")
        )
        for pk, org_id, fund_name, disclosed in rows.iterator(chunk_size=5000):
            body = bodies.of(org_id)
            if body is None:
                continue
            label = f"{fund_name or '部门整体'}{what}"
            tallies[body].add(Record(label, None, None, disclosed, "" if disclosed else "未公开", urls(url_name, pk)))
    return tallies


def measure_all(metric: str, bodies: Bodies, prefer_organization_id: int | None = None) -> dict[int, Tally]:
    """Body organisation id → its tally for ``metric`` (bodies without records are absent)."""
    if metric == Metric.TARGET_ON_TIME:
        return target_on_time(bodies, prefer_organization_id)
    functions = {
        Metric.MONITORING_ON_TIME: monitoring_on_time,
        Metric.SELFEVAL_ON_TIME: selfeval_on_time,
        Metric.TARGET_FIRST_PASS: target_first_pass,
        Metric.SCORE_GAP: score_gap,
        Metric.RECTIFICATION_ON_TIME: rectification_on_time,
        Metric.DISCLOSURE: disclosure,
    }
    return functions[metric](bodies)


def measure(metric: str, tally: Tally | None, max_points: Decimal, params: dict) -> Measure:
    tally = tally or Tally()
    if metric == Metric.SCORE_GAP:
        return gap_measure(tally, max_points, params)
    return rate_measure(metric, tally, max_points)
