"""整改 through the services: raising from a self-evaluation (idempotent), a key evaluation, a
key-monitoring measure and by hand; the unit's save and submit with evidence; finance's accept
and reopen; 逾期; permissions (nothing changes when refused); the 待办 list."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.attachments.services import attachment_add
from apps.core.models import AuditEvent
from apps.core.todo import todos_for
from apps.evaluations import key_services
from apps.evaluations import services as self_services
from apps.monitoring import services as monitoring_services
from apps.monitoring.models import KeyMonitoring
from apps.results import services_rectification as services
from apps.results.models import Rectification
from tests import test_selfeval_flow as flow
from tests.test_key_evaluations import issued_evaluation, score, upload_report
from tests.test_key_evaluations import years_fixture as years_fixture  # noqa: F401  (fixture "years")
from tests.test_selfeval_flow import MECHANISM, TIMELY, send_ready

# Shared fixtures (pytest finds them as module attributes).
year2025, approved2025, evaluation = flow.year2025, flow.approved2025, flow.evaluation

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
S = Rectification.Status


def later(days=30) -> date:
    return timezone.localdate() + timedelta(days=days)


def confirm(world, evaluation):
    """The evaluation with two shortfalls (and 90 % executed) all the way to 财政已审核."""
    send_ready(world, evaluation)
    for name, actor in (("send", world.edu_unit_filler), ("submit", world.edu_approver), ("confirm", world.perf_admin)):
        self_services.evaluation_transition(actor=actor, evaluation=evaluation, name=name)
    evaluation.refresh_from_db()
    return evaluation


@pytest.fixture
def confirmed(world, evaluation):
    return confirm(world, evaluation)


def raise_items(world, evaluation, actor=None, deadline=None):
    return services.rectifications_from_self_evaluation(
        actor=actor or world.perf_admin, evaluation=evaluation, deadline=deadline or later()
    )


def evidence(actor, item, name="整改报告.pdf", content=PDF):
    return attachment_add(
        actor=actor,
        obj=item,
        file=SimpleUploadedFile(name, content, content_type="application/pdf"),
        view_action="rectification.view",
        edit_action="rectification.fill",
    )


@pytest.fixture
def item(world, confirmed):
    return raise_items(world, confirmed)[0]


def snapshot(item):
    item = Rectification.objects.get(pk=item.pk)
    return (item.status, item.measures, item.progress_note, item.deadline, item.reopen_count, item.verified_by_id)


# --- raising from a self-evaluation --------------------------------------------------------------


def test_one_item_per_shortfall_prefilled_and_idempotent(world, confirmed):
    items = raise_items(world, confirmed)
    assert len(items) == 3  # the budget (90 % executed) and the two indicators that lost points
    by_ref = {i.source_reference: i for i in items}
    assert set(by_ref) == {services.EXECUTION_REFERENCE, f"自评指标：{TIMELY}", f"自评指标：{MECHANISM}"}
    timely = by_ref[f"自评指标：{TIMELY}"]
    assert timely.organization == world.edu_unit and timely.fund == confirmed.fund
    assert timely.fiscal_year_id == 2025 and timely.region == world.city and timely.status == S.PENDING
    assert "部分学校名单延迟报送" in timely.problem and timely.measures == "提前核对名单"
    assert by_ref[services.EXECUTION_REFERENCE].measures == "验收后及时支付"
    assert "90.00%" in by_ref[services.EXECUTION_REFERENCE].problem
    assert raise_items(world, confirmed) == []  # a second run creates nothing
    assert Rectification.objects.count() == 3
    assert AuditEvent.objects.filter(kind="create", object_repr__startswith="整改").count() == 3
    assert all(s.raised for s in services.self_evaluation_shortfalls(confirmed))


def test_only_finance_confirmed_self_evaluations(world, evaluation):
    send_ready(world, evaluation)
    with pytest.raises(ValidationError) as exc:
        raise_items(world, evaluation)
    assert exc.value.message_dict == {"source": ["只能对财政已审核的单位自评下达整改。"]}
    assert not Rectification.objects.exists()


@pytest.mark.parametrize(
    "persona", ["sector_kjw", "edu_filler", "edu_approver", "shinan_finance", "npc_liaison", "auditor"]
)
def test_only_the_regions_finance_raises(world, confirmed, persona):
    with pytest.raises(PermissionDenied):
        raise_items(world, confirmed, actor=getattr(world, persona))
    assert not Rectification.objects.exists()


@pytest.mark.parametrize("deadline", [0, -1])
def test_deadline_must_be_in_the_future(world, confirmed, deadline):
    with pytest.raises(ValidationError) as exc:
        raise_items(world, confirmed, deadline=timezone.localdate() + timedelta(days=deadline))
    assert list(exc.value.message_dict) == ["deadline"]
    assert exc.value.message_dict["deadline"][0].startswith("整改期限应晚于今天（")
    assert not Rectification.objects.exists()


# --- the lifecycle --------------------------------------------------------------------------------


def test_full_lifecycle_with_reopen(world, item):
    unit, finance = world.edu_unit_filler, world.perf_admin
    with pytest.raises(ValidationError) as exc:
        services.rectification_submit(actor=unit, item=item)
    assert exc.value.messages == ["请先填写整改情况。", "请至少上传一份整改佐证材料。"]  # measures prefilled
    item = services.rectification_save(actor=unit, item=item, measures="提前核对名单", progress_note="已完成核对")
    assert item.status == S.IN_PROGRESS
    services.rectification_save(actor=unit, item=item, measures="提前核对名单，按月通报", progress_note="已完成核对")
    with pytest.raises(ValidationError, match="请至少上传一份整改佐证材料"):
        services.rectification_submit(actor=unit, item=item)
    evidence(unit, item)
    item = services.rectification_submit(actor=unit, item=item)
    assert item.status == S.VERIFYING and item.submitted_at is not None
    with pytest.raises(ValidationError, match="当前状态为“待核实”，不能执行“报送核实”"):
        services.rectification_submit(actor=unit, item=item)  # a double click
    with pytest.raises(ValidationError, match="不能修改"):
        services.rectification_save(actor=unit, item=item, measures="x", progress_note="y")
    with pytest.raises(ValidationError, match="不能再上传"):
        evidence(unit, item, "补充.pdf", PDF + b"%2")
    with pytest.raises(PermissionDenied):
        services.rectification_accept(actor=unit, item=item)
    with pytest.raises(ValidationError) as exc:
        services.rectification_reopen(actor=finance, item=item, comment="  ")
    assert exc.value.message_dict == {"comment": ["执行“重新整改”必须填写意见。"]}
    new_deadline = later(60)
    item = services.rectification_reopen(
        actor=finance, item=item, comment="佐证不足，请补充名单核对记录", deadline=new_deadline
    )
    assert (item.status, item.reopen_count, item.deadline) == (S.IN_PROGRESS, 1, new_deadline)
    assert item.verification_comment == "佐证不足，请补充名单核对记录"
    evidence(unit, item, "核对记录.pdf", PDF + b"%2")  # the unit may add evidence again
    item = services.rectification_submit(actor=unit, item=item)
    item = services.rectification_accept(actor=finance, item=item)
    item.refresh_from_db()
    assert item.status == S.DONE and item.completed_on == timezone.localdate()
    assert item.verified_by == finance and item.verified_at is not None and item.verification_comment == ""
    steps = AuditEvent.objects.for_object(item).filter(kind="transition").order_by("id")
    assert [s.changes["status"]["to"] for s in steps] == [
        "in_progress",
        "verifying",
        "in_progress",
        "verifying",
        "done",
    ]
    reopen = steps[2]
    assert reopen.comment == "佐证不足，请补充名单核对记录" and reopen.changes["reopen_count"] == {"from": 0, "to": 1}
    assert AuditEvent.objects.for_object(item).filter(kind="update").count() == 1  # the second save


def test_department_approver_may_fill_for_its_unit(world, item):
    item = services.rectification_save(actor=world.edu_approver, item=item, measures="a", progress_note="b")
    assert item.status == S.IN_PROGRESS


@pytest.mark.parametrize("persona", ["health_filler", "shinan_edu_filler", "perf_admin", "npc_liaison", "auditor"])
def test_others_cannot_fill_and_nothing_changes(world, item, persona):
    before = snapshot(item)
    with pytest.raises(PermissionDenied):
        services.rectification_save(actor=getattr(world, persona), item=item, measures="x", progress_note="y")
    with pytest.raises(PermissionDenied):
        services.rectification_submit(actor=getattr(world, persona), item=item)
    assert snapshot(item) == before


def test_save_needs_something_and_checks_length(world, item):
    before = snapshot(item)
    with pytest.raises(ValidationError) as exc:
        services.rectification_save(actor=world.edu_unit_filler, item=item, measures=" ", progress_note="")
    assert exc.value.message_dict == {"measures": ["请填写整改措施或整改情况。"]}
    with pytest.raises(ValidationError) as exc:
        services.rectification_save(actor=world.edu_unit_filler, item=item, measures="x", progress_note="长" * 2001)
    assert "整改情况不能超过 2000 个字" in exc.value.message_dict["progress_note"][0]
    assert snapshot(item) == before


@pytest.mark.parametrize("persona", ["shinan_finance", "sector_kjw", "edu_approver", "npc_liaison"])
def test_only_the_regions_finance_verifies(world, item, persona):
    unit = world.edu_unit_filler
    services.rectification_save(actor=unit, item=item, measures="a", progress_note="b")
    evidence(unit, item)
    services.rectification_submit(actor=unit, item=item)
    before = snapshot(item)
    with pytest.raises(PermissionDenied):
        services.rectification_accept(actor=getattr(world, persona), item=item)
    with pytest.raises(PermissionDenied):
        services.rectification_reopen(actor=getattr(world, persona), item=item, comment="x")
    assert snapshot(item) == before


def test_reopen_refuses_a_past_deadline_and_changes_nothing(world, item):
    unit = world.edu_unit_filler
    services.rectification_save(actor=unit, item=item, measures="a", progress_note="b")
    evidence(unit, item)
    services.rectification_submit(actor=unit, item=item)
    before = snapshot(item)
    with pytest.raises(ValidationError) as exc:
        services.rectification_reopen(
            actor=world.perf_admin, item=item, comment="补充", deadline=timezone.localdate() - timedelta(days=1)
        )
    assert list(exc.value.message_dict) == ["deadline"]
    assert snapshot(item) == before
    with pytest.raises(ValidationError, match="不能执行“核实通过”"):
        services.rectification_accept(actor=world.perf_admin, item=Rectification.objects.create(
            source="audit", source_reference="x", organization=world.edu_unit, fiscal_year_id=2025,
            problem="p", deadline=later(), created_by=world.perf_admin))  # fmt: skip


# --- 逾期 -------------------------------------------------------------------------------------------


def test_overdue_is_derived_from_the_deadline(world, confirmed):
    today = timezone.localdate()
    # Raised on a day in the past with a deadline that has passed since.
    early = services.rectifications_from_self_evaluation(
        actor=world.perf_admin,
        evaluation=confirmed,
        deadline=today - timedelta(days=5),
        today=today - timedelta(days=40),
    )
    item = early[0]
    assert item.is_overdue and item.status_label == "待整改"  # the real status; 逾期 is a flag of its own
    assert item.status_with_overdue == "待整改（逾期）"
    assert set(Rectification.objects.overdue()) == set(early)
    assert not Rectification.objects.overdue(today=today - timedelta(days=6)).exists()
    unit = world.edu_unit_filler
    item = services.rectification_save(actor=unit, item=item, measures="a", progress_note="b")
    assert item.status_label == "整改中" and item.status_with_overdue == "整改中（逾期）"
    evidence(unit, item)
    item = services.rectification_submit(actor=unit, item=item)
    assert item.is_overdue and item.status_label == "待核实"
    item = services.rectification_accept(actor=world.perf_admin, item=item)
    item.refresh_from_db()
    assert not item.is_overdue and item.status_label == "已完成" and item.status_with_overdue == "已完成"
    assert item not in Rectification.objects.overdue()


# --- key evaluation, key monitoring, audit -------------------------------------------------------------


def completed_key_evaluation(world, evaluation=None):
    evaluation = evaluation or issued_evaluation(world)
    flow = lambda name: key_services.evaluation_transition(actor=world.perf_admin, evaluation=evaluation, name=name)  # noqa: E731
    flow("start")
    score(world, evaluation, "72", findings="1. 绩效指标未细化；\n2、资金拨付滞后。\n\n（3）验收资料不全")
    flow("submit")
    upload_report(world.perf_admin, evaluation)
    flow("complete")
    evaluation.refresh_from_db()
    return evaluation


def test_findings_of_a_completed_key_evaluation(world, years):
    evaluation = issued_evaluation(world)
    with pytest.raises(ValidationError, match="只能对已完成的重点评价下达整改"):
        services.rectifications_from_key_evaluation(
            actor=world.perf_admin, evaluation=evaluation, problems=["x"], deadline=later()
        )
    evaluation = completed_key_evaluation(world, evaluation)
    problems = services.split_findings(evaluation.findings)
    assert problems == ["绩效指标未细化。", "资金拨付滞后。", "验收资料不全。"]
    with pytest.raises(ValidationError) as exc:
        services.rectifications_from_key_evaluation(
            actor=world.perf_admin, evaluation=evaluation, problems=[" ", ""], deadline=later()
        )
    assert exc.value.message_dict == {"problems": ["请至少填写一项存在问题。"]}
    with pytest.raises(PermissionDenied):
        services.rectifications_from_key_evaluation(
            actor=world.shinan_finance, evaluation=evaluation, problems=problems, deadline=later()
        )
    # Finance splits the second problem in two before saving.
    edited = [problems[0], "资金拨付滞后于计划。", "年中执行率低于时间进度。", problems[2]]
    made = services.rectifications_from_key_evaluation(
        actor=world.perf_admin, evaluation=evaluation, problems=edited, deadline=later(), requirement="三个月内整改到位"
    )
    assert [m.problem for m in made] == edited
    assert {m.organization for m in made} == {world.edu_unit} and made[0].fund == evaluation.fund
    assert made[0].source == "key_evaluation" and made[0].fiscal_year_id == 2025
    again = services.rectifications_from_key_evaluation(
        actor=world.perf_admin, evaluation=evaluation, problems=edited, deadline=later()
    )
    assert again == [] and Rectification.objects.count() == 4


def test_key_monitoring_measure(world, year, approved):
    monitoring_services.key_select(actor=world.perf_admin, funds=[approved.fund], fiscal_year=year)
    key = KeyMonitoring.objects.get()
    with pytest.raises(ValidationError, match="请先对该重点监控项目作出处理措施"):
        services.rectification_from_key_monitoring(actor=world.perf_admin, key=key, problem="x", deadline=later())
    monitoring_services.key_measure(actor=world.perf_admin, key=key, measure="suspend", reason="执行进度严重滞后")
    key.refresh_from_db()
    assert "暂缓拨款" in services.key_monitoring_problem(key)
    item = services.rectification_from_key_monitoring(
        actor=world.perf_admin, key=key, problem=services.key_monitoring_problem(key), deadline=later()
    )
    assert (
        item.source == "monitoring" and item.key_monitoring == key and item.organization == approved.fund.organization
    )
    assert item.fiscal_year_id == 2026


def test_audit_findings_by_hand(world, year):
    kwargs = {"actor": world.perf_admin, "source": "audit", "problem": "专项资金闲置", "deadline": later()}
    with pytest.raises(ValidationError) as exc:
        services.rectification_create(**kwargs, organization=world.audit_org)
    assert exc.value.message_dict == {
        "source_reference": ["审计发现的问题请填写审计报告文号。"],
        "organization": ["整改责任单位应为预算部门或预算单位。"],
    }
    with pytest.raises(ValidationError) as exc:
        services.rectification_create(
            **{**kwargs, "problem": " "}, organization=world.health, source_reference="青审〔2026〕1号"
        )
    assert exc.value.message_dict == {"problem": ["请填写存在问题。"]}
    with pytest.raises(PermissionDenied):
        services.rectification_create(**kwargs, organization=world.shinan_edu, source_reference="青审〔2026〕1号")
    assert not Rectification.objects.exists()
    item = services.rectification_create(**kwargs, organization=world.health, source_reference="青审〔2026〕1号")
    assert item.fiscal_year_id == timezone.localdate().year and item.region == world.city and item.fund is None


def test_a_fund_and_a_responsible_unit_must_match(world, year, approved):
    fund = approved.fund
    base = {"actor": world.perf_admin, "source": "audit", "source_reference": "青审〔2026〕2号", "problem": "p"}
    base["deadline"] = later()
    with pytest.raises(ValidationError) as exc:
        services.rectification_create(**base, fund=fund, organization=world.health)
    assert exc.value.message_dict["organization"][0].startswith("整改责任单位应为项目")
    item = services.rectification_create(**base, fund=fund)
    assert item.organization == fund.organization and item.fiscal_year_id == fund.fiscal_year_id


# --- 待办 ----------------------------------------------------------------------------------------------


def test_todos_for_unit_and_finance(world, item):
    unit = world.edu_unit_filler
    titles = [t.title for t in todos_for(unit, 2026) if t.category == "整改"]
    assert len(titles) == 3 and all(t.startswith("填报整改：") for t in titles)
    assert not [t for t in todos_for(world.health_filler, 2026) if t.category == "整改"]
    assert not [t for t in todos_for(world.perf_admin, 2026) if t.category == "整改"]
    services.rectification_save(actor=unit, item=item, measures="a", progress_note="b")
    evidence(unit, item)
    services.rectification_submit(actor=unit, item=item)
    finance = [t for t in todos_for(world.perf_admin, 2026) if t.category == "整改"]
    assert len(finance) == 1 and finance[0].title.startswith("核实整改：")
    assert not [t for t in todos_for(world.shinan_finance, 2026) if t.category == "整改"]
    services.rectification_reopen(actor=world.perf_admin, item=item, comment="请补充佐证")
    reopened = [t for t in todos_for(unit, 2026) if t.title.startswith("重新整改：")]
    assert len(reopened) == 1 and "请补充佐证" in reopened[0].note


def test_todo_note_gives_the_real_status_then_overdue(world, confirmed):
    """逾期 never hides the status in 待办, and a long reopen comment cannot cut it off."""
    today = timezone.localdate()
    unit = world.edu_unit_filler
    late = services.rectifications_from_self_evaluation(
        actor=world.perf_admin,
        evaluation=confirmed,
        deadline=today - timedelta(days=3),
        today=today - timedelta(days=40),
    )
    notes = {t.url: t.note for t in todos_for(unit, 2026) if t.category == "整改"}
    assert set(notes.values()) == {"待整改 · 逾期"}
    item = services.rectification_save(actor=unit, item=late[0], measures="a", progress_note="b")
    evidence(unit, item)
    services.rectification_submit(actor=unit, item=item)
    finance = [t for t in todos_for(world.perf_admin, 2026) if t.category == "整改"]
    assert finance[0].note.startswith("待核实 · 逾期 · ")
    services.rectification_reopen(actor=world.perf_admin, item=item, comment="请补充" * 30)
    reopened = [t for t in todos_for(unit, 2026) if t.title.startswith("重新整改：")]
    assert reopened[0].note.startswith("整改中 · 逾期 · 财政要求重新整改：请补充")  # the deadline was kept


def test_prefilled_problem_has_no_doubled_punctuation(world, evaluation):
    """Reasons typed with their own 。/；/; end the prefilled problem with exactly one 。."""
    reasons = {
        TIMELY: {**flow.REASONS[TIMELY], "shortfall_reason": "部分学校名单延迟报送；"},
        MECHANISM: {**flow.REASONS[MECHANISM], "shortfall_reason": "制度尚在试行;"},
    }
    flow.save(
        world,
        evaluation,
        executed="2700000",
        entries=flow.complete_entries(evaluation, **reasons),
        execution_reason="部分合同尾款待验收后支付。",
        execution_measure="验收后及时支付。",
    )
    for name, actor in (("send", world.edu_unit_filler), ("submit", world.edu_approver), ("confirm", world.perf_admin)):
        self_services.evaluation_transition(actor=actor, evaluation=evaluation, name=name)
    items = raise_items(world, evaluation)
    problems = {i.source_reference: i.problem for i in items}
    assert problems[services.EXECUTION_REFERENCE].endswith("偏差原因：部分合同尾款待验收后支付。")
    assert problems[f"自评指标：{TIMELY}"].endswith("偏差原因：部分学校名单延迟报送。")
    assert problems[f"自评指标：{MECHANISM}"].endswith("偏差原因：制度尚在试行。")
    for text in problems.values():
        assert not any(d in text for d in ("。。", "。；", "；。", ";。", "。;")), text


def test_public_text_joins_clauses_once():
    from apps.results.public_text import clause, join_clauses, sentence

    assert clause(" 待验收后支付。 ") == "待验收后支付"
    assert join_clauses("部分合同尾款待验收后支付。", "验收后及时支付；") == "部分合同尾款待验收后支付；验收后及时支付"
    assert join_clauses("", "验收后及时支付。") == "验收后及时支付"
    assert join_clauses("原因", None) == "原因"
    assert sentence("制度尚在试行;") == "制度尚在试行。" and sentence("  ") == ""


def test_key_monitoring_raise_twice_is_refused_while_open(world, year, approved):
    """A double click raises one item: the KeyMonitoring row is locked, an open item refuses the second."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monitoring_services.key_select(actor=world.perf_admin, funds=[approved.fund], fiscal_year=year)
    key = KeyMonitoring.objects.get()
    monitoring_services.key_measure(actor=world.perf_admin, key=key, measure="suspend", reason="执行进度严重滞后")
    with CaptureQueriesContext(connection) as queries:
        first = services.rectification_from_key_monitoring(
            actor=world.perf_admin, key=key, problem="暂缓拨款", deadline=later()
        )
    if connection.vendor == "postgresql":
        assert any("FOR UPDATE" in q["sql"] and "keymonitoring" in q["sql"] for q in queries.captured_queries)
    with pytest.raises(ValidationError) as exc:
        services.rectification_from_key_monitoring(
            actor=world.perf_admin, key=key, problem="暂缓拨款", deadline=later()
        )
    assert exc.value.message_dict["source"][0].startswith("该重点监控项目已下达整改（待整改，整改期限")
    with pytest.raises(ValidationError):  # the same through rectification_create (the API's create)
        services.rectification_create(
            actor=world.perf_admin, source="monitoring", record=key, problem="另一问题", deadline=later()
        )
    assert Rectification.objects.filter(key_monitoring=key).count() == 1
    Rectification.objects.filter(pk=first.pk).update(status=S.DONE)  # once done, a new measure may be raised
    again = services.rectification_from_key_monitoring(
        actor=world.perf_admin, key=key, problem="收回资金", deadline=later()
    )
    assert again.pk != first.pk and Rectification.objects.filter(key_monitoring=key).count() == 2


