"""区市财政运行综合绩效评价, the pages: the city sets up, opens, returns, scores and publishes; a
district fills and submits its own data only and sees the ranking once published; departments,
NPC and experts are refused. Query counts stay constant as districts and indicators grow."""

from decimal import Decimal as D
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from apps.supervision import services_fiscal as services
from apps.supervision import services_fiscal_scoring as scoring
from apps.supervision.models import FiscalEvaluation, FiscalIndicator, FiscalSubmission, FiscalValue
from tests.querycount import assert_constant_queries
from tests.test_fiscal_evaluation import FIGURES, add_district, fill, full_scores, opened, sub_of

LIST = reverse("supervision:fiscal_list")
S = FiscalSubmission.Status


@pytest.fixture
def district(world):
    return add_district(world)


@pytest.fixture
def evaluation(world, year, district):
    return opened(world, year)


@pytest.fixture
def published(world, evaluation, district):
    a, b = sub_of(evaluation, world.shinan_finance_org), sub_of(evaluation, district[0])
    fill(a, world.shinan_finance, FIGURES["shinan"])
    fill(b, district[1], FIGURES["shibei"])
    scoring.fiscal_submit(actor=world.shinan_finance, submission=a)
    scoring.fiscal_submit(actor=district[1], submission=b)
    scoring.fiscal_score(actor=world.perf_admin, submission=a, scores=full_scores(a, D("9")), comment="市南评价意见")
    scores = full_scores(b, D("7"))
    first = b.evaluation.indicators.order_by("sort_order").first()
    scores[first.pk] = (D("6"), "市北税收占比偏低")
    scoring.fiscal_score(actor=world.perf_admin, submission=b, scores=scores, comment="市北评价意见")
    services.fiscal_publish(actor=world.perf_admin, evaluation=evaluation, summary="全市财政运行总体平稳。")
    return a, b


def test_perf_admin_creates_an_evaluation_in_the_form(world, year, login):
    client = login(world.perf_admin)
    assert client.get(reverse("supervision:fiscal_create")).status_code == 200
    response = client.post(
        reverse("supervision:fiscal_create"), {"fiscal_year": year.pk, "title": "2026年度评价", "due_on": "2027-03-31"}
    )
    evaluation = FiscalEvaluation.objects.get()
    assert response.status_code == 302 and response.url == reverse("supervision:fiscal_detail", args=[evaluation.pk])
    page = client.get(response.url).content.decode()
    assert "2026年度评价" in page and "税收收入占比" in page and "合计 100.00 分" in page and "2027年3月31日" in page
    # a second one for the same year: the message names the field, nothing saved
    page = client.post(reverse("supervision:fiscal_create"), {"fiscal_year": year.pk, "title": "重复"}).content.decode()
    assert "评价年度：2026年度已组织过" in page and FiscalEvaluation.objects.count() == 1


@pytest.mark.parametrize("persona", ["edu_approver", "edu_filler", "npc_liaison", "expert_li", "auditor", "sector_kjw"])
def test_other_roles_are_refused_every_page(world, published, login, persona):
    a, _ = published
    client = login(getattr(world, persona))
    e = a.evaluation_id
    for url in (
        LIST,
        reverse("supervision:fiscal_create"),
        reverse("supervision:fiscal_detail", args=[e]),
        reverse("supervision:fiscal_ranking", args=[e]),
        reverse("supervision:fiscal_export", args=[e]),
        reverse("supervision:fiscal_submission", args=[a.pk]),
        reverse("supervision:fiscal_score", args=[a.pk]),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("supervision:fiscal_submission", args=[a.pk]), {"op": "return"}).status_code == 403


@pytest.mark.parametrize("persona", ["shinan_finance", "finance_leader"])
def test_only_perf_division_may_create(world, year, login, persona):
    client = login(getattr(world, persona))
    assert client.get(reverse("supervision:fiscal_create")).status_code == 403
    assert client.post(reverse("supervision:fiscal_create"), {"fiscal_year": year.pk, "title": "x"}).status_code == 403
    assert not FiscalEvaluation.objects.exists()


