"""Row builders for the list-query test (tests/test_list_queries.py): one per listed model.

The test discovers every API list endpoint and every admin changelist by itself and fails for a
listed model with no builder here. Adding a list therefore means adding one registration:

    ROW_BUILDERS[CreditNote] = lambda world, n: [credit_note(world) for _ in range(n)]

A builder adds ``n`` more rows of its model to ``world.company`` (or, for models that are one per
company, to new companies), through the services where the rows are written by services, so each
row carries what the list shows of it (lines, pólizas, stock movements, CFDIs, receivables).
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Max
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from rest_framework.authtoken.models import Token, TokenProxy

from accounting.models import Account, AccountingVariable, ClosedPeriod, JournalEntry, JournalLine
from cashbank.models import CashBankAccount, CashMovement
from cfdi.models import CfdiDocument, CfdiSettings, Csd, PacAccount
from erp.models import Company, Currency, ExchangeRate, Membership, Role
from inventory.models import Product, ProductLine, StockLevel, StockMovement, Warehouse
from inventory.services import audit_stock_movement, revert_stock_movement
from sales.cancellation import cancel_invoice_and_cfdi
from sales.cfdi_import.models import ProductAssociation, XmlInvoice
from sales.cfdi_import.services import build_xml_invoice
from sales.document_models import SalesDocument
from sales.documents import LineRequest, create_document
from sales.external_cfdi import load_external_cfdi
from sales.external_models import ExternalCfdi
from sales.global_invoice.models import GlobalInvoice
from sales.global_invoice.services import create_global_invoice
from sales.invoice_cfdi import seal_invoice
from sales.models import Customer, SalesEntity, Salesperson
from sales.payments.models import CustomerAdvance, CustomerPayment
from sales.payments.services import apply_advance, create_payment, post_payment
from sales.posting import Collection, post_invoice
from sales.receivables.models import Receivable, ReceivableRecord
from sales.receivables.services import apply_receivable_record
from sales.returns.models import CreditNote
from sales.returns.services import create_credit_note, post_credit_note
from sync.models import Connection, CustomerImport, Event, Run, WopenDocument
from tests.factories import (
    AccountFactory,
    CashBankAccountFactory,
    CompanyFactory,
    CustomerFactory,
    ProductFactory,
    ProductLineFactory,
    SalespersonFactory,
    UserFactory,
    WarehouseFactory,
    sales_entity,
    set_all_variables,
    user_with_role,
)
from tests.factories_cfdi import install_test_csd
from tests.factories_external_cfdi import seal_by_hand, stamped_elsewhere
from tests.factories_ledgers import opening_stock

DAY = date(2026, 11, 20)


@dataclass
class World:
    """The demo company the lists are read in, and a counter for unique codes."""

    company: Company
    entity: SalesEntity
    customer: Customer
    cash: CashBankAccount
    user: object
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def next(self) -> int:
        return next(self.counter)

    def code(self, *, prefix: str) -> str:
        """A unique three-letter code (currencies)."""
        n = self.next()
        return f"{prefix}{chr(65 + n // 26 % 26)}{chr(65 + n % 26)}"

    def new_company(self) -> Company:
        n = self.next()
        return CompanyFactory(rfc=f"LQT0101{n % 28 + 1:02d}{n:03d}"[:12], legal_name=f"EMPRESA LISTA {n}")

    def invoice(self, *, payment: str = "credit", post: bool = True, day: date = DAY) -> SalesDocument:
        """A two-line invoice of goods from stock (so it has a stock exit and a cost póliza)."""
        n = self.next()
        products = [ProductFactory(company=self.company, code=f"LQ{n:04d}{k}") for k in "AB"]
        opening_stock(self.company, [(p, 10, "7.50") for p in products])
        document, _ = create_document(
            kind="invoice",
            entity=self.entity,
            customer=self.customer,
            date=day,
            payment=payment,
            lines=[LineRequest(p.code, Decimal(1)) for p in products],
        )
        if not post:
            return document
        collections = [Collection(account=self.cash, amount=document.total)] if payment == "cash" else None
        return post_invoice(document=document, collections=collections)


Builder = Callable[[World, int], object]
ROW_BUILDERS: dict[type, Builder] = {}


def _times(make: Callable[[World], object]) -> Builder:
    return lambda world, n: [make(world) for _ in range(n)]


def _documents(world: World, n: int) -> None:
    """Invoices of both payments (one with its stock exit audited: effective status Emitida) and
    one of each other kind."""
    for i in range(n):
        invoice = world.invoice(payment="cash" if i % 2 else "credit")
        if i == 0:
            audit_stock_movement(movement=invoice.stock_movement, user=world.user)
        for kind in ("quote", "order", "remission"):
            create_document(
                kind=kind,
                entity=world.entity,
                customer=world.customer,
                date=DAY,
                payment="credit",
                lines=[LineRequest("COLEG", Decimal(1), unit_price=Decimal("100"))],
            )


def bulk_invoices(world: World, n: int, *, day: date = DAY) -> None:
    """``n`` invoices at once, for lists measured at thousands of rows (issue 19: 5,000 invoices).

    Five invoices are made through the services, one of each effective status (generated,
    emitted: exit audited, reverted: exit reverted, cancelled, draft); the ``n`` rows are copies
    of them written with one ``bulk_create`` (on Postgres, a few seconds), each with its own
    number and pointing at its model's stock exit, so every tab of the lists gets a fifth."""
    models = [world.invoice(day=day) for _ in range(4)] + [world.invoice(day=day, post=False)]
    audit_stock_movement(movement=models[1].stock_movement, user=world.user)
    revert_stock_movement(movement=models[2].stock_movement, user=world.user)
    cancel_invoice_and_cfdi(document=models[3], motive="03", user=world.user)
    for model in models:
        model.refresh_from_db()
    first = SalesDocument.objects.filter(entity=world.entity, kind="invoice").aggregate(Max("number"))[
        "number__max"
    ]
    copies = []
    for i in range(n):
        copy = SalesDocument(
            **{f.attname: getattr(models[i % 5], f.attname) for f in SalesDocument._meta.concrete_fields}
        )
        copy.pk = None
        copy.idempotency_key = None
        copy.number = None if copy.status == "draft" else first + 1 + i
        copies.append(copy)
    SalesDocument.objects.bulk_create(copies, batch_size=1000)
    SalesEntity.objects.filter(pk=world.entity.pk).update(next_number=first + n + 1)


