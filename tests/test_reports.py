"""The accountant's reports (issue 19): their numbers against the books, read independently, and
both exports read back (XLSX with openpyxl, PDF with pdftotext)."""

import io
import shutil
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from accounting.models import Account, JournalEntry, JournalLine
from cashbank.models import CashMovement
from demo.services import load_demo
from inventory.models import StockLevel
from reports.builders import aging_bucket
from sales.document_models import SalesDocument
from sales.receivables.models import Receivable

pytestmark = pytest.mark.django_db


@pytest.fixture
def books():
    demo = load_demo(activity=True)
    browser = Client()
    browser.force_login(get_user_model().objects.get(username="contador"))
    return demo.company, browser


def _xlsx_rows(response) -> list[list]:
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _pdf_text(response, tmp_path) -> str:
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) no está instalado")
    path = tmp_path / "report.pdf"
    path.write_bytes(response.content)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def test_the_admin_index_links_every_report(books):
    _, browser = books
    page = browser.get("/admin/").content.decode()
    for url in [
        "balanza",
        "estado-de-cuenta",
        "antiguedad",
        "existencias",
        "caja-y-bancos",
        "ventas-por-dia",
    ]:
        assert f'href="/reportes/{url}/"' in page
    index = browser.get("/reportes/")
    assert index.status_code == 200 and "Balanza de comprobación" in index.content.decode()


def test_trial_balance_balances_drills_down_and_exports(books, tmp_path):
    company, browser = books
    today = timezone.localdate()
    first = today.replace(day=1)
    page = browser.get(f"/reportes/balanza/?desde={first}&hasta={today}")
    assert page.status_code == 200
    report = page.context["report"]
    posted = JournalLine.objects.filter(
        entry__company=company, entry__status=JournalEntry.Status.POSTED, entry__date__range=(first, today)
    )
    debit = posted.aggregate(s=Sum("debit"))["s"]
    assert (
        debit > 0 and report.totals[3] == debit == report.totals[4] == posted.aggregate(s=Sum("credit"))["s"]
    )
    assert report.balances and "La balanza cuadra" in page.content.decode()

    # Drill-down: the cash account's row leads to its póliza lines, whose sums are the row's.
    caja = Account.objects.get(
        company=company, code=company.cashbankaccount_set.get(code="CAJA").ledger_account.code
    )
    index = [row[0] for row in report.rows].index(caja.code)
    drill = browser.get(report.links[index])
    assert drill.status_code == 200
    lines = drill.context["report"]
    assert (lines.totals[4], lines.totals[5]) == (report.rows[index][3], report.rows[index][4])
    assert lines.rows and all(link.startswith("/admin/accounting/journalentry/") for link in lines.links)

    rows = _xlsx_rows(browser.get(f"/reportes/balanza/?desde={first}&hasta={today}&formato=xlsx"))
    assert rows[3][:6] == ["Cuenta", "Nombre", "Saldo inicial", "Cargos", "Abonos", "Saldo final"]
    totals = next(row for row in rows if row[1] == "Sumas iguales")
    assert Decimal(str(totals[3])) == debit == Decimal(str(totals[4]))

    text = _pdf_text(browser.get(f"/reportes/balanza/?desde={first}&hasta={today}&formato=pdf"), tmp_path)
    assert "Balanza de comprobación" in text and "Sumas iguales" in text and _money(debit) in text


def test_trial_balance_refuses_bad_dates_in_spanish(books):
    _, browser = books
    bad = browser.get("/reportes/balanza/?desde=2026-13-01")
    assert bad.status_code == 400 and "Fecha inválida" in bad.content.decode()
    backwards = browser.get("/reportes/balanza/?desde=2026-11-30&hasta=2026-11-01")
    assert backwards.status_code == 400 and "posterior" in backwards.content.decode()


def test_aging_buckets_open_receivables_by_days_overdue(books, tmp_path):
    company, browser = books
    assert [aging_bucket(d) for d in (-5, 0, 1, 30, 31, 60, 61, 90, 91)] == [0, 0, 1, 1, 2, 2, 3, 3, 4]
    receivable = Receivable.objects.filter(company=company, status="active", balance__gt=0).first()
    assert receivable is not None, "la demo tiene una venta a crédito"
    at = receivable.due_date + timedelta(days=45)
    page = browser.get(f"/reportes/antiguedad/?al={at}")
    report = page.context["report"]
    open_total = sum(
        r.balance * r.exchange_rate
        for r in Receivable.objects.filter(company=company, status="active", balance__gt=0, date__lte=at)
    )
    assert report.totals[-1] == open_total
    row = next(row for row in report.rows if row[1] == receivable.customer.name)
    assert row[4] >= receivable.balance  # "31 a 60 días"
    assert "<svg" in page.content.decode() and "31 a 60 días" in page.content.decode()
    rows = _xlsx_rows(browser.get(f"/reportes/antiguedad/?al={at}&formato=xlsx"))
    assert rows[3][2:8] == [
        "Por vencer",
        "1 a 30 días",
        "31 a 60 días",
        "61 a 90 días",
        "Más de 90 días",
        "Total",
    ]
    assert Decimal(str(rows[-1][-1])) == open_total
    assert "Antigüedad de saldos" in _pdf_text(
        browser.get(f"/reportes/antiguedad/?al={at}&formato=pdf"), tmp_path
    )