def test_save_changes_only_the_fields_given(world, item):
    unit = world.edu_unit_filler
    services.rectification_save(actor=unit, item=item, measures="M1", progress_note="P1")
    services.rectification_save(actor=unit, item=item, progress_note="P2")
    item.refresh_from_db()
    assert (item.measures, item.progress_note) == ("M1", "P2")
    services.rectification_save(actor=unit, item=item, measures="M2")
    item.refresh_from_db()
    assert (item.measures, item.progress_note) == ("M2", "P2")
    with pytest.raises(ValidationError, match="请填写整改措施或整改情况"):
        services.rectification_save(actor=unit, item=item)
    event = AuditEvent.objects.filter(kind="update").latest("pk")
    assert event.changes == {"measures": {"from": "M1", "to": "M2"}}


def test_an_item_without_a_responsible_unit_is_refused_naming_the_field(world, year):
    with pytest.raises(ValidationError) as caught:
        services.rectification_create(
            actor=world.perf_admin,
            problem="未明确责任单位",
            deadline=date(2026, 12, 31),
            source=Rectification.Source.AUDIT,
            source_reference="青审报〔2026〕1号",
            fiscal_year=year,
            today=date(2026, 6, 1),
        )
    assert "organization" in caught.value.message_dict
    assert not Rectification.objects.exists()
