"""信息公开: publish an approved target, a confirmed self-evaluation or a completed key evaluation as a
frozen snapshot; batch publish; withdraw with a reason.

Only finance of the record's region (``disclosure.publish``) may publish or withdraw. A record from a
涉密 fund is refused here, and ``Disclosure.objects.public()`` hides it as well should the fund be
flagged later. The snapshot holds what the public reads and nothing else (no user ids): changes to
the record after publication never leak out; to show them, withdraw and publish again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model, Prefetch, Q
from django.utils import timezone

from apps.attachments.models import Attachment
from apps.core import audit, permissions
from apps.core.models import AuditEvent
from apps.core.workflow import Transition, Workflow
from apps.evaluations.models import Dimension, Grade, KeyEvaluation, SelfEvaluation, SelfEvaluationLine
from apps.targets.models import PerformanceTarget, TargetIndicator, TargetStatus

from .models import Disclosure

PUBLISH = "disclosure.publish"
Kind = Disclosure.Kind
DS = Disclosure.Status

# kind → (model, Disclosure FK name, state required, label of that state)
RECORDS: dict[str, tuple[type[Model], str, str, str]] = {
    Kind.TARGET: (PerformanceTarget, "target", TargetStatus.APPROVED, "已批复"),
    Kind.SELF_EVALUATION: (SelfEvaluation, "self_evaluation", SelfEvaluation.Status.CONFIRMED, "财政已审核"),
    Kind.KEY_EVALUATION: (KeyEvaluation, "key_evaluation", KeyEvaluation.Status.COMPLETED, "已完成"),
}

WITHDRAW_FLOW = Workflow(
    [Transition("withdraw", frozenset({DS.PUBLISHED}), DS.WITHDRAWN, PUBLISH, "撤回公开")],
)


def kind_of(record: Model) -> str:
    for kind, (model, *_rest) in RECORDS.items():
        if isinstance(record, model):
            return kind
    raise ValueError(f"{type(record).__name__} cannot be disclosed")


def record_queryset(kind: str):
    """The records of ``kind`` with what a snapshot reads (a constant number of queries per batch)."""
    if kind == Kind.TARGET:
        return PerformanceTarget.objects.select_related(
            "fund__department", "fund__organization", "organization__region", "fiscal_year"
        ).prefetch_related(
            Prefetch("indicators", queryset=TargetIndicator.objects.order_by("sort_order", "pk")), "tasks"
        )
    if kind == Kind.SELF_EVALUATION:
        return SelfEvaluation.objects.select_related(
            "fund__department__region", "fund__organization", "round__fiscal_year"
        ).prefetch_related(
            Prefetch(
                "lines",
                queryset=SelfEvaluationLine.objects.select_related("indicator").order_by(
                    "indicator__sort_order", "indicator_id"
                ),
            )
        )
    if kind == Kind.KEY_EVALUATION:
        return KeyEvaluation.objects.select_related(
            "fund", "department__region", "plan__organization", "plan__fiscal_year", "agency"
        ).prefetch_related("lines")
    raise ValidationError({"kind": "公开类型不正确。"})


# --- snapshots ---------------------------------------------------------------------------------


def _s(value) -> str | None:
    """Decimals as plain strings without trailing zeros (JSON-safe, exact)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def _money(value) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def _date(value) -> str | None:
    """A datetime as its local date (ISO), for the snapshot."""
    return None if value is None else timezone.localtime(value).date().isoformat()


def _indicator(row: TargetIndicator) -> dict:
    return {
        "level1": row.get_level1_display(),
        "level2": row.get_level2_display(),
        "name": row.name,
        "comparison": row.get_comparison_display(),
        "value": row.value,
        "unit": row.unit,
        "value_display": row.value_display,
        "weight": _s(row.weight),
    }


def _fund_part(fund) -> dict:
    if fund is None:
        return {}
    return {
        "fund_code": fund.code,
        "fund_name": fund.name,
        "unit": fund.organization.name,
        "budget_type": fund.get_budget_type_display(),
        "period": f"{fund.period_start}—{fund.period_end}年",
        "fiscal_amount": _money(fund.fiscal_amount),
        "other_amount": _money(fund.other_amount),
        "total_amount": _money(fund.total_amount),
    }


