"""信息公开 through the services: publish rules per kind, the snapshot, 涉密, batch publish, withdraw
and publish again, who may do it."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.attachments.models import Attachment
from apps.core.models import AuditEvent
from apps.evaluations import key_services
from apps.evaluations import services as self_services
from apps.funds.models import SpecialFund
from apps.results import services_disclosure as services
from apps.results.models import Disclosure
from apps.targets.models import PerformanceTarget, TargetStatus
from tests.test_key_evaluations import issued_evaluation, score, upload_report, years_fixture  # noqa: F401
from tests.test_key_evaluations import make_fund as make_direct_fund
from tests.test_selfeval_flow import approved2025, open_round, send_ready, year2025  # noqa: F401

D = Decimal
K = Disclosure.Kind


# --- fixtures and helpers (shared by the page, API and public tests) ---------------------------


@pytest.fixture
def confirmed(world, year2025, approved2025):  # noqa: F811
    """A 2025 self-evaluation of 教育局's fund, confirmed by finance."""
    open_round(world, year2025)
    evaluation = approved2025.fund.self_evaluations.get()
    send_ready(world, evaluation)
    step = self_services.evaluation_transition
    step(actor=world.edu_unit_filler, evaluation=evaluation, name="send")
    step(actor=world.edu_approver, evaluation=evaluation, name="submit")
    return step(actor=world.perf_admin, evaluation=evaluation, name="confirm")


def completed_key(world, fund=None):
    """A completed 2025 finance key evaluation (score 83, 良) with its report; returns (evaluation, report)."""
    evaluation = issued_evaluation(world, fund)
    flow = lambda name: key_services.evaluation_transition(actor=world.perf_admin, evaluation=evaluation, name=name)  # noqa: E731
    flow("start")
    score(world, evaluation, "83")
    evaluation.recommendations = "细化绩效指标。"
    evaluation.save(update_fields=["recommendations"])
    flow("submit")
    report = upload_report(world.perf_admin, evaluation)
    return flow("complete"), report


@pytest.fixture
def key_done(world, years):
    return completed_key(world)


def publish_target(world, target, actor=None):
    return services.disclosure_publish(actor=actor or world.perf_admin, kind=K.TARGET, record=target)


def state():
    """Everything a refused action must leave as it was."""
    return (
        list(Disclosure.objects.order_by("pk").values_list("pk", "status", "withdraw_reason")),
        AuditEvent.objects.exclude(kind__in=["login", "logout"]).count(),
    )


# --- targets ------------------------------------------------------------------------------------


def test_publish_an_approved_target_freezes_a_snapshot(world, approved):
    disclosure = publish_target(world, approved)
    assert disclosure.status == "published" and disclosure.kind == "target"
    assert disclosure.department == world.edu and disclosure.region == world.city
    assert disclosure.fiscal_year_id == 2026 and disclosure.amount == D("3000000")
    assert disclosure.title == "2026年度家庭经济困难学生资助绩效目标"
    c = disclosure.content
    assert c["fund_code"] == "EDU-2026-001" and c["department"] == "青岛市教育局" and c["unit"] == "青岛第二中学"
    assert c["period"] == "2026—2028年" and c["total_amount"] == "3000000.00" and c["annual_goal"] == "应助尽助"
    levels = {row["level1"] for row in c["indicators"]}
    assert {"产出指标", "效益指标", "满意度指标"} <= levels
    assert all(row["level2"] and row["name"] and "weight" in row for row in c["indicators"])
    # no user ids or names anywhere in what the public reads
    assert "perf_admin" not in str(c) and "edu_unit_filler" not in str(c)
    event = AuditEvent.objects.for_object(disclosure).get()
    assert event.actor == world.perf_admin and "公开绩效目标" in event.comment


def test_later_changes_to_the_record_do_not_leak(world, approved):
    disclosure = publish_target(world, approved)
    PerformanceTarget.objects.filter(pk=approved.pk).update(annual_goal="改过的目标")
    disclosure.refresh_from_db()
    assert disclosure.content["annual_goal"] == "应助尽助"


def test_a_target_not_yet_approved_is_refused(world, year):
    from tests.test_targets_flow import filed_target, make_fund

    target = filed_target(world, make_fund(world, year))
    before = state()
    with pytest.raises(ValidationError, match="只有“已批复”的绩效目标才能公开"):
        publish_target(world, target)
    assert state() == before


def test_classified_fund_is_refused(world, approved):
    SpecialFund.objects.filter(pk=approved.fund_id).update(is_classified=True)
    approved.fund.refresh_from_db()
    before = state()
    with pytest.raises(ValidationError, match="涉密项目，不得公开"):
        publish_target(world, approved)
    assert state() == before


