"""待办 providers of 结果应用: 整改 to fill or redo (the responsible unit and its department) and
整改 awaiting verification (the region's finance).

Rectification spans years (a 2025 self-evaluation's items are worked on in 2026), so open items are
listed whatever year is selected. One query per kind the user may do, capped; the deadline is the
item's due date; the note starts with the real status and 逾期 ("整改中 · 逾期"), then 重新整改."""

from django.urls import reverse
from django.utils import timezone

from apps.core import permissions
from apps.core.todo import TodoItem, register

from .models import Rectification

S = Rectification.Status
LIMIT = 10
CATEGORY = "整改"


def _title(verb: str, item: Rectification) -> str:
    subject = f"{item.fund.code} {item.fund.name}" if item.fund_id else item.organization.name
    return f"{verb}：{subject} — {item.problem[:30]}"


def _state(item: Rectification, today) -> list[str]:
    """The real status, then 逾期 when the deadline has passed ("整改中 · 逾期")."""
    return [item.get_status_display(), *([Rectification.OVERDUE_LABEL] if item.deadline < today else [])]


@register
def rectification_todos(user, fiscal_year) -> list[TodoItem]:
    today = timezone.localdate()
    items: list[TodoItem] = []
    if permissions.has_action(user, "rectification.fill"):
        rows = (
            Rectification.objects.restrict(user, "rectification.fill")
            .filter(status__in=(S.PENDING, S.IN_PROGRESS))
            .select_related("fund", "organization")
            .order_by("deadline", "pk")[:LIMIT]
        )
        for item in rows:
            # The status and 逾期 first: the home page cuts long notes (a reopen comment) short.
            notes = _state(item, today)
            if item.reopen_count:
                notes.append(
                    f"财政要求重新整改：{item.verification_comment}" if item.verification_comment else "重新整改"
                )
            items.append(
                TodoItem(
                    title=_title("重新整改" if item.reopen_count else "填报整改", item),
                    url=reverse("results:rectification_detail", args=[item.pk]),
                    category=CATEGORY,
                    due_on=item.deadline,
                    note=" · ".join(notes),
                )
            )
    if permissions.has_action(user, "rectification.verify"):
        rows = (
            Rectification.objects.restrict(user, "rectification.verify")
            .filter(status=S.VERIFYING)
            .select_related("fund", "organization")
            .order_by("submitted_at", "pk")[:LIMIT]
        )
        for item in rows:
            items.append(
                TodoItem(
                    title=_title("核实整改", item),
                    url=reverse("results:rectification_detail", args=[item.pk]),
                    category=CATEGORY,
                    due_on=item.deadline,
                    note=" · ".join([*_state(item, today), f"{item.organization.name} 已报送核实"]),
                )
            )
    return items
