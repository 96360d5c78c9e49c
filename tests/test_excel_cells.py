"""Streamed exports keep typed text as text: a cell starting with "=" must never become a formula."""

from io import BytesIO

from openpyxl import Workbook, load_workbook

from apps.core.excel import BOLD, plain_cell, styled_cell


def roundtrip(values) -> list:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("表")
    ws.append([plain_cell(ws, v) for v in values])
    ws.append([styled_cell(ws, v, font=BOLD) for v in values])
    buffer = BytesIO()
    wb.save(buffer)
    sheet = load_workbook(BytesIO(buffer.getvalue()))["表"]
    return [[(c.value, c.data_type) for c in row] for row in sheet.iter_rows()]


def test_text_that_looks_like_a_formula_stays_text():
    typed = ['=HYPERLINK("http://x","点我")', "+1+1", "-2", "@SUM(A1)", "正常文字", 12, None]
    for row in roundtrip(typed):
        assert row[0] == ('=HYPERLINK("http://x","点我")', "s")
        assert [value for value, _ in row[1:5]] == ["+1+1", "-2", "@SUM(A1)", "正常文字"]
        assert all(kind == "s" for _, kind in row[:5])
        assert row[5] == (12, "n")
