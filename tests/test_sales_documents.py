"""Header and line rules of sales documents (the seed's "Agregar Factura"), through the service."""

from datetime import date
from decimal import Decimal

import pytest

from erp.errors import DomainError
from erp.models import Currency
from sales.documents import UNSET, LineRequest, create_document, generate_invoice_from
from sales.models import Customer, SalesDocument
from sales.posting import post_invoice
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    SalespersonFactory,
    WarehouseFactory,
    sales_entity,
    set_all_variables,
)

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


@pytest.fixture
def entity(company):
    ProductFactory(company=company, code="A", unit="PZA", list_price=Decimal("11.50"))
    ProductFactory(company=company, code="B", unit="KG", sat_unit_key="KGM", list_price=Decimal("10.00"))
    set_all_variables(company)
    return sales_entity(company, warehouse=WarehouseFactory(company=company, allow_negative_stock=True))


@pytest.fixture
def customer(entity):
    return CustomerFactory(entity=entity, credit_days=30)


def invoice(entity, customer, lines=None, **kwargs):
    lines = lines or [LineRequest("A", Decimal("100")), LineRequest("B", Decimal("200"))]
    document, _ = create_document(
        kind="invoice", entity=entity, customer=customer, date=TODAY, lines=lines, **kwargs
    )
    return document


def test_the_seeds_worked_invoice(entity, customer):
    document = invoice(entity, customer)
    assert (document.importe, document.discount, document.subtotal) == (
        Decimal("3150.00"),
        0,
        Decimal("3150.00"),
    )
    assert (document.iva, document.ieps, document.retained_iva, document.retained_isr) == (
        Decimal("504.00"),
        0,
        0,
        0,
    )
    assert document.total == Decimal("3654.00")
    a, b = document.lines.order_by("position")
    assert (a.unit, a.importe, a.iva_rate, a.iva) == (
        "PZA",
        Decimal("1150.00"),
        Decimal("16"),
        Decimal("184.00"),
    )
    assert (b.unit, b.importe, b.iva) == ("KG", Decimal("2000.00"), Decimal("320.00"))


def test_customer_data_is_copied_onto_the_document(entity, customer):
    document = invoice(entity, customer)
    customer.name = "NOMBRE NUEVO"
    customer.save()
    document.refresh_from_db()
    assert (document.customer_rfc, document.customer_name, document.customer_postal_code) == (
        "URE180429TM6",
        "UNIVERSIDAD ROBOTICA ESPAÑOLA",
        "86991",
    )
    assert document.warehouse == entity.warehouse


def test_product_by_supplier_code_and_list_price(company, entity, customer):
    ProductFactory(company=company, code="TOR-1", supplier_code="PROV-77", list_price=Decimal("2.50"))
    document = invoice(entity, customer, [LineRequest("PROV-77", Decimal("4"))])
    line = document.lines.get()
    assert (line.code, line.unit_price, line.importe) == ("TOR-1", Decimal("2.50"), Decimal("10.00"))


def test_unknown_product_is_refused_and_nothing_saved(entity, customer):
    with pytest.raises(DomainError, match="No existe el producto o servicio con clave «ZZZ»"):
        invoice(entity, customer, [LineRequest("ZZZ", Decimal("1"))])
    assert not SalesDocument.objects.exists()


def test_customer_general_discount_applies_when_none_is_given(entity):
    customer = CustomerFactory(entity=entity, general_discount=Decimal("10"))
    document = invoice(
        entity, customer, [LineRequest("A", Decimal("100")), LineRequest("B", Decimal("1"), discount_rate=0)]
    )
    a, b = document.lines.order_by("position")
    assert (a.discount_rate, a.discount, a.iva) == (Decimal("10"), Decimal("115.00"), Decimal("165.60"))
    assert b.discount == 0
    assert document.subtotal == Decimal("1045.00")


class TestIvaRules:
    def test_blank_rate_takes_the_entitys(self, company, entity):
        company.frontier_stimulus = True
        company.save()
        border = sales_entity(company, code="FRONT", iva_rate=Decimal("8"), postal_code="22000")
        counter = Customer.objects.get(entity=border, number=0)
        line = invoice(border, counter, [LineRequest("A", Decimal("1"))]).lines.get()
        assert line.iva_rate == Decimal("8") and line.iva == Decimal("0.92")

    def test_given_rate_applies_when_the_entity_charges_iva(self, entity, customer):
        line = invoice(entity, customer, [LineRequest("A", Decimal("1"), iva_rate=Decimal("0"))]).lines.get()
        assert line.iva_rate == 0 and line.iva == 0

    def test_zero_percent_entity_ignores_a_given_rate(self, company, entity):
        zero = sales_entity(company, code="CERO", iva_rate=Decimal("0"))
        counter = Customer.objects.get(entity=zero, number=0)
        line = invoice(zero, counter, [LineRequest("A", Decimal("1"), iva_rate=Decimal("16"))]).lines.get()
        assert line.iva_rate == 0 and line.iva == 0

    def test_product_without_iva_gets_none(self, company, entity, customer):
        ProductFactory(company=company, code="EXE", applies_iva=False, list_price=Decimal("100"))
        line = invoice(
            entity, customer, [LineRequest("EXE", Decimal("1"), iva_rate=Decimal("16"))]
        ).lines.get()
        assert line.iva_rate is None and line.iva == 0


