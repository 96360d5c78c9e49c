"""考核 computed items against hand-computed values on a small fixture (FY 2026, 市本级).

Records are written directly (the metrics read tables and the audit log, whatever wrote them); the
"first submission" and "returned by finance" facts are audit-log transitions as the workflow writes
them. Bodies: 教育局 (with its unit 青岛第二中学), 科技局 (no records at all), 卫生健康委 (with its
unit); 市南区's records must never count for the city's departments.
"""

from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.evaluations.models import EvaluationPlan, KeyEvaluation, SelfEvaluation, SelfEvaluationRound
from apps.funds.models import SpecialFund
from apps.monitoring.models import MonitoringReport, MonitoringRound
from apps.orgs.models import Organization, WorkCalendar, WorkStep
from apps.results.models import Disclosure, Rectification
from apps.supervision import metrics
from apps.supervision import services_assessment as svc
from apps.supervision import services_fiscal as fiscal
from apps.supervision.models import AssessmentKind, AssessmentLine, Metric
from apps.targets.models import PerformanceTarget, TargetStatus
from tests.factories import OrganizationFactory

D = Decimal
TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2027, 6, 30)  # the computation date: every 2026 due date has passed
pytestmark = pytest.mark.django_db


def at(y, m, d, hour=10, minute=0):
    return datetime(y, m, d, hour, minute, tzinfo=TZ)


def fund(world, year, org, code, *, department=None, **extra):
    return SpecialFund.objects.create(
        fiscal_year=year,
        code=code,
        name=f"资金{code}",
        organization=org,
        department=department or (org.parent if org.kind == "unit" else org),
        region=org.region,
        period_start=2026,
        period_end=2026,
        fiscal_amount=D("1000000"),
        **extra,
    )


def target(year, f, **fields):
    return PerformanceTarget.objects.create(fund=f, organization=f.organization, fiscal_year=year, **fields)


def transition(actor, obj, frm, to, when):
    """The audit row the workflow writes for a transition, dated ``when`` (the log is append-only)."""
    AuditEvent.objects.create(
        occurred_at=when,
        kind=AuditEvent.Kind.TRANSITION,
        actor=actor,
        actor_name=actor.username,
        organization=actor.organization,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        changes={"status": {"from": frm, "to": to}},
    )