def target_snapshot(target: PerformanceTarget) -> dict:
    content = {
        "kind": Kind.TARGET,
        "subject": target.get_kind_display(),
        "department": _department_of(Kind.TARGET, target).name,
        "fiscal_year": target.fiscal_year_id,
        "version": target.version,
        "approved_on": _date(target.approved_at),
        "long_term_goal": target.long_term_goal,
        "annual_goal": target.annual_goal,
        **_fund_part(target.fund),
        "indicators": [_indicator(row) for row in target.indicators.all()],
    }
    if target.fund_id is None:
        tasks = list(target.tasks.all())
        content["tasks"] = [{"name": t.name, "amount": _money(t.amount), "description": t.description} for t in tasks]
        content["total_amount"] = _money(sum((t.amount for t in tasks), Decimal("0")))
    return content


def self_evaluation_snapshot(evaluation: SelfEvaluation) -> dict:
    budget, executed = evaluation.budget_amount, evaluation.executed_amount
    rate = None
    if executed is not None and budget:
        rate = _s((executed / budget * 100).quantize(Decimal("0.01")))
    lines = []
    for line in evaluation.lines.all():
        indicator = line.indicator
        actual = line.actual_text if not indicator.is_quantitative else _s(line.actual_value)
        lines.append(
            {
                **_indicator(indicator),
                "actual": actual or "",
                "band": line.get_band_display() if line.band else "",
                "points": _s(line.points.quantize(Decimal("0.01"))) if line.points is not None else None,
                "shortfall_reason": line.shortfall_reason,
                "improvement_measure": line.improvement_measure,
            }
        )
    return {
        "kind": Kind.SELF_EVALUATION,
        "department": evaluation.fund.department.name,
        "fiscal_year": evaluation.round.fiscal_year_id,
        **_fund_part(evaluation.fund),
        "budget_amount": _money(budget),
        "executed_amount": _money(executed),
        "execution_rate": rate,
        "execution_reason": evaluation.execution_reason,
        "execution_measure": evaluation.execution_measure,
        "summary": evaluation.summary,
        "score": _s(evaluation.final_score),
        "grade": evaluation.final_grade_display,
        "adjusted": evaluation.adjusted_score is not None,
        "lines": lines,
    }


def key_evaluation_snapshot(evaluation: KeyEvaluation, report: Attachment) -> dict:
    lines = sorted(evaluation.lines.all(), key=lambda line: (line.sort_order, line.pk))
    dimensions = []
    for value, label in Dimension.choices:
        mine = [line for line in lines if line.dimension == value]
        points = [line.points for line in mine if line.points is not None]
        dimensions.append(
            {
                "label": label,
                "weight": _s(getattr(evaluation, f"weight_{value}")),
                "points": _s(sum(points, Decimal("0"))) if points else None,
                "lines": [
                    {"name": line.name, "max_points": _s(line.max_points), "points": _s(line.points)} for line in mine
                ],
            }
        )
    return {
        "kind": Kind.KEY_EVALUATION,
        "subject": evaluation.get_subject_display(),
        "evaluation_kind": evaluation.plan.get_kind_display()
        if evaluation.fund_id
        else KeyEvaluation.Subject.DEPARTMENT.label,
        "evaluator": evaluation.plan.organization.name,
        "agency": evaluation.agency.name if evaluation.agency_id else "",
        "department": evaluation.department.name,
        "fiscal_year": evaluation.plan.fiscal_year_id,
        "fund_code": evaluation.fund.code if evaluation.fund_id else "",
        "fund_name": evaluation.fund.name if evaluation.fund_id else "",
        "total_amount": _money(evaluation.fund.total_amount) if evaluation.fund_id else None,
        "completed_on": _date(evaluation.completed_at),
        "score": _s(evaluation.score),
        "grade": evaluation.get_grade_display(),
        "dimensions": dimensions,
        "findings": evaluation.findings,
        "recommendations": evaluation.recommendations,
        "report_name": report.original_name,
        "report_size": report.size,
    }


# --- reading a record --------------------------------------------------------------------------


def _department_of(kind: str, record):
    if kind == Kind.TARGET:
        return record.fund.department if record.fund_id else record.organization
    if kind == Kind.SELF_EVALUATION:
        return record.fund.department
    return record.department


def _fund_of(kind: str, record):
    return record.fund if record.fund_id else None


def _year_of(kind: str, record) -> int:
    if kind == Kind.TARGET:
        return record.fiscal_year_id
    if kind == Kind.SELF_EVALUATION:
        return record.round.fiscal_year_id
    return record.plan.fiscal_year_id


