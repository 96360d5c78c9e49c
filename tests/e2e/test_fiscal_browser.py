"""Headless Chromium: 区市财政运行综合绩效评价. perf_admin creates an evaluation and opens it;
shinan_finance fills its figures (a wrong number is refused first) and submits; perf_admin scores
(from the suggested scores) and publishes; the ranking page draws the comparison chart; the
district then sees the ranking but not the other district's comments. Re-scoring an already scored
district asks for a reason; once published the score page is read-only. Screenshots fiscal-*.png."""

import pytest
from playwright.sync_api import expect

from apps.orgs.models import FiscalYear
from apps.supervision import services_fiscal_scoring as scoring
from apps.supervision.models import FiscalEvaluation, FiscalSubmission, FiscalValue
from tests.conftest import build_world
from tests.e2e.test_login_browser import shot
from tests.e2e.test_target_flow_browser import as_user
from tests.test_fiscal_evaluation import FIGURES, add_district, fill, full_scores, sub_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    w = build_world()
    FiscalYear.objects.get_or_create(year=2026, defaults={"is_current": True})
    w.shibei_org, w.shibei_finance = add_district(w)
    return w


def test_fiscal_evaluation_from_frame_to_ranking(page, live_server, world):
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    page.on("dialog", lambda dialog: dialog.accept())

    as_user(page, base, "perf_admin")
    page.goto(f"{base}/supervision/fiscal/")
    page.click("#fiscal-new")
    page.select_option("#id_fiscal_year", "2026")
    page.fill("#id_title", "2026年度区市财政运行综合绩效评价")
    page.fill("#id_due_on", "2027-03-31")
    page.click("#fiscal-save")
    expect(page.locator("#indicator-table")).to_contain_text("隐性债务化解完成率")
    shot(page, "fiscal-01-frame")
    page.click("#fiscal-open")
    expect(page.locator("#fiscal-status")).to_have_text("区市填报中")
    expect(page.locator("#submission-table")).to_contain_text("市北区财政局")
    evaluation = FiscalEvaluation.objects.get()
    own = sub_of(evaluation, world.shinan_finance_org)
    indicators = list(evaluation.indicators.order_by("sort_order"))

    as_user(page, base, "shinan_finance")
    page.goto(f"{base}/supervision/fiscal/")
    page.click(f"a[href='/supervision/fiscal/submissions/{own.pk}/']")
    for indicator, figure in zip(indicators, FIGURES["shinan"], strict=True):
        field = "text" if indicator.direction == "qualitative" else "value"
        page.fill(f"#id_{field}_{indicator.pk}", figure)
        page.fill(f"#id_note_{indicator.pk}", "2026年财政决算")
    page.fill(f"#id_value_{indicators[1].pk}", "六点五")
    page.click("#values-save")
    expect(page.locator("#values-form")).to_contain_text("“一般公共预算收入增幅”应填写数字（%）")
    assert not FiscalValue.objects.filter(submission=own, value__isnull=False).exists()
    shot(page, "fiscal-02-refused")
    page.fill(f"#id_value_{indicators[1].pk}", "6.5")
    page.click("#values-submit")
    expect(page.locator("#submission-status")).to_have_text("已报送")
    shot(page, "fiscal-03-submitted")

    other = sub_of(evaluation, world.shibei_org)
    fill(other, world.shibei_finance, FIGURES["shibei"])
    scoring.fiscal_submit(actor=world.shibei_finance, submission=other)
    scores = full_scores(other, 7)
    scores[indicators[0].pk] = (6, "市北税收占比偏低")
    scoring.fiscal_score(actor=world.perf_admin, submission=other, scores=scores, comment="市北评价意见")

    as_user(page, base, "perf_admin")
    page.goto(f"{base}/supervision/fiscal/{evaluation.pk}/")
    page.click(f"#submission-{own.pk} .score-link")
    expect(page.locator("#score-table")).to_contain_text("建议得分")
    page.fill(f"#id_score_{indicators[9].pk}", "9")
    page.fill("#id_comment", "收入质量较好，债务风险可控。")
    shot(page, "fiscal-04-score")
    page.click("#score-save")
    expect(page.locator("#publish-form")).to_be_visible()
    # 市北 was scored already: changing a score needs a reason
    page.click(f"#submission-{other.pk} .score-link")
    expect(page.locator("#score-rescoring")).to_contain_text("重新评分须填写重新评分理由")
    page.fill(f"#id_score_{indicators[0].pk}", "6.5")
    page.click("#score-save")
    expect(page.locator("#score-form")).to_contain_text("该区市已评分，重新评分请填写重新评分理由。")
    page.fill("#id_reason", "复核市北区税收收入口径")
    shot(page, "fiscal-04b-rescore")
    page.click("#score-save")
    expect(page.locator("#publish-form")).to_be_visible()
    other.refresh_from_db()
    assert other.total == 69 + 0.5
    own.refresh_from_db()
    assert own.status == FiscalSubmission.Status.SCORED and own.total > 80
    page.fill("#id_summary", "全市财政运行总体平稳。")
    page.click("#fiscal-publish")
    expect(page.locator("#ranking-table")).to_contain_text("市南区财政局")
    page.wait_for_function("document.documentElement.dataset.fiscalChart === 'drawn'")
    assert page.locator("#fiscal-chart-total").bounding_box()["height"] > 100
    shot(page, "fiscal-05-ranking")

    as_user(page, base, "shinan_finance")
    page.goto(f"{base}/supervision/fiscal/{evaluation.pk}/ranking/")
    expect(page.locator("#ranking-own")).to_contain_text("市南区财政局")
    expect(page.locator("#ranking-table")).to_contain_text("市北区财政局")
    expect(page.locator("body")).not_to_contain_text("市北评价意见")
    page.wait_for_function("document.documentElement.dataset.fiscalChart === 'drawn'")
    shot(page, "fiscal-06-district-ranking")
    response = page.goto(f"{base}/supervision/fiscal/submissions/{other.pk}/")
    assert response.status == 404

    as_user(page, base, "perf_admin")
    page.goto(f"{base}/supervision/fiscal/")
    expect(page.locator("#fiscal-table")).to_contain_text("已发布")
    page.click("#fiscal-table a")
    expect(page.locator("#submission-table")).to_contain_text("优")
    shot(page, "fiscal-07-evaluation-published")
    page.click(f"#submission-{other.pk} a")
    expect(page.locator("#values-table")).to_contain_text("市北税收占比偏低")
    expect(page.locator("#submission-history li").first).to_contain_text("重新评分：复核市北区税收收入口径")
    shot(page, "fiscal-08-submission-city")
    # published: the score page is read-only, with a banner saying why
    page.goto(f"{base}/supervision/fiscal/submissions/{own.pk}/score/")
    expect(page.locator("#score-locked")).to_contain_text("得分不能再修改")
    expect(page.locator(f"#id_score_{indicators[0].pk}")).to_be_disabled()
    expect(page.locator("#score-save")).to_have_count(0)
    shot(page, "fiscal-09-score-locked")