def build(world, year) -> SimpleNamespace:
    w = world
    s = SimpleNamespace()
    WorkCalendar.objects.create(
        organization=w.city_finance, fiscal_year=year, step=WorkStep.TARGET_FILING, due_on=date(2025, 10, 31)
    )
    WorkCalendar.objects.create(
        organization=w.shinan_finance_org, fiscal_year=year, step=WorkStep.TARGET_FILING, due_on=date(2025, 10, 31)
    )
    # --- funds and targets
    s.fa = fund(w, year, w.edu, "A")
    s.fb = fund(w, year, w.edu_unit, "B")
    s.fc = fund(w, year, w.edu, "C")
    s.fd = fund(w, year, w.edu, "D", request_status=SpecialFund.RequestStatus.NOT_ARRANGED)
    s.fe = fund(w, year, w.health_unit, "E")
    s.ff = fund(w, year, w.shinan_edu, "F")
    s.fg = fund(w, year, w.edu, "G", is_classified=True)
    # A: the unit sent it to its department on time (10-20); the department forwarded it to finance
    # after the filing date (11-03, its own review deadline), the sector division returned it, it was
    # resubmitted late, approved. On time: the filing date is the unit's.
    s.ta = target(year, s.fa, status=TargetStatus.APPROVED, submitted_at=at(2025, 11, 10), approved_at=at(2026, 1, 10))
    transition(w.edu_unit_filler, s.ta, "draft", "dept_review", at(2025, 10, 20))
    transition(w.edu_approver, s.ta, "dept_review", "sector_review", at(2025, 11, 3))
    transition(w.sector_kjw, s.ta, "sector_review", "returned", at(2025, 11, 5))
    transition(w.edu_approver, s.ta, "returned", "sector_review", at(2025, 11, 10))
    # B (the unit's): no audit rows (bulk-loaded) → submitted_at, 5 days late; returned only by the
    # department before it reached finance: still a first pass.
    s.tb = target(year, s.fb, status=TargetStatus.APPROVED, submitted_at=at(2025, 11, 5), approved_at=at(2026, 1, 10))
    transition(w.edu_approver, s.tb, "dept_review", "returned", at(2025, 10, 1))
    s.tc = target(year, s.fc)  # never submitted
    s.td = target(year, s.fd)  # not arranged: not owed
    s.te = target(year, s.fe, status=TargetStatus.PERF_REVIEW, submitted_at=at(2025, 10, 31, 23, 30))  # on the day
    s.tf = target(year, s.ff, status=TargetStatus.APPROVED, submitted_at=at(2025, 12, 1), approved_at=at(2026, 1, 5))
    s.tg = target(year, s.fg, status=TargetStatus.APPROVED, submitted_at=at(2025, 10, 1), approved_at=at(2026, 1, 5))
    # --- monitoring
    rnd = MonitoringRound.objects.create(
        organization=w.city_finance, fiscal_year=year, name="2026年监控", data_as_of=date(2026, 6, 30),
        due_on=date(2026, 7, 15),
    )  # fmt: skip
    sn_rnd = MonitoringRound.objects.create(
        organization=w.shinan_finance_org, fiscal_year=year, name="市南监控", data_as_of=date(2026, 6, 30),
        due_on=date(2026, 7, 15),
    )  # fmt: skip

    def report(r, f, t, **fields):
        return MonitoringReport.objects.create(
            round=r, fund=f, target=t, organization=f.organization, budget_amount=D("1000000"), **fields
        )

    report(rnd, s.fa, s.ta, status="submitted", submitted_at=at(2026, 7, 15, 23, 0))  # on the due day (local)
    report(rnd, s.fb, s.tb, status="submitted", submitted_at=at(2026, 7, 20))  # 5 days late
    report(rnd, s.fe, s.te)  # never submitted
    report(sn_rnd, s.ff, s.tf)  # another region
    # --- self-evaluations
    sr = SelfEvaluationRound.objects.create(
        organization=w.city_finance, fiscal_year=year, name="2026年度自评", due_on=date(2027, 3, 31)
    )

    def selfeval(f, t, **fields):
        return SelfEvaluation.objects.create(
            round=sr, fund=f, target=t, organization=f.organization, budget_amount=D("1000000"), **fields
        )

    s.sa = selfeval(s.fa, s.ta, status="confirmed", submitted_at=at(2027, 3, 1), score=D("85"))
    s.sb = selfeval(s.fb, s.tb, status="submitted", submitted_at=at(2027, 4, 2), score=D("70"))
    s.se = selfeval(s.fe, s.te, score=D("99"))  # a draft: neither submitted nor compared
    # --- key evaluations (finance plan; a department plan's score is not finance's)
    plan = EvaluationPlan.objects.create(
        organization=w.city_finance, fiscal_year=year, kind="finance", name="2026重点评价", created_by=w.perf_admin
    )
    dept_plan = EvaluationPlan.objects.create(
        organization=w.edu, fiscal_year=year, kind="department", name="教育局部门评价", created_by=w.edu_approver
    )
    done = {"status": KeyEvaluation.Status.COMPLETED, "completed_at": at(2027, 5, 1)}
    s.ka = KeyEvaluation.objects.create(plan=plan, fund=s.fa, department=w.edu, score=D("75"), **done)
    s.kb = KeyEvaluation.objects.create(plan=plan, fund=s.fb, department=w.edu, score=D("68"), **done)
    KeyEvaluation.objects.create(plan=dept_plan, fund=s.fa, department=w.edu, score=D("10"), **done)
    # --- rectifications (deadline in 2026 and passed)
    rect = {"source": "key_evaluation", "fiscal_year": year, "problem": "问题", "created_by": w.perf_admin}
    Rectification.objects.create(
        organization=w.edu_unit, deadline=date(2026, 5, 31), status="done", completed_on=date(2026, 5, 30), **rect
    )
    Rectification.objects.create(
        organization=w.edu, deadline=date(2026, 6, 30), status="done", completed_on=date(2026, 7, 5), **rect
    )
    Rectification.objects.create(organization=w.edu, deadline=date(2026, 8, 31), status="in_progress", **rect)
    Rectification.objects.create(organization=w.edu, deadline=date(2027, 1, 31), status="pending", **rect)
    Rectification.objects.create(organization=w.shinan_edu, deadline=date(2026, 8, 31), status="pending", **rect)
    # --- disclosures: target A, key A published; key B withdrawn; target B, self-eval A not published
    pub = {
        "department": w.edu,
        "region": w.edu.region,
        "fiscal_year": year,
        "title": "公开",
        "published_by": w.perf_admin,
    }
    Disclosure.objects.create(kind="target", target=s.ta, fund=s.fa, **pub)
    Disclosure.objects.create(kind="key_evaluation", key_evaluation=s.ka, fund=s.fa, **pub)
    Disclosure.objects.create(kind="key_evaluation", key_evaluation=s.kb, fund=s.fb, status="withdrawn", **pub)
    return s


