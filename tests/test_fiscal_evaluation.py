"""区市财政运行综合绩效评价, the services: the frame, opening, the districts' figures and 报送, the
city's return, scores and publication — every refusal leaves the data as it was."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.accounts.roles import Role
from apps.core.models import AuditEvent
from apps.orgs.models import Organization
from apps.supervision import services_fiscal as services
from apps.supervision import services_fiscal_scoring as scoring
from apps.supervision.models import FiscalEvaluation, FiscalIndicator, FiscalSubmission, FiscalValue
from tests.factories import OrganizationFactory, UserFactory, region

S = FiscalSubmission.Status
E = FiscalEvaluation.Status


def add_district(world, code="370203", name="市北区", username="shibei_finance"):
    """A second district finance office (the test world has only 市南区) with its user."""
    org = OrganizationFactory(
        code=f"T-{code}-CZ", name=f"{name}财政局", kind=Organization.Kind.FINANCE, region=region(code)
    )
    user = UserFactory(username=username, organization=org, roles=[Role.DISTRICT_FINANCE])
    return org, user


def new_evaluation(world, year, **kw) -> FiscalEvaluation:
    return services.fiscal_evaluation_create(
        actor=world.perf_admin, fiscal_year=year, title=kw.pop("title", "2026年度区市财政运行综合绩效评价"), **kw
    )


def opened(world, year) -> FiscalEvaluation:
    evaluation = new_evaluation(world, year)
    return services.fiscal_evaluation_open(actor=world.perf_admin, evaluation=evaluation, today=date(2026, 1, 1))


# figures per indicator sort order (1…10) for two districts; the 10th is qualitative
FIGURES = {
    "shinan": ["80", "6.5", "78", "5", "98", "6", "90", "100", "100", "评价结果与预算安排挂钩。"],
    "shibei": ["70", "3", "75", "3", "95", "12", "120", "85", "95", "已建立结果应用机制。"],
}


def fill(submission, user, figures):
    indicators = list(submission.evaluation.indicators.order_by("sort_order"))
    data = {}
    for indicator, figure in zip(indicators, figures, strict=True):
        key = "text_value" if indicator.direction == "qualitative" else "value"
        data[indicator.pk] = {key: figure, "note": "2025年决算数据"}
    scoring.fiscal_values_save(actor=user, submission=submission, data=data)


def full_scores(submission, points=None):
    return {i.pk: (points if points is not None else i.max_points, "") for i in submission.evaluation.indicators.all()}


@pytest.fixture
def district(world):
    return add_district(world)


@pytest.fixture
def evaluation(world, year, district):
    return opened(world, year)


def sub_of(evaluation, org) -> FiscalSubmission:
    return FiscalSubmission.objects.get(evaluation=evaluation, organization=org)


# --- the frame -------------------------------------------------------------------------------


def test_create_gives_the_default_frame_of_100_points(world, year):
    evaluation = new_evaluation(world, year)
    assert evaluation.organization == world.city_finance and evaluation.region == world.city
    indicators = list(evaluation.indicators.order_by("sort_order"))
    assert len(indicators) == 10
    assert sum(i.max_points for i in indicators) == D("100")
    assert [i.group for i in indicators][::2] == ["收入质量", "支出结构", "预算执行", "债务风险", "绩效管理"]
    directions = {i.name: i.direction for i in indicators}
    assert directions["债务率"] == "lower" and directions["结转结余资金占比"] == "lower"
    assert directions["评价结果应用情况"] == "qualitative"
    assert AuditEvent.objects.for_object(evaluation).count() == 1


def test_one_evaluation_per_year_names_the_field(world, year):
    new_evaluation(world, year)
    with pytest.raises(ValidationError) as exc:
        new_evaluation(world, year, title="重复")
    assert "评价年度" in str(exc.value.message_dict["fiscal_year"])
    assert FiscalEvaluation.objects.count() == 1


@pytest.mark.parametrize("persona", ["shinan_finance", "edu_approver", "finance_leader", "auditor", "sector_kjw"])
def test_only_city_performance_division_creates(world, year, persona):
    with pytest.raises(PermissionDenied):
        services.fiscal_evaluation_create(actor=getattr(world, persona), fiscal_year=year, title="x")
    assert not FiscalEvaluation.objects.exists()


def test_blank_title_is_refused_by_field(world, year):
    with pytest.raises(ValidationError) as exc:
        new_evaluation(world, year, title=" ")
    assert exc.value.message_dict["title"] == ["请填写评价名称。"]
    assert not FiscalEvaluation.objects.exists()


def test_frame_edits_while_draft_and_bad_points_refused(world, year):
    evaluation = new_evaluation(world, year)
    with pytest.raises(ValidationError) as exc:
        services.fiscal_indicator_add(
            actor=world.perf_admin,
            evaluation=evaluation,
            group="收入质量",
            name="非税收入占比",
            direction="lower",
            max_points="abc",
        )
    assert exc.value.message_dict["max_points"] == ["分值应为数字。"]
    assert evaluation.indicators.count() == 10
    added = services.fiscal_indicator_add(
        actor=world.perf_admin,
        evaluation=evaluation,
        group="收入质量",
        name="非税收入占比",
        unit="%",
        direction="lower",
        max_points="5",
    )
    # the frame now sums to 105: opening is refused until it is 100 again
    with pytest.raises(ValidationError) as exc:
        services.fiscal_evaluation_open(actor=world.perf_admin, evaluation=evaluation, today=date(2026, 1, 1))
    assert "指标分值合计应为100分（当前为105.00分）" in str(exc.value)
    evaluation.refresh_from_db()
    assert evaluation.status == E.DRAFT and not evaluation.submissions.exists()
    tax = evaluation.indicators.get(name="税收收入占比")
    services.fiscal_indicator_update(actor=world.perf_admin, indicator=tax, max_points="5")
    tax.refresh_from_db()
    assert tax.max_points == D("5")
    with pytest.raises(PermissionDenied):
        services.fiscal_indicator_delete(actor=world.shinan_finance, indicator=added)
    services.fiscal_indicator_delete(actor=world.perf_admin, indicator=added)
    assert evaluation.indicators.count() == 10


def test_open_creates_one_submission_per_district_with_empty_values(world, year, district):
    evaluation = opened(world, year)
    assert evaluation.status == E.COLLECTING
    orgs = set(evaluation.submissions.values_list("organization", flat=True))
    assert orgs == {world.shinan_finance_org.pk, district[0].pk}  # never the city bureau
    assert FiscalValue.objects.filter(submission__evaluation=evaluation).count() == 20
    sub = sub_of(evaluation, district[0])
    assert sub.region.code == "370203" and sub.status == S.DRAFT
    with pytest.raises(ValidationError):
        services.fiscal_evaluation_open(actor=world.perf_admin, evaluation=evaluation)
    assert evaluation.submissions.count() == 2


def test_frame_locked_once_a_district_entered_a_figure(world, evaluation):
    tax = evaluation.indicators.get(name="税收收入占比")
    # nothing entered yet: a new indicator gets an empty row in every submission
    extra = services.fiscal_indicator_add(
        actor=world.perf_admin,
        evaluation=evaluation,
        group="绩效管理",
        name="绩效自评覆盖率",
        unit="%",
        direction="higher",
        max_points="1",
    )
    assert extra.values.count() == 2
    services.fiscal_indicator_delete(actor=world.perf_admin, indicator=extra)
    scoring.fiscal_values_save(
        actor=world.shinan_finance,
        submission=sub_of(evaluation, world.shinan_finance_org),
        data={tax.pk: {"value": "80"}},
    )
    with pytest.raises(ValidationError) as exc:
        services.fiscal_indicator_update(actor=world.perf_admin, indicator=tax, max_points="20")
    assert "指标体系不能再修改" in str(exc.value)
    tax.refresh_from_db()
    assert tax.max_points == D("10")


# --- the district's figures --------------------------------------------------------------------


def test_district_saves_figures_a_wrong_number_saves_nothing(world, evaluation):
    sub = sub_of(evaluation, world.shinan_finance_org)
    tax = evaluation.indicators.get(name="税收收入占比")
    growth = evaluation.indicators.get(name="一般公共预算收入增幅")
    with pytest.raises(ValidationError) as exc:
        scoring.fiscal_values_save(
            actor=world.shinan_finance, submission=sub, data={tax.pk: {"value": "80"}, growth.pk: {"value": "八十"}}
        )
    assert exc.value.message_dict[f"value_{growth.pk}"] == ["“一般公共预算收入增幅”应填写数字（%）。"]
    assert not FiscalValue.objects.filter(submission=sub, value__isnull=False).exists()
    with pytest.raises(ValidationError) as exc:
        scoring.fiscal_values_save(actor=world.shinan_finance, submission=sub, data={tax.pk: {"value": "5000"}})
    assert "应在 -100% 至 1000% 之间" in str(exc.value)
    scoring.fiscal_values_save(
        actor=world.shinan_finance,
        submission=sub,
        data={tax.pk: {"value": "80.5%", "note": "决算"}, growth.pk: {"value": "-2.5"}},
    )
    assert FiscalValue.objects.get(submission=sub, indicator=tax).value == D("80.5")
    assert FiscalValue.objects.get(submission=sub, indicator=growth).value == D("-2.5")


def test_another_district_or_the_city_cannot_fill(world, evaluation, district):
    sub = sub_of(evaluation, world.shinan_finance_org)
    tax = evaluation.indicators.get(name="税收收入占比")
    for actor in (district[1], world.perf_admin, world.shinan_edu_filler):
        with pytest.raises(PermissionDenied):
            scoring.fiscal_values_save(actor=actor, submission=sub, data={tax.pk: {"value": "1"}})
        with pytest.raises(PermissionDenied):
            scoring.fiscal_submit(actor=actor, submission=sub)
    assert not FiscalValue.objects.filter(submission=sub, value__isnull=False).exists()
    assert FiscalSubmission.objects.get(pk=sub.pk).status == S.DRAFT


def test_submit_lists_the_missing_indicators_then_works(world, evaluation):
    sub = sub_of(evaluation, world.shinan_finance_org)
    figures = list(FIGURES["shinan"])
    figures[6], figures[9] = "", ""  # 债务率 and the qualitative one left empty
    fill(sub, world.shinan_finance, figures)
    with pytest.raises(ValidationError) as exc:
        scoring.fiscal_submit(actor=world.shinan_finance, submission=sub)
    assert exc.value.messages == ["以下指标尚未填写：债务率、评价结果应用情况。"]
    assert FiscalSubmission.objects.get(pk=sub.pk).status == S.DRAFT
    fill(sub, world.shinan_finance, FIGURES["shinan"])
    scoring.fiscal_submit(actor=world.shinan_finance, submission=sub)
    sub.refresh_from_db()
    assert sub.status == S.SUBMITTED and sub.submitted_by == world.shinan_finance
    event = AuditEvent.objects.for_object(sub).filter(kind="transition").get()
    assert event.changes == {"status": {"from": "draft", "to": "submitted"}}
    # submitted data is frozen for the district
    with pytest.raises(ValidationError):
        fill(sub, world.shinan_finance, FIGURES["shibei"])
    assert FiscalValue.objects.get(submission=sub, indicator__sort_order=1).value == D("80")


# --- the city's review -----------------------------------------------------------------------


@pytest.fixture
def both_submitted(world, evaluation, district):
    a, b = sub_of(evaluation, world.shinan_finance_org), sub_of(evaluation, district[0])
    fill(a, world.shinan_finance, FIGURES["shinan"])
    fill(b, district[1], FIGURES["shibei"])
    scoring.fiscal_submit(actor=world.shinan_finance, submission=a)
    scoring.fiscal_submit(actor=district[1], submission=b)
    return a, b


def test_return_needs_a_comment_and_the_district_resubmits(world, both_submitted):
    a, _ = both_submitted
    with pytest.raises(ValidationError) as exc:
        scoring.fiscal_return(actor=world.perf_admin, submission=a, comment="")
    assert exc.value.message_dict == {"return_comment": ["请填写退回意见。"]}
    with pytest.raises(PermissionDenied):
        scoring.fiscal_return(actor=world.shinan_finance, submission=a, comment="自己退回")
    assert FiscalSubmission.objects.get(pk=a.pk).status == S.SUBMITTED
    scoring.fiscal_return(actor=world.perf_admin, submission=a, comment="债务率口径有误，请按综合财力重算。")
    a.refresh_from_db()
    assert a.status == S.RETURNED
    fill(a, world.shinan_finance, [*FIGURES["shinan"][:6], "88", *FIGURES["shinan"][7:]])
    scoring.fiscal_submit(actor=world.shinan_finance, submission=a)
    assert FiscalSubmission.objects.get(pk=a.pk).status == S.SUBMITTED


def test_score_checks_every_indicator_and_the_range(world, both_submitted):
    a, _ = both_submitted
    scores = full_scores(a)
    tax = a.evaluation.indicators.get(name="税收收入占比")
    scores[tax.pk] = ("11", "")
    with pytest.raises(ValidationError) as exc:
        scoring.fiscal_score(actor=world.perf_admin, submission=a, scores=scores)
    assert exc.value.message_dict[f"score_{tax.pk}"] == ["“税收收入占比”的得分应在 0 至 10.00 分之间。"]
    del scores[tax.pk]
    with pytest.raises(ValidationError) as exc:
        scoring.fiscal_score(actor=world.perf_admin, submission=a, scores=scores)
    assert exc.value.message_dict[f"score_{tax.pk}"] == ["请为“税收收入占比”评分。"]
    with pytest.raises(PermissionDenied):
        scoring.fiscal_score(actor=world.shinan_finance, submission=a, scores=full_scores(a))
    a.refresh_from_db()
    assert a.status == S.SUBMITTED and a.total is None
    assert not FiscalValue.objects.filter(submission=a, score__isnull=False).exists()
    assert FiscalEvaluation.objects.get(pk=a.evaluation_id).status == E.COLLECTING


def test_score_then_publish_ranks_and_grades(world, both_submitted):
    a, b = both_submitted
    evaluation = a.evaluation
    with pytest.raises(ValidationError):  # nothing scored yet: still collecting
        services.fiscal_publish(actor=world.perf_admin, evaluation=evaluation, summary="总体良好")
    scoring.fiscal_score(actor=world.perf_admin, submission=a, scores=full_scores(a, D("9")), comment="收支结构合理")
    a.refresh_from_db()
    assert a.status == S.SCORED and a.total == D("90.00")
    assert FiscalEvaluation.objects.get(pk=evaluation.pk).status == E.SCORING
    with pytest.raises(ValidationError) as exc:
        services.fiscal_publish(actor=world.perf_admin, evaluation=evaluation, summary="总体良好")
    assert "以下区市尚未评分：市北区财政局" in str(exc.value)
    scoring.fiscal_score(actor=world.perf_admin, submission=b, scores=full_scores(b, D("7.5")))
    with pytest.raises(ValidationError) as exc:
        services.fiscal_publish(actor=world.perf_admin, evaluation=evaluation, summary="")
    assert exc.value.message_dict == {"summary": ["请填写总体评价意见。"]}
    with pytest.raises(PermissionDenied):
        services.fiscal_publish(actor=world.finance_leader, evaluation=evaluation, summary="x")
    assert FiscalEvaluation.objects.get(pk=evaluation.pk).status == E.SCORING
    services.fiscal_publish(actor=world.perf_admin, evaluation=evaluation, summary="全市财政运行总体平稳。")
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.rank, a.grade, b.rank, b.grade) == (1, "excellent", 2, "fair")
    evaluation.refresh_from_db()
    assert evaluation.status == E.PUBLISHED and evaluation.published_by == world.perf_admin
    # published: no more scores, returns or figures
    with pytest.raises(ValidationError):
        scoring.fiscal_score(actor=world.perf_admin, submission=b, scores=full_scores(b))
    assert FiscalSubmission.objects.get(pk=b.pk).total == D("75.00")


def test_equal_totals_share_a_rank(world, both_submitted):
    a, b = both_submitted
    scoring.fiscal_score(actor=world.perf_admin, submission=a, scores=full_scores(a, D("8")))
    scoring.fiscal_score(actor=world.perf_admin, submission=b, scores=full_scores(b, D("8")))
    services.fiscal_publish(actor=world.perf_admin, evaluation=a.evaluation, summary="持平")
    assert set(FiscalSubmission.objects.values_list("rank", flat=True)) == {1}


def test_suggested_scores_follow_the_direction():
    ind = FiscalIndicator(name="x", direction="higher", max_points=D("10"))
    assert scoring.suggest(ind, D("40"), [D("80"), D("40")]) == D("5.00")
    assert scoring.suggest(ind, D("80"), [D("80"), D("40")]) == D("10.00")
    low = FiscalIndicator(name="债务率", direction="lower", max_points=D("10"))
    assert scoring.suggest(low, D("120"), [D("90"), D("120")]) == D("7.50")
    assert scoring.suggest(low, D("90"), [D("90"), D("120")]) == D("10.00")
    assert scoring.suggest(FiscalIndicator(direction="qualitative", max_points=D("10")), None, []) is None
