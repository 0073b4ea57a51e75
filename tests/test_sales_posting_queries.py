"""Posting an invoice is the hot path of every sale: a fixed number of queries, whatever its lines,
and no savepoint for the ledgers it writes through (DESIGN: tests capture hot paths' queries)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cashbank.models import CashBankAccount
from cfdi.models import Csd
from demo.services import load_demo
from sales.documents import LineRequest, create_document
from sales.models import Customer, SalesEntity
from sales.posting import Collection, post_invoice
from tests.factories import ProductFactory
from tests.factories_ledgers import opening_stock

pytestmark = pytest.mark.django_db
DAY = date(2026, 11, 20)
# Contado, in the test's transaction: savepoint, lock (with the CSD check), variables, allowed
# boxes, lines, number, cash movement, income póliza (number, entry and lines in one statement
# on Postgres; e-accounting record), link, stock exit (levels, movement with its lines and
# event, levels), cost póliza, link, invoice, release. Crédito: the customer comes with the
# lock, a receivable instead of the movement, no record, no link. SQLite takes a few more.
MOST_QUERIES = 17 if connection.vendor == "postgresql" else 24


@pytest.fixture
def shop():
    company = load_demo().company
    Csd.objects.filter(company=company).update(active=False)  # sealing runs after commit anyway
    products = [ProductFactory(company=company, code=f"Q{n:02d}") for n in range(30)]
    opening_stock(company, [(p, 100, "7.50") for p in products])
    entity = SalesEntity.objects.select_related("company", "warehouse").get(company=company, code="PACHUCA")
    return {
        "entity": entity,
        "customer": Customer.objects.get(entity=entity, number=1),
        "cash": CashBankAccount.objects.select_related("currency", "ledger_account").get(
            company=company, code="CAJA"
        ),
    }


def _posting_queries(shop, payment: str, lines: int) -> list[str]:
    document, _ = create_document(
        kind="invoice",
        entity=shop["entity"],
        customer=shop["customer"],
        date=DAY,
        payment=payment,
        lines=[LineRequest(f"Q{n:02d}", Decimal(1)) for n in range(lines)],
    )
    collections = [Collection(account=shop["cash"], amount=document.total)] if payment == "cash" else None
    with CaptureQueriesContext(connection) as captured:
        posted = post_invoice(document=document, collections=collections)
    assert posted.status == "generated" and posted.stock_movement_id
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize("payment", ["cash", "credit"])
def test_posting_takes_the_same_few_queries_whatever_the_lines(shop, payment):
    one, thirty = _posting_queries(shop, payment, 1), _posting_queries(shop, payment, 30)
    assert len(one) == len(thirty) <= MOST_QUERIES
    # Only the posting's own savepoint (the test runs in a transaction): the ledgers join it.
    assert sum(sql.startswith("SAVEPOINT") for sql in thirty) == 1


# Issue 20: an invoice created and posted as a cashier's request does it (the entity, customer
# and, for contado, cash box read; the draft written; then posted) takes at most this many
# queries, contado and crédito averaged, with their transactions' BEGIN and COMMIT counted.
MOST_PER_INVOICE = 25


def _create_and_post_queries(shop, payment: str, lines: int) -> int:
    company = shop["entity"].company
    with CaptureQueriesContext(connection) as captured:
        entity = SalesEntity.objects.select_related("company", "warehouse").get(
            company=company, code="PACHUCA"
        )
        customer = Customer.objects.get(entity=entity, number=1)
        document, _ = create_document(
            kind="invoice",
            entity=entity,
            customer=customer,
            date=DAY,
            payment=payment,
            lines=[LineRequest(f"Q{n:02d}", Decimal(1)) for n in range(lines)],
        )
        collections = None
        if payment == "cash":
            cash = CashBankAccount.objects.select_related("currency", "ledger_account").get(
                company=company, code="CAJA"
            )
            collections = [Collection(account=cash, amount=document.total)]
        posted = post_invoice(document=document, collections=collections)
    assert posted.status == "generated" and posted.stock_movement_id and posted.number
    return len(captured)


def test_an_invoice_created_and_posted_takes_at_most_25_queries_flat_in_lines(shop):
    one = [_create_and_post_queries(shop, payment, 1) for payment in ("cash", "credit")]
    thirty = [_create_and_post_queries(shop, payment, 30) for payment in ("cash", "credit")]
    assert one == thirty
    assert sum(one) / 2 <= MOST_PER_INVOICE