def test_frame_add_with_bad_points_names_the_field(world, year, login):
    evaluation = services.fiscal_evaluation_create(actor=world.perf_admin, fiscal_year=year, title="评价")
    client = login(world.perf_admin)
    url = reverse("supervision:fiscal_detail", args=[evaluation.pk])
    data = {
        "op": "add",
        "group": "收入质量",
        "name": "非税收入占比",
        "unit": "%",
        "direction": "lower",
        "max_points": "x",
    }
    page = client.post(url, data).content.decode()
    assert "分值应为数字" in page and evaluation.indicators.count() == 10
    assert client.post(url, data | {"max_points": "5"}).status_code == 302
    added = evaluation.indicators.get(name="非税收入占比")
    edit = reverse("supervision:fiscal_indicator_edit", args=[added.pk])
    assert client.get(edit).status_code == 200
    assert client.post(edit, data | {"max_points": "2"}).status_code == 302
    added.refresh_from_db()
    assert added.max_points == D("2")
    # 102 points: 启动 refused with the reason, nothing created
    client.post(url, {"op": "open"})
    assert "指标分值合计应为100分" in client.get(url).content.decode()
    assert not FiscalSubmission.objects.exists()
    assert client.post(url, {"op": "delete", "indicator": added.pk}).status_code == 302
    assert not FiscalIndicator.objects.filter(pk=added.pk).exists()
    # the district can't touch the frame
    assert login(world.shinan_finance).post(url, {"op": "open"}).status_code == 404
    assert (
        login(world.shinan_finance).get(edit.replace(str(added.pk), str(evaluation.indicators.first().pk))).status_code
        == 403
    )


def test_open_from_the_page(world, year, district, login):
    evaluation = services.fiscal_evaluation_create(actor=world.perf_admin, fiscal_year=year, title="评价")
    client = login(world.perf_admin)
    url = reverse("supervision:fiscal_detail", args=[evaluation.pk])
    assert client.post(url, {"op": "open"}).status_code == 302
    page = client.get(url).content.decode()
    assert "市南区财政局" in page and "市北区财政局" in page and "区市填报中" in page


def test_district_sees_its_own_submission_only(world, evaluation, district, login):
    own, other = sub_of(evaluation, world.shinan_finance_org), sub_of(evaluation, district[0])
    client = login(world.shinan_finance)
    page = client.get(LIST).content.decode()
    assert reverse("supervision:fiscal_submission", args=[own.pk]) in page
    assert reverse("supervision:fiscal_submission", args=[other.pk]) not in page
    assert client.get(reverse("supervision:fiscal_submission", args=[own.pk])).status_code == 200
    assert client.get(reverse("supervision:fiscal_submission", args=[other.pk])).status_code == 404
    # the evaluation itself belongs to the city: no frame page, no ranking before publishing, no export
    assert client.get(reverse("supervision:fiscal_detail", args=[evaluation.pk])).status_code == 404
    assert client.get(reverse("supervision:fiscal_ranking", args=[evaluation.pk])).status_code == 404
    assert client.get(reverse("supervision:fiscal_export", args=[evaluation.pk])).status_code == 404
    assert client.get(reverse("supervision:fiscal_score", args=[own.pk])).status_code == 403


