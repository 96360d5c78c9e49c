"""Demo 区市财政运行综合绩效评价 for ``seed_demo``:

* FY 2025, published — every district's figures (plausible and varied), reported in March 2026
  before the 31 March due date (崂山区 a day late, shown as 逾期), the city's scores with comments,
  ranks and grades — so ``perf_admin`` finds a finished ranking with its chart and
  ``shinan_finance`` sees its own line-by-line result and the ranking;
* FY 2026, 区市填报中 (due 31 January 2027): 崂山区 and 黄岛区 have reported their 1–11月 figures,
  the others — 市南区 among them — have not, so ``shinan_finance`` can try filling in and 报送, and
  ``perf_admin`` can score the two reported districts. Its due date is in the future, so the
  reminder sweep reminds the districts still to report when it comes near.

The evaluation, its frame, the scores and the publication go through the services (audit trail
included). A district's figures go through the services when the demo has a user for that district
(市南区: ``shinan_finance``); the other districts have no demo account, so their figures and 报送
are written directly; so are the historical dates (报送, 评分, 发布 times) after the services ran.
Each year is created only when it has no evaluation yet: a second run creates 0.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.orgs.models import FiscalYear

from . import services_fiscal as services
from . import services_fiscal_scoring as scoring
from .models import FiscalEvaluation, FiscalIndicator, FiscalSubmission, FiscalValue

YEAR = 2025
TITLE = "2025年度区市财政运行综合绩效评价"
D = Decimal

# region code → the nine figures in frame order (税收占比, 收入增幅, 民生占比, 三公压减率, 执行率,
# 结转结余占比, 债务率, 隐性债务化解率, 目标覆盖率) and the qualitative 评价结果应用 (text, points).
FIGURES = {
    "370202": (
        "82.6",
        "5.8",
        "79.3",
        "6.2",
        "98.1",
        "4.2",
        "86.5",
        "100",
        "100",
        "建立评价结果与预算安排挂钩机制，低效项目压减预算 1,260 万元。",
        "10",
    ),
    "370203": (
        "78.4",
        "4.1",
        "80.1",
        "5.0",
        "96.7",
        "5.6",
        "104.2",
        "100",
        "98",
        "评价结果全部反馈部门并督促整改，部分应用于预算安排。",
        "8.5",
    ),
    "370213": (
        "74.9",
        "3.2",
        "77.8",
        "4.1",
        "95.2",
        "6.8",
        "112.7",
        "95",
        "96",
        "评价结果反馈整改，与预算挂钩范围较小。",
        "7.5",
    ),
    "370212": (
        "85.1",
        "7.4",
        "76.2",
        "7.5",
        "97.9",
        "3.9",
        "78.6",
        "100",
        "100",
        "评价结果作为预算安排重要依据，并向人大报告、向社会公开。",
        "10",
    ),
    "370214": (
        "76.3",
        "4.9",
        "78.5",
        "5.8",
        "96.3",
        "5.1",
        "95.4",
        "100",
        "97",
        "评价结果与预算安排挂钩，整改情况纳入部门考核。",
        "9",
    ),
    "370211": (
        "80.7",
        "6.3",
        "75.9",
        "6.6",
        "98.4",
        "4.6",
        "118.9",
        "92",
        "99",
        "建立结果应用清单，压减低效支出 3,800 万元。",
        "9.5",
    ),
    "370215": (
        "72.5",
        "2.6",
        "79.9",
        "3.7",
        "94.1",
        "7.9",
        "126.3",
        "90",
        "93",
        "评价结果反馈部门，应用机制尚需完善。",
        "6.5",
    ),
    "370281": (
        "73.8",
        "3.9",
        "77.1",
        "4.4",
        "95.6",
        "6.2",
        "109.8",
        "96",
        "95",
        "评价结果用于调整下年预算，整改跟踪到位。",
        "8",
    ),
    "370283": ("68.2", "1.8", "81.2", "3.1", "93.4", "8.6", "138.5", "88", "90", "评价结果应用以反馈整改为主。", "6"),
    "370285": ("69.7", "2.2", "80.6", "3.5", "93.9", "8.1", "131.2", "90", "92", "部分评价结果与预算安排挂钩。", "7"),
}
COMMENT_LOW = "低于全市平均水平，请分析原因并加以改进。"
QUALITATIVE_NOTE = "区财政局绩效管理科统计"
QUALITATIVE_COMMENT = "按报送的结果应用情况核定。"
SHANGHAI = ZoneInfo("Asia/Shanghai")

# region code → when it reported its FY 2025 data (due 2026-03-31; 崂山区 one day late)
REPORTED_2025 = {
    "370202": (date(2026, 3, 27), time(16, 20)),
    "370203": (date(2026, 3, 30), time(10, 5)),
    "370213": (date(2026, 3, 31), time(17, 40)),
    "370212": (date(2026, 4, 1), time(9, 15)),
    "370214": (date(2026, 3, 25), time(15, 30)),
    "370211": (date(2026, 3, 20), time(11, 0)),
    "370215": (date(2026, 3, 31), time(11, 25)),
    "370281": (date(2026, 3, 26), time(14, 50)),
    "370283": (date(2026, 3, 30), time(16, 10)),
    "370285": (date(2026, 3, 28), time(9, 45)),
}
SCORED_2025 = datetime(2026, 4, 24, 15, 0, tzinfo=SHANGHAI)
PUBLISHED_2025 = datetime(2026, 5, 15, 10, 0, tzinfo=SHANGHAI)

YEAR_OPEN = 2026
TITLE_OPEN = "2026年度区市财政运行综合绩效评价"
DUE_OPEN = date(2027, 1, 31)
# the districts that have already reported their FY 2026 figures, and when
REPORTED_2026 = {
    "370212": datetime(2026, 11, 20, 10, 30, tzinfo=SHANGHAI),
    "370211": datetime(2026, 11, 24, 16, 5, tzinfo=SHANGHAI),
}


def _scores(submission: FiscalSubmission, reported: dict, qualitative_points: D) -> dict:
    scores = {}
    for value in submission.values.select_related("indicator"):
        indicator = value.indicator
        if indicator.direction == FiscalIndicator.Direction.QUALITATIVE:
            scores[indicator.pk] = (qualitative_points, QUALITATIVE_COMMENT)
            continue
        points = scoring.suggest(indicator, value.value, reported.get(indicator.pk, [])) or D("0")
        share = points / indicator.max_points
        comment = COMMENT_LOW if share < D("0.8") else ("表现突出。" if share == 1 else "")
        scores[indicator.pk] = (points, comment)
    return scores


@transaction.atomic
def seed_fiscal_demo() -> int:
    perf_admin = User.objects.filter(username="perf_admin").first()
    if perf_admin is None:
        return 0
    return _seed_published(perf_admin) + _seed_collecting(perf_admin)


def _entries(indicators, figures, note: str) -> dict:
    """The service's ``data`` for one district: the nine figures and the qualitative text."""
    *numbers, text, _points = figures
    numeric = iter(numbers)
    data = {}
    for indicator in indicators:
        if indicator.direction == FiscalIndicator.Direction.QUALITATIVE:
            data[indicator.pk] = {"text_value": text, "note": QUALITATIVE_NOTE}
        else:
            data[indicator.pk] = {"value": next(numeric, ""), "note": note}
    return data