def test_published_twice_is_refused_withdraw_then_publish_again(world, approved):
    first = publish_target(world, approved)
    before = state()
    with pytest.raises(ValidationError, match="已经公开，不能重复公开"):
        publish_target(world, approved)
    assert state() == before
    with pytest.raises(ValidationError) as exc:
        services.disclosure_withdraw(actor=world.perf_admin, disclosure=first, reason="   ")
    assert exc.value.message_dict == {"withdraw_reason": ["请填写撤回理由。"]}
    assert state() == before
    withdrawn = services.disclosure_withdraw(
        actor=world.perf_admin, disclosure=first, reason="指标值有误，更正后重新公开"
    )
    assert withdrawn.status == "withdrawn" and withdrawn.withdrawn_by == world.perf_admin
    assert withdrawn.withdrawn_at is not None and withdrawn.withdraw_reason == "指标值有误，更正后重新公开"
    event = AuditEvent.objects.for_object(first).filter(kind="transition").get()
    assert event.comment == "指标值有误，更正后重新公开" and event.actor == world.perf_admin
    with pytest.raises(ValidationError, match="不能执行“撤回公开”"):
        services.disclosure_withdraw(actor=world.perf_admin, disclosure=first, reason="再撤一次")
    second = publish_target(world, approved)
    assert second.pk != first.pk and Disclosure.objects.filter(target=approved).count() == 2


@pytest.mark.parametrize(
    "persona",
    ["sector_kjw", "edu_filler", "edu_approver", "edu_unit_filler", "shinan_finance", "npc_liaison", "auditor",
     "expert_li", "sysadmin"],
)  # fmt: skip
def test_only_finance_of_the_region_publishes(world, approved, persona):
    before = state()
    with pytest.raises(PermissionDenied):
        publish_target(world, approved, actor=getattr(world, persona))
    assert state() == before


def test_only_finance_of_the_region_withdraws(world, approved):
    disclosure = publish_target(world, approved)
    before = state()
    for persona in ("shinan_finance", "edu_approver", "npc_liaison"):
        with pytest.raises(PermissionDenied):
            services.disclosure_withdraw(actor=getattr(world, persona), disclosure=disclosure, reason="理由")
    assert state() == before


# --- self-evaluations and key evaluations ----------------------------------------------------


def test_publish_a_confirmed_self_evaluation(world, confirmed):
    disclosure = services.disclosure_publish(actor=world.perf_admin, kind=K.SELF_EVALUATION, record=confirmed)
    c = disclosure.content
    assert disclosure.score == confirmed.score and disclosure.grade == confirmed.grade
    assert c["score"] == f"{confirmed.score.normalize():f}" and c["grade"] == confirmed.final_grade_display
    assert c["executed_amount"] == "2700000.00" and c["execution_rate"] == "90"
    assert c["execution_reason"] == "部分合同尾款未到支付节点"
    reasons = [line for line in c["lines"] if line["shortfall_reason"]]
    assert {line["shortfall_reason"] for line in reasons} == {"部分学校名单延迟报送", "制度尚在试行"}
    assert any(line["actual"] == "90" for line in c["lines"])


def test_an_adjusted_self_evaluation_shows_the_adjusted_grade(world, confirmed):
    self_services.evaluation_adjust(actor=world.perf_admin, evaluation=confirmed, new_score="75", reason="佐证不全")
    confirmed.refresh_from_db()
    disclosure = services.disclosure_publish(actor=world.perf_admin, kind=K.SELF_EVALUATION, record=confirmed)
    assert disclosure.score == D("75") and disclosure.grade == "fair"
    assert disclosure.content["grade"] == "中" and disclosure.content["adjusted"] is True


def test_a_self_evaluation_not_confirmed_is_refused(world, year2025, approved2025):  # noqa: F811
    open_round(world, year2025)
    evaluation = approved2025.fund.self_evaluations.get()
    with pytest.raises(ValidationError, match="只有“财政已审核”的自评结果才能公开"):
        services.disclosure_publish(actor=world.perf_admin, kind=K.SELF_EVALUATION, record=evaluation)
    assert not Disclosure.objects.exists()


