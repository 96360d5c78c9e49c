"""事前绩效评估: services (every legal and illegal step), pages, API, scoping and query counts."""

import threading
from decimal import Decimal
from itertools import count

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse

from apps.assessments import selectors, services
from apps.assessments.models import DIMENSIONS, Conclusion, ExAnteAssessment, ExpertOpinion
from apps.core.models import AuditEvent
from apps.funds.models import SpecialFund
from apps.orgs.models import FiscalYear
from tests.conftest import build_world
from tests.factories import UserFactory
from tests.querycount import assert_constant_queries

S = ExAnteAssessment.Status
FIELDS = [name for name, _ in DIMENSIONS]
LABELS = [label for _, label in DIMENSIONS]
TEXTS = {
    "necessity": "落实教育强市部署，现有实验室设备老化严重，无法满足新课标实验教学需要。",
    "economy": "设备单价参照近三年政府采购中标价测算，较市场均价低约百分之八，成本合理。",
    "target_reasonableness": "年度目标为建成二十间标准化实验室，覆盖全部高一学生，指标可衡量可考核。",
    "feasibility": "学校已完成场地改造设计，采购与安装分两批实施，进度安排与风险预案完备。",
    "funding_compliance": "资金全部来源于一般公共预算财政拨款，不涉及举债，支出责任划分清晰合规。",
}
_codes = count(1)


def make_fund(world, org=None, *, name="智慧校园实验室建设", amount="6000000", year=2026) -> SpecialFund:
    org = org or world.edu_unit
    return SpecialFund.objects.create(
        fiscal_year=FiscalYear.objects.get_or_create(year=year)[0],
        region=org.region,
        code=f"T-{year}-{next(_codes):04d}",
        name=name,
        organization=org,
        department=org.department,
        fiscal_amount=Decimal(amount),
        period_start=year,
        period_end=year,
    )


def started(world, fund=None, *, texts=True) -> ExAnteAssessment:
    """A draft assessment of an 教育局 unit's fund, filled in unless ``texts`` is False."""
    fund = fund or make_fund(world)
    owner_filler = world.health_filler if fund.department == world.health else world.edu_filler
    assessment = services.assessment_create(actor=owner_filler, fund=fund)
    if texts:
        assessment = services.assessment_update(actor=owner_filler, assessment=assessment, **TEXTS)
    return assessment


def submitted(world, fund=None) -> ExAnteAssessment:
    assessment = started(world, fund)
    approver = world.edu_approver
    if assessment.fund.department == world.health:
        approver = UserFactory(username="health_approver", organization=world.health, roles=["dept_approver"])
    return services.assessment_submit(actor=approver, assessment=assessment)


def reviewing(world, fund=None) -> ExAnteAssessment:
    assessment = submitted(world, fund)
    return services.assessment_assign_experts(actor=world.perf_admin, assessment=assessment, experts=[world.expert_li])


def completed(world, fund=None, conclusion=Conclusion.SUPPORT) -> ExAnteAssessment:
    assessment = submitted(world, fund)
    return services.assessment_complete(
        actor=world.perf_admin, assessment=assessment, conclusion=conclusion, finance_opinion="同意立项。"
    )


def snapshot(assessment):
    assessment.refresh_from_db()
    return (assessment.status, *(getattr(assessment, f) for f in FIELDS), assessment.conclusion)


def transitions(assessment):
    return [
        (e.changes["status"]["from"], e.changes["status"]["to"]) for e in services.ASSESSMENT_FLOW.history(assessment)
    ]


# --- services: creating and editing ----------------------------------------------------------


def test_unit_starts_an_assessment_owned_by_the_funds_unit(world):
    fund = make_fund(world)
    assessment = services.assessment_create(actor=world.edu_unit_filler, fund=fund)
    assert (assessment.status, assessment.organization, assessment.fund) == (S.DRAFT, world.edu_unit, fund)
    event = AuditEvent.objects.for_object(assessment).get()
    assert event.kind == AuditEvent.Kind.CREATE and event.actor == world.edu_unit_filler
    assert event.organization == world.edu_unit


def test_second_open_assessment_is_refused_until_the_first_is_completed(world):
    fund = make_fund(world)
    first = services.assessment_create(actor=world.edu_filler, fund=fund)
    with pytest.raises(ValidationError, match="已有一份未完成的事前绩效评估"):
        services.assessment_create(actor=world.edu_unit_filler, fund=fund)
    services.assessment_update(actor=world.edu_filler, assessment=first, **TEXTS)
    services.assessment_submit(actor=world.edu_approver, assessment=first)
    services.assessment_complete(
        actor=world.perf_admin, assessment=first, conclusion=Conclusion.SUPPORT_ADJUSTED, finance_opinion="压减后支持。"
    )
    second = services.assessment_create(actor=world.edu_filler, fund=fund)  # e.g. continuing after expiry
    assert second.status == S.DRAFT and fund.assessments.count() == 2
    assert selectors.latest_assessment(fund) == second


@pytest.mark.parametrize("persona", ["health_filler", "shinan_edu_filler", "perf_admin", "sector_kjw", "expert_li"])
def test_others_cannot_start_an_assessment(world, persona):
    fund = make_fund(world)
    with pytest.raises(PermissionDenied):
        services.assessment_create(actor=getattr(world, persona), fund=fund)
    assert not ExAnteAssessment.objects.exists() and not AuditEvent.objects.exists()


def test_closed_year_refuses_a_new_assessment(world):
    fund = make_fund(world)
    FiscalYear.objects.filter(pk=2026).update(is_closed=True)
    with pytest.raises(ValidationError, match="已结账"):
        services.assessment_create(actor=world.edu_filler, fund=fund)


def test_update_records_what_changed(world):
    assessment = started(world, texts=False)
    services.assessment_update(actor=world.edu_unit_filler, assessment=assessment, necessity=TEXTS["necessity"])
    event = AuditEvent.objects.for_object(assessment).filter(kind=AuditEvent.Kind.UPDATE).get()
    assert event.changes == {"necessity": {"from": "", "to": TEXTS["necessity"]}}
    # Saving the same text again changes nothing and writes nothing.
    services.assessment_update(actor=world.edu_filler, assessment=assessment, necessity=TEXTS["necessity"])
    assert AuditEvent.objects.for_object(assessment).filter(kind=AuditEvent.Kind.UPDATE).count() == 1


