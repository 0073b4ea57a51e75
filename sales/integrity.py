"""«Verificar integridad»: the books prove themselves, company by company.

Each invariant is a read-only check that lists what breaks it (empty: it holds):

- numbering: sales documents numbered without repeats, consecutive per entity and kind (an entity
  that lets the cashier type the number may skip numbers, never repeat them); pólizas 1..n per
  kind and month, their sequence at n;
- every póliza balanced (debits = credits = its total);
- stock levels equal to the sum of their live movements;
- receivables: balance = amount − active records, never negative; one written by a posted
  invoice of a contable entity equals its póliza's debit to the customers account;
- every posted invoice of a company that seals has its CFDI (or one linked from elsewhere) or a
  recorded CFDI error (one posted less than ``pending_minutes`` ago may still be in the queue),
  except a counter ticket, whose CFDI is the global invoice of its period;
- no live row (receivable or its record, cash or stock movement, póliza) of a cancelled document
  (invoice, return or rebate), and no posted one missing its rows (receivable or balance record,
  collection or withdrawal, póliza, stock exit or entry).

``manage.py verify_books`` prints it and exits 1 on a break; the admin shows it to accountants.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils import timezone

from accounting.integrity import entry_numbering_breaks, unbalanced_entries
from accounting.models import AccountingVariable, JournalEntry, JournalLine
from accounting.variables import Variable
from cashbank.models import CashMovement
from cfdi.models import CfdiDocument, Csd
from erp.models import Company
from inventory.integrity import stock_level_breaks
from inventory.models import StockMovement

from .cfdi_mapping import SOURCE_MODEL
from .document_models import DocumentKind, DocumentStatus, Payment, SalesDocument
from .external_models import ExternalCfdi
from .models import COUNTER_CUSTOMER_NUMBER, SalesEntity
from .ownership import document_label
from .receivables.models import Receivable, ReceivableRecord
from .returns.models import CreditNote

INVARIANTS = {
    "numeracion": "Numeración consecutiva y única (documentos por entidad; pólizas por tipo y mes)",
    "polizas_cuadradas": "Cada póliza cuadrada (cargos = abonos)",
    "existencias": "Existencias iguales a sus movimientos",
    "cuentas_por_cobrar": "Saldos de cuentas por cobrar iguales a sus registros y a su póliza",
    "cfdi": "Cada factura agregada tiene su CFDI o su error de CFDI registrado",
    "registros_de_documentos": "Sin registros vivos de documentos cancelados ni documentos agregados sin ellos",
}
POSTED = (DocumentStatus.GENERATED, DocumentStatus.EMITTED, DocumentStatus.REVERTED)
LIVE_STOCK = (StockMovement.Status.GENERATED, StockMovement.Status.AUDITED)


@dataclass
class CompanyReport:
    company: Company
    breaks: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(self.breaks.values())

    def rows(self) -> list[tuple[str, str, list[str]]]:
        return [(code, label, self.breaks.get(code, [])) for code, label in INVARIANTS.items()]


def _name(document: SalesDocument) -> str:
    return f"{document.get_kind_display()} {document_label(document)}"


def document_numbering_breaks(company) -> list[str]:
    numbers = defaultdict(list)
    rows = (
        SalesDocument.objects.filter(company=company, number__isnull=False)
        .exclude(status=DocumentStatus.DRAFT)
        .values_list("entity", "kind", "number")
    )
    for entity, kind, number in rows:
        numbers[(entity, kind)].append(number)
    entities = {e.pk: e for e in SalesEntity.objects.filter(company=company)}
    breaks = []
    for (entity_id, kind), found in sorted(numbers.items()):
        entity, found = entities[entity_id], sorted(found)
        label = f"{DocumentKind(kind).label} de {entity.code}"
        repeated = sorted({n for n in found if found.count(n) > 1})
        if repeated:
            breaks.append(f"{label}: números repetidos {repeated[:5]}.")
        gaps = sorted(set(range(found[0], found[-1] + 1)) - set(found))
        if gaps and not entity.allow_number_change:
            breaks.append(f"{label}: faltan los números {gaps[:5]} en el consecutivo.")
        if kind == DocumentKind.INVOICE and found[-1] >= entity.next_number:
            breaks.append(
                f"{label}: el número {found[-1]} no es menor que el siguiente ({entity.next_number})."
            )
    return breaks


def receivable_breaks(company) -> list[str]:
    breaks = []
    applied = dict(
        ReceivableRecord.objects.filter(receivable__company=company, status=ReceivableRecord.Status.ACTIVE)
        .values("receivable")
        .annotate(total=Sum("amount"))
        .values_list("receivable", "total")
    )
    receivables = list(Receivable.objects.filter(company=company).order_by("pk"))
    for receivable in receivables:
        expected = receivable.amount - applied.get(receivable.pk, Decimal(0))
        if receivable.status == Receivable.Status.ACTIVE and receivable.balance != expected:
            breaks.append(
                f"Cuenta por cobrar {receivable.document_number}: saldo {receivable.balance}; "
                f"importe menos registros {expected}."
            )
        if receivable.balance < 0:
            breaks.append(
                f"Cuenta por cobrar {receivable.document_number}: saldo negativo {receivable.balance}."
            )
    # Each live receivable an invoice of a contable entity wrote, against its póliza's debit to
    # the customers account (in pesos, as the póliza records it).
    customers_account = (
        AccountingVariable.objects.filter(company=company, name=Variable.CUSTOMERS)
        .values_list("account", flat=True)
        .first()
    )
    invoices = {
        d.origin_reference: d
        for d in SalesDocument.objects.filter(
            company=company, kind=DocumentKind.INVOICE, status__in=POSTED, payment=Payment.CREDIT,
            entity__mode=SalesEntity.Mode.CONTABLE,
        ).select_related("entity")
    }  # fmt: skip
    debits = dict(
        JournalLine.objects.filter(
            entry__company=company,
            entry__status=JournalEntry.Status.POSTED,
            entry__origin__in=list(invoices),
            account=customers_account,
        )
        .values("entry__origin")
        .annotate(total=Sum("debit"))
        .values_list("entry__origin", "total")
    )
    for receivable in receivables:
        invoice = invoices.get(receivable.origin)
        if invoice is None or receivable.status != Receivable.Status.ACTIVE:
            continue
        national = (receivable.amount * receivable.exchange_rate).quantize(Decimal("0.01"))
        if debits.get(receivable.origin) != national:
            breaks.append(
                f"Cuenta por cobrar de {_name(invoice)}: {national} en pesos; su póliza carga a clientes "
                f"{debits.get(receivable.origin)}."
            )
    return breaks


def cfdi_breaks(company, *, pending_minutes: int) -> list[str]:
    if not Csd.objects.filter(company=company).exists():
        return []
    cutoff = timezone.now() - timedelta(minutes=pending_minutes)
    posted = SalesDocument.objects.filter(
        company=company, kind=DocumentKind.INVOICE, status__in=POSTED, cfdi_error="", posted_at__lte=cutoff
    )
    with_cfdi = CfdiDocument.objects.filter(
        source_model=SOURCE_MODEL, source_id__in=posted.values("pk")
    ).values("source_id")
    linked = ExternalCfdi.objects.filter(invoice__in=posted.values("pk")).values("invoice")
    # A ticket still to customer 0 has no CFDI of its own: the global invoice of its period has it.
    tickets = posted.filter(ticket=True, customer_number=COUNTER_CUSTOMER_NUMBER).values("pk")
    missing = (
        posted.exclude(pk__in=with_cfdi)
        .exclude(pk__in=linked)
        .exclude(pk__in=tickets)
        .order_by("entity", "number")
    )
    return [f"{_name(document)}: agregada sin CFDI ni error de CFDI registrado." for document in missing[:50]]


def _live_rows_by_origin(company) -> dict[str, list[str]]:
    rows = defaultdict(list)
    for origin in Receivable.objects.filter(company=company, status=Receivable.Status.ACTIVE).values_list(
        "origin", flat=True
    ):
        rows[origin].append("cuenta por cobrar")
    for origin in ReceivableRecord.objects.filter(
        company=company, status=ReceivableRecord.Status.ACTIVE
    ).values_list("origin", flat=True):
        rows[origin].append("registro de cuenta por cobrar")
    for origin in CashMovement.objects.filter(company=company, status=CashMovement.Status.ACTIVE).values_list(
        "origin", flat=True
    ):
        rows[origin].append("movimiento de caja o banco")
    for origin in StockMovement.objects.filter(company=company, status__in=LIVE_STOCK).values_list(
        "origin", flat=True
    ):
        rows[origin].append("movimiento de almacén")
    for origin in JournalEntry.objects.filter(company=company, status=JournalEntry.Status.POSTED).values_list(
        "origin", flat=True
    ):
        rows[origin].append("póliza")
    rows.pop("", None)
    return rows


def document_row_breaks(company) -> list[str]:
    live = _live_rows_by_origin(company)
    breaks = []
    documents = (
        SalesDocument.objects.filter(company=company)
        .filter(Q(status=DocumentStatus.CANCELLED) | Q(kind=DocumentKind.INVOICE, status__in=POSTED))
        .select_related("entity", "stock_movement")
        .order_by("pk")
    )
    for document in documents:
        rows = live.get(document.origin_reference, [])
        if document.status == DocumentStatus.CANCELLED:
            if rows:
                breaks.append(
                    f"{_name(document)} está cancelada y conserva vivos: {', '.join(sorted(set(rows)))}."
                )
            continue
        missing = []
        if document.payment == Payment.CREDIT and "cuenta por cobrar" not in rows:
            missing.append("cuenta por cobrar")
        if document.payment == Payment.CASH and "movimiento de caja o banco" not in rows:
            missing.append("cobro en caja o banco")
        if document.entity.is_contable and "póliza" not in rows:
            missing.append("póliza")
        if document.stock_movement and document.stock_movement.status == StockMovement.Status.CANCELLED:
            missing.append("salida del almacén")
        if missing:
            breaks.append(f"{_name(document)} está agregada y le falta: {', '.join(missing)}.")
    return breaks + _credit_note_row_breaks(company, live)


def _credit_note_row_breaks(company, live: dict[str, list[str]]) -> list[str]:
    """The same for returns and rebates: a cancelled one keeps nothing live; an emitted one has
    its balance record (crédito) or withdrawal (contado), its póliza, and its stock entry."""
    breaks = []
    notes = (
        CreditNote.objects.filter(company=company)
        .exclude(status=CreditNote.Status.DRAFT)
        .select_related("entity", "stock_movement")
        .order_by("pk")
    )
    for note in notes:
        rows = live.get(note.origin_reference, [])
        name = f"La {note.get_kind_display().lower()} {note.series}{note.number}"
        if note.status == CreditNote.Status.CANCELLED:
            if rows:
                breaks.append(f"{name} está cancelada y conserva vivos: {', '.join(sorted(set(rows)))}.")
            continue
        missing = []
        if note.payment == Payment.CREDIT and "registro de cuenta por cobrar" not in rows:
            missing.append("registro de cuenta por cobrar")
        if note.payment == Payment.CASH and "movimiento de caja o banco" not in rows:
            missing.append("retiro de caja o banco")
        if note.entity.is_contable and "póliza" not in rows:
            missing.append("póliza")
        if note.stock_movement and note.stock_movement.status == StockMovement.Status.CANCELLED:
            missing.append("entrada al almacén")
        if missing:
            breaks.append(f"{name} está emitida y le falta: {', '.join(missing)}.")
    return breaks


def verify_company(company, *, pending_minutes: int = 15) -> CompanyReport:
    return CompanyReport(
        company=company,
        breaks={
            "numeracion": document_numbering_breaks(company) + entry_numbering_breaks(company),
            "polizas_cuadradas": unbalanced_entries(company),
            "existencias": stock_level_breaks(company),
            "cuentas_por_cobrar": receivable_breaks(company),
            "cfdi": cfdi_breaks(company, pending_minutes=pending_minutes),
            "registros_de_documentos": document_row_breaks(company),
        },
    )


def verify_books(companies=None, *, pending_minutes: int = 15) -> list[CompanyReport]:
    companies = Company.objects.order_by("pk") if companies is None else companies
    return [verify_company(company, pending_minutes=pending_minutes) for company in companies]
