"""区市财政运行综合绩效评价, the API: the same flow and scoping as the pages — a district reads
and writes only its own submission and sees its scores only once published; other roles get 403."""

from decimal import Decimal as D

import pytest

from apps.orgs.models import FiscalYear
from apps.supervision import services_fiscal as services
from apps.supervision import services_fiscal_scoring as scoring
from apps.supervision.models import FiscalEvaluation, FiscalSubmission, FiscalValue
from tests.querycount import assert_constant_queries
from tests.test_fiscal_evaluation import FIGURES, add_district, fill, full_scores, opened, sub_of

EVALS = "/api/v1/fiscal-evaluations/"
SUBS = "/api/v1/fiscal-submissions/"
S = FiscalSubmission.Status


@pytest.fixture
def district(world):
    return add_district(world)


@pytest.fixture
def evaluation(world, year, district):
    return opened(world, year)


def payload(evaluation, figures):
    rows = []
    for i, figure in zip(evaluation.indicators.order_by("sort_order"), figures, strict=True):
        key = "text_value" if i.direction == "qualitative" else "value"
        rows.append({"indicator": i.pk, key: figure, "note": "决算"})
    return {"values": rows}


def test_perf_admin_creates_opens_and_reads(world, year, district, login):
    client = login(world.perf_admin)
    response = client.post(EVALS, {"fiscal_year": 2026, "title": "2026年度评价"}, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft" and len(body["indicators"]) == 10
    again = client.post(EVALS, {"fiscal_year": 2026, "title": "重复"}, content_type="application/json")
    assert again.status_code == 400 and "评价年度" in again.json()["fiscal_year"][0]
    opened_ = client.post(f"{EVALS}{body['id']}/open/")
    assert opened_.status_code == 200 and opened_.json()["status"] == "collecting"
    subs = client.get(SUBS).json()["results"]
    assert {s["organization_name"] for s in subs} == {"市南区财政局", "市北区财政局"}


@pytest.mark.parametrize("persona", ["shinan_finance", "finance_leader", "edu_approver", "npc_liaison"])
def test_others_cannot_create(world, year, login, persona):
    response = login(getattr(world, persona)).post(
        EVALS, {"fiscal_year": 2026, "title": "x"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert not FiscalEvaluation.objects.exists()


@pytest.mark.parametrize("persona", ["edu_approver", "edu_filler", "npc_liaison", "expert_li", "auditor"])
def test_other_roles_get_403(world, evaluation, login, persona):
    client = login(getattr(world, persona))
    sub = sub_of(evaluation, world.shinan_finance_org)
    assert client.get(EVALS).status_code == 403
    assert client.get(SUBS).status_code == 403
    assert (
        client.post(
            f"{SUBS}{sub.pk}/values/", payload(evaluation, FIGURES["shinan"]), content_type="application/json"
        ).status_code
        == 403
    )
    assert not FiscalValue.objects.filter(value__isnull=False).exists()


def test_district_sees_only_its_own(world, evaluation, district, login):
    own, other = sub_of(evaluation, world.shinan_finance_org), sub_of(evaluation, district[0])
    client = login(world.shinan_finance)
    assert client.get(EVALS).json()["results"] == []
    assert client.get(f"{EVALS}{evaluation.pk}/").status_code == 404
    assert [s["id"] for s in client.get(SUBS).json()["results"]] == [own.pk]
    assert client.get(f"{SUBS}{other.pk}/").status_code == 404
    response = client.put(
        f"{SUBS}{other.pk}/values/", payload(evaluation, FIGURES["shinan"]), content_type="application/json"
    )
    assert response.status_code == 404
    assert client.post(f"{EVALS}{evaluation.pk}/open/").status_code == 404
    assert not FiscalValue.objects.filter(submission=other, value__isnull=False).exists()


def test_district_fills_and_submits_bad_number_saves_nothing(world, evaluation, login):
    sub = sub_of(evaluation, world.shinan_finance_org)
    client = login(world.shinan_finance)
    bad = payload(evaluation, FIGURES["shinan"])
    bad["values"][1]["value"] = "六点五"
    response = client.put(f"{SUBS}{sub.pk}/values/", bad, content_type="application/json")
    growth = bad["values"][1]["indicator"]
    assert response.status_code == 400 and response.json()[f"value_{growth}"] == [
        "“一般公共预算收入增幅”应填写数字（%）。"
    ]
    assert not FiscalValue.objects.filter(submission=sub, value__isnull=False).exists()
    partial = payload(evaluation, FIGURES["shinan"])
    partial["values"] = partial["values"][:5]
    assert client.post(f"{SUBS}{sub.pk}/values/", partial, content_type="application/json").status_code == 200
    response = client.post(f"{SUBS}{sub.pk}/submit/")
    assert response.status_code == 400 and "以下指标尚未填写：结转结余资金占比" in response.json()["values"][0]
    assert (
        client.put(
            f"{SUBS}{sub.pk}/values/", payload(evaluation, FIGURES["shinan"]), content_type="application/json"
        ).status_code
        == 200
    )
    response = client.post(f"{SUBS}{sub.pk}/submit/")
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    # the district can neither return nor score
    assert client.post(f"{SUBS}{sub.pk}/return/", {"comment": "x"}, content_type="application/json").status_code == 403
    assert client.post(f"{SUBS}{sub.pk}/score/", {"scores": []}, content_type="application/json").status_code == 403
    assert FiscalSubmission.objects.get(pk=sub.pk).status == S.SUBMITTED


def test_city_returns_scores_publishes_district_sees_scores_after(world, evaluation, district, login):
    a, b = sub_of(evaluation, world.shinan_finance_org), sub_of(evaluation, district[0])
    fill(a, world.shinan_finance, FIGURES["shinan"])
    fill(b, district[1], FIGURES["shibei"])
    scoring.fiscal_submit(actor=world.shinan_finance, submission=a)
    scoring.fiscal_submit(actor=district[1], submission=b)
    client = login(world.perf_admin)
    response = client.post(f"{SUBS}{a.pk}/return/", {"comment": ""}, content_type="application/json")
    assert response.status_code == 400 and response.json() == {"return_comment": ["请填写退回意见。"]}
    bad = {"scores": [{"indicator": i, "score": "99"} for i, _ in full_scores(a).items()]}
    response = client.post(f"{SUBS}{a.pk}/score/", bad, content_type="application/json")
    assert response.status_code == 400 and "得分应在 0 至 10.00 分之间" in str(response.json())
    good = {"scores": [{"indicator": i, "score": "9", "comment": "好"} for i in full_scores(a)], "comment": "市南意见"}
    assert client.post(f"{SUBS}{a.pk}/score/", good, content_type="application/json").json()["total"] == "90.00"
    # before publishing the district doesn't see its scores
    own = login(world.shinan_finance).get(f"{SUBS}{a.pk}/").json()
    assert own["total"] is None and own["comment"] is None and all(v["score"] is None for v in own["values"])
    client = login(world.perf_admin)
    good_b = {"scores": [{"indicator": i, "score": "7"} for i in full_scores(b)]}
    assert client.post(f"{SUBS}{b.pk}/score/", good_b, content_type="application/json").status_code == 200
    response = client.post(f"{EVALS}{evaluation.pk}/publish/", {"summary": ""}, content_type="application/json")
    assert response.status_code == 400 and response.json() == {"summary": ["请填写总体评价意见。"]}
    response = client.post(f"{EVALS}{evaluation.pk}/publish/", {"summary": "平稳"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "published"
    own = login(world.shinan_finance).get(f"{SUBS}{a.pk}/").json()
    assert own["total"] == "90.00" and own["rank"] == 1 and own["grade"] == "excellent" and own["comment"] == "市南意见"
    assert D(own["values"][0]["score"]) == D("9")


def test_lists_run_constant_queries(world, evaluation, district, login):
    client = login(world.perf_admin)
    counter = iter(["370213", "370212", "370214", "370211", "370215", "370281"])

    def grow():
        for _ in range(2):
            code = next(counter)
            org, _ = add_district(world, code, f"区{code}", f"d{code}")
            sub = FiscalSubmission.objects.create(evaluation=evaluation, organization=org)
            FiscalValue.objects.bulk_create(
                FiscalValue(submission=sub, indicator=i) for i in evaluation.indicators.all()
            )

    assert_constant_queries(lambda: client.get(SUBS), grow, expected=9)

    def more_years():
        for y in (2024, 2025):
            FiscalYear.objects.get_or_create(year=y)
            services.fiscal_evaluation_create(
                actor=world.perf_admin, fiscal_year=FiscalYear.objects.get(year=y), title="x"
            )

    assert_constant_queries(lambda: client.get(EVALS), more_years, expected=9)


def test_ranking_endpoint_for_the_district_only_after_publishing(world, evaluation, district, login):
    a, b = sub_of(evaluation, world.shinan_finance_org), sub_of(evaluation, district[0])
    fill(a, world.shinan_finance, FIGURES["shinan"])
    fill(b, district[1], FIGURES["shibei"])
    scoring.fiscal_submit(actor=world.shinan_finance, submission=a)
    scoring.fiscal_submit(actor=district[1], submission=b)
    scoring.fiscal_score(actor=world.perf_admin, submission=a, scores=full_scores(a, D("9")))
    url = f"{EVALS}{evaluation.pk}/ranking/"
    provisional = login(world.perf_admin).get(url).json()
    assert provisional["provisional"] is True and provisional["rows"][0]["rank"] == 1
    assert login(world.shinan_finance).get(url).status_code == 404
    assert login(world.edu_approver).get(url).status_code == 403
    scoring.fiscal_score(actor=world.perf_admin, submission=b, scores=full_scores(b, D("8")))
    services.fiscal_publish(actor=world.perf_admin, evaluation=evaluation, summary="平稳")
    body = login(world.shinan_finance).get(url).json()
    assert body["provisional"] is False and body["groups"][0] == "收入质量"
    assert [(r["organization_name"], r["total"], r["rank"]) for r in body["rows"]] == [
        ("市南区财政局", "90.00", 1),
        ("市北区财政局", "80.00", 2),
    ]
    assert "values" not in str(body) and "comment" not in str(body)
    _, outsider = add_district(world, "370213", "李沧区", "licang_finance")
    assert login(outsider).get(url).status_code == 404


def test_frame_through_the_api(world, year, login):
    client = login(world.perf_admin)
    evaluation = client.post(EVALS, {"fiscal_year": 2026, "title": "评价"}, content_type="application/json").json()
    url = f"{EVALS}{evaluation['id']}/indicators/"
    new = {"group": "收入质量", "name": "非税收入占比", "unit": "%", "direction": "lower", "max_points": "0"}
    response = client.post(url, new, content_type="application/json")
    assert response.status_code == 400 and response.json() == {"max_points": ["分值应大于0且不超过100分。"]}
    added = client.post(url, new | {"max_points": "5"}, content_type="application/json")
    assert added.status_code == 201
    one = f"{url}{added.json()['id']}/"
    patched = client.patch(one, {"max_points": "2.5"}, content_type="application/json")
    assert patched.status_code == 200 and patched.json()["max_points"] == "2.50"
    assert login(world.shinan_finance).delete(one).status_code == 404
    assert login(world.edu_approver).delete(one).status_code == 403
    client = login(world.perf_admin)
    assert client.delete(one).status_code == 204
    assert client.delete(one).status_code == 404
    assert len(client.get(f"{EVALS}{evaluation['id']}/").json()["indicators"]) == 10
