"""The computed items of the annual assessment (考核): who is assessed, what a line stores, how the
points follow from the records.

The records themselves are read in ``metrics_records`` — each metric is **set-based**: a fixed
number of queries reads the records of every assessed body at once, whatever the number of bodies,
and ``_fold`` adds each row to its body's ``Tally`` through ``Bodies.body_of`` (organisation id →
assessed body's organisation id). Nothing here writes; ``services_assessment.assessment_compute``
turns the ``Measure``s into lines.

Who is assessed and whose records count
--------------------------------------
* ``departments``: every active department of the assessment's region; its records are its own and
  its units' (the organisation subtree, by ``path`` prefix). A department deactivated after finance
  adjusted one of its lines stays on the sheet (nothing finance entered is ever dropped) and is
  measured as before.
* ``districts`` (city only): the finance office of every district (kind FINANCE, no parent); its
  records are everything in that district's region.

What each metric counts is documented in ``metrics_records`` (one paragraph per metric). A body with
nothing to count for a metric gets full points, with one sentence per metric saying why
(``NO_DATA``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils import timezone

from apps.orgs.models import Organization

from .models import AssessmentKind, AssessmentLine, Metric

D = Decimal
HUNDRED = D("100")
CENT = D("0.01")
MAX_RECORDS = 50
K = Organization.Kind

# What a body with nothing to count is told (full points), one sentence per metric.
NO_DATA = {
    Metric.TARGET_ON_TIME: "本年度无应报送的绩效目标，按满分计",
    Metric.MONITORING_ON_TIME: "本年度无到期的监控报送任务，按满分计",
    Metric.SELFEVAL_ON_TIME: "本年度无到期的单位自评报送任务，按满分计",
    Metric.TARGET_FIRST_PASS: "本年度无已批复或被财政退回的绩效目标，按满分计",
    Metric.SCORE_GAP: "本年度无同时有单位自评和财政重点评价得分的项目，按满分计",
    Metric.RECTIFICATION_ON_TIME: "本年度无到期的整改事项，按满分计",
    Metric.DISCLOSURE: "本年度无应公开的绩效信息，按满分计",
}

# What a record's date (``done``) is, per metric: the column heading the breakdown can show
# (``basis["done_label"]``) instead of a generic "完成日期".
DONE_LABEL = {
    Metric.TARGET_ON_TIME: "单位提交日期",
    Metric.MONITORING_ON_TIME: "报送日期",
    Metric.SELFEVAL_ON_TIME: "报送日期",
    Metric.TARGET_FIRST_PASS: "批复日期",
    Metric.SCORE_GAP: "重点评价完成日期",
    Metric.RECTIFICATION_ON_TIME: "报送核实日期",
    Metric.DISCLOSURE: "公开日期",
}

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


def _kept(assessment) -> Q:
    """Organisations finance already adjusted a line of on this sheet: they stay assessed even if
    deactivated since (their adjustments and 佐证 are never dropped). No query of its own."""
    if assessment.pk is None:
        return Q(pk__in=[])
    adjusted = AssessmentLine.objects.filter(body__assessment_id=assessment.pk, adjusted=True).values(
        "body__organization_id"
    )
    return Q(pk__in=adjusted)


def district_offices(city_region_id: int, also: Q | None = None) -> list[Organization]:
    """The finance office of every district: the top-level finance organisation of each region other
    than the city's, the first by (sort order, code) should a district have two. One query.

    Both the annual assessment of the districts and the fiscal evaluation pick their offices here,
    so the two always name the same office for a district. ``also`` admits inactive organisations
    as well (an assessment keeps those finance already adjusted a line of)."""
    wanted = Q(is_active=True) if also is None else Q(is_active=True) | also
    rows = (
        Organization.objects.filter(kind=K.FINANCE, parent__isnull=True)
        .filter(wanted)
        .exclude(region_id=city_region_id)
        .select_related("region")
        .order_by("region__sort_order", "region__code", "sort_order", "code")
    )
    chosen: dict[int, Organization] = {}
    for org in rows:
        chosen.setdefault(org.region_id, org)
    return list(chosen.values())


def assessed_bodies(assessment, today: date | None = None) -> Bodies:
    """Two queries: the bodies, then every organisation of their regions (mapped to a body)."""
    today = today or timezone.localdate()
    if assessment.kind == AssessmentKind.DISTRICTS:
        orgs = district_offices(assessment.region_id, also=_kept(assessment))
        by_region = {org.region_id: org.pk for org in orgs}
        region_ids = list(by_region)
        rows = Organization.objects.filter(region_id__in=region_ids).order_by().values_list("pk", "region_id")
        body_of = {pk: by_region[region_id] for pk, region_id in rows}
    else:
        orgs = list(
            Organization.objects.filter(region_id=assessment.region_id, kind=K.DEPARTMENT)
            .filter(Q(is_active=True) | _kept(assessment))
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


def _basis(metric: str, tally: Tally, summary: str) -> dict:
    records = sorted(tally.records, key=lambda r: (r.ok, -r.weight, r.due or date.max, r.label))[:MAX_RECORDS]
    return {
        "numerator": tally.ok,
        "denominator": tally.total,
        "summary": summary,
        "done_label": DONE_LABEL[metric],
        "records": [r.as_json() for r in records],
    }


RATE_SUMMARY = {
    Metric.TARGET_ON_TIME: "应报送绩效目标 {total} 项，单位按时提交 {ok} 项，按时率 {rate}",
    Metric.MONITORING_ON_TIME: "应报送监控报告 {total} 份，按时报送 {ok} 份，按时率 {rate}",
    Metric.SELFEVAL_ON_TIME: "应报送单位自评 {total} 份，按时报送 {ok} 份，按时率 {rate}",
    Metric.TARGET_FIRST_PASS: (
        "已批复或被财政退回的绩效目标 {total} 项（调整版本与原目标合计为一项），"
        "已批复且未经财政退回 {ok} 项，一次通过率 {rate}"
    ),
    Metric.RECTIFICATION_ON_TIME: "到期整改事项 {total} 项，按期完成 {ok} 项，按期完成率 {rate}",
    Metric.DISCLOSURE: "应公开事项 {total} 项，已公开 {ok} 项，公开完整率 {rate}",
}


def rate_measure(metric: str, tally: Tally, max_points: Decimal) -> Measure:
    if tally.total == 0:
        return Measure(None, q2(max_points), _basis(metric, tally, NO_DATA[metric]))
    rate = D(tally.ok) * HUNDRED / D(tally.total)
    points = q2(max_points * D(tally.ok) / D(tally.total))
    summary = RATE_SUMMARY[metric].format(total=tally.total, ok=tally.ok, rate=pct(rate))
    return Measure(q2(rate), points, _basis(metric, tally, summary))


def gap_params(params: dict) -> tuple[Decimal, Decimal]:
    defaults = DEFAULT_PARAMS[Metric.SCORE_GAP]
    tolerance = D(str(params.get("tolerance", defaults["tolerance"])))
    deduct = D(str(params.get("deduct_per_point", defaults["deduct_per_point"])))
    return tolerance, deduct


def gap_measure(tally: Tally, max_points: Decimal, params: dict) -> Measure:
    """A score-gap record's ``weight`` is its gap |自评 − 重点评价|."""
    if not tally.records:
        return Measure(None, q2(max_points), _basis(Metric.SCORE_GAP, tally, NO_DATA[Metric.SCORE_GAP]))
    tolerance, deduct = gap_params(params)
    for record in tally.records:  # within the tolerance is fine; the largest gaps come first
        record.ok = record.weight <= tolerance
    tally.ok = sum(r.ok for r in tally.records)
    gaps = [r.weight for r in tally.records]
    gap = q2(sum(gaps, D("0")) / D(len(gaps)))
    points = q2(max(D("0"), max_points - max(D("0"), gap - tolerance) * deduct))
    summary = (
        f"可比项目 {len(gaps)} 个，自评与财政重点评价得分平均偏差 {gap} 分"
        f"（允许偏差 {q2(tolerance)} 分，超出部分每分扣 {q2(deduct)} 分）"
    )
    return Measure(gap, points, _basis(Metric.SCORE_GAP, tally, summary))


def measure_all(metric: str, bodies: Bodies, prefer_organization_id: int | None = None) -> dict[int, Tally]:
    """Body organisation id → its tally for ``metric`` (bodies without records are absent)."""
    from . import metrics_records as records

    if metric == Metric.TARGET_ON_TIME:
        return records.target_on_time(bodies, prefer_organization_id)
    functions = {
        Metric.MONITORING_ON_TIME: records.monitoring_on_time,
        Metric.SELFEVAL_ON_TIME: records.selfeval_on_time,
        Metric.TARGET_FIRST_PASS: records.target_first_pass,
        Metric.SCORE_GAP: records.score_gap,
        Metric.RECTIFICATION_ON_TIME: records.rectification_on_time,
        Metric.DISCLOSURE: records.disclosure,
    }
    return functions[metric](bodies)


def measure(metric: str, tally: Tally | None, max_points: Decimal, params: dict) -> Measure:
    tally = tally or Tally()
    if metric == Metric.SCORE_GAP:
        return gap_measure(tally, max_points, params)
    return rate_measure(metric, tally, max_points)
