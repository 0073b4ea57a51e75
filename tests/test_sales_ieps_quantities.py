"""IEPS by quota (GASOL, pesos per litre) and by rate (CERV, 26.5%) with awkward quantities, alone
and mixed with IVA on the IEPS-inclusive base: posted through the sales services as the demo loads
them, the posted amounts, the póliza and the stamped CFDI agree, and SAT's arithmetic holds.

The expected amounts are worked here by hand from SAT's rules (Anexo 20, ROUND_HALF_UP to the
currency's two decimals), not by the project's tax module: 12.345 L is the case that was refused
with CFDI40215 (the summary Base of the IEPS Cuota row is the rounded sum of the concepts' Bases,
the quantities: 12.345 -> 12.35, and the CFDI wrote 12.34).
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.contrib.auth import get_user_model

from accounting.models import AccountingVariable, JournalEntry, JournalLine
from accounting.variables import Variable
from cfdi import checker
from cfdi.models import CfdiDocument
from cfdi.pac.sandbox import sandbox_certificate
from demo.services import load_demo
from inventory.models import Product
from sales.documents import LineRequest, create_document
from sales.models import Customer, SalesEntity
from sales.posting import post_invoice
from sales.receivables.models import Receivable
from tests.cfdi_verify import CFDI, verify_cfdi
from tests.factories_ledgers import opening_stock

pytestmark = pytest.mark.django_db
D = Decimal
DAY = date(2026, 11, 20)
CENT = D("0.01")

# The demo's products (demo/services.py PRODUCTS): price, IEPS rate, IEPS quota per unit.
PRICE = {"GASOL": D("23.50"), "CERV": D("22.00"), "A": D("11.50")}
IEPS_RATE = {"CERV": D("0.265")}
IEPS_QUOTA = {"GASOL": D("6.4555")}
IVA = D("0.16")  # PACHUCA: the general rate
QUANTITIES = ["12.345", "0.001", "999.999", "3.3333"]


def r(value) -> Decimal:
    """SAT's rounding to the currency's decimals: half up."""
    return D(value).quantize(CENT, rounding=ROUND_HALF_UP)


def expected_line(code: str, quantity: str) -> dict:
    q = D(quantity)
    importe = r(q * PRICE[code])
    if code in IEPS_QUOTA:
        ieps = r(q * IEPS_QUOTA[code])
    elif code in IEPS_RATE:
        ieps = r(importe * IEPS_RATE[code])
    else:
        ieps = D(0)
    iva = r((importe + ieps) * IVA)  # LIVA art. 18: IVA on the IEPS-inclusive value
    return {"code": code, "q": q, "importe": importe, "ieps": ieps, "iva": iva}


@pytest.fixture
def demo():
    demo = load_demo()
    opening_stock(
        demo.company,
        [(Product.objects.get(company=demo.company, code=c), 5000, "10.00") for c in ("GASOL", "CERV", "A")],
    )
    return demo


def post_sale(demo, lines, capture):
    """A crédito sale at PACHUCA to customer 1, created and posted through the sales services
    (sealed and stamped by the sandbox PAC after commit), as demo/services.py does it."""
    entity = SalesEntity.objects.get(company=demo.company, code="PACHUCA")
    document, _ = create_document(
        kind="invoice",
        entity=entity,
        customer=Customer.objects.get(company=demo.company, entity=entity, number=1),
        date=DAY,
        payment="credit",
        lines=[LineRequest(product_code=code, quantity=D(q)) for code, q in lines],
        user=get_user_model().objects.get(username="cajero"),
    )
    with capture(execute=True):
        document = post_invoice(document=document, user=get_user_model().objects.get(username="cajero"))
    stamped = CfdiDocument.objects.get(
        source_model="sales.salesdocument", source_id=document.pk, status="stamped"
    )
    root = verify_cfdi(bytes(stamped.xml), pac_certificate=sandbox_certificate())
    assert checker.check(root) == []
    document.refresh_from_db()
    return document, root


def _summary(root) -> dict:
    return {
        (t.get("Impuesto"), t.get("TipoFactor")): (t.get("Base"), t.get("TasaOCuota"), t.get("Importe"))
        for t in root.iterfind(f"{CFDI}Impuestos/{CFDI}Traslados/{CFDI}Traslado")
    }


def _concept_taxes(concept) -> dict:
    return {
        (t.get("Impuesto"), t.get("TipoFactor")): (t.get("Base"), t.get("Importe"))
        for t in concept.iterfind(f"{CFDI}Impuestos/{CFDI}Traslados/{CFDI}Traslado")
    }


def _ieps_posted(document) -> Decimal:
    """What the sale's póliza credits to the IEPS trasladado account."""
    account = AccountingVariable.objects.get(company=document.company, name=Variable.IEPS_TRANSFERRED).account
    entry = JournalEntry.objects.get(origin=document.origin_reference, status="posted")
    lines = JournalLine.objects.filter(entry=entry, account=account)
    return sum((ln.credit - ln.debit for ln in lines), D(0))


