"""Annual assessment (考核) engine: the score sheet's configuration and the computation of the draft.

* ``assessment_create`` sets up a score sheet for the actor's finance bureau with ``DEFAULT_ITEMS``;
  ``item_save`` / ``item_delete`` change its items while it is a draft or under review (a change
  under review sends it back to draft: it must be computed again). **Nothing finance entered is
  lost**: an item whose lines finance adjusted or scored by hand (``AssessmentAdjustment`` rows,
  protected) cannot change its 分值 or 计分方式, nor be deleted; a body with such lines stays.
* ``assessment_compute_start`` moves it to "计算中" and starts the background job; the job runs
  ``assessment_compute``, which measures every computed item for every assessed body at once
  (``metrics``: a constant number of queries, however many bodies), writes one line per body × item
  with ``bulk_create`` / ``bulk_update`` and then ``assessment_totals`` (totals, provisional ranks
  with ties, grades). Lines finance adjusted keep their adjusted points (only the computed points
  and the basis are refreshed); hand-scored (``manual``) lines keep the points entered (0 at first).
* Grades are given on the sheet's scale: ``percent_score`` = total × 100 / the sum of the items'
  分值 (two decimals), so a 190-point sheet is graded like a 100-point one (优 ≥ 90 …).
* Item ``params``: ``score_gap`` takes ``tolerance`` (default 5: a mean gap up to this is not
  penalised) and ``deduct_per_point`` (default 1: points deducted per point of gap beyond it); the
  other metrics take none. Rates give ``max_points × rate`` (2 decimals, half up); a body with no
  records for an item gets full points, with the metric's own reason (``metrics.NO_DATA``).
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Sum
from django.urls import reverse
from django.utils import timezone

from apps.core import audit, permissions
from apps.core.jobs import job_start
from apps.evaluations.scoring import grade_of
from apps.orgs.models import FiscalYear, Organization

from . import metrics
from .models import (
    AnnualAssessment,
    AssessedBody,
    AssessmentAdjustment,
    AssessmentItem,
    AssessmentKind,
    AssessmentLine,
    Metric,
)
from .ranking import competition_ranks

D = Decimal
Status = AnnualAssessment.Status
K = Organization.Kind
COMPUTE_KIND = "supervision.assessment_compute"
EDITABLE = (Status.DRAFT, Status.REVIEW)
MAX_POINTS = D("1000")
PARAM_KEYS = {Metric.SCORE_GAP: {"tolerance", "deduct_per_point"}}
BATCH = 1000


def _item(name: str, metric: str, max_points: str, guidance: str, params: dict | None = None) -> dict:
    return {"name": name, "metric": metric, "max_points": D(max_points), "params": params or {}, "guidance": guidance}


_COMMON_GUIDANCE = {
    Metric.TARGET_ON_TIME: (
        "以预算单位首次提交绩效目标（提交部门审核，或部门直接报送财政）的日期为准，"
        "按绩效目标申报截止日期前提交的项目数占应报项目数的比例计分；部门审核转报财政另有截止日期，不在本项计算。"
    ),
    Metric.MONITORING_ON_TIME: "按监控轮次截止日期前首次报送财政的监控报告占应报报告的比例计分。",
    Metric.SELFEVAL_ON_TIME: "按自评批次截止日期前首次报送财政的单位自评占应报自评的比例计分。",
    Metric.TARGET_FIRST_PASS: (
        "已批复或曾被财政退回的绩效目标（同一目标的调整版本合计为一项）中，已批复且各版本均未被财政退回的比例计分；"
        "被财政退回后未再批复的也计入，按未通过计；部门内部退回不影响本项。"
    ),
    Metric.SCORE_GAP: "单位自评得分与财政重点评价得分平均偏差不超过5分的得满分，每超出1分扣1分，扣完为止。",
    Metric.RECTIFICATION_ON_TIME: (
        "整改期限在本年度且已过期的整改事项中，按期完成的比例计分：以责任单位报送整改核实的日期为准，"
        "在整改期限前报送且经财政核实通过的为按期完成；已按期报送、尚待财政核实的也计为按期。"
    ),
    Metric.DISCLOSURE: "已批复绩效目标、财政已审核自评结果和已完成重点评价报告中已公开的比例计分。",
}

DEFAULT_ITEMS: dict[str, list[dict]] = {
    AssessmentKind.DEPARTMENTS: [
        _item("绩效目标按时报送", Metric.TARGET_ON_TIME, "15", _COMMON_GUIDANCE[Metric.TARGET_ON_TIME]),
        _item("绩效目标一次审核通过", Metric.TARGET_FIRST_PASS, "10", _COMMON_GUIDANCE[Metric.TARGET_FIRST_PASS]),
        _item("绩效监控按时报送", Metric.MONITORING_ON_TIME, "15", _COMMON_GUIDANCE[Metric.MONITORING_ON_TIME]),
        _item("单位自评按时报送", Metric.SELFEVAL_ON_TIME, "15", _COMMON_GUIDANCE[Metric.SELFEVAL_ON_TIME]),
        _item(
            "自评质量（与财政重点评价偏差）",
            Metric.SCORE_GAP,
            "15",
            _COMMON_GUIDANCE[Metric.SCORE_GAP],
            {"tolerance": 5, "deduct_per_point": 1},
        ),
        _item("问题整改按期完成", Metric.RECTIFICATION_ON_TIME, "10", _COMMON_GUIDANCE[Metric.RECTIFICATION_ON_TIME]),
        _item("绩效信息公开", Metric.DISCLOSURE, "10", _COMMON_GUIDANCE[Metric.DISCLOSURE]),
        _item(
            "绩效管理工作创新与配合",
            Metric.MANUAL,
            "10",
            "由财政部门根据制度建设、工作创新、配合程度等情况人工评分，并注明佐证材料。",
        ),
    ],
    AssessmentKind.DISTRICTS: [
        _item("辖区绩效目标按时报送", Metric.TARGET_ON_TIME, "15", _COMMON_GUIDANCE[Metric.TARGET_ON_TIME]),
        _item("辖区绩效目标一次审核通过", Metric.TARGET_FIRST_PASS, "10", _COMMON_GUIDANCE[Metric.TARGET_FIRST_PASS]),
        _item("辖区绩效监控按时报送", Metric.MONITORING_ON_TIME, "10", _COMMON_GUIDANCE[Metric.MONITORING_ON_TIME]),
        _item("辖区单位自评按时报送", Metric.SELFEVAL_ON_TIME, "10", _COMMON_GUIDANCE[Metric.SELFEVAL_ON_TIME]),
        _item(
            "辖区自评质量（与财政重点评价偏差）",
            Metric.SCORE_GAP,
            "10",
            _COMMON_GUIDANCE[Metric.SCORE_GAP],
            {"tolerance": 5, "deduct_per_point": 1},
        ),
        _item(
            "辖区问题整改按期完成", Metric.RECTIFICATION_ON_TIME, "15", _COMMON_GUIDANCE[Metric.RECTIFICATION_ON_TIME]
        ),
        _item("辖区绩效信息公开", Metric.DISCLOSURE, "10", _COMMON_GUIDANCE[Metric.DISCLOSURE]),
        _item(
            "预算绩效管理制度建设与推进",
            Metric.MANUAL,
            "20",
            "由市财政局根据区市绩效管理制度建设、全面实施预算绩效管理推进情况人工评分，并注明佐证材料。",
        ),
    ],
}


# --- helpers ------------------------------------------------------------------------------------


def finance_bureau_of(user) -> Organization | None:
    """The finance bureau the user works in: its own organisation, or the bureau above its division."""
    org = getattr(user, "organization", None)
    while org is not None and org.kind != K.FINANCE:
        org = org.parent
    return org


def _require(actor, action: str, obj, message: str) -> None:
    if not permissions.can(actor, action, obj):
        raise PermissionDenied(message)


def detail_url(assessment: AnnualAssessment) -> str:
    return reverse("supervision:assessment_detail", args=[assessment.pk])


def _locked(assessment: AnnualAssessment) -> AnnualAssessment:
    return AnnualAssessment.objects.select_for_update().select_related("region").get(pk=assessment.pk)


def _transition(actor, assessment: AnnualAssessment, to: str, comment: str, fields=()) -> None:
    """Save the new status (and ``fields``) and write the audit row (an update when it stays)."""
    current = assessment.status
    assessment.status = to
    assessment.save(update_fields=["status", "updated_at", *fields])
    audit.record(
        audit.Kind.TRANSITION if current != to else audit.Kind.UPDATE,
        actor=actor,
        obj=assessment,
        changes={"status": {"from": current, "to": to}},
        comment=comment,
    )


# --- create and configure -----------------------------------------------------------------------


@transaction.atomic
def assessment_create(*, actor, fiscal_year, kind, title: str = "") -> AnnualAssessment:
    """A new score sheet of the actor's finance bureau with the default items of ``kind``."""
    bureau = finance_bureau_of(actor)
    if bureau is None:
        raise PermissionDenied("只有财政部门可以组织年度考核。")
    if kind not in AssessmentKind.values:
        raise ValidationError({"kind": "考核对象无效。"})
    if not isinstance(fiscal_year, FiscalYear):
        fiscal_year = FiscalYear.objects.filter(pk=fiscal_year).first()
        if fiscal_year is None:
            raise ValidationError({"fiscal_year": "考核年度无效。"})
    assessment = AnnualAssessment(
        organization=bureau,
        region_id=bureau.region_id,
        fiscal_year=fiscal_year,
        kind=kind,
        created_by=actor,
    )
    _require(actor, "annual.manage", assessment, "您无权组织本区域的年度考核。")
    region = bureau.region
    if kind == AssessmentKind.DISTRICTS and not region.is_city:
        raise ValidationError({"kind": "区市财政局考核只能由市财政局组织。"})
    title = (title or "").strip() or f"{fiscal_year.year}年度{region.name}{AssessmentKind(kind).label}"
    assessment.title = title[:200]
    duplicate = f"考核年度：{region.name}{fiscal_year.year}年度的{AssessmentKind(kind).label}已经建立。"
    if AnnualAssessment.objects.filter(region_id=bureau.region_id, fiscal_year=fiscal_year, kind=kind).exists():
        raise ValidationError({"fiscal_year": duplicate})
    assessment.full_clean(
        exclude=["region", "created_by", "compute_job", "published_by"],
        validate_unique=False,
        validate_constraints=False,
    )
    try:
        with transaction.atomic():  # two finance users creating the same sheet at once: one wins
            assessment.save()
    except IntegrityError:
        raise ValidationError({"fiscal_year": duplicate}) from None
    AssessmentItem.objects.bulk_create(
        [
            AssessmentItem(
                assessment=assessment,
                sort_order=n,
                name=row["name"],
                metric=row["metric"],
                max_points=row["max_points"],
                params=dict(row["params"]),
                guidance=row["guidance"],
            )
            for n, row in enumerate(DEFAULT_ITEMS[kind], start=1)
        ]
    )
    audit.record(
        audit.Kind.CREATE,
        actor=actor,
        obj=assessment,
        changes={"status": {"from": None, "to": assessment.status}},
        comment=f"建立{assessment.title}（默认考核项目 {len(DEFAULT_ITEMS[kind])} 项）",
    )
    return assessment