def _filler(submission: FiscalSubmission):
    return User.objects.filter(
        organization=submission.organization, groups__name=Role.DISTRICT_FINANCE, is_active=True
    ).first()


def _write_directly(submission: FiscalSubmission, indicators, data: dict, submitted_at) -> None:
    """A district without a demo account: its figures and 报送 are written as the service would."""
    rows = {v.indicator_id: v for v in submission.values.all()}
    for indicator in indicators:
        row, entry = rows[indicator.pk], data[indicator.pk]
        row.value = scoring.parse_number(entry.get("value"), indicator) if "value" in entry else None
        row.text_value, row.note = entry.get("text_value", ""), entry["note"]
    FiscalValue.objects.bulk_update(rows.values(), ["value", "text_value", "note"])
    submission.status, submission.submitted_at = FiscalSubmission.Status.SUBMITTED, submitted_at
    submission.save(update_fields=["status", "submitted_at", "updated_at"])


def _seed_collecting(perf_admin) -> int:
    """FY 2026, still collecting: two districts reported, 市南区 and the rest not yet."""
    year = FiscalYear.objects.filter(year=YEAR_OPEN).first()
    if year is None or FiscalEvaluation.objects.filter(fiscal_year=year).exists():
        return 0
    evaluation = services.fiscal_evaluation_create(
        actor=perf_admin, fiscal_year=year, title=TITLE_OPEN, due_on=DUE_OPEN
    )
    services.fiscal_evaluation_open(actor=perf_admin, evaluation=evaluation, today=date(YEAR_OPEN, 11, 10))
    created = 1 + evaluation.indicators.count()
    indicators = list(evaluation.indicators.order_by("sort_order", "id"))
    for submission in evaluation.submissions.select_related("region"):
        created += 1 + len(indicators)
        submitted_at = REPORTED_2026.get(submission.region.code)
        if submitted_at is None:
            continue
        data = _entries(indicators, FIGURES[submission.region.code], f"{YEAR_OPEN}年1-10月执行数（快报）")
        filler = _filler(submission)
        if filler is not None:
            scoring.fiscal_values_save(actor=filler, submission=submission, data=data)
            scoring.fiscal_submit(actor=filler, submission=submission)
            FiscalSubmission.objects.filter(pk=submission.pk).update(submitted_at=submitted_at)
        else:
            _write_directly(submission, indicators, data, submitted_at)
    return created


