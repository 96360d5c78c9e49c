"""整改 API: scoped list/retrieve with filters, create (by hand, from a self-evaluation, from a key
evaluation), the steps save / submit / accept / reopen; 403/404 with nothing changed; bad input
in Chinese; constant queries on the list; the OpenAPI schema."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from apps.results.models import Rectification
from tests import test_selfeval_flow as flow
from tests.querycount import assert_constant_queries
from tests.test_key_evaluations import years_fixture as years_fixture  # noqa: F401  (fixture "years")
from tests.test_rectification import completed_key_evaluation, confirm, evidence, later, raise_items, snapshot

API = "/api/v1/rectifications/"
# Shared fixtures (pytest finds them as module attributes).
year2025, approved2025, evaluation = flow.year2025, flow.approved2025, flow.evaluation
S = Rectification.Status


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


@pytest.fixture
def confirmed(world, evaluation):
    return confirm(world, evaluation)


@pytest.fixture
def items(world, confirmed):
    return raise_items(world, confirmed)


def test_the_whole_flow_through_the_api(world, confirmed, login):
    finance = login(world.perf_admin)
    bad = post(finance, API + "from-self-evaluation/", {"self_evaluation": confirmed.pk, "deadline": "2020-01-01"})
    assert bad.status_code == 400 and bad.json()["deadline"][0].startswith("整改期限应晚于今天")
    made = post(finance, API + "from-self-evaluation/", {"self_evaluation": confirmed.pk, "deadline": str(later())})
    assert made.status_code == 201 and len(made.json()) == 3
    again = post(finance, API + "from-self-evaluation/", {"self_evaluation": confirmed.pk, "deadline": str(later())})
    assert again.status_code == 201 and again.json() == []
    pk = made.json()[1]["id"]
    unit = login(world.edu_unit_filler)
    listed = unit.get(API, {"status": "pending"}).json()
    assert listed["count"] == 3 if isinstance(listed, dict) else len(listed) == 3
    saved = post(unit, f"{API}{pk}/save/", {"measures": "按月调度", "progress_note": "已完成"})
    assert saved.status_code == 200 and saved.json()["status"] == S.IN_PROGRESS
    assert saved.json()["available_steps"] == ["submit"]
    refused = post(unit, f"{API}{pk}/submit/")
    assert refused.status_code == 400 and refused.json() == {"non_field_errors": ["请至少上传一份整改佐证材料。"]}
    evidence(world.edu_unit_filler, Rectification.objects.get(pk=pk))
    assert post(unit, f"{API}{pk}/submit/").json()["status"] == S.VERIFYING
    double = post(unit, f"{API}{pk}/submit/")
    assert double.status_code == 400 and "不能执行“报送核实”" in double.json()["non_field_errors"][0]
    finance = login(world.perf_admin)
    no_comment = post(finance, f"{API}{pk}/reopen/", {"comment": ""})
    assert no_comment.status_code == 400 and no_comment.json() == {"comment": ["执行“重新整改”必须填写意见。"]}
    reopened = post(finance, f"{API}{pk}/reopen/", {"comment": "补充台账", "deadline": str(later(60))})
    assert reopened.json()["reopen_count"] == 1 and reopened.json()["deadline"] == str(later(60))
    unit = login(world.edu_unit_filler)
    post(unit, f"{API}{pk}/submit/")
    finance = login(world.perf_admin)
    done = post(finance, f"{API}{pk}/accept/", {"comment": "同意"})
    assert done.status_code == 200 and done.json()["status"] == S.DONE and done.json()["status_display"] == "已完成"


def test_create_by_hand_and_bad_input(world, year, login):
    finance = login(world.perf_admin)
    bad = post(finance, API, {"source": "audit", "organization": world.health.pk, "problem": "", "deadline": None})
    assert bad.status_code == 400
    assert bad.json() == {
        "problem": ["请填写存在问题。"],
        "source_reference": ["审计发现的问题请填写审计报告文号。"],
        "deadline": ["请填写整改期限。"],
    }
    body = {"source": "audit", "organization": world.health.pk, "problem": "资金闲置", "deadline": str(later()),
            "source_reference": "青审〔2026〕5号"}  # fmt: skip
    created = post(finance, API, body)
    assert created.status_code == 201 and created.json()["organization_name"] == "青岛市卫生健康委员会"
    assert Rectification.objects.count() == 1
    shinan = login(world.shinan_finance)
    outside = post(shinan, API, body)
    assert outside.status_code == 400 and outside.json() == {"organization": ["找不到该单位，或您无权查看。"]}
    unit = login(world.edu_unit_filler)
    assert post(unit, API, body).status_code == 403
    assert Rectification.objects.count() == 1


def test_from_key_evaluation(world, years, login):
    evaluation = completed_key_evaluation(world)
    finance = login(world.perf_admin)
    made = post(finance, API + "from-key-evaluation/", {"key_evaluation": evaluation.pk, "deadline": str(later())})
    assert made.status_code == 201 and [r["problem"] for r in made.json()] == [
        "绩效指标未细化。",
        "资金拨付滞后。",
        "验收资料不全。",
    ]
    assert login(world.shinan_finance).post(
        API + "from-key-evaluation/", {"key_evaluation": evaluation.pk, "deadline": str(later())},
        content_type="application/json",
    ).status_code == 400  # fmt: skip
    assert Rectification.objects.count() == 3


@pytest.mark.parametrize("persona", ["health_filler", "shinan_finance", "shinan_edu_filler"])
def test_outsiders_get_404_and_nothing_changes(world, items, login, persona):
    item = items[0]
    client = login(getattr(world, persona))
    listed = client.get(API).json()
    assert (listed["count"] if isinstance(listed, dict) else len(listed)) == 0
    before = snapshot(item)
    assert client.get(f"{API}{item.pk}/").status_code == 404
    for name in ("save", "submit", "accept", "reopen"):
        assert post(client, f"{API}{item.pk}/{name}/", {"comment": "x", "measures": "x"}).status_code == 404
    assert snapshot(item) == before


def test_wrong_roles_get_403_and_nothing_changes(world, items, login):
    item = items[0]
    before = snapshot(item)
    for persona in ("sysadmin", "expert_li"):
        client = login(getattr(world, persona))
        assert client.get(API).status_code == 403 and client.get(f"{API}{item.pk}/").status_code == 403
    for persona in ("npc_liaison", "auditor"):
        client = login(getattr(world, persona))
        assert client.get(f"{API}{item.pk}/").status_code == 200
        for name in ("save", "submit", "accept", "reopen"):
            assert post(client, f"{API}{item.pk}/{name}/", {"comment": "x", "measures": "x"}).status_code == 403
        assert post(client, API + "from-self-evaluation/", {"self_evaluation": item.self_evaluation_id,
                                                            "deadline": str(later())}).status_code == 403  # fmt: skip
    unit = login(world.edu_unit_filler)
    assert post(unit, f"{API}{item.pk}/accept/").status_code == 403
    finance = login(world.perf_admin)
    assert post(finance, f"{API}{item.pk}/save/", {"measures": "x"}).status_code == 403
    assert snapshot(item) == before and Rectification.objects.count() == 3


def test_filters_and_constant_queries(world, year, items, login):
    Rectification.objects.filter(pk=items[0].pk).update(deadline=timezone.localdate() - timedelta(days=2))
    client = login(world.perf_admin)

    def count(**params):
        body = client.get(API, params).json()
        return body["count"] if isinstance(body, dict) else len(body)

    assert count(status="overdue") == 1 and count(status="pending") == 3 and count(department=world.edu.pk) == 3
    assert count(department=world.health.pk) == 0 and count(q="资金发放") == 1 and count(fiscal_year=2025) == 3
    assert count(source="audit") == 0
    assert_constant_queries(lambda: client.get(API), lambda: raise_items(world, _another(world)), 8)


def _another(world):
    """A second confirmed self-evaluation of 教育局 (a second fund), to grow the list."""
    from apps.evaluations.models import SelfEvaluation
    from apps.orgs.models import FiscalYear
    from tests.test_selfeval_flow import open_round
    from tests.test_targets_flow import approve_all_the_way, filed_target, make_fund

    n = Rectification.objects.count()
    approve_all_the_way(
        world, filed_target(world, make_fund(world, FiscalYear.objects.get(pk=2025), code=f"EDU-2025-9{n}"))
    )
    open_round(world, FiscalYear.objects.get(pk=2025))
    return confirm(world, SelfEvaluation.objects.get(fund__code=f"EDU-2025-9{n}"))


def test_schema_validates_and_this_part_adds_no_warning(db):
    """The schema is valid; no warning or error names a rectification component (the whole-schema
    ``--fail-on-warn`` run is the project's gate, see the report)."""
    from drf_spectacular.drainage import GENERATOR_STATS

    GENERATOR_STATS.reset()
    call_command("spectacular", "--validate", "--file", "/dev/null")
    messages = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    assert not [m for m in messages if "ectification" in m], messages


# --- evidence through the API; save changes only the fields sent -----------------------------------


def upload(client, pk, name="整改报告.pdf", content=None, **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.test_rectification import PDF

    data = {"file": SimpleUploadedFile(name, PDF if content is None else content), **extra}
    return client.post(f"{API}{pk}/evidence/", data)  # multipart


def evidence_count(item):
    from apps.attachments.models import Attachment

    return Attachment.objects.for_object(item).count()


def test_evidence_uploaded_by_token_then_submit(world, items, client):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    item = items[0]
    unit = APIClient()
    unit.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=world.edu_unit_filler).key}")
    assert post(unit, f"{API}{item.pk}/save/", {"measures": "按月调度", "progress_note": "已完成"}).status_code == 200
    made = upload(unit, item.pk, description="整改报告")
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["name"] == "整改报告.pdf" and body["size"] > 0 and body["description"] == "整改报告"
    assert body["uploaded_by_name"] == world.edu_unit_filler.display_name and body["uploaded_at"]
    assert body["download_url"] == reverse("api:attachment-download", args=[body["id"]])
    downloaded = unit.get(body["download_url"], HTTP_ACCEPT="application/octet-stream")  # the token works here too
    assert downloaded.status_code == 200 and b"".join(downloaded.streaming_content).startswith(b"%PDF")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=world.health_filler).key}")
    hidden = other.get(body["download_url"])
    assert hidden.status_code == 404 and hidden.json()["detail"] == "附件不存在或不在您的查看范围内。"
    assert APIClient().get(body["download_url"]).status_code in (401, 403)
    assert unit.get(f"{API}{item.pk}/evidence/").json() == [body]
    assert unit.get(f"{API}{item.pk}/").json()["evidence"] == [body]
    assert post(unit, f"{API}{item.pk}/submit/").json()["status"] == S.VERIFYING


