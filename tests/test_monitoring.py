"""双监控 so far: round opening, the report rules, the warning rules and the report workflow."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.monitoring import rules, services
from apps.monitoring.models import IndicatorProgress, MonitoringReport
from tests.test_targets_flow import approve_all_the_way, filed_target, make_fund


def open_round(world, year, actor=None):
    return services.round_open(
        actor=actor or world.perf_admin,
        organization=world.city_finance,
        fiscal_year=year,
        data_as_of=date(2026, 7, 31),
        due_on=date(2026, 8, 15),
    )


def test_opening_twice_creates_nothing_new_and_later_approvals_are_added(world, year, approved):
    round_, made = open_round(world, year)
    assert made == 1 and round_.name == "2026年绩效运行监控（数据截至7月31日）"
    report = MonitoringReport.objects.get()
    assert report.target == approved and report.budget_amount == Decimal("3000000.00")
    assert report.progress.count() == approved.indicators.count()
    assert open_round(world, year) == (round_, 0)
    filed_target(world, make_fund(world, year, code="LATE"))  # not approved: no task
    assert open_round(world, year)[1] == 0
    approve_all_the_way(world, filed_target(world, make_fund(world, year, code="LATE-2")))
    assert open_round(world, year)[1] == 1
    assert MonitoringReport.objects.count() == 2


@pytest.mark.parametrize("persona", ["sector_kjw", "edu_approver", "shinan_finance", "sysadmin"])
def test_only_the_regions_finance_opens_rounds(world, year, persona):
    with pytest.raises(PermissionDenied):
        open_round(world, year, actor=getattr(world, persona))
    assert not MonitoringReport.objects.exists()


def fill(world, report, **row_overrides):
    rows = {}
    for row in report.progress.select_related("indicator"):
        quantitative = row.indicator.comparison != "qualitative"
        rows[row.pk] = {
            "likelihood": "certain",
            "progress_value": "1" if quantitative else "",
            "expected_value": str(row.indicator.target_value) if quantitative else "",
            "progress_text": "" if quantitative else "按计划推进",
        }
    first = report.progress.select_related("indicator").order_by("indicator__sort_order").first()
    rows[first.pk].update(row_overrides)
    return services.report_save(actor=world.edu_unit_filler, report=report, executed_amount="1200000", progress=rows)


def test_cause_and_measure_required_when_the_target_will_be_missed(world, year, approved):
    open_round(world, year)
    report = MonitoringReport.objects.get()
    with pytest.raises(ValidationError) as exc:
        fill(world, report, expected_value="1000", likelihood="possible")  # target ≥1200
    first = approved.indicators.order_by("sort_order").first().name
    assert exc.value.messages == [
        f"指标“{first}”：预计难以完成目标，请选择偏差原因。",
        f"指标“{first}”：预计难以完成目标，请填写纠偏措施。",
    ]
    assert not IndicatorProgress.objects.exclude(likelihood="").exists()  # nothing saved
    fill(world, report, expected_value="1000", likelihood="possible", deviation_cause="funding",
         corrective_measure="追加资金")  # fmt: skip
    services.report_transition(actor=world.edu_unit_filler, report=report, name="send")
    services.report_transition(actor=world.edu_approver, report=report, name="submit")
    with pytest.raises(ValidationError, match="必须填写意见"):
        services.report_transition(actor=world.perf_admin, report=report, name="return")
    services.report_transition(actor=world.perf_admin, report=report, name="receive")
    report.refresh_from_db()
    assert report.status == "received" and report.submitted_at is not None


def test_incomplete_report_cannot_leave_the_unit(world, year, approved):
    open_round(world, year)
    report = MonitoringReport.objects.get()
    with pytest.raises(ValidationError, match="尚未填写：已执行金额"):
        services.report_transition(actor=world.edu_unit_filler, report=report, name="send")


def test_other_units_cannot_fill(world, year, approved):
    open_round(world, year)
    report = MonitoringReport.objects.get()
    for persona in ("health_filler", "shinan_edu_filler", "perf_admin"):
        with pytest.raises(PermissionDenied):
            services.report_save(actor=getattr(world, persona), report=report, executed_amount="1", progress={})


# --- the rules at their boundaries ------------------------------------------------------------


def test_elapsed_share_and_execution_rate():
    assert rules.elapsed_share(date(2026, 7, 31), 2026) == Decimal("58.08")  # 212 of 365 days
    assert rules.elapsed_share(date(2026, 12, 31), 2026) == Decimal("100.00")
    assert rules.elapsed_share(date(2025, 12, 31), 2026) == Decimal("0.00")
    assert rules.execution_rate(Decimal("1"), Decimal("3")) == Decimal("33.33")
    assert rules.execution_rate(Decimal("1"), Decimal("0")) is None


@pytest.mark.parametrize(
    ("rate", "behind"),
    [("43.07", True), ("43.08", False), ("60", False)],  # 58.08 − 15 = 43.08: exactly at the limit is not behind
)
def test_behind_schedule_boundary(rate, behind):
    assert rules.behind_schedule(Decimal(rate), date(2026, 7, 31), 2026, Decimal("15")) is behind


@pytest.mark.parametrize(
    ("comparison", "target", "expected", "misses"),
    [
        ("ge", "100", "99.99", True), ("ge", "100", "100", False),
        ("le", "5", "5", False), ("le", "5", "5.01", True),
        ("eq", "100", "100", False), ("eq", "100", "99", True),
        ("qualitative", None, None, False),
    ],
)  # fmt: skip
def test_misses_target(comparison, target, expected, misses):
    to_dec = lambda v: None if v is None else Decimal(v)  # noqa: E731
    assert rules.misses_target(comparison, to_dec(target), to_dec(expected)) is misses


def test_report_warnings_sorted_by_severity():
    warnings = rules.report_warnings(
        rate=Decimal("20"),
        as_of=date(2026, 7, 31),
        year=2026,
        tolerance=Decimal("15"),
        indicators=[("A", "ge", Decimal("10"), Decimal("9"), "possible"), ("B", "ge", None, None, "impossible")],
        submitted=False,
        due_on=date(2026, 8, 15),
        today=date(2026, 8, 16),
    )
    assert [w.kind for w in warnings] == ["behind_schedule", "indicator_impossible", "indicator_at_risk", "overdue"]


# --- pages -------------------------------------------------------------------------------------

from django.urls import reverse  # noqa: E402


def form_for(report, **first):
    """A complete POST of the report form: every indicator on track, ``first`` overriding row 1."""
    data = {"executed_wan": "120", "execution_note": "按计划执行"}
    for i, row in enumerate(report.progress.select_related("indicator").order_by("indicator__sort_order")):
        prefix = f"p{row.pk}-"
        quantitative = row.indicator.comparison != "qualitative"
        values = {
            "likelihood": "certain",
            "progress_value": "1" if quantitative else "",
            "expected_value": f"{row.indicator.target_value.normalize():f}" if quantitative else "",
            "progress_text": "" if quantitative else "推进中",
        }
        if i == 0:
            values.update(first)
        data.update({prefix + k: v for k, v in values.items()})
    return data


def test_monitoring_pages_end_to_end(world, year, approved, login):
    finance = login(world.perf_admin)
    finance.post(reverse("core:fiscal_year_switch"), {"year": year.pk})
    opened = finance.post(
        reverse("monitoring:round_list"), {"data_as_of": "2026-07-31", "due_on": "2026-08-15", "tolerance_points": "15"}
    )
    assert opened.status_code == 302
    report = MonitoringReport.objects.get()
    unit = login(world.edu_unit_filler)
    bad = unit.post(reverse("monitoring:report_edit", args=[report.pk]), form_for(report, expected_value="1000",
                                                                                 likelihood="possible"))  # fmt: skip
    assert bad.status_code == 400 and "预计难以完成目标，请选择偏差原因" in bad.content.decode()
    good = form_for(report, expected_value="1000", likelihood="possible", deviation_cause="funding",
                    corrective_measure="申请追加资金") | {"then": "send"}  # fmt: skip
    assert unit.post(reverse("monitoring:report_edit", args=[report.pk]), good).status_code == 302
    report.refresh_from_db()
    assert report.status == "dept_review" and report.executed_amount == Decimal("1200000.00")
    login(world.edu_approver).post(reverse("monitoring:report_transition", args=[report.pk, "submit"]))
    finance = login(world.perf_admin)
    warnings = finance.get(reverse("monitoring:warning_list")).content.decode()
    assert "预计难以完成目标值" in warnings and "execution-chart" in warnings
    finance.post(reverse("monitoring:key_list"), {"fund": [report.fund_id]})
    from apps.monitoring.models import KeyMonitoring

    key = KeyMonitoring.objects.get()
    finance.post(reverse("monitoring:key_measure", args=[key.pk]), {"measure": "suspend", "reason": "指标严重滞后"})
    fund_page = login(world.edu_approver).get(reverse("funds:fund_detail", args=[report.fund_id])).content.decode()
    assert "暂缓拨款" in fund_page


def test_monitoring_pages_are_scoped(world, year, approved, login):
    open_round(world, year)
    report = MonitoringReport.objects.get()
    for persona in ("health_filler", "shinan_edu_filler", "shinan_finance"):
        client = login(getattr(world, persona))
        assert client.get(reverse("monitoring:report_detail", args=[report.pk])).status_code == 404
        assert client.post(reverse("monitoring:report_transition", args=[report.pk, "send"])).status_code == 404
    assert login(world.sysadmin).get(reverse("monitoring:round_list")).status_code == 403
    assert login(world.edu_filler).get(reverse("monitoring:key_list")).status_code == 403
    assert (
        login(world.edu_filler).post(reverse("monitoring:round_list"), {"data_as_of": "2026-07-31"}).status_code == 403
    )
    report.refresh_from_db()
    assert report.status == "draft"


def test_adjust_target_measure_opens_a_new_version_for_the_unit(world, year, approved):
    from apps.funds.models import SpecialFund
    from apps.monitoring.models import KeyMonitoring

    services.key_select(actor=world.perf_admin, funds=SpecialFund.objects.all(), fiscal_year=year)
    key = KeyMonitoring.objects.get()
    services.key_measure(actor=world.perf_admin, key=key, measure="adjust_target", reason="目标偏高")
    new = approved.next_version
    assert new.status == "draft" and "财政重点监控要求调整目标：目标偏高" in new.adjustment_reason
    with pytest.raises(PermissionDenied):
        services.key_measure(actor=world.shinan_finance, key=key, measure="stop", reason="x")
