"""评价计分规则 page: who reads and who edits, the form's checks, the audit, the re-scoring job
(eager Celery) and its fast path, which must give exactly the score a save stores."""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.core.models import AuditEvent, BackgroundJob
from apps.evaluations import services
from apps.evaluations.models import ScoringRules, SelfEvaluation, SelfEvaluationLine
from apps.evaluations.scale import seed_scale_self_evaluations
from apps.funds.models import SpecialFund
from apps.orgs.models import FiscalYear
from tests.test_targets_flow import approve_all_the_way, filed_target, make_fund

URL = "/evaluations/rules/"
MECHANISM = "资助政策长效机制"  # qualitative, 分值 10
DEFAULT_POST = {
    "weight_execution": "10", "weight_output": "50", "weight_effect": "30", "weight_satisfaction": "10",
    "band_achieved_min": "80", "band_partial_min": "60", "grade_excellent": "90", "grade_good": "80",
    "grade_fair": "60", "cycle_years": "3", "key_min_output_effect": "60",
}  # fmt: skip


# --- shared helpers (the Excel tests use them too) ------------------------------------------------


@pytest.fixture
def year2025(db):
    """The ended year whose self-evaluation runs now."""
    return FiscalYear.objects.get_or_create(year=2025)[0]


def open_round(world, fiscal_year, organization=None, actor=None):
    return services.round_open(
        actor=actor or world.perf_admin,
        organization=organization or world.city_finance,
        fiscal_year=fiscal_year,
        due_on=date(2026, 3, 31),
    )[0]


def fund_2025(world, year2025, code="EDU-2025-001", **kwargs):
    return approve_all_the_way(world, filed_target(world, make_fund(world, year2025, code=code, **kwargs)))


def entries_for(evaluation, **overrides):
    """Every indicator at its target; ``overrides``: indicator name → Entry fields."""
    entries = {}
    for line in evaluation.lines.select_related("indicator"):
        indicator = line.indicator
        if indicator.comparison == "qualitative":
            entry = services.Entry(actual_text="已建立", band="achieved", band_percent="90")
        else:
            entry = services.Entry(actual_value=f"{indicator.target_value.normalize():f}")
        for key, value in overrides.get(indicator.name, {}).items():
            setattr(entry, key, value)
        entries[line.pk] = entry
    return entries


def fill(world, evaluation, executed="2700000", actor=None, **overrides):
    return services.evaluation_save(
        actor=actor or world.edu_unit_filler,
        evaluation=evaluation,
        executed_amount=executed,
        entries=entries_for(evaluation, **overrides),
    )


@pytest.fixture
def scored(world, year2025):
    """A filled-in 2025 self-evaluation of 教育局's unit (executed 90 %, 长效机制 达成 90 %)."""
    fund_2025(world, year2025)
    open_round(world, year2025)
    evaluation = SelfEvaluation.objects.get()
    fill(world, evaluation, 资助学生人数={"actual_value": "600"})
    evaluation.refresh_from_db()
    return evaluation


@pytest.fixture
def year_session(client):
    def choose(c, year=2025):
        session = c.session
        session["fiscal_year"] = year
        session.save()
        return c

    return choose


@pytest.fixture
def signed_in(login, year_session, year2025):
    """``signed_in(user)`` → a client signed in as ``user`` working in 2025."""
    return lambda user: year_session(login(user))


def state():
    """Everything a rules change could touch."""
    return (
        list(ScoringRules.objects.values_list("region_id", "fiscal_year_id", "weight_execution", "band_achieved_min")),
        list(SelfEvaluation.objects.order_by("pk").values_list("pk", "score", "grade")),
        list(SelfEvaluationLine.objects.order_by("pk").values_list("pk", "points")),
        BackgroundJob.objects.count(),
        AuditEvent.objects.filter(content_type__model="scoringrules").count(),
    )


def expected_score(evaluation):
    evaluation = SelfEvaluation.objects.select_related("round__organization").get(pk=evaluation.pk)
    return services.compute(evaluation, services.locked_lines(evaluation))


# --- reading ------------------------------------------------------------------------------------


