"""第三方机构与专家库 API: registry CRUD, ties, assignments, 我的评价任务, appraisals; scoped."""

import json
from decimal import Decimal

import pytest

from apps.agencies import services
from apps.agencies.models import Agency, AgencyAppraisal, AppraisalCriterion, ConflictTie, Expert
from apps.assessments.models import ExAnteAssessment
from apps.core.models import AuditEvent
from apps.evaluations.models import KeyEvaluation, KeyEvaluationExpert
from tests.querycount import assert_constant_queries
from tests.test_agencies import build_registry, full_scores, sees
from tests.test_targets_flow import make_fund

API = "/api/v1"


@pytest.fixture
def reg(world, year):
    return build_registry(world, year)


def post(client, url, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def patch(client, url, data):
    return client.patch(url, json.dumps(data), content_type="application/json")


def complete(job, agency):
    type(job).objects.filter(pk=job.pk).update(status="completed", agency=agency)
    job.refresh_from_db()
    return job


# --- registry ----------------------------------------------------------------------------------


def test_agency_crud_through_the_api(world, reg, login):
    client = login(world.perf_admin)
    listing = client.get(f"{API}/agencies/").json()
    assert listing["count"] == 2 and {a["name"] for a in listing["results"]} >= {"青岛正衡绩效评价咨询有限公司"}
    bad = post(client, f"{API}/agencies/", {"name": "新机构", "credit_code": "91370200MA3C00000Z"})
    assert bad.status_code == 400
    assert bad.json()["credit_code"] == [
        "统一社会信用代码应为18位，由数字和大写字母组成，不含字母 I、O、S、V、Z（含有不允许的字符：Z）。"
    ]
    made = post(client, f"{API}/agencies/", {"name": "新机构", "credit_code": "91370200ma3k000008"})
    assert made.status_code == 201 and made.json()["credit_code"] == "91370200MA3K000008"
    pk = made.json()["id"]
    changed = patch(client, f"{API}/agencies/{pk}/", {"contact_person": "吴", "organization": None})
    assert changed.status_code == 200 and changed.json()["contact_person"] == "吴"
    refused = post(client, f"{API}/agencies/{pk}/suspend/", {"reason": ""})
    assert refused.status_code == 400 and refused.json() == {"reason": ["请填写暂停委托的原因。"]}
    suspended = post(client, f"{API}/agencies/{pk}/suspend/", {"reason": "资质过期"})
    assert suspended.json()["status"] == "suspended" and suspended.json()["status_reason"] == "资质过期"
    assert post(client, f"{API}/agencies/{pk}/reactivate/").json()["status"] == "active"
    assert client.delete(f"{API}/agencies/{pk}/").status_code == 405  # suspend instead
    assert client.get(f"{API}/agencies/?status=suspended").json()["count"] == 0
    assert client.get(f"{API}/agencies/?search=正衡").json()["count"] == 1
    detail = client.get(f"{API}/agencies/{reg.agency.pk}/").json()
    assert detail["ties"] == [] and detail["jobs"] == [] and detail["appraisal_average"] is None


def test_expert_crud_and_search_by_field(world, reg, login):
    client = login(world.perf_admin)
    assert [e["name"] for e in client.get(f"{API}/experts/?search=交通").json()["results"]] == ["陈晓"]
    made = post(
        client, f"{API}/experts/", {"name": "赵敏", "fields": "农业农村，乡村振兴", "user": world.edu_filler.pk}
    )
    assert made.status_code == 400 and "不存在或不在您的权限范围内" in made.json()["user"][0]
    made = post(client, f"{API}/experts/", {"name": "赵敏", "fields": "农业农村，乡村振兴"})
    assert made.status_code == 201 and made.json()["fields"] == "农业农村、乡村振兴"
    pk = made.json()["id"]
    assert patch(client, f"{API}/experts/{pk}/", {"title": "研究员"}).json()["title"] == "研究员"
    assert post(client, f"{API}/experts/{pk}/suspend/", {"reason": "退休"}).json()["status"] == "suspended"
    assert client.get(f"{API}/experts/?status=suspended").json()["count"] == 1


def test_ties_through_the_api(world, reg, login):
    client = login(world.perf_admin)
    relations = client.get(f"{API}/conflict-relations/").json()
    assert "近三年为其提供有偿服务" in [r["name"] for r in relations]
    made = post(
        client,
        f"{API}/conflict-ties/",
        {"agency": reg.agency.pk, "organization": world.edu.pk, "relation": reg.relation.pk, "note": "2024年"},
    )
    assert made.status_code == 201 and made.json()["organization_name"] == "青岛市教育局"
    again = post(
        client,
        f"{API}/conflict-ties/",
        {"agency": reg.agency.pk, "organization": world.edu.pk, "relation": reg.relation.pk},
    )
    assert again.status_code == 400 and "无需重复登记" in again.json()["non_field_errors"][0]
    assert client.get(f"{API}/conflict-ties/?agency={reg.agency.pk}").json()["count"] == 1
    assert client.delete(f"{API}/conflict-ties/{made.json()['id']}/").status_code == 204
    assert not ConflictTie.objects.exists()


# --- assignments -------------------------------------------------------------------------------


def test_assignment_endpoints_refuse_conflicts_and_grant(world, reg, login):
    ConflictTie.objects.create(expert=reg.plain_expert, organization=world.edu_unit, relation=reg.relation)
    client = login(world.perf_admin)
    url = f"{API}/key-evaluation-assignments/{reg.key.pk}/"
    candidates = client.get(f"{url}candidates/").json()
    by_name = {c["name"]: c for c in candidates["experts"]}
    assert by_name["李专家"]["conflicts"] == [] and "应当回避" in by_name["陈晓"]["conflicts"][0]
    refused = post(client, f"{url}assign/", {"agency": reg.agency.pk, "experts": [reg.expert.pk, reg.plain_expert.pk]})
    assert refused.status_code == 400 and "关联单位：青岛第二中学" in refused.json()["experts"][0]
    reg.key.refresh_from_db()
    assert reg.key.agency is None and not KeyEvaluationExpert.objects.exists()
    done = post(client, f"{url}assign/", {"agency": reg.agency.pk, "experts": [reg.expert.pk]})
    assert done.status_code == 200
    assert (
        done.json()["agency_name"] == "青岛正衡绩效评价咨询有限公司" and done.json()["experts"][0]["name"] == "李专家"
    )
    assert sees(reg.staff, reg.key) and sees(world.expert_li, reg.key)
    assert client.get(url).json()["agency"] == reg.agency.pk
    withdrawn = post(client, f"{url}withdraw/", {"agency": True, "experts": [reg.expert.pk]})
    assert withdrawn.status_code == 200 and withdrawn.json()["agency"] is None and withdrawn.json()["experts"] == []
    assert not sees(reg.staff, reg.key) and not sees(world.expert_li, reg.key)

    a_url = f"{API}/assessment-assignments/{reg.assessment.pk}/"
    no_login = post(client, f"{a_url}assign/", {"experts": [reg.plain_expert.pk]})
    assert no_login.status_code == 400 and "没有登录账号" in no_login.json()["experts"][0]
    done = post(client, f"{a_url}assign/", {"agency": reg.agency.pk, "experts": [reg.expert.pk]})
    assert done.status_code == 200 and done.json()["status"] == "reviewing"
    assert [e["name"] for e in done.json()["experts"]] == ["李专家"]
    assert post(client, f"{a_url}withdraw/").json()["agency"] is None


# --- what assignees see ------------------------------------------------------------------------


def test_assignees_see_only_their_rows_through_the_api(world, reg, login, year):
    second = KeyEvaluation.objects.create(
        plan=reg.plan, fund=make_fund(world, year, code="EDU-2026-002", name="校舍维修"), department=world.edu
    )
    services.key_evaluation_assign(actor=world.perf_admin, evaluation=reg.key, experts=[reg.expert])
    services.key_evaluation_assign(actor=world.perf_admin, evaluation=second, agency=reg.agency)
    services.assessment_assign(actor=world.perf_admin, assessment=reg.assessment, agency=reg.agency)

    expert = login(world.expert_li)
    mine = expert.get(f"{API}/my-assignments/").json()
    assert [j["id"] for j in mine["key_evaluations"]] == [reg.key.pk] and mine["key_evaluations"][0]["as_expert"]
    assert mine["assessments"] == []
    assert expert.get(f"{API}/assessments/").json()["count"] == 0
    for url in ("agencies/", "experts/", "conflict-ties/", "conflict-relations/", "agency-appraisals/",
                "appraisal-criteria/", f"agencies/{reg.agency.pk}/", f"key-evaluation-assignments/{reg.key.pk}/",
                f"assessment-assignments/{reg.assessment.pk}/"):  # fmt: skip
        assert expert.get(f"{API}/{url}").status_code == 403, url

    staff = login(reg.staff)
    mine = staff.get(f"{API}/my-assignments/").json()
    assert [j["id"] for j in mine["key_evaluations"]] == [second.pk] and not mine["key_evaluations"][0]["as_expert"]
    assert [a["id"] for a in mine["assessments"]] == [reg.assessment.pk]
    assert [a["id"] for a in staff.get(f"{API}/assessments/").json()["results"]] == [reg.assessment.pk]

    for persona in ("perf_admin", "edu_filler", "shinan_finance", "auditor"):
        assert login(getattr(world, persona)).get(f"{API}/my-assignments/").status_code == 403, persona


# --- appraisals --------------------------------------------------------------------------------


def test_appraisals_through_the_api(world, reg, login):
    client = login(world.perf_admin)
    criteria = client.get(f"{API}/appraisal-criteria/").json()
    assert sum(Decimal(c["max_points"]) for c in criteria) == Decimal("100")
    rows = [{"criterion": c["id"], "points": c["max_points"], "comment": ""} for c in criteria]
    early = post(
        client, f"{API}/agency-appraisals/", {"agency": reg.agency.pk, "key_evaluation": reg.key.pk, "scores": rows}
    )
    assert early.status_code == 400 and "未完成" in early.json()["non_field_errors"][0]
    complete(reg.key, reg.agency)
    rows[0]["points"] = "99"
    bad = post(
        client, f"{API}/agency-appraisals/", {"agency": reg.agency.pk, "key_evaluation": reg.key.pk, "scores": rows}
    )
    assert bad.status_code == 400 and "得分应在 0 至" in bad.json()["scores"][0]
    rows[0]["points"] = "10"
    made = post(
        client, f"{API}/agency-appraisals/", {"agency": reg.agency.pk, "key_evaluation": reg.key.pk, "scores": rows}
    )
    assert made.status_code == 201 and made.json()["total"] == "90.00" and len(made.json()["scores"]) == 5
    again = post(
        client, f"{API}/agency-appraisals/", {"agency": reg.agency.pk, "key_evaluation": reg.key.pk, "scores": rows}
    )
    assert again.status_code == 400 and "只考评一次" in again.json()["non_field_errors"][0]
    assert client.get(f"{API}/agency-appraisals/?agency={reg.agency.pk}").json()["count"] == 1
    detail = client.get(f"{API}/agencies/{reg.agency.pk}/").json()
    assert detail["appraisal_average"] == "90.00" and detail["jobs"][0]["appraised"] is True


# --- permission matrix -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "reads", "writes"),
    [
        ("perf_admin", 200, None),
        ("sector_kjw", 200, 403),
        ("auditor", 200, 403),
        ("shinan_finance", 200, 404),
        ("edu_filler", 403, 403),
        ("edu_approver", 403, 403),
        ("health_filler", 403, 403),
        ("shinan_edu_filler", 403, 403),
        ("npc_liaison", 403, 403),
        ("expert_li", 403, 403),
        ("sysadmin", 403, 403),
    ],
)
def test_api_permission_matrix(world, reg, login, persona, reads, writes):
    tie = ConflictTie.objects.create(agency=reg.agency, organization=world.health, relation=reg.relation)
    complete(reg.key, reg.agency)
    appraisal = services.appraisal_record(
        actor=world.perf_admin, agency=reg.agency, key_evaluation=reg.key, scores=full_scores()
    )
    KeyEvaluation.objects.filter(pk=reg.key.pk).update(status="in_progress")
    client = login(getattr(world, persona))
    for url in ("agencies/", f"agencies/{reg.agency.pk}/", "experts/", f"experts/{reg.expert.pk}/",
                "conflict-ties/", f"conflict-ties/{tie.pk}/", "agency-appraisals/"):  # fmt: skip
        assert client.get(f"{API}/{url}").status_code == reads, url
    appraisal_status = client.get(f"{API}/agency-appraisals/{appraisal.pk}/").status_code
    assert appraisal_status == {"shinan_finance": 404}.get(persona, reads)
    if writes is None:
        return
    before = AuditEvent.objects.count()
    rows = [{"criterion": c.pk, "points": "1"} for c in AppraisalCriterion.objects.all()]
    attempts = [
        patch(client, f"{API}/agencies/{reg.agency.pk}/", {"name": "改名"}),
        post(client, f"{API}/agencies/{reg.agency.pk}/suspend/", {"reason": "x"}),
        patch(client, f"{API}/experts/{reg.expert.pk}/", {"name": "改名"}),
        post(client, f"{API}/experts/{reg.expert.pk}/suspend/", {"reason": "x"}),
        client.delete(f"{API}/conflict-ties/{tie.pk}/"),
        post(client, f"{API}/key-evaluation-assignments/{reg.key.pk}/assign/", {"agency": reg.other_agency.pk}),
        post(client, f"{API}/key-evaluation-assignments/{reg.key.pk}/withdraw/", {"agency": True}),
    ]
    if persona != "sector_kjw":  # the sector reviewer of 教育局 reviews (and assigns) its assessments
        attempts.append(post(client, f"{API}/assessment-assignments/{reg.assessment.pk}/withdraw/"))
    assert [r.status_code for r in attempts] == [writes] * len(attempts)
    # Writes the role never has are 403 whatever the row; a district's try on city rows is 404 or refused.
    tie_create = post(
        client,
        f"{API}/conflict-ties/",
        {"agency": reg.agency.pk, "organization": world.edu.pk, "relation": reg.relation.pk},
    )
    appraise = post(
        client, f"{API}/agency-appraisals/", {"agency": reg.agency.pk, "key_evaluation": reg.key.pk, "scores": rows}
    )
    if persona == "shinan_finance":
        assert tie_create.status_code == 400 and "不在您的权限范围内" in tie_create.json()["agency"][0]
        assert appraise.status_code == 400 and "不在您的权限范围内" in appraise.json()["key_evaluation"][0]
    else:
        assert (tie_create.status_code, appraise.status_code) == (403, 403)
    assert AuditEvent.objects.count() == before
    reg.agency.refresh_from_db()
    reg.expert.refresh_from_db()
    reg.key.refresh_from_db()
    assert (reg.agency.name, reg.agency.status, reg.expert.name, reg.expert.status) == (
        "青岛正衡绩效评价咨询有限公司", "active", "李专家", "active"
    )  # fmt: skip
    assert reg.key.agency == reg.agency and ConflictTie.objects.count() == 1 and AgencyAppraisal.objects.count() == 1