@pytest.fixture
def data(world, year):
    return build(world, year)


@pytest.fixture
def sheet(world, year, data):
    assessment = svc.assessment_create(actor=world.perf_admin, fiscal_year=year, kind=AssessmentKind.DEPARTMENTS)
    svc.assessment_compute(assessment.pk, today=TODAY)
    return assessment


def line(assessment, org, metric) -> AssessmentLine:
    return AssessmentLine.objects.get(body__assessment=assessment, body__organization=org, item__metric=metric)


def test_target_on_time_counts_the_first_submission_and_the_units(world, sheet):
    edu = line(sheet, world.edu, Metric.TARGET_ON_TIME)
    # due: A (the unit first sent it 10-20 → on time, though forwarded to finance 11-03), B (unit, no
    # audit rows: submitted_at 11-05 → late), C (never); D not arranged, G (涉密) counts for filing
    # too: submitted 10-01.
    assert (edu.basis["numerator"], edu.basis["denominator"]) == (2, 4)
    assert edu.value == D("50.00") and edu.computed_points == edu.points == D("7.50")
    assert edu.basis["summary"] == "应报送绩效目标 4 项，单位按时提交 2 项，按时率 50.00%"
    records = edu.basis["records"]
    assert [r["ok"] for r in records] == [False, False, True, True]  # the failures first
    late = next(r for r in records if r["label"] == "资金B绩效目标")
    assert late["note"] == "逾期 5 天" and late["due"] == "2025-10-31" and late["done"] == "2025-11-05"
    assert late["url"] == f"/targets/{PerformanceTarget.objects.get(fund__code='B').pk}/"
    a = next(r for r in records if r["label"] == "资金A绩效目标")
    assert a["ok"] and a["done"] == "2025-10-20"
    health = line(sheet, world.health, Metric.TARGET_ON_TIME)  # 23:30 on the due day, local time
    assert (health.basis["numerator"], health.basis["denominator"], health.points) == (1, 1, D("15.00"))


@pytest.mark.parametrize("metric", [m for m in Metric.values if m != Metric.MANUAL])
def test_no_data_gives_full_points_with_the_metrics_own_reason(world, sheet, metric):
    sci = line(sheet, world.sci, metric)
    assert sci.points == sci.item.max_points and sci.value is None
    assert sci.basis["summary"] == metrics.NO_DATA[metric] and sci.basis["denominator"] == 0


def test_no_data_sentences_say_what_was_missing():
    assert len(set(metrics.NO_DATA.values())) == len(metrics.NO_DATA) == len(Metric.values) - 1
    assert metrics.NO_DATA[Metric.SCORE_GAP] == "本年度无同时有单位自评和财政重点评价得分的项目，按满分计"
    assert metrics.NO_DATA[Metric.RECTIFICATION_ON_TIME] == "本年度无到期的整改事项，按满分计"
    assert metrics.NO_DATA[Metric.MONITORING_ON_TIME].startswith("本年度无到期的监控报送任务")


