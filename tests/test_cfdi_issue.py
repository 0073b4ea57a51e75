"""Issuing CFDIs: every one validates against cfdv40.xsd, its sello verifies with SAT's
cadenaoriginal_4_0.xslt, and the sandbox PAC's SelloSAT verifies with its published certificate."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cfdi import services
from cfdi.description import Concept, Receiver, Related
from cfdi.models import CfdiDocument
from cfdi.pac.sandbox import sandbox_certificate
from erp.errors import DomainError
from tests.cfdi_verify import CFDI, TFD, verify_cfdi
from tests.factories_cfdi import concept, description, install_test_csd, professional_company, seed_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(company):
    install_test_csd(company)
    return company


@pytest.fixture
def professional(db):
    return professional_company()


def issue(company, document):
    stamped = services.issue_cfdi(
        company=company, document=document, source_model="tests.invoice", source_id=7
    )
    root = verify_cfdi(bytes(stamped.xml), pac_certificate=sandbox_certificate())
    return stamped, root


def test_seed_invoice_is_stamped_and_verifies(ready):
    stamped, root = issue(ready, seed_invoice(ready))
    assert stamped.status == CfdiDocument.Status.STAMPED
    assert stamped.cfdi_column == "TFD"
    assert (root.get("SubTotal"), root.get("Total")) == ("3150.00", "3654.00")
    assert root.find(f"{CFDI}Impuestos").get("TotalImpuestosTrasladados") == "504.00"
    tfd = root.find(f"{CFDI}Complemento/{TFD}TimbreFiscalDigital")
    assert tfd.get("Version") == "1.1" and tfd.get("UUID") == stamped.uuid
    assert len(tfd.get("NoCertificadoSAT")) == 20
    assert (stamped.subtotal, stamped.total, stamped.total_transferred) == (
        D("3150.00"),
        D("3654.00"),
        D("504.00"),
    )
    assert (stamped.source_model, stamped.source_id) == ("tests.invoice", 7)
    assert root.get("MetodoPago") == "PUE" and root.get("FormaPago") == "01"


def test_stored_xml_is_exactly_what_the_pac_returned(ready):
    sealed = services.seal_cfdi(company=ready, document=seed_invoice(ready))

    class RecordingPAC:
        name = "recording"

        def stamp(self, xml):
            from cfdi.pac import get_pac

            self.result = get_pac("sandbox").stamp(xml)
            return self.result

    pac = RecordingPAC()
    stamped = services.stamp_cfdi(document=sealed, pac=pac)
    stamped.refresh_from_db()
    assert bytes(stamped.xml) == pac.result.xml


def _statements(queries) -> list[str]:
    """'VERB table' of each statement, leaving out the savepoints of the test's transaction."""
    statements = []
    for query in queries:
        words = query["sql"].replace('"', "").split()
        verb = words[0]
        if verb in ("SELECT", "DELETE"):
            statements.append(f"{verb} {words[words.index('FROM') + 1]}")
        elif verb in ("INSERT", "UPDATE"):
            statements.append(f"{verb} {words[2] if verb == 'INSERT' else words[1]}")
    return statements


def test_issuing_a_cfdi_takes_five_statements(ready):
    """Hot path (bench/seal.py): no re-reads, no locks, the stamp recorded with one UPDATE."""
    services.issue_cfdi(company=ready, document=seed_invoice(ready, folio="0"))  # warm the sandbox
    with CaptureQueriesContext(connection) as captured:
        stamped = services.issue_cfdi(company=ready, document=seed_invoice(ready, folio="1"))
    assert _statements(captured.captured_queries) == [
        "SELECT cfdi_csd",  # the company's active CSD
        "INSERT cfdi_cfdidocument",  # sealed, stored before any PAC sees it
        "SELECT cfdi_pacaccount",  # which PAC the company stamps with
        "INSERT cfdi_sandboxstamp",  # the sandbox PAC's own record of its stamp
        "UPDATE cfdi_cfdidocument",  # SEALED -> STAMPED with the PAC's XML
    ]
    fresh = CfdiDocument.objects.get(pk=stamped.pk)
    assert (stamped.status, stamped.uuid, stamped.stamped_at, bytes(stamped.xml)) == (
        fresh.status,
        fresh.uuid,
        fresh.stamped_at,
        bytes(fresh.xml),
    )


