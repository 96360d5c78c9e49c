"""Key evaluations through the services: plan rules, the frame and its weights, scoring and grades,
the workflow, who may edit what."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from guardian.shortcuts import assign_perm

from apps.attachments.services import attachment_add
from apps.core.models import AuditEvent
from apps.evaluations import key_services, plans
from apps.evaluations.key_services import LineEntry
from apps.evaluations.models import DEFAULT_FRAME, EvaluationPlan, KeyEvaluation, ScoringRules
from apps.funds.models import SpecialFund
from apps.orgs.models import FiscalYear
from apps.targets.models import PerformanceTarget, TargetStatus

D = Decimal
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
KS = KeyEvaluation.Status


# --- helpers shared by the key-evaluation and coverage tests ---------------------------------


@pytest.fixture(name="years")
def years_fixture(db):
    """Fiscal years 2021–2026 (2026 current); evaluations of 2025's funds run in 2026."""
    for y in range(2021, 2027):
        FiscalYear.objects.get_or_create(year=y, defaults={"is_current": y == 2026, "is_closed": y < 2026})
    return FiscalYear.objects.in_bulk()


def make_fund(world, year: int, code: str, *, dept=None, unit=None, start=None, previous=None, approved=True,
              versions=1, amount="1000000", tags=()) -> SpecialFund:  # fmt: skip
    """A fund written directly (like fixtures) with ``versions`` approved target versions."""
    dept = dept or world.edu
    org = unit or (world.edu_unit if dept == world.edu else dept)
    fund = SpecialFund.objects.create(
        fiscal_year_id=year, region=dept.region, code=code, name=f"项目{code}", organization=org, department=dept,
        fiscal_amount=D(amount), period_start=start if start is not None else year, period_end=year + 2,
        previous=previous,
    )  # fmt: skip
    if tags:
        fund.policy_tags.set(tags)
    previous_target = None
    for version in range(1, versions + 1):
        previous_target = PerformanceTarget.objects.create(
            kind=PerformanceTarget.Kind.FUND, fund=fund, organization=org, fiscal_year_id=year, version=version,
            previous=previous_target, status=TargetStatus.APPROVED if approved else TargetStatus.DRAFT,
        )  # fmt: skip
    return fund


def department_target(dept, year: int, status=TargetStatus.APPROVED, version=1) -> PerformanceTarget:
    return PerformanceTarget.objects.create(
        kind=PerformanceTarget.Kind.DEPARTMENT, organization=dept, fiscal_year_id=year, status=status, version=version
    )


def finance_plan(world, year: int = 2025, actor=None) -> EvaluationPlan:
    return plans.plan_create(
        actor=actor or world.perf_admin, organization=world.city_finance, fiscal_year=FiscalYear.objects.get(pk=year)
    )


def issued_evaluation(world, fund=None, *, kind="finance") -> KeyEvaluation:
    """An issued plan (finance, or 教育局's own) with one evaluation of ``fund``."""
    fund = fund or make_fund(world, 2025, "EDU-2025-01")
    if kind == "finance":
        plan, actor = finance_plan(world), world.perf_admin
    else:
        year = FiscalYear.objects.get(pk=2025)
        plan = plans.plan_create(actor=world.edu_approver, organization=world.edu, fiscal_year=year)
        actor = world.edu_approver
    plans.plan_add_funds(actor=actor, plan=plan, funds=[fund])
    plans.plan_issue(actor=actor, plan=plan)
    return plan.evaluations.get()


def entries(evaluation, points=None, **changes) -> list[LineEntry]:
    """The evaluation's lines as entries; ``points``: a list per line (None keeps the saved value)."""
    rows = []
    for i, line in enumerate(evaluation.lines.order_by("sort_order", "pk")):
        value = line.points if points is None or points[i] is None else points[i]
        rows.append(LineEntry(id=line.pk, dimension=line.dimension, name=line.name, max_points=line.max_points,
                              points=value, comment=line.comment))  # fmt: skip
    return rows