def test_update_refuses_unknown_fields_and_outsiders(world):
    assessment = started(world, texts=False)
    with pytest.raises(ValidationError, match="未知的评估内容"):
        services.assessment_update(actor=world.edu_filler, assessment=assessment, conclusion="support")
    for persona in ("health_filler", "shinan_edu_filler", "perf_admin", "expert_li"):
        with pytest.raises(PermissionDenied):
            services.assessment_update(actor=getattr(world, persona), assessment=assessment, necessity="改写" * 20)
    assert snapshot(assessment) == (S.DRAFT, "", "", "", "", "", "")


def test_submitted_assessment_cannot_be_edited_by_the_unit(world):
    assessment = submitted(world)
    with pytest.raises(ValidationError, match="当前状态为“待财政评审”，不能修改"):
        services.assessment_update(actor=world.edu_filler, assessment=assessment, necessity="改写" * 20)


def test_completed_assessment_is_immutable(world):
    assessment = completed(world)
    before = snapshot(assessment)
    with pytest.raises(ValidationError, match="已完成，结论已作出，不能再修改"):
        services.assessment_update(actor=world.edu_filler, assessment=assessment, necessity="改写" * 20)
    for name, kwargs in [
        ("complete", {"conclusion": Conclusion.REJECT, "finance_opinion": "改判"}),
        ("return", {"comment": "重新评估"}),
    ]:
        with pytest.raises(ValidationError, match="当前状态为“已完成”"):
            getattr(services, f"assessment_{name}")(actor=world.perf_admin, assessment=assessment, **kwargs)
    with pytest.raises(ValidationError, match="当前状态为“已完成”"):
        services.assessment_assign_experts(actor=world.perf_admin, assessment=assessment, experts=[world.expert_li])
    assert snapshot(assessment) == before


# --- services: submitting --------------------------------------------------------------------


def test_submit_guard_names_every_missing_dimension(world):
    assessment = started(world, texts=False)
    services.assessment_update(
        actor=world.edu_filler, assessment=assessment, necessity=TEXTS["necessity"], economy="成本合理。"
    )
    with pytest.raises(ValidationError) as exc:
        services.assessment_submit(actor=world.edu_approver, assessment=assessment)
    errors = exc.value.message_dict
    assert set(errors) == {"economy", "target_reasonableness", "feasibility", "funding_compliance"}
    assert errors["economy"] == ["“投入经济性”的分析不足 20 个字（现有 5 个字），不能提交。"]
    assert errors["feasibility"] == ["“实施方案可行性”尚未填写，不能提交。"]
    text = "".join(exc.value.messages)
    for label in LABELS[1:]:
        assert label in text
    assert "立项必要性" not in text
    assert snapshot(assessment)[0] == S.DRAFT
    assert services.missing_dimensions(assessment) == LABELS[1:]


def test_twenty_characters_of_analysis_is_enough(world):
    assessment = started(world, texts=False)
    services.assessment_update(actor=world.edu_filler, assessment=assessment, **dict.fromkeys(FIELDS, "字" * 20))
    assert services.assessment_submit(actor=world.edu_approver, assessment=assessment).status == S.SUBMITTED


def test_only_the_department_approver_submits(world):
    assessment = started(world)
    for persona in ("edu_filler", "edu_unit_filler", "perf_admin", "health_filler", "expert_li"):
        with pytest.raises(PermissionDenied):
            services.assessment_submit(actor=getattr(world, persona), assessment=assessment)
    assert snapshot(assessment)[0] == S.DRAFT
    assert transitions(assessment) == []


def test_double_submit_fails_cleanly_and_records_one_step(world):
    assessment = started(world)
    services.assessment_submit(actor=world.edu_approver, assessment=assessment)
    with pytest.raises(ValidationError, match="当前状态为“待财政评审”，不能执行“提交财政评审”"):
        services.assessment_submit(actor=world.edu_approver, assessment=assessment)
    assert transitions(assessment) == [("draft", "submitted")]


def test_returned_assessment_is_revised_and_submitted_again(world):
    assessment = submitted(world)
    with pytest.raises(ValidationError, match="必须填写意见"):
        services.assessment_return(actor=world.perf_admin, assessment=assessment, comment="  ")
    services.assessment_return(actor=world.perf_admin, assessment=assessment, comment="投入经济性测算依据不足。")
    assert snapshot(assessment)[0] == S.RETURNED
    services.assessment_update(actor=world.edu_filler, assessment=assessment, economy=TEXTS["economy"] + "补充测算表。")
    services.assessment_submit(actor=world.edu_approver, assessment=assessment)
    assert transitions(assessment) == [("draft", "submitted"), ("submitted", "returned"), ("returned", "submitted")]
    returned = services.ASSESSMENT_FLOW.history(assessment)[1]
    assert returned.comment == "投入经济性测算依据不足。" and returned.actor == world.perf_admin


# --- services: the whole transition table ------------------------------------------------------

LEGAL = {
    ("submit", S.DRAFT): S.SUBMITTED,
    ("submit", S.RETURNED): S.SUBMITTED,
    ("assign_experts", S.SUBMITTED): S.REVIEWING,
    ("assign_experts", S.REVIEWING): S.REVIEWING,
    ("complete", S.SUBMITTED): S.COMPLETED,
    ("complete", S.REVIEWING): S.COMPLETED,
    ("return", S.SUBMITTED): S.RETURNED,
    ("return", S.REVIEWING): S.RETURNED,
}


def take(world, step, assessment):
    if step == "submit":
        return services.assessment_submit(actor=world.edu_approver, assessment=assessment)
    if step == "assign_experts":
        expert = UserFactory(username="expert_wang", organization=world.expert_pool, roles=["expert"])
        return services.assessment_assign_experts(actor=world.perf_admin, assessment=assessment, experts=[expert])
    if step == "complete":
        return services.assessment_complete(
            actor=world.perf_admin, assessment=assessment, conclusion=Conclusion.SUPPORT, finance_opinion="同意。"
        )
    return services.assessment_return(actor=world.perf_admin, assessment=assessment, comment="请补充。")


