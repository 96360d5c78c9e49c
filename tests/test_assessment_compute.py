"""考核 engine: creating a score sheet, configuring its items, computing the draft in the background."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.core.models import AuditEvent, BackgroundJob
from apps.funds.models import SpecialFund
from apps.orgs.models import Organization, WorkCalendar, WorkStep
from apps.supervision import metrics
from apps.supervision import services_assessment as svc
from apps.supervision.models import (
    AnnualAssessment,
    AssessedBody,
    AssessmentAdjustment,
    AssessmentItem,
    AssessmentKind,
    AssessmentLine,
    Metric,
)
from apps.targets.models import PerformanceTarget, TargetStatus
from tests.factories import OrganizationFactory
from tests.querycount import assert_constant_queries

D = Decimal
TZ = ZoneInfo("Asia/Shanghai")
S = AnnualAssessment.Status
TODAY = date(2027, 6, 30)
pytestmark = pytest.mark.django_db


def create(world, year, kind=AssessmentKind.DEPARTMENTS, actor=None):
    return svc.assessment_create(actor=actor or world.perf_admin, fiscal_year=year, kind=kind)


def late_target(year, org, code, *, submitted=datetime(2025, 11, 10, 10, 0, tzinfo=TZ)):
    """A target of ``org`` submitted after the 2025-10-31 filing due date (or on time if told)."""
    fund = SpecialFund.objects.create(
        fiscal_year=year, code=code, name=f"资金{code}", organization=org,
        department=org.parent if org.kind == "unit" else org, region=org.region, period_start=2026, period_end=2026,
    )  # fmt: skip
    return PerformanceTarget.objects.create(
        fund=fund, organization=org, fiscal_year=year, status=TargetStatus.SECTOR_REVIEW, submitted_at=submitted
    )


@pytest.fixture
def calendar(world, year):
    for bureau in (world.city_finance, world.shinan_finance_org):
        WorkCalendar.objects.create(
            organization=bureau, fiscal_year=year, step=WorkStep.TARGET_FILING, due_on=date(2025, 10, 31)
        )


def run_job(world, assessment, capture, actor=None):
    with capture(execute=True):
        job = svc.assessment_compute_start(actor=actor or world.perf_admin, assessment=assessment)
    job.refresh_from_db()
    assessment.refresh_from_db()
    return job


# --- create -------------------------------------------------------------------------------------


def test_create_with_default_items_for_the_actors_bureau(world, year):
    assessment = create(world, year)
    assert assessment.organization == world.city_finance and assessment.region == world.city
    assert assessment.status == S.DRAFT and assessment.title == "2026年度市本级部门预算绩效管理工作考核"
    items = list(assessment.items.order_by("sort_order"))
    expected = svc.DEFAULT_ITEMS[AssessmentKind.DEPARTMENTS]
    assert [(i.name, i.metric, i.max_points) for i in items] == [
        (e["name"], e["metric"], e["max_points"]) for e in expected
    ]
    assert sum(i.max_points for i in items) == D("100")
    assert items[4].params == {"tolerance": 5, "deduct_per_point": 1}
    assert sum(e["max_points"] for e in svc.DEFAULT_ITEMS[AssessmentKind.DISTRICTS]) == D("100")
    event = AuditEvent.objects.for_object(assessment).get()
    assert event.kind == AuditEvent.Kind.CREATE and event.actor == world.perf_admin


def test_districts_only_for_the_city_and_no_duplicates(world, year):
    with pytest.raises(ValidationError) as err:
        create(world, year, AssessmentKind.DISTRICTS, actor=world.shinan_finance)
    assert "kind" in err.value.message_dict and "市财政局" in err.value.message_dict["kind"][0]
    assert not AnnualAssessment.objects.exists()
    shinan = create(world, year, actor=world.shinan_finance)  # its own departments: fine
    assert shinan.region == world.shinan and shinan.organization == world.shinan_finance_org
    create(world, year)
    with pytest.raises(ValidationError) as err:
        create(world, year)
    assert "考核年度" in err.value.message_dict["fiscal_year"][0]
    assert AnnualAssessment.objects.count() == 2 and AssessmentItem.objects.count() == 16


@pytest.mark.parametrize("persona", ["edu_approver", "sector_kjw", "auditor", "finance_leader", "npc_liaison"])
def test_wrong_roles_cannot_create(world, year, persona):
    with pytest.raises(PermissionDenied):
        create(world, year, actor=getattr(world, persona))
    assert not AnnualAssessment.objects.exists() and not AuditEvent.objects.filter(kind="create").exists()


# --- items --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "metric": "manual", "max_points": "5"}, "name", "请填写考核项目名称。"),
        ({"name": "x", "metric": "nope", "max_points": "5"}, "metric", "请选择有效的计分方式。"),
        ({"name": "x", "metric": "manual", "max_points": "0"}, "max_points", "分值必须大于0。"),
        ({"name": "x", "metric": "manual", "max_points": "abc"}, "max_points", "分值应为数字。"),
        ({"name": "x", "metric": "manual", "max_points": ""}, "max_points", "请填写分值。"),
        ({"name": "x", "metric": "manual", "max_points": "1.234"}, "max_points", "分值最多保留两位小数。"),
        ({"name": "x", "metric": "manual", "max_points": "5", "params": {"a": 1}}, "params",
         "该计分方式没有计分参数。"),
        (
            {"name": "x", "metric": "score_gap", "max_points": "5", "params": {"tolerance": -1}},
            "params",
            "计分参数允许偏差（tolerance）不能为负数。",
        ),
        ({"name": "x", "metric": "score_gap", "max_points": "5", "params": "{tolerance"}, "params",
         "计分参数应为 JSON 格式，例如 {\"tolerance\": 5}。"),
        ({"name": "x", "metric": "manual", "max_points": "5", "sort_order": "第一"}, "sort_order",
         "序号应为0至32767之间的整数。"),
    ],
)  # fmt: skip
def test_item_validation_names_the_field_and_saves_nothing(world, year, data, field, message):
    assessment = create(world, year)
    with pytest.raises(ValidationError) as err:
        svc.item_save(actor=world.perf_admin, assessment=assessment, data=data)
    assert message in err.value.message_dict[field]
    assert assessment.items.count() == 8


def test_item_add_edit_delete_and_editing_under_review_needs_a_recompute(world, year):
    assessment = create(world, year)
    item = svc.item_save(
        actor=world.perf_admin,
        assessment=assessment,
        data={"name": "创新加分", "metric": "manual", "max_points": "5", "guidance": "有创新做法的"},
    )
    assert (item.sort_order, item.max_points) == (9, D("5"))
    svc.assessment_compute(assessment.pk, today=TODAY)
    assessment.refresh_from_db()
    assert assessment.status == S.REVIEW
    svc.item_save(
        actor=world.perf_admin,
        assessment=assessment,
        item=item,
        data={"name": "创新加分", "metric": "manual", "max_points": "6"},
    )
    assessment.refresh_from_db()
    assert assessment.status == S.DRAFT
    changes = [e.changes for e in AuditEvent.objects.for_object(assessment).order_by("pk")]
    assert {"max_points": {"from": "5.00", "to": "6"}} in changes or any(
        c.get("max_points", {}).get("to") == "6" for c in changes
    )
    assert changes[-1] == {"status": {"from": S.REVIEW, "to": S.DRAFT}}
    svc.item_delete(actor=world.perf_admin, assessment=assessment, item=item)
    assert not AssessmentItem.objects.filter(pk=item.pk).exists()
    with pytest.raises(PermissionDenied):
        svc.item_delete(actor=world.shinan_finance, assessment=assessment, item=assessment.items.first())
    assert assessment.items.count() == 8


def test_items_of_a_published_assessment_are_frozen(world, year):
    assessment = create(world, year)
    AnnualAssessment.objects.filter(pk=assessment.pk).update(status=S.PUBLISHED)
    with pytest.raises(ValidationError):
        svc.item_save(actor=world.perf_admin, assessment=assessment, data={"name": "x", "metric": "manual",
                                                                          "max_points": "1"})  # fmt: skip
    assert assessment.items.count() == 8


# --- compute ------------------------------------------------------------------------------------


def test_compute_through_the_job_totals_and_ranks_with_ties(world, year, calendar, django_capture_on_commit_callbacks):
    late_target(year, world.edu_unit, "E1")  # 教育局 (through its unit) filed late
    assessment = create(world, year)
    job = run_job(world, assessment, django_capture_on_commit_callbacks)
    assert job.status == BackgroundJob.Status.DONE, job.message
    assert job.kind == svc.COMPUTE_KIND and job.params["assessment_id"] == assessment.pk
    assert job.params["back_url"] == f"/supervision/assessments/{assessment.pk}/"
    assert "被考核单位 3 个" in job.message
    assert assessment.status == S.REVIEW and assessment.computed_at and assessment.compute_job == job
    bodies = {b.organization: b for b in AssessedBody.objects.filter(assessment=assessment)}
    assert set(bodies) == {world.edu, world.sci, world.health}
    # 科技局 and 卫生健康委 have nothing due: full points on every computed item (90), tie at 1st.
    assert (bodies[world.sci].total, bodies[world.sci].rank, bodies[world.sci].grade) == (D("90.00"), 1, "excellent")
    assert (bodies[world.health].total, bodies[world.health].rank) == (D("90.00"), 1)
    assert (bodies[world.edu].total, bodies[world.edu].rank, bodies[world.edu].grade) == (D("75.00"), 3, "fair")
    assert AssessmentLine.objects.filter(body__assessment=assessment).count() == 3 * 8
    statuses = [
        (e.changes["status"]["from"], e.changes["status"]["to"], e.actor)
        for e in AuditEvent.objects.for_object(assessment).filter(kind="transition").order_by("pk")
    ]
    assert statuses == [(S.DRAFT, S.COMPUTING, world.perf_admin), (S.COMPUTING, S.REVIEW, world.perf_admin)]


def test_compute_refused_while_computing_or_published_and_for_others(world, year, django_capture_on_commit_callbacks):
    assessment = create(world, year)
    with pytest.raises(PermissionDenied):
        svc.assessment_compute_start(actor=world.edu_approver, assessment=assessment)
    with pytest.raises(PermissionDenied):
        svc.assessment_compute_start(actor=world.shinan_finance, assessment=assessment)
    with django_capture_on_commit_callbacks(execute=False):  # queued, not run: still 计算中
        svc.assessment_compute_start(actor=world.perf_admin, assessment=assessment)
    assessment.refresh_from_db()
    assert assessment.status == S.COMPUTING
    with pytest.raises(ValidationError, match="正在计算中"):
        svc.assessment_compute_start(actor=world.perf_admin, assessment=assessment)
    AnnualAssessment.objects.filter(pk=assessment.pk).update(status=S.PUBLISHED)
    with pytest.raises(ValidationError, match="已通报"):
        svc.assessment_compute_start(actor=world.perf_admin, assessment=assessment)
    assert BackgroundJob.objects.count() == 1


def test_a_lost_computation_can_be_started_again(world, year, django_capture_on_commit_callbacks):
    assessment = create(world, year)
    with django_capture_on_commit_callbacks(execute=False):  # the worker never runs it
        lost = svc.assessment_compute_start(actor=world.perf_admin, assessment=assessment)
    BackgroundJob.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(hours=1))
    job = run_job(world, assessment, django_capture_on_commit_callbacks)
    assert job.status == BackgroundJob.Status.DONE and job.params["from_status"] == S.DRAFT
    assert assessment.status == S.REVIEW


def test_recompute_keeps_adjusted_and_hand_entered_points(world, year, calendar, django_capture_on_commit_callbacks):
    target = late_target(year, world.edu, "E1")
    assessment = create(world, year)
    run_job(world, assessment, django_capture_on_commit_callbacks)
    edu = AssessedBody.objects.get(assessment=assessment, organization=world.edu)
    filing = edu.lines.get(item__metric=Metric.TARGET_ON_TIME)
    assert filing.points == filing.computed_points == D("0.00")
    # finance adjusts the filing line (part B's service does this; the engine only has to respect it)
    AssessmentLine.objects.filter(pk=filing.pk).update(points=D("12"), adjusted=True, adjust_reason="系统故障延迟")
    AssessmentLine.objects.filter(body=edu, item__metric=Metric.MANUAL).update(
        points=D("8"), adjusted=True, adjust_reason="工作创新", evidence="创新材料"
    )  # scored by hand (part B's line_adjust marks such a line adjusted)
    # the target turns out to have been filed on time after all
    PerformanceTarget.objects.filter(pk=target.pk).update(submitted_at=datetime(2025, 10, 30, tzinfo=TZ))
    run_job(world, assessment, django_capture_on_commit_callbacks)
    filing.refresh_from_db()
    assert (filing.points, filing.computed_points, filing.adjusted) == (D("12.00"), D("15.00"), True)
    assert filing.basis["numerator"] == 1
    manual = edu.lines.get(item__metric=Metric.MANUAL)
    assert (manual.points, manual.computed_points, manual.evidence) == (D("8.00"), None, "创新材料")
    edu.refresh_from_db()
    assert edu.total == D("95.00") and edu.rank == 1  # 12 + 75 (full) + 8


def test_a_failing_computation_restores_the_status_and_keeps_nothing(
    world, year, monkeypatch, django_capture_on_commit_callbacks
):
    assessment = create(world, year)

    def broken(*args, **kwargs):
        raise ValidationError("测试用的计算错误")

    monkeypatch.setattr(metrics, "measure_all", broken)
    job = run_job(world, assessment, django_capture_on_commit_callbacks)
    assert job.status == BackgroundJob.Status.FAILED and job.message == "任务失败：测试用的计算错误"
    assert assessment.status == S.DRAFT and assessment.computed_at is None
    assert not AssessedBody.objects.exists() and not AssessmentLine.objects.exists()


def test_constant_queries_as_departments_grow(world, year, calendar):
    late_target(year, world.edu_unit, "E1")
    assessment = create(world, year)
    added = []

    def compute():
        svc.assessment_compute(assessment.pk, today=TODAY)

    def grow():
        for n in range(3):
            dept = OrganizationFactory(code=f"T-NEW{n}", name=f"新部门{n}", kind="department", region=world.city)
            unit = OrganizationFactory(
                code=f"T-NEW{n}-U", name=f"新单位{n}", kind="unit", region=world.city, parent=dept
            )
            late_target(year, unit, f"N{n}")
            added.append(dept)
        compute()  # the new departments' bodies and lines are created once; recomputing must not grow

    # lock, job, items, bodies (2 + the org map), lines, 7 metrics (targets: + the calendar; score gap: 2;
    # disclosure: 3), bulk writes, totals (read + write), status save, audit row (+ its owner).
    assert_constant_queries(compute, grow, expected=26)
    assert AssessedBody.objects.filter(assessment=assessment).count() == 6


def test_districts_assess_the_district_offices(world, year, calendar):
    late_target(year, world.shinan_edu_unit, "SN1")  # a district unit's record counts for its office
    late_target(year, world.edu, "E1")  # a city department's does not
    assessment = create(world, year, AssessmentKind.DISTRICTS)
    svc.assessment_compute(assessment.pk, today=TODAY)
    bodies = list(AssessedBody.objects.filter(assessment=assessment).select_related("organization"))
    assert [b.organization for b in bodies] == [world.shinan_finance_org]
    assert bodies[0].region == world.shinan
    filing = bodies[0].lines.get(item__metric=Metric.TARGET_ON_TIME)
    assert (filing.basis["numerator"], filing.basis["denominator"], filing.points) == (0, 1, D("0.00"))
    assert filing.basis["records"][0]["label"] == "资金SN1绩效目标"


def test_deactivated_department_leaves_the_sheet(world, year):
    assessment = create(world, year)
    svc.assessment_compute(assessment.pk, today=TODAY)
    Organization.objects.filter(pk=world.sci.pk).update(is_active=False)
    svc.assessment_compute(assessment.pk, today=TODAY)
    assert set(AssessedBody.objects.filter(assessment=assessment).values_list("organization", flat=True)) == {
        world.edu.pk,
        world.health.pk,
    }


def test_changing_an_items_points_clears_its_lines_until_recomputed(world, year):
    assessment = create(world, year)
    svc.assessment_compute(assessment.pk, today=TODAY)
    item = assessment.items.get(metric=Metric.DISCLOSURE)
    svc.item_save(actor=world.perf_admin, assessment=assessment, item=item,
                  data={"name": item.name, "metric": Metric.DISCLOSURE, "max_points": "5"})  # fmt: skip
    assert not AssessmentLine.objects.filter(item=item).exists()
    event = AuditEvent.objects.for_object(assessment).filter(kind="update").latest("pk")
    assert "已清除" in event.comment
    svc.assessment_compute(assessment.pk, today=TODAY)
    lines = AssessmentLine.objects.filter(item=item)
    assert lines.count() == 3 and {(x.points, x.adjusted) for x in lines} == {(D("5.00"), False)}


# --- nothing finance entered is lost --------------------------------------------------------------


def _adjusted(world, year, metric=Metric.DISCLOSURE):
    """A computed sheet under review with 教育局's ``metric`` line adjusted (with its history row)."""
    from apps.supervision import services_assessment_review as review

    assessment = create(world, year)
    svc.assessment_compute(assessment.pk, today=TODAY)
    line = AssessmentLine.objects.get(body__assessment=assessment, body__organization=world.edu, item__metric=metric)
    review.line_adjust(actor=world.perf_admin, line=line, points="6", reason="核实后调整", evidence="核查记录")
    assessment.refresh_from_db()
    return assessment, line


