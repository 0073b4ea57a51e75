"""Taxes decided by who sells to whom and where, and nothing posted that SAT would refuse (issue 11).

Stamped CFDIs are verified here and, like every CFDI a test stamps, again after the test by
tests/conftest.py (XSD, sello, the SAT rule checker).
"""

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from lxml import etree

from accounting.models import JournalEntry
from cashbank.models import CashBankAccount, CashMovement
from cfdi import sat, services
from cfdi.description import Concept, FiscalDocument, Receiver
from cfdi.models import CfdiDocument
from cfdi.pac.sandbox import sandbox_certificate
from cfdi.pdf import context_for
from cfdi.services import issuer_for
from demo.services import PROFESSIONAL_RFC, load_demo
from erp import taxes
from erp.errors import DomainError
from erp.models import Company
from erp.rfc import check_digit, check_digit_ok
from erp.taxes import Party, retention_rates
from inventory.models import Product, StockMovement, Warehouse
from inventory.services import create_stock_movement
from sales.models import Customer, SalesDocument, SalesEntity
from sales.receivables.models import Receivable
from tests.cfdi_verify import verify_cfdi
from tests.factories_cfdi import concept, description, install_test_csd

pytestmark = pytest.mark.django_db
C = "{http://www.sat.gob.mx/cfd/4}"

MORAL = Party("URE180429TM6", "601")
FISICA_612 = Party("MASO451221PM4", "612")
FISICA_606 = Party("MASO451221PM4", "606")
FISICA_626 = Party("MASO451221PM4", "626")
FISICA_605 = Party("MASO451221PM4", "605")
PUBLICO = Party("XAXX010101000", "616")
EXTRANJERO = Party("XEXX010101000", "616")
EMPRESA = Party("EKU9003173C9", "601")


# -- The rules table -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "operation, issuer, receiver, iva, exempt, expected",
    [
        ("honorarios", FISICA_612, MORAL, "16", False, ("10.6667", "10")),
        ("honorarios", FISICA_612, MORAL, "8", False, ("5.3333", "10")),
        ("honorarios", FISICA_612, MORAL, None, True, ("0", "10")),  # exempt: no IVA to retain
        ("honorarios", FISICA_612, PUBLICO, "16", False, ("0", "0")),
        ("honorarios", FISICA_612, EXTRANJERO, "16", False, ("0", "0")),
        ("honorarios", FISICA_612, FISICA_612, "16", False, ("0", "0")),  # a física does not retain fees
        ("honorarios", EMPRESA, MORAL, "16", False, ("0", "0")),  # a persona moral suffers no ISR
        ("arrendamiento", FISICA_606, MORAL, "16", False, ("10.6667", "10")),
        ("general", FISICA_626, MORAL, "16", False, ("0", "1.25")),  # RESICO: LISR art. 113-J
        ("honorarios", FISICA_626, MORAL, "16", False, ("10.6667", "1.25")),
        ("general", FISICA_626, FISICA_612, "16", False, ("0", "0")),
        ("general", FISICA_612, MORAL, "16", False, ("0", "0")),  # goods: nobody retains
        ("autotransporte", EMPRESA, MORAL, "16", False, ("4", "0")),
        ("autotransporte", EMPRESA, FISICA_612, "16", False, ("0", "0")),
        ("autotransporte", EMPRESA, PUBLICO, "16", False, ("0", "0")),
        ("personal", EMPRESA, FISICA_612, "16", False, ("6", "0")),  # física with business activity
        ("personal", EMPRESA, FISICA_605, "16", False, ("0", "0")),
        ("personal", EMPRESA, MORAL, "0", False, ("0", "0")),  # 0%: no IVA to retain
    ],
)
def test_retentions_follow_the_parties(operation, issuer, receiver, iva, exempt, expected):
    rates = retention_rates(
        operation=operation,
        issuer=issuer,
        receiver=receiver,
        iva_rate=None if iva is None else D(iva),
        iva_exempt=exempt,
    )
    assert rates == (D(expected[0]), D(expected[1]))


def test_every_retention_rule_cites_its_article():
    assert taxes.RETENTION_RULES
    assert all(" art. " in rule.article for rule in taxes.RETENTION_RULES)