def test_monitoring_on_time(world, sheet):
    edu = line(sheet, world.edu, Metric.MONITORING_ON_TIME)
    assert (edu.basis["numerator"], edu.basis["denominator"], edu.value, edu.points) == (1, 2, D("50.00"), D("7.50"))
    health = line(sheet, world.health, Metric.MONITORING_ON_TIME)
    assert health.points == D("0.00")
    assert health.basis["summary"] == "应报送监控报告 1 份，按时报送 0 份，按时率 0.00%"
    assert health.basis["records"][0]["note"] == "未报送"


def test_selfeval_on_time_and_not_yet_owed(world, year, data):
    edu = line_of_fresh(world, year, Metric.SELFEVAL_ON_TIME, TODAY, world.edu)
    assert (edu.basis["numerator"], edu.basis["denominator"], edu.points) == (1, 2, D("7.50"))
    # Before the due date the unsubmitted draft is not owed yet: 卫生健康委 has nothing due.
    health = line_of_fresh(world, year, Metric.SELFEVAL_ON_TIME, date(2027, 3, 1), world.health)
    assert health.basis["summary"] == "本年度无到期的单位自评报送任务，按满分计"


def line_of_fresh(world, year, metric, today, org):
    from apps.supervision.models import AnnualAssessment

    assessment = AnnualAssessment.objects.filter(fiscal_year=year, kind=AssessmentKind.DEPARTMENTS).first()
    if assessment is None:
        assessment = svc.assessment_create(actor=world.perf_admin, fiscal_year=year, kind=AssessmentKind.DEPARTMENTS)
    svc.assessment_compute(assessment.pk, today=today)
    return line(assessment, org, metric)


def test_first_pass_ignores_the_departments_own_return(world, sheet):
    edu = line(sheet, world.edu, Metric.TARGET_FIRST_PASS)
    # approved: A (returned by the sector division), B (returned only inside the department), G.
    assert (edu.basis["numerator"], edu.basis["denominator"]) == (2, 3)
    assert edu.value == D("66.67") and edu.points == D("6.67")
    assert edu.basis["records"][0]["note"] == "曾被财政退回"
    health = line(sheet, world.health, Metric.TARGET_FIRST_PASS)  # still under review: nothing approved
    assert health.points == D("10.00")


def test_score_gap(world, sheet):
    edu = line(sheet, world.edu, Metric.SCORE_GAP)
    # |85 − 75| = 10, |70 − 68| = 2 → mean 6; 15 − (6 − 5) × 1 = 14
    assert edu.value == D("6.00") and edu.points == D("14.00")
    assert edu.basis["summary"] == (
        "可比项目 2 个，自评与财政重点评价得分平均偏差 6.00 分（允许偏差 5.00 分，超出部分每分扣 1.00 分）"
    )
    assert [r["label"] for r in edu.basis["records"]] == ["资金A", "资金B"]  # beyond the tolerance first
    assert [r["ok"] for r in edu.basis["records"]] == [False, True]
    # the record's date is the key evaluation's completion, under its own heading (not "未完成")
    assert {r["done"] for r in edu.basis["records"]} == {"2027-05-01"}
    assert edu.basis["done_label"] == "重点评价完成日期"


def test_score_gap_params_and_floor(world, year, data):
    assessment = svc.assessment_create(actor=world.perf_admin, fiscal_year=year, kind=AssessmentKind.DEPARTMENTS)
    item = assessment.items.get(metric=Metric.SCORE_GAP)
    svc.item_save(
        actor=world.perf_admin,
        assessment=assessment,
        item=item,
        data={"name": item.name, "metric": Metric.SCORE_GAP, "max_points": "15", "params": {"tolerance": 0,
              "deduct_per_point": 3}},
    )  # fmt: skip
    svc.assessment_compute(assessment.pk, today=TODAY)
    assert line(assessment, world.edu, Metric.SCORE_GAP).points == D("0.00")  # 15 − 6 × 3 < 0 → 0


def test_rectification_on_time(world, sheet):
    edu = line(sheet, world.edu, Metric.RECTIFICATION_ON_TIME)
    # deadline in 2026: on time (unit's), late, open; the 2027 one is not counted
    assert (edu.basis["numerator"], edu.basis["denominator"]) == (1, 3)
    assert edu.value == D("33.33") and edu.points == D("3.33")
    notes = sorted(r["note"] for r in edu.basis["records"])
    assert notes == ["", "逾期 5 天完成", "逾期未完成"]


