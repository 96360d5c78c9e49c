"""Writes on performance targets: start, save a draft, the review workflow, adjustment, batch approval."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core import audit, permissions
from apps.core.templatetags.qd import cn_date
from apps.core.workflow import Transition, Workflow
from apps.orgs.models import FiscalYear, Organization

from . import quality, selectors
from .models import EDITABLE_STATUSES, DepartmentTask, PerformanceTarget, TargetIndicator
from .models import TargetStatus as S
from .rows import CleanRow, RowError, clean_rows, parse_decimal

HEADER_FIELDS = ["long_term_goal", "annual_goal"]
ROW_FIELDS = ["level1", "level2", "name", "comparison", "target_value", "target_text", "unit", "weight"]


def _not_blocked(target: PerformanceTarget, actor) -> None:
    """Guard for sending a target on: rows present, no blocking quality issue."""
    rows = list(target.indicators.all())
    issues = quality.blocking(quality.check(rows=rows, annual_goal=target.annual_goal, kind=target.kind))
    if issues:
        raise ValidationError("；".join(i.message for i in issues))


TARGET_FLOW = Workflow(
    [
        Transition("send", frozenset({S.DRAFT, S.RETURNED}), S.DEPT_REVIEW, "target.send", "提交部门审核",
                   _not_blocked),
        Transition("submit", frozenset({S.DRAFT, S.RETURNED, S.DEPT_REVIEW}), S.SECTOR_REVIEW, "target.submit",
                   "部门审核通过并报送财政", _not_blocked),
        Transition("dept_return", frozenset({S.DEPT_REVIEW}), S.RETURNED, "target.submit", "部门退回",
                   comment_required=True),
        Transition("sector_pass", frozenset({S.SECTOR_REVIEW}), S.PERF_REVIEW, "target.sector_review",
                   "处室审核通过"),
        Transition("sector_return", frozenset({S.SECTOR_REVIEW}), S.RETURNED, "target.sector_review", "处室退回",
                   comment_required=True),
        Transition("approve", frozenset({S.PERF_REVIEW}), S.APPROVED, "target.approve", "批复"),
        Transition("perf_return", frozenset({S.PERF_REVIEW}), S.RETURNED, "target.approve", "绩效处退回",
                   comment_required=True),
    ]
)  # fmt: skip

RETURN_BY_STATUS = {S.DEPT_REVIEW: "dept_return", S.SECTOR_REVIEW: "sector_return", S.PERF_REVIEW: "perf_return"}


class RowsInvalid(ValidationError):
    """Bad indicator rows; ``row_errors`` names each row and column."""

    def __init__(self, row_errors: list[RowError]):
        self.row_errors = row_errors
        super().__init__([str(e) for e in row_errors])


# --- starting a target ---------------------------------------------------------------------


def _copy_rows(source: PerformanceTarget, target: PerformanceTarget, *, keep_comments: bool = False) -> None:
    TargetIndicator.objects.bulk_create(
        [
            TargetIndicator(
                target=target,
                sort_order=row.sort_order,
                library_indicator_id=row.library_indicator_id,
                review_comment=row.review_comment if keep_comments else "",
                **{f: getattr(row, f) for f in ROW_FIELDS},
            )
            for row in source.indicators.all()
        ]
    )
    DepartmentTask.objects.bulk_create(
        [
            DepartmentTask(
                target=target, sort_order=t.sort_order, name=t.name, amount=t.amount, description=t.description
            )
            for t in source.tasks.all()
        ]
    )


@transaction.atomic
def target_start(*, actor, fund) -> PerformanceTarget:
    """Open the 绩效目标申报表 of a fund (version 1). Last year's approved rows are copied in as a start."""
    from apps.funds.models import SpecialFund

    fund = SpecialFund.objects.select_for_update().get(pk=fund.pk)
    if not permissions.can(actor, "target.edit", fund):
        raise PermissionDenied("您无权为该专项资金填报绩效目标。")
    if PerformanceTarget.objects.filter(fund=fund).exists():
        raise ValidationError("该专项资金已有绩效目标，请在原目标上修改或调整。")
    target = PerformanceTarget.objects.create(
        kind=PerformanceTarget.Kind.FUND,
        fund=fund,
        organization=fund.organization,
        fiscal_year=fund.fiscal_year,
        created_by=actor,
        status_changed_at=timezone.now(),
    )
    if fund.previous_id:
        previous = (
            PerformanceTarget.objects.filter(fund_id=fund.previous_id, status__in=[S.APPROVED, S.SUPERSEDED])
            .order_by("-version")
            .first()
        )
        if previous is not None:
            target.long_term_goal = previous.long_term_goal
            target.save(update_fields=["long_term_goal"])
            _copy_rows(previous, target)
    audit.record(audit.Kind.CREATE, actor=actor, obj=target, comment="开始填报绩效目标")
    return target


