"""Review of the annual assessment (考核): finance adjusts a line only with a reason (audited, with a
history), totals and ranks follow (ties share a rank), publishing waits for every hand-scored line,
and a published 通报 can be withdrawn with a reason. Wrong role, wrong status, bad input: nothing
changes."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.core.models import AuditEvent
from apps.supervision import services_assessment as engine
from apps.supervision import services_assessment_review as review
from apps.supervision.models import (
    AnnualAssessment,
    AssessedBody,
    AssessmentAdjustment,
    AssessmentKind,
    AssessmentLine,
    Metric,
)

D = Decimal
S = AnnualAssessment.Status


def computed_sheet(world, year, kind=AssessmentKind.DEPARTMENTS) -> AnnualAssessment:
    """The city's sheet with the default items, computed (synchronously) and under review."""
    sheet = engine.assessment_create(actor=world.perf_admin, fiscal_year=year, kind=kind)
    engine.assessment_compute(sheet.pk)
    sheet.refresh_from_db()
    assert sheet.status == S.REVIEW
    return sheet


def line_of(sheet, org, metric) -> AssessmentLine:
    return AssessmentLine.objects.select_related("item").get(
        body__assessment=sheet, body__organization=org, item__metric=metric
    )


def score_manual(world, sheet, points="8") -> None:
    for line in AssessmentLine.objects.filter(body__assessment=sheet, item__metric=Metric.MANUAL):
        review.line_adjust(actor=world.perf_admin, line=line, points=points, reason="制度健全", evidence="文件3份")


def body(sheet, org) -> AssessedBody:
    return AssessedBody.objects.get(assessment=sheet, organization=org)


@pytest.fixture
def sheet(world, year):
    return computed_sheet(world, year)


def test_adjust_sets_points_keeps_history_and_audits(world, sheet):
    line = line_of(sheet, world.edu, Metric.TARGET_ON_TIME)
    before = line.points
    review.line_adjust(
        actor=world.perf_admin, line=line, points="12.50", reason="两个项目因系统故障延迟，经核实予以扣分"
    )
    line.refresh_from_db()
    assert (line.points, line.adjusted, line.adjusted_by) == (D("12.50"), True, world.perf_admin)
    assert line.computed_points == before  # the computed points stay for comparison
    adj = AssessmentAdjustment.objects.get(line=line)
    assert (adj.from_points, adj.to_points, adj.adjusted_by) == (before, D("12.50"), world.perf_admin)
    event = AuditEvent.objects.for_object(line).get()
    assert event.kind == AuditEvent.Kind.UPDATE and event.actor == world.perf_admin
    assert event.changes == {"points": {"from": str(before), "to": "12.50"}}
    assert "系统故障" in event.comment
    assert body(sheet, world.edu).total == body(sheet, world.sci).total - (before - D("12.50"))


def test_the_same_submission_twice_is_harmless(world, sheet):
    line = line_of(sheet, world.edu, Metric.DISCLOSURE)
    for _ in range(2):
        review.line_adjust(actor=world.perf_admin, line=line, points="6", reason="公开不完整")
    assert AssessmentAdjustment.objects.filter(line=line).count() == 1
    assert AuditEvent.objects.for_object(line).count() == 1
    review.line_adjust(actor=world.perf_admin, line=line, points="7", reason="补充公开后复核")
    assert list(AssessmentAdjustment.objects.filter(line=line).values_list("from_points", "to_points")) == [
        (D("10.00"), D("6.00")),
        (D("6.00"), D("7.00")),
    ]


