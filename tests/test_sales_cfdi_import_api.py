"""Building an invoice from a CFDI stamped elsewhere (seed "Enlazar a Factura" B), through the
API: checks B.1–B.4, the header, the concordance with the seed's worked example and messages,
"Actualizar", accepting (same books as a typed invoice), the learned product associations, the
external files as the invoice's own, and cancelling."""

from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from accounting.models import JournalEntry
from cashbank.models import CashBankAccount
from cfdi.description import Receiver
from cfdi.models import CfdiDocument, Csd
from cfdi.pac.sandbox import sandbox_certificate
from cfdi.services import issue_cfdi
from demo.services import load_demo
from erp.models import Role
from inventory.models import Product, StockMovement
from sales.models import ExternalCfdi, ProductAssociation, SalesDocument, SalesEntity, XmlInvoice
from sales.receivables.models import Receivable
from tests.cfdi_verify import verify_cfdi
from tests.factories import ProductFactory, user_with_role
from tests.factories_cfdi import description
from tests.factories_external_cfdi import product_a, stamped_elsewhere
from tests.factories_ledgers import opening_stock

pytestmark = pytest.mark.django_db

SEED_MESSAGES = [
    "ERROR: Partida 1: La clave esta vacía, debes establecer una clave del catálogo",
    "Traslado 1 IVA en XML: Sin concordancia en Documento (16.0:21.60). Una clave en el catálogo no "
    "esta manejando el IVA, mientras que este XML si lo está haciendo",
    "Importes de IVA en el documento: 0 Importes de IVA en el XML: 1 Diferencia: -1",
    "PRECAUCION: Total de IVA en el documento: 0.0 Total de IVA en el XML: 21.60 Diferencia: -21.60",
    "ERROR: El total en el o los CFDIs no corresponden al Total calculado en el registro a partir de "
    "estos CFDIs. No se puede agregar. DOC: 135 XML: 156.60",
]


@pytest.fixture
def demo():
    demo = load_demo()
    Csd.objects.filter(company=demo.company).update(active=False)  # it stamps with another provider
    opening_stock(demo.company, [(Product.objects.get(company=demo.company, code="A"), 500, "7.00")])
    return demo


@pytest.fixture
def client(demo, api_as):
    return api_as(get_user_model().objects.get(username="contador"))


def pachuca(demo):
    return SalesEntity.objects.get(company=demo.company, code="PACHUCA")


def upload(client, demo, xml, pdf=None):
    data = {"entity": pachuca(demo).pk, "xml": SimpleUploadedFile("cfdi.xml", xml)}
    if pdf:
        data["pdf"] = SimpleUploadedFile("cfdi.pdf", pdf, content_type="application/pdf")
    response = client.post("/api/sales/external-cfdis/", data, format="multipart")
    assert response.status_code == 201, response.json()
    return response.json()


def build(client, external):
    return client.post(f"/api/sales/external-cfdis/{external['id']}/build-invoice/")


def update(client, template, **body):
    return client.post(f"/api/sales/xml-invoices/{template['id']}/concordance/", body, format="json")


def accept(client, template, collections=None):
    return client.post(
        f"/api/sales/xml-invoices/{template['id']}/accept/", {"collections": collections or []}, format="json"
    )


def books(invoice_id):
    """Everything posting wrote for an invoice, comparable across invoices."""
    document = SalesDocument.objects.get(pk=invoice_id)
    origin = document.origin_reference
    entries = sorted(
        (entry.kind, sorted((ln.account.code, ln.debit, ln.credit) for ln in entry.lines.select_related("account")))
        for entry in JournalEntry.objects.filter(origin=origin)
    )  # fmt: skip
    receivables = sorted((r.amount, r.currency_id) for r in Receivable.objects.filter(origin=origin))
    stock = sorted(
        (line.product.code, line.quantity)
        for movement in StockMovement.objects.filter(origin=origin)
        for line in movement.lines.select_related("product")
    )
    return {
        "totals": (document.importe, document.iva, document.total, document.payment, document.status),
        "entries": entries,
        "receivables": receivables,
        "stock": stock,
    }


def test_the_fixture_is_a_genuinely_sealed_and_stamped_cfdi(demo):
    xml = stamped_elsewhere(demo.company)
    verify_cfdi(xml, pac_certificate=sandbox_certificate())
    assert not CfdiDocument.objects.exists()  # the project did not stamp it