@pytest.mark.parametrize(
    ("change", "field"), [({"max_points": "5"}, "max_points"), ({"metric": Metric.TARGET_FIRST_PASS}, "metric")]
)
def test_an_adjusted_items_points_or_metric_cannot_change(world, year, change, field):
    assessment, line = _adjusted(world, year)
    item = line.item
    history = AssessmentAdjustment.objects.count()
    data = {"name": item.name, "metric": item.metric, "max_points": str(item.max_points), **change}
    with pytest.raises(ValidationError) as err:
        svc.item_save(actor=world.perf_admin, assessment=assessment, item=item, data=data)
    assert err.value.message_dict[field] == [
        "考核项目“绩效信息公开”已有 1 条人工调整/评分记录，不能修改分值或计分方式。"
    ]
    item.refresh_from_db()
    line.refresh_from_db()
    assessment.refresh_from_db()
    assert (item.max_points, item.metric) == (D("10.00"), Metric.DISCLOSURE)
    assert (line.points, line.adjusted, line.evidence) == (D("6.00"), True, "核查记录")
    assert AssessmentAdjustment.objects.count() == history == 1 and assessment.status == S.REVIEW
    # renaming it (or its guidance) is fine: the lines stay
    svc.item_save(actor=world.perf_admin, assessment=assessment, item=item,
                  data={"name": "信息公开", "metric": item.metric, "max_points": "10"})  # fmt: skip
    assert AssessmentLine.objects.filter(pk=line.pk, adjusted=True).exists()