def test_disclosure(world, sheet):
    edu = line(sheet, world.edu, Metric.DISCLOSURE)
    # owed: targets A, B (G is 涉密), self-eval A (confirmed), key A, key B and the department's own
    # evaluation of A (its report is disclosed too) → published: target A, key A (key B's withdrawn)
    assert (edu.basis["numerator"], edu.basis["denominator"]) == (2, 6)
    assert edu.value == D("33.33") and edu.points == D("3.33")
    assert edu.basis["summary"] == "应公开事项 6 项，已公开 2 项，公开完整率 33.33%"


def test_other_regions_records_never_count(world, year, data):
    assessment = svc.assessment_create(actor=world.perf_admin, fiscal_year=year, kind=AssessmentKind.DEPARTMENTS)
    bodies = metrics.assessed_bodies(assessment, TODAY)
    assert {o.pk for o in bodies.orgs} == {world.edu.pk, world.sci.pk, world.health.pk}
    assert bodies.of(world.edu_unit.pk) == world.edu.pk
    assert bodies.of(world.shinan_edu.pk) is None and bodies.of(world.city_finance.pk) is None
    for metric in Metric.values:
        if metric != Metric.MANUAL:
            tallies = metrics.measure_all(metric, bodies)
            labels = [r.label for t in tallies.values() for r in t.records]
            assert not any("资金F" in label for label in labels), metric


def test_manual_items_keep_entered_points_and_totals(world, sheet):
    manual = line(sheet, world.edu, Metric.MANUAL)
    assert manual.computed_points is None and manual.points == D("0")
    body = manual.body
    body.refresh_from_db()
    expected = sum(AssessmentLine.objects.filter(body=body).values_list("points", flat=True), D("0"))
    assert body.total == expected
    sci = line(sheet, world.sci, Metric.MANUAL).body
    sci.refresh_from_db()
    assert sci.total == D("90.00") and sci.rank == 1 and sci.grade == "excellent"


def test_a_returned_report_resubmitted_late_keeps_its_first_on_time_submission(world, year, data):
    report = MonitoringReport.objects.get(fund=data.fb)  # submitted_at 07-20: late on its own
    transition(world.edu_approver, report, "dept_review", "submitted", at(2026, 7, 10))
    transition(world.perf_admin, report, "submitted", "returned", at(2026, 7, 12))
    transition(world.edu_approver, report, "returned", "submitted", at(2026, 7, 20))
    assessment = svc.assessment_create(actor=world.perf_admin, fiscal_year=year, kind=AssessmentKind.DEPARTMENTS)
    bodies = metrics.assessed_bodies(assessment, TODAY)
    tally = metrics.measure_all(Metric.MONITORING_ON_TIME, bodies)[world.edu.pk]
    assert (tally.ok, tally.total) == (2, 2)
    assert {r.done for r in tally.records} == {date(2026, 7, 15), date(2026, 7, 10)}


def test_unsubmitted_targets_are_owed_only_once_the_filing_date_passed(world, year, data):
    assessment = svc.assessment_create(actor=world.perf_admin, fiscal_year=year, kind=AssessmentKind.DEPARTMENTS)
    before = metrics.measure_all(Metric.TARGET_ON_TIME, metrics.assessed_bodies(assessment, date(2025, 10, 15)))
    after = metrics.measure_all(Metric.TARGET_ON_TIME, metrics.assessed_bodies(assessment, date(2025, 11, 1)))
    assert before[world.edu.pk].total == 3  # C (never sent) not owed yet; A, B, G counted (sent)
    assert after[world.edu.pk].total == 4


# --- review F3: the filing date is the unit's ---------------------------------------------------


