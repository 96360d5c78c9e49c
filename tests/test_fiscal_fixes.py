"""区市财政运行综合绩效评价, review and walkthrough fixes: bad numbers in the address or the form are
a 404/400 or a Chinese message, never a 500 (F6); re-scoring needs a reason and keeps every score
before → after, as the district's figure saves do (F2); no silent rounding of typed scores and
half-up rounding of what the system computes (F7); grades on a frame that no longer totals 100
(F5); the score page is read-only once published (#12); the demo's dates (#11); history order."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.supervision import services_fiscal as services
from apps.supervision import services_fiscal_scoring as scoring
from apps.supervision.models import FiscalEvaluation, FiscalIndicator, FiscalSubmission, FiscalValue
from tests.test_fiscal_evaluation import FIGURES, add_district, fill, full_scores, new_evaluation, opened, sub_of

S = FiscalSubmission.Status
BAD = ["²", "abc", "99999999999999999999"]


@pytest.fixture
def district(world):
    return add_district(world)


@pytest.fixture
def evaluation(world, year, district):
    return opened(world, year)


@pytest.fixture
def both_submitted(world, evaluation, district):
    a, b = sub_of(evaluation, world.shinan_finance_org), sub_of(evaluation, district[0])
    fill(a, world.shinan_finance, FIGURES["shinan"])
    fill(b, district[1], FIGURES["shibei"])
    scoring.fiscal_submit(actor=world.shinan_finance, submission=a)
    scoring.fiscal_submit(actor=district[1], submission=b)
    return a, b


def events(obj):
    return list(AuditEvent.objects.for_object(obj).order_by("occurred_at", "pk"))


# --- F6: bad numbers in the address and the form ---------------------------------------------------


@pytest.mark.parametrize("raw", [*BAD, "%C2%B2"])
def test_ranking_api_with_a_bad_pk_is_404_not_500(world, evaluation, login, raw):
    response = login(world.perf_admin).get(f"/api/v1/fiscal-evaluations/{raw}/ranking/")
    assert response.status_code == 404
    assert "未找到" in response.json()["detail"]


@pytest.mark.parametrize("raw", BAD)
def test_evaluation_and_submission_api_with_a_bad_pk_is_404(world, evaluation, login, raw):
    client = login(world.perf_admin)
    assert client.get(f"/api/v1/fiscal-evaluations/{raw}/").status_code == 404
    assert client.get(f"/api/v1/fiscal-submissions/{raw}/").status_code == 404


@pytest.mark.parametrize("raw", [*BAD, ""])
def test_delete_with_a_bad_indicator_is_a_message_and_deletes_nothing(world, year, login, raw):
    draft = new_evaluation(world, year)
    url = reverse("supervision:fiscal_detail", args=[draft.pk])
    response = login(world.perf_admin).post(url, {"op": "delete", "indicator": raw}, follow=True)
    assert response.status_code == 200 and "请选择要删除的指标。" in response.content.decode()
    assert draft.indicators.count() == 10


def test_delete_of_an_indicator_outside_the_frame_is_404(world, year, login):
    draft = new_evaluation(world, year)
    url = reverse("supervision:fiscal_detail", args=[draft.pk])
    response = login(world.perf_admin).post(url, {"op": "delete", "indicator": 2_000_000_000})
    assert response.status_code == 404 and draft.indicators.count() == 10


# --- F2: re-scoring keeps the old scores ------------------------------------------------------------


def test_first_score_records_every_indicator_score(world, both_submitted):
    a, _ = both_submitted
    scoring.fiscal_score(actor=world.perf_admin, submission=a, scores=full_scores(a, D("9")))
    event = events(a)[-1]
    assert event.comment == "完成评分" and event.kind == AuditEvent.Kind.TRANSITION
    assert event.changes["status"] == {"from": S.SUBMITTED, "to": S.SCORED}
    assert event.changes["total"] == {"from": None, "to": "90.00"}
    assert event.changes["得分·税收收入占比"] == {"from": None, "to": "9.00"}


def test_rescoring_needs_a_reason_and_records_before_and_after(world, both_submitted):
    a, _ = both_submitted
    scoring.fiscal_score(actor=world.perf_admin, submission=a, scores=full_scores(a, D("9")))
    tax = a.evaluation.indicators.get(name="税收收入占比")
    scores = full_scores(a, D("9"))
    scores[tax.pk] = (D("7.5"), "税收占比口径调整")
    n = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        scoring.fiscal_score(actor=world.perf_admin, submission=a, scores=scores)
    assert exc.value.message_dict == {"reason": ["该区市已评分，重新评分请填写重新评分理由。"]}
    assert AuditEvent.objects.count() == n
    assert FiscalValue.objects.get(submission=a, indicator=tax).score == D("9.00")
    assert FiscalSubmission.objects.get(pk=a.pk).total == D("90.00")

    scoring.fiscal_score(actor=world.perf_admin, submission=a, scores=scores, reason="复核税收收入口径")
    event = events(a)[-1]
    assert event.comment == "重新评分：复核税收收入口径"
    assert event.changes["total"] == {"from": "90.00", "to": "88.50"}
    assert event.changes["得分·税收收入占比"] == {"from": "9.00", "to": "7.50"}
    assert event.changes["评分意见·税收收入占比"] == {"from": "", "to": "税收占比口径调整"}
    assert event.changes["reason"] == {"from": None, "to": "复核税收收入口径"}
    # indicators whose score did not change are not listed
    assert "得分·民生支出占比" not in event.changes


def test_the_district_does_not_read_the_reason_before_publishing(world, both_submitted, login):
    a, _ = both_submitted
    scoring.fiscal_score(actor=world.perf_admin, submission=a, scores=full_scores(a, D("9")))
    scoring.fiscal_score(
        actor=world.perf_admin, submission=a, scores=full_scores(a, D("8")), reason="债务率得分由9分调为8分"
    )
    url = reverse("supervision:fiscal_submission", args=[a.pk])
    page = login(world.shinan_finance).get(url).content.decode()
    assert "重新评分" in page and "债务率得分由9分调为8分" not in page
    assert "债务率得分由9分调为8分" in login(world.perf_admin).get(url).content.decode()


def test_rescoring_on_the_page_asks_for_the_reason(world, both_submitted, login):
    a, _ = both_submitted
    scoring.fiscal_score(actor=world.perf_admin, submission=a, scores=full_scores(a, D("9")))
    client = login(world.perf_admin)
    url = reverse("supervision:fiscal_score", args=[a.pk])
    page = client.get(url).content.decode()
    assert 'id="score-rescoring"' in page and "重新评分理由" in page
    data = {f"score_{pk}": "8" for pk in a.evaluation.indicators.values_list("pk", flat=True)}
    page = client.post(url, data).content.decode()
    assert "该区市已评分，重新评分请填写重新评分理由。" in page
    assert FiscalSubmission.objects.get(pk=a.pk).total == D("90.00")
    response = client.post(url, {**data, "reason": "统一复核"})
    assert response.status_code == 302 and FiscalSubmission.objects.get(pk=a.pk).total == D("80.00")


def test_rescoring_through_the_api_needs_the_reason(world, both_submitted, login):
    a, _ = both_submitted
    client = login(world.perf_admin)
    body = {"scores": [{"indicator": pk, "score": "9"} for pk in a.evaluation.indicators.values_list("pk", flat=True)]}
    url = f"/api/v1/fiscal-submissions/{a.pk}/score/"
    assert client.post(url, body, content_type="application/json").status_code == 200
    body["scores"][0]["score"] = "8"
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 400 and "重新评分理由" in response.json()["reason"][0]
    response = client.post(url, {**body, "reason": "复核"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["total"] == "89.00"


def test_value_saves_record_before_and_after(world, evaluation):
    a = sub_of(evaluation, world.shinan_finance_org)
    fill(a, world.shinan_finance, FIGURES["shinan"])
    tax = evaluation.indicators.get(name="税收收入占比")
    qualitative = evaluation.indicators.get(direction="qualitative")
    event = events(a)[-1]
    assert event.changes["税收收入占比"] == {"from": None, "to": "80"}
    scoring.fiscal_values_save(
        actor=world.shinan_finance,
        submission=a,
        data={
            tax.pk: {"value": "81.5", "note": "2025年决算数据"},
            qualitative.pk: {"text_value": "已挂钩。", "note": "2025年决算数据"},
        },
    )
    event = events(a)[-1]
    assert event.changes == {
        "税收收入占比": {"from": "80", "to": "81.5"},
        "评价结果应用情况": {"from": "评价结果与预算安排挂钩。", "to": "已挂钩。"},
    }


# --- F7: rounding ---------------------------------------------------------------------------------


def test_scores_with_more_than_two_decimals_are_refused_naming_the_indicator(world, both_submitted):
    a, _ = both_submitted
    scores = full_scores(a, D("9"))
    tax = a.evaluation.indicators.get(name="税收收入占比")
    scores[tax.pk] = ("8.125", "")
    with pytest.raises(ValidationError) as exc:
        scoring.fiscal_score(actor=world.perf_admin, submission=a, scores=scores)
    assert exc.value.message_dict == {f"score_{tax.pk}": ["“税收收入占比”的得分最多保留两位小数。"]}
    assert FiscalSubmission.objects.get(pk=a.pk).status == S.SUBMITTED
    scores[tax.pk] = ("8.120", "")  # trailing zeros are two decimals
    assert scoring.fiscal_score(actor=world.perf_admin, submission=a, scores=scores).total == D("89.12")


def test_points_with_more_than_two_decimals_are_refused(world, year):
    draft = new_evaluation(world, year)
    with pytest.raises(ValidationError) as exc:
        services.fiscal_indicator_add(
            actor=world.perf_admin,
            evaluation=draft,
            group="绩效管理",
            name="新指标",
            direction="higher",
            max_points="5.555",
        )
    assert exc.value.message_dict == {"max_points": ["分值最多保留两位小数（“5.555”）。"]}
    assert draft.indicators.count() == 10


def test_figures_with_more_than_four_decimals_are_refused(world, evaluation):
    a = sub_of(evaluation, world.shinan_finance_org)
    tax = evaluation.indicators.get(name="税收收入占比")
    with pytest.raises(ValidationError) as exc:
        scoring.fiscal_values_save(actor=world.shinan_finance, submission=a, data={tax.pk: {"value": "80.12345"}})
    assert exc.value.message_dict == {f"value_{tax.pk}": ["“税收收入占比”最多保留四位小数。"]}
    assert FiscalValue.objects.get(submission=a, indicator=tax).value is None


def test_suggested_scores_round_half_up():
    one = FiscalIndicator(name="x", direction="higher", max_points=D("1"))
    assert scoring.suggest(one, D("1"), [D("8"), D("1")]) == D("0.13")  # 0.125: half-even would give 0.12
    low = FiscalIndicator(name="y", direction="lower", max_points=D("1"))
    assert scoring.suggest(low, D("8"), [D("1"), D("8")]) == D("0.13")


def test_graded_score_is_folded_to_100_half_up():
    assert services.graded_score(D("95"), D("100")) == D("95")
    assert services.graded_score(D("95"), D("110")) == D("86.36")
    assert services.graded_score(D("0.01"), D("8")) == D("0.13")  # 0.125 → 0.13


# --- F5: the frame at publishing ------------------------------------------------------------------


def test_publish_grades_on_the_folded_total_when_the_frame_is_not_100(world, year, district):
    evaluation = opened(world, year)
    # collecting, no figure yet: the frame may still change — one more 10-point indicator (110 in all)
    services.fiscal_indicator_add(
        actor=world.perf_admin,
        evaluation=evaluation,
        group="绩效管理",
        name="预算公开完整率",
        unit="%",
        direction="higher",
        max_points="10",
    )
    a, b = sub_of(evaluation, world.shinan_finance_org), sub_of(evaluation, district[0])
    for sub, user, figures in ((a, world.shinan_finance, FIGURES["shinan"]), (b, district[1], FIGURES["shibei"])):
        indicators = list(evaluation.indicators.order_by("sort_order"))
        data = {}
        for indicator, figure in zip(indicators, [*figures, "100"], strict=True):
            key = "text_value" if indicator.direction == "qualitative" else "value"
            data[indicator.pk] = {key: figure}
        scoring.fiscal_values_save(actor=user, submission=sub, data=data)
        scoring.fiscal_submit(actor=user, submission=sub)
    scores = full_scores(a)  # 110
    for indicator in list(evaluation.indicators.order_by("sort_order"))[:3]:
        scores[indicator.pk] = (D("5"), "")  # 95 of 110 → 86.36: 良, not 优
    scoring.fiscal_score(actor=world.perf_admin, submission=a, scores=scores)
    scoring.fiscal_score(actor=world.perf_admin, submission=b, scores=full_scores(b))  # 110 → 100: 优
    from apps.supervision import selectors_fiscal

    provisional = {r.name: r.grade for r in selectors_fiscal.ranking(evaluation).rows}
    assert provisional == {world.shinan_finance_org.name: "good", district[0].name: "excellent"}
    services.fiscal_publish(actor=world.perf_admin, evaluation=evaluation, summary="总体平稳")
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.total, a.grade, a.rank, b.grade, b.rank) == (D("95.00"), "good", 2, "excellent", 1)
    assert "指标分值合计110.00分" in events(evaluation)[-1].comment


def test_the_detail_page_names_the_frame_sum(world, year, district, login):
    evaluation = opened(world, year)
    services.fiscal_indicator_add(
        actor=world.perf_admin,
        evaluation=evaluation,
        group="绩效管理",
        name="新增指标",
        direction="higher",
        max_points="5",
    )
    page = login(world.perf_admin).get(reverse("supervision:fiscal_detail", args=[evaluation.pk])).content.decode()
    assert 'id="frame-total-warning"' in page and "指标分值合计为 105.00 分" in page


# --- #12: the score page after publishing ---------------------------------------------------------


def test_score_page_is_read_only_after_publishing(world, both_submitted, login):
    a, b = both_submitted
    scoring.fiscal_score(actor=world.perf_admin, submission=a, scores=full_scores(a, D("9")))
    scoring.fiscal_score(actor=world.perf_admin, submission=b, scores=full_scores(b, D("8")))
    services.fiscal_publish(actor=world.perf_admin, evaluation=a.evaluation, summary="总体平稳")
    client = login(world.perf_admin)
    url = reverse("supervision:fiscal_score", args=[a.pk])
    page = client.get(url).content.decode()
    assert 'id="score-locked"' in page and "得分不能再修改" in page
    assert 'id="score-save"' not in page and "重新评分理由" not in page
    tax = a.evaluation.indicators.get(name="税收收入占比")
    assert f'name="score_{tax.pk}" value="9.00"' in page and page.count(" disabled ") + page.count(" disabled>") >= 11
    n = AuditEvent.objects.count()
    client.post(url, {f"score_{tax.pk}": "1", "reason": "改分"})
    assert FiscalValue.objects.get(submission=a, indicator=tax).score == D("9.00")
    assert AuditEvent.objects.count() == n


def test_score_page_before_reporting_is_read_only(world, evaluation, login):
    a = sub_of(evaluation, world.shinan_finance_org)
    page = login(world.perf_admin).get(reverse("supervision:fiscal_score", args=[a.pk])).content.decode()
    assert 'id="score-locked"' in page and "报送后方可评分" in page and 'id="score-save"' not in page


# --- history order, overdue badge -----------------------------------------------------------------


def test_history_is_newest_first_and_late_reports_are_marked(world, year, district, login):
    evaluation = opened(world, year)
    a = sub_of(evaluation, world.shinan_finance_org)
    fill(a, world.shinan_finance, FIGURES["shinan"])
    scoring.fiscal_submit(actor=world.shinan_finance, submission=a)
    client = login(world.perf_admin)
    page = client.get(reverse("supervision:fiscal_submission", args=[a.pk])).content.decode()
    history = page.split('id="submission-history"')[1]
    assert history.index("报送财政运行数据") < history.index("保存填报数据")
    page = client.get(reverse("supervision:fiscal_detail", args=[evaluation.pk])).content.decode()
    history = page.split('id="fiscal-history"')[1]
    assert history.index("启动区市填报") < history.index("新建评价")
    assert "逾期" not in page.split('id="submission-table"')[1].split("</table>")[0]
    FiscalEvaluation.objects.filter(pk=evaluation.pk).update(due_on=date(2025, 1, 1))
    page = client.get(reverse("supervision:fiscal_detail", args=[evaluation.pk])).content.decode()
    assert "逾期" in page.split('id="submission-table"')[1].split("</table>")[0]