def test_customer_statement(books, tmp_path):
    company, browser = books
    receivable = (
        Receivable.objects.filter(company=company, status="active").select_related("customer").first()
    )
    chooser = browser.get("/reportes/estado-de-cuenta/")
    assert chooser.status_code == 200 and receivable.customer.name in chooser.content.decode()
    url = f"/reportes/estado-de-cuenta/?cliente={receivable.customer.pk}"
    report = browser.get(url).context["report"]
    charges = Receivable.objects.filter(customer=receivable.customer, status="active").aggregate(
        s=Sum("amount")
    )["s"]
    assert report.totals[3] == charges and report.rows[0][1].startswith(receivable.document_type)
    rows = _xlsx_rows(browser.get(url + "&formato=xlsx"))
    assert Decimal(str(rows[-1][3])) == charges
    assert receivable.customer.name in _pdf_text(browser.get(url + "&formato=pdf"), tmp_path)


def test_stock_valuation_by_warehouse(books, tmp_path):
    company, browser = books
    page = browser.get("/reportes/existencias/")
    report = page.context["report"]
    levels = StockLevel.objects.filter(company=company).exclude(quantity=0)
    value = sum((level.quantity * level.average_cost).quantize(Decimal("0.01")) for level in levels)
    assert value > 0 and report.totals[-1] == value and len(report.rows) == levels.count()
    assert {code for code, _ in report.chart} == set(levels.values_list("warehouse__code", flat=True))
    assert Decimal(str(_xlsx_rows(browser.get("/reportes/existencias/?formato=xlsx"))[-1][-1])) == value
    assert _money(value) in _pdf_text(browser.get("/reportes/existencias/?formato=pdf"), tmp_path)


def test_cash_and_bank_balances(books, tmp_path):
    company, browser = books
    report = browser.get("/reportes/caja-y-bancos/").context["report"]
    active = CashMovement.objects.filter(company=company, status="active", account__code="CAJA")
    deposits = active.filter(kind="deposit").aggregate(s=Sum("amount"))["s"] or Decimal(0)
    withdrawals = active.filter(kind="withdrawal").aggregate(s=Sum("amount"))["s"] or Decimal(0)
    row = next(row for row in report.rows if row[0] == "CAJA")
    assert deposits > 0 and row[5] == deposits - withdrawals
    rows = _xlsx_rows(browser.get("/reportes/caja-y-bancos/?formato=xlsx"))
    assert Decimal(str(next(r for r in rows if r[0] == "CAJA")[5])) == deposits - withdrawals
    assert "Saldos de caja y bancos" in _pdf_text(
        browser.get("/reportes/caja-y-bancos/?formato=pdf"), tmp_path
    )


def test_sales_by_day_of_the_month(books, tmp_path):
    company, browser = books
    today = timezone.localdate()
    page = browser.get(f"/reportes/ventas-por-dia/?mes={today:%Y-%m}")
    report = page.context["report"]
    sold = SalesDocument.objects.filter(
        company=company, kind="invoice", date__year=today.year, date__month=today.month
    ).exclude(status__in=["draft", "cancelled"])
    total = sum((d.total * d.exchange_rate).quantize(Decimal("0.01")) for d in sold)
    assert sold.exists() and report.totals[1] == sold.count() and report.totals[4] == total
    assert len(report.chart) >= 28 and dict(report.chart)[str(today.day)] == total - sum(
        (row[4] for row in report.rows if row[0] != today), Decimal(0)
    )
    assert "<svg" in page.content.decode()
    assert (
        report.totals[5]
        == SalesDocument.objects.filter(
            company=company,
            kind="invoice",
            status="cancelled",
            date__year=today.year,
            date__month=today.month,
        ).count()
    )
    rows = _xlsx_rows(browser.get(f"/reportes/ventas-por-dia/?mes={today:%Y-%m}&formato=xlsx"))
    assert Decimal(str(rows[-1][4])) == total
    assert _money(total) in _pdf_text(
        browser.get(f"/reportes/ventas-por-dia/?mes={today:%Y-%m}&formato=pdf"), tmp_path
    )
    assert browser.get("/reportes/ventas-por-dia/?mes=2026-13").status_code == 400


def test_a_cashier_does_not_see_the_reports(books):
    cashier = Client()
    cashier.force_login(get_user_model().objects.get(username="cajero"))
    assert cashier.get("/reportes/balanza/").status_code == 302  # to the admin login