def points_for(evaluation, total: Decimal) -> list[Decimal]:
    """Points per line adding up to ``total`` (each line full until the total is reached)."""
    remaining, result = total, []
    for line in evaluation.lines.order_by("sort_order", "pk"):
        given = min(line.max_points, remaining)
        result.append(given)
        remaining -= given
    return result


def score(world, evaluation, total, actor=None, findings="资金拨付滞后。") -> KeyEvaluation:
    return key_services.evaluation_save(
        actor=actor or world.perf_admin,
        evaluation=evaluation,
        lines=entries(evaluation, points_for(evaluation, D(total))),
        findings=findings,
    )


def upload_report(actor, evaluation):
    return attachment_add(
        actor=actor,
        obj=evaluation,
        file=SimpleUploadedFile("评价报告.pdf", PDF, content_type="application/pdf"),
        view_action="evaluation.view",
        edit_action=evaluation.conduct_action,
    )


# --- plans -----------------------------------------------------------------------------------


def test_finance_and_department_plans(world, years):
    plan = finance_plan(world)
    assert plan.kind == "finance" and plan.status == "draft"
    assert plan.name == "青岛市财政局2025年度项目财政重点评价计划"
    own = plans.plan_create(
        actor=world.edu_approver, organization=world.edu, fiscal_year=years[2025], name="教育局评价"
    )
    assert own.kind == "department" and own.name == "教育局评价"
    assert AuditEvent.objects.for_object(plan).filter(kind="create").exists()
    assert plans.evaluator_for(world.perf_admin) == world.city_finance
    assert plans.evaluator_for(world.edu_approver) == world.edu
    assert plans.evaluator_for(world.shinan_finance) == world.shinan_finance_org
    assert plans.evaluator_for(world.edu_filler) is None and plans.evaluator_for(world.sector_kjw) is None


@pytest.mark.parametrize(
    "persona, org",
    [
        ("sector_kjw", "city_finance"),  # a sector division does not draw up plans
        ("shinan_finance", "city_finance"),  # another district's bureau
        ("edu_approver", "city_finance"),
        ("edu_filler", "edu"),  # only the department's approver
        ("health_filler", "edu"),
        ("edu_approver", "health"),  # another department
        ("auditor", "city_finance"),
    ],
)
def test_wrong_evaluator_is_refused(world, years, persona, org):
    with pytest.raises(PermissionDenied):
        plans.plan_create(actor=getattr(world, persona), organization=getattr(world, org), fiscal_year=years[2025])
    assert not EvaluationPlan.objects.exists()


def test_a_unit_cannot_be_an_evaluator_and_one_plan_per_year(world, years):
    with pytest.raises(ValidationError, match="评价主体只能是区域的财政局或预算部门"):
        plans.plan_create(actor=world.edu_approver, organization=world.edu_unit, fiscal_year=years[2025])
    first = finance_plan(world)
    with pytest.raises(ValidationError) as exc:
        finance_plan(world)
    assert exc.value.message_dict["fiscal_year"] == [
        f"青岛市财政局已有2025年度的评价计划“{first.name}”，每年只编制一个。"
    ]
    finance_plan(world, year=2024)  # another year is another plan
    assert EvaluationPlan.objects.count() == 2


def test_adding_funds_creates_evaluations_with_the_frame(world, years):
    fund = make_fund(world, 2025, "EDU-2025-01", versions=2)
    plan = finance_plan(world)
    assert plans.plan_add_funds(actor=world.perf_admin, plan=plan, funds=[fund]) == 1
    assert plans.plan_add_funds(actor=world.perf_admin, plan=plan, funds=[fund]) == 0  # a double submit adds nothing
    evaluation = plan.evaluations.get()
    assert evaluation.department == world.edu and evaluation.subject == "fund" and evaluation.status == "planned"
    assert evaluation.target == fund.targets.get(version=2)  # the latest approved version
    assert [(line.dimension, line.name, line.max_points) for line in evaluation.lines.order_by("sort_order")] == [
        (str(d), n, p) for d, n, p in DEFAULT_FRAME
    ]
    assert evaluation.weights == {"decision": 15, "process": 20, "output": 30, "effect": 35}
    assert "列入评价 1 个项目" in AuditEvent.objects.for_object(plan).latest("id").comment


