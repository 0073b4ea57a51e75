"""The demo company: ESCUELA KEMPER URGATE (SAT's test RFC) with everything configured.

Loading it twice is safe: every row is found by its natural key and brought up to date.
"""

import io
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from accounting.models import Account, AccountingVariable
from accounting.variables import Variable
from cashbank.models import CashBankAccount
from cfdi.models import CfdiDocument, CfdiSettings, Csd
from cfdi.services import install_csd
from cfdi.testing_csd import generate_test_csd
from erp.models import Company, Currency, Role
from erp.services import ensure_currencies, grant_membership, save_catalog_row
from inventory.models import Product, ProductLine, StockMovement, Warehouse
from inventory.services import create_stock_movement
from sales.cancellation import cancel_invoice
from sales.document_models import DocumentStatus
from sales.documents import LineRequest, create_document
from sales.invoice_cfdi import invoice_cfdi, seal_invoice
from sales.models import Customer, SalesDocument, SalesEntity, Salesperson
from sales.payments.complement import issue_complement
from sales.payments.models import CustomerPayment
from sales.payments.services import create_payment, post_payment
from sales.posting import Collection, post_invoice
from sales.receivables.models import Receivable
from sales.returns.cfdi import seal_credit_note
from sales.returns.models import CreditNote
from sales.returns.services import CreditLineRequest, create_credit_note, post_credit_note
from sales.services import save_sales_entity
from sync.connectors import wopen_source
from sync.connectors.qr_source import DEMO_RECEIVERS, DEMO_TOKEN, QrSource, QrSourceServer
from sync.engine import execute_run
from sync.models import Connection, Run
from sync.services import preview_customer_file, save_connection

D, A = Account.Nature.DEBIT, Account.Nature.CREDIT

# code, name, nature, SAT código agrupador, parent code, postable
CHART = [
    ("100", "Activo", D, "100", None, False),
    ("101", "Caja", D, "101", "100", False),
    ("101-01", "Caja general", D, "101.01", "101", True),
    ("101-02", "Caja chica (fuera de contabilidad)", D, "101.01", "101", True),
    ("102", "Bancos", D, "102", "100", False),
    ("102-01", "Bancos nacionales", D, "102.01", "102", True),
    ("102-02", "Bancos extranjeros", D, "102.02", "102", True),
    ("105", "Clientes", D, "105", "100", False),
    ("105-01", "Clientes nacionales", D, "105.01", "105", True),
    ("107", "Deudores diversos", D, "107", "100", False),
    ("107-01", "Ventas sin cobro ni crédito", D, "107.05", "107", True),
    ("113", "Impuestos a favor", D, "113", "100", False),
    ("113-01", "IVA retenido por clientes", D, "113.01", "113", True),
    ("113-02", "ISR retenido por clientes", D, "113.02", "113", True),
    ("115", "Inventario", D, "115", "100", False),
    ("115-01", "Inventario de mercancías", D, "115.01", "115", True),
    ("200", "Pasivo", A, "200", None, False),
    ("206", "Anticipo de cliente", A, "206", "200", False),
    ("206-01", "Anticipo de cliente nacional", A, "206.01", "206", True),
    ("209", "Impuestos trasladados no cobrados", A, "209", "200", False),
    ("209-01", "IVA trasladado no cobrado", A, "209.01", "209", True),
    ("209-02", "IEPS trasladado no cobrado", A, "209.02", "209", True),
    ("300", "Capital contable", A, "300", None, False),
    ("301", "Capital social", A, "301", "300", False),
    ("301-01", "Capital fijo", A, "301.01", "301", True),
    ("400", "Ingresos", A, "400", None, False),
    ("401", "Ingresos por ventas", A, "401", "400", False),
    ("401-01", "Ventas y servicios", A, "401.01", "401", True),
    ("402", "Devoluciones, descuentos o bonificaciones", D, "402", "400", False),
    ("402-01", "Devoluciones y rebajas sobre ventas", D, "402.01", "402", True),
    ("402-02", "Descuentos sobre ventas", D, "402.01", "402", True),
    ("500", "Costos", D, "500", None, False),
    ("501", "Costo de venta", D, "501", "500", False),
    ("501-01", "Costo de ventas", D, "501.01", "501", True),
]