def test_evidence_checks_are_the_pages(world, items, login):
    item = items[0]
    unit = login(world.edu_unit_filler)
    missing = unit.post(f"{API}{item.pk}/evidence/", {"description": "x"})
    assert missing.status_code == 400 and missing.json() == {"file": ["请选择要上传的文件。"]}
    fake = upload(unit, item.pk, name="报告.pdf", content=b"MZ not a pdf")
    assert fake.status_code == 400 and "不是有效的PDF" in fake.json()["file"][0]
    exe = upload(unit, item.pk, name="tool.exe", content=b"MZ")
    assert exe.status_code == 400 and "类型不允许上传" in exe.json()["file"][0]
    long = upload(unit, item.pk, description="长" * 201)
    assert long.status_code == 400 and long.json() == {"description": ["附件说明不能超过 200 个字。"]}
    assert upload(unit, item.pk).status_code == 201
    twice = upload(unit, item.pk, name="副本.pdf")
    assert twice.status_code == 400 and "内容相同" in twice.json()["file"][0]
    assert evidence_count(item) == 1


@pytest.mark.parametrize(("persona", "code"), [("health_filler", 404), ("shinan_edu_filler", 404),
                                               ("shinan_finance", 404), ("perf_admin", 403),
                                               ("npc_liaison", 403), ("auditor", 403)])  # fmt: skip