@transaction.atomic
def department_target_start(*, actor, department: Organization, fiscal_year: FiscalYear) -> PerformanceTarget:
    """Open the 部门整体绩效目标 of a department for a year."""
    if department.kind != Organization.Kind.DEPARTMENT:
        raise ValidationError("部门整体绩效目标只能由预算部门填报。")
    if not permissions.can(actor, "target.edit", department):
        raise PermissionDenied("您无权为该部门填报部门整体绩效目标。")
    Organization.objects.select_for_update().get(pk=department.pk)  # two clicks: the second waits, then sees it
    if PerformanceTarget.objects.filter(
        kind=PerformanceTarget.Kind.DEPARTMENT, organization=department, fiscal_year=fiscal_year
    ).exists():
        raise ValidationError(f"{department.name}{fiscal_year}的部门整体绩效目标已存在。")
    target = PerformanceTarget.objects.create(
        kind=PerformanceTarget.Kind.DEPARTMENT,
        organization=department,
        fiscal_year=fiscal_year,
        created_by=actor,
        status_changed_at=timezone.now(),
    )
    audit.record(audit.Kind.CREATE, actor=actor, obj=target, comment="开始填报部门整体绩效目标")
    return target


# --- saving a draft ------------------------------------------------------------------------


def _lock_editable(actor, target: PerformanceTarget) -> PerformanceTarget:
    target = PerformanceTarget.objects.select_for_update(of=("self",)).select_related("fund").get(pk=target.pk)
    if not permissions.can(actor, "target.edit", target):
        raise PermissionDenied("您无权修改该绩效目标。")
    if target.status not in EDITABLE_STATUSES:
        raise ValidationError(
            f"绩效目标当前状态为“{target.get_status_display()}”，不能修改。"
            + ("已批复的目标请使用“调整”生成新版本。" if target.status == S.APPROVED else "")
        )
    return target


def _summary(rows: Iterable[TargetIndicator]) -> list[str]:
    """Rows as short readable lines for the audit trail: "学生资助人数 ≥1200人（10.00分）"."""
    return [f"{r.name} {r.value_display}（{r.weight}分）" for r in rows]