def _decimal(value, field: str, label: str, errors: dict, *, positive: bool = False) -> Decimal | None:
    try:
        number = D(str(value).strip())
        if not number.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError, TypeError):
        errors.setdefault(field, []).append(f"{label}应为数字。")
        return None
    if positive and number <= 0:
        errors.setdefault(field, []).append(f"{label}必须大于0。")
    elif number < 0:
        errors.setdefault(field, []).append(f"{label}不能为负数。")
    return number


def _clean_params(metric: str, params, errors: dict) -> dict:
    if isinstance(params, str) and params.strip():
        try:
            params = json.loads(params)
        except ValueError:
            errors.setdefault("params", []).append('计分参数应为 JSON 格式，例如 {"tolerance": 5}。')
            return {}
    if params in (None, ""):
        params = {}
    if not isinstance(params, dict):
        errors.setdefault("params", []).append("计分参数格式不正确。")
        return {}
    allowed = PARAM_KEYS.get(metric, set())
    unknown = sorted(set(params) - allowed)
    if unknown:
        if allowed:
            names = "、".join(sorted(allowed))
            errors.setdefault("params", []).append(f"计分参数只能包含 {names}，不认识：{'、'.join(unknown)}。")
        else:
            errors.setdefault("params", []).append("该计分方式没有计分参数。")
        return {}
    clean = {}
    labels = {"tolerance": "允许偏差（tolerance）", "deduct_per_point": "每分扣分（deduct_per_point）"}
    for key in sorted(allowed & set(params)):
        number = _decimal(params[key], "params", f"计分参数{labels[key]}", errors)
        if number is not None and number >= 0:
            if number > 100:
                errors.setdefault("params", []).append(f"计分参数{labels[key]}不能大于100。")
            clean[key] = float(number) if number != number.to_integral_value() else int(number)
    return clean


