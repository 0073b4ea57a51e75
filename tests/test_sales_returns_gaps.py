"""Returns and rebates (credit notes), the rest of issue 16: exempt and IEPS-quota lines in the
egreso, the seed's three examples for each payment method, an egreso stamped elsewhere linked to
a credit note, ownership of the rows a credit note (or a customer payment) posts, a credit note at
another exchange rate, and cancelling checked against the books before SAT is asked."""

from decimal import Decimal

import pytest

from cfdi.models import CfdiDocument
from cfdi.pac.sandbox import sandbox_certificate
from inventory.models import Product
from sales.models import SalesEntity
from tests.cfdi_verify import CFDI, verify_cfdi
from tests.factories_ledgers import opening_stock
from tests.test_sales_returns_api import (
    DAY,
    credit_note,
    post,
)
from tests.test_sales_returns_api import client as client  # noqa: PLC0414 (fixture)
from tests.test_sales_returns_api import demo as demo  # noqa: PLC0414 (fixture)

pytestmark = pytest.mark.django_db
D = Decimal


def _stamped(model: str, pk: int) -> CfdiDocument:
    return CfdiDocument.objects.get(source_model=model, source_id=pk, status="stamped")


def draft(demo, client, payment, lines, **header):
    entity = SalesEntity.objects.get(company=demo.company, code="PACHUCA")
    body = {
        "entity": entity.pk,
        "customer": 1,
        "date": str(DAY),
        "payment": payment,
        "lines": lines,
        **header,
    }
    response = client.post("/api/sales/invoices/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _concept_taxes(root) -> list[list[dict]]:
    """Per concept, its transferred taxes' attributes."""
    return [
        [dict(t.attrib) for t in concept.iterfind(f"{CFDI}Impuestos/{CFDI}Traslados/{CFDI}Traslado")]
        for concept in root.iterfind(f"{CFDI}Conceptos/{CFDI}Concepto")
    ]


# -- 1. Exempt and IEPS-quota lines: the egreso carries them as the invoice did -------------------


def test_egreso_of_an_exempt_line_and_an_ieps_quota_line(demo, client, django_capture_on_commit_callbacks):
    opening_stock(demo.company, [(Product.objects.get(company=demo.company, code="GASOL"), 100, "17.80")])
    sale = draft(
        demo,
        client,
        "credit",
        [{"product": "COLEG", "quantity": "1"}, {"product": "GASOL", "quantity": "40"}],
    )
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(f"/api/sales/invoices/{sale['id']}/post/", {}, format="json")
    assert posted.status_code == 200, posted.json()
    invoice_root = verify_cfdi(
        bytes(_stamped("sales.salesdocument", sale["id"]).xml), pac_certificate=sandbox_certificate()
    )

    note = credit_note(client, posted.json(), "return")
    # COLEG 3,500.00 exempt; GASOL 40 × 23.50 = 940.00, IEPS 40 × 6.4555 = 258.22,
    # IVA (940.00 + 258.22) × 16% = 191.72: 3,500.00 + 940.00 + 258.22 + 191.72 = 4,889.94
    assert [(ln["code"], ln["iva_exempt"], ln["ieps_quota"], ln["iva_display"], ln["ieps_display"])
            for ln in note["lines"]] == [
        ("COLEG", True, "0.000000", "Exento", "0:0.00"),
        ("GASOL", False, "6.455500", "16:191.72", "cuota 6.4555:258.22"),
    ]  # fmt: skip
    assert (note["ieps"], note["iva"], note["total"]) == ("258.22", "191.72", "4889.94")
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, note).status_code == 200
    root = verify_cfdi(
        bytes(_stamped("sales.creditnote", note["id"]).xml), pac_certificate=sandbox_certificate()
    )
    assert (root.get("TipoDeComprobante"), root.get("Total")) == ("E", "4889.94")
    assert _concept_taxes(root) == _concept_taxes(invoice_root)  # the whole invoice, taxed alike
    coleg, gasol = _concept_taxes(root)
    assert coleg == [{"Base": "3500.00", "Impuesto": "002", "TipoFactor": "Exento"}]
    assert {t["Impuesto"]: (t["TipoFactor"], t["TasaOCuota"], t["Importe"]) for t in gasol} == {
        "003": ("Cuota", "6.455500", "258.22"),
        "002": ("Tasa", "0.160000", "191.72"),
    }
    totals = root.find(f"{CFDI}Impuestos")
    assert totals.get("TotalImpuestosTrasladados") == "449.94"
