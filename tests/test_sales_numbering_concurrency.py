"""Two threads posting invoices in one entity on Postgres: consecutive numbers, no gap, no duplicate."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from erp.services import ensure_currencies
from sales.documents import LineRequest, create_document
from sales.models import Customer, SalesDocument
from sales.posting import post_invoice
from tests.factories import CompanyFactory, ProductFactory, sales_entity, set_all_variables


@pytest.mark.django_db(transaction=True)
def test_concurrent_postings_get_consecutive_numbers(postgres_only, verified_books):
    ensure_currencies()
    company = CompanyFactory()
    ProductFactory(company=company, code="A", list_price=Decimal("1"))
    set_all_variables(company)
    entity = sales_entity(company, no_stock_movements=True)
    counter = Customer.objects.get(entity=entity, number=0)
    drafts = [
        create_document(
            kind="invoice",
            entity=entity,
            customer=counter,
            date=date(2026, 11, 23),
            lines=[LineRequest("A", 1)],
            payment="none",
        )[0]
        for _ in range(20)
    ]
    barrier = threading.Barrier(2)
    errors = []

    def post_half(documents):
        barrier.wait()
        try:
            for document in documents:
                post_invoice(document=document)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post_half, args=(drafts[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    numbers = sorted(SalesDocument.objects.filter(entity=entity).values_list("number", flat=True))
    assert numbers == list(range(1, 21))
    entity.refresh_from_db()
    assert entity.next_number == 21
