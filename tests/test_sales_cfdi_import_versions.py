"""Building from CFDI 3.3 and 3.2 attribute names (the seed quotes 3.2's lower-case ones), at the
service level. These XMLs are written by hand and so carry no valid sello: they are put in the
table directly to test the reading and the concordance, never loaded through the API (which
checks the seal)."""

import uuid
from decimal import Decimal as D

import pytest

from demo.services import load_demo
from sales.cfdi_import.services import (
    build_xml_invoice,
    concordance_of,
    header_for,
    update_xml_invoice,
    xml_data,
)
from sales.cfdi_import.xml import read_invoice_xml
from sales.models import ExternalCfdi, SalesEntity
from tests.test_sales_cfdi_import_api import SEED_MESSAGES

pytestmark = pytest.mark.django_db

TFD = (
    '<cfdi:Complemento><tfd:TimbreFiscalDigital xmlns:tfd="http://www.sat.gob.mx/TimbreFiscalDigital" '
    'Version="1.1" UUID="{uuid}" FechaTimbrado="2026-11-20T10:00:00"/></cfdi:Complemento>'
)


def seed_32(uid: str, *, exchange: str = "", currency: str = "Pesos") -> bytes:
    """The seed's example as a CFDI 3.2 writes it."""
    rate = f' TipoCambio="{exchange}"' if exchange else ""
    return (
        '<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/3" version="3.2" '
        f'fecha="2026-11-20T09:00:00" tipoDeComprobante="ingreso" subTotal="135.00" total="156.60" '
        f'Moneda="{currency}"{rate}>'
        '<cfdi:Emisor rfc="EKU9003173C9" nombre="ESCUELA KEMPER URGATE"/>'
        '<cfdi:Receptor rfc="URE180429TM6" nombre="UNIVERSIDAD ROBOTICA ESPAÑOLA"/>'
        '<cfdi:Conceptos><cfdi:Concepto cantidad="10.00" descripcion="Producto A" importe="135.00" '
        'unidad="PZA" valorUnitario="13.500000"/></cfdi:Conceptos>'
        '<cfdi:Impuestos totalImpuestosTrasladados="21.60"><cfdi:Traslados>'
        '<cfdi:Traslado importe="21.60" impuesto="IVA" tasa="16.00"/></cfdi:Traslados></cfdi:Impuestos>'
        f"{TFD.format(uuid=uid)}</cfdi:Comprobante>"
    ).encode()


def seed_33(uid: str) -> bytes:
    tax = 'Base="135.00" Impuesto="002" TipoFactor="Tasa" TasaOCuota="0.160000" Importe="21.60"'
    return (
        '<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/3" Version="3.3" '
        'Fecha="2026-11-20T09:00:00" TipoDeComprobante="I" SubTotal="135.00" Total="156.60" Moneda="MXN">'
        '<cfdi:Emisor Rfc="EKU9003173C9" Nombre="ESCUELA KEMPER URGATE" RegimenFiscal="601"/>'
        '<cfdi:Receptor Rfc="URE180429TM6" UsoCFDI="G03"/>'
        '<cfdi:Conceptos><cfdi:Concepto ClaveProdServ="31161500" NoIdentificacion="TOR-1" Cantidad="10" '
        'ClaveUnidad="H87" Descripcion="Producto A" ValorUnitario="13.50" Importe="135.00">'
        f"<cfdi:Impuestos><cfdi:Traslados><cfdi:Traslado {tax}/></cfdi:Traslados></cfdi:Impuestos>"
        "</cfdi:Concepto></cfdi:Conceptos>"
        '<cfdi:Impuestos TotalImpuestosTrasladados="21.60"><cfdi:Traslados>'
        '<cfdi:Traslado Impuesto="002" TipoFactor="Tasa" TasaOCuota="0.160000" Importe="21.60"/>'
        f"</cfdi:Traslados></cfdi:Impuestos>{TFD.format(uuid=uid)}</cfdi:Comprobante>"
    ).encode()


@pytest.fixture
def demo():
    return load_demo()


def external(demo, xml: bytes, uid: str, version: str) -> ExternalCfdi:
    return ExternalCfdi.objects.create(
        company=demo.company, entity=SalesEntity.objects.get(company=demo.company, code="PACHUCA"),
        uuid=uid.upper(), version=version, doc_type="I", issuer_rfc="EKU9003173C9",
        receiver_rfc="URE180429TM6", issued_at="2026-11-20T09:00:00", currency="MXN", total="156.60", xml=xml,
    )  # fmt: skip


@pytest.mark.parametrize(("maker", "version"), [(seed_32, "3.2"), (seed_33, "3.3")])
def test_the_seed_example_in_older_versions(demo, maker, version):
    uid = str(uuid.uuid4())
    template = build_xml_invoice(external=external(demo, maker(uid), uid, version))
    assert concordance_of(template).as_text() == SEED_MESSAGES
    update_xml_invoice(template=template, codes={1: "A"})
    result = concordance_of(template)
    assert result.ok and result.messages == () and str(result.totals.total) == "156.60"
    assert template.customer.number == 1


def test_32_names_are_read():
    data = read_invoice_xml(seed_32(str(uuid.uuid4())))
    concept = data.concepts[0]
    assert (data.version, data.doc_type, data.issuer_rfc, data.receiver_rfc) == (
        "3.2",
        "I",
        "EKU9003173C9",
        "URE180429TM6",
    )
    assert (str(concept.quantity), str(concept.unit_price), concept.description) == (
        "10.00",
        "13.500000",
        "Producto A",
    )
    assert [(t.tax, t.rate, t.amount_text) for t in data.transferred] == [("002", 16, "21.60")]


def test_33_names_are_read_with_the_concepts_own_taxes():
    data = read_invoice_xml(seed_33(str(uuid.uuid4())))
    assert data.concepts[0].sku == "TOR-1"
    assert [(t.tax, t.rate, t.amount) for t in data.concepts[0].transferred] == [("002", D(16), D("21.60"))]


def test_a_tipo_de_cambio_other_than_one_means_dollars(demo):
    uid = str(uuid.uuid4())
    row = external(demo, seed_32(uid, exchange="17.50", currency="dolares americanos"), uid, "3.2")
    template = build_xml_invoice(external=row)
    header = header_for(template, xml_data(row))
    assert header.currency.code == "USD" and str(header.exchange_rate) == "17.50"


def test_loading_reads_32_names():
    from sales.external_cfdi import parse_cfdi

    uid = str(uuid.uuid4())
    data = parse_cfdi(seed_32(uid))
    assert (data["version"], data["doc_type"], data["issuer_rfc"], data["receiver_rfc"], data["total"]) == (
        "3.2",
        "I",
        "EKU9003173C9",
        "URE180429TM6",
        D("156.60"),
    )
    assert data["uuid"] == uid.upper()