@pytest.mark.parametrize("state", S.values)
@pytest.mark.parametrize("step", ["submit", "assign_experts", "complete", "return"])
def test_transition_table(world, state, step):
    assessment = started(world)
    extra = {"conclusion": Conclusion.SUPPORT, "finance_opinion": "同意。"} if state == S.COMPLETED else {}
    ExAnteAssessment.objects.filter(pk=assessment.pk).update(status=state, **extra)
    assessment.refresh_from_db()
    expected = LEGAL.get((step, state))
    if expected is None:
        with pytest.raises(ValidationError, match=f"当前状态为“{S(state).label}”"):
            take(world, step, assessment)
        assert snapshot(assessment)[0] == state
        assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.TRANSITION).exists()
    else:
        take(world, step, assessment)
        assert snapshot(assessment)[0] == expected


# --- services: experts and finance's review ----------------------------------------------------


def test_assigning_experts_moves_to_review_and_lets_only_them_see_it(world):
    assessment = submitted(world)
    other = submitted(world, make_fund(world, name="另一个项目"))
    assert not ExAnteAssessment.objects.restrict(world.expert_li, "assessment.view").exists()
    services.assessment_assign_experts(actor=world.perf_admin, assessment=assessment, experts=[world.expert_li])
    assert snapshot(assessment)[0] == S.REVIEWING
    assert list(ExAnteAssessment.objects.restrict(world.expert_li, "assessment.view")) == [assessment]
    assert snapshot(other)[0] == S.SUBMITTED
    assert ExpertOpinion.objects.get(assessment=assessment).expert == world.expert_li
    last = services.ASSESSMENT_FLOW.history(assessment).last()
    assert last.changes["status"] == {"from": "submitted", "to": "reviewing"} and "expert_li" in last.comment
    update = AuditEvent.objects.for_object(assessment).filter(kind=AuditEvent.Kind.UPDATE, changes__has_key="experts")
    assert update.exists()


def test_more_experts_while_reviewing_but_not_twice_the_same(world):
    assessment = reviewing(world)
    wang = UserFactory(username="expert_wang", organization=world.expert_pool, roles=["expert"])
    services.assessment_assign_experts(actor=world.sector_kjw, assessment=assessment, experts=[wang, world.expert_li])
    assert set(assessment.expert_opinions.values_list("expert__username", flat=True)) == {"expert_li", "expert_wang"}
    with pytest.raises(ValidationError, match="均已指派"):
        services.assessment_assign_experts(actor=world.perf_admin, assessment=assessment, experts=[wang])
    assert transitions(assessment) == [("draft", "submitted"), ("submitted", "reviewing")]


def test_only_expert_role_users_can_be_assigned(world):
    assessment = submitted(world)
    with pytest.raises(ValidationError, match="不是在用的评审专家") as exc:
        services.assessment_assign_experts(
            actor=world.perf_admin, assessment=assessment, experts=[world.expert_li, world.edu_filler]
        )
    assert "edu_filler" in str(exc.value)
    with pytest.raises(ValidationError, match="请至少选择一位评审专家"):
        services.assessment_assign_experts(actor=world.perf_admin, assessment=assessment, experts=[])
    assert snapshot(assessment)[0] == S.SUBMITTED and not ExpertOpinion.objects.exists()


@pytest.mark.parametrize("persona", ["edu_approver", "edu_filler", "expert_li", "npc_liaison", "shinan_finance"])
def test_assigning_experts_is_finance_only(world, persona):
    assessment = submitted(world)
    with pytest.raises(PermissionDenied):
        services.assessment_assign_experts(
            actor=getattr(world, persona), assessment=assessment, experts=[world.expert_li]
        )
    assert snapshot(assessment)[0] == S.SUBMITTED and not ExpertOpinion.objects.exists()


def test_expert_gives_and_revises_their_opinion_until_completion(world):
    assessment = reviewing(world)
    with pytest.raises(ValidationError, match="请填写专家意见"):
        services.expert_opinion_submit(actor=world.expert_li, assessment=assessment, opinion=" ")
    services.expert_opinion_submit(
        actor=world.expert_li, assessment=assessment, opinion="建议压减设备预算。", recommended_conclusion="support"
    )
    services.expert_opinion_submit(
        actor=world.expert_li,
        assessment=assessment,
        opinion="建议压减设备预算 10%。",
        recommended_conclusion=Conclusion.SUPPORT_ADJUSTED,
    )
    row = ExpertOpinion.objects.get()
    assert (row.opinion, row.recommended_conclusion) == ("建议压减设备预算 10%。", "support_adjusted")
    assert row.submitted_at is not None
    assert AuditEvent.objects.for_object(row).count() == 2
    services.assessment_complete(
        actor=world.perf_admin, assessment=assessment, conclusion=Conclusion.SUPPORT_ADJUSTED, finance_opinion="同意。"
    )
    with pytest.raises(ValidationError, match="已完成，不能再提交或修改专家意见"):
        services.expert_opinion_submit(actor=world.expert_li, assessment=assessment, opinion="再改一次。")
    row.refresh_from_db()
    assert row.opinion == "建议压减设备预算 10%。"


def test_expert_opinion_refuses_bad_conclusion_and_returned_state(world):
    assessment = reviewing(world)
    with pytest.raises(ValidationError, match="建议结论只能是"):
        services.expert_opinion_submit(
            actor=world.expert_li, assessment=assessment, opinion="同意。", recommended_conclusion="maybe"
        )
    services.assessment_return(actor=world.perf_admin, assessment=assessment, comment="请补充。")
    with pytest.raises(ValidationError, match="当前状态为“已退回”"):
        services.expert_opinion_submit(actor=world.expert_li, assessment=assessment, opinion="同意。")


