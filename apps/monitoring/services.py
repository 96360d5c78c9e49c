"""Writes of 双监控: open a round (creating the report tasks), save a report, the report workflow."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.core import audit, permissions
from apps.core.workflow import Transition, Workflow
from apps.funds.models import SpecialFund
from apps.indicators.framework import Comparison
from apps.orgs.models import FiscalYear, Organization
from apps.targets.models import PerformanceTarget, TargetIndicator, TargetStatus

from . import rules
from .models import IndicatorProgress, MonitoringReport, MonitoringRound

RS = MonitoringReport.Status
EDITABLE = (RS.DRAFT, RS.RETURNED)
BATCH = 5000


# --- rounds ----------------------------------------------------------------------------------


@transaction.atomic
def round_open(
    *,
    actor,
    organization: Organization,
    fiscal_year: FiscalYear,
    data_as_of: date,
    due_on: date,
    name: str = "",
    tolerance_points: Decimal = Decimal("15.00"),
) -> tuple[MonitoringRound, int]:
    """Open (or re-open) the round with this cut-off date and create the missing report tasks.

    Idempotent: a second call creates nothing; funds approved since the first call get their task.
    Returns the round and the number of reports created."""
    if organization.kind != Organization.Kind.FINANCE:
        raise ValidationError({"organization": "监控轮次只能由区域的财政局开启。"})
    if not permissions.can(actor, "monitoring.manage", organization):
        raise PermissionDenied("您只能开启本区域的监控轮次。")
    if data_as_of > due_on:
        raise ValidationError({"due_on": "报送截止日期不能早于数据截止日期。"})
    round_, created = MonitoringRound.objects.select_for_update().get_or_create(
        organization=organization,
        fiscal_year=fiscal_year,
        data_as_of=data_as_of,
        defaults={
            "name": name or f"{fiscal_year.year}年绩效运行监控（数据截至{data_as_of.month}月{data_as_of.day}日）",
            "due_on": due_on,
            "tolerance_points": tolerance_points,
        },
    )
    if round_.status == MonitoringRound.Status.CLOSED:
        raise ValidationError("该监控轮次已结束，不能再增加监控任务。")
    made = create_missing_reports(round_)
    if created or made:
        audit.record(
            audit.Kind.CREATE if created else audit.Kind.UPDATE,
            actor=actor,
            obj=round_,
            comment=f"开启监控轮次，新建监控任务 {made} 个",
        )
    return round_, made


def create_missing_reports(round_: MonitoringRound) -> int:
    """One report per fund of the region and year with an approved target (its latest approved
    version), with one progress row per indicator; in bulk, skipping funds that already have one."""
    latest_approved = (
        PerformanceTarget.objects.filter(
            fund__region_id=round_.organization.region_id,
            fiscal_year=round_.fiscal_year,
            status=TargetStatus.APPROVED,
        )
        .values("fund_id")
        .annotate(version=Max("version"))
    )
    have = set(MonitoringReport.objects.filter(round=round_).values_list("fund_id", flat=True))
    wanted = {row["fund_id"]: row["version"] for row in latest_approved if row["fund_id"] not in have}
    if not wanted:
        return 0
    targets = {
        t.fund_id: t
        for t in PerformanceTarget.objects.filter(fund_id__in=wanted, status=TargetStatus.APPROVED).only(
            "id", "fund_id", "version", "organization_id"
        )
        if t.version == wanted[t.fund_id]
    }
    budgets = dict(SpecialFund.objects.filter(pk__in=wanted).values_list("pk", "fiscal_amount").iterator())
    others = dict(SpecialFund.objects.filter(pk__in=wanted).values_list("pk", "other_amount").iterator())
    now = timezone.now()
    reports = [
        MonitoringReport(
            round=round_,
            fund_id=fund_id,
            target_id=target.pk,
            organization_id=target.organization_id,
            budget_amount=budgets[fund_id] + others[fund_id],
            status_changed_at=now,
        )
        for fund_id, target in targets.items()
    ]
    MonitoringReport.objects.bulk_create(reports, batch_size=BATCH)
    report_ids = dict(MonitoringReport.objects.filter(round=round_, fund_id__in=targets).values_list("target_id", "pk"))
    progress = [
        IndicatorProgress(report_id=report_ids[target_id], indicator_id=indicator_id)
        for indicator_id, target_id in TargetIndicator.objects.filter(target_id__in=report_ids)
        .values_list("pk", "target_id")
        .iterator(chunk_size=BATCH)
    ]
    IndicatorProgress.objects.bulk_create(progress, batch_size=BATCH)
    return len(reports)


# --- filling a report -------------------------------------------------------------------------


def _number(value, label: str, errors: list[str]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        errors.append(f"{label}：“{value}”不是数字。")
        return None
    if not number.is_finite() or number < 0:
        errors.append(f"{label}：应为不小于 0 的数字。")
        return None
    return number


@transaction.atomic
def report_save(
    *, actor, report: MonitoringReport, executed_amount, execution_note: str = "", progress: dict[int, dict]
) -> MonitoringReport:
    """Save the executed amount and each indicator's progress (keyed by progress row id).

    A cause and a corrective measure are required whenever the expected value misses the target or
    the unit is not certain to achieve it; every problem is reported, naming the indicator."""
    report = MonitoringReport.objects.select_for_update(of=("self",)).select_related("round").get(pk=report.pk)
    if not permissions.can(actor, "monitoring.fill", report):
        raise PermissionDenied("您无权填报该监控报告。")
    if report.status not in EDITABLE:
        raise ValidationError(f"监控报告当前状态为“{report.get_status_display()}”，不能修改。")
    errors: list[str] = []
    executed = _number(executed_amount, "已执行金额", errors)
    rows = {p.pk: p for p in report.progress.select_related("indicator")}
    unknown = set(progress) - set(rows)
    if unknown:
        raise ValidationError("指标行不属于该监控报告，请刷新页面后重新填写。")
    for pk, data in progress.items():
        row, indicator = rows[pk], rows[pk].indicator
        label = f"指标“{indicator.name}”"
        row.likelihood = data.get("likelihood", "")
        if row.likelihood and row.likelihood not in IndicatorProgress.Likelihood.values:
            errors.append(f"{label}：请选择能否完成目标。")
        row.deviation_cause = data.get("deviation_cause", "")
        if row.deviation_cause and row.deviation_cause not in IndicatorProgress.Cause.values:
            errors.append(f"{label}：偏差原因无效。")
        row.corrective_measure = (data.get("corrective_measure") or "").strip()
        if indicator.comparison == Comparison.QUALITATIVE:
            row.progress_text = (data.get("progress_text") or "").strip()[:200]
        else:
            row.progress_value = _number(data.get("progress_value"), f"{label}“截至目前完成值”", errors)
            row.expected_value = _number(data.get("expected_value"), f"{label}“全年预计完成值”", errors)
        risky = rules.at_risk(indicator.comparison, indicator.target_value, row.expected_value, row.likelihood)
        row.at_risk = risky
        if risky and not row.deviation_cause:
            errors.append(f"{label}：预计难以完成目标，请选择偏差原因。")
        if risky and not row.corrective_measure:
            errors.append(f"{label}：预计难以完成目标，请填写纠偏措施。")
    if errors:
        raise ValidationError(errors)
    before = audit.snapshot(report, ["executed_amount", "execution_note"])
    report.executed_amount, report.execution_note, report.updated_by = executed, execution_note.strip(), actor
    report.indicator_risk = rules.indicator_risk(rows.values())
    report.save(update_fields=["executed_amount", "execution_note", "indicator_risk", "updated_by", "updated_at"])
    IndicatorProgress.objects.bulk_update(
        list(rows.values()),
        [
            "progress_value",
            "expected_value",
            "progress_text",
            "likelihood",
            "deviation_cause",
            "corrective_measure",
            "at_risk",
        ],  # fmt: skip
    )
    changes = audit.diff(before, audit.snapshot(report, ["executed_amount", "execution_note"]))
    audit.record(audit.Kind.UPDATE, actor=actor, obj=report, changes=changes, comment="填报监控报告")
    return report


def _complete(report: MonitoringReport, actor) -> None:
    """Guard: everything needed is there before the report leaves the unit."""
    missing = []
    if report.executed_amount is None and report.imported_executed_amount is None:
        missing.append("已执行金额")
    for row in report.progress.select_related("indicator"):
        if not row.likelihood:
            missing.append(f"指标“{row.indicator.name}”能否完成目标")
        elif row.indicator.comparison != Comparison.QUALITATIVE and row.expected_value is None:
            missing.append(f"指标“{row.indicator.name}”全年预计完成值")
    if missing:
        raise ValidationError("尚未填写：" + "、".join(missing) + "。")


REPORT_FLOW = Workflow(
    [
        Transition("send", frozenset(EDITABLE), RS.DEPT_REVIEW, "monitoring.fill", "提交部门审核", _complete),
        Transition("submit", frozenset({*EDITABLE, RS.DEPT_REVIEW}), RS.SUBMITTED, "monitoring.submit",
                   "部门审核通过并报送财政", _complete),
        Transition("receive", frozenset({RS.SUBMITTED}), RS.RECEIVED, "monitoring.receive", "财政接收"),
        Transition("dept_return", frozenset({RS.DEPT_REVIEW}), RS.RETURNED, "monitoring.submit", "部门退回",
                   comment_required=True),
        Transition("return", frozenset({RS.SUBMITTED}), RS.RETURNED, "monitoring.receive", "财政退回",
                   comment_required=True),
    ]
)  # fmt: skip


def report_transition(*, actor, report: MonitoringReport, name: str, comment: str = "") -> MonitoringReport:
    fields = {"status_changed_at": timezone.now()}
    if name == "submit":
        fields["submitted_at"] = timezone.now()
    if name in ("return", "dept_return"):
        fields["return_comment"] = comment.strip()
    return REPORT_FLOW.apply(report, name=name, actor=actor, comment=comment, fields=fields)


# --- key monitoring (重点监控) -------------------------------------------------------------------

KEY_MINIMUM = 10  # at least 10 funds a year at first (domain.md), all of them within 3 years


@transaction.atomic
def key_select(*, actor, funds, fiscal_year: FiscalYear) -> int:
    """Pick funds for 重点监控 this year (already picked ones are kept). Returns how many were added."""
    from .models import KeyMonitoring

    funds = list(funds)
    for fund in funds:
        if not permissions.can(actor, "monitoring.key", fund):
            raise PermissionDenied(f"“{fund.name}”不在您的监管范围内。")
        if fund.fiscal_year_id != fiscal_year.pk:
            raise ValidationError(f"“{fund.name}”不是{fiscal_year}的专项资金。")
    have = set(KeyMonitoring.objects.filter(fiscal_year=fiscal_year, fund__in=funds).values_list("fund_id", flat=True))
    new = [KeyMonitoring(fund=f, fiscal_year=fiscal_year, selected_by=actor) for f in funds if f.pk not in have]
    KeyMonitoring.objects.bulk_create(new)
    for item in new:
        audit.record(audit.Kind.CREATE, actor=actor, obj=item.fund, comment="列入重点监控")
    return len(new)


@transaction.atomic
def key_measure(*, actor, key, measure: str, reason: str):
    """Record finance's measure. 调整目标 opens a target adjustment (new draft version) for the unit."""
    from apps.targets import services as target_services

    from .models import KeyMonitoring

    key = KeyMonitoring.objects.select_for_update().select_related("fund").get(pk=key.pk)
    if not permissions.can(actor, "monitoring.key", key.fund):
        raise PermissionDenied("您无权对该项目作出重点监控处理措施。")
    if measure not in KeyMonitoring.Measure.values:
        raise ValidationError({"measure": "请选择处理措施。"})
    if not reason.strip():
        raise ValidationError({"measure_reason": "请填写处理措施的理由。"})
    before = audit.snapshot(key, ["measure", "measure_reason"])
    key.measure, key.measure_reason = measure, reason.strip()
    key.measured_by, key.measured_at = actor, timezone.now()
    key.save(update_fields=["measure", "measure_reason", "measured_by", "measured_at"])
    audit.record(
        audit.Kind.UPDATE,
        actor=actor,
        obj=key.fund,
        changes=audit.diff(before, audit.snapshot(key, ["measure", "measure_reason"])),
        comment="重点监控处理措施",
    )
    if measure == KeyMonitoring.Measure.ADJUST_TARGET:
        approved = (
            PerformanceTarget.objects.filter(fund=key.fund, status=TargetStatus.APPROVED).order_by("-version").first()
        )
        if approved is not None and not PerformanceTarget.objects.filter(previous=approved).exists():
            target_services.open_adjustment(
                target=approved, reason=f"财政重点监控要求调整目标：{reason.strip()}", actor=actor
            )
    return key


def key_coverage(*, user, fiscal_year: int) -> dict:
    """This year's selection and the share of the region's funds key-monitored in the last 3 years
    (funds are matched across years by code). The goal: every fund within the cycle."""
    from apps.funds.models import SpecialFund

    from .models import KeyMonitoring

    funds = SpecialFund.objects.restrict(user, "monitoring.key").filter(fiscal_year_id=fiscal_year)
    codes = set(funds.values_list("code", flat=True))
    covered = (
        set(
            KeyMonitoring.objects.restrict(user, "monitoring.key")
            .filter(fiscal_year_id__in=[fiscal_year - 2, fiscal_year - 1, fiscal_year])
            .values_list("fund__code", flat=True)
        )
        & codes
    )
    selected = KeyMonitoring.objects.restrict(user, "monitoring.key").filter(fiscal_year_id=fiscal_year).count()
    share = (Decimal(len(covered)) / Decimal(len(codes)) * 100).quantize(Decimal("0.1")) if codes else Decimal("0")
    return {"selected": selected, "funds": len(codes), "covered": len(covered), "share": share}