def test_funds_outside_the_plan_are_refused_all_or_nothing(world, years):
    good = make_fund(world, 2025, "EDU-2025-01")
    other_year = make_fund(world, 2024, "EDU-2024-09")
    no_target = make_fund(world, 2025, "EDU-2025-02", approved=False)
    district = make_fund(world, 2025, "SN-2025-01", dept=world.shinan_edu, unit=world.shinan_edu_unit)
    plan = finance_plan(world)
    with pytest.raises(ValidationError) as exc:
        plans.plan_add_funds(actor=world.perf_admin, plan=plan, funds=[good, other_year, no_target, district])
    assert exc.value.messages == [
        "“EDU-2024-09 项目EDU-2024-09”是2024年度的项目，本计划评价2025年度的项目。",
        "“EDU-2025-02 项目EDU-2025-02”尚无已批复的绩效目标，不能列入重点评价。",
        "“SN-2025-01 项目SN-2025-01”不属于市本级，不能列入本计划。",
    ]
    assert not KeyEvaluation.objects.exists()
    with pytest.raises(ValidationError, match="请选择"):
        plans.plan_add_funds(actor=world.perf_admin, plan=plan, funds=[])


def test_department_plan_takes_only_its_own_funds(world, years):
    own_unit_fund = make_fund(world, 2025, "EDU-2025-01")  # a unit's fund of 教育局
    health = make_fund(world, 2025, "HEALTH-2025-01", dept=world.health, unit=world.health_unit)
    plan = plans.plan_create(actor=world.edu_approver, organization=world.edu, fiscal_year=years[2025])
    with pytest.raises(ValidationError, match="不是青岛市教育局（含下属单位）的项目"):
        plans.plan_add_funds(actor=world.edu_approver, plan=plan, funds=[health])
    assert plans.plan_add_funds(actor=world.edu_approver, plan=plan, funds=[own_unit_fund]) == 1
    with pytest.raises(ValidationError, match="只能列入财政重点评价计划"):
        department_target(world.edu, 2025)
        plans.plan_add_department(actor=world.edu_approver, plan=plan, department=world.edu)
    with pytest.raises(PermissionDenied):  # 教育局's filler may not change the plan, nor finance
        plans.plan_add_funds(actor=world.edu_filler, plan=plan, funds=[own_unit_fund])
    with pytest.raises(PermissionDenied):
        plans.plan_remove_fund(actor=world.perf_admin, plan=plan, fund=own_unit_fund)
    assert plan.evaluations.count() == 1


def test_changes_only_while_draft_and_by_the_evaluator(world, years):
    fund, later = make_fund(world, 2025, "EDU-2025-01"), make_fund(world, 2025, "EDU-2025-02")
    plan = finance_plan(world)
    with pytest.raises(ValidationError, match="评价计划中还没有评价对象"):
        plans.plan_issue(actor=world.perf_admin, plan=plan)
    plans.plan_add_funds(actor=world.perf_admin, plan=plan, funds=[fund, later])
    plans.plan_remove_fund(actor=world.perf_admin, plan=plan, fund=later)
    with pytest.raises(ValidationError, match="不在本计划中"):
        plans.plan_remove_fund(actor=world.perf_admin, plan=plan, fund=later)
    for persona in ("sector_kjw", "shinan_finance", "edu_approver"):
        with pytest.raises(PermissionDenied):
            plans.plan_add_funds(actor=getattr(world, persona), plan=plan, funds=[later])
        with pytest.raises(PermissionDenied):
            plans.plan_issue(actor=getattr(world, persona), plan=plan)
    plan = plans.plan_issue(actor=world.perf_admin, plan=plan)
    assert plan.status == "issued" and plan.issued_at is not None
    with pytest.raises(ValidationError, match="不能执行“下达计划”"):
        plans.plan_issue(actor=world.perf_admin, plan=plan)
    with pytest.raises(ValidationError, match="已下达”，不能再调整评价对象"):
        plans.plan_add_funds(actor=world.perf_admin, plan=plan, funds=[later])
    with pytest.raises(ValidationError, match="不能再调整评价对象"):
        plans.plan_remove_fund(actor=world.perf_admin, plan=plan, fund=fund)
    assert list(plan.evaluations.values_list("fund__code", flat=True)) == ["EDU-2025-01"]