def test_creation_refused_to_roles_without_manage(world, login):
    for persona in ("sector_kjw", "auditor", "edu_approver", "expert_li"):
        client = login(getattr(world, persona))
        assert post(client, f"{API}/agencies/", {"name": "x", "credit_code": "91370200MA3C000001"}).status_code == 403
        assert post(client, f"{API}/experts/", {"name": "x", "fields": "x"}).status_code == 403
    assert not Agency.objects.exists() and not Expert.objects.exists()


# --- constant queries --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "url", "expected"),
    [
        ("perf_admin", "agencies/", 8),
        ("perf_admin", "experts/", 8),
        ("perf_admin", "conflict-ties/", 8),
        ("perf_admin", "agency-appraisals/", 9),
        ("expert_li", "my-assignments/", 8),
    ],
)
def test_api_lists_run_a_constant_number_of_queries(world, reg, login, year, persona, url, expected):
    counter = iter(range(1000))

    def grow():
        for _ in range(3):
            n = next(counter)
            agency = services.agency_create(actor=world.perf_admin, name=f"机构{n}", credit_code=f"913702000000{n:06d}")
            expert = services.expert_create(actor=world.perf_admin, name=f"专家{n}", fields="教育")
            services.tie_add(actor=world.perf_admin, agency=agency, organization=world.health, relation=reg.relation)
            services.tie_add(actor=world.perf_admin, expert=expert, organization=world.health, relation=reg.relation)
            fund = make_fund(world, year, code=f"Q-{n}", name=f"项目{n}")
            key = KeyEvaluation.objects.create(plan=reg.plan, fund=fund, department=world.edu)
            services.key_evaluation_assign(actor=world.perf_admin, evaluation=key, experts=[reg.expert])
            complete(key, agency)
            services.appraisal_record(actor=world.perf_admin, agency=agency, key_evaluation=key, scores=full_scores())

    grow()
    client = login(getattr(world, persona))
    assert client.get(f"{API}/{url}").status_code == 200
    assert_constant_queries(lambda: client.get(f"{API}/{url}"), grow, expected)


def test_assessment_status_unchanged_by_agency_assignment(world, reg, login):
    client = login(world.perf_admin)
    post(client, f"{API}/assessment-assignments/{reg.assessment.pk}/assign/", {"agency": reg.agency.pk})
    assert ExAnteAssessment.objects.get(pk=reg.assessment.pk).status == "submitted"
