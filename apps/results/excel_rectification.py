"""Excel export of the (filtered) 整改 list: a ``write_only`` workbook streamed row by row from one
query (``values_list`` + ``iterator``), so memory stays flat and the query count is constant."""

from __future__ import annotations

import tempfile
from datetime import date

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from apps.core.excel import (
    BOLD,
    CENTER,
    FONT,
    LEFT,
    SHADE,
    TITLE_FONT,
    plain_cell,
    styled_cell,
)
from apps.core.templatetags.qd import cn_date

from .models import Rectification
from .selectors_rectification import DEPARTMENT_NAME

SHEET = "整改事项"
HEADERS = [
    ("序号", 6),
    ("年度", 8),
    ("问题来源", 10),
    ("来源文号/说明", 24),
    ("项目编码", 20),
    ("项目名称", 28),
    ("主管部门", 22),
    ("整改责任单位", 22),
    ("存在问题", 48),
    ("整改要求", 32),
    ("整改期限", 14),
    ("状态", 10),
    ("是否逾期", 9),
    ("整改措施", 40),
    ("整改情况", 40),
    ("报送核实时间", 16),
    ("完成日期", 14),
    ("重新整改次数", 10),
    ("核实意见", 30),
]
FIELDS = (
    "fiscal_year_id", "source", "source_reference", "fund__code", "fund__name", "department_name",
    "organization__name", "problem", "requirement", "deadline", "status", "measures", "progress_note",
    "submitted_at", "completed_on", "reopen_count", "verification_comment",
)  # fmt: skip


def _cell(ws, value, *, font=FONT, fill=None, align=LEFT):
    return styled_cell(ws, value, font=font, fill=fill, align=align)


def export_list(rows: QuerySet, today: date | None = None) -> bytes:
    """The rows (already restricted and filtered) as .xlsx bytes."""
    today = today or timezone.localdate()
    sources, statuses = dict(Rectification.Source.choices), dict(Rectification.Status.choices)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    for i, (_, width) in enumerate(HEADERS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A3"
    ws.append([_cell(ws, f"整改事项清单（导出日期：{cn_date(today)}）", font=TITLE_FONT)])
    ws.append([_cell(ws, label, font=BOLD, fill=SHADE, align=CENTER) for label, _ in HEADERS])
    values = rows.annotate(department_name=DEPARTMENT_NAME).values_list(*FIELDS)
    for n, row in enumerate(values.iterator(chunk_size=2000), start=1):
        data = dict(zip(FIELDS, row, strict=True))
        overdue = data["status"] != Rectification.Status.DONE and data["deadline"] < today
        ws.append(
            [
                plain_cell(ws, v)
                for v in (
                    n,
                    data["fiscal_year_id"],
                    sources.get(data["source"], data["source"]),
                    data["source_reference"],
                    data["fund__code"] or "",
                    data["fund__name"] or "",
                    data["department_name"] or "",
                    data["organization__name"],
                    data["problem"],
                    data["requirement"],
                    cn_date(data["deadline"]),
                    statuses.get(data["status"], data["status"]),
                    "逾期" if overdue else "",
                    data["measures"],
                    data["progress_note"],
                    cn_date(data["submitted_at"]),
                    cn_date(data["completed_on"]),
                    data["reopen_count"],
                    data["verification_comment"],
                )
            ]
        )
    with tempfile.TemporaryFile() as handle:
        wb.save(handle)
        handle.seek(0)
        return handle.read()


def file_name(today: date | None = None) -> str:
    return f"整改事项清单_{(today or timezone.localdate()):%Y%m%d}.xlsx"