def test_only_the_assigned_expert_gives_an_opinion(world):
    assessment = reviewing(world)
    wang = UserFactory(username="expert_wang", organization=world.expert_pool, roles=["expert"])
    for actor in (wang, world.perf_admin, world.edu_approver):
        with pytest.raises(PermissionDenied):
            services.expert_opinion_submit(actor=actor, assessment=assessment, opinion="同意。")
    assert ExpertOpinion.objects.get().submitted_at is None


def test_finance_completes_with_conclusion_and_opinion(world):
    assessment = reviewing(world)
    with pytest.raises(ValidationError) as exc:
        services.assessment_complete(actor=world.perf_admin, assessment=assessment, conclusion="", finance_opinion="")
    assert set(exc.value.message_dict) == {"conclusion", "finance_opinion"}
    with pytest.raises(ValidationError, match="请选择评估结论"):
        services.assessment_complete(
            actor=world.perf_admin, assessment=assessment, conclusion="yes", finance_opinion="好"
        )
    assert snapshot(assessment)[0] == S.REVIEWING
    done = services.assessment_complete(
        actor=world.perf_admin, assessment=assessment, conclusion=Conclusion.REJECT, finance_opinion=" 必要性不足。 "
    )
    assert (done.status, done.conclusion, done.finance_opinion) == (S.COMPLETED, "reject", "必要性不足。")
    assert done.reviewed_by == world.perf_admin and done.completed_at is not None
    event = services.ASSESSMENT_FLOW.history(assessment).last()
    assert event.changes["conclusion"] == {"from": "", "to": "reject"}
    assert event.changes["finance_opinion"]["to"] == "必要性不足。"
    assert event.comment == "评估结论：不予支持"


@pytest.mark.parametrize("persona", ["expert_li", "edu_approver", "npc_liaison", "auditor", "shinan_finance"])
def test_completion_is_finance_only(world, persona):
    assessment = reviewing(world)
    for fn, kwargs in [
        (services.assessment_complete, {"conclusion": Conclusion.SUPPORT, "finance_opinion": "同意。"}),
        (services.assessment_return, {"comment": "退回"}),
    ]:
        with pytest.raises(PermissionDenied):
            fn(actor=getattr(world, persona), assessment=assessment, **kwargs)
    assert snapshot(assessment)[0] == S.REVIEWING


def test_sector_reviewer_reviews_assigned_departments_only(world):
    edu = submitted(world)
    health = submitted(world, make_fund(world, world.health_unit, name="疾控能力提升"))
    services.assessment_complete(
        actor=world.sector_kjw, assessment=edu, conclusion=Conclusion.SUPPORT, finance_opinion="同意。"
    )
    assert snapshot(edu)[0] == S.COMPLETED
    before = snapshot(health)
    with pytest.raises(PermissionDenied):
        services.assessment_complete(
            actor=world.sector_kjw, assessment=health, conclusion=Conclusion.SUPPORT, finance_opinion="同意。"
        )
    with pytest.raises(PermissionDenied):
        services.assessment_return(actor=world.sector_kjw, assessment=health, comment="退回")
    with pytest.raises(PermissionDenied):
        services.assessment_assign_experts(actor=world.sector_kjw, assessment=health, experts=[world.expert_li])
    assert snapshot(health) == before


def test_audit_trail_of_a_full_review(world):
    assessment = reviewing(world)
    services.expert_opinion_submit(actor=world.expert_li, assessment=assessment, opinion="同意。")
    services.assessment_complete(
        actor=world.perf_admin, assessment=assessment, conclusion=Conclusion.SUPPORT, finance_opinion="同意。"
    )
    kinds = list(AuditEvent.objects.for_object(assessment).order_by("id").values_list("kind", "actor__username"))
    assert kinds == [
        ("create", "edu_filler"),
        ("update", "edu_filler"),
        ("transition", "edu_approver"),
        ("update", "perf_admin"),  # experts assigned
        ("transition", "perf_admin"),
        ("transition", "perf_admin"),
    ]
    assert transitions(assessment) == [("draft", "submitted"), ("submitted", "reviewing"), ("reviewing", "completed")]


# --- selectors --------------------------------------------------------------------------------


def test_selectors_scope_and_latest(world):
    edu_fund = make_fund(world)
    edu = started(world, edu_fund)
    health = started(world, make_fund(world, world.health_unit, name="疾控能力提升"))
    assert list(selectors.assessments_for_fund(user=world.edu_filler, fund=edu_fund)) == [edu]
    assert list(selectors.assessments_for_fund(user=world.health_filler, fund=edu_fund)) == []
    assert set(selectors.assessment_list(user=world.perf_admin)) == {edu, health}
    assert list(selectors.assessment_list(user=world.edu_unit_filler)) == [edu]
    assert list(selectors.assessment_list(user=world.shinan_finance)) == []
    assert list(selectors.assessment_list(user=world.perf_admin, q="疾控")) == [health]
    assert list(selectors.assessment_list(user=world.perf_admin, q=edu_fund.code)) == [edu]
    assert list(selectors.assessment_list(user=world.perf_admin, status=S.SUBMITTED)) == []
    assert list(selectors.assessment_list(user=world.perf_admin, fiscal_year=2027)) == []
    assert selectors.latest_assessment(edu_fund) == edu
    assert selectors.latest_assessment(make_fund(world)) is None


# --- pages ------------------------------------------------------------------------------------


def detail_url(assessment):
    return reverse("assessments:assessment_detail", args=[assessment.pk])


def action_url(assessment, action):
    return reverse("assessments:assessment_action", args=[assessment.pk, action])


def test_list_page_shows_amount_in_wan_yuan_status_and_filters(world, login):
    edu = completed(world)
    started(world, make_fund(world, name="校园安全提升", amount="1234567.89"))
    client = login(world.edu_filler)
    page = client.get(reverse("assessments:assessment_list")).content.decode()
    assert "智慧校园实验室建设" in page and "600.00" in page and "123.46" in page
    assert "予以支持" in page and "已完成" in page and "单位评估中" in page
    filtered = client.get(reverse("assessments:assessment_list"), {"status": "completed"}).content.decode()
    assert edu.fund.name in filtered and "校园安全提升" not in filtered
    found = client.get(reverse("assessments:assessment_list"), {"q": "校园安全"}).content.decode()
    assert "校园安全提升" in found and "智慧校园实验室建设" not in found
    partial = client.get(reverse("assessments:assessment_list"), HTTP_HX_REQUEST="true").content.decode()
    assert 'id="assessments"' in partial and "<html" not in partial