def _receivable_records(world: World, n: int) -> None:
    for _ in range(n):
        receivable = Receivable.objects.get(origin=world.invoice(payment="credit").origin_reference)
        apply_receivable_record(
            receivable=receivable, kind="payment", date=DAY, amount=Decimal("1.00"), user=world.user
        )


def _cfdis(world: World, n: int) -> None:
    for _ in range(n):
        seal_invoice(invoice=world.invoice())


def _external_cfdi_xml(n: int) -> bytes:
    unsealed = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4" Version="4.0" Serie="EXT" '
        f'Folio="{n}" Fecha="2026-11-20T09:00:00" SubTotal="1000.00" Moneda="MXN" Total="1160.00" '
        'TipoDeComprobante="I" Exportacion="01" LugarExpedicion="42501">'
        '<cfdi:Emisor Rfc="EKU9003173C9" Nombre="ESCUELA KEMPER URGATE" RegimenFiscal="601"/>'
        '<cfdi:Receptor Rfc="URE180429TM6" Nombre="UNIVERSIDAD ROBOTICA ESPAÑOLA" '
        'DomicilioFiscalReceptor="86991" RegimenFiscalReceptor="601" UsoCFDI="G03"/>'
        "</cfdi:Comprobante>"
    ).encode()
    return seal_by_hand(unsealed, uuid_=f"00000000-0000-4000-8000-{n:012d}")


def _external_cfdis(world: World, n: int) -> None:
    for _ in range(n):
        load_external_cfdi(entity=world.entity, xml=_external_cfdi_xml(world.next()), user=world.user)


def _xml_invoices(world: World, n: int) -> None:
    """Templates of invoices built from CFDIs the company stamped elsewhere (its own CSD)."""
    if not Csd.objects.filter(company=world.company).exists():
        install_test_csd(world.company)
    for _ in range(n):
        xml = stamped_elsewhere(world.company, folio=str(world.next()))
        external = load_external_cfdi(entity=world.entity, xml=xml, user=world.user)
        build_xml_invoice(external=external, user=world.user)


def _connection(world: World) -> Connection:
    return Connection.objects.create(
        company=world.company, kind=Connection.Kind.QR_CUSTOMERS, name=f"QR {world.next()}", period_minutes=60
    )


def _runs(world: World, n: int) -> None:
    connection = _connection(world)
    for _ in range(n):
        Run.objects.create(company=world.company, connection=connection, trigger=Run.Trigger.MANUAL)


def _events(world: World, n: int) -> None:
    connection = _connection(world)
    run = Run.objects.create(company=world.company, connection=connection, trigger=Run.Trigger.MANUAL)
    for _ in range(n):
        Event.objects.create(
            company=world.company,
            connection=connection,
            run=run,
            level=Event.Level.INFO,
            message="Cliente creado.",
        )