@pytest.mark.parametrize(
    "taxes",
    [
        {"iva_rate": D("16")},
        {"iva_rate": D("8")},
        {"iva_rate": D("0")},
        {"iva_rate": None, "iva_exempt": True},
        {"iva_rate": None},
        {"iva_rate": D("16"), "ieps_rate": D("26.5")},
        {"iva_rate": D("16"), "ieps_rate": D("8")},
        {"iva_rate": D("16"), "retained_iva_rate": D("10.6667"), "retained_isr_rate": D("10")},
        {"iva_rate": D("16"), "retained_isr_rate": D("1.25")},
        {"iva_rate": D("16"), "discount": D("12.34")},
    ],
    ids=[
        "iva16",
        "iva8",
        "iva0",
        "exento",
        "no-objeto",
        "ieps26.5",
        "ieps8",
        "ret-iva-isr",
        "resico",
        "descuento",
    ],
)
def test_tax_profiles_validate_and_verify(taxes):
    issuer = professional_company()  # ISR is retained from personas físicas; 8% from the frontier
    stamped, root = issue(
        issuer, description(issuer, concept(3, "33.333333", **taxes), concept(2, "10.005", iva_rate=D("16")))
    )
    assert stamped.status == CfdiDocument.Status.STAMPED


def test_exempt_line_has_exento_traslado_without_amount(ready):
    _, root = issue(ready, description(ready, concept(1, "100", iva_rate=None, iva_exempt=True)))
    traslado = root.find(f"{CFDI}Impuestos/{CFDI}Traslados/{CFDI}Traslado")
    assert traslado.get("TipoFactor") == "Exento" and traslado.get("Importe") is None
    assert root.find(f"{CFDI}Impuestos").get("TotalImpuestosTrasladados") is None
    assert root.get("Total") == "100.00"


@pytest.mark.parametrize(
    ("currency", "rate", "subtotal"),
    [("USD", "17.254300", "99.95"), ("CLP", "0.019500", "100"), ("BHD", "45.871000", "99.950")],
)
def test_foreign_currency_with_exchange_rate_and_its_decimals(ready, currency, rate, subtotal):
    document = description(ready, concept(5, "19.99"), currency=currency, exchange_rate=D(rate))
    _, root = issue(ready, document)
    assert (root.get("Moneda"), root.get("TipoCambio"), root.get("SubTotal")) == (currency, rate, subtotal)


def test_counter_customer(ready):
    document = description(ready, concept(1, "58.62"), receiver=Receiver.counter(ready.postal_code))
    _, root = issue(ready, document)
    receptor = root.find(f"{CFDI}Receptor")
    assert receptor.attrib == {
        "Rfc": "XAXX010101000",
        "Nombre": "PUBLICO EN GENERAL",
        "DomicilioFiscalReceptor": ready.postal_code,
        "RegimenFiscalReceptor": "616",
        "UsoCFDI": "S01",
    }
    info = root.find(f"{CFDI}InformacionGlobal")
    fecha = root.get("Fecha")
    assert info.attrib == {"Periodicidad": "01", "Meses": fecha[5:7], "Año": fecha[:4]}


def test_credit_sale_is_ppd_with_forma_pago_99(ready):
    _, root = issue(ready, seed_invoice(ready, credit=True))
    assert (root.get("MetodoPago"), root.get("FormaPago")) == ("PPD", "99")


def test_credit_note_with_related_uuid(ready):
    invoice, _ = issue(ready, seed_invoice(ready))
    note = description(
        ready, concept(1, "100"), doc_type="E", series="NC", related=(Related("01", (invoice.uuid,)),)
    )
    stamped, root = issue(ready, note)
    assert stamped.kind == "E"
    assert root.find(f"{CFDI}CfdiRelacionados/{CFDI}CfdiRelacionado").get("UUID") == invoice.uuid


def test_fecha_is_local_time_of_place_of_issue(ready):
    moment = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    stamped, root = issue(ready, seed_invoice(ready, issued_at=moment))
    # 42501 (Hidalgo) is Tiempo del Centro: UTC-6 all year since 2022.
    assert root.get("Fecha") == (moment - timedelta(hours=6)).replace(tzinfo=None).isoformat()
    assert stamped.issued_at == moment


def test_stamping_again_returns_the_same_stamp_with_307(ready):
    from cfdi.pac import PREVIOUSLY_STAMPED, get_pac

    sealed = services.seal_cfdi(company=ready, document=seed_invoice(ready))
    first = get_pac().stamp(bytes(sealed.xml))
    again = get_pac().stamp(bytes(sealed.xml))
    assert again.code == PREVIOUSLY_STAMPED
    assert (again.uuid, again.xml) == (first.uuid, first.xml)
    stamped = services.stamp_cfdi(document=sealed)
    assert stamped.uuid == first.uuid
    assert services.stamp_cfdi(document=stamped).uuid == first.uuid