def title_of(kind: str, record) -> str:
    year = _year_of(kind, record)
    if kind == Kind.TARGET:
        subject = record.fund.name if record.fund_id else f"{record.organization.name}部门整体"
        return f"{year}年度{subject}绩效目标"
    if kind == Kind.SELF_EVALUATION:
        return f"{year}年度{record.fund.name}绩效自评结果"
    if record.fund_id:
        return f"{year}年度{record.fund.name}{record.plan.get_kind_display()}报告"
    return f"{year}年度{record.department.name}部门整体绩效评价报告"


def problems(kind: str, record, *, published_ids: Iterable[int] | None = None) -> list[str]:
    """Why ``record`` cannot be published now (empty: it can). ``published_ids``: the ids of records
    of this kind already published, when the caller has loaded them (batch, lists)."""
    model, fk, state, state_label = RECORDS[kind]
    found = []
    if record.status != state:
        found.append(
            f"该记录当前状态为“{record.get_status_display()}”，只有“{state_label}”的{Kind(kind).label}才能公开。"
        )
    fund = _fund_of(kind, record)
    if fund is not None and fund.is_classified:
        found.append("该项目为涉密项目，不得公开。")
    if published_ids is None:
        already = Disclosure.objects.filter(**{fk: record}, status=DS.PUBLISHED).exists()
    else:
        already = record.pk in published_ids
    if already:
        found.append("该记录已经公开，不能重复公开；如需更新公开内容，请先撤回再重新公开。")
    return found


def _choose_report(record: KeyEvaluation, report) -> Attachment:
    if report in (None, ""):
        raise ValidationError({"report": "请选择要公开的评价报告文件（重点评价的附件）。"})
    report_id = report.pk if isinstance(report, Attachment) else report
    chosen = Attachment.objects.for_object(record).filter(pk=report_id).first() if str(report_id).isdecimal() else None
    if chosen is None:
        raise ValidationError({"report": "所选评价报告文件不是该重点评价的附件。"})
    return chosen


def _build(kind: str, record, *, actor, report: Attachment | None) -> Disclosure:
    department = _department_of(kind, record)
    fund = _fund_of(kind, record)
    if kind == Kind.TARGET:
        content = target_snapshot(record)
        amount, score, grade = Decimal(content["total_amount"]) if content.get("total_amount") else None, None, ""
    elif kind == Kind.SELF_EVALUATION:
        content = self_evaluation_snapshot(record)
        amount, score, grade = record.budget_amount, record.final_score, record.final_grade
    else:
        content = key_evaluation_snapshot(record, report)
        amount = fund.total_amount if fund is not None else None
        score, grade = record.score, record.grade
    return Disclosure(
        kind=kind,
        **{RECORDS[kind][1]: record},
        fund=fund,
        department=department,
        region_id=department.region_id,
        fiscal_year_id=_year_of(kind, record),
        title=title_of(kind, record)[:250],
        amount=amount,
        score=score,
        grade=grade or "",
        content=content,
        report=report,
        status=DS.PUBLISHED,
        published_by=actor,
        published_at=timezone.now(),
    )


def _record_event(disclosure: Disclosure, actor, comment: str) -> None:
    audit.record(
        AuditEvent.Kind.CREATE,
        actor=actor,
        obj=disclosure,
        changes={"status": {"from": None, "to": DS.PUBLISHED.label}},
        comment=comment,
    )


# --- writes ------------------------------------------------------------------------------------


def disclosure_publish(*, actor, kind: str, record: Model, report: Attachment | int | None = None) -> Disclosure:
    """Publish one record (its kind's required state; not 涉密; not already published); audited."""
    if kind not in RECORDS:
        raise ValidationError({"kind": "公开类型不正确。"})
    model, fk, *_ = RECORDS[kind]
    if not isinstance(record, model):
        raise ValidationError({"kind": "公开类型与记录不一致。"})
    if not permissions.can(actor, PUBLISH, record):
        raise PermissionDenied("只有本区域财政部门可以公开绩效信息。")
    with transaction.atomic():
        locked = record_queryset(kind).select_for_update(of=("self",)).get(pk=record.pk)
        found = problems(kind, locked)
        if found:
            raise ValidationError(found)
        chosen = _choose_report(locked, report) if kind == Kind.KEY_EVALUATION else None
        disclosure = _build(kind, locked, actor=actor, report=chosen)
        disclosure.full_clean(exclude=["content"], validate_constraints=False)
        try:
            with transaction.atomic():
                disclosure.save()
        except IntegrityError:
            raise ValidationError("该记录已经公开，不能重复公开。") from None
        _record_event(disclosure, actor, f"公开{Kind(kind).label}“{disclosure.title}”")
    return disclosure


