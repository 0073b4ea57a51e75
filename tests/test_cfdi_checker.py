"""The SAT rule checker: a clean document has no findings, and each rule trips on its defect."""

from copy import deepcopy
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone
from lxml import etree

from cfdi import checker, sat
from cfdi.description import Receiver
from tests.factories_cfdi import concept, description

C = "{http://www.sat.gob.mx/cfd/4}"
NS = {"cfdi": "http://www.sat.gob.mx/cfd/4"}


@pytest.fixture
def base_root(company):
    document = description(
        company,
        concept(3, "33.333333", iva_rate=D("16"), discount=D("1.00")),
        concept(
            2,
            "10.50",
            iva_rate=D("16"),
            ieps_rate=D("8"),
            retained_iva_rate=D("10.6667"),  # no ISR: the issuer is a persona moral
        ),
        concept(1, "100", iva_rate=None, iva_exempt=True),
    )
    comprobante, _ = sat.build_comprobante(document)
    return comprobante.to_xml()


def codes(root, **kwargs):
    kwargs.setdefault("now", timezone.now())
    return {f.code for f in checker.check(root, **kwargs)}


def test_clean_document_has_no_findings(base_root):
    assert checker.check(base_root, now=timezone.now()) == []


def mutate(root, xpath, **attrs):
    root = deepcopy(root)
    nodes = root.xpath(xpath, namespaces=NS) if xpath != "." else [root]
    assert nodes, xpath
    for key, value in attrs.items():
        if value is None:
            nodes[0].attrib.pop(key, None)
        else:
            nodes[0].set(key, value)
    return root


def remove(root, xpath):
    root = deepcopy(root)
    node = root.xpath(xpath, namespaces=NS)[0]
    node.getparent().remove(node)
    return root


def duplicate(root, xpath):
    root = deepcopy(root)
    node = root.xpath(xpath, namespaces=NS)[0]
    node.addnext(deepcopy(node))
    return root


def first_concept_taxes_removed(root):
    return remove(root, "cfdi:Conceptos/cfdi:Concepto[1]/cfdi:Impuestos")