def test_a_started_evaluation_stays_in_the_plan(world, years):
    evaluation = issued_evaluation(world)
    key_services.evaluation_transition(actor=world.perf_admin, evaluation=evaluation, name="start")
    EvaluationPlan.objects.filter(pk=evaluation.plan_id).update(status="draft")  # even if the plan were reopened
    with pytest.raises(ValidationError, match="评价已经开始，不能移出计划"):
        plans.plan_remove_fund(actor=world.perf_admin, plan=evaluation.plan, fund=evaluation.fund)
    assert KeyEvaluation.objects.filter(pk=evaluation.pk).exists()


def test_department_overall_evaluation(world, years):
    plan = finance_plan(world)
    with pytest.raises(ValidationError, match="尚无2025年度已批复的部门整体绩效目标"):
        plans.plan_add_department(actor=world.perf_admin, plan=plan, department=world.edu)
    department_target(world.edu, 2025, status=TargetStatus.PERF_REVIEW)
    with pytest.raises(ValidationError, match="尚无2025年度已批复"):
        plans.plan_add_department(actor=world.perf_admin, plan=plan, department=world.edu)
    department_target(world.edu, 2024)  # another year's target does not count
    with pytest.raises(ValidationError, match="尚无2025年度已批复"):
        plans.plan_add_department(actor=world.perf_admin, plan=plan, department=world.edu)
    target = department_target(world.edu, 2025, version=2)
    evaluation = plans.plan_add_department(actor=world.perf_admin, plan=plan, department=world.edu)
    assert (evaluation.subject, evaluation.fund, evaluation.department, evaluation.target) == (
        "department",
        None,
        world.edu,
        target,
    )
    assert evaluation.lines.count() == len(key_services.DEPARTMENT_FRAME)
    assert sum(line.max_points for line in evaluation.lines.all()) == 100
    with pytest.raises(ValidationError, match="部门整体评价已在本计划中"):
        plans.plan_add_department(actor=world.perf_admin, plan=plan, department=world.edu)
    with pytest.raises(ValidationError, match="不属于市本级"):
        plans.plan_add_department(actor=world.perf_admin, plan=plan, department=world.shinan_edu)
    with pytest.raises(ValidationError, match="不是预算部门"):
        plans.plan_add_department(actor=world.perf_admin, plan=plan, department=world.edu_unit)
    assert str(evaluation) == "青岛市教育局部门整体 财政重点评价"


# --- weights and the frame -------------------------------------------------------------------


def weights(decision, process, output, effect):
    return {"decision": decision, "process": process, "output": output, "effect": effect}