@transaction.atomic
def target_save(
    *,
    actor,
    target: PerformanceTarget,
    long_term_goal: str,
    annual_goal: str,
    rows: list[dict] | list[CleanRow],
    tasks: list[dict] | None = None,
) -> PerformanceTarget:
    """Save the header and the whole list of indicator rows (in order). All or nothing."""
    target = _lock_editable(actor, target)
    if rows and isinstance(rows[0], dict):
        rows, errors = clean_rows(rows)
        if errors:
            raise RowsInvalid(errors)
    existing = {row.pk: row for row in target.indicators.all()}
    unknown = [r.id for r in rows if r.id and r.id not in existing]
    if unknown:
        raise ValidationError("指标行已被他人修改或删除，请刷新页面后重新编辑。")
    _check_library_links(rows, existing)
    before = audit.snapshot(target, HEADER_FIELDS)
    before_rows = _summary(existing.values())
    target.long_term_goal, target.annual_goal = long_term_goal.strip(), annual_goal.strip()
    target.full_clean()
    target.save(update_fields=[*HEADER_FIELDS, "updated_at"])
    kept = {r.id for r in rows if r.id}
    TargetIndicator.objects.filter(target=target).exclude(pk__in=kept).delete()
    to_update, to_create = [], []
    for position, row in enumerate(rows):
        values = {f: getattr(row, f) for f in ROW_FIELDS}
        if row.id:
            obj = existing[row.id]
            for f, v in values.items():
                setattr(obj, f, v)
            obj.sort_order, obj.library_indicator_id = position, row.library_indicator_id
            to_update.append(obj)
        else:
            to_create.append(
                TargetIndicator(
                    target=target, sort_order=position, library_indicator_id=row.library_indicator_id, **values
                )
            )
    TargetIndicator.objects.bulk_update(to_update, [*ROW_FIELDS, "sort_order", "library_indicator"])
    TargetIndicator.objects.bulk_create(to_create)
    if tasks is not None:
        _save_tasks(target, tasks)
    changes = audit.diff(before, audit.snapshot(target, HEADER_FIELDS))
    after_rows = _summary(target.indicators.all())
    if before_rows != after_rows:
        changes["indicators"] = {"from": before_rows, "to": after_rows}
    if changes:
        audit.record(audit.Kind.UPDATE, actor=actor, obj=target, changes=changes)
    return target


def _check_library_links(rows: list[CleanRow], existing: dict[int, TargetIndicator]) -> None:
    """A row may link only to an indicator of the shared library (not a department's proposal, not
    a made-up id); a retired one only if the row already had it. A row renamed or moved to another
    category is no longer that library indicator, so its link is dropped."""
    from apps.indicators.models import LibraryIndicator

    wanted = {r.library_indicator_id for r in rows if r.library_indicator_id}
    library = {
        ind.pk: ind
        for ind in LibraryIndicator.objects.filter(
            pk__in=wanted,
            organization__isnull=True,
            status__in=[LibraryIndicator.Status.ACTIVE, LibraryIndicator.Status.RETIRED],
        )
    }
    already = {r.library_indicator_id for r in existing.values() if r.library_indicator_id}
    errors = []
    for position, row in enumerate(rows, start=1):
        if not row.library_indicator_id:
            continue
        indicator = library.get(row.library_indicator_id)
        retired_new = (
            indicator is not None
            and indicator.status != LibraryIndicator.Status.ACTIVE
            and (row.library_indicator_id not in already)
        )
        if indicator is None or retired_new:
            errors.append(RowError(position, "name", "所选库指标不存在、已停用或尚未纳入指标库，请从指标库重新选择。"))
        elif row.name != indicator.name or row.level2 != indicator.level2:
            row.library_indicator_id = None
    if errors:
        raise RowsInvalid(errors)


def _save_tasks(target: PerformanceTarget, tasks: list[dict]) -> None:
    clean, errors = [], []
    for i, task in enumerate(tasks, start=1):
        name = (task.get("name") or "").strip()
        try:
            amount = parse_decimal(task.get("amount")) or Decimal("0")
        except (InvalidOperation, ValueError):
            errors.append(f"第 {i} 项任务“金额”：“{task.get('amount')}”不是数字。")
            continue
        if not name:
            errors.append(f"第 {i} 项任务：请填写任务名称。")
        elif len(name) > 200:
            errors.append(f"第 {i} 项任务：任务名称不能超过 200 个字。")
        if amount < 0:
            errors.append(f"第 {i} 项任务“金额”：不能为负数。")
        elif amount >= Decimal("1e16"):
            errors.append(f"第 {i} 项任务“金额”：金额过大。")
        clean.append(DepartmentTask(target=target, sort_order=i, name=name, amount=amount.quantize(Decimal("0.01")),
                                    description=task.get("description", "")))  # fmt: skip
    if errors:
        raise ValidationError(errors)
    target.tasks.all().delete()
    DepartmentTask.objects.bulk_create(clean)


# --- workflow ------------------------------------------------------------------------------


def _stamp(extra: dict | None = None) -> dict:
    return {"status_changed_at": timezone.now(), **(extra or {})}