def _wopen_documents(world: World, n: int) -> None:
    """Orders brought in from Wopen, each with its external key."""
    connection = _connection(world)
    for _ in range(n):
        order, _ = create_document(
            kind="order",
            entity=world.entity,
            customer=world.customer,
            date=DAY,
            lines=[LineRequest("COLEG", Decimal(1), unit_price=Decimal("100"))],
        )
        WopenDocument.objects.create(
            company=world.company,
            connection=connection,
            wopen_kind="pedido",
            wopen_id=f"P-{world.next()}",
            document=order,
        )


def _customer_imports(world: World, n: int) -> None:
    """Customer file previews (issue 13), each with the connection it belongs to."""
    connection = _connection(world)
    for i in range(n):
        CustomerImport.objects.create(
            company=world.company, connection=connection, source=CustomerImport.Source.UPLOAD,
            file_name=f"clientes-{i}.xlsx", sha256=f"{i:064d}", to_create=1,
        )  # fmt: skip


def _credit_notes(world: World, n: int) -> None:
    """Returns of whole crédito invoices, posted (receivable record, pólizas, stock entry)."""
    for _ in range(n):
        invoice = world.invoice(payment="credit")
        note = create_credit_note(invoice=invoice, kind=CreditNote.Kind.RETURN, date=DAY, user=world.user)
        post_credit_note(credit_note=note, user=world.user)


def _payments(world: World, n: int) -> None:
    """Cash payments of whole crédito invoices, posted (deposit, receivable record, póliza)."""
    for _ in range(n):
        invoice = world.invoice(payment="credit")
        payment = create_payment(
            company=world.company,
            entity=world.entity,
            customer=world.customer,
            date=DAY,
            account=world.cash,
            amount=invoice.total,
            payment_form="01",
            applications=[{"invoice": invoice, "amount": invoice.total}],
            user=world.user,
        )
        post_payment(payment=payment, user=world.user)


def _advances(world: World, n: int) -> None:
    """Payments of a whole crédito invoice plus 10.00 left as the customer's advance, one applied
    in part to another invoice."""
    from accounting.variables import Variable

    AccountingVariable.objects.get_or_create(
        company=world.company,
        name=Variable.CUSTOMER_ADVANCES,
        defaults={"account": AccountFactory(company=world.company, code=f"LQ-ANT{world.next()}")},
    )
    for _ in range(n):
        invoice = world.invoice(payment="credit")
        payment = create_payment(
            company=world.company,
            entity=world.entity,
            customer=world.customer,
            date=DAY,
            account=world.cash,
            amount=invoice.total + 10,
            payment_form="01",
            applications=[{"invoice": invoice, "amount": invoice.total}],
            leave_advance=True,
            user=world.user,
        )
        post_payment(payment=payment, user=world.user)
        apply_advance(
            advance=payment.advance_record,
            invoice=world.invoice(payment="credit"),
            amount=1,
            date=DAY,
            user=world.user,
        )


def _global_invoices(world: World, n: int) -> None:
    """Draft global invoices of two counter tickets each, one day apart."""
    SalesEntity.objects.filter(pk=world.entity.pk).update(counter_tickets=True)
    world.entity.refresh_from_db()
    counter = Customer.objects.get(entity=world.entity, number=0)
    for _ in range(n):
        day = DAY - timedelta(days=world.next())
        for _ticket in range(2):
            product = ProductFactory(company=world.company, code=f"LQG{world.next():04d}")
            opening_stock(world.company, [(product, 10, "7.50")])
            document, _ = create_document(
                kind="invoice",
                entity=world.entity,
                customer=counter,
                date=day,
                payment="cash",
                lines=[LineRequest(product.code, Decimal(1))],
            )
            post_invoice(
                document=document, collections=[Collection(account=world.cash, amount=document.total)]
            )
        create_global_invoice(company=world.company, entity=world.entity, date_from=day, user=world.user)


def _users(world: World, n: int) -> None:
    for _ in range(n):
        user_with_role(world.company, Role.ACCOUNTANT, username=f"lista{world.next()}")


def _tokens(world: World, n: int) -> None:
    for _ in range(n):
        Token.objects.create(user=UserFactory(username=f"token{world.next()}"))


def _periodic_tasks(world: World, n: int) -> None:
    for _ in range(n):
        k = world.next()
        PeriodicTask.objects.create(
            name=f"tarea {k}",
            task="erp.celery.debug",
            interval=IntervalSchedule.objects.create(every=k, period=IntervalSchedule.MINUTES),
            crontab=None,
        )