def test_finance_sees_the_national_defaults_and_the_form(world, signed_in, scored):
    text = signed_in(world.perf_admin).get(URL).content.decode()
    assert "本区域尚未设置本年度规则，使用国家默认值" in text and 'id="rules-form"' in text
    assert "重新计算本区域本年度 1 份已计分的单位自评" in text
    assert 'name="weight_execution"' in text and 'value="10"' in text
    assert 'id="rules-reset"' not in text  # already the defaults


@pytest.mark.parametrize("persona", ["edu_filler", "edu_unit_filler", "npc_liaison", "auditor", "sector_kjw"])
def test_readers_see_the_rules_without_the_form(world, signed_in, persona):
    response = signed_in(getattr(world, persona)).get(URL)
    text = response.content.decode()
    assert response.status_code == 200 and 'id="rules-current"' in text and 'id="rules-form"' not in text
    assert "青岛市" in text  # their own region


@pytest.mark.parametrize("persona", ["expert_li", "sysadmin", "security_admin", "audit_admin"])
def test_roles_without_rounds_get_403(world, signed_in, persona):
    client = signed_in(getattr(world, persona))
    assert client.get(URL).status_code == 403
    assert client.post(URL, DEFAULT_POST | {"weight_execution": "20", "weight_output": "40"}).status_code == 403


# --- saving -------------------------------------------------------------------------------------


def test_saving_creates_the_rules_audits_and_rescores_in_a_job(
    world, signed_in, scored, django_capture_on_commit_callbacks
):
    before = scored.score
    client = signed_in(world.perf_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, DEFAULT_POST | {"weight_execution": "20", "weight_output": "40"})
    job = BackgroundJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("jobs:job_detail", args=[job.pk])
    rules = ScoringRules.objects.get()
    assert (rules.region, rules.fiscal_year_id, rules.updated_by) == (world.city, 2025, world.perf_admin)
    assert (rules.weight_execution, rules.weight_output) == (Decimal("20"), Decimal("40"))
    event = AuditEvent.objects.get(content_type__model="scoringrules")
    assert event.kind == "create" and event.actor == world.perf_admin
    assert event.changes == {
        "weight_execution": {"from": "10", "to": "20"},
        "weight_output": {"from": "50", "to": "40"},
    }
    assert job.status == "done" and job.params == {"region_id": world.city.pk, "fiscal_year_id": 2025,
                                                   "back_url": URL}  # fmt: skip
    assert job.organization == world.perf_division and (job.done, job.total) == (1, 1)
    assert "已按新的计分规则重新计算 1 份单位自评" in job.message
    scored.refresh_from_db()
    result = expected_score(scored)
    # 资助学生人数 600 of 1200 and executed 90 % weigh differently now: the stored score follows.
    assert scored.score == result.total != before and scored.grade == result.grade
    points = {line.pk: line.points for line in scored.lines.all()}
    assert points == {
        item.key: item.points.quantize(Decimal("0.0001")) for item in result.lines if item.key != "execution"
    }
    job_page = client.get(response["Location"]).content.decode()
    assert "已完成" in job_page and 'href="/evaluations/rules/"' in job_page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"weight_execution": "20"}, "weight_execution", "四类权重之和应为 100 分，当前为 110 分"),
        ({"weight_execution": "-5", "weight_output": "65"}, "weight_execution", "“预算执行率权重”不能为负数"),
        ({"weight_output": "五十"}, "weight_output", "“产出指标权重”必须是数字"),
        ({"weight_output": "49.999", "weight_effect": "30.001"}, "weight_output", "最多保留两位小数"),
        ({"band_partial_min": "85"}, "band_partial_min", "“部分达成”下限应小于“达成”下限"),
        ({"band_partial_min": "0"}, "band_partial_min", "“部分达成”下限应大于 0"),
        ({"band_achieved_min": "100"}, "band_achieved_min", "“达成”下限应小于 100"),
        ({"grade_good": "95"}, "grade_good", "“良”的分数线应低于“优”的分数线"),
        ({"grade_fair": "85"}, "grade_fair", "“中”的分数线应低于“良”的分数线"),
        ({"grade_excellent": "101"}, "grade_excellent", "不能超过 100"),
        ({"cycle_years": "0"}, "cycle_years", "重点评价周期至少为 1 年"),
        ({"key_min_output_effect": "101"}, "key_min_output_effect", "不能超过 100"),
        ({"key_min_output_effect": ""}, "key_min_output_effect", "请填写"),
    ],
)
def test_bad_rules_are_refused_in_chinese_and_nothing_changes(world, signed_in, scored, changes, field, message):
    before = state()
    response = signed_in(world.perf_admin).post(URL, DEFAULT_POST | changes)
    text = response.content.decode()
    assert response.status_code == 400 and message in text and f'data-field="{field}"' in text
    assert "规则和得分都没有改动" in text
    assert state() == before