VARIABLES = {
    Variable.SALES_INCOME: "401-01",
    Variable.IVA_TRANSFERRED: "209-01",
    Variable.IEPS_TRANSFERRED: "209-02",
    Variable.RETAINED_IVA: "113-01",
    Variable.RETAINED_ISR: "113-02",
    Variable.SALES_DISCOUNTS: "402-02",
    Variable.RETURNS_REBATES: "402-01",
    Variable.CUSTOMERS: "105-01",
    Variable.COST_OF_SALES: "501-01",
    Variable.INVENTORY: "115-01",
    Variable.NO_PAYMENT_COUNTERPART: "107-01",
    Variable.CUSTOMER_ADVANCES: "206-01",
}

# code, description, unit, ClaveProdServ, ClaveUnidad, service, IVA treatment, operation (which
# retentions the parties make, erp.taxes.RETENTION_RULES), IEPS %, IEPS cuota per unit, price
PRODUCTS = [
    ("A", "Producto A (tornillo)", "PZA", "31161500", "H87", False, "gravado", "general", 0, 0, "11.50"),
    ("B", "Producto B (azúcar)", "KG", "50161509", "KGM", False, "gravado", "general", 0, 0, "10.00"),
    ("COLEG", "Colegiatura mensual (exenta de IVA, LIVA art. 15 fr. XII)", "SERV", "86121501", "E48", True, "exento", "general", 0, 0, "3500.00"),
    ("REEMB", "Reembolso de gastos pagados por cuenta del cliente (no objeto de impuesto)", "SERV", "84111506", "E48", True, "no_objeto", "general", 0, 0, "250.00"),
    ("CERV", "Cerveza 355 ml (IEPS 26.5%)", "PZA", "50202201", "H87", False, "gravado", "general", "26.5", 0, "22.00"),
    ("GASOL", "Gasolina magna (IEPS cuota por litro)", "LT", "15101514", "LTR", False, "gravado", "general", 0, "6.4555", "23.50"),
    ("ASES", "Asesoría administrativa (honorarios: retenciones si la presta una persona física)", "SERV", "80101500", "E48", True, "gravado", "honorarios", 0, 0, "1000.00"),
    ("FLETE", "Flete local (autotransporte: retención de IVA 4% a personas morales)", "SERV", "78101802", "E48", True, "gravado", "autotransporte", 0, 0, "1000.00"),
]  # fmt: skip

USERS = [
    ("contador", Role.ACCOUNTANT, "Contador"),
    ("cajero", Role.CASHIER, "Cajero"),
    ("integrador", Role.INTEGRATOR, "Integrador"),
    ("operaciones", Role.OPS, "Operaciones"),
]
DEMO_PASSWORD = "demo-2026"
DEMO_CSD_PASSWORD = "12345678a"


@dataclass
class DemoResult:
    company: Company
    credentials: list[tuple[str, str, str]]  # (username, password, role)


def _upsert(model, lookup: dict, values: dict):
    instance = model.objects.filter(**lookup).first() or model(**lookup)
    for key, value in values.items():
        setattr(instance, key, value)
    return save_catalog_row(instance=instance)