def test_district_fills_wrong_number_refused_then_submits(world, evaluation, login):
    sub = sub_of(evaluation, world.shinan_finance_org)
    url = reverse("supervision:fiscal_submission", args=[sub.pk])
    indicators = list(evaluation.indicators.order_by("sort_order"))
    data = {"op": "save"}
    for i, figure in zip(indicators, FIGURES["shinan"], strict=True):
        data[f"{'text' if i.direction == 'qualitative' else 'value'}_{i.pk}"] = figure
        data[f"note_{i.pk}"] = "决算"
    client = login(world.shinan_finance)
    bad = data | {f"value_{indicators[1].pk}": "六点五"}
    page = client.post(url, bad).content.decode()
    assert "“一般公共预算收入增幅”应填写数字（%）" in page
    assert not FiscalValue.objects.filter(submission=sub, value__isnull=False).exists()
    # submit with one missing: the values are saved, the submission is refused with the list
    page = client.post(url, data | {"op": "submit", f"value_{indicators[6].pk}": ""}).content.decode()
    assert "以下指标尚未填写：债务率" in page
    assert FiscalSubmission.objects.get(pk=sub.pk).status == S.DRAFT
    assert client.post(url, data | {"op": "submit"}).status_code == 302
    sub.refresh_from_db()
    assert sub.status == S.SUBMITTED
    assert FiscalValue.objects.get(submission=sub, indicator=indicators[0]).value == D("80")
    # another district cannot post to it
    _, other_user = add_district(world, "370213", "李沧区", "licang_finance")
    assert login(other_user).post(url, data).status_code == 404


def test_city_returns_and_scores_from_the_pages(world, evaluation, login):
    sub = sub_of(evaluation, world.shinan_finance_org)
    fill(sub, world.shinan_finance, FIGURES["shinan"])
    scoring.fiscal_submit(actor=world.shinan_finance, submission=sub)
    client = login(world.perf_admin)
    url = reverse("supervision:fiscal_submission", args=[sub.pk])
    assert "请填写退回意见" in client.post(url, {"op": "return", "return_comment": ""}).content.decode()
    assert client.post(url, {"op": "return", "return_comment": "数据口径有误"}).status_code == 302
    sub.refresh_from_db()
    assert sub.status == S.RETURNED
    assert "数据口径有误" in login(world.shinan_finance).get(url).content.decode()
    scoring.fiscal_submit(actor=world.shinan_finance, submission=sub)
    client = login(world.perf_admin)
    score_url = reverse("supervision:fiscal_score", args=[sub.pk])
    page = client.get(score_url).content.decode()
    assert "建议得分" in page and "10.00" in page  # the only district reported: the best of each
    data = {f"score_{i.pk}": "8" for i in evaluation.indicators.all()}
    first = evaluation.indicators.order_by("sort_order").first()
    page = client.post(score_url, data | {f"score_{first.pk}": "12"}).content.decode()
    assert "“税收收入占比”的得分应在 0 至 10.00 分之间" in page
    assert FiscalSubmission.objects.get(pk=sub.pk).status == S.SUBMITTED
    assert client.post(score_url, data | {"comment": "良好"}).status_code == 302
    sub.refresh_from_db()
    assert sub.status == S.SCORED and sub.total == D("80.00")
    # the district doesn't see its scores before publishing
    page = login(world.shinan_finance).get(url).content.decode()
    assert "submission-result" not in page and "80.00 分" not in page and "得分</th>" not in page
    assert "完成评分" in page


def test_district_sees_ranking_but_not_others_values_after_publishing(world, published, login):
    a, b = published
    client = login(world.shinan_finance)
    ranking = client.get(reverse("supervision:fiscal_ranking", args=[a.evaluation_id])).content.decode()
    assert "市北区财政局" in ranking and "69.00" in ranking and "90.00" in ranking and "fiscal-chart-data" in ranking
    assert "市北税收占比偏低" not in ranking and "市北评价意见" not in ranking
    assert reverse("supervision:fiscal_submission", args=[b.pk]) not in ranking
    assert client.get(reverse("supervision:fiscal_submission", args=[b.pk])).status_code == 404
    own = client.get(reverse("supervision:fiscal_submission", args=[a.pk])).content.decode()
    assert "市南评价意见" in own and "submission-result" in own
    assert client.get(reverse("supervision:fiscal_export", args=[a.evaluation_id])).status_code == 404
    listing = client.get(LIST).content.decode()
    assert "全市排名" in listing