def test_a_band_change_that_existing_ratings_do_not_fit_is_refused(world, signed_in, scored):
    before = state()
    response = signed_in(world.perf_admin).post(URL, DEFAULT_POST | {"band_achieved_min": "95"})
    text = response.content.decode()
    assert response.status_code == 400
    assert (
        "已有 1 条定性指标的得分比例不在新的区间内（例如“家庭经济困难学生资助”的“资助政策长效机制”评定为达成 90%）"
        in text
    )
    assert state() == before


@pytest.mark.parametrize("persona", ["edu_filler", "edu_approver", "npc_liaison", "auditor", "sector_kjw"])
def test_only_finance_may_save_and_nothing_changes(world, signed_in, scored, persona):
    before = state()
    response = signed_in(getattr(world, persona)).post(
        URL, DEFAULT_POST | {"weight_execution": "20", "weight_output": "40"}
    )
    assert response.status_code == 403 and state() == before


def test_another_regions_finance_edits_only_its_own_region(
    world, signed_in, scored, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(world.shinan_finance).post(
            URL, DEFAULT_POST | {"weight_execution": "20", "weight_output": "40"}
        )
    assert response.status_code == 302
    rules = ScoringRules.objects.get()
    assert rules.region == world.shinan and rules.updated_by == world.shinan_finance
    job = BackgroundJob.objects.get()
    assert job.params["region_id"] == world.shinan.pk and job.message.startswith("该区域本年度还没有已计分的单位自评")
    previous = scored.score
    scored.refresh_from_db()
    assert scored.score == previous  # the city's self-evaluation is untouched
    assert signed_in(world.perf_admin).get(reverse("jobs:job_detail", args=[job.pk])).status_code == 404


def test_unchanged_rules_start_nothing(world, signed_in, scored):
    before = state()
    response = signed_in(world.perf_admin).post(URL, DEFAULT_POST | {"weight_execution": "10.00"}, follow=True)
    assert "计分规则没有变化，未做改动。" in response.content.decode() and state() == before


def test_key_evaluation_parameters_alone_do_not_rescore(world, signed_in, scored):
    response = signed_in(world.perf_admin).post(URL, DEFAULT_POST | {"cycle_years": "4"}, follow=True)
    assert "重点评价参数已保存（不影响单位自评得分）" in response.content.decode()
    assert ScoringRules.objects.get().cycle_years == 4 and not BackgroundJob.objects.exists()


def test_restore_the_defaults(world, signed_in, scored, django_capture_on_commit_callbacks):
    client = signed_in(world.perf_admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, DEFAULT_POST | {"weight_execution": "20", "weight_output": "40", "grade_excellent": "95"})
    changed = SelfEvaluation.objects.get().score
    assert 'id="rules-reset"' in client.get(URL).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, {"reset": "1"})
    assert response.status_code == 302 and BackgroundJob.objects.count() == 2
    rules = ScoringRules.objects.get()
    assert (rules.weight_execution, rules.weight_output, rules.grade_excellent) == (10, 50, 90)
    event = AuditEvent.objects.filter(content_type__model="scoringrules").latest("pk")
    assert event.kind == "update" and event.changes["grade_excellent"] == {"from": "95", "to": "90"}
    scored.refresh_from_db()
    assert scored.score == expected_score(scored).total != changed
    assert 'id="rules-reset"' not in client.get(URL).content.decode()