@transaction.atomic
def load_demo(*, activity: bool = False) -> DemoResult:
    """The demo company and its catalogs; with ``activity`` (what ``make run`` loads) also opening
    stock in both warehouses and a few posted invoices, so every demo user can work at once."""
    ensure_currencies()
    company = _upsert(
        Company,
        {"rfc": "EKU9003173C9"},
        {
            "legal_name": "ESCUELA KEMPER URGATE",
            "regimen_fiscal": "601",
            "postal_code": "42501",
            "frontier_stimulus": True,  # opted in: its Tijuana branch charges the 8% frontier IVA
        },
    )
    users = _users(company)
    accounts = _chart(company)
    mxn, usd = Currency.objects.get(code="MXN"), Currency.objects.get(code="USD")

    def cash(code, name, kind, currency, account, bank=""):
        return _upsert(
            CashBankAccount,
            {"company": company, "code": code},
            {
                "name": name,
                "kind": kind,
                "currency": currency,
                "linked_to_accounting": account is not None,
                "ledger_account": accounts.get(account),
                "bank_name": bank,
                "account_number": "0123456789" if bank else "",
                "sat_bank_code": "012" if bank else "",  # 012: BBVA México in SAT's c_Banco
            },
        )

    caja = cash("CAJA", "Caja general", "cash", mxn, "101-01")
    banco_mxn = cash("BBVA-MXN", "BBVA pesos", "bank", mxn, "102-01", "BBVA México")
    banco_usd = cash("BBVA-USD", "BBVA dólares", "bank", usd, "102-02", "BBVA México")
    caja_chica = cash("CHICA", "Caja chica de mostrador", "cash", mxn, None)

    almacen = _upsert(
        Warehouse,
        {"company": company, "code": "ALM"},
        {
            "short_name": "Almacén general",
            "linked_to_accounting": True,
            "inventory_account": accounts["115-01"],
        },
    )
    almacen.managers.add(users["contador"])
    mostrador = _upsert(
        Warehouse,
        {"company": company, "code": "MOS"},
        {"short_name": "Bodega mostrador", "linked_to_accounting": False, "inventory_account": None},
    )
    mostrador.managers.add(users["contador"])

    ana = _upsert(Salesperson, {"company": company, "number": 1}, {"name": "Ana López"})
    _upsert(Salesperson, {"company": company, "number": 2}, {"name": "Bruno Díaz"})

    pachuca = _entity(
        company,
        "PACHUCA",
        {
            "name": "Pachuca (contable)",
            "series": "A",
            "mode": SalesEntity.Mode.CONTABLE,
            "warehouse": almacen,
            "salesperson": ana,
        },
        [caja, banco_mxn, banco_usd],
    )
    _entity(
        company,
        "MOSTRADOR",
        {"name": "Mostrador (fija)", "series": "M", "mode": SalesEntity.Mode.FIJA, "warehouse": mostrador},
        [caja_chica],
    )
    # A branch in the northern frontier region: its own place of issue (LugarExpedicion 22000,
    # EstímuloFranjaFronteriza) and IVA at 8%; its CFDIs carry Tijuana's local time.
    _entity(
        company,
        "TIJUANA",
        {
            "name": "Tijuana (región fronteriza, IVA 8%)",
            "series": "T",
            "mode": SalesEntity.Mode.CONTABLE,
            "warehouse": almacen,
            "postal_code": "22000",
            "iva_rate": Decimal("8"),
        },
        [caja, banco_mxn],
    )
    _customers(company, pachuca, ana)
    _products(company)
    _csd(company)
    _cfdi_settings(company)
    _professional_issuer(users)
    if activity:
        _opening_stock(company, accounts["301-01"], users["contador"])
        _invoices(company, users["cajero"])
    credentials = [(name, DEMO_PASSWORD, str(role.label)) for name, role, _ in USERS]
    credentials.append(("admin", DEMO_PASSWORD, "Administrador (superusuario)"))
    return DemoResult(company=company, credentials=credentials)


PROFESSIONAL_RFC = "MASO451221PM4"


def _professional_issuer(users):
    """A persona física in régimen 612 who bills her fees to a persona moral: the moral retains
    ISR 10% and two thirds of the IVA (LISR art. 106, LIVA art. 1-A, RLIVA art. 3)."""
    company = _upsert(
        Company,
        {"rfc": PROFESSIONAL_RFC},
        {"legal_name": "MARIA OLIVARES SOTO", "regimen_fiscal": "612", "postal_code": "06600"},
    )
    for username, role, _ in USERS:
        grant_membership(user=users[username], company=company, role=role)
    accounts = _chart(company)
    mxn = Currency.objects.get(code="MXN")
    banco = _upsert(
        CashBankAccount,
        {"company": company, "code": "BANCO"},
        {
            "name": "Banco",
            "kind": "bank",
            "currency": mxn,
            "linked_to_accounting": True,
            "ledger_account": accounts["102-01"],
            "bank_name": "BBVA México",
            "account_number": "0123456789",
            "sat_bank_code": "012",
        },
    )
    despacho = _entity(
        company,
        "DESPACHO",
        {
            "name": "Despacho (honorarios)",
            "series": "H",
            "mode": SalesEntity.Mode.CONTABLE,
            "no_stock_movements": True,
        },
        [banco],
    )
    _upsert(
        Customer,
        {"company": company, "entity": despacho, "number": 1},
        {
            "rfc": "URE180429TM6",
            "name": "UNIVERSIDAD ROBOTICA ESPAÑOLA",
            "postal_code": "86991",
            "email": "compras@ure.example.mx",
            "regimen_fiscal": "601",
            "uso_cfdi": "G03",
            "forma_pago": "03",
            "credit_days": 30,
        },
    )
    _upsert(
        Product,
        {"company": company, "code": "HON"},
        {
            "description": "Honorarios por asesoría contable",
            "unit": "SERV",
            "sat_product_key": "80101500",
            "sat_unit_key": "E48",
            "is_service": True,
            "iva_treatment": "gravado",
            "tax_operation": "honorarios",
            "list_price": Decimal("10000.00"),
        },
    )
    _csd(company)
    return company