def test_target_on_time_is_the_filers_first_step_out_of_draft(world, year, data):
    w = world
    # H: the unit sent it 10-30, the department sent it back, the unit resent it 11-08, the
    # department forwarded it 11-12: on time (10-30).
    h = target(year, fund(w, year, w.edu_unit, "H"), status=TargetStatus.SECTOR_REVIEW, submitted_at=at(2025, 11, 12))
    transition(w.edu_unit_filler, h, "draft", "dept_review", at(2025, 10, 30))
    transition(w.edu_approver, h, "dept_review", "returned", at(2025, 11, 1))
    transition(w.edu_unit_filler, h, "returned", "dept_review", at(2025, 11, 8))
    transition(w.edu_approver, h, "dept_review", "sector_review", at(2025, 11, 12))
    # I: 卫生健康委 filed its own target straight to finance, 2 days late.
    i = target(year, fund(w, year, w.health, "I"), status=TargetStatus.SECTOR_REVIEW, submitted_at=at(2025, 11, 2))
    transition(w.health_filler, i, "draft", "sector_review", at(2025, 11, 2))
    assessment = svc.assessment_create(actor=w.perf_admin, fiscal_year=year, kind=AssessmentKind.DEPARTMENTS)
    tallies = metrics.measure_all(Metric.TARGET_ON_TIME, metrics.assessed_bodies(assessment, TODAY))
    rec = {r.label: r for t in tallies.values() for r in t.records}
    assert (rec["资金H绩效目标"].ok, rec["资金H绩效目标"].done) == (True, date(2025, 10, 30))
    assert (rec["资金I绩效目标"].ok, rec["资金I绩效目标"].note) == (False, "逾期 2 天")


def test_a_target_sent_to_the_department_is_owed_from_that_date(world, year, data):
    """``_owed`` follows the same date: sent to the department (not yet to finance) is handed in."""
    h = target(year, fund(world, year, world.edu_unit, "H"), status=TargetStatus.DEPT_REVIEW)
    transition(world.edu_unit_filler, h, "draft", "dept_review", at(2025, 10, 10))
    assessment = svc.assessment_create(actor=world.perf_admin, fiscal_year=year, kind=AssessmentKind.DEPARTMENTS)
    tally = metrics.measure_all(Metric.TARGET_ON_TIME, metrics.assessed_bodies(assessment, date(2025, 10, 15)))
    rec = next(r for r in tally[world.edu.pk].records if r.label == "资金H绩效目标")
    assert rec.ok and rec.done == date(2025, 10, 10) and tally[world.edu.pk].total == 4  # + A, B, G


# --- review F4: rectification judged on the day the body handed it in ---------------------------


def test_rectification_is_judged_on_the_day_it_was_handed_in(world, year, data):
    w = world
    rect = {"source": "key_evaluation", "fiscal_year": year, "created_by": w.perf_admin, "organization": w.health}
    deadline = date(2026, 9, 30)
    # handed in on time, finance accepted it a month later: on time
    Rectification.objects.create(problem="甲", deadline=deadline, status="done", submitted_at=at(2026, 9, 30, 20),
                                 completed_on=date(2026, 10, 30), **rect)  # fmt: skip
    # handed in on time, still awaiting finance: on time, noted
    Rectification.objects.create(problem="乙", deadline=deadline, status="verifying",
                                 submitted_at=at(2026, 9, 20), **rect)  # fmt: skip
    # handed in late, awaiting finance: late
    Rectification.objects.create(problem="丙", deadline=deadline, status="verifying",
                                 submitted_at=at(2026, 10, 3), **rect)  # fmt: skip
    # handed in late, accepted: late
    Rectification.objects.create(problem="丁", deadline=deadline, status="done", submitted_at=at(2026, 10, 2),
                                 completed_on=date(2026, 10, 5), **rect)  # fmt: skip
    # the deadline is today: not overdue yet, not counted
    Rectification.objects.create(problem="戊", deadline=date(2026, 12, 1), status="pending", **rect)
    assessment = svc.assessment_create(actor=w.perf_admin, fiscal_year=year, kind=AssessmentKind.DEPARTMENTS)
    tally = metrics.measure_all(Metric.RECTIFICATION_ON_TIME, metrics.assessed_bodies(assessment, date(2026, 12, 1)))
    health = tally[w.health.pk]
    by = {r.label: r for r in health.records}
    assert set(by) == {"甲", "乙", "丙", "丁"} and (health.ok, health.total) == (2, 4)
    assert (by["甲"].ok, by["甲"].done, by["甲"].note) == (True, date(2026, 9, 30), "")
    assert (by["乙"].ok, by["乙"].note) == (True, "按期报送，待财政核实")
    assert (by["丙"].ok, by["丙"].note) == (False, "逾期 3 天报送，待财政核实")
    assert (by["丁"].ok, by["丁"].note) == (False, "逾期 2 天完成")
    later = metrics.measure_all(Metric.RECTIFICATION_ON_TIME, metrics.assessed_bodies(assessment, date(2026, 12, 2)))
    assert {r.label for r in later[w.health.pk].records} == {"甲", "乙", "丙", "丁", "戊"}