def test_list_page_follows_the_selected_fiscal_year(world, login):
    this_year = started(world)
    FiscalYear.objects.filter(pk=2026).update(is_current=True)
    last_year = started(world, make_fund(world, name="上年度项目", year=2025))
    client = login(world.perf_admin)
    page = client.get(reverse("assessments:assessment_list")).content.decode()
    assert this_year.fund.name in page and "上年度项目" not in page
    client.post(reverse("core:fiscal_year_switch"), {"year": "2025", "next": reverse("assessments:assessment_list")})
    page = client.get(reverse("assessments:assessment_list")).content.decode()
    assert last_year.fund.name in page and this_year.fund.name not in page


def test_list_page_for_expert_shows_only_assigned(world, login):
    mine = reviewing(world)
    submitted(world, make_fund(world, name="未指派的项目"))
    page = login(world.expert_li).get(reverse("assessments:assessment_list")).content.decode()
    assert mine.fund.name in page and "未指派的项目" not in page


def test_list_page_refused_to_roles_without_it(world, login):
    for persona in ("sysadmin", "security_admin", "audit_admin"):
        assert login(getattr(world, persona)).get(reverse("assessments:assessment_list")).status_code == 403


@pytest.mark.parametrize(("persona", "expected"), [("perf_admin", 9), ("edu_filler", 9), ("expert_li", 9)])
def test_list_page_runs_a_constant_number_of_queries(world, login, persona, expected):
    user = getattr(world, persona)
    client = login(user)

    def grow():
        for _ in range(3):
            assert (reviewing(world, make_fund(world)) if persona == "expert_li" else started(world)).pk

    grow()

    def fetch():
        response = client.get(reverse("assessments:assessment_list"))
        assert response.status_code == 200 and response.content.decode().count('href="/assessments/') >= 3

    assert_constant_queries(fetch, grow, expected)


@pytest.mark.parametrize("persona", ["edu_filler", "edu_approver", "edu_unit_filler", "perf_admin", "sector_kjw"])
def test_detail_page_for_readers(world, login, persona):
    assessment = started(world)
    page = login(getattr(world, persona)).get(detail_url(assessment)).content.decode()
    for label in LABELS:
        assert label in page
    assert TEXTS["feasibility"] in page and "600.00 万元" in page


@pytest.mark.parametrize("persona", ["health_filler", "shinan_edu_filler", "shinan_finance", "expert_li"])
def test_detail_and_edit_are_404_out_of_scope(world, login, persona):
    assessment = started(world)
    client = login(getattr(world, persona))
    assert client.get(detail_url(assessment)).status_code == 404
    expected_edit = 403 if persona in ("shinan_finance", "expert_li") else 404  # those roles never edit
    assert client.get(reverse("assessments:assessment_edit", args=[assessment.pk])).status_code == expected_edit
    response = client.post(reverse("assessments:assessment_edit", args=[assessment.pk]), TEXTS)
    assert response.status_code == expected_edit
    assert client.post(action_url(assessment, "submit")).status_code == 404
    assert snapshot(assessment)[0] == S.DRAFT


def test_sysadmin_gets_403_everywhere(world, login):
    assessment = started(world)
    client = login(world.sysadmin)
    assert client.get(detail_url(assessment)).status_code == 403
    assert client.post(reverse("assessments:assessment_create", args=[assessment.fund.pk])).status_code == 403
    assert client.post(action_url(assessment, "submit")).status_code == 403
    assert snapshot(assessment)[0] == S.DRAFT


def test_buttons_follow_permissions(world, login):
    assessment = started(world)
    filler = login(world.edu_filler).get(detail_url(assessment)).content.decode()
    assert 'id="assessment-edit"' in filler and 'id="assessment-submit"' not in filler
    approver = login(world.edu_approver).get(detail_url(assessment)).content.decode()
    assert 'id="assessment-edit"' in approver and 'id="assessment-submit"' in approver
    finance = login(world.perf_admin).get(detail_url(assessment)).content.decode()
    assert 'id="complete-card"' not in finance and 'id="assessment-edit"' not in finance
    services.assessment_submit(actor=world.edu_approver, assessment=assessment)
    finance = login(world.perf_admin).get(detail_url(assessment)).content.decode()
    assert all(f'id="{card}"' in finance for card in ("assign-card", "complete-card", "return-card"))
    assert "expert_li" in finance or "测试用户" in finance  # the expert is offered
    approver = login(world.edu_approver).get(detail_url(assessment)).content.decode()
    assert 'id="assessment-submit"' not in approver and 'id="complete-card"' not in approver
    npc = login(world.npc_liaison).get(detail_url(assessment)).content.decode()
    assert not any(marker in npc for marker in ('id="unit-actions"', 'id="complete-card"', 'id="opinion-card"'))


def test_missing_dimensions_shown_before_submitting(world, login):
    assessment = started(world, texts=False)
    page = login(world.edu_approver).get(detail_url(assessment)).content.decode()
    assert 'id="missing-dimensions"' in page and "立项必要性、投入经济性" in page


def test_create_page_starts_and_redirects_to_edit(world, login):
    fund = make_fund(world)
    client = login(world.edu_filler)
    response = client.post(reverse("assessments:assessment_create", args=[fund.pk]))
    assessment = ExAnteAssessment.objects.get()
    assert response.status_code == 302 and response.url == reverse("assessments:assessment_edit", args=[assessment.pk])
    again = client.post(reverse("assessments:assessment_create", args=[fund.pk]), follow=True)
    assert again.redirect_chain[-1][0] == detail_url(assessment)
    assert "已有一份未完成的事前绩效评估" in again.content.decode()
    assert ExAnteAssessment.objects.count() == 1
    assert client.get(reverse("assessments:assessment_create", args=[fund.pk])).status_code == 405