def _check_editable(assessment: AnnualAssessment) -> None:
    if assessment.status not in EDITABLE:
        raise ValidationError(f"考核当前状态为“{assessment.get_status_display()}”，不能修改考核项目。")


def hand_entries(item: AssessmentItem) -> int:
    """How many hand entries (reasoned adjustments, hand scores with 佐证) the item's lines carry."""
    count = AssessmentAdjustment.objects.filter(line__item=item).count()
    return count or AssessmentLine.objects.filter(item=item, adjusted=True).count()


@transaction.atomic
def item_save(*, actor, assessment, data: dict, item=None) -> AssessmentItem:
    """Add or edit an item (name, metric, max_points, params, guidance, sort_order)."""
    assessment = _locked(assessment)
    _require(actor, "annual.manage", assessment, "您无权修改该考核的考核项目。")
    _check_editable(assessment)
    if item is not None:
        item = AssessmentItem.objects.select_for_update().filter(pk=item.pk, assessment=assessment).first()
        if item is None:
            raise ValidationError("该考核项目不属于本考核。")
    errors: dict[str, list[str]] = {}
    name = (data.get("name") or "").strip()
    if not name:
        errors.setdefault("name", []).append("请填写考核项目名称。")
    elif len(name) > 100:
        errors.setdefault("name", []).append("考核项目名称不能超过100个字。")
    metric = data.get("metric") or ""
    if metric not in Metric.values:
        errors.setdefault("metric", []).append("请选择有效的计分方式。")
    max_points = None
    if data.get("max_points") in (None, ""):
        errors.setdefault("max_points", []).append("请填写分值。")
    else:
        max_points = _decimal(data.get("max_points"), "max_points", "分值", errors, positive=True)
        if max_points is not None and max_points > MAX_POINTS:
            errors.setdefault("max_points", []).append("分值不能大于1000。")
        if max_points is not None and max_points.as_tuple().exponent < -2:
            errors.setdefault("max_points", []).append("分值最多保留两位小数。")
    params = _clean_params(metric, data.get("params"), errors) if metric in Metric.values else {}
    guidance = (data.get("guidance") or "").strip()
    sort_order = data.get("sort_order")
    if sort_order in (None, ""):
        sort_order = (
            item.sort_order if item is not None else (assessment.items.aggregate(m=Max("sort_order"))["m"] or 0) + 1
        )
    else:
        try:
            sort_order = int(sort_order)
            if not 0 <= sort_order <= 32767:
                raise ValueError
        except (TypeError, ValueError):
            errors.setdefault("sort_order", []).append("序号应为0至32767之间的整数。")
    if errors:
        raise ValidationError(errors)
    rescaled = item is not None and (metric != item.metric or max_points != item.max_points)
    if item is not None and not rescaled:
        max_points = item.max_points  # "10" for 10.00 is no change
    if rescaled:
        # The lines of the old formula or scale would have to go — never with finance's entries on them.
        entries = hand_entries(item)
        if entries:
            field = "max_points" if max_points != item.max_points else "metric"
            raise ValidationError(
                {field: f"考核项目“{item.name}”已有 {entries} 条人工调整/评分记录，不能修改分值或计分方式。"}
            )
    fields = {
        "name": name,
        "metric": metric,
        "max_points": max_points,
        "params": params,
        "guidance": guidance,
        "sort_order": sort_order,
    }
    if item is None:
        item = AssessmentItem(assessment=assessment, **fields)
        item.full_clean()
        item.save()
        audit.record(
            audit.Kind.CREATE,
            actor=actor,
            obj=assessment,
            changes={"items": {"from": None, "to": f"{name}（{item.get_metric_display()}，{max_points}分）"}},
            comment=f"新增考核项目“{name}”",
        )
    else:
        before = audit.snapshot(item, list(fields))
        for key, value in fields.items():
            setattr(item, key, value)
        item.full_clean()
        changes = audit.diff(before, audit.snapshot(item, list(fields)))
        if not changes:
            return item
        item.save(update_fields=list(fields))
        comment = f"修改考核项目“{name}”"
        if rescaled:
            # The scores of the old formula or scale no longer apply: the item's lines (none adjusted, see
            # above) go, and the next computation writes them afresh.
            removed, _ = AssessmentLine.objects.filter(item=item).delete()
            if removed:
                comment += "；该项原有计算得分已清除，需重新计算"
        audit.record(audit.Kind.UPDATE, actor=actor, obj=assessment, changes=changes, comment=comment)
    if assessment.status == Status.REVIEW:
        _transition(actor, assessment, Status.DRAFT, "考核项目已修改，需重新计算")
    return item