CASES = {
    "CFDI40105": lambda r: mutate(r, ".", MetodoPago="PPD", FormaPago="01"),
    "CFDI40107": lambda r: mutate(r, ".", SubTotal="1180.501"),
    "CFDI40108": lambda r: mutate(r, ".", SubTotal="1180.51"),
    "CFDI40110": lambda r: mutate(r, ".", Descuento="99999.00"),
    "CFDI40111": lambda r: mutate(r, ".", TipoDeComprobante="T"),
    "CFDI40112": lambda r: mutate(r, ".", Descuento="1.001"),
    "CFDI40113": lambda r: mutate(r, ".", Moneda="ZZZ"),
    "CFDI40114": lambda r: mutate(r, ".", TipoCambio="17.5"),
    "CFDI40115": lambda r: mutate(r, ".", Moneda="USD"),
    "CFDI40116": lambda r: mutate(r, ".", Moneda="XXX", TipoCambio="1"),
    "CFDI40117": lambda r: mutate(r, ".", Moneda="USD", TipoCambio="17.1234567"),
    "CFDI40119": lambda r: mutate(r, ".", Total="1.00"),
    "CFDI40146": lambda r: mutate(
        r,
        "cfdi:Receptor",
        Rfc="XAXX010101000",
        Nombre="JUAN PEREZ",
        RegimenFiscalReceptor="616",
        UsoCFDI="S01",
        DomicilioFiscalReceptor="42501",
    ),
    "CFDI40149": lambda r: mutate(
        r,
        "cfdi:Receptor",
        Rfc="XAXX010101000",
        Nombre="PUBLICO EN GENERAL",
        RegimenFiscalReceptor="616",
        UsoCFDI="S01",
        DomicilioFiscalReceptor="06000",
    ),
    "CFDI40157": lambda r: mutate(r, "cfdi:Receptor", RegimenFiscalReceptor="999"),
    "CFDI40158": lambda r: mutate(r, "cfdi:Receptor", RegimenFiscalReceptor="605"),
    "CFDI40159": lambda r: mutate(
        r,
        "cfdi:Receptor",
        Rfc="XAXX010101000",
        Nombre="PUBLICO EN GENERAL",
        RegimenFiscalReceptor="605",
        UsoCFDI="S01",
        DomicilioFiscalReceptor="42501",
    ),
    "CFDI40160": lambda r: mutate(r, "cfdi:Receptor", UsoCFDI="Z99"),
    "CFDI40161": lambda r: mutate(r, "cfdi:Receptor", UsoCFDI="D01"),
    "CFDI40166": lambda r: mutate(r, "cfdi:Conceptos/cfdi:Concepto[3]", ValorUnitario="0"),
    "CFDI40167": lambda r: mutate(r, "cfdi:Conceptos/cfdi:Concepto[1]", Importe="150.00"),
    "CFDI40169": lambda r: mutate(r, "cfdi:Conceptos/cfdi:Concepto[1]", Descuento="150.00"),
    "CFDI40171": first_concept_taxes_removed,
    "CFDI40172": lambda r: mutate(r, "cfdi:Conceptos/cfdi:Concepto[1]", ObjetoImp="01"),
    "CFDI40174": lambda r: mutate(
        r, "cfdi:Conceptos/cfdi:Concepto[1]/cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", Base="0.00"
    ),
    "CFDI40177": lambda r: mutate(
        r,
        "cfdi:Conceptos/cfdi:Concepto[3]/cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado",
        TasaOCuota="0.000000",
    ),
    "CFDI40178": lambda r: mutate(
        r, "cfdi:Conceptos/cfdi:Concepto[1]/cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", Importe=None
    ),
    "CFDI40179": lambda r: mutate(
        r,
        "cfdi:Conceptos/cfdi:Concepto[1]/cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado",
        TasaOCuota="0.150000",
    ),
    "CFDI40185": lambda r: mutate(
        r,
        "cfdi:Conceptos/cfdi:Concepto[2]/cfdi:Impuestos/cfdi:Retenciones/cfdi:Retencion",
        TasaOCuota="0.400000",
    ),
    "CFDI40180": lambda r: mutate(
        r, "cfdi:Conceptos/cfdi:Concepto[1]/cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", Importe="16.00"
    ),
    "CFDI40181": lambda r: mutate(
        r, "cfdi:Conceptos/cfdi:Concepto[2]/cfdi:Impuestos/cfdi:Retenciones/cfdi:Retencion", Base="0"
    ),
    "CFDI40186": lambda r: mutate(
        r, "cfdi:Conceptos/cfdi:Concepto[2]/cfdi:Impuestos/cfdi:Retenciones/cfdi:Retencion", Importe="3.00"
    ),
    "CFDI40202": lambda r: mutate(r, "cfdi:Impuestos", TotalImpuestosRetenidos="4.341"),
    "CFDI40203": lambda r: mutate(r, "cfdi:Impuestos", TotalImpuestosRetenidos="1.00"),
    "CFDI40204": lambda r: mutate(r, "cfdi:Impuestos", TotalImpuestosTrasladados="1.001"),
    "CFDI40205": lambda r: mutate(r, "cfdi:Impuestos", TotalImpuestosTrasladados="1.00"),
    "CFDI40208": lambda r: duplicate(r, "cfdi:Impuestos/cfdi:Retenciones/cfdi:Retencion"),
    "CFDI40210": lambda r: mutate(r, "cfdi:Impuestos/cfdi:Retenciones/cfdi:Retencion", Importe="2.101"),
    "CFDI40211": lambda r: mutate(r, "cfdi:Impuestos/cfdi:Retenciones/cfdi:Retencion", Importe="9.99"),
    "CFDI40214": lambda r: mutate(r, "cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", Base="1.001"),
    "CFDI40215": lambda r: mutate(r, "cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", Base="1.00"),
    "CFDI40218": lambda r: duplicate(r, "cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado"),
    "CFDI40220": lambda r: mutate(r, "cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", Importe="1.001"),
    "CFDI40221": lambda r: mutate(r, "cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", Importe="1.00"),
    "CFDI40101": lambda r: mutate(r, ".", Fecha="23/11/2026"),
    "CFDI40130": lambda r: mutate(
        r,
        "cfdi:Receptor",
        Rfc="XAXX010101000",
        Nombre="PUBLICO EN GENERAL",
        RegimenFiscalReceptor="616",
        UsoCFDI="S01",
        DomicilioFiscalReceptor="42501",
    ),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_rule_trips(base_root, code):
    root = CASES[code](base_root)
    found = checker.check(root, now=timezone.now())
    assert code in {f.code for f in found}, [f"{f.code} {f.message}" for f in found]
    message = next(f.message for f in found if f.code == code)
    assert message and message[0].isupper()  # a Spanish sentence for the user


def test_exchange_rate_outside_the_days_range_needs_confirmation(company):
    comprobante, _ = sat.build_comprobante(
        description(company, concept(), currency="USD", exchange_rate=D("30.000000"))
    )
    root = comprobante.to_xml()
    assert "CFDI40118" in codes(root, reference_rate=D("17.50"))
    assert "CFDI40118" not in codes(root, reference_rate=D("25.00"))
    assert "CFDI40118" not in codes(mutate(root, ".", Confirmacion="ABC12"), reference_rate=D("17.50"))


def test_72_hour_window(base_root):
    fecha = sat.timezone_of("42501").localize(
        __import__("datetime").datetime.fromisoformat(base_root.get("Fecha"))
    )
    assert "401" not in codes(base_root, now=fecha + timedelta(hours=71))
    assert "401" in codes(base_root, now=fecha + timedelta(hours=73))
    assert "401" in codes(base_root, now=fecha - timedelta(hours=1))


def test_counter_customer_passes(company):
    comprobante, _ = sat.build_comprobante(
        description(company, concept(), receiver=Receiver.counter(company.postal_code))
    )
    assert codes(comprobante.to_xml()) == set()


def test_global_information_only_for_publico_en_general(company):
    comprobante, _ = sat.build_comprobante(
        description(company, concept(), receiver=Receiver.counter(company.postal_code))
    )
    root = comprobante.to_xml()
    named = mutate(
        root,
        "cfdi:Receptor",
        Rfc="URE180429TM6",
        Nombre="UNIVERSIDAD",
        RegimenFiscalReceptor="601",
        UsoCFDI="G03",
        DomicilioFiscalReceptor="86991",
    )
    assert "CFDI40130" in codes(named)
    assert "CFDI40130" in codes(remove(root, "cfdi:InformacionGlobal"))


def test_informacion_global_rules(company):
    comprobante, _ = sat.build_comprobante(
        description(company, concept(), receiver=Receiver.counter(company.postal_code))
    )
    root = comprobante.to_xml()
    year = int(root.get("Fecha")[:4])
    assert codes(root) == set()
    assert "CFDI40131" in codes(mutate(root, "cfdi:InformacionGlobal", Periodicidad="06"))
    bimestral = mutate(root, "cfdi:InformacionGlobal", Periodicidad="05", Meses="13")
    assert "CFDI40132" in codes(bimestral)  # the issuer is not in régimen 621
    assert "CFDI40132" not in codes(mutate(bimestral, "cfdi:Emisor", RegimenFiscal="621"))
    assert "CFDI40133" in codes(mutate(root, "cfdi:InformacionGlobal", Meses="19"))
    assert "CFDI40134" in codes(mutate(root, "cfdi:InformacionGlobal", Periodicidad="01", Meses="14"))
    assert "CFDI40135" in codes(mutate(root, "cfdi:InformacionGlobal", Periodicidad="05", Meses="02"))
    assert "CFDI40136" in codes(mutate(root, "cfdi:InformacionGlobal", Año=str(year - 2)))
    assert "CFDI40136" not in codes(mutate(root, "cfdi:InformacionGlobal", Año=str(year - 1)))


def test_findings_carry_code_message_and_place(base_root):
    root = mutate(base_root, "cfdi:Conceptos/cfdi:Concepto[2]", Importe="1.00")
    finding = next(f for f in checker.check(root) if f.code == "CFDI40167")
    assert finding.where == "Concepto 2"
    assert set(finding.as_dict()) == {"code", "message", "where"}
    assert etree.iselement(root)
