"""CFDIs stamped by another PAC: loading them (Cargar XML y/o PDF) and linking them to invoices
(Enlazar a Factura), with the seed's common errors and rules, through the API."""

import re
import uuid
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from cfdi.models import Csd
from demo.services import load_demo
from sales.models import ExternalCfdi, SalesEntity
from tests.factories_external_cfdi import seal_by_hand

pytestmark = pytest.mark.django_db


def cfdi_xml(*, total="1160.00", doc_type="I", receiver="URE180429TM6", issuer="EKU9003173C9", stamped=True):
    """A CFDI 4.0 genuinely sealed with a test CSD of ``issuer`` and, when ``stamped``, with its TFD."""
    unsealed = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4" Version="4.0" Serie="EXT" Folio="77" '
        f'Fecha="2026-11-20T09:00:00" SubTotal="1000.00" Moneda="MXN" Total="{total}" '
        f'TipoDeComprobante="{doc_type}" Exportacion="01" LugarExpedicion="42501">'
        f'<cfdi:Emisor Rfc="{issuer}" Nombre="ESCUELA KEMPER URGATE" RegimenFiscal="601"/>'
        f'<cfdi:Receptor Rfc="{receiver}" Nombre="UNIVERSIDAD ROBOTICA ESPAÑOLA" DomicilioFiscalReceptor="86991" '
        'RegimenFiscalReceptor="601" UsoCFDI="G03"/>'
        "</cfdi:Comprobante>"
    ).encode()
    return seal_by_hand(unsealed, uuid_=str(uuid.uuid4()) if stamped else None)


@pytest.fixture
def demo():
    demo = load_demo()
    Csd.objects.filter(company=demo.company).update(active=False)  # these invoices are stamped elsewhere
    return demo


@pytest.fixture
def client(demo, api_as):
    return api_as(get_user_model().objects.get(username="contador"))


def upload(client, entity, xml, pdf=None):
    data = {"entity": entity.pk, "xml": SimpleUploadedFile("cfdi.xml", xml, content_type="application/xml")}
    if pdf:
        data["pdf"] = SimpleUploadedFile("cfdi.pdf", pdf, content_type="application/pdf")
    return client.post("/api/sales/external-cfdis/", data, format="multipart")


def invoice(client, demo, customer=1):
    """A posted invoice of one exempt colegiatura at 1,000.00 (total 1,000.00)."""
    entity = SalesEntity.objects.get(company=demo.company, code="PACHUCA")
    body = {
        "entity": entity.pk,
        "customer": customer,
        "date": str(date(2026, 11, 20)),
        "payment": "credit" if customer else "none",
        "lines": [{"product": "COLEG", "quantity": "1", "unit_price": "1000"}],
    }
    created = client.post("/api/sales/invoices/", body, format="json").json()
    posted = client.post(f"/api/sales/invoices/{created['id']}/post/", {}, format="json")
    assert posted.status_code == 200, posted.json()
    return posted.json()


def link(client, invoice_, external_id):
    return client.post(
        f"/api/sales/invoices/{invoice_['id']}/link-cfdi/", {"external_cfdi": external_id}, format="json"
    )


def pachuca(demo):
    return SalesEntity.objects.get(company=demo.company, code="PACHUCA")


def test_loading_to_a_fija_entity_fails_with_the_seeds_message(demo, client):
    mostrador = SalesEntity.objects.get(company=demo.company, code="MOSTRADOR")
    response = upload(client, mostrador, cfdi_xml())
    assert response.status_code == 400
    assert response.json()["message"].startswith(
        "No se puede subir ningun CFDI, porque esta entidad de venta está establecida como Fija."
    )
    assert not ExternalCfdi.objects.exists()


def test_a_non_ingreso_cfdi_cannot_be_linked_to_an_invoice(demo, client):
    external = upload(client, pachuca(demo), cfdi_xml(doc_type="E")).json()
    response = link(client, invoice(client, demo), external["id"])
    assert response.status_code == 400
    assert response.json()["message"] == (
        "El tipo de comprobante fiscal digital CFDI, No corresponde con el tipo de documento a enlazar."
    )
    assert ExternalCfdi.objects.get().invoice is None


def test_link_an_external_cfdi_and_free_it_on_cancel(demo, client):
    external = upload(client, pachuca(demo), cfdi_xml(total="1000.00"), pdf=b"%PDF-1.4 test").json()
    target = invoice(client, demo)
    response = link(client, target, external["id"])
    assert response.status_code == 200, response.json()
    assert response.json()["cfdi"] == "PDF"
    assert ExternalCfdi.objects.get().invoice_id == target["id"]

    other = invoice(client, demo)
    assert link(client, other, external["id"]).json()["code"] == "cfdi_ya_enlazado"  # rule A.2

    assert client.post(f"/api/sales/invoices/{target['id']}/cancel/").status_code == 200  # rule 7
    assert ExternalCfdi.objects.get().invoice is None
    assert link(client, other, external["id"]).status_code == 200