# --- walkthrough #3, #6 -----------------------------------------------------------------------------


def test_disclosed_records_carry_their_publication_date(world, sheet):
    records = line(sheet, world.edu, Metric.DISCLOSURE).basis["records"]
    disclosed = [r for r in records if r["ok"]]
    assert len(disclosed) == 2 and all(r["done"] for r in disclosed)
    assert all(r["done"] is None and r["note"] == "未公开" for r in records if not r["ok"])
    published = Disclosure.objects.get(target=PerformanceTarget.objects.get(fund__code="A"))
    target_a = next(r for r in disclosed if r["label"] == "资金A绩效目标")
    assert target_a["done"] == timezone.localdate(published.published_at).isoformat()
    assert line(sheet, world.edu, Metric.DISCLOSURE).basis["done_label"] == "公开日期"


def test_first_pass_counts_a_target_with_its_versions_once(world, year, data):
    w = world
    # H: version 1 approved, adjusted as version 2 — returned by 绩效处 once, then approved.
    fh = fund(w, year, w.health_unit, "H")
    v1 = target(year, fh, status=TargetStatus.SUPERSEDED, submitted_at=at(2025, 10, 1), approved_at=at(2026, 1, 5))
    v2 = target(year, fh, version=2, previous=v1, status=TargetStatus.APPROVED, submitted_at=at(2026, 5, 1),
                approved_at=at(2026, 6, 1))  # fmt: skip
    transition(w.perf_admin, v2, "perf_review", "returned", at(2026, 5, 10))
    # J: version 1 approved, version 2 under review, never returned: one target, passed first time.
    fj = fund(w, year, w.health_unit, "J")
    j1 = target(year, fj, status=TargetStatus.SUPERSEDED, submitted_at=at(2025, 10, 1), approved_at=at(2026, 1, 5))
    target(year, fj, version=2, previous=j1, status=TargetStatus.PERF_REVIEW, submitted_at=at(2026, 5, 1))
    assessment = svc.assessment_create(actor=w.perf_admin, fiscal_year=year, kind=AssessmentKind.DEPARTMENTS)
    svc.assessment_compute(assessment.pk, today=TODAY)
    health = line(assessment, w.health, Metric.TARGET_FIRST_PASS)
    assert (health.basis["numerator"], health.basis["denominator"]) == (1, 2)  # not 4 versions
    assert health.basis["summary"] == (
        "已批复或被财政退回的绩效目标 2 项（调整版本与原目标合计为一项），已批复且未经财政退回 1 项，一次通过率 50.00%"
    )
    h, j = health.basis["records"]
    assert (h["label"], h["ok"], h["note"], h["done"]) == ("资金H绩效目标", False, "曾被财政退回；含调整共 2 版",
                                                           "2026-01-05")  # fmt: skip
    assert h["url"] == f"/targets/{v2.pk}/"
    assert (j["label"], j["ok"], j["note"]) == ("资金J绩效目标", True, "含调整共 2 版")
    assert j["url"] == f"/targets/{j1.pk}/"