ROW_BUILDERS.update(
    {
        # erp
        Company: _times(World.new_company),
        Currency: _times(lambda w: Currency.objects.create(code=w.code(prefix="Z"), name="Moneda")),
        ExchangeRate: _times(
            lambda w: ExchangeRate.objects.create(
                company=w.company,
                currency=Currency.objects.get(code="USD"),
                date=DAY - timedelta(days=w.next()),
                rate=Decimal("17.5"),
            )
        ),
        Membership: _users,
        get_user_model(): _users,
        Group: _times(lambda w: Group.objects.create(name=f"Grupo {w.next()}")),
        TokenProxy: _tokens,
        # accounting
        Account: _times(lambda w: AccountFactory(company=w.company, code=f"LQ-{w.next()}")),
        AccountingVariable: _times(lambda w: set_all_variables(w.new_company())),
        JournalEntry: _times(World.invoice),
        JournalLine: _times(World.invoice),
        ClosedPeriod: _times(
            lambda w: ClosedPeriod.objects.create(company=w.company, year=2000 + w.next(), month=1)
        ),
        # cashbank
        CashBankAccount: _times(lambda w: CashBankAccountFactory(company=w.company, code=f"LQ{w.next()}")),
        CashMovement: _times(lambda w: w.invoice(payment="cash")),
        # inventory
        ProductLine: _times(lambda w: ProductLineFactory(company=w.company, code=f"LQ{w.next()}")),
        Product: _times(lambda w: ProductFactory(company=w.company, code=f"LQP{w.next()}")),
        Warehouse: _times(lambda w: WarehouseFactory(company=w.company, code=f"LQ{w.next()}")),
        StockMovement: _times(World.invoice),
        StockLevel: _times(World.invoice),
        # cfdi
        Csd: _times(lambda w: install_test_csd(w.company)),
        CfdiDocument: _cfdis,
        PacAccount: _times(
            lambda w: PacAccount.objects.create(company=w.new_company(), provider="finkok", username="demo")
        ),
        CfdiSettings: _times(lambda w: CfdiSettings.objects.create(company=w.new_company())),
        # sales
        Salesperson: _times(lambda w: SalespersonFactory(company=w.company, number=100 + w.next())),
        SalesEntity: _times(lambda w: sales_entity(w.company, code=f"LQ{w.next()}")),
        Customer: _times(lambda w: CustomerFactory(entity=w.entity, number=100 + w.next())),
        SalesDocument: _documents,
        ExternalCfdi: _external_cfdis,
        Receivable: _times(World.invoice),
        ReceivableRecord: _receivable_records,
        XmlInvoice: _xml_invoices,
        CreditNote: _credit_notes,
        CustomerPayment: _payments,
        GlobalInvoice: _global_invoices,
        CustomerAdvance: _advances,
        ProductAssociation: _times(
            lambda w: ProductAssociation.objects.create(
                company=w.company,
                customer=w.customer,
                kind=ProductAssociation.Kind.SKU,
                key=f"CLAVE-{w.next()}",
                product=ProductFactory(company=w.company, code=f"LQA{w.next()}"),
            )
        ),
        # sync
        Connection: _times(_connection),
        Run: _runs,
        Event: _events,
        WopenDocument: _wopen_documents,
        CustomerImport: _customer_imports,
        # django-celery-beat (the admin's schedules)
        PeriodicTask: _periodic_tasks,
        IntervalSchedule: _times(lambda w: IntervalSchedule.objects.create(every=w.next(), period="hours")),
        CrontabSchedule: _times(lambda w: CrontabSchedule.objects.create(minute=str(w.next() % 60))),
        SolarSchedule: _times(
            lambda w: SolarSchedule.objects.create(event="sunrise", latitude=w.next(), longitude=10)
        ),
        ClockedSchedule: _times(
            lambda w: ClockedSchedule.objects.create(clocked_time=f"2026-12-{w.next() % 28 + 1:02d}T10:00Z")
        ),
    }
)


# -- login lockouts (django-axes, issue 10): the admin's lists of attempts and logins -----------
def _access(model, **fields):
    def make(world: World):
        return model.objects.create(
            username=f"lq{world.next()}", ip_address="10.0.0.1", user_agent="lq", http_accept="*/*",
            path_info="/accounts/login/", **fields,
        )  # fmt: skip

    return _times(make)


ROW_BUILDERS.update(
    {
        AccessAttempt: _access(AccessAttempt, get_data="", post_data="", failures_since_start=1),
        AccessLog: _access(AccessLog),
        AccessFailureLog: _access(AccessFailureLog, locked_out=False),
    }
)