def test_publish_a_completed_key_evaluation_with_its_report(world, key_done):
    evaluation, report = key_done
    before = state()
    with pytest.raises(ValidationError) as exc:
        services.disclosure_publish(actor=world.perf_admin, kind=K.KEY_EVALUATION, record=evaluation)
    assert exc.value.message_dict == {"report": ["请选择要公开的评价报告文件（重点评价的附件）。"]}
    other = Attachment.objects.create(
        content_type=report.content_type, object_id="999999", organization=report.organization,
        view_action=report.view_action, edit_action=report.edit_action, original_name="别的.pdf", file=report.file.name,
        mime_type=report.mime_type, size=report.size, sha256=report.sha256, uploaded_by=world.perf_admin,
    )  # fmt: skip
    with pytest.raises(ValidationError, match="不是该重点评价的附件"):
        services.disclosure_publish(actor=world.perf_admin, kind=K.KEY_EVALUATION, record=evaluation, report=other.pk)
    assert state() == before
    disclosure = services.disclosure_publish(
        actor=world.perf_admin, kind=K.KEY_EVALUATION, record=evaluation, report=report.pk
    )
    c = disclosure.content
    assert disclosure.report == report and disclosure.score == D("83") and disclosure.grade == "good"
    assert c["grade"] == "良" and c["findings"] == "资金拨付滞后。" and c["recommendations"] == "细化绩效指标。"
    assert [d["label"] for d in c["dimensions"]] == ["决策", "过程", "产出", "效益"]
    assert sum(D(d["points"]) for d in c["dimensions"]) == D("83")
    assert c["report_name"] == "评价报告.pdf" and c["evaluator"] == "青岛市财政局"


def test_a_key_evaluation_not_completed_is_refused(world, years):
    evaluation = issued_evaluation(world)
    with pytest.raises(ValidationError, match="只有“已完成”的重点评价报告才能公开"):
        services.disclosure_publish(actor=world.perf_admin, kind=K.KEY_EVALUATION, record=evaluation, report=1)


def test_kind_must_match_the_record(world, approved):
    with pytest.raises(ValidationError, match="公开类型与记录不一致"):
        services.disclosure_publish(actor=world.perf_admin, kind=K.SELF_EVALUATION, record=approved)
    with pytest.raises(ValidationError, match="公开类型不正确"):
        services.disclosure_publish(actor=world.perf_admin, kind="nonsense", record=approved)


# --- batch ----------------------------------------------------------------------------------------


def test_batch_publishes_approved_targets_skipping_classified_and_published(world, years):
    funds = [make_direct_fund(world, 2026, f"EDU-2026-B{i}") for i in range(4)]
    health = make_direct_fund(world, 2026, "HEALTH-2026-B", dept=world.health)
    make_direct_fund(world, 2026, "EDU-2026-DRAFT", approved=False)
    SpecialFund.objects.filter(pk=funds[0].pk).update(is_classified=True)
    services.disclosure_publish(actor=world.perf_admin, kind=K.TARGET, record=funds[1].targets.get())
    result = services.disclosure_publish_batch(
        actor=world.perf_admin, kind=K.TARGET, fiscal_year=2026, department=world.edu
    )
    assert (result.published, result.skipped_classified, result.skipped_published) == (2, 1, 1)
    assert Disclosure.objects.filter(status="published").count() == 3
    assert not Disclosure.objects.filter(fund=health).exists()
    assert AuditEvent.objects.filter(comment__startswith="批量公开绩效目标").count() == 2
    again = services.disclosure_publish_batch(actor=world.perf_admin, kind=K.TARGET, fiscal_year=2026)
    assert (again.published, again.skipped_published) == (1, 3)  # 卫健委's fund now; nothing twice


def test_batch_stays_in_the_region_and_needs_the_role(world, years):
    make_direct_fund(world, 2026, "EDU-2026-R1")
    result = services.disclosure_publish_batch(actor=world.shinan_finance, kind=K.TARGET, fiscal_year=2026)
    assert result.published == 0 and not Disclosure.objects.exists()
    with pytest.raises(PermissionDenied):
        services.disclosure_publish_batch(actor=world.edu_approver, kind=K.TARGET, fiscal_year=2026)
    with pytest.raises(ValidationError, match="不能批量公开"):
        services.disclosure_publish_batch(actor=world.perf_admin, kind=K.KEY_EVALUATION, fiscal_year=2025)
    assert not Disclosure.objects.exists()


def test_a_superseded_version_is_not_pending(world, years):
    fund = make_direct_fund(world, 2026, "EDU-2026-V", versions=2)
    PerformanceTarget.objects.filter(fund=fund, version=1).update(status=TargetStatus.SUPERSEDED)
    result = services.disclosure_publish_batch(actor=world.perf_admin, kind=K.TARGET, fiscal_year=2026)
    assert result.published == 1 and Disclosure.objects.get().content["version"] == 2


# --- 涉密 flagged later ---------------------------------------------------------------------------


def test_a_fund_flagged_classified_later_drops_out_of_public_at_once(world, approved):
    disclosure = publish_target(world, approved)
    assert list(Disclosure.objects.public()) == [disclosure]
    SpecialFund.objects.filter(pk=approved.fund_id).update(is_classified=True)
    assert not Disclosure.objects.public().exists()
    assert Disclosure.objects.filter(pk=disclosure.pk, status="published").exists()  # the record stays internal