def check_agreement(document, root, expected: list[dict]) -> None:
    """The posted document, its póliza, its receivable and its CFDI say the same, and match SAT's
    arithmetic worked by hand."""
    importe = sum((e["importe"] for e in expected), D(0))
    ieps = sum((e["ieps"] for e in expected), D(0))
    iva = sum((e["iva"] for e in expected), D(0))
    total = importe + ieps + iva
    assert (document.importe, document.ieps, document.iva, document.total) == (importe, ieps, iva, total)
    assert D(root.get("SubTotal")) == importe and D(root.get("Total")) == total
    assert D(root.find(f"{CFDI}Impuestos").get("TotalImpuestosTrasladados")) == ieps + iva
    assert _ieps_posted(document) == ieps
    assert Receivable.objects.get(origin=document.origin_reference).amount == total

    concepts = list(root.iterfind(f"{CFDI}Conceptos/{CFDI}Concepto"))
    assert len(concepts) == len(expected)
    for concept, e in zip(concepts, expected, strict=True):
        taxes = _concept_taxes(concept)
        assert D(concept.get("Importe")) == e["importe"]
        assert D(taxes[("002", "Tasa")][0]) == e["importe"] + e["ieps"]  # IVA base includes IEPS
        assert D(taxes[("002", "Tasa")][1]) == e["iva"]
        if e["code"] in IEPS_QUOTA:  # Cuota: the Base is the quantity, written as typed
            assert D(taxes[("003", "Cuota")][0]) == e["q"]
            assert D(taxes[("003", "Cuota")][1]) == e["ieps"]
        elif e["code"] in IEPS_RATE:
            base, amount = taxes[("003", "Tasa")]
            assert (D(base), D(amount)) == (e["importe"], e["ieps"])

    summary = _summary(root)
    quota_lines = [e for e in expected if e["code"] in IEPS_QUOTA]
    if quota_lines:
        base, quota, amount = summary[("003", "Cuota")]
        # CFDI40215: the rounded sum of the concepts' Bases (their quantities), two decimals.
        assert base == f"{r(sum(e['q'] for e in quota_lines)):.2f}"
        assert (quota, D(amount)) == ("6.455500", sum(e["ieps"] for e in quota_lines))
    rate_lines = [e for e in expected if e["code"] in IEPS_RATE]
    if rate_lines:
        base, rate, amount = summary[("003", "Tasa")]
        assert (D(base), rate, D(amount)) == (
            sum(e["importe"] for e in rate_lines),
            "0.265000",
            sum(e["ieps"] for e in rate_lines),
        )
    base, rate, amount = summary[("002", "Tasa")]
    assert (D(base), rate, D(amount)) == (sum(e["importe"] + e["ieps"] for e in expected), "0.160000", iva)


def test_gasol_12_345_litres_posts_and_stamps(demo, django_capture_on_commit_callbacks):
    """The reported case: refused with CFDI40215 before (summary Base 12.34 against 12.35)."""
    document, root = post_sale(demo, [("GASOL", "12.345")], django_capture_on_commit_callbacks)
    # 12.345 L × 23.50 = 290.1075 -> 290.11; IEPS 12.345 × 6.4555 = 79.6931… -> 79.69;
    # IVA (290.11 + 79.69) × 16% = 59.168 -> 59.17; total 428.97
    assert (document.importe, document.ieps, document.iva, document.total) == (
        D("290.11"),
        D("79.69"),
        D("59.17"),
        D("428.97"),
    )
    assert _summary(root)[("003", "Cuota")] == ("12.35", "6.455500", "79.69")
    (concept,) = root.iterfind(f"{CFDI}Conceptos/{CFDI}Concepto")
    assert _concept_taxes(concept)[("003", "Cuota")] == ("12.345000", "79.69")
    check_agreement(document, root, [expected_line("GASOL", "12.345")])


@pytest.mark.parametrize("quantity", QUANTITIES)
@pytest.mark.parametrize("code", ["GASOL", "CERV"])
def test_ieps_line_with_awkward_quantity(demo, django_capture_on_commit_callbacks, code, quantity):
    document, root = post_sale(demo, [(code, quantity)], django_capture_on_commit_callbacks)
    check_agreement(document, root, [expected_line(code, quantity)])


@pytest.mark.parametrize("quantity", QUANTITIES)
def test_ieps_quota_rate_and_plain_iva_lines_together(demo, django_capture_on_commit_callbacks, quantity):
    """Quota and rate IEPS with a plain IVA line, and two quota lines whose quantities' sum rounds
    on its own (the summary Base is rounded once, over the sum)."""
    lines = [("GASOL", quantity), ("CERV", quantity), ("A", quantity), ("GASOL", "0.005")]
    document, root = post_sale(demo, lines, django_capture_on_commit_callbacks)
    check_agreement(document, root, [expected_line(code, q) for code, q in lines])
