"""第三方机构与专家库: registry rules, the conflict-of-interest rule, assignment and its object
permissions, and the quality appraisal — through the services (pages and API in the other files)."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.accounts.roles import Role
from apps.agencies import services
from apps.agencies.conflicts import conflicts
from apps.agencies.models import (
    Agency,
    AgencyAppraisal,
    AppraisalCriterion,
    AppraisalScore,
    ConflictRelation,
    ConflictTie,
    Expert,
)
from apps.assessments import services as assessment_services
from apps.assessments.models import ExAnteAssessment, ExpertOpinion
from apps.core.models import AuditEvent
from apps.evaluations.models import EvaluationPlan, KeyEvaluation, KeyEvaluationExpert
from apps.orgs.models import Organization
from tests.factories import OrganizationFactory, UserFactory
from tests.test_targets_flow import make_fund

K = Organization.Kind
KEY_PERM = "evaluations.view_keyevaluation"


def build_registry(world, year) -> SimpleNamespace:
    """Two agencies (the first with a staff account), two experts (李专家 with a login), a finance
    key evaluation and a submitted ex-ante assessment of a 教育局 fund, and a 市南区 key evaluation."""
    r = SimpleNamespace()
    r.agency_org = OrganizationFactory(
        code="T-AG1", name="青岛正衡绩效评价咨询有限公司", kind=K.AGENCY, region=world.city
    )
    r.staff = UserFactory(username="agency_zhang", organization=r.agency_org, roles=[Role.EXPERT])
    r.other_org = OrganizationFactory(code="T-AG2", name="山东海纳工程咨询有限公司", kind=K.AGENCY, region=world.city)
    r.other_staff = UserFactory(username="agency_liu", organization=r.other_org, roles=[Role.EXPERT])
    r.agency = Agency.objects.create(
        registered_by=world.city_finance,
        organization=r.agency_org,
        name="青岛正衡绩效评价咨询有限公司",
        credit_code="91370200MA3C000001",
    )
    r.other_agency = Agency.objects.create(
        registered_by=world.city_finance,
        organization=r.other_org,
        name="山东海纳工程咨询有限公司",
        credit_code="91370000MA3D000002",
    )
    r.expert = Expert.objects.create(
        registered_by=world.city_finance, user=world.expert_li, name="李专家", fields="教育、财政预算"
    )
    r.plain_expert = Expert.objects.create(registered_by=world.city_finance, name="陈晓", fields="交通、工程造价")
    r.relation = ConflictRelation.objects.get_or_create(name="近三年为其提供有偿服务")[0]
    r.plan = EvaluationPlan.objects.create(
        organization=world.city_finance,
        fiscal_year=year,
        kind="finance",
        name="2026年财政重点评价",
        created_by=world.perf_admin,
    )
    r.fund = make_fund(world, year)
    r.key = KeyEvaluation.objects.create(plan=r.plan, fund=r.fund, department=world.edu)
    r.assessment = ExAnteAssessment.objects.create(fund=r.fund, organization=r.fund.organization, status="submitted")
    shinan_fund = make_fund(
        world, year, org=world.shinan_edu_unit, actor=world.shinan_edu_filler, code="SN-2026-001", name="市南区学生资助"
    )
    shinan_plan = EvaluationPlan.objects.create(
        organization=world.shinan_finance_org,
        fiscal_year=year,
        kind="finance",
        name="市南区2026年重点评价",
        created_by=world.shinan_finance,
    )
    r.shinan_key = KeyEvaluation.objects.create(plan=shinan_plan, fund=shinan_fund, department=world.shinan_edu)
    return r


@pytest.fixture
def reg(world, year):
    return build_registry(world, year)


def sees(user, job) -> bool:
    action = "evaluation.view" if isinstance(job, KeyEvaluation) else "assessment.view"
    return type(job).objects.restrict(user, action).filter(pk=job.pk).exists()


def full_scores(points=None) -> dict[int, Decimal]:
    criteria = AppraisalCriterion.objects.filter(is_active=True)
    return {c.pk: (points if points is not None else c.max_points) for c in criteria}


# --- credit code and registry ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("91370200MA3C000001", True),
        ("91370200ma3c000001", True),  # upper-cased
        (" 9137 0200MA3C000001 ", True),  # blanks stripped
        ("91370200MA3C00000", False),  # 17
        ("91370200MA3C0000012", False),  # 19
        ("91370200MA3I000001", False),  # I not in the charset
        ("91370200MA3O000001", False),  # O
        ("91370200MA3S000001", False),  # S
        ("91370200MA3V000001", False),  # V
        ("91370200MA3Z000001", False),  # Z
        ("91370200MA3C-00001", False),
        ("", False),
    ],
)
def test_credit_code_is_18_characters_of_the_gb32100_charset(world, code, ok):
    if ok:
        agency = services.agency_create(actor=world.perf_admin, name="测试机构", credit_code=code)
        assert agency.credit_code == "91370200MA3C000001"
    else:
        with pytest.raises(ValidationError) as exc:
            services.agency_create(actor=world.perf_admin, name="测试机构", credit_code=code)
        assert "credit_code" in exc.value.message_dict
        assert "统一社会信用代码" in exc.value.message_dict["credit_code"][0]
        assert not Agency.objects.exists()


def test_credit_code_is_unique_with_a_clear_message(world, reg):
    with pytest.raises(ValidationError) as exc:
        services.agency_create(actor=world.perf_admin, name="另一家", credit_code="91370200ma3c000001")
    assert exc.value.message_dict["credit_code"] == [
        "统一社会信用代码 91370200MA3C000001 已登记为“青岛正衡绩效评价咨询有限公司”，不能重复登记。"
    ]
    assert Agency.objects.count() == 2


def test_agency_create_update_are_audited_and_scoped(world, reg):
    agency = services.agency_create(
        actor=world.shinan_finance, name="市南审计咨询", credit_code="91370202MA3F000004", contact_person="周"
    )
    assert agency.registered_by == world.shinan_finance_org
    assert AuditEvent.objects.for_object(agency).filter(kind="create").count() == 1
    services.agency_update(actor=world.shinan_finance, agency=agency, phone="0532-1")
    assert AuditEvent.objects.for_object(agency).filter(kind="update").get().changes == {
        "phone": {"from": "", "to": "0532-1"}
    }
    with pytest.raises(PermissionDenied):  # the city's agency is not the district's to edit
        services.agency_update(actor=world.shinan_finance, agency=reg.agency, phone="x")
    with pytest.raises(PermissionDenied):
        services.agency_create(actor=world.edu_approver, name="x", credit_code="91370200MA3C000009")
    reg.agency.refresh_from_db()
    assert reg.agency.phone == ""


def test_agency_organisation_must_be_an_agency_org_not_taken(world, reg):
    with pytest.raises(ValidationError) as exc:
        services.agency_update(actor=world.perf_admin, agency=reg.other_agency, organization=world.edu)
    assert "不是第三方机构类型" in exc.value.message_dict["organization"][0]
    with pytest.raises(ValidationError) as exc:
        services.agency_update(actor=world.perf_admin, agency=reg.other_agency, organization=reg.agency_org)
    assert "已关联第三方机构" in exc.value.message_dict["organization"][0]


def test_suspend_needs_a_reason_and_reactivate_clears_it(world, reg):
    with pytest.raises(ValidationError) as exc:
        services.agency_suspend(actor=world.perf_admin, agency=reg.agency, reason="  ")
    assert exc.value.message_dict == {"reason": ["请填写暂停委托的原因。"]}
    reg.agency.refresh_from_db()
    assert reg.agency.status == "active"
    services.agency_suspend(actor=world.perf_admin, agency=reg.agency, reason="报告质量不合格")
    reg.agency.refresh_from_db()
    assert (reg.agency.status, reg.agency.status_reason) == ("suspended", "报告质量不合格")
    with pytest.raises(ValidationError, match="已处于暂停委托状态"):
        services.agency_suspend(actor=world.perf_admin, agency=reg.agency, reason="again")
    services.agency_reactivate(actor=world.perf_admin, agency=reg.agency)
    reg.agency.refresh_from_db()
    assert (reg.agency.status, reg.agency.status_reason) == ("active", "")
    with pytest.raises(ValidationError, match="无需恢复"):
        services.agency_reactivate(actor=world.perf_admin, agency=reg.agency)
    events = AuditEvent.objects.for_object(reg.agency).filter(kind="transition").order_by("pk")
    assert [e.comment for e in events] == ["暂停委托：报告质量不合格", "恢复委托"]
    with pytest.raises(PermissionDenied):
        services.agency_suspend(actor=world.sector_kjw, agency=reg.agency, reason="x")


def test_expert_login_must_be_an_expert_account_in_a_pool_or_agency(world, reg):
    with pytest.raises(ValidationError) as exc:
        services.expert_create(actor=world.perf_admin, name="张", fields="教育", user=world.edu_filler)
    assert "不能作为专家登录账号" in exc.value.message_dict["user"][0]
    with pytest.raises(ValidationError) as exc:
        services.expert_create(actor=world.perf_admin, name="张", fields="教育", user=world.expert_li)
    assert "已关联专家“李专家”" in exc.value.message_dict["user"][0]
    with pytest.raises(ValidationError) as exc:
        services.expert_create(actor=world.perf_admin, name=" ", fields=" ")
    assert set(exc.value.message_dict) == {"name", "fields"}
    expert = services.expert_create(actor=world.perf_admin, name="王", fields="教育，财政 ; 审计", user=reg.staff)
    assert expert.fields == "教育、财政、审计" and expert.user == reg.staff
    assert Expert.objects.count() == 3


def test_expert_suspend_and_reactivate(world, reg):
    with pytest.raises(ValidationError):
        services.expert_suspend(actor=world.perf_admin, expert=reg.expert, reason="")
    services.expert_suspend(actor=world.perf_admin, expert=reg.expert, reason="长期联系不上")
    reg.expert.refresh_from_db()
    assert reg.expert.status == "suspended"
    services.expert_reactivate(actor=world.perf_admin, expert=reg.expert)
    reg.expert.refresh_from_db()
    assert reg.expert.status == "active"


def test_ties_are_validated_and_audited(world, reg):
    tie = services.tie_add(actor=world.perf_admin, agency=reg.agency, organization=world.edu, relation=reg.relation)
    with pytest.raises(ValidationError, match="无需重复登记"):
        services.tie_add(actor=world.perf_admin, agency=reg.agency, organization=world.edu, relation=reg.relation)
    with pytest.raises(ValidationError) as exc:
        services.tie_add(
            actor=world.perf_admin, agency=reg.agency, organization=world.city_finance, relation=reg.relation
        )
    assert "不是预算部门或预算单位" in exc.value.message_dict["organization"][0]
    off = ConflictRelation.objects.create(name="已停用的关系", is_active=False)
    with pytest.raises(ValidationError) as exc:
        services.tie_add(actor=world.perf_admin, expert=reg.expert, organization=world.edu, relation=off)
    assert "已停用" in exc.value.message_dict["relation"][0]
    with pytest.raises(PermissionDenied):
        services.tie_add(actor=world.shinan_finance, agency=reg.agency, organization=world.edu, relation=reg.relation)
    with pytest.raises(PermissionDenied):
        services.tie_remove(actor=world.shinan_finance, tie=tie)
    services.tie_remove(actor=world.perf_admin, tie=tie)
    assert not ConflictTie.objects.exists()
    comments = list(AuditEvent.objects.for_object(reg.agency).order_by("pk").values_list("comment", flat=True))
    assert comments == ["登记利益关联", "删除利益关联"]


# --- the conflict-of-interest rule -------------------------------------------------------------


def test_conflicts_cover_the_subtree_the_ancestors_and_the_employer(world, reg):
    assert conflicts(department=world.edu, agency=reg.agency, expert=reg.expert) == []
    ConflictTie.objects.create(agency=reg.agency, organization=world.edu_unit, relation=reg.relation)
    # A tie to a unit of the evaluated department counts (subtree) …
    [message] = conflicts(department=world.edu, agency=reg.agency)
    assert message == (
        "第三方机构“青岛正衡绩效评价咨询有限公司”与被评价部门“青岛市教育局”存在利益关联："
        "近三年为其提供有偿服务（关联单位：青岛第二中学），应当回避。"
    )
    # … a tie to the department counts when a unit is evaluated (ancestor) …
    ConflictTie.objects.create(expert=reg.expert, organization=world.edu, relation=reg.relation)
    assert len(conflicts(department=world.edu_unit, expert=reg.expert)) == 1
    # … and nothing counts for another department.
    assert conflicts(department=world.health, agency=reg.agency, expert=reg.expert) == []
    reg.plain_expert.employer_organization = world.health_unit
    reg.plain_expert.save()
    [message] = conflicts(department=world.health, expert=reg.plain_expert)
    assert "工作单位“青岛市疾病预防控制中心”属于被评价部门“青岛市卫生健康委员会”" in message
    assert conflicts(department=world.edu, expert=reg.plain_expert) == []


def test_inactive_relation_does_not_count_and_suspension_does(world, reg):
    relation = ConflictRelation.objects.create(name="曾有业务往来", is_active=False)
    ConflictTie.objects.create(agency=reg.agency, organization=world.edu, relation=relation)
    assert conflicts(department=world.edu, agency=reg.agency) == []
    reg.agency.status, reg.agency.status_reason = "suspended", "质量不合格"
    reg.agency.save()
    assert conflicts(department=world.health, agency=reg.agency) == [
        "第三方机构“青岛正衡绩效评价咨询有限公司”已暂停委托（质量不合格），不能委托。"
    ]
    reg.expert.status = "suspended"
    reg.expert.save()
    assert conflicts(department=world.health, expert=reg.expert) == ["专家“李专家”已暂停，不能指派。"]


def _nothing_assigned(reg, world):
    reg.key.refresh_from_db()
    assert reg.key.agency_id is None
    assert not KeyEvaluationExpert.objects.exists()
    assert not sees(reg.staff, reg.key) and not sees(world.expert_li, reg.key)
    assert not AuditEvent.objects.for_object(reg.key).exists()


@pytest.mark.parametrize(
    "case", ["agency_tie", "expert_tie", "unit_tie", "employer", "suspended_agency", "suspended_expert"]
)
def test_assignment_is_refused_on_conflict_and_nothing_changes(world, reg, case):
    agency, experts = reg.agency, [reg.expert, reg.plain_expert]
    if case == "agency_tie":
        ConflictTie.objects.create(agency=reg.agency, organization=world.edu, relation=reg.relation)
        field, expected = "agency", "存在利益关联"
    elif case == "expert_tie":
        ConflictTie.objects.create(expert=reg.expert, organization=world.edu, relation=reg.relation)
        field, expected = "experts", "专家“李专家”与被评价部门“青岛市教育局”存在利益关联"
    elif case == "unit_tie":
        ConflictTie.objects.create(expert=reg.plain_expert, organization=world.edu_unit, relation=reg.relation)
        field, expected = "experts", "关联单位：青岛第二中学"
    elif case == "employer":
        Expert.objects.filter(pk=reg.plain_expert.pk).update(employer_organization=world.edu)
        field, expected = "experts", "工作单位“青岛市教育局”"
    elif case == "suspended_agency":
        Agency.objects.filter(pk=reg.agency.pk).update(status="suspended", status_reason="违规")
        field, expected = "agency", "已暂停委托"
    else:
        Expert.objects.filter(pk=reg.expert.pk).update(status="suspended")
        field, expected = "experts", "已暂停"
    with pytest.raises(ValidationError) as exc:
        services.key_evaluation_assign(actor=world.perf_admin, evaluation=reg.key, agency=agency, experts=experts)
    assert expected in "".join(exc.value.message_dict[field])
    _nothing_assigned(reg, world)


def test_assignment_grants_and_withdrawal_revokes_the_object_permission(world, reg):
    assert not sees(reg.staff, reg.key)
    services.key_evaluation_assign(actor=world.perf_admin, evaluation=reg.key, agency=reg.agency, experts=[reg.expert])
    reg.key.refresh_from_db()
    assert reg.key.agency == reg.agency
    assert sees(reg.staff, reg.key) and sees(world.expert_li, reg.key)
    assert not sees(reg.other_staff, reg.key) and not sees(reg.staff, reg.shinan_key)
    event = AuditEvent.objects.for_object(reg.key).get()
    assert event.changes == {
        "agency": {"from": None, "to": "青岛正衡绩效评价咨询有限公司"},
        "experts": {"from": None, "to": ["李专家"]},
    }
    with pytest.raises(ValidationError, match="均已指派"):
        services.key_evaluation_assign(actor=world.perf_admin, evaluation=reg.key, agency=reg.agency)
    # Replacing the agency moves the permission to the new agency's staff.
    services.key_evaluation_assign(actor=world.perf_admin, evaluation=reg.key, agency=reg.other_agency)
    assert not sees(reg.staff, reg.key) and sees(reg.other_staff, reg.key) and sees(world.expert_li, reg.key)
    services.key_evaluation_unassign(actor=world.perf_admin, evaluation=reg.key, agency=True, experts=[reg.expert])
    reg.key.refresh_from_db()
    assert reg.key.agency is None and not KeyEvaluationExpert.objects.exists()
    assert not sees(reg.other_staff, reg.key) and not sees(world.expert_li, reg.key)
    with pytest.raises(ValidationError, match="尚未委托"):
        services.key_evaluation_unassign(actor=world.perf_admin, evaluation=reg.key, agency=True)


def test_inactive_staff_get_no_grant(world, reg):
    reg.staff.is_active = False
    reg.staff.save()
    services.key_evaluation_assign(actor=world.perf_admin, evaluation=reg.key, agency=reg.agency)
    reg.staff.is_active = True
    reg.staff.save()
    assert not sees(reg.staff, reg.key)


def test_assignment_rules(world, reg):
    with pytest.raises(PermissionDenied):
        services.key_evaluation_assign(actor=world.shinan_finance, evaluation=reg.key, agency=reg.agency)
    with pytest.raises(PermissionDenied):
        services.key_evaluation_assign(actor=world.sector_kjw, evaluation=reg.key, agency=reg.agency)
    with pytest.raises(ValidationError, match="请选择"):
        services.key_evaluation_assign(actor=world.perf_admin, evaluation=reg.key)
    KeyEvaluation.objects.filter(pk=reg.key.pk).update(status="completed")
    with pytest.raises(ValidationError, match="已完成"):
        services.key_evaluation_assign(actor=world.perf_admin, evaluation=reg.key, agency=reg.agency)
    with pytest.raises(ValidationError, match="已完成"):
        services.key_evaluation_unassign(actor=world.perf_admin, evaluation=reg.key, agency=True)
    _nothing_assigned(reg, world)
    services.key_evaluation_assign(actor=world.shinan_finance, evaluation=reg.shinan_key, agency=reg.agency)
    assert sees(reg.staff, reg.shinan_key)


def test_assessment_agency_assignment_grants_and_revokes(world, reg):
    assessment_services.assessment_assign_agency(actor=world.perf_admin, assessment=reg.assessment, agency=reg.agency)
    assert sees(reg.staff, reg.assessment) and not sees(reg.other_staff, reg.assessment)
    with pytest.raises(ValidationError, match="无需重复委托"):
        assessment_services.assessment_assign_agency(
            actor=world.perf_admin, assessment=reg.assessment, agency=reg.agency
        )
    assessment_services.assessment_unassign_agency(actor=world.perf_admin, assessment=reg.assessment)
    reg.assessment.refresh_from_db()
    assert reg.assessment.agency is None and not sees(reg.staff, reg.assessment)
    ConflictTie.objects.create(agency=reg.agency, organization=world.edu, relation=reg.relation)
    with pytest.raises(ValidationError) as exc:
        assessment_services.assessment_assign_agency(
            actor=world.perf_admin, assessment=reg.assessment, agency=reg.agency
        )
    assert "应当回避" in exc.value.message_dict["agency"][0]
    reg.assessment.refresh_from_db()
    assert reg.assessment.agency is None
    with pytest.raises(PermissionDenied):
        assessment_services.assessment_assign_agency(
            actor=world.shinan_finance, assessment=reg.assessment, agency=reg.other_agency
        )


def test_assessment_expert_assignment_checks_conflicts_of_registered_experts(world, reg):
    ConflictTie.objects.create(expert=reg.expert, organization=world.edu_unit, relation=reg.relation)
    with pytest.raises(ValidationError) as exc:
        assessment_services.assessment_assign_experts(
            actor=world.perf_admin, assessment=reg.assessment, experts=[world.expert_li]
        )
    assert "专家“李专家”" in exc.value.message_dict["experts"][0]
    reg.assessment.refresh_from_db()
    assert reg.assessment.status == "submitted" and not ExpertOpinion.objects.exists()
    assert not sees(world.expert_li, reg.assessment)
    # An expert account without a registry profile is not checked (nothing to check against).
    other = UserFactory(username="expert_wang", organization=world.expert_pool, roles=[Role.EXPERT])
    assessment_services.assessment_assign_experts(actor=world.perf_admin, assessment=reg.assessment, experts=[other])
    assert sees(other, reg.assessment)


def test_assessment_assign_does_agency_and_experts_together_or_nothing(world, reg):
    with pytest.raises(ValidationError, match="没有登录账号"):
        services.assessment_assign(actor=world.perf_admin, assessment=reg.assessment, experts=[reg.plain_expert])
    ConflictTie.objects.create(expert=reg.expert, organization=world.edu, relation=reg.relation)
    with pytest.raises(ValidationError) as exc:
        services.assessment_assign(
            actor=world.perf_admin, assessment=reg.assessment, agency=reg.agency, experts=[reg.expert]
        )
    assert "experts" in exc.value.message_dict
    reg.assessment.refresh_from_db()
    assert reg.assessment.agency is None and not ExpertOpinion.objects.exists()
    ConflictTie.objects.all().delete()
    services.assessment_assign(
        actor=world.perf_admin, assessment=reg.assessment, agency=reg.agency, experts=[reg.expert]
    )
    reg.assessment.refresh_from_db()
    assert reg.assessment.agency == reg.agency and reg.assessment.status == "reviewing"
    assert sees(reg.staff, reg.assessment) and sees(world.expert_li, reg.assessment)
    # Withdrawing the agency leaves the assigned expert's access alone.
    assessment_services.assessment_unassign_agency(actor=world.perf_admin, assessment=reg.assessment)
    assert not sees(reg.staff, reg.assessment) and sees(world.expert_li, reg.assessment)


def test_staff_who_is_also_an_assigned_expert_keeps_access_when_the_agency_is_withdrawn(world, reg):
    profile = Expert.objects.create(registered_by=world.city_finance, user=reg.staff, name="张评价", fields="教育")
    services.key_evaluation_assign(actor=world.perf_admin, evaluation=reg.key, agency=reg.agency, experts=[profile])
    services.key_evaluation_unassign(actor=world.perf_admin, evaluation=reg.key, agency=True)
    assert sees(reg.staff, reg.key)


# --- quality appraisal -------------------------------------------------------------------------


def _completed_key(reg, agency=None):
    KeyEvaluation.objects.filter(pk=reg.key.pk).update(status="completed", agency=agency or reg.agency)
    reg.key.refresh_from_db()
    return reg.key


def test_appraisal_total_is_the_sum_and_is_audited(world, reg):
    key = _completed_key(reg)
    scores = {c.pk: c.max_points - 2 for c in AppraisalCriterion.objects.all()}
    appraisal = services.appraisal_record(
        actor=world.perf_admin, agency=reg.agency, key_evaluation=key, scores=scores, comments="报告扎实"
    )
    count = AppraisalCriterion.objects.filter(is_active=True).count()
    assert appraisal.total == Decimal("100") - 2 * count
    assert AppraisalScore.objects.filter(appraisal=appraisal).count() == count
    assert appraisal.organization == world.perf_division and appraisal.appraised_by == world.perf_admin
    event = AuditEvent.objects.for_object(appraisal).get()
    assert event.kind == "create" and event.changes["total"]["to"] == str(appraisal.total)


def test_appraisal_only_after_the_job_is_completed(world, reg):
    KeyEvaluation.objects.filter(pk=reg.key.pk).update(agency=reg.agency, status="submitted")
    reg.key.refresh_from_db()
    with pytest.raises(ValidationError, match="尚未完成（当前状态：待审定）"):
        services.appraisal_record(
            actor=world.perf_admin, agency=reg.agency, key_evaluation=reg.key, scores=full_scores()
        )
    ExAnteAssessment.objects.filter(pk=reg.assessment.pk).update(agency=reg.agency)
    reg.assessment.refresh_from_db()
    with pytest.raises(ValidationError, match="事前绩效评估尚未完成"):
        services.appraisal_record(
            actor=world.perf_admin, agency=reg.agency, assessment=reg.assessment, scores=full_scores()
        )
    assert not AgencyAppraisal.objects.exists()


def test_appraisal_only_for_the_assigned_agency_and_once(world, reg):
    key = _completed_key(reg)
    with pytest.raises(ValidationError, match="不是“山东海纳工程咨询有限公司”"):
        services.appraisal_record(
            actor=world.perf_admin, agency=reg.other_agency, key_evaluation=key, scores=full_scores()
        )
    services.appraisal_record(actor=world.perf_admin, agency=reg.agency, key_evaluation=key, scores=full_scores())
    with pytest.raises(ValidationError, match="每个项目只考评一次"):
        services.appraisal_record(actor=world.perf_admin, agency=reg.agency, key_evaluation=key, scores=full_scores())
    assert AgencyAppraisal.objects.count() == 1
    with pytest.raises(ValidationError, match="请指定"):
        services.appraisal_record(actor=world.perf_admin, agency=reg.agency, scores=full_scores())


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "得分应在 0 至"),
        ("20.01", "得分应在 0 至 20 分之间（填写的是 20.01）"),
        ("abc", "不是数字"),
        ("", "请填写得分"),
        ("NaN", "不是数字"),
        ("1.005", "最多保留两位小数"),
    ],
)
def test_appraisal_points_must_be_within_0_and_the_maximum(world, reg, value, message):
    key = _completed_key(reg)
    scores = full_scores()
    first = AppraisalCriterion.objects.get(name="评价方案质量")  # 20 points
    scores[first.pk] = value
    with pytest.raises(ValidationError) as exc:
        services.appraisal_record(actor=world.perf_admin, agency=reg.agency, key_evaluation=key, scores=scores)
    [problem] = exc.value.message_dict["scores"]
    assert problem.startswith("“评价方案质量”：") and message in problem
    assert not AgencyAppraisal.objects.exists() and not AppraisalScore.objects.exists()


def test_appraisal_refuses_unknown_items_and_wrong_region(world, reg):
    key = _completed_key(reg)
    scores = full_scores() | {99999: 1}
    with pytest.raises(ValidationError, match="考评项目不存在或已停用：99999"):
        services.appraisal_record(actor=world.perf_admin, agency=reg.agency, key_evaluation=key, scores=scores)
    with pytest.raises(PermissionDenied):
        services.appraisal_record(
            actor=world.shinan_finance, agency=reg.agency, key_evaluation=key, scores=full_scores()
        )
    with pytest.raises(PermissionDenied):
        services.appraisal_record(actor=world.sector_kjw, agency=reg.agency, key_evaluation=key, scores=full_scores())
    assert not AgencyAppraisal.objects.exists()


def test_appraisal_of_an_assessment(world, reg):
    ExAnteAssessment.objects.filter(pk=reg.assessment.pk).update(
        agency=reg.agency, status="completed", conclusion="support"
    )
    reg.assessment.refresh_from_db()
    appraisal = services.appraisal_record(
        actor=world.perf_admin, agency=reg.agency, assessment=reg.assessment, scores=full_scores(Decimal("10"))
    )
    assert appraisal.assessment == reg.assessment and appraisal.total == Decimal("50.00")