def test_create_page_scope_and_role(world, login):
    fund = make_fund(world)
    assert login(world.health_filler).post(reverse("assessments:assessment_create", args=[fund.pk])).status_code == 404
    assert (
        login(world.shinan_edu_filler).post(reverse("assessments:assessment_create", args=[fund.pk])).status_code == 404
    )
    assert login(world.perf_admin).post(reverse("assessments:assessment_create", args=[fund.pk])).status_code == 403
    assert login(world.expert_li).post(reverse("assessments:assessment_create", args=[fund.pk])).status_code == 403
    assert not ExAnteAssessment.objects.exists()


def test_edit_page_saves_the_five_dimensions(world, login):
    assessment = started(world, texts=False)
    client = login(world.edu_unit_filler)
    form = client.get(reverse("assessments:assessment_edit", args=[assessment.pk])).content.decode()
    assert all(label in form for label in LABELS) and "不少于 20 个字" in form
    response = client.post(reverse("assessments:assessment_edit", args=[assessment.pk]), TEXTS)
    assert response.status_code == 302 and response.url == detail_url(assessment)
    assert snapshot(assessment) == (S.DRAFT, *TEXTS.values(), "")


def test_edit_page_refuses_completed_assessment(world, login):
    assessment = completed(world)
    before = snapshot(assessment)
    client = login(world.edu_filler)
    response = client.get(reverse("assessments:assessment_edit", args=[assessment.pk]), follow=True)
    assert "已完成，结论已作出，不能再修改" in response.content.decode()
    posted = client.post(
        reverse("assessments:assessment_edit", args=[assessment.pk]), {**TEXTS, "necessity": "改" * 30}
    )
    assert posted.status_code == 200 and "已完成，结论已作出，不能再修改" in posted.content.decode()
    assert snapshot(assessment) == before
    page = client.get(detail_url(assessment)).content.decode()
    assert 'id="assessment-edit"' not in page and "同意立项。" in page


def test_double_submit_on_the_page_shows_a_clear_message(world, login):
    assessment = started(world)
    client = login(world.edu_approver)
    first = client.post(action_url(assessment, "submit"), follow=True)
    assert first.status_code == 200 and "已提交财政评审" in first.content.decode()
    second = client.post(action_url(assessment, "submit"), follow=True)
    assert second.status_code == 200
    assert "当前状态为“待财政评审”，不能执行“提交财政评审”" in second.content.decode()
    assert transitions(assessment) == [("draft", "submitted")]


def test_submit_on_the_page_lists_missing_dimensions(world, login):
    assessment = started(world, texts=False)
    page = login(world.edu_approver).post(action_url(assessment, "submit"), follow=True).content.decode()
    assert "提交未成功" in page and "“筹资合规性”尚未填写" in page
    assert snapshot(assessment)[0] == S.DRAFT


def test_filler_posting_submit_gets_403(world, login):
    assessment = started(world)
    assert login(world.edu_filler).post(action_url(assessment, "submit")).status_code == 403
    assert snapshot(assessment)[0] == S.DRAFT


def test_unknown_action_is_404(world, login):
    assessment = started(world)
    assert login(world.edu_approver).post(action_url(assessment, "approve")).status_code == 404


def test_review_on_the_pages(world, login):
    assessment = submitted(world)
    finance = login(world.perf_admin)
    response = finance.post(action_url(assessment, "assign"), {"experts": [world.expert_li.pk]})
    assert response.status_code == 302 and snapshot(assessment)[0] == S.REVIEWING
    assert 'id="no-experts"' in finance.get(detail_url(assessment)).content.decode()  # the only expert is taken
    # The expert now sees it, gives an opinion and cannot complete it.
    expert = login(world.expert_li)
    page = expert.get(detail_url(assessment)).content.decode()
    assert 'id="opinion-card"' in page and 'id="complete-card"' not in page
    assert expert.post(action_url(assessment, "opinion"), {"opinion": ""}).status_code == 200
    assert ExpertOpinion.objects.get().submitted_at is None
    response = expert.post(
        action_url(assessment, "opinion"), {"opinion": "建议支持。", "recommended_conclusion": "support"}
    )
    assert response.status_code == 302
    done = {"conclusion": "support", "finance_opinion": "同意。"}
    assert expert.post(action_url(assessment, "complete"), done).status_code == 403
    assert snapshot(assessment)[0] == S.REVIEWING
    # Finance: missing opinion is shown on the form, then completes.
    finance = login(world.perf_admin)
    missing = finance.post(action_url(assessment, "complete"), {"conclusion": "support"})
    assert missing.status_code == 200 and "请填写财政评审意见" in missing.content.decode()
    assert snapshot(assessment)[0] == S.REVIEWING
    page = finance.get(detail_url(assessment)).content.decode()
    assert "建议支持。" in page
    assert finance.post(action_url(assessment, "complete"), done).status_code == 302
    assessment.refresh_from_db()
    assert (assessment.status, assessment.conclusion) == (S.COMPLETED, "support")
    page = finance.get(detail_url(assessment)).content.decode()
    assert 'id="finance-review"' in page and "予以支持" in page and "专家评审中 → " in page
    again = finance.post(action_url(assessment, "return"), {"comment": "重新评估"}, follow=True)
    assert again.status_code == 200 and "当前状态为“已完成”" in again.content.decode()
    stale = finance.post(action_url(assessment, "complete"), {"conclusion": "reject"}, follow=True)
    assert "请填写财政评审意见" in stale.content.decode() and snapshot(assessment)[-1] == "support"


def test_assign_page_refuses_non_experts_with_a_message(world, login):
    assessment = submitted(world)
    response = login(world.perf_admin).post(action_url(assessment, "assign"), {"experts": [world.edu_filler.pk]})
    assert response.status_code == 200 and "所选专家不存在或已停用" in response.content.decode()
    assert snapshot(assessment)[0] == S.SUBMITTED


