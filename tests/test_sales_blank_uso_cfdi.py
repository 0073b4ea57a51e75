"""Issue 12: a company still on Anexo 20 3.3 gets customers from CONTPAQi QR with a blank uso del
CFDI, for the user to assign. Invoicing such a customer is refused with a clear message (at
creation, at posting, at sealing) instead of failing inside the CFDI builder; once the user
assigns it, the draft posts with the customer's uso."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model

from cfdi.models import CfdiDocument, Csd
from demo.services import load_demo
from erp.errors import DomainError
from sales.document_models import SalesDocument
from sales.invoice_cfdi import seal_invoice
from sales.models import Customer, SalesEntity
from tests.factories_ledgers import opening_stock

pytestmark = pytest.mark.django_db
MESSAGE = "El cliente IIA040805DZ4 no tiene asignado el uso del CFDI: asígnelo en el catálogo de clientes antes de facturarle."


@pytest.fixture
def shop():
    demo = load_demo()
    company = demo.company
    Csd.objects.filter(company=company).update(active=False)  # posting only: no CFDI asked for here
    company.cfdi_version = "3.3"
    company.save(update_fields=["cfdi_version"])
    from inventory.models import Product

    opening_stock(company, [(Product.objects.get(company=company, code="A"), 100, "5")])
    entity = SalesEntity.objects.get(company=company, code="PACHUCA")
    customer = Customer(
        company=company, entity=entity, number=90, rfc="IIA040805DZ4", name="INDUSTRIAS IMPORTADAS",
        regimen_fiscal="601", postal_code="06000", uso_cfdi="", forma_pago="99",
    )  # fmt: skip
    customer.full_clean()  # blank is valid for a company on 3.3 (the sync's rule)
    customer.save()
    return {"company": company, "entity": entity, "customer": customer}


@pytest.fixture
def client(shop, api_as):
    return api_as(get_user_model().objects.get(username="cajero"))


def body(shop, **extra):
    return {
        "entity": shop["entity"].pk,
        "customer": shop["customer"].number,
        "date": str(date.today()),
        "payment": "credit",
        "lines": [{"product": "A", "quantity": "2"}],
        **extra,
    }


def test_an_invoice_for_a_customer_without_uso_cfdi_is_refused_and_nothing_is_written(shop, client):
    before = SalesDocument.objects.count()
    response = client.post("/api/sales/invoices/", body(shop), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "uso_cfdi_sin_asignar"
    assert response.json()["message"] == MESSAGE
    assert SalesDocument.objects.count() == before


def test_a_draft_copied_blank_is_refused_at_posting_and_posts_once_the_uso_is_assigned(shop, client):
    Customer.objects.filter(pk=shop["customer"].pk).update(uso_cfdi="G03")
    draft = client.post("/api/sales/invoices/", body(shop), format="json").json()
    # the draft kept the blank it was made with (e.g. copied from a remission made before)
    SalesDocument.objects.filter(pk=draft["id"]).update(customer_uso_cfdi="")
    Customer.objects.filter(pk=shop["customer"].pk).update(uso_cfdi="")
    refused = client.post(f"/api/sales/invoices/{draft['id']}/post/", {"collections": []}, format="json")
    assert refused.status_code == 400 and refused.json()["message"] == MESSAGE
    invoice = SalesDocument.objects.get(pk=draft["id"])
    assert (invoice.status, invoice.number) == ("draft", None)

    Customer.objects.filter(pk=shop["customer"].pk).update(uso_cfdi="G03")
    posted = client.post(f"/api/sales/invoices/{draft['id']}/post/", {"collections": []}, format="json")
    assert posted.status_code == 200, posted.json()
    invoice.refresh_from_db()
    assert invoice.status != "draft" and invoice.number and invoice.customer_uso_cfdi == "G03"


def test_sealing_an_invoice_without_uso_cfdi_records_the_reason_instead_of_failing(shop, client):
    Customer.objects.filter(pk=shop["customer"].pk).update(uso_cfdi="G03")
    draft = client.post("/api/sales/invoices/", body(shop), format="json").json()
    assert (
        client.post(
            f"/api/sales/invoices/{draft['id']}/post/", {"collections": []}, format="json"
        ).status_code
        == 200
    )
    SalesDocument.objects.filter(pk=draft["id"]).update(customer_uso_cfdi="")
    Csd.objects.filter(company=shop["company"]).update(active=True)
    invoice = SalesDocument.objects.select_related("company", "customer").get(pk=draft["id"])
    with pytest.raises(DomainError) as refused:
        seal_invoice(invoice=invoice)
    assert refused.value.message == MESSAGE
    invoice.refresh_from_db()
    assert invoice.cfdi_error == f"uso_cfdi_sin_asignar: {MESSAGE}"
    assert not CfdiDocument.objects.filter(source_id=invoice.pk).exists()
