"""The records behind each computed item of the annual assessment (考核), read for every assessed
body at once (see ``metrics`` for the bodies, the tallies and the points).

Each function reads its records in a fixed number of queries and folds the rows per body with
``_fold``. Fiscal year Y = the assessment's year; dates are local (Asia/Shanghai) dates; a record not
yet done whose due date is still ahead (today or later) is not owed yet.

* ``target_on_time``: the version-1 targets of Y (fund and department targets; those of funds finance
  did not arrange are not owed). The region's 绩效目标申报 (``TARGET_FILING``) date is the *unit's*
  filing deadline, so on time = the filer's first step out of draft — the first audit-log transition
  from ``draft`` to ``dept_review`` (sent to the department) or ``sector_review`` (a department filing
  its own target straight to finance), whichever came first — on/before that date. The department's
  forwarding to finance has its own deadline (``TARGET_DEPT_REVIEW``) and is not measured here.
  Records without such a row (bulk-loaded data) use ``submitted_at``. No calendar date: handed in at
  all counts as on time.
* ``monitoring_on_time`` / ``selfeval_on_time``: the reports / self-evaluations of Y's rounds — on time
  = first submission to finance (the first audit-log transition into ``submitted``, else
  ``submitted_at``) on/before the round's ``due_on``; a return and a late resubmission do not undo a
  first submission on time.
* ``target_first_pass``: the targets of Y that reached 批复 or were returned by finance at least once,
  a target with its adjusted versions counted once (a fund's versions; a department's overall target's
  versions) — passed at first = reached 批复 and no version was ever returned by finance (a transition
  from ``sector_review`` / ``perf_review`` to ``returned``). A target finance returned that never came
  back counts and fails (else leaving it unresubmitted would raise the rate); a department's own
  return before it reaches finance does not count against it.
* ``score_gap``: funds of Y with a submitted/confirmed self-evaluation score and a completed finance
  key evaluation (plan kind ``finance``) score — mean |self − key| (the latest completed key
  evaluation of the fund when there are several; its completion date is the record's date).
* ``rectification_on_time``: rectifications whose deadline falls in calendar year Y and is before
  today. ``completed_on`` is the day finance accepts, so the body is judged on the day it handed its
  rectification in (``submitted_at``; bulk data without it: ``completed_on``): on time = handed in
  on/before the deadline and accepted (已完成), or handed in on/before the deadline and still awaiting
  finance's verification (待核实: counted on time, noted “待财政核实”).
* ``disclosure``: the approved targets, confirmed self-evaluations and completed key evaluations of Y
  (涉密 funds excluded: they must not be disclosed) — disclosed = a published ``Disclosure`` (its
  first publication date is the record's date).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.orgs.models import WorkCalendar, WorkStep
from apps.targets.models import TargetStatus

from .metrics import Bodies, Record, Tally, q2

K_FINANCE = "finance"
CHUNK = 5000


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


def _fold(
    bodies: Bodies,
    rows: Iterable[tuple],
    record_of: Callable[..., Record | None],
    into: dict[int, Tally] | None = None,
) -> dict[int, Tally]:
    """Rows ``(organization_id, *fields)`` → body → tally; ``record_of(*fields)`` gives the row's record,
    or None when it is not owed (yet). Rows of organisations outside the assessed bodies are skipped.
    ``into``: add to these tallies (a metric read from several tables)."""
    tallies: dict[int, Tally] = into if into is not None else defaultdict(Tally)
    for org_id, *fields in rows:
        body = bodies.of(org_id)
        if body is None:
            continue
        record = record_of(*fields)
        if record is not None:
            tallies[body].add(record)
    return tallies


def _transitions(model, **status):
    """Audit-log transitions of the outer row of ``model`` (``status`` filters ``changes.status``)."""
    return AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(model),
        object_id=Cast(OuterRef("pk"), CharField()),
        kind=AuditEvent.Kind.TRANSITION,
        **{f"changes__status__{key}": value for key, value in status.items()},
    )


def _first(events):
    """Subquery: when the first of ``events`` happened."""
    return Subquery(events.order_by("occurred_at", "pk").values("occurred_at")[:1])


def _region_q(bodies: Bodies, path: str = "organization__region_id") -> Q:
    return Q(**{f"{path}__in": bodies.region_ids})


def _owed(due: date | None, done: date | None, today: date) -> bool:
    """A record not done yet whose due date is today or later is not owed yet."""
    return not (done is None and due is not None and due >= today)


def _late(done: date, due: date) -> str:
    return f"逾期 {(done - due).days} 天"


# --- targets ------------------------------------------------------------------------------------


def filing_due_dates(bodies: Bodies, prefer_organization_id: int | None = None) -> dict[int, date]:
    """Region → the 绩效目标申报 due date of the year (the region's finance bureau's calendar)."""
    rows = WorkCalendar.objects.filter(
        fiscal_year_id=bodies.fiscal_year,
        step=WorkStep.TARGET_FILING,
        organization__kind=K_FINANCE,
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
    handed_in = _transitions(
        PerformanceTarget,
        **{"from": TargetStatus.DRAFT, "to__in": [TargetStatus.DEPT_REVIEW, TargetStatus.SECTOR_REVIEW]},
    )
    rows = (
        PerformanceTarget.objects.filter(_region_q(bodies), fiscal_year_id=bodies.fiscal_year, version=1)
        .exclude(fund__request_status=SpecialFund.RequestStatus.NOT_ARRANGED)
        .annotate(first=Coalesce(_first(handed_in), F("submitted_at")))
        .order_by()
        .values_list("organization_id", "pk", "organization__region_id", "fund__name", "organization__name", "first")
    )
    urls = _Urls()

    def record(pk, region_id, fund_name, org_name, first):
        due, done = due_by_region.get(region_id), _local_date(first)
        if not _owed(due, done, bodies.today):
            return None
        if done is None:
            ok, note = False, "未提交"
        elif due is None:
            ok, note = True, "未设置申报截止日期，已提交即视为按时"
        else:
            ok = done <= due
            note = "" if ok else _late(done, due)
        label = f"{fund_name}绩效目标" if fund_name else f"{org_name}部门整体绩效目标"
        return Record(label, due, done, ok, note, urls("targets:target_detail", pk))

    return _fold(bodies, rows.iterator(chunk_size=CHUNK), record)


FINANCE_RETURNS = (TargetStatus.SECTOR_REVIEW, TargetStatus.PERF_REVIEW)  # a return from these is finance's


def target_first_pass(bodies: Bodies) -> dict[int, Tally]:
    """One record per target (its versions together): every version of Y is read in one query."""
    from apps.targets.models import PerformanceTarget

    returned = _transitions(PerformanceTarget, to=TargetStatus.RETURNED, from__in=FINANCE_RETURNS)
    rows = (
        PerformanceTarget.objects.filter(_region_q(bodies), fiscal_year_id=bodies.fiscal_year)
        .annotate(was_returned=Exists(returned))
        .order_by("version", "pk")
        .values_list(
            "pk", "organization_id", "fund_id", "fund__name", "organization__name", "status", "approved_at",
            "was_returned",
        )
    )  # fmt: skip
    reached = {TargetStatus.APPROVED, TargetStatus.SUPERSEDED}
    lineages: dict[tuple, dict] = {}
    for pk, org_id, fund_id, fund_name, org_name, status, approved_at, was_returned in rows.iterator(chunk_size=CHUNK):
        # A fund has one target per version; a department's overall target one per year and version.
        key = ("fund", fund_id) if fund_id is not None else ("department", org_id)
        lineage = lineages.setdefault(
            key,
            {"org": org_id, "fund": fund_name, "org_name": org_name, "versions": 0, "returned": False,
             "reached": False, "approved": [], "pk": pk},
        )  # fmt: skip
        lineage["versions"] += 1
        lineage["returned"] |= was_returned
        if approved_at is not None or status in reached:
            lineage["reached"] = True
            lineage["pk"] = pk  # the latest version that reached 批复 (rows come by version)
            if approved_at is not None:
                lineage["approved"].append(_local_date(approved_at))
    urls = _Urls()

    def record(lineage):
        if not (lineage["reached"] or lineage["returned"]):  # neither approved nor returned by finance: not counted
            return None
        subject = f"{lineage['fund']}绩效目标" if lineage["fund"] else f"{lineage['org_name']}部门整体绩效目标"
        notes = ["曾被财政退回"] if lineage["returned"] else []
        if not lineage["reached"]:
            notes.append("尚未批复")
        if lineage["versions"] > 1:
            notes.append(f"含调整共 {lineage['versions']} 版")
        first_approved = min(lineage["approved"], default=None)
        url = urls("targets:target_detail", lineage["pk"])
        passed = lineage["reached"] and not lineage["returned"]
        return Record(subject, None, first_approved, passed, "；".join(notes), url)

    return _fold(bodies, ((lin["org"], lin) for lin in lineages.values()), record)


# --- reports ------------------------------------------------------------------------------------


def _report_on_time(bodies: Bodies, model, round_path: str, to_status: str, url_name: str) -> dict[int, Tally]:
    rows = (
        model.objects.filter(_region_q(bodies), **{f"{round_path}__fiscal_year_id": bodies.fiscal_year})
        .annotate(first=Coalesce(_first(_transitions(model, to=to_status)), F("submitted_at")))
        .order_by()
        .values_list("organization_id", "pk", "fund__name", f"{round_path}__name", f"{round_path}__due_on", "first")
    )
    urls = _Urls()

    def record(pk, fund_name, round_name, due, first):
        done = _local_date(first)
        if not _owed(due, done, bodies.today):
            return None
        ok = done is not None and done <= due
        note = "未报送" if done is None else ("" if ok else _late(done, due))
        return Record(f"{fund_name}（{round_name}）", due, done, ok, note, urls(url_name, pk))

    return _fold(bodies, rows.iterator(chunk_size=CHUNK), record)


def monitoring_on_time(bodies: Bodies) -> dict[int, Tally]:
    from apps.monitoring.models import MonitoringReport

    return _report_on_time(
        bodies, MonitoringReport, "round", MonitoringReport.Status.SUBMITTED, "monitoring:report_detail"
    )


def selfeval_on_time(bodies: Bodies) -> dict[int, Tally]:
    from apps.evaluations.models import SelfEvaluation

    return _report_on_time(bodies, SelfEvaluation, "round", SelfEvaluation.Status.SUBMITTED, "evaluations:self_detail")


# --- evaluations --------------------------------------------------------------------------------


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
        .values_list("organization_id", "fund_id", "fund__name", "score")
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
        .values_list("fund_id", "pk", "score", "completed_at")
    )
    key_of = {fund_id: (pk, score, completed) for fund_id, pk, score, completed in keys}  # the latest wins
    urls = _Urls()

    def record(fund_id, fund_name, self_score):
        if fund_id not in key_of:
            return None
        key_pk, key_score, completed = key_of[fund_id]
        gap = abs(self_score - key_score)
        note = f"自评 {self_score} 分，重点评价 {key_score} 分，偏差 {q2(gap)} 分"
        url = urls("evaluations:key_detail", key_pk)
        return Record(fund_name, None, _local_date(completed), True, note, url, weight=gap)

    return _fold(bodies, selfs, record)


# --- rectification and disclosure ---------------------------------------------------------------


def rectification_on_time(bodies: Bodies) -> dict[int, Tally]:
    from apps.results.models import Rectification

    S = Rectification.Status
    rows = (
        Rectification.objects.filter(
            region_id__in=bodies.region_ids,
            deadline__gte=date(bodies.fiscal_year, 1, 1),
            deadline__lte=date(bodies.fiscal_year, 12, 31),
            deadline__lt=bodies.today,  # a deadline of today is not overdue yet
        )
        .order_by()
        .values_list("organization_id", "pk", "problem", "deadline", "status", "submitted_at", "completed_on")
    )
    urls = _Urls()

    def record(pk, problem, deadline, status, submitted_at, completed_on):
        label = problem if len(problem) <= 40 else problem[:40] + "…"
        handed = _local_date(submitted_at)
        if status == S.DONE:
            done = handed or completed_on  # judged on the day it was handed in, not finance's acceptance
            ok = done is not None and done <= deadline
            note = "" if ok or done is None else f"{_late(done, deadline)}完成"
        elif status == S.VERIFYING and handed is not None:
            done, ok = handed, handed <= deadline
            note = "按期报送，待财政核实" if ok else f"{_late(handed, deadline)}报送，待财政核实"
        else:
            done, ok, note = None, False, "逾期未完成"
        return Record(label, deadline, done, ok, note, urls("results:rectification_detail", pk))

    return _fold(bodies, rows.iterator(chunk_size=CHUNK), record)


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
        first_published = published.filter(**{fk: OuterRef("pk")}).order_by("published_at", "pk")
        rows = (
            queryset.exclude(fund__is_classified=True)
            .annotate(published_at=Subquery(first_published.values("published_at")[:1]))
            .order_by()
            .values_list(org_field, "pk", "fund__name", "published_at")
        )

        def record(pk, fund_name, published_at, what=what, url_name=url_name):
            on = _local_date(published_at)
            label = f"{fund_name or '部门整体'}{what}"
            return Record(label, None, on, on is not None, "" if on else "未公开", urls(url_name, pk))

        _fold(bodies, rows.iterator(chunk_size=CHUNK), record, into=tallies)
    return tallies