def test_weights_must_add_up_to_100_with_output_and_effect_at_least_60(world, years):
    evaluation = issued_evaluation(world)
    before = list(evaluation.lines.values_list("max_points", flat=True))
    with pytest.raises(ValidationError) as exc:
        key_services.evaluation_set_weights(
            actor=world.perf_admin, evaluation=evaluation, weights=weights(15, 20, 30, 30)
        )
    assert exc.value.messages == ["决策、过程、产出、效益四项权重合计应为 100，当前为 95。"]
    with pytest.raises(ValidationError) as exc:
        key_services.evaluation_set_weights(
            actor=world.perf_admin, evaluation=evaluation, weights=weights(25, 25, 25, 25)
        )
    assert exc.value.messages == ["产出与效益权重合计应不低于 60，当前为 50。"]
    with pytest.raises(ValidationError) as exc:
        key_services.evaluation_set_weights(
            actor=world.perf_admin, evaluation=evaluation, weights=weights("x", -1, "", 30.123)
        )
    assert exc.value.messages == [
        "决策权重必须是数字。",
        "过程权重不能为负数。",
        "产出权重不能为空。",
        "效益权重最多保留两位小数。",
    ]
    evaluation.refresh_from_db()
    assert evaluation.weights == {"decision": 15, "process": 20, "output": 30, "effect": 35}
    assert list(evaluation.lines.values_list("max_points", flat=True)) == before
    # The boundary: exactly 60 is allowed.
    key_services.evaluation_set_weights(actor=world.perf_admin, evaluation=evaluation, weights=weights(20, 20, 30, 30))
    evaluation.refresh_from_db()
    assert evaluation.weights == {"decision": 20, "process": 20, "output": 30, "effect": 30}


def test_the_minimum_is_configurable_per_region(world, years):
    ScoringRules.objects.create(region=world.city, fiscal_year=years[2025], key_min_output_effect=D("70"))
    evaluation = issued_evaluation(world)
    with pytest.raises(ValidationError, match="产出与效益权重合计应不低于 70，当前为 65"):
        key_services.evaluation_set_weights(
            actor=world.perf_admin, evaluation=evaluation, weights=weights(15, 20, 30, 35)
        )


def test_new_weights_scale_the_lines(world, years):
    evaluation = issued_evaluation(world)
    key_services.evaluation_transition(actor=world.perf_admin, evaluation=evaluation, name="start")
    score(world, evaluation, 100)
    key_services.evaluation_set_weights(actor=world.perf_admin, evaluation=evaluation, weights=weights(10, 10, 40, 40))
    groups = {}
    for line in evaluation.lines.all():
        groups.setdefault(line.dimension, []).append(line)
    assert {d: sum(line.max_points for line in rows) for d, rows in groups.items()} == weights(10, 10, 40, 40)
    assert all(line.points == line.max_points for line in evaluation.lines.all())  # full stays full
    evaluation.refresh_from_db()
    assert evaluation.score == 100 and evaluation.grade == "excellent"
    assert AuditEvent.objects.for_object(evaluation).filter(comment="调整一级指标权重").exists()


def test_lines_must_match_the_weights(world, years):
    evaluation = issued_evaluation(world)
    rows = entries(evaluation)
    rows[0].max_points = D("6")  # 决策 now 16 ≠ 15
    with pytest.raises(ValidationError) as exc:
        key_services.evaluation_save(actor=world.perf_admin, evaluation=evaluation, lines=rows)
    assert exc.value.messages == ["决策各项指标分值合计 16 与决策权重 15 不一致。"]
    # Same change with matching weights: accepted (产出 gives one point to 决策).
    rows[5].max_points = D("9")
    key_services.evaluation_save(
        actor=world.perf_admin, evaluation=evaluation, lines=rows, weights=weights(16, 20, 29, 35)
    )
    evaluation.refresh_from_db()
    assert evaluation.weights["decision"] == 16 and evaluation.lines.get(name="产出数量").max_points == 9