def _users(company):
    User = get_user_model()
    users = {}
    for username, role, first_name in USERS:
        user, _ = User.objects.get_or_create(username=username, defaults={"first_name": first_name})
        user.set_password(DEMO_PASSWORD)
        user.save()
        grant_membership(user=user, company=company, role=role)
        users[username] = user
    admin, _ = User.objects.get_or_create(username="admin")
    admin.is_staff = admin.is_superuser = True
    admin.set_password(DEMO_PASSWORD)
    admin.save()
    return users


def _chart(company):
    accounts = {}
    for code, name, nature, grouping, parent, postable in CHART:
        accounts[code] = _upsert(
            Account,
            {"company": company, "code": code},
            {
                "name": name,
                "nature": nature,
                "sat_grouping_code": grouping,
                "parent": accounts.get(parent),
                "postable": postable,
            },
        )
    for variable, code in VARIABLES.items():
        _upsert(AccountingVariable, {"company": company, "name": variable.value}, {"account": accounts[code]})
    return accounts


def _entity(company, code, values, cash_accounts):
    entity = SalesEntity.objects.filter(company=company, code=code).first() or SalesEntity(
        company=company, code=code
    )
    for key, value in values.items():
        setattr(entity, key, value)
    return save_sales_entity(entity=entity, m2m={"cash_accounts": cash_accounts})


def _customers(company, entity, salesperson):
    base = {"company": company, "entity": entity}
    _upsert(
        Customer,
        {**base, "number": 1},
        {
            "rfc": "URE180429TM6",
            "name": "UNIVERSIDAD ROBOTICA ESPAÑOLA",
            "address": "Av. Universidad 100",
            "colonia": "Centro",
            "poblacion": "Villahermosa, Tab.",
            "postal_code": "86991",
            "phones": "993 000 0000",
            "email": "compras@ure.example.mx",
            "regimen_fiscal": "601",
            "uso_cfdi": "G03",
            "forma_pago": "03",
            "credit_days": 30,
            "salesperson": salesperson,
        },
    )
    _upsert(
        Customer,
        {**base, "number": 2},
        {
            "rfc": "MASO451221PM4",
            "name": "MARIA OLIVARES SOTO",
            "address": "Calle Reforma 25",
            "colonia": "Juárez",
            "poblacion": "Ciudad de México",
            "postal_code": "06600",
            "email": "maria.olivares@example.mx",
            "regimen_fiscal": "612",
            "uso_cfdi": "G01",
            "forma_pago": "01",
            "credit_days": 15,
            "general_discount": Decimal("5"),
        },
    )


def _products(company):
    line = _upsert(ProductLine, {"company": company, "code": "GEN"}, {"name": "General"})
    for code, desc, unit, sat_key, sat_unit, service, treatment, operation, ieps, quota, price in PRODUCTS:
        _upsert(
            Product,
            {"company": company, "code": code},
            {
                "description": desc,
                "line": line,
                "unit": unit,
                "sat_product_key": sat_key,
                "sat_unit_key": sat_unit,
                "is_service": service,
                "iva_treatment": treatment,
                "tax_operation": operation,
                "ieps_rate": Decimal(str(ieps)),
                "ieps_quota": Decimal(str(quota)),
                "list_price": Decimal(price),
            },
        )