@transaction.atomic
def item_delete(*, actor, assessment, item) -> None:
    assessment = _locked(assessment)
    _require(actor, "annual.manage", assessment, "您无权修改该考核的考核项目。")
    _check_editable(assessment)
    item = AssessmentItem.objects.select_for_update().filter(pk=item.pk, assessment=assessment).first()
    if item is None:
        raise ValidationError("该考核项目不属于本考核。")
    entries = hand_entries(item)
    if entries:
        raise ValidationError(f"考核项目“{item.name}”已有 {entries} 条人工调整/评分记录，不能删除。")
    name = item.name
    item.delete()
    audit.record(
        audit.Kind.UPDATE,
        actor=actor,
        obj=assessment,
        changes={"items": {"from": name, "to": None}},
        comment=f"删除考核项目“{name}”",
    )
    if assessment.status == Status.REVIEW:
        _transition(actor, assessment, Status.DRAFT, "考核项目已删除，需重新计算")


# --- compute ------------------------------------------------------------------------------------


@transaction.atomic
def assessment_compute_start(*, actor, assessment):
    """计算初稿 in the background: status → 计算中, and a job (``BackgroundJob``) the page follows."""
    from .tasks import compute_assessment_task

    assessment = (
        AnnualAssessment.objects.select_for_update(of=("self",)).select_related("compute_job").get(pk=assessment.pk)
    )
    _require(actor, "annual.manage", assessment, "您无权计算该考核。")
    from_status = assessment.status
    if assessment.status == Status.COMPUTING:
        if not _stalled(assessment.compute_job):
            raise ValidationError("该考核正在计算中，请等待计算完成后再操作。")
        from_status = (assessment.compute_job.params if assessment.compute_job else {}).get("from_status", Status.DRAFT)
    if assessment.status == Status.PUBLISHED:
        raise ValidationError("该考核已通报，不能重新计算。")
    if not assessment.items.exists():
        raise ValidationError("该考核还没有考核项目，请先添加考核项目。")
    job = job_start(
        actor=actor,
        kind=COMPUTE_KIND,
        label=f"计算考核初稿：{assessment.title}",
        params={"assessment_id": assessment.pk, "from_status": from_status},
        task=compute_assessment_task,
        back_url=detail_url(assessment),
    )
    assessment.compute_job = job
    _transition(actor, assessment, Status.COMPUTING, "开始计算考核初稿", fields=["compute_job"])
    return job


