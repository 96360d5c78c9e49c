"""单位自评 through the services: opening a round, saving, the workflow with its guard, finance's
adjustment, the live preview, closing a round and the to-do list."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.models import AuditEvent
from apps.core.todo import todos_for
from apps.evaluations import services
from apps.evaluations.models import (
    ScoringRules,
    SelfEvaluation,
    SelfEvaluationAdjustment,
    SelfEvaluationLine,
    SelfEvaluationRound,
)
from apps.orgs.models import FiscalYear
from tests.test_targets_flow import approve_all_the_way, filed_target, make_fund

Entry = services.Entry
TIMELY = "资金发放及时率"  # ≥ 95 %, 分值 15
MECHANISM = "资助政策长效机制"  # 定性, 分值 10


# --- fixtures and helpers (shared by the page and API tests) ------------------------------------


@pytest.fixture
def year2025(db):
    """The ended year whose self-evaluation runs now (today is in 2026)."""
    return FiscalYear.objects.get_or_create(year=2025)[0]


@pytest.fixture
def approved2025(world, year2025):
    """A 教育局 fund of 2025 (unit 青岛第二中学) whose target went all the way to 批复."""
    return approve_all_the_way(world, filed_target(world, make_fund(world, year2025, code="EDU-2025-001")))


def open_round(world, fiscal_year, actor=None):
    return services.round_open(
        actor=actor or world.perf_admin,
        organization=world.city_finance,
        fiscal_year=fiscal_year,
        due_on=date(2026, 3, 31),
    )


@pytest.fixture
def evaluation(world, year2025, approved2025):
    open_round(world, year2025)
    return SelfEvaluation.objects.get()


def lines_by_name(evaluation) -> dict[str, SelfEvaluationLine]:
    return {line.indicator.name: line for line in evaluation.lines.select_related("indicator")}


def complete_entries(evaluation, **overrides) -> dict[int, Entry]:
    """Every indicator exactly at its target (full points); ``overrides`` by indicator name."""
    entries = {}
    for name, line in lines_by_name(evaluation).items():
        if line.indicator.comparison == "qualitative":
            entry = Entry(actual_text="已建立并运行", band="achieved", band_percent="100")
        else:
            entry = Entry(actual_value=f"{line.indicator.target_value.normalize():f}")
        for key, value in overrides.get(name, {}).items():
            setattr(entry, key, value)
        entries[line.pk] = entry
    return entries


def save(world, evaluation, executed="3000000", actor=None, **kwargs):
    entries = kwargs.pop("entries", None) or complete_entries(evaluation)
    return services.evaluation_save(
        actor=actor or world.edu_unit_filler, evaluation=evaluation, executed_amount=executed, entries=entries, **kwargs
    )


# Executed 90 %, 及时率 90 of 95, 长效机制 达成 90 %: 9 + 20 + 15 + 90/95×15 + 20 + 9 + 10 = 97.2105… → 97.21
SHORTFALLS = {
    TIMELY: {"actual_value": "90"},
    MECHANISM: {"band_percent": "90"},
}
REASONS = {
    TIMELY: {"actual_value": "90", "shortfall_reason": "部分学校名单延迟报送", "improvement_measure": "提前核对名单"},
    MECHANISM: {"band_percent": "90", "shortfall_reason": "制度尚在试行", "improvement_measure": "年内正式印发"},
}


def send_ready(world, evaluation):
    """Saved with shortfalls, each with its reason and measure: ready to send."""
    return save(
        world,
        evaluation,
        executed="2700000",
        entries=complete_entries(evaluation, **REASONS),
        execution_reason="部分合同尾款未到支付节点",
        execution_measure="验收后及时支付",
    )


# --- opening the round ------------------------------------------------------------------------------


def test_round_cannot_open_before_the_year_has_ended(world, year):
    approve_all_the_way(world, filed_target(world, make_fund(world, year)))
    with pytest.raises(ValidationError) as exc:
        open_round(world, year)
    assert exc.value.message_dict == {"fiscal_year": ["2026年度尚未结束，不能开启单位自评。"]}
    assert not SelfEvaluationRound.objects.exists() and not SelfEvaluation.objects.exists()


def test_opening_creates_one_task_per_approved_fund_and_is_idempotent(world, year2025, approved2025):
    round_, made = open_round(world, year2025)
    assert made == 1 and round_.name == "2025年度项目支出绩效自评" and round_.due_on == date(2026, 3, 31)
    evaluation = SelfEvaluation.objects.get()
    assert evaluation.target == approved2025 and evaluation.organization == world.edu_unit
    assert evaluation.budget_amount == Decimal("3000000.00") and evaluation.status == "draft"
    assert evaluation.lines.count() == approved2025.indicators.count() == 6
    assert open_round(world, year2025) == (round_, 0)
    approve_all_the_way(world, filed_target(world, make_fund(world, year2025, code="EDU-2025-002")))
    assert open_round(world, year2025)[1] == 1
    assert AuditEvent.objects.for_object(round_).count() == 2  # opened, then one task added


@pytest.mark.parametrize("persona", ["sector_kjw", "edu_approver", "shinan_finance", "npc_liaison"])
def test_only_the_regions_finance_opens_the_round(world, year2025, approved2025, persona):
    with pytest.raises(PermissionDenied):
        open_round(world, year2025, actor=getattr(world, persona))
    assert not SelfEvaluationRound.objects.exists()


# --- saving -------------------------------------------------------------------------------------


def test_incomplete_work_is_saved_with_its_score(world, evaluation):
    line = lines_by_name(evaluation)["资助学生人数"]
    result = save(world, evaluation, executed="", entries={line.pk: Entry(actual_value="600")})
    evaluation.refresh_from_db()
    # Only 资助学生人数 typed: 600/1200 × 20 = 10 points; the rest is missing and scores 0.
    assert result.total == Decimal("10.00") and evaluation.score == Decimal("10.00") and evaluation.grade == "poor"
    assert len(result.missing) == 6 and "预算执行率" in result.missing
    line.refresh_from_db()
    assert line.actual_value == Decimal("600") and line.points == Decimal("10")


def test_bad_values_are_refused_by_field_naming_the_indicator_and_nothing_changes(world, evaluation):
    lines = lines_by_name(evaluation)
    entries = complete_entries(
        evaluation, 资助学生人数={"actual_value": "一千"}, **{TIMELY: {"actual_value": "-3"}},
        **{MECHANISM: {"band": "partial", "band_percent": "85"}},
    )  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        save(world, evaluation, executed="abc", entries=entries)
    errors = exc.value.message_dict
    assert errors["executed_amount"] == ["实际执行数必须是数字。"]
    assert errors[f"line-{lines['资助学生人数'].pk}-actual_value"] == [
        "第 1 项指标“资助学生人数”的实际完成值必须是数字。"
    ]
    assert errors[f"line-{lines[TIMELY].pk}-actual_value"] == ["第 3 项指标“资金发放及时率”的实际完成值不能为负数。"]
    assert errors[f"line-{lines[MECHANISM].pk}-band_percent"] == [
        "第 5 项指标“资助政策长效机制”的得分比例应在部分达成区间 [60, 80) 内。"
    ]
    evaluation.refresh_from_db()
    assert evaluation.score is None and evaluation.executed_amount is None
    assert not SelfEvaluationLine.objects.filter(actual_value__isnull=False).exists()


def test_the_breakdown_explains_every_lost_point(world, evaluation):
    result = save(world, evaluation, executed="2700000", entries=complete_entries(evaluation, **SHORTFALLS))
    assert result.total == Decimal("97.21") and result.grade == "excellent"
    by_name = {line.name: line for line in result.lines}
    assert by_name["预算执行率"].formula == "min(2700000 ÷ 3000000, 1) × 10 = 9"
    assert by_name["预算执行率"].loss_reason == "预算执行率 90%，未全部执行"
    assert by_name[TIMELY].formula == "90 ÷ 95 × 15 = 14.2105"
    assert by_name[TIMELY].loss_reason == "实际 90%，未达到目标 95%"
    assert by_name[MECHANISM].formula == "达成 90% × 10 = 9"
    assert [c.points for c in result.categories][0] == Decimal("9")


# --- the workflow ---------------------------------------------------------------------------------


def test_send_is_refused_while_values_or_reasons_are_missing(world, evaluation):
    with pytest.raises(ValidationError) as exc:
        services.evaluation_transition(actor=world.edu_unit_filler, evaluation=evaluation, name="send")
    assert "“预算执行率”尚未填写实际完成情况。" in exc.value.messages
    assert "“资助学生人数”尚未填写实际完成情况。" in exc.value.messages and len(exc.value.messages) == 7
    save(world, evaluation, executed="2700000", entries=complete_entries(evaluation, **SHORTFALLS))
    with pytest.raises(ValidationError) as exc:
        services.evaluation_transition(actor=world.edu_unit_filler, evaluation=evaluation, name="send")
    assert exc.value.messages == [
        "预算未全部执行：请填写执行偏差原因和改进措施。",
        "“资金发放及时率”未完成目标：请填写偏差原因和改进措施。",
        "“资助政策长效机制”未完成目标：请填写偏差原因和改进措施。",
    ]
    evaluation.refresh_from_db()
    assert evaluation.status == "draft"
    send_ready(world, evaluation)
    sent = services.evaluation_transition(actor=world.edu_unit_filler, evaluation=evaluation, name="send")
    assert sent.status == "dept_review"


def test_every_transition_with_comments_and_timestamps(world, evaluation):
    send_ready(world, evaluation)
    step = services.evaluation_transition
    step(actor=world.edu_unit_filler, evaluation=evaluation, name="send")
    with pytest.raises(ValidationError) as exc:
        step(actor=world.edu_approver, evaluation=evaluation, name="dept_return", comment="  ")
    assert exc.value.message_dict == {"comment": ["执行“部门退回”必须填写意见。"]}
    returned = step(actor=world.edu_approver, evaluation=evaluation, name="dept_return", comment="原因写具体些")
    assert returned.status == "returned" and returned.return_comment == "原因写具体些"
    step(actor=world.edu_unit_filler, evaluation=evaluation, name="send")
    submitted = step(actor=world.edu_approver, evaluation=evaluation, name="submit")
    assert submitted.status == "submitted" and submitted.submitted_at is not None
    with pytest.raises(ValidationError, match="执行“财政退回”必须填写意见"):
        step(actor=world.perf_admin, evaluation=evaluation, name="return")
    returned = step(actor=world.sector_kjw, evaluation=evaluation, name="return", comment="佐证材料不全")
    assert returned.status == "returned" and returned.return_comment == "佐证材料不全"
    step(actor=world.edu_filler, evaluation=evaluation, name="send")  # the department's filler may send too
    step(actor=world.edu_approver, evaluation=evaluation, name="submit")
    confirmed = step(actor=world.perf_admin, evaluation=evaluation, name="confirm")
    assert confirmed.status == "confirmed" and confirmed.status_changed_at >= confirmed.submitted_at
    moves = [
        (e.changes["status"]["from"], e.changes["status"]["to"])
        for e in AuditEvent.objects.for_object(evaluation).filter(kind="transition").order_by("id")
    ]
    assert moves == [
        ("draft", "dept_review"), ("dept_review", "returned"), ("returned", "dept_review"),
        ("dept_review", "submitted"), ("submitted", "returned"), ("returned", "dept_review"),
        ("dept_review", "submitted"), ("submitted", "confirmed"),
    ]  # fmt: skip


def test_wrong_state_and_double_submit_are_refused_cleanly(world, evaluation):
    send_ready(world, evaluation)
    step = services.evaluation_transition
    with pytest.raises(ValidationError, match="当前状态为“待填报”，不能执行“部门审核通过并报送财政”"):
        step(actor=world.edu_approver, evaluation=evaluation, name="submit")
    step(actor=world.edu_unit_filler, evaluation=evaluation, name="send")
    with pytest.raises(ValidationError, match="不能执行“提交部门审核”"):
        step(actor=world.edu_unit_filler, evaluation=evaluation, name="send")  # double click
    step(actor=world.edu_approver, evaluation=evaluation, name="submit")
    with pytest.raises(ValidationError, match="可能已被他人处理"):
        step(actor=world.edu_approver, evaluation=evaluation, name="submit")  # double submit
    with pytest.raises(ValidationError, match="不能修改"):
        save(world, evaluation)
    step(actor=world.perf_admin, evaluation=evaluation, name="confirm")
    with pytest.raises(ValidationError, match="不能执行“财政退回”"):
        step(actor=world.perf_admin, evaluation=evaluation, name="return", comment="晚了")
    with pytest.raises(ValidationError, match="未知的操作"):
        step(actor=world.perf_admin, evaluation=evaluation, name="approve")
    evaluation.refresh_from_db()
    assert evaluation.status == "confirmed"
    assert AuditEvent.objects.for_object(evaluation).filter(kind="transition").count() == 3


@pytest.mark.parametrize(
    ("persona", "name"),
    [
        ("edu_unit_filler", "submit"),  # a unit cannot approve its own work
        ("edu_filler", "submit"),
        ("health_filler", "send"),
        ("shinan_edu_filler", "send"),
        ("perf_admin", "send"),
        ("edu_approver", "confirm"),
        ("shinan_finance", "confirm"),
        ("npc_liaison", "confirm"),
    ],
)
def test_wrong_people_cannot_move_it(world, evaluation, persona, name):
    send_ready(world, evaluation)
    if name == "confirm":
        services.evaluation_transition(actor=world.edu_unit_filler, evaluation=evaluation, name="send")
        services.evaluation_transition(actor=world.edu_approver, evaluation=evaluation, name="submit")
    before = SelfEvaluation.objects.get().status
    with pytest.raises(PermissionDenied):
        services.evaluation_transition(actor=getattr(world, persona), evaluation=evaluation, name=name)
    assert SelfEvaluation.objects.get().status == before


# --- finance's adjustment ---------------------------------------------------------------------------


@pytest.fixture
def submitted(world, evaluation):
    send_ready(world, evaluation)
    services.evaluation_transition(actor=world.edu_unit_filler, evaluation=evaluation, name="send")
    services.evaluation_transition(actor=world.edu_approver, evaluation=evaluation, name="submit")
    evaluation.refresh_from_db()
    return evaluation


def adjust(world, evaluation, new_score="85", reason="抽查发现佐证材料不全", actor=None):
    return services.evaluation_adjust(
        actor=actor or world.perf_admin, evaluation=evaluation, new_score=new_score, reason=reason
    )


@pytest.mark.parametrize(
    ("new_score", "reason", "errors"),
    [
        ("85", " ", {"reason": ["调整得分必须写明理由。"]}),
        ("", "理由", {"new_score": ["请填写调整后得分。"]}),
        ("高", "理由", {"new_score": ["调整后得分必须是数字。"]}),
        ("100.01", "理由", {"new_score": ["调整后得分应在 0 到 100 之间。"]}),
        ("-1", "理由", {"new_score": ["调整后得分应在 0 到 100 之间。"]}),
        ("85.125", "理由", {"new_score": ["调整后得分最多保留两位小数。"]}),
        ("97.21", "理由", {"new_score": ["调整后得分与当前得分 97.21 相同，无需调整。"]}),
    ],
)
def test_adjustment_needs_a_reason_and_a_score_in_range(world, submitted, new_score, reason, errors):
    with pytest.raises(ValidationError) as exc:
        adjust(world, submitted, new_score=new_score, reason=reason)
    assert exc.value.message_dict == errors
    submitted.refresh_from_db()
    assert submitted.adjusted_score is None and not SelfEvaluationAdjustment.objects.exists()


def test_adjustment_keeps_the_original_and_is_audited(world, submitted, year2025):
    ScoringRules.objects.create(region=world.city, fiscal_year=year2025, grade_good=Decimal("86"))  # region's rules
    first = adjust(world, submitted, new_score="85.5")
    submitted.refresh_from_db()
    assert (first.previous_score, first.new_score, first.new_grade) == (Decimal("97.21"), Decimal("85.50"), "fair")
    assert first.adjusted_by == world.perf_admin and first.reason == "抽查发现佐证材料不全"
    assert submitted.score == Decimal("97.21") and submitted.grade == "excellent"  # the original stays
    assert (submitted.adjusted_score, submitted.adjusted_grade) == (Decimal("85.50"), "fair")
    assert (submitted.final_score, submitted.final_grade_display) == (Decimal("85.50"), "中")
    services.evaluation_transition(actor=world.perf_admin, evaluation=submitted, name="confirm")
    second = adjust(world, submitted, new_score="90", reason="补充材料后复核")  # confirmed may be adjusted too
    assert second.previous_score == Decimal("85.50") and second.new_grade == "excellent"
    event = AuditEvent.objects.for_object(submitted).filter(kind="update").order_by("id").last()
    assert event.actor == world.perf_admin and "补充材料后复核" in event.comment
    assert event.changes["adjusted_score"] == {"from": "85.50", "to": "90.00"}
    assert list(submitted.adjustments.values_list("new_score", flat=True)) == [Decimal("85.50"), Decimal("90.00")]


def test_adjustment_only_after_submission_and_only_by_finance_deciders(world, evaluation):
    send_ready(world, evaluation)
    with pytest.raises(ValidationError, match="报送财政后才能调整得分"):
        adjust(world, evaluation)
    services.evaluation_transition(actor=world.edu_unit_filler, evaluation=evaluation, name="send")
    services.evaluation_transition(actor=world.edu_approver, evaluation=evaluation, name="submit")
    for persona in ("sector_kjw", "shinan_finance", "edu_approver", "auditor"):
        with pytest.raises(PermissionDenied):
            adjust(world, evaluation, actor=getattr(world, persona))
    assert not SelfEvaluationAdjustment.objects.exists()


def test_finance_return_clears_the_adjustment_but_keeps_its_record(world, submitted):
    adjust(world, submitted, new_score="70")
    returned = services.evaluation_transition(
        actor=world.perf_admin, evaluation=submitted, name="return", comment="重填"
    )
    assert returned.adjusted_score is None and returned.adjusted_grade == "" and returned.score == Decimal("97.21")
    assert SelfEvaluationAdjustment.objects.get().new_score == Decimal("70.00")


# --- live preview ----------------------------------------------------------------------------------


def test_preview_writes_nothing_and_equals_the_saved_score(world, evaluation):
    lines = services.locked_lines(evaluation)
    evaluation = SelfEvaluation.objects.select_related("round__organization").get()
    before, entries = AuditEvent.objects.count(), complete_entries(evaluation, **SHORTFALLS)
    with CaptureQueriesContext(connection) as ctx:
        preview = services.evaluation_preview(
            evaluation=evaluation, lines=lines, executed_amount="2700000", entries=entries
        )
    assert not [q for q in ctx.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(ctx.captured_queries) == 1  # the rules
    assert preview.result.total == Decimal("97.21") and not preview.errors
    assert len(preview.problems) == 3
    stored = SelfEvaluation.objects.get()
    assert stored.score is None and stored.executed_amount is None and AuditEvent.objects.count() == before
    saved = save(world, stored, executed="2700000", entries=complete_entries(stored, **SHORTFALLS))
    stored.refresh_from_db()
    assert saved.total == preview.result.total == stored.score
    assert [line.points for line in saved.lines] == [line.points for line in preview.result.lines]


def test_preview_reports_bad_values_without_failing(world, evaluation):
    lines = services.locked_lines(evaluation)
    evaluation = SelfEvaluation.objects.select_related("round__organization").get()
    preview = services.evaluation_preview(
        evaluation=evaluation, lines=lines, executed_amount="-5", entries={lines[0].pk: Entry(actual_value="x")}
    )
    assert preview.messages == ["实际执行数不能为负数。", "第 1 项指标“资助学生人数”的实际完成值必须是数字。"]
    assert preview.result.total == Decimal("0.00") and preview.problems == []
    unknown = services.evaluation_preview(evaluation=evaluation, lines=lines, executed_amount="1", entries={0: Entry()})
    assert unknown.result is None and unknown.messages == ["指标行不属于该自评表，请刷新页面后重新填写。"]


# --- closing the round -------------------------------------------------------------------------------


def test_closing_the_round_stops_filling_and_sending(world, evaluation):
    send_ready(world, evaluation)
    for persona in ("edu_approver", "sector_kjw", "shinan_finance"):
        with pytest.raises(PermissionDenied):
            services.round_close(actor=getattr(world, persona), round_=evaluation.round)
    round_ = services.round_close(actor=world.perf_admin, round_=evaluation.round)
    assert round_.status == "closed"
    with pytest.raises(ValidationError, match="该自评批次已结束。"):
        services.round_close(actor=world.perf_admin, round_=round_)
    with pytest.raises(ValidationError, match="该自评批次已结束，不能再修改。"):
        save(world, evaluation)
    with pytest.raises(ValidationError, match="该自评批次已结束，不能再提交。"):
        services.evaluation_transition(actor=world.edu_unit_filler, evaluation=evaluation, name="send")
    with pytest.raises(ValidationError, match="不能再增加自评任务"):
        open_round(world, round_.fiscal_year)


# --- 待办 -----------------------------------------------------------------------------------------------


def test_todo_items_for_each_role_with_the_due_date(world, evaluation, year):
    def titles(user):
        return [(i.title, i.due_on, i.category) for i in todos_for(user, 2026) if i.category == "单位绩效自评"]

    fund = evaluation.fund
    assert titles(world.edu_unit_filler) == [
        (f"填报单位自评：{fund.code} {fund.name}", date(2026, 3, 31), "单位绩效自评")
    ]
    assert titles(world.edu_approver)[0][0].startswith("填报单位自评")  # the department may fill for its units
    assert titles(world.perf_admin) == [] and titles(world.health_filler) == []
    send_ready(world, evaluation)
    services.evaluation_transition(actor=world.edu_unit_filler, evaluation=evaluation, name="send")
    assert titles(world.edu_approver) == [(f"审核单位自评：{fund.code} {fund.name}", date(2026, 3, 31), "单位绩效自评")]
    assert titles(world.edu_unit_filler) == []
    services.evaluation_transition(actor=world.edu_approver, evaluation=evaluation, name="submit")
    assert [t[0] for t in titles(world.perf_admin)] == [f"财政审核单位自评：{fund.code} {fund.name}"]
    assert titles(world.shinan_finance) == []
    assert [t[0] for t in titles(world.sector_kjw)] == [f"财政审核单位自评：{fund.code} {fund.name}"]
    services.evaluation_transition(actor=world.perf_admin, evaluation=evaluation, name="return", comment="补充材料")
    items = [i for i in todos_for(world.edu_unit_filler, 2025) if i.category == "单位绩效自评"]
    assert items[0].note == "已退回：补充材料"


def test_todo_runs_one_query_per_kind(world, evaluation, year2025):
    from apps.evaluations.todo import self_evaluation_todos

    for n in range(3):
        approve_all_the_way(world, filed_target(world, make_fund(world, year2025, code=f"TODO-{n}")))
    open_round(world, year2025)
    world.edu_approver.role_codes  # noqa: B018  (warm the roles cache)
    with CaptureQueriesContext(connection) as ctx:
        items = self_evaluation_todos(world.edu_approver, 2026)
    assert len(items) == 4 and len(ctx.captured_queries) == 2  # fill + submit (none in dept_review)


def test_a_target_that_cannot_be_scored_is_refused_with_a_message(world, evaluation):
    from apps.targets.models import TargetIndicator

    send_ready(world, evaluation)
    TargetIndicator.objects.filter(name=TIMELY).update(target_value=None)  # a broken approved target
    with pytest.raises(ValidationError, match="“资金发放及时率”没有目标值，无法计分"):
        services.evaluation_transition(actor=world.edu_unit_filler, evaluation=evaluation, name="send")
    assert SelfEvaluation.objects.get().status == "draft"


def test_rescoring_keeps_adjusted_scores_and_regrades_them_with_the_new_lines(world, submitted, year2025):
    adjust(world, submitted, new_score="85.5")  # 良 under the national lines (80 ≤ 85.5 < 90)
    submitted.refresh_from_db()
    assert submitted.adjusted_grade == "good"
    ScoringRules.objects.create(region=world.city, fiscal_year=year2025, grade_good=Decimal("86"))
    assert services.rescore(world.city.pk, year2025.pk) == 1
    submitted.refresh_from_db()
    assert (submitted.adjusted_score, submitted.adjusted_grade) == (Decimal("85.50"), "fair")  # now below 86
    assert submitted.score == Decimal("97.21") and submitted.grade == "excellent"