def test_first_pass_counts_a_target_finance_returned_that_never_came_back(world, year, data):
    w = world
    # 卫生健康委 (its unit): E is under review, never returned — not counted, as before.
    # K: returned by 绩效处, never resubmitted → counted, not passed.
    fk = fund(w, year, w.health_unit, "K")
    tk = target(year, fk, status=TargetStatus.RETURNED, submitted_at=at(2025, 10, 1))
    transition(w.perf_admin, tk, "perf_review", "returned", at(2025, 11, 1))
    # L: returned by 业务处室 and resubmitted, now at 绩效处 again → counted, not passed.
    fl = fund(w, year, w.health_unit, "L")
    tl = target(year, fl, status=TargetStatus.PERF_REVIEW, submitted_at=at(2025, 10, 1))
    transition(w.sector_kjw, tl, "sector_review", "returned", at(2025, 11, 1))
    transition(w.health_filler, tl, "returned", "sector_review", at(2025, 11, 5))
    # M: returned only inside the department and never sent on → not counted.
    fm = fund(w, year, w.health_unit, "M")
    tm = target(year, fm, status=TargetStatus.RETURNED, submitted_at=at(2025, 10, 1))
    transition(w.health_filler, tm, "dept_review", "returned", at(2025, 10, 5))
    # N: approved, never returned → counted, passed.
    fn = fund(w, year, w.health_unit, "N")
    target(year, fn, status=TargetStatus.APPROVED, submitted_at=at(2025, 10, 1), approved_at=at(2026, 1, 5))
    assessment = svc.assessment_create(actor=w.perf_admin, fiscal_year=year, kind=AssessmentKind.DEPARTMENTS)
    svc.assessment_compute(assessment.pk, today=TODAY)
    health = line(assessment, w.health, Metric.TARGET_FIRST_PASS)
    # Hand count: K, L, N counted (3); N passed (1): 33.33% of 10 points = 3.33.
    assert (health.basis["numerator"], health.basis["denominator"]) == (1, 3)
    assert health.value == D("33.33") and health.points == D("3.33")
    records = {r["label"]: r for r in health.basis["records"]}
    assert set(records) == {"资金K绩效目标", "资金L绩效目标", "资金N绩效目标"}
    assert (records["资金K绩效目标"]["ok"], records["资金K绩效目标"]["note"]) == (False, "曾被财政退回；尚未批复")
    assert records["资金K绩效目标"]["done"] is None
    assert (records["资金L绩效目标"]["ok"], records["资金L绩效目标"]["note"]) == (False, "曾被财政退回；尚未批复")
    assert (records["资金N绩效目标"]["ok"], records["资金N绩效目标"]["note"]) == (True, "")
    # 教育局 is unchanged: A (returned, approved), B (department return only), G — 2 of 3.
    edu = line(assessment, w.edu, Metric.TARGET_FIRST_PASS)
    assert (edu.basis["numerator"], edu.basis["denominator"]) == (2, 3)


@pytest.mark.parametrize(("sort_order", "expected"), [(0, "second"), (5, "first")])
def test_districts_assessment_and_fiscal_evaluation_pick_the_same_office(world, year, sort_order, expected):
    """A district with two top-level finance organisations (the scale data's "SC…" bureaus beside the
    demo's): the districts assessment and the fiscal evaluation name the same office, the first by
    (sort order, code)."""
    w = world
    second = OrganizationFactory(
        code="SC-370202-CZ", name="市南区财政局（规模）", kind=Organization.Kind.FINANCE, region=w.shinan,
        sort_order=sort_order,
    )  # fmt: skip
    office = second if expected == "second" else w.shinan_finance_org
    assessment = svc.assessment_create(actor=w.perf_admin, fiscal_year=year, kind=AssessmentKind.DISTRICTS)
    bodies = metrics.assessed_bodies(assessment, TODAY)
    evaluation = fiscal.fiscal_evaluation_create(actor=w.perf_admin, fiscal_year=year, title="区市财政运行评价")
    evaluation = fiscal.fiscal_evaluation_open(actor=w.perf_admin, evaluation=evaluation, today=date(2026, 1, 1))
    submitted = list(evaluation.submissions.values_list("organization_id", flat=True))
    assert [o.pk for o in bodies.orgs] == submitted == [office.pk]
    assert [o.pk for o in metrics.district_offices(w.city.pk)] == [office.pk]
    # every organisation of the district (the other office too) reports to the chosen office
    assert {bodies.of(pk) for pk in (w.shinan_finance_org.pk, second.pk, w.shinan_edu.pk)} == {office.pk}