def test_return_on_the_page_requires_a_comment_and_shows_it_to_the_unit(world, login):
    assessment = submitted(world)
    finance = login(world.perf_admin)
    empty = finance.post(action_url(assessment, "return"), {"comment": ""})
    assert empty.status_code == 200 and "退回必须填写意见" in empty.content.decode()
    assert snapshot(assessment)[0] == S.SUBMITTED
    assert finance.post(action_url(assessment, "return"), {"comment": "请补充测算依据。"}).status_code == 302
    page = login(world.edu_filler).get(detail_url(assessment)).content.decode()
    assert 'id="return-comment"' in page and "请补充测算依据。" in page and 'id="assessment-edit"' in page


def test_expert_sees_only_own_opinion(world, login):
    assessment = reviewing(world)
    wang = UserFactory(username="expert_wang", real_name="王专家", organization=world.expert_pool, roles=["expert"])
    services.assessment_assign_experts(actor=world.perf_admin, assessment=assessment, experts=[wang])
    services.expert_opinion_submit(actor=wang, assessment=assessment, opinion="王的独立意见。")
    assert "王的独立意见。" not in login(world.expert_li).get(detail_url(assessment)).content.decode()
    assert "王的独立意见。" in login(world.perf_admin).get(detail_url(assessment)).content.decode()


def test_sector_reviewer_pages_on_health_fund(world, login):
    health = submitted(world, make_fund(world, world.health_unit, name="疾控能力提升"))
    before = snapshot(health)
    client = login(world.sector_kjw)
    page = client.get(detail_url(health)).content.decode()  # readable in the region, not reviewable
    assert 'id="complete-card"' not in page
    assert (
        client.post(action_url(health, "complete"), {"conclusion": "support", "finance_opinion": "同意"}).status_code
        == 403
    )
    assert client.post(action_url(health, "return"), {"comment": "退回"}).status_code == 403
    assert client.post(action_url(health, "assign"), {"experts": [world.expert_li.pk]}).status_code == 403
    assert snapshot(health) == before
    edu = submitted(world)
    assert 'id="complete-card"' in client.get(detail_url(edu)).content.decode()


def test_fund_tab_partial(world, login):
    fund = make_fund(world)

    def render(user):
        assessments = selectors.assessments_for_fund(user=user, fund=fund)
        return render_to_string(
            "assessments/partials/fund_tab.html", {"fund": fund, "assessments": assessments, "user": user}
        )

    assert 'id="assessment-start"' in render(world.edu_filler)
    assert 'id="assessment-start"' not in render(world.perf_admin)
    assessment = started(world, fund)
    html = render(world.edu_filler)
    assert 'id="assessment-start"' not in html and detail_url(assessment) in html and "单位评估中" in html
    services.assessment_submit(actor=world.edu_approver, assessment=assessment)
    services.assessment_complete(
        actor=world.perf_admin, assessment=assessment, conclusion=Conclusion.SUPPORT, finance_opinion="同意。"
    )
    html = render(world.edu_filler)
    assert 'id="assessment-start"' in html and "予以支持" in html


def test_fund_page_assessment_tab(world, login):
    fund = make_fund(world)
    page = login(world.edu_filler).get(reverse("funds:fund_detail", args=[fund.pk]), {"tab": "assessment"})
    assert page.status_code == 200 and 'id="assessment-start"' in page.content.decode()


# --- API --------------------------------------------------------------------------------------

API = "/api/v1/assessments/"


def api_url(assessment, action=""):
    return f"{API}{assessment.pk}/" + (f"{action}/" if action else "")


def test_api_list_is_scoped(world, login):
    edu = reviewing(world)
    health = started(world, make_fund(world, world.health_unit, name="疾控能力提升"))
    ids = lambda user: {row["id"] for row in login(user).get(API).json()["results"]}  # noqa: E731
    assert ids(world.perf_admin) == {edu.pk, health.pk}
    assert ids(world.edu_filler) == {edu.pk}
    assert ids(world.health_filler) == {health.pk}
    assert ids(world.expert_li) == {edu.pk}
    assert ids(world.shinan_finance) == set()
    assert login(world.sysadmin).get(API).status_code == 403
    row = login(world.edu_filler).get(API).json()["results"][0]
    assert row["amount"] == "6000000.00" and row["status_display"] == "专家评审中"
    assert row["department_name"] == "青岛市教育局" and row["fund_name"] == "智慧校园实验室建设"
    assert login(world.perf_admin).get(API, {"status": "draft"}).json()["count"] == 1
    assert login(world.perf_admin).get(API, {"search": "疾控"}).json()["results"][0]["id"] == health.pk


def test_api_retrieve_scope_and_expert_opinions(world, login):
    assessment = reviewing(world)
    wang = UserFactory(username="expert_wang", organization=world.expert_pool, roles=["expert"])
    services.assessment_assign_experts(actor=world.perf_admin, assessment=assessment, experts=[wang])
    other = submitted(world, make_fund(world, name="未指派的项目"))
    expert = login(world.expert_li)
    data = expert.get(api_url(assessment)).json()
    assert [o["expert"] for o in data["expert_opinions"]] == [world.expert_li.pk]
    assert expert.get(api_url(other)).status_code == 404
    assert len(login(world.perf_admin).get(api_url(assessment)).json()["expert_opinions"]) == 2
    for persona in ("health_filler", "shinan_edu_filler", "shinan_finance"):
        assert login(getattr(world, persona)).get(api_url(assessment)).status_code == 404


@pytest.mark.parametrize(("persona", "expected"), [("perf_admin", 8), ("edu_filler", 8), ("expert_li", 8)])
def test_api_list_runs_a_constant_number_of_queries(world, login, persona, expected):
    client = login(getattr(world, persona))

    def add():
        for _ in range(3):
            assert (reviewing(world, make_fund(world)) if persona == "expert_li" else started(world)).pk

    add()

    def fetch():
        response = client.get(API)
        assert response.status_code == 200 and response.json()["count"] >= 3

    assert_constant_queries(fetch, add, expected)