def test_an_item_with_hand_scores_cannot_be_deleted(world, year):
    from apps.supervision import services_assessment_review as review

    assessment = create(world, year)
    svc.assessment_compute(assessment.pk, today=TODAY)
    manual = assessment.items.get(metric=Metric.MANUAL)
    for line in AssessmentLine.objects.filter(item=manual):
        review.line_adjust(actor=world.perf_admin, line=line, points="8", reason="制度健全", evidence="文件")
    with pytest.raises(ValidationError) as err:
        svc.item_delete(actor=world.perf_admin, assessment=assessment, item=manual)
    assert err.value.messages == ["考核项目“绩效管理工作创新与配合”已有 3 条人工调整/评分记录，不能删除。"]
    assert AssessmentItem.objects.filter(pk=manual.pk).exists()
    assert AssessmentAdjustment.objects.filter(line__item=manual).count() == 3
    # an item without hand entries is deleted with its lines, as before
    svc.item_delete(actor=world.perf_admin, assessment=assessment, item=assessment.items.get(metric=Metric.DISCLOSURE))
    assert assessment.items.count() == 7


def test_a_deactivated_department_with_adjustments_stays_assessed(world, year):
    assessment, line = _adjusted(world, year)
    Organization.objects.filter(pk=world.edu.pk).update(is_active=False)
    Organization.objects.filter(pk=world.sci.pk).update(is_active=False)  # nothing adjusted: it goes
    svc.assessment_compute(assessment.pk, today=TODAY)
    assert set(AssessedBody.objects.filter(assessment=assessment).values_list("organization", flat=True)) == {
        world.edu.pk,
        world.health.pk,
    }
    line.refresh_from_db()
    assert (line.points, line.adjusted) == (D("6.00"), True) and AssessmentAdjustment.objects.count() == 1
    edu = AssessedBody.objects.get(assessment=assessment, organization=world.edu)
    assert edu.rank is not None and edu.lines.count() == 8


