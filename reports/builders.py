"""The accountant's daily reports (issue 19), each built once as a ``Report`` that the page, the
XLSX and the PDF all render, so the three never disagree.

The numbers come from the apps' selectors and are not computed again here: the balanza from
``accounting.selectors.trial_balance``, the customer statement from
``sales.receivables.selectors.customer_statement``, cash and bank from
``cashbank.selectors.balances_at``/``balance_of``, stock from ``inventory.selectors.stock_levels``,
the month's sales from ``sales.document_selectors.documents_for_list``. What a report adds is only
its arrangement: the aging buckets of the open receivables and the sums per day.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import timedelta
from decimal import Decimal

from django.urls import reverse

from accounting.models import Account, JournalEntry, JournalLine
from accounting.selectors import trial_balance
from cashbank.selectors import balance_of, balances_at
from erp.money import ZERO, quantize
from inventory.selectors import stock_levels
from sales.document_models import DocumentKind, SalesDocument
from sales.document_selectors import documents_for_list
from sales.receivables.models import Receivable
from sales.receivables.selectors import customer_statement

TEXT, MONEY, NUMBER, DATE = "text", "money", "number", "date"


@dataclass
class Column:
    label: str
    kind: str = TEXT


@dataclass
class Report:
    """A table with its totals and, for some reports, a bar chart of (label, value)."""

    slug: str
    title: str
    company: object
    subtitle: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    totals: list | None = None
    links: list[str | None] = field(default_factory=list)  # a drill-down per row, on the page only
    levels: list[int] = field(default_factory=list)  # indentation per row (the chart of accounts)
    chart: list[tuple[str, Decimal]] | None = None
    chart_title: str = ""
    note: str = ""
    balances: bool | None = None  # the balanza: whether it balances


def _money(value) -> Decimal:
    return quantize(value)


# -- Balanza de comprobación -------------------------------------------------------------------


def trial_balance_report(*, company, date_from: Date, date_to: Date) -> Report:
    balance = trial_balance(company=company, date_from=date_from, date_to=date_to)
    report = Report(
        slug="balanza",
        title="Balanza de comprobación",
        company=company,
        subtitle=f"Del {date_from:%d/%m/%Y} al {date_to:%d/%m/%Y}",
        columns=[
            Column("Cuenta"),
            Column("Nombre"),
            Column("Saldo inicial", MONEY),
            Column("Cargos", MONEY),
            Column("Abonos", MONEY),
            Column("Saldo final", MONEY),
        ],  # fmt: skip
    )
    period = f"?desde={date_from.isoformat()}&hasta={date_to.isoformat()}&empresa={company.pk}"
    for row in balance.rows:
        if not (row.opening or row.debit or row.credit or row.closing):
            continue
        report.rows.append([row.code, row.account.name, row.opening, row.debit, row.credit, row.closing])
        report.levels.append(row.level)
        report.links.append(reverse("reports:trial-balance-account", args=[row.account.pk]) + period)
    report.totals = ["", "Sumas iguales", None, balance.total_debit, balance.total_credit, None]
    report.note = (
        "La balanza cuadra: cargos = abonos, saldos deudores = saldos acreedores."
        if balance.balances
        else "LA BALANZA NO CUADRA: revise las pólizas del periodo."
    )
    report.balances = balance.balances
    return report


def account_entries_report(*, account, date_from: Date, date_to: Date) -> Report:
    """The drill-down of a balanza row: the póliza lines of the account (and its sub-accounts)."""
    codes = Account.objects.filter(company=account.company, code__startswith=account.code)
    lines = (
        JournalLine.objects.filter(
            account__in=codes,
            entry__status=JournalEntry.Status.POSTED,
            entry__date__gte=date_from,
            entry__date__lte=date_to,
        )
        .select_related("entry", "account")
        .order_by("entry__date", "entry__kind", "entry__number", "position")
    )
    report = Report(
        slug="balanza-cuenta",
        title=f"Pólizas de la cuenta {account.code} {account.name}",
        company=account.company,
        subtitle=f"Del {date_from:%d/%m/%Y} al {date_to:%d/%m/%Y}",
        columns=[
            Column("Fecha", DATE),
            Column("Póliza"),
            Column("Concepto"),
            Column("Cuenta"),
            Column("Cargo", MONEY),
            Column("Abono", MONEY),
        ],  # fmt: skip
    )
    debit = credit = ZERO
    for line in lines:
        entry = line.entry
        report.rows.append(
            [entry.date, f"{entry.get_kind_display()} {entry.number}", line.description or entry.concept,
             line.account.code, line.debit, line.credit]
        )  # fmt: skip
        report.links.append(reverse("admin:accounting_journalentry_change", args=[entry.pk]))
        debit += line.debit
        credit += line.credit
    report.totals = ["", "", "Total", "", debit, credit]
    return report


# -- Estado de cuenta del cliente --------------------------------------------------------------


def customer_statement_report(*, customer, date_from: Date | None, date_to: Date | None) -> Report:
    lines = customer_statement(customer=customer, date_from=date_from, date_to=date_to)
    period = "Todos los movimientos"
    if date_from or date_to:
        period = f"Del {date_from:%d/%m/%Y} " if date_from else ""
        period += f"al {date_to:%d/%m/%Y}" if date_to else "a la fecha"
    report = Report(
        slug="estado-de-cuenta",
        title=f"Estado de cuenta de {customer.name}",
        company=customer.entity.company,
        subtitle=f"Cliente {customer.number} ({customer.rfc}), {customer.entity.name}. {period}",
        columns=[
            Column("Fecha", DATE),
            Column("Concepto"),
            Column("Moneda"),
            Column("Cargos", MONEY),
            Column("Abonos", MONEY),
            Column("Saldo", MONEY),
        ],  # fmt: skip
    )
    for line in lines:
        report.rows.append(
            [line.date, line.description, line.currency, line.charge, line.credit, line.balance]
        )
    if lines and len({line.currency for line in lines}) == 1:
        report.totals = [
            "", "Totales", lines[0].currency, sum((line.charge for line in lines), ZERO),
            sum((line.credit for line in lines), ZERO), lines[-1].balance,
        ]  # fmt: skip
    return report


# -- Antigüedad de saldos ----------------------------------------------------------------------

AGING_BUCKETS = ["Por vencer", "1 a 30 días", "31 a 60 días", "61 a 90 días", "Más de 90 días"]


def aging_bucket(days_overdue: int) -> int:
    if days_overdue <= 0:
        return 0
    if days_overdue <= 30:
        return 1
    if days_overdue <= 60:
        return 2
    if days_overdue <= 90:
        return 3
    return 4


def aging_report(*, company, at: Date) -> Report:
    """Open receivables (their balance, in national currency at their exchange rate) by customer
    and by days past their due date at ``at``."""
    open_ = (
        Receivable.objects.filter(
            company=company, status=Receivable.Status.ACTIVE, balance__gt=0, date__lte=at
        )
        .select_related("customer")
        .order_by("customer__name", "due_date")
    )
    by_customer: dict[int, list] = {}
    for receivable in open_:
        customer = receivable.customer
        row = by_customer.setdefault(customer.pk, [customer.number, customer.name] + [ZERO] * 6)
        amount = _money(receivable.balance * receivable.exchange_rate)
        row[2 + aging_bucket((at - receivable.due_date).days)] += amount
        row[7] += amount
    report = Report(
        slug="antiguedad",
        title="Antigüedad de saldos de clientes",
        company=company,
        subtitle=f"Al {at:%d/%m/%Y}, en moneda nacional",
        columns=[Column("Cliente"), Column("Nombre")]
        + [Column(label, MONEY) for label in AGING_BUCKETS]
        + [Column("Total", MONEY)],
    )
    report.rows = sorted(by_customer.values(), key=lambda row: row[1])
    totals = [sum((row[i] for row in report.rows), ZERO) for i in range(2, 8)]
    report.totals = ["", "Total"] + totals
    report.chart = list(zip(AGING_BUCKETS, totals[:5], strict=True))
    report.chart_title = "Saldo por antigüedad"
    return report


# -- Existencias y valuación por bodega --------------------------------------------------------


def stock_report(*, company) -> Report:
    levels = stock_levels(company=company).exclude(quantity=0).order_by("warehouse__code", "product__code")
    report = Report(
        slug="existencias",
        title="Existencias y valuación por bodega",
        company=company,
        subtitle="Existencia y costo promedio actuales",
        columns=[
            Column("Bodega"),
            Column("Clave"),
            Column("Producto"),
            Column("Existencia", NUMBER),
            Column("Costo promedio", MONEY),
            Column("Valor", MONEY),
        ],  # fmt: skip
    )
    per_warehouse: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for level in levels:
        value = _money(level.quantity * level.average_cost)
        per_warehouse[level.warehouse.code] += value
        report.rows.append(
            [level.warehouse.code, level.product.code, level.product.description, level.quantity,
             level.average_cost, value]
        )  # fmt: skip
    report.totals = ["", "", "Total", None, None, sum(per_warehouse.values(), ZERO)]
    report.chart = sorted(per_warehouse.items())
    report.chart_title = "Valor del inventario por bodega"
    return report


# -- Saldos de caja y bancos -------------------------------------------------------------------


def cash_report(*, company, at: Date) -> Report:
    report = Report(
        slug="caja-y-bancos",
        title="Saldos de caja y bancos",
        company=company,
        subtitle=f"Al {at:%d/%m/%Y}",
        columns=[
            Column("Cuenta"),
            Column("Nombre"),
            Column("Moneda"),
            Column("Depósitos", MONEY),
            Column("Retiros", MONEY),
            Column("Saldo", MONEY),
        ],  # fmt: skip
    )
    national = ZERO
    for account in balances_at(company=company, date=at):
        balance = balance_of(account)
        report.rows.append(
            [account.code, account.name, account.currency.code, _money(account.deposits),
             _money(account.withdrawals), balance]
        )  # fmt: skip
        if account.currency.is_national:
            national += balance
    report.totals = ["", "Total en moneda nacional", "", None, None, national]
    return report


# -- Ventas por día del mes --------------------------------------------------------------------


def sales_by_day_report(*, company, month: str) -> Report:
    """Invoices of the month (the list's "Todas": drafts left out), cancelled ones apart, per day
    in national currency (total × exchange rate)."""
    invoices = documents_for_list(
        SalesDocument.objects.filter(company=company, kind=DocumentKind.INVOICE),
        tab="todas",
        period="mes",
        month=month,
    )
    days: dict[Date, list] = {}
    for invoice in invoices.order_by():
        row = days.setdefault(invoice.date, [invoice.date, 0, ZERO, ZERO, ZERO, 0])
        if invoice.status == "cancelled":
            row[5] += 1
            continue
        rate = invoice.exchange_rate
        row[1] += 1
        row[2] += _money(invoice.subtotal * rate)
        row[3] += _money((invoice.iva + invoice.ieps) * rate)
        row[4] += _money(invoice.total * rate)
    year, number = (int(part) for part in month.split("-"))
    first = Date(year, number, 1)
    report = Report(
        slug="ventas-por-dia",
        title="Ventas por día",
        company=company,
        subtitle=f"{MONTHS[number - 1]} de {year}, en moneda nacional (sin borradores ni canceladas)",
        columns=[
            Column("Fecha", DATE),
            Column("Facturas", NUMBER),
            Column("Subtotal", MONEY),
            Column("Impuestos", MONEY),
            Column("Total", MONEY),
            Column("Canceladas", NUMBER),
        ],  # fmt: skip
    )
    report.rows = [days[day] for day in sorted(days)]
    report.totals = ["Total"] + [
        sum((row[i] for row in report.rows), 0 if i in (1, 5) else ZERO) for i in range(1, 6)
    ]
    day, last = first, (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    report.chart = []
    while day <= last:
        report.chart.append((str(day.day), days[day][4] if day in days else ZERO))
        day += timedelta(days=1)
    report.chart_title = "Total vendido por día"
    return report


MONTHS = ["Enero", "Febrero", "Marzo", "Abril", "Mayo", "Junio", "Julio", "Agosto", "Septiembre", "Octubre",
          "Noviembre", "Diciembre"]  # fmt: skip