@pytest.mark.parametrize(
    "rfc, ok",
    [
        ("URE180429TM6", True),
        ("EKU9003173C9", True),
        ("MASO451221PM4", True),
        ("CACX7605101P8", True),
        ("XAXX010101000", True),
        ("XEXX010101000", True),
        ("URE180429TM7", False),
        ("MASO451221PM5", False),
    ],
)
def test_rfc_check_digit(rfc, ok):
    assert check_digit_ok(rfc) is ok


# -- Demo-backed invoices ----------------------------------------------------------------------


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
            {"product": Product.objects.get(company=demo.company, code=c), "quantity": 500, "unit_cost": "5"}
            for c in ("A", "B", "CERV", "GASOL")
        ],
    )
    return demo


@pytest.fixture
def client(demo, api_as):
    return api_as(get_user_model().objects.get(username="cajero"))


def entity(code, rfc="EKU9003173C9"):
    return SalesEntity.objects.get(company__rfc=rfc, code=code)


def create(client, entity_, customer, lines, payment="credit", **extra):
    body = {
        "entity": entity_.pk,
        "customer": customer,
        "date": str(date.today()),
        "payment": payment,
        "lines": lines,
        **extra,
    }
    response = client.post("/api/sales/invoices/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def post(client, invoice, collections=None):
    return client.post(
        f"/api/sales/invoices/{invoice['id']}/post/", {"collections": collections or []}, format="json"
    )


def stamped_root(invoice_id):
    cfdi = CfdiDocument.objects.get(source_model="sales.salesdocument", source_id=invoice_id)
    assert cfdi.status == "stamped", SalesDocument.objects.get(pk=invoice_id).cfdi_error
    return verify_cfdi(bytes(cfdi.xml), pac_certificate=sandbox_certificate())


def stamp(client, invoice, capture, collections=None):
    with capture(execute=True):
        response = post(client, invoice, collections)
    assert response.status_code == 200, response.json()
    return stamped_root(invoice["id"])


def withheld(root):
    taxes_ = root.find(f"{C}Impuestos")
    if taxes_ is None:
        return {}
    return {r.get("Impuesto"): r.get("Importe") for r in taxes_.iterfind(f"{C}Retenciones/{C}Retencion")}


def test_persona_fisica_fees_to_a_persona_moral_retain_isr_10_and_two_thirds_of_iva(
    client, django_capture_on_commit_callbacks
):
    invoice = create(client, entity("DESPACHO", PROFESSIONAL_RFC), 1, [{"product": "HON", "quantity": "1"}])
    line = invoice["lines"][0]
    assert (line["retained_iva_rate"], line["retained_isr_rate"]) == ("10.6667", "10.0000")
    # 10,000 + 1,600 IVA − 1,066.67 (2/3 of the IVA) − 1,000 ISR
    assert (invoice["retained_iva"], invoice["retained_isr"], invoice["total"]) == (
        "1066.67",
        "1000.00",
        "9533.33",
    )
    root = stamp(client, invoice, django_capture_on_commit_callbacks)
    assert root.find(f"{C}Emisor").get("RegimenFiscal") == "612"
    assert withheld(root) == {"002": "1066.67", "001": "1000.00"}
    assert root.get("Total") == "9533.33"


def test_invoice_to_publico_en_general_of_a_product_with_retentions_has_none(
    client, django_capture_on_commit_callbacks
):
    despacho = entity("DESPACHO", PROFESSIONAL_RFC)
    invoice = create(client, despacho, 0, [{"product": "HON", "quantity": "1"}], payment="cash")
    assert (invoice["retained_iva"], invoice["retained_isr"], invoice["total"]) == (
        "0.00",
        "0.00",
        "11600.00",
    )
    banco = CashBankAccount.objects.get(company=despacho.company, code="BANCO")
    root = stamp(
        client,
        invoice,
        django_capture_on_commit_callbacks,
        [{"account": banco.pk, "amount": "11600.00", "method": "03", "counterparty_bank": "012",
          "counterparty_account": "0123456789"}],
    )  # fmt: skip
    assert root.find(f"{C}Receptor").get("Rfc") == "XAXX010101000"
    assert withheld(root) == {}


def test_a_persona_moral_issuer_retains_no_isr(client, django_capture_on_commit_callbacks):
    invoice = create(client, entity("PACHUCA"), 1, [{"product": "ASES", "quantity": "1"}])
    assert (invoice["retained_iva"], invoice["retained_isr"]) == ("0.00", "0.00")
    root = stamp(client, invoice, django_capture_on_commit_callbacks)
    assert "001" not in withheld(root)


def test_exempt_product_is_objeto_02_with_an_exento_traslado(client, django_capture_on_commit_callbacks):
    invoice = create(
        client,
        entity("PACHUCA"),
        1,
        [{"product": "COLEG", "quantity": "1"}, {"product": "A", "quantity": "3"}],
    )
    assert invoice["lines"][0]["iva_exempt"] is True and invoice["lines"][0]["iva"] == "0.00"
    root = stamp(client, invoice, django_capture_on_commit_callbacks)
    coleg = root.find(f"{C}Conceptos/{C}Concepto")
    assert coleg.get("ObjetoImp") == "02"
    (traslado,) = coleg.iterfind(f"{C}Impuestos/{C}Traslados/{C}Traslado")
    assert dict(traslado.attrib) == {"Base": "3500.00", "Impuesto": "002", "TipoFactor": "Exento"}
    summary = {t.get("TipoFactor"): t.attrib for t in root.iterfind(f"{C}Impuestos/{C}Traslados/{C}Traslado")}
    assert summary["Exento"] == {"Base": "3500.00", "Impuesto": "002", "TipoFactor": "Exento"}
    # 3500 exempt + 34.50 + 5.52 IVA: the arithmetic holds (the checker runs after the test too).
    assert root.get("Total") == "3540.02"
    assert root.find(f"{C}Impuestos").get("TotalImpuestosTrasladados") == "5.52"


def test_no_objeto_product_is_objeto_01_without_taxes(client, django_capture_on_commit_callbacks):
    invoice = create(client, entity("PACHUCA"), 1, [{"product": "REEMB", "quantity": "1"}])
    root = stamp(client, invoice, django_capture_on_commit_callbacks)
    concepto = root.find(f"{C}Conceptos/{C}Concepto")
    assert concepto.get("ObjetoImp") == "01" and concepto.find(f"{C}Impuestos") is None


def test_ieps_quota_per_unit(client, django_capture_on_commit_callbacks):
    invoice = create(client, entity("PACHUCA"), 1, [{"product": "GASOL", "quantity": "40"}])
    # 40 L × 23.50 = 940.00; IEPS 40 × 6.4555 = 258.22; IVA (940 + 258.22) × 16% = 191.72
    assert (invoice["ieps"], invoice["iva"], invoice["total"]) == ("258.22", "191.72", "1389.94")
    root = stamp(client, invoice, django_capture_on_commit_callbacks)
    ieps = [
        t.attrib
        for t in root.iterfind(f"{C}Conceptos/{C}Concepto/{C}Impuestos/{C}Traslados/{C}Traslado")
        if t.get("Impuesto") == "003"
    ]
    assert ieps == [
        {
            "Base": "40.000000",
            "Impuesto": "003",
            "TipoFactor": "Cuota",
            "TasaOCuota": "6.455500",
            "Importe": "258.22",
        }
    ]


def test_debit_card_is_a_counter_payment_form(client, django_capture_on_commit_callbacks):
    invoice = create(client, entity("PACHUCA"), 0, [{"product": "A", "quantity": "2"}], payment="cash")
    caja = CashBankAccount.objects.get(company__rfc="EKU9003173C9", code="CAJA")
    root = stamp(
        client,
        invoice,
        django_capture_on_commit_callbacks,
        [{"account": caja.pk, "amount": "26.68", "method": "28"}],
    )
    assert root.get("FormaPago") == "28"


# -- The frontier region and the place of issue --------------------------------------------------


def test_eight_percent_from_a_non_frontier_postal_code_is_refused(client):
    body = {
        "entity": entity("PACHUCA").pk,
        "customer": 1,
        "date": str(date.today()),
        "payment": "credit",
        "lines": [{"product": "A", "quantity": "1", "iva_rate": "8"}],
    }
    response = client.post("/api/sales/invoices/", body, format="json")
    assert response.status_code == 400
    assert "42501" in response.json()["message"] and "8%" in response.json()["message"]
    assert not SalesDocument.objects.filter(entity__code="PACHUCA").exists()


def test_eight_percent_from_tijuana_is_allowed_and_issued_there(client, django_capture_on_commit_callbacks):
    tijuana = entity("TIJUANA")
    invoice = create(client, tijuana, 0, [{"product": "A", "quantity": "10"}], payment="cash")
    assert (invoice["iva"], invoice["total"]) == ("9.20", "124.20")
    caja = CashBankAccount.objects.get(company=tijuana.company, code="CAJA")
    before = datetime.now(UTC)
    root = stamp(
        client, invoice, django_capture_on_commit_callbacks, [{"account": caja.pk, "amount": "124.20"}]
    )
    assert root.get("LugarExpedicion") == "22000"
    assert root.find(f"{C}Receptor").get("DomicilioFiscalReceptor") == "22000"
    (iva,) = root.iterfind(f"{C}Impuestos/{C}Traslados/{C}Traslado")
    assert iva.get("TasaOCuota") == "0.080000"
    local = before.astimezone(sat.pytz.timezone("America/Tijuana")).replace(tzinfo=None, microsecond=0)
    assert 0 <= (datetime.fromisoformat(root.get("Fecha")) - local).total_seconds() < 120


def test_eight_percent_needs_the_company_to_opt_in(client):
    Company.objects.filter(rfc="EKU9003173C9").update(frontier_stimulus=False)
    body = {
        "entity": entity("TIJUANA").pk,
        "customer": 0,
        "date": str(date.today()),
        "payment": "cash",
        "lines": [{"product": "A", "quantity": "1"}],
    }
    response = client.post("/api/sales/invoices/", body, format="json")
    assert response.status_code == 400 and "estímulo" in response.json()["message"]


def test_an_entity_outside_the_frontier_cannot_be_set_to_eight_percent(demo, api_as):
    accountant = api_as(get_user_model().objects.get(username="contador"))
    pachuca = entity("PACHUCA")
    response = accountant.patch(f"/api/sales/entities/{pachuca.pk}/", {"iva_rate": "8"}, format="json")
    assert response.status_code == 400, response.json()
    assert "42501" in str(response.json())
    pachuca.refresh_from_db()
    assert pachuca.iva_rate == D("16")


# -- Fecha in the local time of the place of issue ------------------------------------------------


@pytest.mark.parametrize(
    "postal_code, july, december",
    [
        ("22000", "11:00", "10:00"),  # Tijuana: UTC−7 in summer, UTC−8 in winter
        ("82000", "11:00", "11:00"),  # Mazatlán: UTC−7, no summer time
        ("83000", "11:00", "11:00"),  # Hermosillo: UTC−7, no summer time
        ("77500", "13:00", "13:00"),  # Cancún: UTC−5
        ("06600", "12:00", "12:00"),  # Ciudad de México: UTC−6, no summer time since 2022
    ],
)
def test_fecha_is_the_local_time_of_the_place_of_issue(postal_code, july, december):
    for moment, expected in ((datetime(2026, 7, 1, 18, 0, tzinfo=UTC), july), (datetime(2026, 12, 1, 18, 0, tzinfo=UTC), december)):  # fmt: skip
        company = Company(
            rfc="EKU9003173C9", legal_name="ESCUELA KEMPER URGATE", regimen_fiscal="601", postal_code="42501"
        )
        document = FiscalDocument(
            issuer=issuer_for(company, place_of_issue=postal_code),
            receiver=Receiver.counter(postal_code),
            concepts=(Concept("01010101", "H87", "Prueba", D("1"), D("1")),),
            issued_at=moment,
        )
        assert sat.local_fecha(document).strftime("%H:%M") == expected


# -- Nothing posted that SAT would refuse --------------------------------------------------------


def nothing_written(invoice_id, entity_, next_number):
    document = SalesDocument.objects.get(pk=invoice_id)
    origin = document.origin_reference
    entity_.refresh_from_db()
    return (
        document.status == "draft"
        and document.number is None
        and entity_.next_number == next_number
        and not CashMovement.objects.filter(origin=origin).exists()
        and not JournalEntry.objects.filter(origin=origin).exists()
        and not Receivable.objects.filter(origin=origin).exists()
        and not StockMovement.objects.filter(origin=origin).exists()
        and not CfdiDocument.objects.exists()
    )


@pytest.mark.parametrize(
    "line, code",
    [
        ({"product": "A", "quantity": "0.001", "unit_price": "0.01"}, "CFDI40174"),  # Base 0
        ({"product": "A", "quantity": "1", "discount_rate": "100"}, "CFDI40174"),  # discounted 100%
        ({"product": "A", "quantity": "1", "unit_price": "0"}, "CFDI40166"),  # zero price
    ],
)
def test_lines_sat_refuses_are_refused_at_posting_with_nothing_written(client, line, code):
    pachuca = entity("PACHUCA")
    invoice = create(client, pachuca, 1, [line])
    response = post(client, invoice)
    assert response.status_code == 400
    body = response.json()
    assert code in body["message"] or code in {f["code"] for f in body["details"]["findings"]}
    assert body["details"]["sat_code"].startswith("CFDI40")
    assert nothing_written(invoice["id"], pachuca, 1)


def test_a_generic_rfc_customer_with_another_name_is_refused_at_posting(client):
    pachuca = entity("PACHUCA")
    Customer.objects.filter(entity=pachuca, number=2).update(
        rfc="XAXX010101000", name="JUAN PEREZ", regimen_fiscal="616", uso_cfdi="S01"
    )  # a row saved before the rule existed
    invoice = create(client, pachuca, 2, [{"product": "A", "quantity": "1"}])
    response = post(client, invoice)
    assert response.status_code == 400
    assert response.json()["details"]["sat_code"] == "CFDI40146"
    assert "PUBLICO EN GENERAL" in response.json()["message"]
    assert nothing_written(invoice["id"], pachuca, 1)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"rfc": "XAXX010101000", "name": "JUAN PEREZ", "regimen_fiscal": "616", "uso_cfdi": "S01"}, "PUBLICO EN GENERAL"),
        ({"rfc": "URE180429TM7"}, "dígito verificador"),
    ],
)  # fmt: skip
def test_customers_the_checker_would_refuse_cannot_be_saved(demo, api_as, fields, message):
    accountant = api_as(get_user_model().objects.get(username="contador"))
    body = {
        "company": demo.company.pk,
        "entity": entity("PACHUCA").pk,
        "number": 50,
        "rfc": "URE180429TM6",
        "name": "CLIENTE NUEVO",
        "postal_code": "86991",
        "regimen_fiscal": "601",
        "uso_cfdi": "G03",
        **fields,
    }
    count = Customer.objects.count()
    response = accountant.post("/api/sales/customers/", body, format="json")
    assert response.status_code == 400
    assert message in str(response.json())
    assert Customer.objects.count() == count
    assert check_digit("URE180429TM7") == "6"