def test_seed_example_concordance_then_accept_and_learn(demo, client):
    external = upload(client, demo, stamped_elsewhere(demo.company))
    response = build(client, external)
    assert response.status_code == 201, response.json()
    template = response.json()
    # The header, as the seed fills it.
    assert template["reference"] == "s/r"
    assert template["customer"] == 1 and template["payment"] == "credit"  # URE has 30 days of credit
    assert template["currency"] == "MXN" and template["exchange_rate"] == "1"
    assert template["salesperson"] == "1 Ana López"
    assert template["observations"] == f"Carga desde Factura Electrónica: {external['uuid']}"
    assert template["date"] == template["delivery_date"] == external["issued_at"][:10]
    line = template["lines"][0]
    assert (line["code"], D(line["quantity"]), D(line["unit_price"]), line["importe"], line["iva"]) == (
        "",
        D(10),
        D("13.50"),
        "135.00",
        "0.0:0.00",
    )
    # The seed's messages, word for word.
    assert template["concordance"]["messages"] == SEED_MESSAGES
    assert template["concordance"]["ok"] is False
    # Not acceptable with ERRORs: nothing is written.
    refused = accept(client, template)
    assert refused.status_code == 400 and refused.json()["code"] == "concordancia_con_errores"
    assert refused.json()["details"]["messages"] == SEED_MESSAGES
    assert client.get(f"/api/sales/xml-invoices/{template['id']}/preview/").json()["code"] == (
        "concordancia_con_errores"
    )
    assert not SalesDocument.objects.exists() and not ProductAssociation.objects.exists()

    # "Actualizar" with the product code: the same 156.60, no message.
    updated = update(client, template, lines=[{"position": 1, "code": "A"}]).json()
    assert updated["concordance"] == {"ok": True, "errors": 0, "messages": []}
    assert updated["lines"][0]["iva"] == "16.0:21.60" and updated["total"] == "156.60"

    preview = client.get(f"/api/sales/xml-invoices/{template['id']}/preview/").json()
    assert (preview["total"], preview["customer_rfc"], preview["number"]) == ("156.60", "URE180429TM6", None)
    assert preview["lines"][0]["code"] == "A" and preview["lines"][0]["iva"] == "21.60"
    listed = client.get("/api/sales/xml-invoices/").json()["results"]
    assert [(r["uuid"], r["customer"], r["invoice"]) for r in listed] == [(external["uuid"], 1, None)]

    accepted = accept(client, template)
    assert accepted.status_code == 201, accepted.json()
    invoice = accepted.json()
    assert invoice["status"] == "generated" and invoice["number"] is not None
    assert invoice["total"] == "156.60" and invoice["reference"] == "s/r"
    assert invoice["cfdi"] in ("TFD", "PDF")  # linked: shown like a stamped one
    assert ExternalCfdi.objects.get().invoice_id == invoice["id"]
    assert not CfdiDocument.objects.exists()  # no new CFDI was stamped for it
    association = ProductAssociation.objects.get()
    assert (association.customer.number, association.key, association.product.code) == (1, "PRODUCTO A", "A")

    # The next XML of this customer fills the code by itself and passes at once.
    second = upload(client, demo, stamped_elsewhere(demo.company, product_a("4"), folio="2"))
    template2 = build(client, second).json()
    assert template2["lines"][0]["code"] == "A" and template2["concordance"]["ok"] is True

    # Accepting twice, or building again from a linked CFDI, is refused.
    assert accept(client, template).status_code == 409
    assert build(client, external).json()["code"] == "cfdi_ya_enlazado"


def test_an_xml_built_invoice_posts_the_books_of_a_typed_one(demo, client):
    external = upload(client, demo, stamped_elsewhere(demo.company))
    template = build(client, external).json()
    update(client, template, lines=[{"position": 1, "code": "A"}])
    built = accept(client, template).json()

    typed = client.post(
        "/api/sales/invoices/",
        {
            "entity": pachuca(demo).pk, "customer": 1, "date": built["date"], "payment": "credit",
            "reference": "s/r",
            "lines": [{"product": "A", "quantity": "10", "unit_price": "13.50", "discount_rate": "0"}],
        },
        format="json",
    ).json()  # fmt: skip
    posted = client.post(f"/api/sales/invoices/{typed['id']}/post/", {}, format="json")
    assert posted.status_code == 200, posted.json()
    assert books(built["id"]) == books(typed["id"])
    assert books(built["id"])["entries"]  # a diario and a cost entry were written