STALLED_AFTER = timedelta(minutes=30)  # a computation takes seconds; a job this old has been lost


def _stalled(job) -> bool:
    """ "计算中" with no live job behind it (a worker lost it): finance may start it again."""
    return job is None or job.finished or job.created_at < timezone.now() - STALLED_AFTER


def assessment_compute(assessment_id: int, progress=None, *, today=None) -> str:
    """Measure every item for every assessed body and write the lines (the job's work).

    On an error nothing of the computation is kept and the assessment returns to the status it had
    before "计算中"; the error goes up to ``job_run``, which fails the job with its message.
    ``today`` (default: the local date) decides which records are already owed (tests pass it)."""
    assessment = AnnualAssessment.objects.select_related("compute_job__created_by", "created_by", "region").get(
        pk=assessment_id
    )
    job = assessment.compute_job
    from_status = (job.params.get("from_status") if job else None) or Status.DRAFT
    actor = job.created_by if job is not None and job.created_by_id else assessment.created_by
    try:
        with transaction.atomic():
            message = _compute(assessment_id, actor, progress, today)
    except Exception:
        with transaction.atomic():
            locked = _locked(assessment)
            if locked.status == Status.COMPUTING:
                _transition(actor, locked, from_status, "考核初稿计算失败，已恢复原状态")
        raise
    return message


