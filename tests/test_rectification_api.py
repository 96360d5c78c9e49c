"""整改 API: scoped list/retrieve with filters, create (by hand, from a self-evaluation, from a key
evaluation), the steps save / submit / accept / reopen; 403/404 with nothing changed; bad input
in Chinese; constant queries on the list; the OpenAPI schema."""

from datetime import timedelta

import pytest
from django.core.management import call_command
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
