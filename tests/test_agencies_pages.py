"""第三方机构与专家库 pages: registry, ties, assignment, 我的评价任务, appraisals, permission matrix."""

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.agencies import services
from apps.agencies.models import Agency, AgencyAppraisal, AppraisalCriterion, ConflictTie, Expert
from apps.assessments.models import ExAnteAssessment, ExpertOpinion
from apps.core.models import AuditEvent
from apps.evaluations.models import KeyEvaluation, KeyEvaluationExpert
from tests.querycount import assert_constant_queries
from tests.test_agencies import build_registry, full_scores
from tests.test_targets_flow import make_fund


@pytest.fixture
def reg(world, year):
    return build_registry(world, year)


def page(client, name, *args, **params):
    response = client.get(reverse(f"agencies:{name}", args=args), params)
    return response, response.content.decode()


def complete(job, agency):
    type(job).objects.filter(pk=job.pk).update(status="completed", agency=agency)
    job.refresh_from_db()
    return job


# --- registry ----------------------------------------------------------------------------------


def test_finance_browses_and_searches_the_registry(world, reg, login):
    client = login(world.perf_admin)
    response, html = page(client, "agency_list")
    assert response.status_code == 200
    assert "青岛正衡绩效评价咨询有限公司" in html and "91370000MA3D000002" in html
    _, html = page(client, "agency_list", q="正衡")
    assert "青岛正衡" in html and "山东海纳" not in html
    Agency.objects.filter(pk=reg.other_agency.pk).update(status="suspended", status_reason="x")
    _, html = page(client, "agency_list", status="suspended")
    assert "山东海纳" in html and "青岛正衡" not in html
    _, html = page(client, "expert_list", q="交通")
    assert "陈晓" in html and "李专家" not in html
    response, html = page(client, "expert_detail", reg.expert.pk)
    assert response.status_code == 200 and "expert_li" in html
    response, html = page(client, "agency_detail", reg.agency.pk)
    assert response.status_code == 200
    assert "agency_zhang" in html  # staff accounts = users of the agency's organisation


