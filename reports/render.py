"""One ``Report``, three outputs: the page (template), XLSX (openpyxl) and PDF (weasyprint, as the
CFDI's printed representation is rendered), and the bar chart as inline SVG for the page and PDF."""

import io
from datetime import date as Date
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils.html import escape
from openpyxl import Workbook
from openpyxl.styles import Font
from weasyprint import HTML

from .builders import DATE, MONEY, NUMBER, Report


def cell_text(value, kind: str) -> str:
    """A value as the page and the PDF print it (Mexican style: 1,234.50; dd/mm/aaaa)."""
    if value is None or value == "":
        return ""
    if kind == MONEY:
        return f"{Decimal(value):,.2f}"
    if kind == NUMBER:
        return f"{Decimal(value).normalize():,f}" if isinstance(value, Decimal) else f"{value:,}"
    if kind == DATE and isinstance(value, Date):
        return f"{value:%d/%m/%Y}"
    return str(value)


def bar_chart_svg(data: list[tuple[str, Decimal]], *, width: int = 720, height: int = 220) -> str:
    """Vertical bars with their label below and value above; escaped, so safe to print raw."""
    if not data:
        return ""
    top = max((value for _, value in data), default=Decimal(0)) or Decimal(1)
    left, bottom, plot_height = 10, 40, height - 70
    slot = (width - 2 * left) / len(data)
    bar = max(slot * 0.7, 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" class="chart">',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - left}" y2="{height - bottom}" stroke="#999"/>',
    ]
    small = len(data) > 12
    for index, (label, value) in enumerate(data):
        bar_height = float(value / top) * plot_height if value > 0 else 0
        x = left + index * slot + (slot - bar) / 2
        y = height - bottom - bar_height
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{bar_height:.1f}" fill="#2f6fb0">'
            f"<title>{escape(label)}: {value:,.2f}</title></rect>"
        )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 14}" font-size="{9 if small else 11}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
        if value and not small:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{y - 4:.1f}" font-size="10" text-anchor="middle">{value:,.2f}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def table(report: Report) -> dict:
    """The report as printed rows: [(text, kind, link, level)], for the page and the PDF."""
    kinds = [column.kind for column in report.columns]
    rows = []
    for index, row in enumerate(report.rows):
        rows.append(
            {
                "cells": [(cell_text(value, kind), kind) for value, kind in zip(row, kinds, strict=True)],
                "link": report.links[index] if index < len(report.links) else None,
                "level": report.levels[index] if index < len(report.levels) else 0,
            }
        )
    totals = (
        [(cell_text(value, kind), kind) for value, kind in zip(report.totals, kinds, strict=True)]
        if report.totals
        else None
    )
    return {"rows": rows, "totals": totals, "chart": bar_chart_svg(report.chart) if report.chart else ""}


def xlsx(report: Report) -> bytes:
    """The same table in a worksheet: numbers as numbers (money with two decimals), dates as dates."""
    book = Workbook()
    sheet = book.active
    sheet.title = report.title[:31]
    sheet.append([f"{report.company.legal_name} — {report.title}"])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([report.subtitle])
    sheet.append([])
    sheet.append([column.label for column in report.columns])
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    kinds = [column.kind for column in report.columns]

    def put(values, bold=False):
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in values])
        for cell, kind in zip(sheet[sheet.max_row], kinds, strict=False):
            if kind == MONEY:
                cell.number_format = "#,##0.00"
            elif kind == DATE:
                cell.number_format = "DD/MM/YYYY"
            if bold:
                cell.font = Font(bold=True)

    for row in report.rows:
        put(row)
    if report.totals:
        put(report.totals, bold=True)
    if report.note:
        sheet.append([])
        sheet.append([report.note])
    for index, column in enumerate(report.columns, start=1):
        letter = sheet.cell(row=4, column=index).column_letter
        sheet.column_dimensions[letter].width = 40 if column.kind == "text" and index == 2 else 16
    # A report writes no formula: a text openpyxl took for one (a customer named "=HYPERLINK(...)")
    # is written as the text it is, so the spreadsheet shows it and never runs it.
    for cells in sheet.iter_rows():
        for cell in cells:
            if cell.data_type == "f":
                cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pdf(report: Report) -> bytes:
    html = render_to_string("reports/report_pdf.html", {"report": report, **table(report)})
    return HTML(string=html).write_pdf()
