"""Reads of self-evaluation results that other apps show (the target editor's 上年实际值)."""

from django.db.models import Q

from .models import SelfEvaluation, SelfEvaluationLine


def actual_value_display(line: SelfEvaluationLine) -> str:
    if line.band:
        text = line.get_band_display()
        return f"{line.actual_text}（{text}）" if line.actual_text else text
    if line.actual_value is None:
        return "—"
    return f"{line.actual_value.normalize():f}{line.indicator.unit}"


def actual_values_by_library_indicator(fund_id: int) -> dict[int, str]:
    """Library indicator id → the actual value reported in the fund's self-evaluation (if any)."""
    evaluation = (
        SelfEvaluation.objects.filter(fund_id=fund_id)
        .exclude(status__in=[SelfEvaluation.Status.DRAFT])
        .order_by("-round__fiscal_year_id")
        .first()
    )
    if evaluation is None:
        return {}
    lines = evaluation.lines.filter(indicator__library_indicator__isnull=False).filter(
        Q(actual_value__isnull=False) | ~Q(band="")
    )
    return {
        line.indicator.library_indicator_id: actual_value_display(line) for line in lines.select_related("indicator")
    }