def test_posted_invoice_xml_is_what_the_checker_saw(client, django_capture_on_commit_callbacks):
    """The control: a good invoice posts and stamps (the checks above refuse only what SAT would)."""
    invoice = create(client, entity("PACHUCA"), 1, [{"product": "A", "quantity": "1"}])
    root = stamp(client, invoice, django_capture_on_commit_callbacks)
    assert etree.QName(root).localname == "Comprobante" and root.get("Folio") == "1"


# -- The CFDI builder asks the same rules ------------------------------------------------------


@pytest.mark.parametrize(
    "concept_taxes, receiver, message",
    [
        ({"retained_isr_rate": D("10")}, None, "persona moral"),
        ({"retained_iva_rate": D("10.6667")}, Receiver.counter("42501"), "RFC genérico"),
        ({"iva_rate": D("8")}, None, "región fronteriza"),
    ],
)
def test_the_builder_refuses_what_the_parties_and_place_forbid(company, concept_taxes, receiver, message):
    install_test_csd(company)
    document = description(company, concept(1, "100", **concept_taxes), receiver=receiver)
    with pytest.raises(DomainError) as error:
        services.seal_cfdi(company=company, document=document)
    assert error.value.code == "cfdi_impuestos_improcedentes" and message in error.value.message
    assert not CfdiDocument.objects.exists()


