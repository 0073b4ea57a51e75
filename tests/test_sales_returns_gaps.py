"""Returns and rebates (credit notes), the rest of issue 16: exempt and IEPS-quota lines in the
egreso, the seed's three examples for each payment method, an egreso stamped elsewhere linked to
a credit note, ownership of the rows a credit note (or a customer payment) posts, a credit note at
another exchange rate, and cancelling checked against the books before SAT is asked."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from accounting.models import ClosedPeriod, JournalEntry
from accounting.services import close_period
from cashbank.models import CashMovement
from cfdi.models import CfdiDocument
from cfdi.pac.sandbox import sandbox_certificate
from inventory.models import Product, StockMovement
from sales.models import SalesEntity
from sales.receivables.models import Receivable, ReceivableRecord
from tests import test_sales_payments_api as payments_api
from tests.cfdi_verify import CFDI, verify_cfdi
from tests.factories_ledgers import opening_stock
from tests.test_sales_returns_api import (
    DAY,
    LATER,
    account,
    credit_note,
    invoice,
    levels,
    post,
    snapshot,
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


# -- 4. The rows a credit note or a customer payment posts belong to it ---------------------------


def _ledgers(origin):
    return (
        sorted(CashMovement.objects.filter(origin=origin).values_list("status", flat=True)),
        sorted(StockMovement.objects.filter(origin=origin).values_list("status", flat=True)),
        sorted(JournalEntry.objects.filter(origin=origin).values_list("status", flat=True)),
        sorted(ReceivableRecord.objects.filter(origin=origin).values_list("status", flat=True)),
        list(Receivable.objects.order_by("pk").values_list("balance", flat=True)),
        levels(),
    )


def _refused(response, owner):
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "pertenece_a_documento"
    assert f"pertenece a {owner}; cancélelo desde " in response.json()["message"]


@pytest.fixture
def accountant(demo, api_as):
    return api_as(get_user_model().objects.get(username="contador"))


@pytest.mark.parametrize("payment", ["credit", "cash"])
def test_a_credit_notes_rows_cannot_be_cancelled_on_their_own(demo, client, accountant, payment):
    sale = invoice(client, demo, payment)
    note = credit_note(client, sale, "return", [{"invoice_position": 2, "quantity": "100"}])
    withdrawals = [{"account": account(demo, "CAJA").pk, "amount": "1160.00"}] if payment == "cash" else []
    assert post(client, note, withdrawals).status_code == 200
    origin = f"VDEV|{note['id']}|PACHUCA||"
    before = _ledgers(origin)
    owner = "la devolución NCA1"

    for entry in JournalEntry.objects.filter(origin=origin):
        _refused(accountant.post(f"/api/accounting/entries/{entry.pk}/cancel/"), owner)
    stock = StockMovement.objects.get(origin=origin)
    _refused(accountant.post(f"/api/inventory/stock-movements/{stock.pk}/cancel/"), owner)
    if payment == "cash":
        movement = CashMovement.objects.get(origin=origin)
        _refused(accountant.post(f"/api/cashbank/movements/{movement.pk}/cancel/"), owner)
    else:
        record = ReceivableRecord.objects.get(origin=origin)
        _refused(accountant.post(f"/api/sales/receivable-records/{record.pk}/cancel/"), owner)
    assert _ledgers(origin) == before

    # The credit note's own cancellation still undoes them all.
    assert (
        accountant.post(f"/api/sales/credit-notes/{note['id']}/cancel/", {}, format="json").status_code == 200
    )
    after = _ledgers(origin)
    assert set(after[0] + after[1] + after[2] + after[3]) == {"cancelled"}
    assert levels() == {"A": D("900"), "B": D("800")}


def test_a_customer_payments_rows_cannot_be_cancelled_on_their_own(demo, client, accountant):
    sale = invoice(client, demo, "credit")
    body = payments_api.payment_body(demo, "1000.00", [(sale["id"], "1000.00")])
    body["date"] = str(LATER)
    created = client.post("/api/sales/payments/", body, format="json")
    assert created.status_code == 201, created.json()
    payment_id = created.json()["id"]
    assert client.post(f"/api/sales/payments/{payment_id}/post/").status_code == 200
    origin = f"VPAG|{payment_id}|PACHUCA||"
    before = _ledgers(origin)
    assert before[0] == ["active"] and before[3] == ["active"] and before[2] == ["posted"]

    _refused(
        accountant.post(f"/api/cashbank/movements/{CashMovement.objects.get(origin=origin).pk}/cancel/"),
        f"el pago {payment_id}",
    )
    _refused(
        accountant.post(
            f"/api/sales/receivable-records/{ReceivableRecord.objects.get(origin=origin).pk}/cancel/"
        ),
        f"el pago {payment_id}",
    )
    _refused(
        accountant.post(f"/api/accounting/entries/{JournalEntry.objects.get(origin=origin).pk}/cancel/"),
        f"el pago {payment_id}",
    )
    assert _ledgers(origin) == before

    cancelled = accountant.post(f"/api/sales/payments/{payment_id}/cancel/", {"motive": "02"}, format="json")
    assert cancelled.status_code == 200, cancelled.json()
    after = _ledgers(origin)
    assert set(after[0] + after[2] + after[3]) == {"cancelled"}
    assert Receivable.objects.get(origin=f"VFAC|{sale['id']}|PACHUCA||").balance == D("3654.00")


# -- 6. Cancelling: the books are checked before SAT is asked -------------------------------------


def test_a_credit_note_in_a_closed_period_is_not_cancelled_with_sat(
    demo, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sale = invoice(client, demo, "credit")
    note = credit_note(client, sale, "return", [{"invoice_position": 2, "quantity": "100"}])
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, note).status_code == 200
    cfdi = _stamped("sales.creditnote", note["id"])
    close_period(company=demo.company, year=LATER.year, month=LATER.month)
    origin = f"VDEV|{note['id']}|PACHUCA||"
    before = (_ledgers(origin), snapshot())

    response = client.post(f"/api/sales/credit-notes/{note['id']}/cancel/", {"motive": "02"}, format="json")
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "periodo_cerrado"
    assert f"{LATER.year}-{LATER.month:02d} está cerrado" in response.json()["message"]
    cfdi.refresh_from_db()
    assert (cfdi.status, cfdi.cancellation_status) == ("stamped", "")  # SAT was never asked
    assert (_ledgers(origin), snapshot()) == before

    ClosedPeriod.objects.filter(company=demo.company).delete()  # reopened: now it cancels
    response = client.post(f"/api/sales/credit-notes/{note['id']}/cancel/", {"motive": "02"}, format="json")
    assert response.status_code == 200, response.json()
    cfdi.refresh_from_db()
    assert cfdi.cancellation_status == "accepted"


def test_a_return_whose_goods_were_sold_again_is_not_cancelled_with_sat(
    demo, client, django_capture_on_commit_callbacks
):
    """Undoing the return takes its goods out again: with them sold, SAT is not asked either."""
    with django_capture_on_commit_callbacks(execute=True):
        sale = invoice(client, demo, "credit")
    note = credit_note(client, sale, "return", [{"invoice_position": 2, "quantity": "100"}])
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, note).status_code == 200
    entity = SalesEntity.objects.get(company=demo.company, code="PACHUCA")
    body = {"entity": entity.pk, "customer": 1, "date": str(LATER), "payment": "credit",
            "lines": [{"product": "B", "quantity": "900"}]}  # fmt: skip
    later_sale = client.post("/api/sales/invoices/", body, format="json").json()
    assert client.post(f"/api/sales/invoices/{later_sale['id']}/post/", {}, format="json").status_code == 200
    assert levels()["B"] == 0
    before = snapshot()

    response = client.post(f"/api/sales/credit-notes/{note['id']}/cancel/", {"motive": "02"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "existencia_insuficiente"
    assert _stamped("sales.creditnote", note["id"]).cancellation_status == ""
    assert snapshot() == before