def test_lines_are_added_removed_and_checked_row_by_row(world, years):
    evaluation = issued_evaluation(world)
    rows = entries(evaluation)
    satisfaction = rows.pop()  # remove 满意度 (10) …
    rows.append(LineEntry(dimension="effect", name="社会效益", max_points="6", points="5"))  # … add two lines
    rows.append(LineEntry(dimension="effect", name="可持续影响", max_points="4"))
    key_services.evaluation_save(actor=world.perf_admin, evaluation=evaluation, lines=rows)
    names = list(evaluation.lines.filter(dimension="effect").order_by("sort_order").values_list("name", flat=True))
    assert names == ["项目效益", "社会效益", "可持续影响"]
    assert not evaluation.lines.filter(pk=satisfaction.id).exists()
    bad = entries(evaluation)
    bad[0].points, bad[1].points, bad[2].name, bad[3].max_points = "6", "-1", "", "abc"
    with pytest.raises(ValidationError) as exc:
        key_services.evaluation_save(actor=world.perf_admin, evaluation=evaluation, lines=bad)
    assert exc.value.messages == [
        "第 1 行（决策·项目立项）：得分 6 不能超过分值 5。",
        "第 2 行（决策·绩效目标）：得分不能为负数。",
        "第 3 行（决策·未命名）：请填写评价指标名称。",
        "第 4 行（过程·资金管理）：分值必须是数字。",
    ]
    other = issued_evaluation(world, make_fund(world, 2025, "EDU-2025-02"), kind="department")
    stranger = entries(other)
    with pytest.raises(ValidationError, match="指标行不属于该评价"):
        key_services.evaluation_save(actor=world.perf_admin, evaluation=evaluation, lines=stranger)
    assert evaluation.lines.count() == 12 and evaluation.lines.filter(points__isnull=False).count() == 1


# --- scoring and grades ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "total, grade",
    [("100", "excellent"), ("90", "excellent"), ("89.99", "good"), ("80", "good"), ("79.99", "fair"),
     ("60", "fair"), ("59.99", "poor"), ("0", "poor")],
)  # fmt: skip
def test_score_is_the_sum_of_the_lines_and_the_grade_reads_off_it(world, years, total, grade):
    evaluation = issued_evaluation(world)
    evaluation = score(world, evaluation, total)
    assert evaluation.score == D(total) and evaluation.grade == grade


def test_no_score_until_every_line_is_scored_and_grade_limits_are_the_regions(world, years):
    ScoringRules.objects.create(region=world.city, fiscal_year=years[2025], grade_excellent=D("95"))
    evaluation = issued_evaluation(world)
    partial = points_for(evaluation, D("92"))
    partial[-1] = None
    evaluation = key_services.evaluation_save(
        actor=world.perf_admin, evaluation=evaluation, lines=entries(evaluation, partial)
    )
    assert evaluation.score is None and evaluation.grade == ""
    evaluation = score(world, evaluation, "92")
    assert evaluation.grade == "good"  # 优 starts at 95 in this region


# --- workflow --------------------------------------------------------------------------------


def test_full_flow_with_return_and_the_report_rule(world, years):
    evaluation = issued_evaluation(world)
    flow = lambda name, actor=world.perf_admin, comment="": key_services.evaluation_transition(  # noqa: E731
        actor=actor, evaluation=evaluation, name=name, comment=comment
    )
    with pytest.raises(ValidationError, match="不能执行“提交评价结果”"):
        flow("submit")
    flow("start")
    with pytest.raises(ValidationError) as exc:
        flow("submit")
    assert "“项目立项”（决策）尚未评分。" in exc.value.messages and "请填写评价发现的主要问题。" in exc.value.messages
    score(world, evaluation, "85.5", findings="")
    with pytest.raises(ValidationError, match="请填写评价发现的主要问题"):
        flow("submit")
    score(world, evaluation, "85.5")
    flow("submit")
    with pytest.raises(ValidationError, match="不能修改"):
        score(world, evaluation, "90")
    with pytest.raises(ValidationError, match="请先上传评价报告"):
        flow("complete")
    with pytest.raises(ValidationError, match="必须填写意见"):
        flow("return")
    flow("return", comment="效益指标评分依据不足")
    score(world, evaluation, "83")
    flow("submit")
    upload_report(world.perf_admin, evaluation)
    evaluation = flow("complete")
    assert evaluation.status == "completed" and evaluation.completed_at is not None
    evaluation.refresh_from_db()
    assert evaluation.score == D("83") and evaluation.grade == "good"
    with pytest.raises(ValidationError, match="已完成”，不能修改"):
        score(world, evaluation, "90")
    with pytest.raises(ValidationError, match="不能再上传"):
        upload_report(world.perf_admin, evaluation)
    steps = AuditEvent.objects.for_object(evaluation).filter(kind="transition").order_by("id")
    steps = list(steps.values_list("changes", flat=True))
    assert [s["status"]["to"] for s in steps] == ["in_progress", "submitted", "in_progress", "submitted", "completed"]