def _compute(assessment_id: int, actor, progress, today) -> str:
    assessment = AnnualAssessment.objects.select_for_update().get(pk=assessment_id)
    if assessment.status == Status.PUBLISHED:
        raise ValidationError("该考核已通报，不能重新计算。")
    items = list(assessment.items.order_by("sort_order", "pk"))
    if not items:
        raise ValidationError("该考核还没有考核项目，请先添加考核项目。")
    computed = [i for i in items if i.metric != Metric.MANUAL]
    steps = len({i.metric for i in computed}) + 2
    report = progress or (lambda done, total: None)
    report(0, steps)

    bodies = metrics.assessed_bodies(assessment, today)
    body_rows = _sync_bodies(assessment, bodies)
    report(1, steps)

    tallies: dict[str, dict] = {}
    for n, metric in enumerate(sorted({i.metric for i in computed}), start=2):
        tallies[metric] = metrics.measure_all(metric, bodies, assessment.organization_id)
        report(n, steps)

    existing = {
        (line.body_id, line.item_id): line
        for line in AssessmentLine.objects.filter(body__assessment=assessment)
        .order_by()
        .only("pk", "body_id", "item_id", "points", "adjusted")
    }
    new_lines, changed = [], []
    for body in body_rows:
        for item in items:
            line = existing.get((body.pk, item.pk))
            fresh = line is None
            if fresh:
                line = AssessmentLine(body=body, item=item, points=D("0"))
            if item.metric == Metric.MANUAL:
                line.value, line.computed_points = None, None
                line.basis = {"summary": "人工评分项，按财政部门录入的得分及佐证计分。"}
                if not line.adjusted:  # never scored by hand
                    line.points = D("0")
            else:
                found = metrics.measure(
                    item.metric, tallies[item.metric].get(body.organization_id), item.max_points, item.params
                )
                line.value, line.computed_points, line.basis = found.value, found.points, found.basis
                if not line.adjusted:
                    line.points = found.points
            (new_lines if fresh else changed).append(line)
    AssessmentLine.objects.bulk_create(new_lines, batch_size=BATCH)
    AssessmentLine.objects.bulk_update(changed, ["value", "computed_points", "basis", "points"], batch_size=BATCH)
    assessment_totals(assessment, max_total=sum((i.max_points for i in items), D("0")))
    report(steps, steps)

    assessment.computed_at = timezone.now()
    _transition(
        actor,
        assessment,
        Status.REVIEW,
        f"考核初稿计算完成：被考核单位 {len(body_rows)} 个，考核项目 {len(items)} 项",
        fields=["computed_at"],
    )
    return f"考核初稿已计算：被考核单位 {len(body_rows)} 个，考核项目 {len(items)} 项，请审定后通报。"