def test_export_has_ranking_and_values_sheets(world, published, login):
    a, b = published
    response = login(world.perf_admin).get(reverse("supervision:fiscal_export", args=[a.evaluation_id]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    wb = load_workbook(BytesIO(response.content))
    assert wb.sheetnames == ["排名", "指标值"]
    rows = list(wb["排名"].iter_rows(values_only=True))
    assert rows[2][:3] == (1, "市南区", "市南区财政局") and rows[2][-3:] == (90, "优", "已评分")
    assert rows[3][:3] == (2, "市北区", "市北区财政局")
    values = list(wb["指标值"].iter_rows(values_only=True))
    assert values[1][5] == "市南区" and values[3][1] == "税收收入占比"
    assert values[3][5:9] == (80, 9, 70, 6)
    assert values[-1][0] == "合计"
    sheet = wb["指标值"]
    merged = {str(r) for r in sheet.merged_cells.ranges}
    # each district's name spans its 指标值 and 得分; the fixed headers span both header rows
    assert {"F2:G2", "H2:I2", "A2:A3", "E2:E3", "A1:I1"} <= merged
    assert {"A4:A5", "A12:A13"} <= merged and (sheet["A4"].value, sheet["A12"].value) == ("收入质量", "绩效管理")


def test_finance_leader_reads_everything_but_changes_nothing(world, published, login):
    a, _ = published
    client = login(world.finance_leader)
    assert client.get(reverse("supervision:fiscal_detail", args=[a.evaluation_id])).status_code == 200
    assert client.get(reverse("supervision:fiscal_submission", args=[a.pk])).status_code == 200
    assert client.get(reverse("supervision:fiscal_score", args=[a.pk])).status_code == 403
    assert client.post(reverse("supervision:fiscal_detail", args=[a.evaluation_id]), {"op": "open"}).status_code == 403


def _grow(world, evaluation, counter):
    """One more district (with its submission and values) and one more indicator."""
    n = next(counter)
    codes = ["370213", "370212", "370214", "370211", "370215"]
    org, _ = add_district(world, codes[n], f"区{n}", f"district_{n}")
    sub = FiscalSubmission.objects.create(evaluation=evaluation, organization=org)
    indicator = FiscalIndicator.objects.create(
        evaluation=evaluation, group="绩效管理", name=f"新增指标{n}", sort_order=20 + n, max_points=D("1")
    )
    FiscalValue.objects.bulk_create(FiscalValue(submission=sub, indicator=i) for i in evaluation.indicators.all())
    FiscalValue.objects.bulk_create(
        FiscalValue(submission=s, indicator=indicator) for s in evaluation.submissions.exclude(pk=sub.pk)
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [("fiscal_detail", 11), ("fiscal_ranking", 11), ("fiscal_export", 12), ("fiscal_list", 8)],
)
def test_pages_run_constant_queries(world, published, login, name, expected):
    a, _ = published
    evaluation = a.evaluation
    client = login(world.perf_admin)
    url = reverse(f"supervision:{name}", args=[evaluation.pk]) if name != "fiscal_list" else LIST
    counter = iter(range(10))

    def grow():
        for _ in range(2):
            _grow(world, evaluation, counter)

    assert_constant_queries(lambda: client.get(url), grow, expected=expected)


def test_submission_and_score_pages_run_constant_queries(world, published, login):
    a, _ = published
    client = login(world.perf_admin)
    counter = iter(range(10))

    def grow():
        for _ in range(2):
            _grow(world, a.evaluation, counter)

    assert_constant_queries(
        lambda: client.get(reverse("supervision:fiscal_submission", args=[a.pk])), grow, expected=12
    )
    assert_constant_queries(
        lambda: client.get(reverse("supervision:fiscal_score", args=[a.pk])),
        lambda: _grow(world, a.evaluation, counter),
        expected=11,
    )


def test_demo_evaluation_is_published_and_seen_by_the_right_people(db, client):
    from io import StringIO

    from django.core.management import call_command

    from apps.accounts.models import User
    from apps.supervision.demo_fiscal import seed_fiscal_demo

    call_command("seed_demo", stdout=StringIO())  # seeds the evaluation through seed_fiscal_demo
    evaluation = FiscalEvaluation.objects.get(fiscal_year=2025)
    assert evaluation.status == FiscalEvaluation.Status.PUBLISHED
    subs = list(evaluation.submissions.all())
    assert len(subs) == 10 and all(s.status == S.SCORED and s.rank and s.grade for s in subs)
    assert len({s.total for s in subs}) > 5  # varied
    assert not FiscalValue.objects.filter(submission__evaluation=evaluation, score__isnull=True).exists()
    client.force_login(User.objects.get(username="perf_admin"))
    page = client.get(reverse("supervision:fiscal_ranking", args=[evaluation.pk])).content.decode()
    assert "崂山区财政局" in page and "莱西市财政局" in page
    client.force_login(User.objects.get(username="shinan_finance"))
    assert client.get(reverse("supervision:fiscal_ranking", args=[evaluation.pk])).status_code == 200
    own = evaluation.submissions.get(organization__code="370202-CZ")
    other = evaluation.submissions.get(organization__code="370212-CZ")
    assert client.get(reverse("supervision:fiscal_submission", args=[own.pk])).status_code == 200
    assert client.get(reverse("supervision:fiscal_submission", args=[other.pk])).status_code == 404
    client.force_login(User.objects.get(username="edu_approver"))
    assert client.get(LIST).status_code == 403
    assert seed_fiscal_demo() == 0  # repeatable: nothing new
    assert FiscalEvaluation.objects.count() == 2  # FY 2025 published, FY 2026 collecting


def test_demo_dates_are_plausible_and_fy2026_is_open_for_shinan(db, client):
    """Walkthrough #11: reported before the due date (one a day late, shown 逾期), scored and published
    after it; the qualitative figure describes itself; FY 2026 collects, 市南区 not yet reported."""
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.supervision.reminder_sources import fiscal_submission_work

    call_command("seed_demo", stdout=StringIO())
    done = FiscalEvaluation.objects.get(fiscal_year=2025)
    days = {s.region.code: timezone.localdate(s.submitted_at) for s in done.submissions.select_related("region")}
    assert all(day <= done.due_on for code, day in days.items() if code != "370212")
    assert (days["370212"] - done.due_on).days == 1
    assert all(timezone.localdate(s.scored_at) > done.due_on for s in done.submissions.all())
    assert done.due_on < timezone.localdate(done.published_at) < timezone.localdate()
    assert not FiscalValue.objects.filter(note__contains="佐证").exists()
    assert not FiscalValue.objects.filter(comment__contains="佐证").exists()
    client.force_login(User.objects.get(username="perf_admin"))
    page = client.get(reverse("supervision:fiscal_detail", args=[done.pk])).content.decode()
    table = page.split('id="submission-table"')[1].split("</table>")[0]
    assert table.count("逾期") == 1 and "2026年3月27日" in table

    open_ = FiscalEvaluation.objects.get(fiscal_year=2026)
    assert open_.status == FiscalEvaluation.Status.COLLECTING and open_.due_on > timezone.localdate()
    statuses = dict(open_.submissions.values_list("region__code", "status"))
    assert statuses["370202"] == S.DRAFT and statuses["370212"] == statuses["370211"] == S.SUBMITTED
    shinan = open_.submissions.get(region__code="370202")
    client.force_login(User.objects.get(username="shinan_finance"))
    page = client.get(reverse("supervision:fiscal_submission", args=[shinan.pk])).content.decode()
    assert 'id="values-submit"' in page
    # the reminder sweep sees 市南区's open work with the evaluation's (future) due date
    work = [w for w in fiscal_submission_work(timezone.localdate(), 400) if w.object_id == shinan.pk]
    assert [w.due_on for w in work] == [open_.due_on]


def test_district_uploads_evidence_on_its_own_submission_only(world, evaluation, district, login, tmp_path, settings):
    from django.contrib.contenttypes.models import ContentType

    from apps.attachments.models import Attachment
    from tests.test_attachments import upload

    settings.MEDIA_ROOT = tmp_path / "private_media"
    own, other = sub_of(evaluation, world.shinan_finance_org), sub_of(evaluation, district[0])
    ct = ContentType.objects.get_for_model(FiscalSubmission).pk
    page = reverse("supervision:fiscal_submission", args=[own.pk])
    client = login(world.shinan_finance)
    response = client.post(
        reverse("attachments:upload", args=[ct, own.pk]), {"file": upload("2025年决算报表.pdf"), "next": page}
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.parent == own and attachment.edit_action == "fiscal.fill"
    assert "2025年决算报表.pdf" in client.get(page).content.decode()
    assert "2025年决算报表.pdf" in login(world.perf_admin).get(page).content.decode()
    # another district may neither add to nor read this evidence
    client = login(district[1])
    response = client.post(reverse("attachments:upload", args=[ct, own.pk]), {"file": upload("x.pdf"), "next": page})
    assert response.status_code in (403, 404) and Attachment.objects.count() == 1
    assert client.get(reverse("attachments:download", args=[attachment.pk])).status_code in (403, 404)
    # once submitted the evidence is frozen
    fill(own, world.shinan_finance, FIGURES["shinan"])
    scoring.fiscal_submit(actor=world.shinan_finance, submission=own)
    client = login(world.shinan_finance)
    client.post(reverse("attachments:upload", args=[ct, own.pk]), {"file": upload("late.pdf"), "next": page})
    assert Attachment.objects.count() == 1
    assert other.pk != own.pk


def test_rename_and_move_the_due_date(world, year, login):
    evaluation = services.fiscal_evaluation_create(actor=world.perf_admin, fiscal_year=year, title="评价")
    url = reverse("supervision:fiscal_detail", args=[evaluation.pk])
    client = login(world.perf_admin)
    assert "请填写评价名称" in client.post(url, {"op": "update", "title": "", "due_on": ""}).content.decode()
    assert client.post(url, {"op": "update", "title": "新名称", "due_on": "2027-04-30"}).status_code == 302
    evaluation.refresh_from_db()
    assert (evaluation.title, str(evaluation.due_on)) == ("新名称", "2027-04-30")
    assert login(world.finance_leader).post(url, {"op": "update", "title": "x"}).status_code == 403
    evaluation.refresh_from_db()
    assert evaluation.title == "新名称"


def test_todo_provider_lists_work_for_the_district_and_the_city(world, evaluation, district):
    from apps.supervision.selectors_fiscal import fiscal_todos

    own = sub_of(evaluation, world.shinan_finance_org)
    [item] = fiscal_todos(world.shinan_finance)
    assert item.title == "填报：2026年度区市财政运行综合绩效评价" and str(own.pk) in item.url
    assert fiscal_todos(world.perf_admin) == [] and fiscal_todos(world.edu_approver) == []
    fill(own, world.shinan_finance, FIGURES["shinan"])
    scoring.fiscal_submit(actor=world.shinan_finance, submission=own)
    assert fiscal_todos(world.shinan_finance) == []
    [item] = fiscal_todos(world.perf_admin)
    assert item.title.startswith("评分：市南区财政局") and item.url.endswith(f"/fiscal/submissions/{own.pk}/score/")
    scoring.fiscal_return(actor=world.perf_admin, submission=own, comment="口径有误")
    [item] = fiscal_todos(world.shinan_finance)
    assert item.title.startswith("修改并重新报送") and "口径有误" in item.note
    # the same due date as its reminders: at least a week after the return, even if the evaluation's is sooner
    from datetime import timedelta

    from django.utils import timezone

    from apps.supervision.reminder_sources import RESUBMIT_MIN_DAYS

    today = timezone.localdate()
    type(evaluation).objects.filter(pk=evaluation.pk).update(due_on=today + timedelta(days=1))
    [item] = fiscal_todos(world.shinan_finance)
    assert item.due_on == today + timedelta(days=RESUBMIT_MIN_DAYS)
    assert fiscal_todos(district[1])[0].url.endswith(f"/{sub_of(evaluation, district[0]).pk}/")