@pytest.mark.parametrize(
    ("points", "reason", "field", "message"),
    [
        ("16", "超过分值", "points", "得分应在 0 至 15.00 分之间"),
        ("-1", "负数", "points", "得分应在 0 至 15.00 分之间"),
        ("abc", "不是数字", "points", "得分应为数字"),
        ("3.333", "三位小数", "points", "最多保留两位小数"),
        ("10", "  ", "reason", "请填写调整理由"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(world, sheet, points, reason, field, message):
    line = line_of(sheet, world.edu, Metric.TARGET_ON_TIME)
    before = line.points
    with pytest.raises(ValidationError) as exc:
        review.line_adjust(actor=world.perf_admin, line=line, points=points, reason=reason)
    assert any(message in m for m in exc.value.message_dict[field])
    line.refresh_from_db()
    assert line.points == before and not line.adjusted
    assert not AssessmentAdjustment.objects.exists()


def test_manual_item_reason_is_the_scoring_note(world, sheet):
    line = line_of(sheet, world.edu, Metric.MANUAL)
    with pytest.raises(ValidationError) as exc:
        review.line_adjust(actor=world.perf_admin, line=line, points="8", reason="")
    assert exc.value.message_dict["reason"] == ["请填写评分说明。"]
    review.line_adjust(actor=world.perf_admin, line=line, points="0", reason="未建立制度", evidence="检查记录")
    line.refresh_from_db()
    assert line.adjusted and line.points == D("0") and line.evidence == "检查记录"


@pytest.mark.parametrize("persona", ["edu_approver", "shinan_finance", "sector_kjw", "finance_leader", "auditor"])
def test_wrong_role_changes_nothing(world, sheet, persona):
    line = line_of(sheet, world.edu, Metric.TARGET_ON_TIME)
    with pytest.raises(PermissionDenied):
        review.line_adjust(actor=getattr(world, persona), line=line, points="1", reason="试图调整")
    with pytest.raises(PermissionDenied):
        review.assessment_publish(actor=getattr(world, persona), assessment=sheet, notice="通报")
    line.refresh_from_db()
    sheet.refresh_from_db()
    assert not line.adjusted and sheet.status == S.REVIEW and not AssessmentAdjustment.objects.exists()


def test_adjust_only_under_review(world, year):
    sheet = engine.assessment_create(actor=world.perf_admin, fiscal_year=year, kind=AssessmentKind.DEPARTMENTS)
    engine.assessment_compute(sheet.pk)
    AnnualAssessment.objects.filter(pk=sheet.pk).update(status=S.DRAFT)
    line = line_of(sheet, world.edu, Metric.TARGET_ON_TIME)
    with pytest.raises(ValidationError) as exc:
        review.line_adjust(actor=world.perf_admin, line=line, points="1", reason="草稿")
    assert "只有待审定时可以调整得分" in exc.value.message_dict["status"][0]
    assert not AssessmentAdjustment.objects.exists()


def test_totals_and_ties_after_adjustments(world, sheet):
    score_manual(world, sheet, "8")
    ranks = {b.organization_id: (b.total, b.rank) for b in AssessedBody.objects.filter(assessment=sheet)}
    assert len({rank for _, rank in ranks.values()}) == 1  # nothing to tell them apart yet: all first
    review.line_adjust(
        actor=world.perf_admin, line=line_of(sheet, world.health, Metric.DISCLOSURE), points="5", reason="未公开"
    )
    review.line_adjust(
        actor=world.perf_admin, line=line_of(sheet, world.sci, Metric.DISCLOSURE), points="5", reason="未公开"
    )
    edu, sci, health = (body(sheet, o) for o in (world.edu, world.sci, world.health))
    assert edu.rank == 1 and sci.rank == health.rank == 2  # a tie shares the rank
    assert sci.total == health.total == edu.total - D("5")


def test_publish_refuses_unscored_manual_lines_naming_them(world, sheet):
    with pytest.raises(ValidationError) as exc:
        review.assessment_publish(actor=world.perf_admin, assessment=sheet, notice="现将考核结果通报如下。")
    message = exc.value.message_dict["status"][0]
    assert "青岛市教育局" in message and "绩效管理工作创新与配合" in message
    sheet.refresh_from_db()
    assert sheet.status == S.REVIEW and sheet.published_at is None


def test_publish_then_withdraw(world, sheet):
    score_manual(world, sheet)
    with pytest.raises(ValidationError) as exc:
        review.assessment_publish(actor=world.perf_admin, assessment=sheet, notice=" ")
    assert exc.value.message_dict["notice"] == ["请填写通报说明。"]
    review.assessment_publish(actor=world.perf_admin, assessment=sheet, notice="现将考核结果通报如下。")
    sheet.refresh_from_db()
    assert sheet.status == S.PUBLISHED and sheet.published_by == world.perf_admin and sheet.published_at
    event = AuditEvent.objects.for_object(sheet).filter(kind=AuditEvent.Kind.TRANSITION).latest("pk")
    assert event.changes == {"status": {"from": "review", "to": "published"}}
    # published: no more adjustments, no second publish
    with pytest.raises(ValidationError):
        review.line_adjust(
            actor=world.perf_admin, line=line_of(sheet, world.edu, Metric.DISCLOSURE), points="1", reason="x"
        )
    with pytest.raises(ValidationError):
        review.assessment_publish(actor=world.perf_admin, assessment=sheet, notice="再次")
    with pytest.raises(ValidationError) as exc:
        review.assessment_withdraw(actor=world.perf_admin, assessment=sheet, reason="")
    assert exc.value.message_dict["reason"] == ["请填写撤回理由。"]
    with pytest.raises(PermissionDenied):
        review.assessment_withdraw(actor=world.edu_approver, assessment=sheet, reason="不服")
    review.assessment_withdraw(actor=world.perf_admin, assessment=sheet, reason="卫健委数据有误，更正后重发")
    sheet.refresh_from_db()
    assert sheet.status == S.REVIEW and sheet.published_at is None
    event = AuditEvent.objects.for_object(sheet).filter(kind=AuditEvent.Kind.TRANSITION).latest("pk")
    assert event.changes == {"status": {"from": "published", "to": "review"}} and "更正" in event.comment
    review.line_adjust(
        actor=world.perf_admin, line=line_of(sheet, world.health, Metric.DISCLOSURE), points="9", reason="更正"
    )
    review.assessment_publish(actor=world.perf_admin, assessment=sheet, notice="更正后重新通报。")
    sheet.refresh_from_db()
    assert sheet.status == S.PUBLISHED


def test_the_demo_adjustment_agrees_with_the_basis_it_adjusts():
    """Walkthrough #4: the demo reason is written from the line's own records and counts."""
    from types import SimpleNamespace

    from apps.supervision.demo_assessment import extension_adjustment

    records = [
        {
            "label": f"资金{n}（2025年度项目支出绩效自评）",
            "due": "2026-03-31",
            "done": None,
            "ok": False,
            "note": "未报送",
        }
        for n in "甲乙丙"
    ]
    basis = {"numerator": 0, "denominator": 3, "records": records}
    line = SimpleNamespace(basis=basis, points=D("0.00"), item=SimpleNamespace(max_points=D("15.00")))
    points, reason = extension_adjustment(line)
    assert points == D("5.00")
    assert reason.startswith("“资金甲”项目因所属学校撤并") and "延期至2026年12月31日" in reason
    assert "其余 2 份未报送，不予调整；按应报 3 份、按时 1 份计，由 0.00 分调整为 5.00 分。" in reason
    all_on_time = SimpleNamespace(
        basis={"numerator": 3, "denominator": 3, "records": []}, points=D("15"), item=line.item
    )
    assert extension_adjustment(all_on_time) is None