def _sync_bodies(assessment: AnnualAssessment, bodies: metrics.Bodies) -> list[AssessedBody]:
    """One ``AssessedBody`` per assessed organisation: new ones created, ones no longer assessed
    (a department deactivated since) removed; returns them in organisation order.

    A body with a line finance adjusted or scored by hand is never removed: its adjustments are
    protected history. ``metrics.assessed_bodies`` keeps such an organisation among the assessed (so it
    is measured and ranked as before); should one still drop out (e.g. moved to another region), it
    stays on the sheet with its lines as last computed, in the totals and the ranking."""
    wanted = {org.pk: org for org in bodies.orgs}
    adjusted = AssessmentLine.objects.filter(body=OuterRef("pk"), adjusted=True)
    current = {
        b.organization_id: b
        for b in AssessedBody.objects.filter(assessment=assessment).annotate(kept=Exists(adjusted)).order_by()
    }
    gone = [b.pk for org_id, b in current.items() if org_id not in wanted and not b.kept]
    if gone:
        AssessedBody.objects.filter(pk__in=gone).delete()
    new = [
        AssessedBody(assessment=assessment, organization=org, region_id=org.region_id)
        for org_id, org in wanted.items()
        if org_id not in current
    ]
    if new:
        AssessedBody.objects.bulk_create(new, batch_size=BATCH)
        current = {b.organization_id: b for b in AssessedBody.objects.filter(assessment=assessment)}
    return [current[org.pk] for org in bodies.orgs]


def percent_score(total: Decimal, max_total: Decimal | None) -> Decimal:
    """The total on a 100-point scale (two decimals, half up): what the grade is given on."""
    if not max_total:
        return metrics.q2(total)
    return metrics.q2(total * metrics.HUNDRED / max_total)


def assessment_totals(assessment, max_total: Decimal | None = None) -> None:
    """Totals (sum of the lines' points), provisional ranks (ties share a rank) and grades, set-based.

    The grade is given on ``percent_score`` (total × 100 / the sum of the items' 分值; ``max_total``
    when the caller already has it)."""
    if max_total is None:
        max_total = AssessmentItem.objects.filter(assessment=assessment).aggregate(s=Sum("max_points"))["s"]
    bodies = list(
        AssessedBody.objects.filter(assessment=assessment)
        .annotate(sum_points=Sum("lines__points"))
        .select_related("organization")
        .order_by("organization__region__sort_order", "organization__sort_order", "organization__code")
    )
    for body in bodies:
        body.total = (body.sum_points or D("0")).quantize(D("0.01"))
        body.grade = grade_of(percent_score(body.total, max_total))
    for body, rank in competition_ranks(bodies, lambda b: b.total):
        body.rank = rank
    AssessedBody.objects.bulk_update(bodies, ["total", "rank", "grade"], batch_size=BATCH)
