"""A draft whose posting failed is corrected and posted, or discarded (issue 19): through the
service, the API (PUT /api/sales/invoices/ID/, POST …/discard/) and the cashier's screens."""

import json
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from demo.services import load_demo
from erp.errors import DomainError
from sales.document_models import SalesDocument
from sales.documents import LineRequest, create_document
from sales.drafts import discard_draft, update_draft
from sales.models import Customer, SalesEntity
from sales.posting import post_invoice
from tests.factories import ProductFactory
from tests.factories_ledgers import opening_stock

pytestmark = pytest.mark.django_db
DAY = "2026-11-20"


@pytest.fixture
def shop():
    company = load_demo().company
    entity = SalesEntity.objects.select_related("company", "warehouse").get(company=company, code="PACHUCA")
    in_stock = ProductFactory(company=company, code="HAYEXIS", list_price=Decimal("100.00"))
    opening_stock(company, [(in_stock, 10, "40.00")])
    empty = ProductFactory(company=company, code="SINEXIS", list_price=Decimal("100.00"))
    customer = Customer.objects.get(entity=entity, number=1)
    cashier = get_user_model().objects.get(username="cajero")
    return entity, customer, in_stock, empty, cashier


def _draft(entity, customer, product_code):
    draft, _ = create_document(
        kind="invoice",
        entity=entity,
        customer=customer,
        date=DAY,
        payment="credit",
        lines=[LineRequest(product_code, Decimal(2))],
    )
    return draft


def _failed_draft(entity, customer):
    draft = _draft(entity, customer, "SINEXIS")
    with pytest.raises(DomainError, match="existencia"):
        post_invoice(document=draft)
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.number is None
    return draft


def test_a_failed_draft_is_corrected_and_posted_by_the_service(shop):
    entity, customer, in_stock, _, _ = shop
    draft = _failed_draft(entity, customer)
    fixed = update_draft(
        document=draft,
        customer=customer,
        date=DAY,
        payment="credit",
        lines=[LineRequest("HAYEXIS", Decimal(3))],
    )
    assert fixed.pk == draft.pk
    assert [(line.code, line.quantity) for line in fixed.lines.all()] == [("HAYEXIS", Decimal(3))]
    assert fixed.subtotal == Decimal("300.00") and fixed.total == fixed.subtotal + fixed.iva
    posted = post_invoice(document=fixed)
    assert posted.status == "generated" and posted.number is not None


def test_only_a_draft_is_corrected_or_discarded_and_a_refusal_changes_nothing(shop):
    entity, customer, *_ = shop
    posted = post_invoice(document=_draft(entity, customer, "HAYEXIS"))
    lines = list(posted.lines.values_list("code", "quantity"))
    with pytest.raises(DomainError, match="solo se corrige un borrador"):
        update_draft(document=posted, customer=customer, date=DAY, lines=[LineRequest("SINEXIS", Decimal(1))])
    with pytest.raises(DomainError, match="solo se descarta un borrador"):
        discard_draft(document=posted)
    posted.refresh_from_db()
    assert posted.status == "generated" and list(posted.lines.values_list("code", "quantity")) == lines


def test_the_api_corrects_and_discards_drafts(shop, api_as):
    entity, customer, _, _, cashier = shop
    api = api_as(cashier)
    draft = _failed_draft(entity, customer)
    body = {"entity": entity.pk, "customer": 1, "date": DAY, "payment": "credit", "lines": []}

    refused = api.put(
        f"/api/sales/invoices/{draft.pk}/",
        {**body, "lines": [{"product": "NOEXISTE", "quantity": "1"}]},
        format="json",
    )
    assert refused.status_code == 400 and "NOEXISTE" in json.dumps(refused.json(), ensure_ascii=False)
    assert list(draft.lines.values_list("code", flat=True)) == ["SINEXIS"]

    fixed = api.put(
        f"/api/sales/invoices/{draft.pk}/",
        {**body, "lines": [{"product": "HAYEXIS", "quantity": "1"}]},
        format="json",
    )
    assert fixed.status_code == 200, fixed.json()
    assert fixed.json()["id"] == draft.pk and Decimal(fixed.json()["subtotal"]) == Decimal("100.00")
    posted = api.post(f"/api/sales/invoices/{draft.pk}/post/", {}, format="json")
    assert posted.status_code == 200 and posted.json()["number"]

    again = api.post(f"/api/sales/invoices/{draft.pk}/discard/")
    assert again.status_code == 409 and "borrador" in again.json()["message"]

    other = _failed_draft(entity, customer)
    assert api.post(f"/api/sales/invoices/{other.pk}/discard/").status_code == 204
    assert not SalesDocument.objects.filter(pk=other.pk).exists()


def test_the_cashier_opens_a_failed_draft_from_the_list(shop):
    entity, customer, _, _, cashier = shop
    draft = _failed_draft(entity, customer)
    browser = Client()
    browser.force_login(cashier)
    listing = browser.get(f"/caja/facturas/{entity.pk}/?tab=borradores&period=todas").content.decode()
    url = f"/caja/facturas/{entity.pk}/borrador/{draft.pk}/"
    assert f'href="{url}"' in listing
    page = browser.get(url)
    assert page.status_code == 200
    data = page.context["draft"]
    assert (data["id"], data["customer"], data["payment"]) == (draft.pk, 1, "credit")
    assert data["lines"] == [
        {"product": "SINEXIS", "quantity": "2", "unit_price": "100", "discount_rate": "", "iva_rate": "16"}
    ]
    assert "Descartar borrador" in page.content.decode()
    post_invoice(document=_draft(entity, customer, "HAYEXIS"))
    posted = SalesDocument.objects.exclude(status="draft").get()
    assert browser.get(f"/caja/facturas/{entity.pk}/borrador/{posted.pk}/").status_code == 404
