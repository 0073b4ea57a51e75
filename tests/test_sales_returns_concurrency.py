"""Two threads posting returns of one invoice on Postgres: together they never take back more
than was invoiced (the invoice's row lock serializes the limit check), and numbers do not repeat."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from erp.errors import DomainError
from erp.services import ensure_currencies
from sales.documents import LineRequest, create_document
from sales.models import CreditNote, Customer
from sales.posting import post_invoice
from sales.returns.services import CreditLineRequest, create_credit_note, post_credit_note
from tests.factories import CompanyFactory, ProductFactory, sales_entity, set_all_variables


@pytest.mark.django_db(transaction=True)
def test_concurrent_returns_cannot_exceed_the_invoice(postgres_only):
    ensure_currencies()
    company = CompanyFactory()
    ProductFactory(company=company, code="A", list_price=Decimal("10"))
    set_all_variables(company)
    entity = sales_entity(company, no_stock_movements=True)
    counter = Customer.objects.get(entity=entity, number=0)
    invoice, _ = create_document(
        kind="invoice",
        entity=entity,
        customer=counter,
        date=date(2026, 11, 23),
        lines=[LineRequest("A", 10)],
        payment="none",
    )
    invoice = post_invoice(document=invoice)
    drafts = [
        create_credit_note(
            invoice=invoice,
            kind="return",
            date=date(2026, 11, 24),
            lines=[CreditLineRequest(invoice_position=1, quantity=Decimal("6"))],
        )
        for _ in range(2)
    ]  # each fits alone; 6 + 6 > 10
    barrier = threading.Barrier(2)
    refused, unexpected = [], []

    def post(note):
        barrier.wait()
        try:
            post_credit_note(credit_note=note)
        except DomainError as exc:
            refused.append(exc.code)
        except Exception as exc:  # noqa: BLE001 - reported below
            unexpected.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(note,)) for note in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert unexpected == []
    assert refused == ["cantidad_excede_factura"]
    emitted = CreditNote.objects.filter(invoice=invoice, status="emitted")
    assert list(emitted.values_list("number", flat=True)) == [1]