def test_agency_create_page_checks_the_credit_code(world, login):
    client = login(world.perf_admin)
    assert client.get(reverse("agencies:agency_create")).status_code == 200
    data = {"name": "青岛新锐评估有限公司", "credit_code": "91370200MA3I00000"}
    response = client.post(reverse("agencies:agency_create"), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "统一社会信用代码应为18位" in html and "含有不允许的字符：I" in html
    assert not Agency.objects.exists()
    data["credit_code"] = "91370200ma3g000005"
    response = client.post(reverse("agencies:agency_create"), data)
    agency = Agency.objects.get()
    assert response.status_code == 302 and response.url == reverse("agencies:agency_detail", args=[agency.pk])
    assert agency.credit_code == "91370200MA3G000005" and agency.registered_by == world.city_finance
    response = client.post(reverse("agencies:agency_create"), data)
    assert response.status_code == 400 and "已登记为“青岛新锐评估有限公司”" in response.content.decode()
    response = client.post(
        reverse("agencies:agency_edit", args=[agency.pk]), {**data, "contact_person": "孙", "email": "bad"}
    )
    assert response.status_code == 400 and "电子邮箱格式不正确" in response.content.decode()
    response = client.post(reverse("agencies:agency_edit", args=[agency.pk]), {**data, "contact_person": "孙"})
    assert response.status_code == 302
    agency.refresh_from_db()
    assert agency.contact_person == "孙"


def test_suspend_and_reactivate_pages(world, reg, login):
    client = login(world.perf_admin)
    url = reverse("agencies:agency_suspend", args=[reg.agency.pk])
    response = client.post(url, {"reason": ""}, follow=True)
    assert "请填写暂停委托的原因" in response.content.decode()
    reg.agency.refresh_from_db()
    assert reg.agency.status == "active"
    client.post(url, {"reason": "报告数据失实"})
    _, html = page(client, "agency_detail", reg.agency.pk)
    assert "暂停委托" in html and "报告数据失实" in html
    response = client.post(url, {"reason": "again"}, follow=True)
    assert "已处于暂停委托状态" in response.content.decode()
    client.post(reverse("agencies:agency_reactivate", args=[reg.agency.pk]))
    reg.agency.refresh_from_db()
    assert reg.agency.status == "active" and reg.agency.status_reason == ""
    client.post(reverse("agencies:expert_suspend", args=[reg.expert.pk]), {"reason": "联系不上"})
    reg.expert.refresh_from_db()
    assert reg.expert.status == "suspended"
    client.post(reverse("agencies:expert_reactivate", args=[reg.expert.pk]))
    reg.expert.refresh_from_db()
    assert reg.expert.status == "active"


def test_expert_pages_create_and_edit(world, reg, login):
    client = login(world.perf_admin)
    assert client.get(reverse("agencies:expert_create")).status_code == 200
    response = client.post(reverse("agencies:expert_create"), {"name": "", "fields": ""})
    assert response.status_code == 400 and "请填写专家姓名" in response.content.decode()
    response = client.post(
        reverse("agencies:expert_create"),
        {
            "name": "王建国",
            "fields": "医疗卫生、公共卫生",
            "employer_organization": world.health.pk,
            "title": "主任医师",
        },
    )
    expert = Expert.objects.get(name="王建国")
    assert response.status_code == 302 and expert.employer_organization == world.health
    response = client.post(
        reverse("agencies:expert_edit", args=[expert.pk]),
        {"name": "王建国", "fields": "医疗卫生", "user": world.edu_filler.pk},
    )
    assert response.status_code == 400  # not an expert account: not even a choice
    response = client.post(
        reverse("agencies:expert_edit", args=[expert.pk]),
        {"name": "王建国", "fields": "医疗卫生", "user": reg.staff.pk},
    )
    assert response.status_code == 302
    expert.refresh_from_db()
    assert expert.user == reg.staff and expert.fields == "医疗卫生"


def test_ties_pages(world, reg, login):
    client = login(world.perf_admin)
    url = reverse("agencies:agency_tie_add", args=[reg.agency.pk])
    response = client.post(url, {"organization": world.edu.pk, "relation": ""})
    assert response.status_code == 400 and "请选择关系类型" in response.content.decode()
    response = client.post(url, {"organization": world.edu.pk, "relation": reg.relation.pk, "note": "2024年服务"})
    tie = ConflictTie.objects.get()
    assert response.status_code == 302 and tie.agency == reg.agency
    response = client.post(url, {"organization": world.edu.pk, "relation": reg.relation.pk})
    assert response.status_code == 400 and "无需重复登记" in response.content.decode()
    _, html = page(client, "agency_detail", reg.agency.pk)
    assert "2024年服务" in html
    response = client.post(
        reverse("agencies:expert_tie_add", args=[reg.expert.pk]),
        {"organization": world.edu_unit.pk, "relation": reg.relation.pk},
    )
    assert response.status_code == 302 and ConflictTie.objects.filter(expert=reg.expert).exists()
    client.post(reverse("agencies:tie_remove", args=[tie.pk]))
    assert not ConflictTie.objects.filter(pk=tie.pk).exists()


# --- assignment --------------------------------------------------------------------------------


def test_assignment_page_shows_and_refuses_conflicts(world, reg, login):
    ConflictTie.objects.create(agency=reg.other_agency, organization=world.edu, relation=reg.relation)
    Expert.objects.filter(pk=reg.plain_expert.pk).update(employer_organization=world.edu_unit)
    client = login(world.perf_admin)
    response, html = page(client, "assign_key_evaluation", reg.key.pk)
    assert response.status_code == 200
    assert "山东海纳工程咨询有限公司”与被评价部门“青岛市教育局”存在利益关联" in html
    assert "工作单位“青岛第二中学”属于被评价部门" in html
    assert f'value="{reg.other_agency.pk}" id="agency-{reg.other_agency.pk}" disabled' in html
    url = reverse("agencies:assign_key_evaluation", args=[reg.key.pk])
    response = client.post(url, {"agency": reg.other_agency.pk, "experts": [reg.expert.pk, reg.plain_expert.pk]})
    html = response.content.decode()
    assert response.status_code == 400 and "应当回避" in html
    reg.key.refresh_from_db()
    assert reg.key.agency is None and not KeyEvaluationExpert.objects.exists()
    response = client.post(url, {"agency": reg.agency.pk, "experts": [reg.expert.pk]})
    assert response.status_code == 302
    reg.key.refresh_from_db()
    assert reg.key.agency == reg.agency and KeyEvaluationExpert.objects.get().expert == reg.expert
    _, html = page(client, "assign_key_evaluation", reg.key.pk)
    assert 'id="current-agency">青岛正衡绩效评价咨询有限公司' in html
    # htmx search of the expert list returns only the partial
    response = client.get(url, {"q": "交通"}, HTTP_HX_REQUEST="true")
    partial = response.content.decode()
    assert "陈晓" in partial and "李专家" not in partial and "<html" not in partial
    client.post(reverse("agencies:unassign_key_evaluation", args=[reg.key.pk]), {"expert": reg.expert.pk})
    assert not KeyEvaluationExpert.objects.exists()
    client.post(reverse("agencies:unassign_key_evaluation", args=[reg.key.pk]), {"agency": "1"})
    reg.key.refresh_from_db()
    assert reg.key.agency is None
    events = AuditEvent.objects.for_object(reg.key).order_by("pk")
    assert [e.comment for e in events] == ["委托第三方机构/指派专家", "撤销委托/指派", "撤销委托/指派"]


def test_assessment_assignment_page(world, reg, login):
    client = login(world.sector_kjw)  # the sector reviewer of 教育局 reviews its assessments
    response, html = page(client, "assign_assessment", reg.assessment.pk)
    assert response.status_code == 200 and "无登录账号，不能指派到事前评估" in html
    url = reverse("agencies:assign_assessment", args=[reg.assessment.pk])
    response = client.post(url, {"agency": reg.agency.pk, "experts": [reg.expert.pk]})
    assert response.status_code == 302
    reg.assessment.refresh_from_db()
    assert reg.assessment.agency == reg.agency and reg.assessment.status == "reviewing"
    assert ExpertOpinion.objects.get().expert == world.expert_li
    client.post(reverse("agencies:unassign_assessment", args=[reg.assessment.pk]))
    reg.assessment.refresh_from_db()
    assert reg.assessment.agency is None


def test_assessment_page_links_to_its_assignment_page_for_finance_only(world, reg, login):
    detail = reverse("assessments:assessment_detail", args=[reg.assessment.pk])
    link = f'href="{reverse("agencies:assign_assessment", args=[reg.assessment.pk])}" id="assessment-assign"'
    for persona in ("perf_admin", "sector_kjw"):
        assert link in login(getattr(world, persona)).get(detail).content.decode()
    for persona in ("edu_filler", "edu_approver", "edu_unit_filler", "auditor", "npc_liaison"):
        response = login(getattr(world, persona)).get(detail)
        assert response.status_code == 200 and 'id="assessment-assign"' not in response.content.decode()
    ExAnteAssessment.objects.filter(pk=reg.assessment.pk).update(status="completed", conclusion="support")
    assert 'id="assessment-assign"' not in login(world.perf_admin).get(detail).content.decode()


def test_completed_job_assignment_is_closed(world, reg, login):
    complete(reg.key, reg.agency)
    client = login(world.perf_admin)
    _, html = page(client, "assign_key_evaluation", reg.key.pk)
    assert "该重点评价已完成" in html and 'id="assign-form"' not in html
    response = client.post(reverse("agencies:assign_key_evaluation", args=[reg.key.pk]), {"experts": [reg.expert.pk]})
    assert response.status_code == 400 and not KeyEvaluationExpert.objects.exists()


# --- what assignees see ------------------------------------------------------------------------


def test_assignees_see_only_their_jobs_and_nothing_of_the_registry(world, reg, login, year):
    second_fund = make_fund(world, year, code="EDU-2026-002", name="校舍维修")
    second = KeyEvaluation.objects.create(plan=reg.plan, fund=second_fund, department=world.edu)
    services.key_evaluation_assign(actor=world.perf_admin, evaluation=reg.key, experts=[reg.expert])
    services.key_evaluation_assign(actor=world.perf_admin, evaluation=second, agency=reg.agency)
    services.assessment_assign(actor=world.perf_admin, assessment=reg.assessment, agency=reg.agency)

    expert = login(world.expert_li)
    response, html = page(expert, "my_assignments")
    assert response.status_code == 200
    assert f'data-key-evaluation="{reg.key.pk}"' in html and f'data-key-evaluation="{second.pk}"' not in html
    assert "指派专家" in html and "暂无委托给您的事前绩效评估" in html
    for name, args in [
        ("agency_list", []),
        ("agency_detail", [reg.agency.pk]),
        ("expert_list", []),
        ("expert_detail", [reg.expert.pk]),
        ("appraisal_list", []),
        ("assign_key_evaluation", [reg.key.pk]),
        ("assign_assessment", [reg.assessment.pk]),
        ("appraise_key_evaluation", [reg.key.pk]),
    ]:
        assert expert.get(reverse(f"agencies:{name}", args=args)).status_code == 403, name
    html = expert.get(reverse("assessments:assessment_list")).content.decode()
    assert "家庭经济困难学生资助" not in html  # the assessment went to the agency, not to 李专家

    staff = login(reg.staff)
    _, html = page(staff, "my_assignments")
    assert f'data-key-evaluation="{second.pk}"' in html and f'data-key-evaluation="{reg.key.pk}"' not in html
    assert f'data-assessment="{reg.assessment.pk}"' in html and "委托机构：青岛正衡绩效评价咨询有限公司" in html
    assert staff.get(reverse("assessments:assessment_detail", args=[reg.assessment.pk])).status_code == 200
    assert staff.get(reverse("agencies:agency_detail", args=[reg.agency.pk])).status_code == 403

    outsider = login(reg.other_staff)
    _, html = page(outsider, "my_assignments")
    assert "暂无委托给您的重点评价" in html and "暂无委托给您的事前绩效评估" in html


@pytest.mark.parametrize(
    "persona", ["perf_admin", "edu_filler", "edu_approver", "shinan_finance", "auditor", "sysadmin"]
)
def test_my_assignments_is_for_assignees_only(world, login, persona):
    assert login(getattr(world, persona)).get(reverse("agencies:my_assignments")).status_code == 403


# --- appraisals --------------------------------------------------------------------------------


def test_appraisal_page_rules_and_average(world, reg, login, year):
    client = login(world.perf_admin)
    url = reverse("agencies:appraise_key_evaluation", args=[reg.key.pk])
    KeyEvaluation.objects.filter(pk=reg.key.pk).update(agency=reg.agency)
    response, html = page(client, "appraise_key_evaluation", reg.key.pk)
    assert response.status_code == 200 and "尚未完成（当前状态：待评价）" in html and 'id="appraisal-form"' not in html
    complete(reg.key, reg.agency)
    _, html = page(client, "agency_detail", reg.agency.pk)
    assert url in html  # 考评 link in the job history
    response, html = page(client, "appraise_key_evaluation", reg.key.pk)
    assert 'id="appraisal-form"' in html
    criteria = list(AppraisalCriterion.objects.filter(is_active=True))
    data = {f"score_{c.pk}": str(c.max_points) for c in criteria}
    first = criteria[0]
    response = client.post(url, {**data, f"score_{first.pk}": "25"})
    assert response.status_code == 400
    assert f"“{first.name}”：得分应在 0 至 20 分之间（填写的是 25）" in response.content.decode()
    assert not AgencyAppraisal.objects.exists()
    response = client.post(url, {**data, f"score_{first.pk}": "15", "comments": "方案略粗"})
    assert response.status_code == 302
    appraisal = AgencyAppraisal.objects.get()
    assert appraisal.total == Decimal("95.00")
    response = client.post(url, data)
    assert response.status_code == 400 and "每个项目只考评一次" in response.content.decode()

    second_fund = make_fund(world, year, code="EDU-2026-003", name="教师培训")
    second = complete(KeyEvaluation.objects.create(plan=reg.plan, fund=second_fund, department=world.edu), reg.agency)
    services.appraisal_record(
        actor=world.perf_admin,
        agency=reg.agency,
        key_evaluation=second,
        scores={c.pk: c.max_points - 4 for c in criteria},
    )  # 100 − 5 × 4 = 80
    _, html = page(client, "agency_detail", reg.agency.pk)
    assert 'id="appraisal-average">87.50<' in html and "考评 2 次" in html
    _, html = page(client, "agency_list")
    assert "87.50" in html
    response, html = page(client, "appraisal_detail", appraisal.pk)
    assert response.status_code == 200 and "方案略粗" in html and 'id="appraisal-total">95.00<' in html
    _, html = page(client, "appraisal_list")
    assert "95.00" in html and "80.00" in html


# --- permission matrix -------------------------------------------------------------------------

VIEWERS = {"perf_admin": 200, "sector_kjw": 200, "shinan_finance": 200, "auditor": 200}
MANAGERS_CITY_ROW = {"perf_admin": 200, "shinan_finance": 404}
PAGES = {
    "agency_list": (lambda r: [], VIEWERS),
    "agency_detail": (lambda r: [r.agency.pk], VIEWERS),
    "agency_create": (lambda r: [], {"perf_admin": 200, "shinan_finance": 200}),
    "agency_edit": (lambda r: [r.agency.pk], MANAGERS_CITY_ROW),
    "expert_list": (lambda r: [], VIEWERS),
    "expert_detail": (lambda r: [r.expert.pk], VIEWERS),
    "expert_create": (lambda r: [], {"perf_admin": 200, "shinan_finance": 200}),
    "expert_edit": (lambda r: [r.expert.pk], MANAGERS_CITY_ROW),
    "assign_key_evaluation": (lambda r: [r.key.pk], MANAGERS_CITY_ROW),
    "assign_assessment": (lambda r: [r.assessment.pk], {**MANAGERS_CITY_ROW, "sector_kjw": 200}),
    "appraisal_list": (lambda r: [], VIEWERS),
    "appraisal_detail": (
        lambda r: [r.appraisal.pk],
        {"perf_admin": 200, "sector_kjw": 200, "auditor": 200, "shinan_finance": 404},
    ),
    "appraise_key_evaluation": (lambda r: [r.key.pk], MANAGERS_CITY_ROW),
    "appraise_assessment": (lambda r: [r.assessment.pk], MANAGERS_CITY_ROW),
    "my_assignments": (lambda r: [], {"expert_li": 200}),
}
MATRIX_PERSONAS = [
    "perf_admin", "sector_kjw", "edu_filler", "edu_approver", "edu_unit_filler", "health_filler", "shinan_finance",
    "shinan_edu_filler", "npc_liaison", "auditor", "expert_li", "sysadmin",
]  # fmt: skip


@pytest.mark.parametrize("persona", MATRIX_PERSONAS)
def test_page_permission_matrix(world, reg, login, persona):
    completed_fund_key = complete(reg.key, reg.agency)
    reg.appraisal = services.appraisal_record(
        actor=world.perf_admin, agency=reg.agency, key_evaluation=completed_fund_key, scores=full_scores()
    )
    KeyEvaluation.objects.filter(pk=reg.key.pk).update(status="in_progress")
    client = login(getattr(world, persona))
    for name, (args, expected) in PAGES.items():
        status = client.get(reverse(f"agencies:{name}", args=args(reg))).status_code
        assert status == expected.get(persona, 403), (name, status)


WRONG = ["sector_kjw", "edu_approver", "health_filler", "shinan_finance", "expert_li", "auditor", "shinan_edu_filler"]


@pytest.mark.parametrize("persona", WRONG)
def test_wrong_roles_change_nothing(world, reg, login, persona):
    tie = ConflictTie.objects.create(agency=reg.agency, organization=world.health, relation=reg.relation)
    ExAnteAssessment.objects.filter(pk=reg.assessment.pk).update(
        status="completed", conclusion="support", agency=reg.agency
    )
    complete(reg.key, reg.agency)
    client = login(getattr(world, persona))
    other_key = reg.key if persona == "shinan_finance" else reg.shinan_key
    scores = {f"score_{c.pk}": "1" for c in AppraisalCriterion.objects.all()}
    posts = [
        ("agency_create", [], {"name": "x", "credit_code": "91370200MA3H000006"}),
        ("agency_edit", [reg.agency.pk], {"name": "改名", "credit_code": reg.agency.credit_code}),
        ("agency_suspend", [reg.agency.pk], {"reason": "x"}),
        ("agency_tie_add", [reg.agency.pk], {"organization": world.edu.pk, "relation": reg.relation.pk}),
        ("tie_remove", [tie.pk], {}),
        ("expert_create", [], {"name": "x", "fields": "教育"}),
        ("expert_edit", [reg.expert.pk], {"name": "改名", "fields": "x"}),
        ("expert_suspend", [reg.expert.pk], {"reason": "x"}),
        ("expert_tie_add", [reg.expert.pk], {"organization": world.edu.pk, "relation": reg.relation.pk}),
        ("assign_key_evaluation", [other_key.pk], {"agency": reg.other_agency.pk}),
        ("unassign_key_evaluation", [reg.key.pk], {"agency": "1"}),
        ("appraise_key_evaluation", [reg.key.pk], scores),
        ("appraise_assessment", [reg.assessment.pk], scores),
    ]  # fmt: skip
    if persona != "sector_kjw":  # the sector reviewer of 教育局 may assign its assessments
        posts.append(("assign_assessment", [reg.assessment.pk], {"agency": reg.other_agency.pk}))
    before = AuditEvent.objects.count()
    for name, args, data in posts:
        status = client.post(reverse(f"agencies:{name}", args=args), data).status_code
        if persona == "shinan_finance" and name in ("agency_create", "expert_create"):
            assert status in (302, 400), name  # a district registers its own (checked elsewhere)
            continue
        assert status in (403, 404), (name, status)
    if persona == "shinan_finance":
        Agency.objects.filter(registered_by=world.shinan_finance_org).delete()
        Expert.objects.filter(registered_by=world.shinan_finance_org).delete()
    else:
        assert AuditEvent.objects.count() == before
    reg.agency.refresh_from_db()
    reg.expert.refresh_from_db()
    reg.key.refresh_from_db()
    reg.shinan_key.refresh_from_db()
    assert (reg.agency.name, reg.agency.status, reg.expert.name, reg.expert.status) == (
        "青岛正衡绩效评价咨询有限公司", "active", "李专家", "active"
    )  # fmt: skip
    assert ConflictTie.objects.get() == tie
    assert reg.key.agency == reg.agency and reg.shinan_key.agency is None
    assert not AgencyAppraisal.objects.exists() and Agency.objects.count() == 2 and Expert.objects.count() == 2


def test_district_finance_manages_only_its_own_registry_rows(world, reg, login):
    client = login(world.shinan_finance)
    client.post(reverse("agencies:agency_create"), {"name": "市南咨询", "credit_code": "91370202MA3J000007"})
    mine = Agency.objects.get(name="市南咨询")
    assert mine.registered_by == world.shinan_finance_org
    assert client.get(reverse("agencies:agency_edit", args=[mine.pk])).status_code == 200
    assert client.get(reverse("agencies:agency_edit", args=[reg.agency.pk])).status_code == 404
    _, html = page(client, "agency_detail", reg.agency.pk)
    assert 'id="agency-edit"' not in html and 'id="suspend-submit"' not in html
    # It may entrust the city's agency with its own evaluation.
    response = client.post(
        reverse("agencies:assign_key_evaluation", args=[reg.shinan_key.pk]), {"agency": reg.agency.pk}
    )
    assert response.status_code == 302


# --- constant queries --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "name", "expected"),
    [
        ("perf_admin", "agency_list", 9),
        ("perf_admin", "expert_list", 9),
        ("perf_admin", "appraisal_list", 9),
        ("perf_admin", "agency_detail", 15),
        ("expert_li", "my_assignments", 9),
        ("agency_zhang", "my_assignments", 9),
        ("perf_admin", "assign_key_evaluation", 12),
    ],
)
def test_list_pages_run_a_constant_number_of_queries(world, reg, login, year, persona, name, expected):
    counter = iter(range(1000))

    def grow():
        for _ in range(3):
            n = next(counter)
            services.agency_create(actor=world.perf_admin, name=f"机构{n}", credit_code=f"913702000000{n:06d}")
            services.expert_create(actor=world.perf_admin, name=f"专家{n}", fields="教育")
            fund = make_fund(world, year, code=f"Q-{n}", name=f"项目{n}")
            key = KeyEvaluation.objects.create(plan=reg.plan, fund=fund, department=world.edu)
            services.key_evaluation_assign(
                actor=world.perf_admin, evaluation=key, agency=reg.agency, experts=[reg.expert]
            )
            complete(key, reg.agency)
            services.appraisal_record(
                actor=world.perf_admin, agency=reg.agency, key_evaluation=key, scores=full_scores()
            )

    grow()
    user = reg.staff if persona == "agency_zhang" else getattr(world, persona)
    client = login(user)
    args = {"agency_detail": [reg.agency.pk], "assign_key_evaluation": [reg.key.pk]}.get(name, [])
    url = reverse(f"agencies:{name}", args=args)
    assert client.get(url).status_code == 200
    assert_constant_queries(lambda: client.get(url), grow, expected)


def test_admin_configures_relation_types_and_appraisal_items(world, reg, login):
    from tests.factories import UserFactory

    root = UserFactory(username="root", organization=world.info_center, is_superuser=True, is_staff=True)
    client = login(root)
    for model in ("conflictrelation", "appraisalcriterion", "agency", "expert"):
        assert client.get(f"/admin/agencies/{model}/").status_code == 200, model
    relation = reg.relation
    ConflictTie.objects.create(agency=reg.agency, organization=world.edu, relation=relation)
    assert client.get(f"/admin/agencies/conflictrelation/{relation.pk}/delete/").status_code == 403