# code, quantity, unit cost: the goods of PRODUCTS (services hold no stock)
OPENING_STOCK = [("A", 1000, "6.20"), ("B", 1000, "5.40"), ("CERV", 500, "12.00"), ("GASOL", 2000, "17.80")]
OPENING_CONCEPT = "Inventario inicial (demostración)"
OPENING_ORIGIN = "DEMO|inventario-inicial"


def _opening_stock(company, capital, user):
    """An entry per warehouse through the inventory services (levels, average cost and, in the
    warehouse linked to accounting, its póliza against capital), once: found again by origin."""
    products = {
        p.code: p for p in Product.objects.filter(company=company, code__in=[c for c, _, _ in OPENING_STOCK])
    }
    for warehouse in Warehouse.objects.filter(company=company, code__in=["ALM", "MOS"]).order_by("code"):
        if StockMovement.objects.filter(warehouse=warehouse, origin=OPENING_ORIGIN).exists():
            continue
        create_stock_movement(
            company=company,
            warehouse=warehouse,
            kind=StockMovement.Kind.ENTRY,
            date=timezone.localdate().replace(day=1),
            concept=OPENING_CONCEPT,
            origin=OPENING_ORIGIN,
            lines=[
                {"product": products[code], "quantity": Decimal(qty), "unit_cost": Decimal(cost)}
                for code, qty, cost in OPENING_STOCK
            ],
            user=user,
            counterpart_account=capital if warehouse.linked_to_accounting else None,
        )


# key, entity, customer number, payment, lines (quantity, code), what happens after posting
DEMO_INVOICES = [
    ("demo-factura-1", "PACHUCA", 0, "cash", [("2", "A"), ("6", "CERV")], "sealed"),
    ("demo-factura-2", "PACHUCA", 1, "credit", [("100", "A"), ("200", "B")], "generated"),
    ("demo-factura-3", "PACHUCA", 2, "credit", [("1", "ASES")], "cancelled"),
    ("demo-factura-4", "MOSTRADOR", 0, "cash", [("3", "B"), ("10", "GASOL")], "generated"),
]


def _invoices(company, cashier):
    """Posted invoices of each status through the sales services (posting, sealing with the
    sandbox PAC, cancellation), so the lists and the admin are not empty; once: found by key."""
    for key, entity_code, customer_number, payment, lines, outcome in DEMO_INVOICES:
        entity = SalesEntity.objects.get(company=company, code=entity_code)
        document, _ = create_document(
            kind="invoice",
            entity=entity,
            customer=Customer.objects.get(company=company, entity=entity, number=customer_number),
            date=timezone.localdate(),
            payment=payment,
            lines=[LineRequest(product_code=code, quantity=Decimal(qty)) for qty, code in lines],
            user=cashier,
            idempotency_key=key,
        )
        if document.status == DocumentStatus.DRAFT:
            collections = None
            if payment == "cash":
                account = entity.cash_accounts.filter(kind="cash").order_by("code").first()
                collections = [Collection(account=account, amount=document.total)]
            document = post_invoice(document=document, collections=collections, user=cashier)
        if outcome == "sealed" and invoice_cfdi(document) is None:
            seal_invoice(invoice=document)
        elif outcome == "cancelled" and document.status != DocumentStatus.CANCELLED:
            cancel_invoice(document=document, user=cashier)


DEMO_REBATE_REFERENCE = "demo-rebaja-1"
DEMO_PAYMENT_OPERATION = "DEMO-PAGO-1"
DEMO_PAYMENT_AMOUNT = Decimal("1000.00")