def test_the_pdf_prints_the_unit_price_as_stamped(company):
    install_test_csd(company)
    stamped = services.issue_cfdi(company=company, document=description(company, concept(24, "21.995")))
    root = verify_cfdi(bytes(stamped.xml), pac_certificate=sandbox_certificate())
    line = context_for(bytes(stamped.xml))["concepts"][0]
    assert root.find(f"{C}Conceptos/{C}Concepto").get("ValorUnitario") == "21.995"
    assert (line["unit_price"], line["amount"]) == ("21.995", "527.88")  # 24 × 21.995, not 24 × 22.00


# -- Substitution (cancellation motive 01) -------------------------------------------------------


def test_a_substitute_invoice_carries_relation_04_and_motive_01_offers_it(
    client, api_as, django_capture_on_commit_callbacks
):
    pachuca = entity("PACHUCA")
    wrong = create(client, pachuca, 1, [{"product": "A", "quantity": "1"}])
    wrong_uuid = (
        stamp(client, wrong, django_capture_on_commit_callbacks)
        .find(f"{C}Complemento/{{http://www.sat.gob.mx/TimbreFiscalDigital}}TimbreFiscalDigital")
        .get("UUID")
    )
    right = create(client, pachuca, 1, [{"product": "A", "quantity": "2"}], substitutes=wrong["id"])
    assert right["substitutes"] == wrong["id"]
    root = stamp(client, right, django_capture_on_commit_callbacks)
    (group,) = root.iterfind(f"{C}CfdiRelacionados")
    assert group.get("TipoRelacion") == "04"
    assert [r.get("UUID") for r in group.iterfind(f"{C}CfdiRelacionado")] == [wrong_uuid]

    accountant = api_as(get_user_model().objects.get(username="contador"))
    response = accountant.post(f"/api/sales/invoices/{wrong['id']}/cancel/", {"motive": "01"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"
    cfdi = CfdiDocument.objects.get(uuid=wrong_uuid)
    assert (cfdi.cancellation_status, cfdi.cancellation_motive) == ("accepted", "01")


def test_the_cashier_screen_offers_the_stamped_invoices_to_substitute(
    client, django_capture_on_commit_callbacks
):
    from django.test import Client

    pachuca = entity("PACHUCA")
    stamped = create(client, pachuca, 1, [{"product": "A", "quantity": "1"}])
    stamp(client, stamped, django_capture_on_commit_callbacks)
    draft = create(client, pachuca, 1, [{"product": "A", "quantity": "2"}])
    browser = Client()
    browser.force_login(get_user_model().objects.get(username="cajero"))
    html = browser.get(f"/caja/facturas/{pachuca.pk}/nueva/").content.decode()
    select = html.split('<select name="substitutes">', 1)[1].split("</select>", 1)[0]
    assert f'<option value="{stamped["id"]}">A1 ' in select and f'<option value="{draft["id"]}"' not in select


def test_motive_01_with_a_cfdi_that_does_not_substitute_it_is_refused(
    client, api_as, django_capture_on_commit_callbacks
):
    pachuca = entity("PACHUCA")
    first = create(client, pachuca, 1, [{"product": "A", "quantity": "1"}])
    stamp(client, first, django_capture_on_commit_callbacks)
    other = create(client, pachuca, 1, [{"product": "A", "quantity": "3"}])
    other_uuid = (
        stamp(client, other, django_capture_on_commit_callbacks)
        .find(f"{C}Complemento/{{http://www.sat.gob.mx/TimbreFiscalDigital}}TimbreFiscalDigital")
        .get("UUID")
    )
    accountant = api_as(get_user_model().objects.get(username="contador"))
    response = accountant.post(
        f"/api/sales/invoices/{first['id']}/cancel/",
        {"motive": "01", "substitute_uuid": other_uuid},
        format="json",
    )
    assert response.status_code == 400 and response.json()["code"] == "sustituto_sin_relacion"
    assert SalesDocument.objects.get(pk=first["id"]).status != "cancelled"
    assert not CfdiDocument.objects.exclude(cancellation_status="").exists()


def test_only_a_stamped_invoice_can_be_substituted(client):
    pachuca = entity("PACHUCA")
    draft = create(client, pachuca, 1, [{"product": "A", "quantity": "1"}])
    count = SalesDocument.objects.count()
    body = {
        "entity": pachuca.pk,
        "customer": 1,
        "date": str(date.today()),
        "payment": "credit",
        "lines": [{"product": "A", "quantity": "1"}],
        "substitutes": draft["id"],
    }
    response = client.post("/api/sales/invoices/", body, format="json")
    assert response.status_code == 409 and response.json()["code"] == "sustitucion_sin_cfdi"
    assert SalesDocument.objects.count() == count


def test_the_sandbox_pac_refuses_a_substitute_without_relation_04(company):
    install_test_csd(company)
    first = services.issue_cfdi(company=company, document=description(company, concept(1, "100")))
    other = services.issue_cfdi(company=company, document=description(company, concept(2, "100"), folio="2"))
    with pytest.raises(DomainError) as error:
        services.cancel_cfdi(document=first, motive="01", substitute_uuid=other.uuid)
    assert "CA304" in error.value.message
    first.refresh_from_db()
    assert first.cancellation_status == ""