def _seed_published(perf_admin) -> int:
    year = FiscalYear.objects.filter(year=YEAR).first()
    if year is None or FiscalEvaluation.objects.filter(fiscal_year=year).exists():
        return 0
    evaluation = services.fiscal_evaluation_create(
        actor=perf_admin, fiscal_year=year, title=TITLE, due_on=date(YEAR + 1, 3, 31)
    )
    services.fiscal_evaluation_open(actor=perf_admin, evaluation=evaluation, today=date(YEAR + 1, 1, 10))
    created = 1 + evaluation.indicators.count()
    indicators = list(evaluation.indicators.order_by("sort_order", "id"))
    submissions = list(evaluation.submissions.select_related("organization", "region"))
    qualitative = {}
    for submission in submissions:
        created += 1 + len(indicators)
        figures = FIGURES.get(submission.region.code)
        if figures is None:  # a district the table doesn't know (extra data): middling figures
            figures = FIGURES["370281"]
        qualitative[submission.pk] = D(figures[-1])
        data = _entries(indicators, figures, f"{YEAR}年财政决算")
        day, at = REPORTED_2025.get(submission.region.code, (date(YEAR + 1, 3, 29), time(10, 0)))
        submitted_at = datetime.combine(day, at, tzinfo=SHANGHAI)
        filler = _filler(submission)
        if filler is not None:
            scoring.fiscal_values_save(actor=filler, submission=submission, data=data)
            scoring.fiscal_submit(actor=filler, submission=submission)
            FiscalSubmission.objects.filter(pk=submission.pk).update(submitted_at=submitted_at)
            continue
        _write_directly(submission, indicators, data, submitted_at)
    reported = scoring.reported_values(evaluation)
    for submission in submissions:
        scoring.fiscal_score(
            actor=perf_admin,
            submission=submission,
            scores=_scores(submission, reported, qualitative[submission.pk]),
            comment=f"{submission.region.name}财政运行总体平稳，请对照扣分指标加以改进。",
        )
    services.fiscal_publish(
        actor=perf_admin,
        evaluation=evaluation,
        summary="2025年全市各区市财政收支平稳运行，民生保障有力；部分区市债务率偏高、结转结余偏多，需加大盘活力度。",
    )
    # the historical dates: scored in April, published in May 2026 (the services stamped "now")
    evaluation.submissions.update(scored_at=SCORED_2025)
    FiscalEvaluation.objects.filter(pk=evaluation.pk).update(published_at=PUBLISHED_2025)
    return created