def test_one_xml_tax_line_for_several_concepts_of_the_same_rate_matches(demo, client):
    xml = stamped_elsewhere(
        demo.company, product_a("3", "10.00", "Tornillo"), product_a("7", "2.50", "Tuerca")
    )
    template = build(client, upload(client, demo, xml)).json()
    messages = template["concordance"]["messages"]
    assert messages[:2] == [
        "ERROR: Partida 1: La clave esta vacía, debes establecer una clave del catálogo",
        "ERROR: Partida 2: La clave esta vacía, debes establecer una clave del catálogo",
    ]
    assert messages[-1].endswith("DOC: 47.5 XML: 55.10")
    updated = update(
        client, template, lines=[{"position": 1, "code": "A"}, {"position": 2, "code": "B"}]
    ).json()
    assert updated["concordance"]["messages"] == []
    assert updated["iva"] == "7.60"


def test_a_product_without_iva_does_not_match_and_says_so(demo, client):
    template = build(client, upload(client, demo, stamped_elsewhere(demo.company))).json()
    updated = update(client, template, lines=[{"position": 1, "code": "COLEG"}]).json()  # exempt
    messages = updated["concordance"]["messages"]
    assert "PRECAUCION: Partida 1: IVA en el documento 0.0:0.00, en el XML 16.0:21.60" in messages
    assert messages[-1].startswith("ERROR: El total en el o los CFDIs") and messages[-1].endswith(
        "DOC: 135 XML: 156.60"
    )
    assert accept(client, template).status_code == 400


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"doc_type": "E"}, "cfdi_tipo_incorrecto"),  # B.2: only ingreso
        ({"discount": True}, "cfdi_con_descuentos"),  # B.4: no discounts
    ],
)
def test_build_checks(demo, client, fields, code):
    if fields.get("discount"):
        xml = stamped_elsewhere(demo.company, product_a(discount=D("5.00")))
    else:
        xml = stamped_elsewhere(demo.company, **fields)
    response = build(client, upload(client, demo, xml))
    assert response.status_code == 400 and response.json()["code"] == code
    assert not XmlInvoice.objects.exists()


def test_unknown_receiver_goes_to_the_counter_customer_and_contado(demo, client):
    other = Receiver("MAS0810247C0", "MERCADO ABARROTES SA", "06600", "601", "G03")
    template = build(client, upload(client, demo, stamped_elsewhere(demo.company, receiver=other))).json()
    assert template["customer"] == 0 and template["payment"] == "cash"
    assert template["salesperson"] == "1 Ana López"  # the entity's
    update(client, template, lines=[{"position": 1, "code": "A"}])
    caja = CashBankAccount.objects.get(company=demo.company, code="CAJA")
    assert accept(client, template).json()["code"] == "sin_cobro"
    accepted = accept(client, template, [{"account": caja.pk, "amount": "156.60", "method": "01"}])
    assert accepted.status_code == 201, accepted.json()
    assert accepted.json()["payment"] == "cash" and accepted.json()["customer"] == 0


def test_update_refuses_unknown_codes_and_changes_nothing(demo, client):
    template = build(client, upload(client, demo, stamped_elsewhere(demo.company))).json()
    response = update(client, template, lines=[{"position": 1, "code": "NOEXISTE"}], reference="OC-1")
    assert response.status_code == 400 and response.json()["code"] == "producto_inexistente"
    again = client.get(f"/api/sales/xml-invoices/{template['id']}/").json()
    assert again["lines"][0]["code"] == "" and again["reference"] == "s/r"


def test_associations_can_be_seen_and_edited(demo, client):
    external = upload(client, demo, stamped_elsewhere(demo.company))
    template = build(client, external).json()
    update(client, template, lines=[{"position": 1, "code": "A"}])
    accept(client, template)
    rows = client.get("/api/sales/product-associations/").json()["results"]
    assert [(r["customer_number"], r["key"], r["product_code"]) for r in rows] == [(1, "PRODUCTO A", "A")]
    b = Product.objects.get(company=demo.company, code="B")
    changed = client.patch(
        f"/api/sales/product-associations/{rows[0]['id']}/", {"product": b.pk}, format="json"
    )
    assert changed.status_code == 200, changed.json()
    second = upload(client, demo, stamped_elsewhere(demo.company, folio="3"))
    assert build(client, second).json()["lines"][0]["code"] == "B"


