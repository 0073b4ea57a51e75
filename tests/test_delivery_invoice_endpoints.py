"""The invoice's "Archivo XML", "Archivo PDF", "Enviar XML y PDF" and the CFDI side of
cancellation rule 6 (embedded default: the pipeline runs eagerly after commit)."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from cfdi.models import CfdiDocument, CfdiSettings
from demo.services import load_demo
from inventory.models import Product, Warehouse
from inventory.services import create_stock_movement
from sales.invoice_cfdi import cancel_invoice_cfdi
from sales.models import SalesDocument, SalesEntity

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    demo = load_demo()
    create_stock_movement(
        company=demo.company,
        warehouse=Warehouse.objects.get(company=demo.company, code="ALM"),
        kind="entry",
        date=date(2026, 11, 1),
        concept="Inventario inicial",
        lines=[
            {"product": Product.objects.get(company=demo.company, code="A"), "quantity": 50, "unit_cost": "5"}
        ],
    )
    return demo


@pytest.fixture
def client(demo, api_as):
    return api_as(get_user_model().objects.get(username="cajero"))


def posted_invoice(client, demo, customer=1, payment="credit", collections=None, capture=None) -> int:
    entity = SalesEntity.objects.get(company=demo.company, code="PACHUCA")
    invoice = client.post(
        "/api/sales/invoices/",
        {"entity": entity.pk, "customer": customer, "date": str(date.today()), "payment": payment,
         "lines": [{"product": "A", "quantity": "10"}]},
        format="json",
    ).json()  # fmt: skip
    with capture(execute=True):
        response = client.post(
            f"/api/sales/invoices/{invoice['id']}/post/", {"collections": collections or []}, format="json"
        )
    assert response.status_code == 200, response.json()
    return invoice["id"]


def test_posting_prints_and_mails_the_invoice(demo, client, django_capture_on_commit_callbacks):
    invoice_id = posted_invoice(client, demo, capture=django_capture_on_commit_callbacks)
    document = CfdiDocument.objects.get(source_id=invoice_id)
    assert document.cfdi_column == "PDF" and document.emailed_to == "compras@ure.example.mx"
    (message,) = mail.outbox
    assert message.to == ["compras@ure.example.mx"] and len(message.attachments) == 2

    xml = client.get(f"/api/sales/invoices/{invoice_id}/xml/")
    assert xml.status_code == 200 and xml.content == bytes(CfdiDocument.objects.get(pk=document.pk).xml)
    pdf = client.get(f"/api/sales/invoices/{invoice_id}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")

    sent = client.post(
        f"/api/sales/invoices/{invoice_id}/send/", {"to": ["otra@ure.example.mx"]}, format="json"
    )
    assert sent.status_code == 200, sent.json()
    assert mail.outbox[-1].to == ["otra@ure.example.mx"]


def test_a_company_can_turn_automatic_mail_off(demo, client, django_capture_on_commit_callbacks):
    CfdiSettings.objects.filter(company=demo.company).update(send_by_email=False)
    invoice_id = posted_invoice(client, demo, capture=django_capture_on_commit_callbacks)
    assert CfdiDocument.objects.get(source_id=invoice_id).cfdi_column == "PDF"
    assert mail.outbox == []


def test_a_counter_sale_without_email_gets_a_clear_message(demo, client, django_capture_on_commit_callbacks):
    caja = demo.company.cashbankaccount_set.get(code="CAJA")
    invoice_id = posted_invoice(
        client,
        demo,
        customer=0,
        payment="cash",
        collections=[{"account": caja.pk, "amount": "133.40"}],
        capture=django_capture_on_commit_callbacks,
    )
    document = CfdiDocument.objects.get(source_id=invoice_id)
    assert document.cfdi_column == "PDF" and document.emailed_at is None
    assert "no tiene correo electrónico" in document.delivery_error

    response = client.post(f"/api/sales/invoices/{invoice_id}/send/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "cliente_sin_correo"
    assert response.json()["message"].startswith("El cliente no tiene correo electrónico registrado")
    assert mail.outbox == []


def test_downloads_of_an_invoice_without_cfdi_are_refused(demo, client):
    entity = SalesEntity.objects.get(company=demo.company, code="PACHUCA")
    draft = client.post(
        "/api/sales/invoices/",
        {"entity": entity.pk, "customer": 1, "date": str(date.today()), "payment": "credit",
         "lines": [{"product": "A", "quantity": "1"}]},
        format="json",
    ).json()  # fmt: skip
    for path in ("xml", "pdf"):
        response = client.get(f"/api/sales/invoices/{draft['id']}/{path}/")
        assert response.status_code == 409 and response.json()["code"] == "factura_sin_cfdi"


def test_rule_6_cancels_the_invoice_cfdi_before_sat(demo, client, django_capture_on_commit_callbacks):
    invoice_id = posted_invoice(client, demo, capture=django_capture_on_commit_callbacks)
    invoice = SalesDocument.objects.get(pk=invoice_id)
    document = cancel_invoice_cfdi(invoice=invoice, motive="02")
    assert document.cancellation_status == "accepted" and document.status == "stamped"
    assert cancel_invoice_cfdi(invoice=invoice, motive="02").pk == document.pk  # idempotent


def test_the_cashier_screen_links_the_xml_and_pdf(demo, client, django_capture_on_commit_callbacks):
    from django.test import Client

    invoice_id = posted_invoice(client, demo, capture=django_capture_on_commit_callbacks)
    browser = Client()
    browser.force_login(get_user_model().objects.get(username="cajero"))
    entity = SalesEntity.objects.get(company=demo.company, code="PACHUCA")
    page = browser.get(f"/caja/facturas/{entity.pk}/").content.decode()
    assert (
        f"/api/sales/invoices/{invoice_id}/xml/" in page and f"/api/sales/invoices/{invoice_id}/pdf/" in page
    )
    download = browser.get(f"/api/sales/invoices/{invoice_id}/pdf/")
    assert download.status_code == 200 and download.content.startswith(b"%PDF-")


def test_pac_accounts_never_show_credentials(demo, api_as):
    from cfdi.models import PacAccount

    accountant = api_as(get_user_model().objects.get(username="contador"))
    created = accountant.post(
        "/api/cfdi/pac-accounts/",
        {"company": demo.company.pk, "provider": "finkok", "environment": "test", "username": "u@finkok",
         "password": "muy-secreta"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    assert "password" not in created.json() and created.json()["has_password"] is True
    assert PacAccount.objects.get(pk=created.json()["id"]).password == "muy-secreta"
    listed = accountant.get("/api/cfdi/pac-accounts/").json()["results"]
    assert "muy-secreta" not in str(listed)


@pytest.mark.parametrize(
    "provider", ["finkok", "swsapien", "diverza", "prodigia", "comerciodigital", "facturama"]
)
def test_each_real_pac_gets_its_satcfdi_adapter(demo, provider):
    from cfdi.models import PacAccount
    from cfdi.pac import get_pac

    PacAccount.objects.create(
        company=demo.company, provider=provider, environment="production", username="u", password="p",
        token="t", contract="c",
    )  # fmt: skip
    pac = get_pac(company=demo.company)
    assert pac.name == provider
    assert type(pac.adapter).__module__.startswith(("satcfdi.pacs", "cfdi.pac.providers"))


def test_rule_6_inside_a_transaction_checks_now_and_asks_the_pac_after_commit(
    demo, client, django_capture_on_commit_callbacks
):
    from django.db import transaction

    from erp.errors import DomainError
    from sales.invoice_cfdi import request_invoice_cfdi_cancellation

    invoice = SalesDocument.objects.get(
        pk=posted_invoice(client, demo, capture=django_capture_on_commit_callbacks)
    )
    with pytest.raises(DomainError) as refused, transaction.atomic():
        request_invoice_cfdi_cancellation(invoice=invoice, motive="01")
    assert refused.value.code == "cancelacion_sin_sustituto"

    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        document = request_invoice_cfdi_cancellation(invoice=invoice, motive="03")
    assert CfdiDocument.objects.get(pk=document.pk).cancellation_status == ""  # nothing asked yet
    for callback in callbacks:
        callback()
    assert CfdiDocument.objects.get(pk=document.pk).cancellation_status == "accepted"