def test_api_full_flow(world, login):
    fund = make_fund(world)
    filler = login(world.edu_filler)
    created = filler.post(API, {"fund": fund.pk}, content_type="application/json")
    assert created.status_code == 201 and created.json()["status"] == "draft"
    pk = created.json()["id"]
    again = filler.post(API, {"fund": fund.pk}, content_type="application/json")
    assert again.status_code == 400 and "已有一份未完成的事前绩效评估" in str(again.json())
    patched = filler.patch(f"{API}{pk}/", {"necessity": TEXTS["necessity"]}, content_type="application/json")
    assert patched.status_code == 200 and patched.json()["necessity"] == TEXTS["necessity"]
    approver = login(world.edu_approver)
    refused = approver.post(f"{API}{pk}/submit/")
    assert refused.status_code == 400 and "“投入经济性”尚未填写" in str(refused.json())
    filler = login(world.edu_filler)
    filler.patch(f"{API}{pk}/", TEXTS, content_type="application/json")
    assert filler.post(f"{API}{pk}/submit/").status_code == 403  # a filler does not submit
    approver = login(world.edu_approver)
    assert approver.post(f"{API}{pk}/submit/").json()["status"] == "submitted"
    double = approver.post(f"{API}{pk}/submit/")
    assert double.status_code == 400 and "不能执行“提交财政评审”" in double.json()["non_field_errors"][0]
    finance = login(world.perf_admin)
    bad = finance.post(
        f"{API}{pk}/assign_experts/", {"experts": [world.edu_filler.pk]}, content_type="application/json"
    )
    # Someone who is not an expert is simply "not found": the API never names other users.
    assert (
        bad.status_code == 400 and "对象不存在" in str(bad.json()) and world.edu_filler.real_name not in str(bad.json())
    )
    assigned = finance.post(
        f"{API}{pk}/assign_experts/", {"experts": [world.expert_li.pk]}, content_type="application/json"
    )
    assert assigned.status_code == 200 and assigned.json()["status"] == "reviewing"
    expert = login(world.expert_li)
    opinion = expert.post(f"{API}{pk}/opinion/", {"opinion": "建议支持。"}, content_type="application/json")
    assert opinion.status_code == 200 and opinion.json()["expert_opinions"][0]["opinion"] == "建议支持。"
    done = {"conclusion": "support_adjusted", "finance_opinion": "压减 10% 后支持。"}
    assert expert.post(f"{API}{pk}/complete/", done, content_type="application/json").status_code == 403
    finance = login(world.perf_admin)
    empty = finance.post(f"{API}{pk}/complete/", {}, content_type="application/json")
    assert empty.status_code == 400 and set(empty.json()) == {"conclusion", "finance_opinion"}
    completed_ = finance.post(f"{API}{pk}/complete/", done, content_type="application/json")
    assert completed_.status_code == 200
    assert (completed_.json()["status"], completed_.json()["conclusion_display"]) == ("completed", "调整后支持")
    late = login(world.edu_filler).patch(f"{API}{pk}/", {"necessity": "改" * 30}, content_type="application/json")
    assert late.status_code == 400 and "已完成" in str(late.json())
    assert ExAnteAssessment.objects.get(pk=pk).necessity == TEXTS["necessity"]


def test_api_return_requires_a_comment(world, login):
    assessment = submitted(world)
    finance = login(world.perf_admin)
    empty = finance.post(api_url(assessment, "return"), {"comment": ""}, content_type="application/json")
    assert empty.status_code == 400 and "必须填写意见" in str(empty.json())
    ok = finance.post(api_url(assessment, "return"), {"comment": "请补充。"}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == "returned"


def test_api_refuses_out_of_scope_and_wrong_roles(world, login):
    health = submitted(world, make_fund(world, world.health_unit, name="疾控能力提升"))
    before = snapshot(health)
    done = {"conclusion": "support", "finance_opinion": "同意"}
    sector = login(world.sector_kjw)
    assert sector.post(api_url(health, "complete"), done, content_type="application/json").status_code == 403
    assert (
        sector.post(api_url(health, "return"), {"comment": "退回"}, content_type="application/json").status_code == 403
    )
    edu_filler = login(world.edu_filler)
    assert edu_filler.post(api_url(health, "complete"), done, content_type="application/json").status_code == 404
    assert edu_filler.patch(api_url(health), TEXTS, content_type="application/json").status_code == 404
    assert login(world.npc_liaison).patch(api_url(health), TEXTS, content_type="application/json").status_code == 403
    assert login(world.expert_li).post(api_url(health, "opinion"), {"opinion": "x"}).status_code == 404
    assert login(world.sysadmin).post(api_url(health, "submit")).status_code == 403
    assert snapshot(health) == before
    fund = make_fund(world)
    out_of_scope = login(world.health_filler).post(API, {"fund": fund.pk}, content_type="application/json")
    assert out_of_scope.status_code == 400 and "不在您的权限范围内" in str(out_of_scope.json())
    assert login(world.perf_admin).post(API, {"fund": fund.pk}, content_type="application/json").status_code == 403
    assert login(world.edu_filler).put(api_url(health), TEXTS, content_type="application/json").status_code == 405
    assert not ExAnteAssessment.objects.filter(fund=fund).exists()


# --- concurrency (row locks: PostgreSQL) ---------------------------------------------------------


def run_twice_at_once(fn) -> list[str]:
    barrier = threading.Barrier(2)
    outcomes = []

    def run(i):
        from django.db import connection as conn

        barrier.wait()
        try:
            fn(i)
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outcomes)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_clicks_on_start_create_one_assessment():
    world = build_world()
    fund = make_fund(world)
    users = [world.edu_filler, world.edu_unit_filler]
    assert run_twice_at_once(lambda i: services.assessment_create(actor=users[i], fund=fund)) == ["ok", "refused"]
    assert ExAnteAssessment.objects.filter(fund=fund).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_reviewers_concluding_at_once_only_one_wins():
    world = build_world()
    assessment = submitted(world)
    reviewers, conclusions = [world.perf_admin, world.sector_kjw], [Conclusion.SUPPORT, Conclusion.REJECT]

    def complete(i):
        services.assessment_complete(
            actor=reviewers[i], assessment=assessment, conclusion=conclusions[i], finance_opinion="结论。"
        )

    assert run_twice_at_once(complete) == ["ok", "refused"]
    assert transitions(assessment)[-1] == ("submitted", "completed")
    assert len(transitions(assessment)) == 2