def test_rescoring_keeps_finance_adjustments(world, signed_in, scored, django_capture_on_commit_callbacks):
    SelfEvaluation.objects.filter(pk=scored.pk).update(status="confirmed", adjusted_score=Decimal("70"),
                                                       adjusted_grade="fair")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(world.perf_admin).post(URL, DEFAULT_POST | {"weight_execution": "20", "weight_output": "40"})
    scored.refresh_from_db()
    assert (scored.adjusted_score, scored.adjusted_grade) == (Decimal("70.00"), "fair")
    assert scored.score == expected_score(scored).total


def test_a_rating_the_new_rules_cannot_score_fails_the_job_naming_it(
    world, year2025, django_capture_on_commit_callbacks
):
    fund_2025(world, year2025)
    fund_2025(world, year2025, code="EDU-2025-002", name="校舍维修")
    open_round(world, year2025)
    first, second = SelfEvaluation.objects.order_by("fund__code")
    fill(world, first)
    fill(world, second)
    # A rating that no longer fits its band (as if written before a band change).
    SelfEvaluationLine.objects.filter(evaluation=first, indicator__name=MECHANISM).update(band_percent=Decimal("50"))
    ScoringRules.objects.create(region=world.city, fiscal_year=year2025, weight_execution=20, weight_output=40)
    from apps.core.jobs import job_start
    from apps.evaluations.tasks import rescore_job

    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(actor=world.perf_admin, kind="evaluations.rescore", label="重新计分",
                        params={"region_id": world.city.pk, "fiscal_year_id": 2025}, task=rescore_job)  # fmt: skip
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.message == (
        "任务失败：已按新规则重新计分 1 份；以下 1 份单位自评无法按新规则计分，得分未更新："
        "“家庭经济困难学生资助”：“资助政策长效机制”选择达成时，得分比例应在 [80, 100] 之间"
    )
    second.refresh_from_db()
    assert second.score == expected_score(second).total  # the others were re-scored


# --- the fast re-scoring path against the form's computation, on scale data ----------------------


def test_scale_self_evaluations_and_rescore_agree_with_the_form(world):
    out = StringIO()
    call_command("seed_scale", "--regions", "1", "--departments", "4", "--units", "1", "--indicators", "0",
                 "--funds", "40", stdout=out)  # fmt: skip
    assert "单位自评：" in out.getvalue()
    scale = SelfEvaluation.objects.filter(fund__code__startswith="SC")
    approved = scale.values("target__status").distinct()
    assert scale.exists() and {row["target__status"] for row in approved} == {"approved"}
    assert {e.round.fiscal_year_id for e in scale.select_related("round")} == {2025}
    assert scale.filter(score__isnull=False).count() >= scale.count() * 0.8
    # every stored score is the form's score
    for evaluation in scale.filter(score__isnull=False).select_related("round__organization")[:30]:
        assert evaluation.score == services.compute(evaluation, services.locked_lines(evaluation)).total
    # a second run adds nothing; all_funds adds the funds whose target is not approved
    assert seed_scale_self_evaluations(stdout=StringIO())["created"] is False
    before = scale.count()
    added = seed_scale_self_evaluations(years=(2025,), all_funds=True, stdout=StringIO())
    funds_2025 = SpecialFund.objects.filter(code__startswith="SC", fiscal_year_id=2025).count()
    assert added["evaluations"] == funds_2025 - before > 0 and scale.count() == funds_2025
    region_id = scale.first().round.organization.region_id
    ScoringRules.objects.create(region_id=region_id, fiscal_year_id=2025, weight_execution=Decimal("15"),
                                weight_output=Decimal("45"), grade_excellent=Decimal("88"))  # fmt: skip
    count = services.rescore(region_id, 2025, batch=7)
    assert count == scale.filter(score__isnull=False).count()
    rules = services.rules_for(region_id, 2025)
    for evaluation in scale.filter(score__isnull=False).select_related("round__organization"):
        lines = services.locked_lines(evaluation)
        result = services.compute(evaluation, lines, rules)
        assert (evaluation.score, evaluation.grade) == (result.total, result.grade)
        points = {item.key: item.points for item in result.lines}
        for line in lines:
            assert line.points == points[line.pk].quantize(Decimal("0.0001")), (evaluation.pk, line.pk)
    assert services.rescore(region_id, 2025) == count  # nothing changes the second time