def test_findings_never_reach_the_pac_and_store_nothing(ready):
    class FailingPAC:
        name = "never"

        def stamp(self, xml):  # pragma: no cover - must not be called
            raise AssertionError("the PAC must not be called")

    bad = description(
        ready, concept(1, "10"), receiver=Receiver("XAXX010101000", "JUAN", "00000", "616", "G03")
    )
    with pytest.raises(DomainError) as error:
        services.issue_cfdi(company=ready, document=bad, pac=FailingPAC())
    assert error.value.code == "cfdi_reglas_sat"
    codes = {f["code"] for f in error.value.details["findings"]}
    assert {"CFDI40146", "CFDI40149", "CFDI40161"} <= codes
    assert CfdiDocument.objects.count() == 0


def test_no_csd_is_refused(company):
    with pytest.raises(DomainError) as error:
        services.issue_cfdi(company=company, document=seed_invoice(company))
    assert error.value.code == "csd_faltante"
    assert CfdiDocument.objects.count() == 0


def test_pac_refusal_keeps_the_sealed_document_with_the_error(ready):
    from cfdi.pac import PACError

    class RefusingPAC:
        name = "refusing"

        def stamp(self, xml):
            raise PACError("CFDI40999", "Error no clasificado")

    with pytest.raises(DomainError) as error:
        services.issue_cfdi(company=ready, document=seed_invoice(ready), pac=RefusingPAC())
    assert error.value.details["pac_code"] == "CFDI40999"
    document = CfdiDocument.objects.get()
    assert document.status == CfdiDocument.Status.SEALED and document.cfdi_column == "---"
    assert document.last_error_code == "CFDI40999"
    assert services.stamp_cfdi(document=document).status == CfdiDocument.Status.STAMPED


# -- property-based: awkward prices never produce a SAT rounding rejection ------------------

quantities = st.decimals(min_value=D("0.001"), max_value=D("9999"), places=3)
prices = st.decimals(min_value=D("0.01"), max_value=D("99999.999999"), places=6)
profiles = st.sampled_from(
    [
        {"iva_rate": D("16")},
        {"iva_rate": D("0")},
        {"iva_rate": None, "iva_exempt": True},
        {"iva_rate": D("16"), "ieps_rate": D("26.5")},
        {"iva_rate": D("16"), "retained_iva_rate": D("10.6667"), "retained_isr_rate": D("10")},
        {"iva_rate": D("8"), "ieps_rate": D("8")},
    ]
)
lines = st.tuples(quantities, prices, profiles, st.integers(min_value=0, max_value=30))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(lines, min_size=1, max_size=12), currency=st.sampled_from(["MXN", "USD"]))
def test_awkward_prices_always_pass_sat_rules_schema_and_seal(professional, rows, currency):
    ready = professional
    concepts = []
    for quantity, price, taxes, discount_pct in rows:
        importe = (quantity * price).quantize(D("0.01"))
        assume(importe >= D("0.10"))  # SAT: a taxed line needs a base above zero (40174)
        discount = (importe * discount_pct / 100).quantize(D("0.01"))
        concepts.append(Concept("01010101", "H87", "Artículo", quantity, price, discount=discount, **taxes))
    rate = D("17.123456") if currency == "USD" else None
    document = description(ready, *concepts, currency=currency, exchange_rate=rate)
    assert services.check_document(company=ready, document=document) == []
    sealed = services.seal_cfdi(company=ready, document=document)
    verify_cfdi(bytes(sealed.xml))


def test_fecha_before_the_csd_validity_is_refused(ready):
    before = timezone.now() - timedelta(days=2)  # the test CSD is valid from yesterday
    with pytest.raises(DomainError) as error:
        services.seal_cfdi(company=ready, document=seed_invoice(ready, issued_at=before))
    assert error.value.code == "cfdi_fuera_de_vigencia"
    assert CfdiDocument.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "text"),
    [
        ("description", "x" * 1001, "descripción"),
        ("description", "A|B", "«|»"),
        ("unit_price", D("1.1234567"), "6 decimales"),
        ("quantity", D("0.0000001"), "6 decimales"),
        ("unit", "U" * 21, "unidad"),
    ],
)
def test_what_the_schema_refuses_is_told_before_building(ready, field, value, text):
    from dataclasses import replace

    bad = replace(concept(), **{field: value})
    with pytest.raises(DomainError) as error:
        services.issue_cfdi(company=ready, document=description(ready, bad))
    assert error.value.code == "cfdi_dato_invalido" and text in error.value.message
    assert CfdiDocument.objects.count() == 0