def _clear_review_comments(target: PerformanceTarget) -> None:
    TargetIndicator.objects.filter(target=target).exclude(review_comment="").update(review_comment="")


@transaction.atomic
def target_send(*, actor, target: PerformanceTarget, comment: str = "") -> PerformanceTarget:
    """The filer hands the target to the department approver."""
    # Sent again: the resubmission date of a return has been met (its reminders stop).
    return TARGET_FLOW.apply(target, name="send", actor=actor, comment=comment, fields=_stamp({"resubmit_by": None}))


@transaction.atomic
def target_submit(*, actor, target: PerformanceTarget, comment: str = "") -> PerformanceTarget:
    """The department approver submits the target to finance (sector division first)."""
    target = TARGET_FLOW.apply(
        target,
        name="submit",
        actor=actor,
        comment=comment,
        fields=_stamp({"submitted_at": timezone.now(), "resubmit_by": None}),
    )
    _clear_review_comments(target)
    return target


@transaction.atomic
def target_pass(*, actor, target: PerformanceTarget, comment: str = "") -> PerformanceTarget:
    """The sector division passes the target on to 绩效管理处."""
    return TARGET_FLOW.apply(target, name="sector_pass", actor=actor, comment=comment, fields=_stamp())


@transaction.atomic
def target_approve(*, actor, target: PerformanceTarget, comment: str = "") -> PerformanceTarget:
    """批复. An approved adjustment supersedes the version it adjusts."""
    target = TARGET_FLOW.apply(
        target, name="approve", actor=actor, comment=comment, fields=_stamp({"approved_at": timezone.now()})
    )
    if target.previous_id:
        previous = PerformanceTarget.objects.select_for_update().get(pk=target.previous_id)
        if previous.status == S.APPROVED:
            previous.status = S.SUPERSEDED
            previous.status_changed_at = timezone.now()
            previous.save(update_fields=["status", "status_changed_at"])
            audit.record(
                audit.Kind.TRANSITION,
                actor=actor,
                obj=previous,
                changes={"status": {"from": S.APPROVED, "to": S.SUPERSEDED}},
                comment=f"被第{target.version}版调整替代",
            )
    return target


def _check_resubmit_latest(target: PerformanceTarget, current: str, resubmit_by: date, today: date) -> None:
    # ``current`` is the status the transition was taken from (dept_return: 部门审核).
    latest = selectors.resubmit_latest(target, current, today)
    if resubmit_by <= latest:
        return
    if current == S.DEPT_REVIEW:
        message = (
            f"部门退回时，重新报送期限最晚为{cn_date(latest)}"
            "（本区域绩效目标申报的截止日期，不足一周的为一周后），以免推迟向财政的逾期催办。"
        )
    else:
        message = f"重新报送期限不能晚于一年后（{cn_date(latest)}）。"
    raise ValidationError({"resubmit_by": message})


@transaction.atomic
def target_return(
    *,
    actor,
    target: PerformanceTarget,
    comment: str,
    indicator_comments: dict[int, str] | None = None,
    resubmit_by: date | None = None,
) -> PerformanceTarget:
    """退回 at whichever review step the target is, with an overall comment and per-row comments,
    and optionally the date by which the unit must send it again (its reminders follow that date):
    not before today; from the department at most ``selectors.resubmit_default``, from finance at
    most a year ahead (``selectors.resubmit_latest``)."""
    today = timezone.localdate()
    if resubmit_by is not None and resubmit_by < today:
        raise ValidationError({"resubmit_by": f"重新报送期限不能早于今天（{cn_date(today)}）。"})
    try:
        indicator_comments = {
            int(k): (v or "").strip() for k, v in (indicator_comments or {}).items() if (v or "").strip()
        }
    except (TypeError, ValueError):
        raise ValidationError("意见所对应的指标行不属于该绩效目标。") from None
    current = PerformanceTarget.objects.get(pk=target.pk).status
    name = RETURN_BY_STATUS.get(current)
    if name is None:
        raise ValidationError(f"绩效目标当前状态为“{S(current).label}”，不能退回。")
    target = TARGET_FLOW.apply(
        target,
        name=name,
        actor=actor,
        comment=comment,
        fields=_stamp({"return_comment": comment.strip(), "resubmit_by": resubmit_by}),
    )
    if resubmit_by is not None:  # after the permission and state checks; a refusal rolls the return back
        _check_resubmit_latest(target, current, resubmit_by, today)
    rows = {row.pk: row for row in target.indicators.all()}
    unknown = set(indicator_comments) - set(rows)
    if unknown:
        raise ValidationError("意见所对应的指标行不属于该绩效目标。")
    for pk, text in indicator_comments.items():
        rows[pk].review_comment = text
    TargetIndicator.objects.bulk_update([rows[pk] for pk in indicator_comments], ["review_comment"])
    if indicator_comments:
        audit.record(
            audit.Kind.UPDATE,
            actor=actor,
            obj=target,
            changes={
                "review_comments": {"from": None, "to": {rows[pk].name: t for pk, t in indicator_comments.items()}}
            },
            comment="逐条指标审核意见",
        )
    return target