def test_ieps_comes_from_the_product_and_retentions_from_the_parties(company, entity, customer):
    # Freight between personas morales: IVA retained 4% (LIVA art. 1-A, fr. II, c), no ISR.
    ProductFactory(company=company, code="SERV", list_price=Decimal("1000"), tax_operation="autotransporte")
    ProductFactory(company=company, code="CERV", list_price=Decimal("100"), ieps_rate=Decimal("26.5"))
    document = invoice(
        entity, customer, [LineRequest("SERV", Decimal("1")), LineRequest("CERV", Decimal("1"))]
    )
    assert (document.retained_iva, document.retained_isr) == (Decimal("40.00"), Decimal("0"))
    assert document.ieps == Decimal("26.50")
    assert document.iva == Decimal("160.00") + Decimal("20.24")  # IEPS is part of the IVA base
    assert document.total == Decimal("1100.00") + Decimal("180.24") + Decimal("26.50") - Decimal("40.00")


class TestSalespersonRules:
    def test_entitys_salesperson_for_counter_sales_by_default(self, company, entity):
        ana = SalespersonFactory(company=company)
        with_ana = sales_entity(company, code="S1", salesperson=ana)
        counter = Customer.objects.get(entity=with_ana, number=0)
        assert invoice(with_ana, counter, [LineRequest("A", 1)]).salesperson == ana

    def test_counter_sale_may_take_any_salesperson(self, company, entity):
        bruno = SalespersonFactory(company=company)
        counter = Customer.objects.get(entity=entity, number=0)
        assert invoice(entity, counter, [LineRequest("A", 1)], salesperson=bruno).salesperson == bruno

    def test_customer_sale_requires_the_customers_salesperson(self, company, entity):
        ana, bruno = SalespersonFactory(company=company), SalespersonFactory(company=company)
        customer = CustomerFactory(entity=entity, salesperson=ana)
        assert invoice(entity, customer, [LineRequest("A", 1)]).salesperson == ana
        with pytest.raises(DomainError, match="vendedor registrado en el cliente"):
            invoice(entity, customer, [LineRequest("A", 1)], salesperson=bruno)

    def test_customer_with_salesperson_zero_takes_none(self, company, entity, customer):
        bruno = SalespersonFactory(company=company)
        assert invoice(entity, customer, [LineRequest("A", 1)], salesperson=UNSET).salesperson is None
        with pytest.raises(DomainError, match="vendedor cero"):
            invoice(entity, customer, [LineRequest("A", 1)], salesperson=bruno)
        assert SalesDocument.objects.count() == 1


def test_credit_is_refused_for_the_counter_customer(entity):
    counter = Customer.objects.get(entity=entity, number=0)
    with pytest.raises(DomainError, match="cliente es el genérico"):
        invoice(entity, counter, payment="credit")
    assert not SalesDocument.objects.exists()


def test_foreign_currency_requires_an_exchange_rate(entity, customer):
    usd = Currency.objects.get(code="USD")
    with pytest.raises(DomainError, match="tipo de cambio"):
        invoice(entity, customer, currency=usd)
    document = invoice(entity, customer, currency=usd, exchange_rate=Decimal("17.25"))
    assert (document.currency.code, document.exchange_rate) == ("USD", Decimal("17.25"))


def test_number_is_editable_only_when_the_entity_allows_it(company, entity, customer):
    with pytest.raises(DomainError, match="no permite cambiar el consecutivo"):
        invoice(entity, customer, number=50)
    free = sales_entity(company, code="LIBRE", allow_number_change=True, no_stock_movements=True)
    client = CustomerFactory(entity=free)
    posted = post_invoice(document=invoice(free, client, number=50, payment="credit"))
    assert posted.number == 50
    free.refresh_from_db()
    assert free.next_number == 51
    with pytest.raises(DomainError, match="ya existe"):
        invoice(free, client, number=50)


def test_the_consecutive_skips_numbers_reserved_by_drafts(company, entity):  # entity: its products
    free = sales_entity(company, code="LIBRE", allow_number_change=True, no_stock_movements=True)
    client = CustomerFactory(entity=free)
    invoice(free, client, number=2, payment="credit")  # a draft that keeps number 2
    first = post_invoice(document=invoice(free, client, payment="credit"))
    second = post_invoice(document=invoice(free, client, payment="credit"))
    assert (first.number, second.number) == (1, 3)
    free.refresh_from_db()
    assert free.next_number == 4


def test_posting_numbers_invoices_consecutively(entity, customer):
    first = post_invoice(document=invoice(entity, customer, payment="credit"))
    second = post_invoice(document=invoice(entity, customer, payment="credit"))
    assert (first.number, second.number, first.status, first.series) == (1, 2, "generated", "A")
    with pytest.raises(DomainError, match="solo se contabiliza un borrador"):
        post_invoice(document=first)


def test_same_idempotency_key_creates_one_document(entity, customer):
    first, created = create_document(
        kind="invoice",
        entity=entity,
        customer=customer,
        date=TODAY,
        lines=[LineRequest("A", 1)],
        idempotency_key="k-1",
    )
    again, created_again = create_document(
        kind="invoice",
        entity=entity,
        customer=customer,
        date=TODAY,
        lines=[LineRequest("A", 1)],
        idempotency_key="k-1",
    )
    assert created and not created_again and first.pk == again.pk
    assert SalesDocument.objects.count() == 1


def test_invoice_from_an_order_is_linked_and_only_once(entity, customer):
    order, _ = create_document(
        kind="order", entity=entity, customer=customer, date=TODAY, lines=[LineRequest("A", 3)]
    )
    assert (order.number, order.status) == (1, "generated")
    generated = generate_invoice_from(source=order)
    assert generated.source == order and generated.total == order.total
    assert generated.origin_ref == f"VPED|{order.pk}|{entity.code}||"
    with pytest.raises(DomainError, match="ya fue facturado"):
        generate_invoice_from(source=order)
    assert SalesDocument.objects.filter(kind="invoice").count() == 1
