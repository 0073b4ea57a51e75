from decimal import Decimal

import pytest
from django.utils import timezone

from accounting.models import Account, AccountingVariable, JournalEntry
from accounting.variables import Variable
from cfdi.models import CfdiDocument
from demo.services import load_demo
from erp.errors import DomainError
from erp.models import Membership
from inventory.models import Product, StockLevel, StockMovement
from sales.models import Customer, SalesDocument, SalesEntity

pytestmark = pytest.mark.django_db

MODELS = [Account, AccountingVariable, Customer, SalesEntity, Product, Membership]


def test_loading_the_demo_twice_is_safe():
    load_demo()
    first = {m.__name__: m.objects.count() for m in MODELS}
    load_demo()
    assert {m.__name__: m.objects.count() for m in MODELS} == first


def test_demo_company_is_fully_configured():
    company = load_demo().company
    assert (company.rfc, company.legal_name, company.regimen_fiscal, company.postal_code) == (
        "EKU9003173C9",
        "ESCUELA KEMPER URGATE",
        "601",
        "42501",
    )
    variables = AccountingVariable.objects.filter(company=company, account__isnull=False)
    assert {v.name for v in variables} == {v.value for v in Variable}
    assert {e.mode for e in SalesEntity.objects.filter(company=company)} == {"contable", "fija"}
    customers = Customer.objects.filter(company=company)
    assert {c.person_type for c in customers.exclude(number=0)} == {"moral", "fisica"}
    assert customers.filter(number=0).count() == 3  # one counter customer per entity
    products = {p.code: p for p in Product.objects.filter(company=company)}
    assert not products["COLEG"].applies_iva
    assert products["CERV"].ieps_rate > 0
    assert products["ASES"].tax_operation == "honorarios"  # retentions follow the parties
    assert set(Membership.objects.filter(company=company).values_list("role", flat=True)) == {
        "accountant",
        "cashier",
        "integrator",
        "ops",
    }


def _counter_sale(company, entity_code, product_code):
    from sales.documents import LineRequest, create_document
    from sales.posting import Collection, post_invoice

    entity = SalesEntity.objects.get(company=company, code=entity_code)
    document, _ = create_document(
        kind="invoice",
        entity=entity,
        customer=Customer.objects.get(company=company, entity=entity, number=0),
        date=timezone.localdate(),
        lines=[LineRequest(product_code=product_code, quantity=Decimal("1"))],
    )
    account = entity.cash_accounts.filter(kind="cash").first()
    return post_invoice(document=document, collections=[Collection(account=account, amount=document.total)])


def test_the_demo_without_activity_has_no_stock_so_a_counter_sale_is_refused():
    company = load_demo().company
    with pytest.raises(DomainError, match="No hay existencia suficiente"):
        _counter_sale(company, "PACHUCA", "CERV")


@pytest.mark.parametrize("entity_code", ["PACHUCA", "MOSTRADOR", "TIJUANA"])
def test_with_activity_the_first_counter_sale_of_each_good_works(entity_code):
    company = load_demo(activity=True).company
    for code in ("A", "B", "CERV", "GASOL"):
        invoice = _counter_sale(company, entity_code, code)
        assert invoice.status == "generated" and invoice.stock_movement is not None


def test_opening_stock_is_a_movement_with_its_cost_entry_against_capital():
    company = load_demo(activity=True).company
    entries = StockMovement.objects.filter(company=company, origin="DEMO|inventario-inicial")
    assert {m.warehouse.code for m in entries} == {"ALM", "MOS"}
    linked = entries.get(warehouse__code="ALM")
    lines = {line.account.code: line for line in linked.journal_entry.lines.all()}
    assert set(lines) == {"115-01", "301-01"}
    level = StockLevel.objects.get(
        warehouse=linked.warehouse, product__code="GASOL"
    )  # none sold by the demo in ALM
    assert (level.quantity, level.average_cost) == (Decimal("2000"), Decimal("17.80"))


def test_with_activity_the_lists_show_invoices_of_each_status_and_a_cfdi():
    company = load_demo(activity=True).company
    invoices = SalesDocument.objects.filter(company=company, kind="invoice")
    assert {i.status for i in invoices} == {"generated", "cancelled"}
    stamped = CfdiDocument.objects.filter(company=company, status="stamped")
    assert stamped.count() == 1
    assert invoices.get(pk=stamped.get().source_id).idempotency_key == "demo-factura-1"


def test_loading_the_activity_twice_adds_nothing():
    load_demo(activity=True)
    counts = [m.objects.count() for m in (SalesDocument, StockMovement, JournalEntry, CfdiDocument)]
    load_demo(activity=True)
    assert [m.objects.count() for m in (SalesDocument, StockMovement, JournalEntry, CfdiDocument)] == counts