@transaction.atomic
def target_adjust(*, actor, target: PerformanceTarget, reason: str) -> PerformanceTarget:
    """调整: a new version (draft) of an approved target; the approved one stays on record."""
    target = PerformanceTarget.objects.select_for_update().get(pk=target.pk)
    if not permissions.can(actor, "target.adjust", target):
        raise PermissionDenied("您无权调整该绩效目标。")
    return open_adjustment(target=target, reason=reason, actor=actor)


def open_adjustment(*, target: PerformanceTarget, reason: str, actor) -> PerformanceTarget:
    """Create version n+1 as a draft for the filing unit. The caller has decided who may do this
    (the unit itself, or finance through a key-monitoring measure)."""
    if target.status != S.APPROVED:
        raise ValidationError("只有已批复的绩效目标才能调整。")
    if PerformanceTarget.objects.filter(previous=target).exists():
        raise ValidationError("该版本已有调整中的新版本，请在新版本上继续。")
    if not reason.strip():
        raise ValidationError({"adjustment_reason": "请填写调整原因（如项目范围或预算变化）。"})
    new = PerformanceTarget.objects.create(
        kind=target.kind,
        fund_id=target.fund_id,
        organization_id=target.organization_id,
        fiscal_year_id=target.fiscal_year_id,
        version=target.version + 1,
        previous=target,
        long_term_goal=target.long_term_goal,
        annual_goal=target.annual_goal,
        adjustment_reason=reason.strip(),
        created_by=actor,
        status_changed_at=timezone.now(),
    )
    _copy_rows(target, new)
    audit.record(audit.Kind.CREATE, actor=actor, obj=new, comment=f"调整第{target.version}版：{reason.strip()}")
    return new


@dataclass
class BatchResult:
    approved: list[PerformanceTarget]
    skipped: list[tuple[PerformanceTarget, str]]


def targets_batch_approve(*, actor, target_ids: Iterable[int]) -> BatchResult:
    """批量批复: approve every target in the list that waits for 绩效处 and passes all quality checks.
    Each target is approved in its own transaction, so one refusal does not undo the others."""
    ids = list(target_ids)
    targets = list(selectors.target_queryset(actor, "target.approve").filter(pk__in=ids).prefetch_related("indicators"))
    issues = selectors.quality_for(targets)
    result = BatchResult([], [])
    for missing in sorted(set(ids) - {t.pk for t in targets}):
        result.skipped.append((None, f"编号 {missing} 的绩效目标不存在或不在您的审核范围内"))
    for target in targets:
        if target.status != S.PERF_REVIEW:
            result.skipped.append((target, f"当前状态为“{target.get_status_display()}”"))
        elif issues[target.pk]:
            result.skipped.append((target, "未通过质量检查：" + "；".join(i.message for i in issues[target.pk])))
        else:
            try:
                result.approved.append(target_approve(actor=actor, target=target, comment="批量批复"))
            except (ValidationError, PermissionDenied) as exc:
                result.skipped.append((target, "；".join(getattr(exc, "messages", [str(exc)]))))
    return result