def load_documents_demo(company: Company) -> tuple[CreditNote, CustomerPayment]:
    """What ``make run`` adds to the demo invoices: on the crédito invoice demo-factura-2 (stamped
    now with the sandbox PAC, as PPD) a 10% rebate on product B with its egreso CFDI, and a transfer
    (forma de pago 03) into BBVA pesos for part of what is left, with its Pagos 2.0 complement. All
    through the sales services; once: the note is found by its reference, the payment by its
    operation number."""
    User = get_user_model()
    contador, cajero = User.objects.get(username="contador"), User.objects.get(username="cajero")
    invoice = SalesDocument.objects.get(company=company, kind="invoice", idempotency_key="demo-factura-2")
    stamped = invoice_cfdi(invoice)
    if stamped is None or stamped.status != CfdiDocument.Status.STAMPED:
        seal_invoice(invoice=invoice)

    note = CreditNote.objects.filter(
        company=company, invoice=invoice, reference=DEMO_REBATE_REFERENCE
    ).first()
    if note is None:
        price_b = invoice.lines.get(code="B")
        note = create_credit_note(
            invoice=invoice,
            kind=CreditNote.Kind.REBATE,
            date=max(timezone.localdate(), invoice.date),
            lines=[
                CreditLineRequest(
                    invoice_position=price_b.position,
                    unit_price=(price_b.unit_price / 10).quantize(Decimal("0.01")),
                    observations="Rebaja del 10% por volumen",
                )
            ],
            reference=DEMO_REBATE_REFERENCE,
            observations="Rebaja de demostración",
            user=contador,
        )
    if note.status == CreditNote.Status.DRAFT:
        note = post_credit_note(credit_note=note, user=contador)
    seal_credit_note(credit_note=note)  # as the stamping task would; a stamped egreso is kept as is

    payment = CustomerPayment.objects.filter(company=company, operation_number=DEMO_PAYMENT_OPERATION).first()
    if payment is None:
        balance = Receivable.objects.get(
            company=company, origin=invoice.origin_reference, status=Receivable.Status.ACTIVE
        ).balance
        payment = create_payment(
            company=company,
            entity=invoice.entity,
            customer=invoice.customer,
            date=max(timezone.localdate(), invoice.date),
            account=CashBankAccount.objects.get(company=company, code="BBVA-MXN"),
            amount=min(DEMO_PAYMENT_AMOUNT, balance),
            payment_form="03",
            applications=[{"invoice": invoice, "amount": min(DEMO_PAYMENT_AMOUNT, balance)}],
            operation_number=DEMO_PAYMENT_OPERATION,
            payer_bank_code="002",  # Banamex, in SAT's c_Banco; the customer's CLABE
            payer_bank_rfc="BNM840515VB1",
            payer_account="002180700123456789",
            user=cajero,
        )
    if payment.status == CustomerPayment.Status.DRAFT:
        payment = post_payment(payment=payment, user=cajero)
    issue_complement(payment=payment)  # as the complement task would; a stamped one is kept as is
    return note, payment


def _csd(company):
    """A test CSD in SAT's formats (generated, not SAT-signed) so the sandbox PAC can stamp at once."""
    if Csd.objects.filter(company=company, active=True, valid_to__gt=timezone.now()).exists():
        return
    cer, key = generate_test_csd(company.rfc, company.legal_name, DEMO_CSD_PASSWORD)
    install_csd(company=company, cer=cer, key=key, password=DEMO_CSD_PASSWORD)


def _cfdi_settings(company):
    """The demo company's printing settings, with a drawn logo so its PDFs show one."""
    options, _ = CfdiSettings.objects.get_or_create(company=company)
    if options.logo:
        return
    image = Image.new("RGB", (240, 160), "white")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((8, 8, 232, 152), radius=28, fill=(18, 58, 99))
    draw.ellipse((150, 30, 210, 90), fill=(179, 38, 30))
    draw.text((30, 95), "EKU", fill="white", font_size=48)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    options.logo.save("demo-logo.png", ContentFile(buffer.getvalue()))


# --- sync (issue 12): a CONTPAQi QR connection with a small built-in demo source -----------------
DEMO_QR_URL = "http://127.0.0.1:8000/sync/demo-qr"  # served by runserver itself (sync.views)


def load_sync_demo(company: Company, *, source_url: str = DEMO_QR_URL) -> Connection:
    """The demo's QR connection, synced once now so the event viewer shows real runs on a fresh
    machine. The first run reads the built-in receivers from a QR stand-in on loopback started
    for the occasion; the connection then points at the same receivers served by ``make run``'s
    own server, so "Sincronizar ahora" works from the viewer (and says "Sin cambios")."""
    connection = Connection.objects.filter(company=company, name="CONTPAQi QR (demo)").first()
    if connection is None:
        connection = Connection(company=company, kind=Connection.Kind.QR_CUSTOMERS, name="CONTPAQi QR (demo)")
    connection.period_minutes = 60
    with QrSourceServer(QrSource(DEMO_RECEIVERS)) as server:
        connection.options = {"base_url": server.url, "entity": "PACHUCA"}
        save_connection(connection=connection, credentials=DEMO_TOKEN)
        run = Run.objects.create(company=company, connection=connection, trigger=Run.Trigger.MANUAL)
        execute_run(run_id=run.pk)
    connection.options = {**connection.options, "base_url": source_url}
    return save_connection(connection=connection)