# --- grades on the sheet's scale ------------------------------------------------------------------


def test_grades_are_given_on_the_sheets_maximum(world, year):
    from apps.supervision import services_assessment_review as review

    assessment = create(world, year)
    svc.item_save(actor=world.perf_admin, assessment=assessment,
                  data={"name": "重点工作", "metric": "manual", "max_points": "90"})  # fmt: skip
    svc.assessment_compute(assessment.pk, today=TODAY)  # a 190-point sheet
    sci = AssessedBody.objects.get(assessment=assessment, organization=world.sci)
    # 90 computed points (nothing due) + 0 + 0 by hand: 90 / 190 = 47.37 % → 差, not 优 on raw points
    assert (sci.total, sci.grade) == (D("90.00"), "poor")
    assert svc.percent_score(sci.total, D("190")) == D("47.37")
    for line in AssessmentLine.objects.filter(body=sci, item__metric=Metric.MANUAL):
        review.line_adjust(actor=world.perf_admin, line=line, points=line.item.max_points - 2, reason="评分")
    sci.refresh_from_db()
    # 90 + 8 + 88 = 186 → 97.89 % → 优;  171 (90 %) is the lower bound of 优
    assert (sci.total, sci.grade) == (D("186.00"), "excellent")
    line = AssessmentLine.objects.get(body=sci, item__name="重点工作")
    review.line_adjust(actor=world.perf_admin, line=line, points="73", reason="复核")  # 90 + 8 + 73 = 171
    sci.refresh_from_db()
    assert (sci.total, sci.grade) == (D("171.00"), "excellent")
    review.line_adjust(actor=world.perf_admin, line=line, points="72.99", reason="复核")  # 89.99 %
    sci.refresh_from_db()
    assert sci.grade == "good"