@pytest.mark.parametrize(
    ("xml_kwargs", "customer", "code"),
    [
        ({"total": "999.99"}, 1, "cfdi_total_distinto"),  # A.3 totals must match
        ({"total": "1000.00", "receiver": "MASO451221PM4"}, 1, "cfdi_otro_receptor"),  # A.4 receiver
        ({"total": "1000.00", "receiver": "XAXX010101000"}, 0, "cfdi_mostrador"),  # A.4 counter sale
    ],
)
def test_link_rules(demo, client, xml_kwargs, customer, code):
    external = upload(client, pachuca(demo), cfdi_xml(**xml_kwargs)).json()
    response = link(client, invoice(client, demo, customer=customer), external["id"])
    assert response.status_code == 400 and response.json()["code"] == code
    assert ExternalCfdi.objects.get().invoice is None


def test_a_cancelled_invoice_cannot_be_linked(demo, client):
    external = upload(client, pachuca(demo), cfdi_xml(total="1000.00")).json()
    target = invoice(client, demo)
    client.post(f"/api/sales/invoices/{target['id']}/cancel/")
    response = link(client, target, external["id"])
    assert response.status_code == 409 and response.json()["code"] == "factura_no_enlazable"


@pytest.mark.parametrize(
    ("xml", "code"),
    [
        (b"<no-es-xml", "cfdi_invalido"),
        (b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>", "cfdi_invalido"),
        (b"<no-es-xml><!ENTITY e 'x'>", "cfdi_invalido"),
        (cfdi_xml(stamped=False), "cfdi_sin_timbre"),
        (cfdi_xml(issuer="AAA010101AAA"), "cfdi_de_otro_emisor"),
    ],
)
def test_bad_files_are_refused(demo, client, xml, code):
    response = upload(client, pachuca(demo), xml)
    assert response.status_code == 400 and response.json()["code"] == code
    assert not ExternalCfdi.objects.exists()


def test_the_same_cfdi_loads_once(demo, client):
    xml = cfdi_xml()
    assert upload(client, pachuca(demo), xml).status_code == 201
    again = upload(client, pachuca(demo), xml)
    assert again.status_code == 409 and again.json()["code"] == "cfdi_duplicado"
    assert client.get(f"/api/sales/external-cfdis/{ExternalCfdi.objects.get().pk}/xml/").content == xml


def test_the_admin_list_shows_a_linked_cfdi_like_the_api(demo, client):
    from django.test import Client

    external = upload(client, pachuca(demo), cfdi_xml(total="1000.00")).json()
    target = invoice(client, demo)
    assert link(client, target, external["id"]).json()["cfdi"] == "TFD"
    browser = Client()
    browser.force_login(get_user_model().objects.get(username="contador"))
    page = browser.get("/admin/sales/salesdocument/?kind__exact=invoice&period=todas").content.decode()
    cell = re.search(r'<td class="field-cfdi">(.*?)</td>', page).group(1)
    assert re.sub(r"<[^>]+>", " ", cell).split() == ["Timbrado", "XML"]  # TFD: stamped, no PDF


# -- issue 10: a CFDI loaded from outside must prove itself ------------------------------------


def _edit(xml: bytes, old: bytes, new: bytes) -> bytes:
    assert xml.count(old) >= 1
    return xml.replace(old, new, 1)


def _one_byte_of_the_sello_changed(xml: bytes) -> bytes:
    start = xml.index(b'Sello="') + len(b'Sello="') + 40
    swapped = b"A" if xml[start : start + 1] != b"A" else b"B"
    return xml[:start] + swapped + xml[start + 1 :]


def _sello_cfd_of_another(xml: bytes) -> bytes:
    other = cfdi_xml(total="1.00")
    theirs = other.split(b'SelloCFD="')[1].split(b'"')[0]
    ours = xml.split(b'SelloCFD="')[1].split(b'"')[0]
    return xml.replace(b'SelloCFD="' + ours, b'SelloCFD="' + theirs)


@pytest.mark.parametrize(
    ("forge", "code"),
    [
        (_one_byte_of_the_sello_changed, "cfdi_sello_invalido"),
        (lambda xml: _edit(xml, b'Total="1160.00"', b'Total="11600.00"'), "cfdi_sello_invalido"),
        (lambda xml: _edit(xml, b'Rfc="URE180429TM6"', b'Rfc="MASO451221PM4"'), "cfdi_sello_invalido"),
        (lambda xml: _edit(xml, b'NoCertificado="3', b'NoCertificado="4'), "cfdi_no_certificado"),
        (lambda xml: _edit(xml, b'Certificado="MII', b'Certificado="XXX'), "cfdi_certificado_invalido"),
        (lambda xml: _edit(xml, b' Sello="', b' SelloX="'), "cfdi_sin_sello"),
        (_sello_cfd_of_another, "cfdi_timbre_ajeno"),
    ],
    ids=["sello", "total", "receptor", "no-certificado", "certificado", "sin-sello", "timbre-ajeno"],
)
def test_a_forged_or_altered_cfdi_is_refused_and_nothing_is_stored(demo, client, forge, code):
    genuine = cfdi_xml()
    response = upload(client, pachuca(demo), forge(genuine))
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert set(response.json()) == {"code", "message", "details"}
    assert not ExternalCfdi.objects.exists()
    assert upload(client, pachuca(demo), genuine).status_code == 201  # the genuine one still loads


def test_the_sello_message_is_clear(demo, client):
    response = upload(client, pachuca(demo), _one_byte_of_the_sello_changed(cfdi_xml()))
    assert response.json()["message"].startswith("El sello del CFDI no corresponde a su contenido")


def test_a_cfdi_sealed_with_a_certificate_of_another_rfc_is_refused(demo, client):
    unsealed = cfdi_xml().split(b"<cfdi:Complemento")[0]
    xml = seal_by_hand(unsealed.decode().split("?>", 1)[1].encode() + b"</cfdi:Comprobante>", rfc="AAA010101AAA",
                       uuid_=str(uuid.uuid4()))  # fmt: skip
    response = upload(client, pachuca(demo), xml)
    assert response.status_code == 400 and response.json()["code"] == "cfdi_certificado_ajeno", (
        response.json()
    )
    assert "AAA010101AAA" in response.json()["message"]
    assert not ExternalCfdi.objects.exists()


def test_an_internal_entity_is_refused_not_expanded(demo, client):
    genuine = cfdi_xml()
    body = genuine.split(b"?>", 1)[1].replace(b'Nombre="UNIVERSIDAD ROBOTICA ESPA', b'Nombre="&e;ESPA')
    xml = (
        b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE cfdi:Comprobante [<!ENTITY e "EXPANDIDA">]>' + body
    )
    response = upload(client, pachuca(demo), xml)
    assert response.status_code == 400 and response.json()["code"] == "cfdi_invalido"
    assert "DOCTYPE" in response.json()["message"]
    assert not ExternalCfdi.objects.exists()


def test_a_sealed_cfdi_33_loads(demo, client):
    tax = 'Base="1000.00" Impuesto="002" TipoFactor="Tasa" TasaOCuota="0.160000" Importe="160.00"'
    unsealed = (
        '<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/3" Version="3.3" Serie="EXT" Folio="33" '
        'Fecha="2022-03-01T09:00:00" FormaPago="03" SubTotal="1000.00" Moneda="MXN" Total="1160.00" '
        'TipoDeComprobante="I" MetodoPago="PUE" LugarExpedicion="42501">'
        '<cfdi:Emisor Rfc="EKU9003173C9" Nombre="ESCUELA KEMPER URGATE" RegimenFiscal="601"/>'
        '<cfdi:Receptor Rfc="URE180429TM6" Nombre="UNIVERSIDAD ROBOTICA ESPAÑOLA" UsoCFDI="G03"/>'
        '<cfdi:Conceptos><cfdi:Concepto ClaveProdServ="31161500" Cantidad="1" ClaveUnidad="H87" '
        'Descripcion="Producto A" ValorUnitario="1000.00" Importe="1000.00">'
        f"<cfdi:Impuestos><cfdi:Traslados><cfdi:Traslado {tax}/></cfdi:Traslados></cfdi:Impuestos>"
        "</cfdi:Concepto></cfdi:Conceptos>"
        '<cfdi:Impuestos TotalImpuestosTrasladados="160.00"><cfdi:Traslados>'
        '<cfdi:Traslado Impuesto="002" TipoFactor="Tasa" TasaOCuota="0.160000" Importe="160.00"/>'
        "</cfdi:Traslados></cfdi:Impuestos></cfdi:Comprobante>"
    ).encode()
    xml = seal_by_hand(unsealed, uuid_=str(uuid.uuid4()))
    response = upload(client, pachuca(demo), xml)
    assert response.status_code == 201, response.json()
    assert response.json()["version"] == "3.3"
    altered = xml.replace(b'Descripcion="Producto A"', b'Descripcion="Producto B"')
    assert upload(client, pachuca(demo), altered).json()["code"] == "cfdi_sello_invalido"


def test_a_cfdi_built_and_stamped_by_satcfdi_loads(demo, client):
    from tests.factories_external_cfdi import stamped_elsewhere

    response = upload(client, pachuca(demo), stamped_elsewhere(demo.company))
    assert response.status_code == 201, response.json()