def test_evaluations_start_only_when_the_plan_is_issued(world, years):
    plan = finance_plan(world)
    plans.plan_add_funds(actor=world.perf_admin, plan=plan, funds=[make_fund(world, 2025, "EDU-2025-01")])
    evaluation = plan.evaluations.get()
    with pytest.raises(ValidationError, match="评价计划尚未下达"):
        key_services.evaluation_transition(actor=world.perf_admin, evaluation=evaluation, name="start")
    evaluation.refresh_from_db()
    assert evaluation.status == "planned"


def test_a_department_never_edits_finances_evaluation_of_its_fund(world, years):
    evaluation = issued_evaluation(world)
    before = list(evaluation.lines.values_list("points", flat=True))
    for persona in ("edu_filler", "edu_approver", "edu_unit_filler", "sector_kjw", "shinan_finance"):
        user = getattr(world, persona)
        with pytest.raises(PermissionDenied):
            score(world, evaluation, "100", actor=user)
        with pytest.raises(PermissionDenied):
            key_services.evaluation_set_weights(actor=user, evaluation=evaluation, weights=weights(10, 10, 40, 40))
        with pytest.raises(PermissionDenied):
            key_services.evaluation_transition(actor=user, evaluation=evaluation, name="start")
    assert list(evaluation.lines.values_list("points", flat=True)) == before
    # … but it reads it (the evaluated department sees the evaluations of its funds).
    assert KeyEvaluation.objects.restrict(world.edu_filler, "evaluation.view").filter(pk=evaluation.pk).exists()
    assert not KeyEvaluation.objects.restrict(world.health_filler, "evaluation.view").exists()


def test_a_department_evaluation_is_conducted_by_the_department_and_completed_by_its_approver(world, years):
    evaluation = issued_evaluation(world, kind="department")
    with pytest.raises(PermissionDenied):
        key_services.evaluation_transition(actor=world.perf_admin, evaluation=evaluation, name="start")
    key_services.evaluation_transition(actor=world.edu_filler, evaluation=evaluation, name="start")
    score(world, evaluation, "75", actor=world.edu_filler)
    key_services.evaluation_transition(actor=world.edu_filler, evaluation=evaluation, name="submit")
    upload_report(world.edu_filler, evaluation)
    for persona in ("edu_filler", "perf_admin"):
        with pytest.raises(PermissionDenied):
            key_services.evaluation_transition(actor=getattr(world, persona), evaluation=evaluation, name="complete")
    evaluation = key_services.evaluation_transition(actor=world.edu_approver, evaluation=evaluation, name="complete")
    assert evaluation.status == "completed"
    assert KeyEvaluation.objects.get(pk=evaluation.pk).grade == "fair"


def test_an_assigned_expert_scores_only_what_is_assigned(world, years):
    evaluation = issued_evaluation(world)
    other = issued_evaluation(world, make_fund(world, 2025, "EDU-2025-02"), kind="department")
    with pytest.raises(PermissionDenied):
        key_services.evaluation_transition(actor=world.expert_li, evaluation=evaluation, name="start")
    assign_perm("evaluations.view_keyevaluation", world.expert_li, evaluation)
    visible = KeyEvaluation.objects.restrict(world.expert_li, "evaluation.view")
    assert list(visible) == [evaluation]
    key_services.evaluation_transition(actor=world.expert_li, evaluation=evaluation, name="start")
    score(world, evaluation, "88", actor=world.expert_li)
    key_services.evaluation_transition(actor=world.expert_li, evaluation=evaluation, name="submit")
    with pytest.raises(PermissionDenied):  # experts score; finance decides
        key_services.evaluation_transition(actor=world.expert_li, evaluation=evaluation, name="complete")
    with pytest.raises(PermissionDenied):
        score(world, other, "88", actor=world.expert_li)