def test_evidence_refused_to_others_and_nothing_changes(world, items, login, persona, code):
    item = items[0]
    before = snapshot(item)
    client = login(getattr(world, persona))
    assert upload(client, item.pk).status_code == code
    assert client.get(f"{API}{item.pk}/evidence/").status_code == (404 if code == 404 else 200)
    assert evidence_count(item) == 0 and snapshot(item) == before
    expert = login(world.expert_li)
    assert upload(expert, item.pk).status_code == 403 and expert.get(f"{API}{item.pk}/evidence/").status_code == 403
    assert evidence_count(item) == 0


def test_no_evidence_while_awaiting_verification(world, items, login):
    from tests.test_rectification import evidence

    item = items[0]
    unit = login(world.edu_unit_filler)
    post(unit, f"{API}{item.pk}/save/", {"measures": "a", "progress_note": "b"})
    evidence(world.edu_unit_filler, Rectification.objects.get(pk=item.pk))
    assert post(unit, f"{API}{item.pk}/submit/").json()["status"] == S.VERIFYING
    before = snapshot(item)
    refused = upload(unit, item.pk, name="补充.pdf", content=b"%PDF-1.4\n% other\n%%EOF\n")
    assert refused.status_code == 400
    assert refused.json() == {"non_field_errors": ["该记录当前状态为“待核实”，不能再上传或删除附件。"]}
    assert evidence_count(item) == 1 and snapshot(item) == before


def test_save_changes_only_the_fields_sent(world, items, login):
    item = items[0]
    unit = login(world.edu_unit_filler)
    post(unit, f"{API}{item.pk}/save/", {"measures": "M1", "progress_note": "P1"})
    only_note = post(unit, f"{API}{item.pk}/save/", {"progress_note": "P2"}).json()
    assert (only_note["measures"], only_note["progress_note"]) == ("M1", "P2")
    only_measures = post(unit, f"{API}{item.pk}/save/", {"measures": "M2"}).json()
    assert (only_measures["measures"], only_measures["progress_note"]) == ("M2", "P2")
    cleared = post(unit, f"{API}{item.pk}/save/", {"progress_note": ""}).json()
    assert (cleared["measures"], cleared["progress_note"]) == ("M2", "")
    before = snapshot(item)
    nothing = post(unit, f"{API}{item.pk}/save/", {})
    assert nothing.status_code == 400 and nothing.json() == {"measures": ["请填写整改措施或整改情况。"]}
    both_empty = post(unit, f"{API}{item.pk}/save/", {"measures": ""})
    assert both_empty.status_code == 400 and snapshot(item) == before