# --- sync (issue 15): a CONTPAQi Wopen connection with a small built-in demo source --------------
DEMO_WOPEN_URL = "http://127.0.0.1:8000/sync/demo-wopen"  # served by runserver itself (sync.views)
DEMO_WOPEN_NAME = "CONTPAQi Wopen (demo)"


def load_wopen_demo(company: Company, *, source_url: str = DEMO_WOPEN_URL) -> Connection:
    """The demo's Wopen connection (Sucursal Pachuca, automatic stamping, default SAT keys for
    products Wopen has and the demo has not), synced once now: an order and an invoice request
    arrive, the invoice is posted, stamped and reported back, and the viewer shows it all. As with
    QR, the first run reads a stand-in on loopback; the connection then points at the same
    documents served by ``make run``'s own server."""
    connection = Connection.objects.filter(company=company, name=DEMO_WOPEN_NAME).first()
    if connection is None:
        connection = Connection(company=company, kind=Connection.Kind.WOPEN, name=DEMO_WOPEN_NAME)
    connection.period_minutes = 30
    options = {
        "user": wopen_source.DEMO_USER,
        "entity": "PACHUCA",
        "orders": True,
        "invoices": True,
        "auto_stamp": True,
        "clave_prod_serv": "72151500",
        "clave_unidad": "E48",
    }
    with wopen_source.WopenSourceServer(wopen_source.WopenSource(wopen_source.DEMO_DOCUMENTS)) as server:
        connection.options = {**options, "base_url": server.url}
        save_connection(connection=connection, credentials=wopen_source.DEMO_PASSWORD)
        run = Run.objects.create(company=company, connection=connection, trigger=Run.Trigger.MANUAL)
        execute_run(run_id=run.pk)
    connection.refresh_from_db()
    connection.options = {**connection.options, "base_url": source_url}
    return save_connection(connection=connection)


# --- customer file (issue 13): a connection with the preview of a small file, ready to apply ---
DEMO_CUSTOMER_FILE = (
    "Clave;RFC;Razón social;Régimen fiscal;Código postal;Uso CFDI;Forma de pago;Correo electrónico\n"
    "EXT-001;FAB9503157H0;FABRICA DE ABARROTES DEL CENTRO;601;62661;G03;03;compras@fabrica.example.mx\n"
    "EXT-002;MEGR8207154K5;ROSA MENDEZ GARCIA;612;36257;G03;01;rosa@example.mx\n"
    "EXT-003;AAA010101AA0;RFC CON DIGITO EQUIVOCADO SA DE CV;601;06000;G03;03;\n"
)


def load_customer_file_demo(company: Company) -> Connection:
    """A "Archivo de clientes" connection and the preview of a small CSV (Windows-1252, semicolons,
    as Mexican Excel saves it): two customers to add and a row with a wrong RFC check digit, so
    the preview screen shows both, ready for "Aplicar". Loading twice reuses both."""
    connection = Connection.objects.filter(company=company, name="Archivo de clientes (demo)").first()
    if connection is None:
        connection = save_connection(
            connection=Connection(
                company=company,
                kind=Connection.Kind.CUSTOMER_FILE,
                name="Archivo de clientes (demo)",
                enabled=False,  # no FTP folder in the demo: files arrive by upload
                options={"entity": "PACHUCA", "match_key": "clave", "ignored": ["email"]},
            )
        )
    content = DEMO_CUSTOMER_FILE.encode("cp1252")
    if not connection.imports.exists():
        preview_customer_file(
            connection=connection, name="clientes-demo.csv", data=io.BytesIO(content), size=len(content),
            source="upload",
        )  # fmt: skip
    return connection
