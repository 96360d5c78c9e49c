"""Funds, the budget gate and the target workflow, through services and pages."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from apps.assessments.models import Conclusion, ExAnteAssessment
from apps.core.models import AuditEvent
from apps.funds import services as fund_services
from apps.funds.models import SpecialFund
from apps.targets import services
from apps.targets.models import PerformanceTarget, TargetIndicator
from apps.targets.models import TargetStatus as S

# Includes the education sector's two 核心约束 indicators, so a target with these rows passes every check.
GOOD_ROWS = [
    {"level1": "output", "level2": "quantity", "name": "资助学生人数", "comparison": "ge", "value": "1200",
     "unit": "人", "weight": "20"},
    {"level1": "output", "level2": "quality", "name": "义务教育巩固率", "comparison": "ge", "value": "99",
     "unit": "%", "weight": "15"},
    {"level1": "output", "level2": "timeliness", "name": "资金发放及时率", "comparison": "ge", "value": "95",
     "unit": "%", "weight": "15"},
    {"level1": "effect", "level2": "social", "name": "家庭经济困难学生资助覆盖率", "comparison": "eq", "value": "100",
     "unit": "%", "weight": "20"},
    {"level1": "effect", "level2": "sustainable", "name": "资助政策长效机制", "comparison": "qualitative",
     "value": "建立并有效运行", "unit": "", "weight": "10"},
    {"level1": "satisfaction", "level2": "service_satisfaction", "name": "受助学生满意度", "comparison": "ge",
     "value": "90", "unit": "%", "weight": "10"},
]  # fmt: skip


def make_fund(world, year, *, org=None, actor=None, amount="3000000", code="EDU-2026-001", name="家庭经济困难学生资助",
              budget_type="general", other_amount="0", **extra):  # fmt: skip
    return fund_services.fund_create(
        actor=actor or world.edu_filler,
        fiscal_year=year,
        organization=org or world.edu_unit,
        code=code,
        name=name,
        budget_type=budget_type,
        sector="education",
        fiscal_amount=Decimal(amount),
        other_amount=Decimal(other_amount),
        period_start=2026,
        period_end=2028,
        **extra,
    )


def filed_target(world, fund, rows=GOOD_ROWS):
    target = services.target_start(actor=world.edu_unit_filler, fund=fund)
    return services.target_save(
        actor=world.edu_unit_filler, target=target, long_term_goal="三年内资助全覆盖", annual_goal="应助尽助", rows=rows
    )


def approve_all_the_way(world, target):
    services.target_send(actor=world.edu_unit_filler, target=target)
    services.target_submit(actor=world.edu_approver, target=target)
    services.target_pass(actor=world.sector_kjw, target=target)
    return services.target_approve(actor=world.perf_admin, target=target)


def test_full_path_from_draft_to_arranged_budget(world, year):
    fund = make_fund(world, year)
    target = filed_target(world, fund)
    assert [r.name for r in target.indicators.all()] == [r["name"] for r in GOOD_ROWS]
    with pytest.raises(ValidationError, match="尚未报送绩效目标"):
        fund_services.fund_submit(actor=world.edu_approver, fund=fund)
    services.target_send(actor=world.edu_unit_filler, target=target)
    services.target_submit(actor=world.edu_approver, target=target)
    fund_services.fund_submit(actor=world.edu_approver, fund=fund)
    with pytest.raises(ValidationError, match="绩效目标尚未批复"):
        fund_services.fund_arrange(actor=world.perf_admin, fund=fund)
    services.target_pass(actor=world.sector_kjw, target=target)
    services.target_approve(actor=world.perf_admin, target=target)
    fund = fund_services.fund_arrange(actor=world.perf_admin, fund=fund, comment="同意")
    assert fund.request_status == SpecialFund.RequestStatus.ARRANGED and fund.arranged_amount == Decimal("3000000")
    assert AuditEvent.objects.for_object(target).filter(kind="transition").count() == 4


def test_large_fund_needs_a_completed_assessment_and_reject_blocks(world, year):
    fund = make_fund(world, year, amount="6000000")
    target = filed_target(world, fund)
    services.target_send(actor=world.edu_unit_filler, target=target)
    services.target_submit(actor=world.edu_approver, target=target)
    with pytest.raises(ValidationError, match="须先完成事前绩效评估"):
        fund_services.fund_submit(actor=world.edu_approver, fund=fund)
    assessment = ExAnteAssessment.objects.create(
        fund=fund, organization=fund.organization, status="completed", conclusion=Conclusion.REJECT
    )
    fund_services.fund_submit(actor=world.edu_approver, fund=fund)
    services.target_pass(actor=world.sector_kjw, target=target)
    services.target_approve(actor=world.perf_admin, target=target)
    with pytest.raises(ValidationError, match="不予支持"):
        fund_services.fund_arrange(actor=world.perf_admin, fund=fund)
    ExAnteAssessment.objects.filter(pk=assessment.pk).update(conclusion=Conclusion.SUPPORT_ADJUSTED)
    fund_services.fund_arrange(actor=world.perf_admin, fund=fund)


def test_new_major_policy_needs_assessment_whatever_the_amount(world, year):
    fund = make_fund(world, year, amount="100000", is_new_major_policy=True)
    target = filed_target(world, fund)
    services.target_send(actor=world.edu_unit_filler, target=target)
    services.target_submit(actor=world.edu_approver, target=target)
    with pytest.raises(ValidationError, match="属于新增重大政策"):
        fund_services.fund_submit(actor=world.edu_approver, fund=fund)


def test_return_with_comments_then_fix_and_resubmit(world, year):
    fund = make_fund(world, year)
    target = filed_target(world, fund)
    services.target_send(actor=world.edu_unit_filler, target=target)
    services.target_submit(actor=world.edu_approver, target=target)
    first = target.indicators.first()
    services.target_return(
        actor=world.sector_kjw, target=target, comment="指标值偏低", indicator_comments={first.pk: "人数应与名单一致"}
    )
    target.refresh_from_db()
    assert target.status == S.RETURNED and target.return_comment == "指标值偏低"
    assert TargetIndicator.objects.get(pk=first.pk).review_comment == "人数应与名单一致"
    rows = [dict(r) for r in GOOD_ROWS]
    rows[0]["value"] = "1500"
    rows = [{**r, "id": row.pk} for r, row in zip(rows, target.indicators.all(), strict=True)]
    services.target_save(
        actor=world.edu_unit_filler, target=target, long_term_goal="", annual_goal="应助尽助", rows=rows
    )
    services.target_submit(actor=world.edu_approver, target=target)
    assert TargetIndicator.objects.get(pk=first.pk).target_value == Decimal("1500")


@pytest.mark.parametrize(
    ("persona", "action"),
    [
        ("edu_unit_filler", services.target_submit),  # a filler cannot submit to finance
        ("edu_filler", services.target_pass),
        ("edu_approver", services.target_approve),  # approving your own department's target
        ("health_filler", services.target_send),
        ("shinan_finance", services.target_pass),
    ],
)
def test_wrong_people_are_refused_and_nothing_changes(world, year, persona, action):
    target = filed_target(world, make_fund(world, year))
    with pytest.raises((PermissionDenied, ValidationError)):
        action(actor=getattr(world, persona), target=target)
    target.refresh_from_db()
    assert target.status == S.DRAFT


def test_sector_reviewer_only_for_assigned_departments(world, year):
    fund = make_fund(world, year, org=world.health_unit, actor=world.health_filler, code="H-1")
    fund_services_target = services.target_start(actor=world.health_filler, fund=fund)
    services.target_save(actor=world.health_filler, target=fund_services_target, long_term_goal="", annual_goal="x",
                         rows=GOOD_ROWS)  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.target_pass(actor=world.sector_kjw, target=fund_services_target)


def test_approved_target_is_immutable_and_adjustment_makes_a_version(world, year):
    target = approve_all_the_way(world, filed_target(world, make_fund(world, year)))
    with pytest.raises(ValidationError, match="已批复的目标请使用“调整”"):
        services.target_save(actor=world.edu_unit_filler, target=target, long_term_goal="", annual_goal="改",
                             rows=GOOD_ROWS)  # fmt: skip
    with pytest.raises(ValidationError, match="调整原因"):
        services.target_adjust(actor=world.edu_unit_filler, target=target, reason=" ")
    v2 = services.target_adjust(actor=world.edu_unit_filler, target=target, reason="预算调减 20%")
    assert (v2.version, v2.previous_id, v2.status) == (2, target.pk, S.DRAFT)
    assert v2.indicators.count() == len(GOOD_ROWS)
    with pytest.raises(ValidationError, match="已有调整中的新版本"):
        services.target_adjust(actor=world.edu_unit_filler, target=target, reason="再调")
    approve_all_the_way(world, v2)
    target.refresh_from_db()
    assert target.status == S.SUPERSEDED
    assert list(PerformanceTarget.objects.filter(fund=target.fund).values_list("version", "status")) in (
        [(1, "superseded"), (2, "approved")],
        [(2, "approved"), (1, "superseded")],
    )


def test_double_submit_from_two_tabs(world, year):
    target = filed_target(world, make_fund(world, year))
    services.target_send(actor=world.edu_unit_filler, target=target)
    services.target_submit(actor=world.edu_approver, target=target)
    with pytest.raises(ValidationError, match="不能执行"):
        services.target_submit(actor=world.edu_approver, target=target)


def test_bad_rows_are_refused_with_row_and_column_and_nothing_saved(world, year):
    target = services.target_start(actor=world.edu_unit_filler, fund=make_fund(world, year))
    rows = [dict(GOOD_ROWS[0], value="一千二"), dict(GOOD_ROWS[1], level2="social"), dict(GOOD_ROWS[2], unit="")]
    with pytest.raises(services.RowsInvalid) as exc:
        services.target_save(actor=world.edu_unit_filler, target=target, long_term_goal="", annual_goal="x", rows=rows)
    messages = [str(e) for e in exc.value.row_errors]
    assert messages == [
        "第 1 行“指标值”：“一千二”不是数字。",
        "第 2 行“二级指标”：“社会效益指标”不属于“产出指标”。",
        "第 3 行“计量单位”：定量指标须填写计量单位。",
    ]
    assert not target.indicators.exists()


def test_pages_render_for_the_people_involved(world, year, login):
    fund = make_fund(world, year)
    target = filed_target(world, fund)
    for persona in ("edu_unit_filler", "edu_approver", "perf_admin", "sector_kjw", "npc_liaison"):
        client = login(getattr(world, persona))
        for url in (
            reverse("funds:fund_list"),
            reverse("funds:fund_detail", args=[fund.pk]),
            reverse("funds:fund_detail", args=[fund.pk]) + "?tab=target",
            reverse("targets:target_list"),
            reverse("targets:target_detail", args=[target.pk]),
        ):
            assert client.get(url).status_code == 200, (persona, url)
    assert login(world.edu_unit_filler).get(reverse("targets:target_edit", args=[target.pk])).status_code == 200
    for persona in ("health_filler", "shinan_edu_filler"):
        client = login(getattr(world, persona))
        assert client.get(reverse("funds:fund_detail", args=[fund.pk])).status_code == 404
        assert client.get(reverse("targets:target_detail", args=[target.pk])).status_code == 404
    assert login(world.sysadmin).get(reverse("funds:fund_list")).status_code == 403


def test_batch_approve_only_what_passes_after_confirmation(world, year, login):
    good = filed_target(world, make_fund(world, year, code="B-1"))
    weak = filed_target(world, make_fund(world, year, code="B-2"), rows=GOOD_ROWS[:3])  # no effect/satisfaction
    for target in (good, weak):
        services.target_send(actor=world.edu_unit_filler, target=target)
        services.target_submit(actor=world.edu_approver, target=target)
        services.target_pass(actor=world.sector_kjw, target=target)
    client = login(world.perf_admin)
    queue = client.get(reverse("targets:review_queue")).content.decode()
    assert "缺少一级指标" in queue
    confirm = client.post(reverse("targets:batch_approve"), {"target": [good.pk, weak.pk]})
    assert "将批复" in confirm.content.decode() and "缺少一级指标" in confirm.content.decode()
    good.refresh_from_db()
    assert good.status == S.PERF_REVIEW  # nothing happens before the confirmation
    client.post(reverse("targets:batch_approve"), {"target": [good.pk, weak.pk], "confirm": "yes"})
    good.refresh_from_db()
    weak.refresh_from_db()
    assert (good.status, weak.status) == (S.APPROVED, S.PERF_REVIEW)
    assert login(world.sector_kjw).post(reverse("targets:batch_approve"), {"target": [weak.pk]}).status_code == 403


def test_live_quality_check_and_edit_page_errors(world, year, login):
    target = services.target_start(actor=world.edu_unit_filler, fund=make_fund(world, year))
    client = login(world.edu_unit_filler)
    post = {"annual_goal": "应助尽助"}
    for name in ("level1", "level2", "name", "comparison", "value", "unit", "weight"):
        post[f"row-{name}"] = [row.get(name if name != "value" else "value", "") for row in GOOD_ROWS[:2]]
    partial = client.post(reverse("targets:target_quality", args=[target.pk]), post).content.decode()
    assert "缺少一级指标：效益指标、满意度指标" in partial and "<html" not in partial
    assert not target.indicators.exists()
    bad = dict(post, **{"row-value": ["abc", "100"]})
    response = client.post(reverse("targets:target_edit", args=[target.pk]), bad)
    assert response.status_code == 400 and "第 1 行“指标值”：“abc”不是数字。" in response.content.decode()
    assert not target.indicators.exists()
    ok = client.post(reverse("targets:target_edit", args=[target.pk]), post)
    assert ok.status_code == 302 and target.indicators.count() == 2


def test_version_compare_shows_changes(world, year, login):
    v1 = approve_all_the_way(world, filed_target(world, make_fund(world, year)))
    v2 = services.target_adjust(actor=world.edu_unit_filler, target=v1, reason="扩大范围")
    rows = [{**r, "id": row.pk} for r, row in zip(GOOD_ROWS, v2.indicators.all(), strict=True)]
    rows[0]["value"] = "1500"
    services.target_save(actor=world.edu_unit_filler, target=v2, long_term_goal="", annual_goal="扩大", rows=rows)
    page = login(world.perf_admin).get(reverse("targets:target_compare", args=[v2.pk]), {"a": 1, "b": 2})
    body = page.content.decode()
    assert "扩大范围" in body and "≥1500人" in body and "修改" in body


def test_department_overall_target_with_tasks(world, year, login):
    client = login(world.edu_approver)
    client.post(reverse("core:fiscal_year_switch"), {"year": year.pk})
    client.post(reverse("targets:department_target_start"))
    target = PerformanceTarget.objects.get(kind="department", organization=world.edu)
    post = {"annual_goal": "推进教育优质均衡发展", "task-name": ["义务教育", ""], "task-amount": ["120000000", ""],
            "task-description": ["保障运转", ""]}  # fmt: skip
    for name in ("level1", "level2", "name", "comparison", "value", "unit", "weight"):
        post[f"row-{name}"] = [row[name] for row in GOOD_ROWS]
    assert client.post(reverse("targets:target_edit", args=[target.pk]), post).status_code == 302
    assert [(t.name, t.amount) for t in target.tasks.all()] == [("义务教育", Decimal("120000000"))]
    assert login(world.health_filler).get(reverse("targets:target_detail", args=[target.pk])).status_code == 404


def fund_post(world, **overrides):
    data = {
        "code": "F-NEW", "name": "新项目", "budget_type": "general", "sector": "education",
        "organization": world.edu_unit.pk, "period_start": 2026, "period_end": 2027, "fiscal_amount_wan": "120.5",
        "other_amount_wan": "0", "transfers-TOTAL_FORMS": "2", "transfers-INITIAL_FORMS": "0",
        "transfers-MIN_NUM_FORMS": "0", "transfers-MAX_NUM_FORMS": "10",
    }  # fmt: skip
    return {**data, **overrides}


def test_fund_form_in_wan_yuan_and_errors_in_chinese(world, year, login):
    client = login(world.edu_filler)
    client.post(reverse("core:fiscal_year_switch"), {"year": year.pk})
    response = client.post(reverse("funds:fund_create"), fund_post(world))
    fund = SpecialFund.objects.get(code="F-NEW")
    assert response.status_code == 302 and fund.fiscal_amount == Decimal("1205000.00")
    again = client.post(reverse("funds:fund_create"), fund_post(world, period_end=2025, fiscal_amount_wan="-1"))
    body = again.content.decode()
    assert again.status_code == 200 and "确保该值大于或等于0" in body
    dup = client.post(reverse("funds:fund_create"), fund_post(world))
    assert "项目编码“F-NEW”在市本级2026年度已被使用" in dup.content.decode()
    transfer = client.post(
        reverse("funds:fund_create"),
        fund_post(world, code="F-T", **{"transfers-0-region": world.shinan.pk, "transfers-0-amount_wan": "10"}),
    )
    assert "未勾选“转移支付”" in transfer.content.decode()
    assert SpecialFund.objects.count() == 1


@pytest.mark.parametrize("persona", ["health_filler", "shinan_edu_filler"])
def test_other_departments_cannot_edit_or_submit_a_fund(world, year, login, persona):
    fund = make_fund(world, year)
    client = login(getattr(world, persona))
    assert client.get(reverse("funds:fund_edit", args=[fund.pk])).status_code == 404
    assert client.post(reverse("funds:fund_edit", args=[fund.pk]), fund_post(world, name="改名")).status_code == 404
    assert client.post(reverse("funds:fund_transition", args=[fund.pk, "submit"])).status_code == 404
    fund.refresh_from_db()
    assert (fund.name, fund.request_status) == ("家庭经济困难学生资助", "draft")


@pytest.mark.parametrize(
    ("persona", "action"),
    [("edu_filler", "submit"), ("sector_kjw", "arrange"), ("npc_liaison", "arrange"), ("edu_approver", "arrange")],
)
def test_wrong_roles_cannot_take_fund_decisions(world, year, login, persona, action):
    fund = make_fund(world, year)
    response = login(getattr(world, persona)).post(reverse("funds:fund_transition", args=[fund.pk, action]))
    assert response.status_code == 403
    fund.refresh_from_db()
    assert fund.request_status == "draft"


def test_submitted_fund_can_no_longer_be_edited(world, year, login):
    fund = make_fund(world, year)
    target = filed_target(world, fund)
    services.target_send(actor=world.edu_unit_filler, target=target)
    services.target_submit(actor=world.edu_approver, target=target)
    fund_services.fund_submit(actor=world.edu_approver, fund=fund)
    with pytest.raises(ValidationError, match="已申报，不能再修改"):
        fund_services.fund_update(actor=world.edu_filler, fund=fund, name="改名")
    page = login(world.perf_admin).get(reverse("funds:fund_detail", args=[fund.pk])).content.decode()
    assert "暂不能安排" in page and "绩效目标尚未批复" in page


def test_fund_list_filters_and_constant_queries(world, year, login):
    client = login(world.perf_admin)
    client.post(reverse("core:fiscal_year_switch"), {"year": year.pk})
    counter = iter(range(100))

    def grow():
        for _ in range(3):
            approve_all_the_way(world, filed_target(world, make_fund(world, year, code=f"L-{next(counter)}")))

    grow()
    make_fund(world, year, code="NOTARGET", name="无目标项目")
    page = client.get(reverse("funds:fund_list"), {"has_approved_target": "no"}).content.decode()
    assert "NOTARGET" in page and "L-0" not in page
    from tests.querycount import assert_constant_queries

    assert_constant_queries(lambda: client.get(reverse("funds:fund_list")), grow, 12)

    def grow_queue():
        for _ in range(3):
            target = filed_target(world, make_fund(world, year, code=f"L-{next(counter)}"))
            services.target_send(actor=world.edu_unit_filler, target=target)
            services.target_submit(actor=world.edu_approver, target=target)
            services.target_pass(actor=world.sector_kjw, target=target)

    grow_queue()
    assert_constant_queries(lambda: client.get(reverse("targets:review_queue")), grow_queue, 12)


def test_social_insurance_fund_needs_no_target_but_other_types_do(world, year):
    pilot = make_fund(world, year, code="SI-1", budget_type="social_insurance")
    fund_services.fund_submit(actor=world.edu_approver, fund=pilot)
    fund_services.fund_arrange(actor=world.perf_admin, fund=pilot)
    for budget_type in ("general", "government_fund", "state_capital"):
        fund = make_fund(world, year, code=f"T-{budget_type}", budget_type=budget_type)
        with pytest.raises(ValidationError, match="尚未报送绩效目标"):
            fund_services.fund_submit(actor=world.edu_approver, fund=fund)


def test_assessment_threshold_is_configurable_per_region(world, year):
    from apps.funds.models import GateSettings

    GateSettings.objects.create(region=world.city, assessment_threshold=Decimal("1000000"))
    fund = make_fund(world, year, amount="2000000")
    target = filed_target(world, fund)
    services.target_send(actor=world.edu_unit_filler, target=target)
    services.target_submit(actor=world.edu_approver, target=target)
    with pytest.raises(ValidationError, match="100.00 万元的事前评估门槛"):
        fund_services.fund_submit(actor=world.edu_approver, fund=fund)


def test_rows_may_link_only_to_library_indicators(world, year):
    from apps.indicators.models import LibraryIndicator

    target = services.target_start(actor=world.edu_unit_filler, fund=make_fund(world, year))
    proposal = LibraryIndicator.objects.create(
        code="P-X", name="卫健委建议的指标", level1="output", level2="quantity", sector="health", comparison="ge",
        unit="个", status=LibraryIndicator.Status.PROPOSED, organization=world.health,
    )  # fmt: skip
    for bad in (proposal.pk, 99999999):
        rows = [dict(GOOD_ROWS[0], library_indicator_id=bad), *GOOD_ROWS[1:]]
        with pytest.raises(services.RowsInvalid, match="所选库指标不存在"):
            services.target_save(actor=world.edu_unit_filler, target=target, long_term_goal="", annual_goal="x",
                                 rows=rows)  # fmt: skip
    assert not target.indicators.exists()
    core = LibraryIndicator.objects.get(name="义务教育巩固率", organization__isnull=True)
    renamed = [dict(GOOD_ROWS[0], name="随便写的指标", library_indicator_id=core.pk), *GOOD_ROWS[2:]]
    services.target_save(actor=world.edu_unit_filler, target=target, long_term_goal="", annual_goal="x", rows=renamed)
    assert (
        target.indicators.get(name="随便写的指标").library_indicator_id is None
    )  # a renamed row is not the library one
    issues = {i.code for i in services.selectors.quality_for([target])[target.pk]}
    assert "missing_core" in issues  # the link could not stand in for the core indicator


def test_fund_is_frozen_once_its_target_went_to_review(world, year):
    fund = make_fund(world, year)
    target = filed_target(world, fund)
    fund_services.fund_update(actor=world.edu_filler, fund=fund, name="草稿阶段可以改名")
    services.target_send(actor=world.edu_unit_filler, target=target)
    with pytest.raises(ValidationError, match="绩效目标已报送或已批复"):
        fund_services.fund_update(actor=world.edu_filler, fund=fund, fiscal_amount=Decimal("90000000"))
    fund_services.fund_update(actor=world.edu_filler, fund=fund, description="说明可以补充")
    fund.refresh_from_db()
    assert fund.fiscal_amount == Decimal("3000000") and fund.description == "说明可以补充"


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-inf"])
def test_not_a_number_is_refused_not_a_500(world, year, bad):
    target = services.target_start(actor=world.edu_unit_filler, fund=make_fund(world, year))
    with pytest.raises(services.RowsInvalid, match="不是数字"):
        services.target_save(actor=world.edu_unit_filler, target=target, long_term_goal="", annual_goal="x",
                             rows=[dict(GOOD_ROWS[0], weight=bad)])  # fmt: skip
    with pytest.raises(ValidationError, match="不属于该绩效目标"):
        services.target_return(actor=world.perf_admin, target=target, comment="x", indicator_comments={"abc": "y"})