def test_the_external_files_are_the_invoices_own(demo, client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    xml = stamped_elsewhere(demo.company)
    external = upload(client, demo, xml)
    template = build(client, external).json()
    update(client, template, lines=[{"position": 1, "code": "A"}])
    invoice = accept(client, template).json()
    base = f"/api/sales/invoices/{invoice['id']}"

    assert client.get(f"{base}/xml/").content == xml
    printed = client.get(f"{base}/pdf/")  # no PDF uploaded: printed from the 4.0 XML
    assert printed.status_code == 200 and printed.content.startswith(b"%PDF-")

    uploaded = client.post(
        f"/api/sales/external-cfdis/{external['id']}/pdf/",
        {"pdf": SimpleUploadedFile("f.pdf", b"%PDF-1.4 externo", content_type="application/pdf")},
        format="multipart",
    )
    assert uploaded.status_code == 200, uploaded.json()
    assert client.get(f"{base}/pdf/").content == b"%PDF-1.4 externo"
    assert client.get(f"/api/sales/external-cfdis/{external['id']}/pdf/").content == b"%PDF-1.4 externo"
    assert client.get(f"{base}/").json()["cfdi"] == "PDF"

    sent = client.post(f"{base}/send/", {"to": ["conta@cliente.example.mx"]}, format="json")
    assert sent.status_code == 200, sent.json()
    message = mail.outbox[-1]
    assert message.to == ["conta@cliente.example.mx"]
    assert [a[2] for a in message.attachments] == ["application/xml", "application/pdf"]
    assert message.attachments[0][1] == xml and external["uuid"] in message.body

    # An invoice linked to an external CFDI is never sealed again.
    sealed = client.post(f"{base}/seal/")
    assert sealed.status_code == 409 and sealed.json()["code"] == "factura_con_cfdi_externo"


def test_not_a_pdf_is_refused(demo, client):
    external = upload(client, demo, stamped_elsewhere(demo.company))
    response = client.post(
        f"/api/sales/external-cfdis/{external['id']}/pdf/",
        {"pdf": SimpleUploadedFile("f.pdf", b"hola", content_type="application/pdf")},
        format="multipart",
    )
    assert response.status_code == 400 and response.json()["code"] == "pdf_invalido"
    assert not ExternalCfdi.objects.get().pdf


def test_cancelling_frees_the_external_document_for_another_invoice(demo, client):
    external = upload(client, demo, stamped_elsewhere(demo.company))
    template = build(client, external).json()
    update(client, template, lines=[{"position": 1, "code": "A"}])
    invoice = accept(client, template).json()
    cancelled = client.post(f"/api/sales/invoices/{invoice['id']}/cancel/")
    assert cancelled.status_code == 200, cancelled.json()
    assert ExternalCfdi.objects.get().invoice is None
    again = build(client, external)
    assert again.status_code == 201 and again.json()["id"] != template["id"]
    assert again.json()["lines"][0]["code"] == "A"  # learned
    assert accept(client, again.json()).status_code == 201


def test_the_same_uuid_loads_once_even_when_this_project_stamped_it(demo, client):
    xml = stamped_elsewhere(demo.company)
    upload(client, demo, xml)
    again = client.post(
        "/api/sales/external-cfdis/",
        {"entity": pachuca(demo).pk, "xml": SimpleUploadedFile("c.xml", xml)},
        format="multipart",
    )
    assert again.status_code == 409 and again.json()["code"] == "cfdi_duplicado"

    # One this project stamped (with the company's own CSD, recorded as its CfdiDocument).
    Csd.objects.filter(company=demo.company).update(active=True)
    own = issue_cfdi(company=demo.company, document=description(demo.company, product_a()))
    response = client.post(
        "/api/sales/external-cfdis/",
        {"entity": pachuca(demo).pk, "xml": SimpleUploadedFile("own.xml", bytes(own.xml))},
        format="multipart",
    )
    assert response.status_code == 409 and response.json()["code"] == "cfdi_duplicado"
    assert ExternalCfdi.objects.count() == 1


def test_roles_and_companies(demo, client, api_as, other_company):
    external = upload(client, demo, stamped_elsewhere(demo.company))
    ops = api_as(get_user_model().objects.get(username="operaciones"))
    assert build(ops, external).status_code in (403, 404)
    stranger = api_as(user_with_role(other_company, Role.ACCOUNTANT))
    assert build(stranger, external).status_code == 404
    template = build(client, external).json()
    assert stranger.get(f"/api/sales/xml-invoices/{template['id']}/").status_code == 404
    assert XmlInvoice.objects.count() == 1


def test_the_admin_builds_updates_and_accepts(demo, client):
    from django.test import Client

    external = upload(client, demo, stamped_elsewhere(demo.company))
    browser = Client()
    browser.force_login(get_user_model().objects.get(username="contador"))
    listing = "/admin/sales/externalcfdi/"
    assert "Generar factura desde XML" in browser.get(listing).content.decode()
    browser.post(listing, {"action": "build_invoice", "_selected_action": [external["id"]]})
    template = XmlInvoice.objects.get()
    page = browser.get(f"/admin/sales/xmlinvoice/{template.pk}/change/").content.decode()
    assert "ERROR: Partida 1: La clave esta vacía, debes establecer una clave del catálogo" in page

    line = template.lines.get()
    product = Product.objects.get(company=demo.company, code="A")
    saved = browser.post(
        f"/admin/sales/xmlinvoice/{template.pk}/change/",
        {
            "reference": "OC-77", "observations": template.observations,
            "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "1", "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "1000", "lines-0-id": line.pk, "lines-0-template": template.pk,
            "lines-0-product": product.pk, "lines-0-description": "Producto A",
        },
    )  # fmt: skip
    assert saved.status_code == 302
    page = browser.get(f"/admin/sales/xmlinvoice/{template.pk}/change/").content.decode()
    assert "Sin errores: se puede aceptar." in page
    browser.post("/admin/sales/xmlinvoice/", {"action": "accept_selected", "_selected_action": [template.pk]})
    invoice = SalesDocument.objects.get()
    assert invoice.reference == "OC-77" and invoice.total == D("156.60")
    assert ExternalCfdi.objects.get().invoice == invoice
    page = browser.get(f"/admin/sales/salesdocument/{invoice.pk}/change/").content.decode()
    assert f"CFDI externo {external['uuid']}" in page
    assert browser.get(f"/admin/sales/externalcfdi/{external['id']}/xml/").content == bytes(
        ExternalCfdi.objects.get().xml
    )
    assert "PRODUCTO A" in browser.get("/admin/sales/productassociation/").content.decode()


def test_the_cashier_screens_load_build_update_and_accept_a_contado_invoice(demo, client):
    from django.test import Client

    other = Receiver("MAS0810247C0", "MERCADO ABARROTES SA", "06600", "601", "G03")
    xml = stamped_elsewhere(demo.company, receiver=other)
    cashier = Client()
    cashier.force_login(get_user_model().objects.get(username="cajero"))
    entity = pachuca(demo)
    assert "Cargar XML / Factura desde XML" in cashier.get(f"/caja/facturas/{entity.pk}/").content.decode()
    cashier.post(f"/caja/facturas/{entity.pk}/xml/", {"xml": SimpleUploadedFile("f.xml", xml)})
    external = ExternalCfdi.objects.get()
    assert external.uuid in cashier.get(f"/caja/facturas/{entity.pk}/xml/").content.decode()

    built = cashier.post(f"/caja/facturas/{entity.pk}/xml/{external.pk}/generar/")
    template = XmlInvoice.objects.get()
    assert built.url == f"/caja/facturas/xml/plantilla/{template.pk}/"
    page = cashier.get(built.url).content.decode()
    assert "ERROR: Partida 1: La clave esta vacía, debes establecer una clave del catálogo" in page
    assert "DOC: 135 XML: 156.60" in page

    cashier.post(built.url, {"action": "actualizar", "position": "1", "code-1": "A", "reference": "s/r"})
    page = cashier.get(built.url).content.decode()
    assert "Sin diferencias" in page and "16.0:21.60" in page
    caja = CashBankAccount.objects.get(company=demo.company, code="CAJA")
    accepted = cashier.post(
        built.url,
        {
            "action": "aceptar",
            "position": "1",
            "code-1": "A",
            "account": caja.pk,
            "amount": "156.60",
            "method": "01",
        },
    )
    assert accepted.status_code == 302 and accepted.url == f"/caja/facturas/{entity.pk}/"
    invoice = SalesDocument.objects.get()
    assert invoice.payment == "cash" and invoice.total == D("156.60") and invoice.customer.number == 0
    listing = cashier.get(
        f"/caja/facturas/{entity.pk}/?period=mes&month={invoice.date:%Y-%m}"
    ).content.decode()
    assert f"/api/sales/invoices/{invoice.pk}/xml/" in listing  # the list's XML/PDF serve the external files
    assert cashier.get(f"/api/sales/invoices/{invoice.pk}/xml/").content == xml


def test_an_association_to_another_companys_product_is_refused(demo, client, other_company):
    customer = pachuca(demo).customers.get(number=1)
    foreign = ProductFactory(company=other_company, code="AJENO")
    body = {"company": demo.company.pk, "customer": customer.pk, "kind": "description", "key": "tornillo",
            "product": foreign.pk}  # fmt: skip
    response = client.post("/api/sales/product-associations/", body, format="json")
    assert response.status_code == 400 and not ProductAssociation.objects.exists()
    body["product"] = Product.objects.get(company=demo.company, code="A").pk
    created = client.post("/api/sales/product-associations/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["key"] == "TORNILLO"  # kept as it is looked up