@dataclass
class BatchResult:
    published: int = 0
    skipped_classified: int = 0
    skipped_published: int = 0


def eligible_records(actor, kind: str, *, fiscal_year: int | None = None, department=None):
    """Records of ``kind`` in the required state that ``actor`` may publish (涉密 and published included:
    callers count or exclude them)."""
    model, fk, state, _label = RECORDS[kind]
    queryset = permissions.restrict(record_queryset(kind), actor, PUBLISH).filter(status=state)
    if kind == Kind.TARGET:
        if fiscal_year:
            queryset = queryset.filter(fiscal_year_id=fiscal_year)
        if department is not None:
            queryset = queryset.filter(Q(fund__department=department) | Q(fund__isnull=True, organization=department))
    elif kind == Kind.SELF_EVALUATION:
        if fiscal_year:
            queryset = queryset.filter(round__fiscal_year_id=fiscal_year)
        if department is not None:
            queryset = queryset.filter(fund__department=department)
    else:
        if fiscal_year:
            queryset = queryset.filter(plan__fiscal_year_id=fiscal_year)
        if department is not None:
            queryset = queryset.filter(department=department)
    return queryset


def published_ids(kind: str, ids: Iterable[int] | None = None) -> set[int]:
    fk = RECORDS[kind][1]
    queryset = Disclosure.objects.filter(status=DS.PUBLISHED, **{f"{fk}__isnull": False})
    if ids is not None:
        queryset = queryset.filter(**{f"{fk}__in": list(ids)})
    return set(queryset.values_list(f"{fk}_id", flat=True))


def disclosure_publish_batch(*, actor, kind: str, fiscal_year: int, department=None) -> BatchResult:
    """Publish every eligible target or self-evaluation of a year (and department) at once, skipping
    涉密 funds and records already published (counted). One transaction: all or nothing. Key
    evaluations need a chosen report file each and are published one by one."""
    if kind not in (Kind.TARGET, Kind.SELF_EVALUATION):
        raise ValidationError({"kind": "重点评价报告须逐项选择报告文件后公开，不能批量公开。"})
    if not permissions.has_action(actor, PUBLISH):
        raise PermissionDenied("只有本区域财政部门可以公开绩效信息。")
    if not fiscal_year:
        raise ValidationError({"fiscal_year": "请选择年度。"})
    result = BatchResult()
    with transaction.atomic():
        records = list(
            eligible_records(actor, kind, fiscal_year=fiscal_year, department=department).select_for_update(
                of=("self",)
            )
        )
        done = published_ids(kind, [r.pk for r in records])
        rows = []
        for record in records:
            fund = _fund_of(kind, record)
            if fund is not None and fund.is_classified:
                result.skipped_classified += 1
            elif record.pk in done:
                result.skipped_published += 1
            else:
                rows.append(_build(kind, record, actor=actor, report=None))
        try:
            with transaction.atomic():
                created = Disclosure.objects.bulk_create(rows, batch_size=500)
        except IntegrityError:
            raise ValidationError("部分记录刚刚已被他人公开，请刷新后重试。") from None
        if created and created[0].pk is None:  # backends without RETURNING: read the ids back
            created = list(Disclosure.objects.filter(**{f"{RECORDS[kind][1]}__in": [r.pk for r in records]}))
        for disclosure in created:
            _record_event(disclosure, actor, f"批量公开{Kind(kind).label}“{disclosure.title}”")
        result.published = len(created)
    return result


def disclosure_withdraw(*, actor, disclosure: Disclosure, reason: str) -> Disclosure:
    """Withdraw a published disclosure with a reason (who/when/why kept); audited. It leaves the
    public pages, the public JSON and the report download at once; the record may be published again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"withdraw_reason": "请填写撤回理由。"})
    now = timezone.now()
    return WITHDRAW_FLOW.apply(
        disclosure,
        name="withdraw",
        actor=actor,
        comment=reason,
        fields={"withdrawn_by": actor, "withdrawn_at": now, "withdraw_reason": reason},
    )


def record_for(kind: str, pk, *, user, action: str = PUBLISH):
    """The record of ``kind`` with ``pk`` within ``user``'s scope for ``action`` (None: not found)."""
    if kind not in RECORDS or not str(pk).isdecimal():
        return None
    return permissions.restrict(record_queryset(kind), user, action).filter(pk=pk).first()


GRADE_LABELS = dict(Grade.choices)
