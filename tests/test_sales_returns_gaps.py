"""Returns and rebates (credit notes), the rest of issue 16: exempt and IEPS-quota lines in the
egreso, the seed's three examples for each payment method, an egreso stamped elsewhere linked to
a credit note, ownership of the rows a credit note (or a customer payment) posts, a credit note at
another exchange rate, and cancelling checked against the books before SAT is asked."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum

from accounting.models import Account, ClosedPeriod, JournalEntry, JournalLine
from accounting.selectors import trial_balance
from accounting.services import close_period
from cashbank.models import CashMovement
from cfdi.description import Concept, Related
from cfdi.models import CfdiDocument, Csd
from cfdi.pac.sandbox import sandbox_certificate
from inventory.models import Product, StockMovement
from sales.integrity import verify_company
from sales.models import Customer, CustomerPayment, ExternalCfdi, SalesEntity
from sales.receivables.models import Receivable, ReceivableRecord
from tests import test_sales_payments_api as payments_api
from tests.cfdi_verify import CFDI, verify_cfdi
from tests.factories_external_cfdi import product_a, stamped_elsewhere
from tests.factories_ledgers import opening_stock
from tests.test_sales_returns_api import (
    DAY,
    LATER,
    _check_egreso,
    account,
    credit_note,
    entry_lines,
    invoice,
    levels,
    post,
    snapshot,
)
from tests.test_sales_returns_api import client as client  # noqa: PLC0414 (fixture)
from tests.test_sales_returns_api import demo as demo  # noqa: PLC0414 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("verified_books")]
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
    accountant, demo, client, django_capture_on_commit_callbacks
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

    response = accountant.post(
        f"/api/sales/credit-notes/{note['id']}/cancel/", {"motive": "02"}, format="json"
    )
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "periodo_cerrado"
    assert f"{LATER.year}-{LATER.month:02d} está cerrado" in response.json()["message"]
    cfdi.refresh_from_db()
    assert (cfdi.status, cfdi.cancellation_status) == ("stamped", "")  # SAT was never asked
    assert (_ledgers(origin), snapshot()) == before

    ClosedPeriod.objects.filter(company=demo.company).delete()  # reopened: now it cancels
    response = accountant.post(
        f"/api/sales/credit-notes/{note['id']}/cancel/", {"motive": "02"}, format="json"
    )
    assert response.status_code == 200, response.json()
    cfdi.refresh_from_db()
    assert cfdi.cancellation_status == "accepted"


def test_a_return_whose_goods_were_sold_again_is_not_cancelled_with_sat(
    accountant, demo, client, django_capture_on_commit_callbacks
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

    response = accountant.post(
        f"/api/sales/credit-notes/{note['id']}/cancel/", {"motive": "02"}, format="json"
    )
    assert response.status_code == 409 and response.json()["code"] == "existencia_insuficiente"
    assert _stamped("sales.creditnote", note["id"]).cancellation_status == ""
    assert snapshot() == before


# -- 3. An egreso stamped elsewhere, linked to the credit note instead of stamping one ------------


def _load(client, demo, xml: bytes) -> dict:
    entity = SalesEntity.objects.get(company=demo.company, code="PACHUCA")
    upload = SimpleUploadedFile("cfdi.xml", xml, content_type="application/xml")
    response = client.post(
        "/api/sales/external-cfdis/", {"entity": entity.pk, "xml": upload}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def _link(client, note, external):
    return client.post(
        f"/api/sales/credit-notes/{note['id']}/link-cfdi/", {"external_cfdi": external["id"]}, format="json"
    )


def _product_b(quantity, price="10.00") -> Concept:
    return Concept("01010101", "KGM", "Producto B", D(quantity), D(price), unit="KG")


def test_an_egreso_stamped_elsewhere_is_linked_to_the_return(demo, accountant):
    Csd.objects.filter(company=demo.company).update(active=False)  # this company stamps elsewhere
    client = accountant
    sale = invoice(client, demo, "credit")
    ingreso = _load(
        client, demo, stamped_elsewhere(demo.company, product_a("100", "11.50"), _product_b("200"), folio="9")
    )
    linked = client.post(
        f"/api/sales/invoices/{sale['id']}/link-cfdi/", {"external_cfdi": ingreso["id"]}, format="json"
    )
    assert linked.status_code == 200, linked.json()
    note = credit_note(client, sale, "return", [{"invoice_position": 2, "quantity": "100"}])
    assert post(client, note).status_code == 200
    assert not CfdiDocument.objects.filter(source_model="sales.creditnote").exists()

    related = (Related("03", (ingreso["uuid"],)),)
    egreso_xml = stamped_elsewhere(
        demo.company, _product_b("100"), doc_type="E", related=related, series="NCX"
    )
    unrelated = _load(
        client, demo, stamped_elsewhere(demo.company, _product_b("100"), doc_type="E", series="NCY")
    )
    wrong_total = _load(
        client,
        demo,
        stamped_elsewhere(demo.company, _product_b("99"), doc_type="E", related=related, series="NCZ"),
    )
    another_ingreso = _load(client, demo, stamped_elsewhere(demo.company, _product_b("100"), folio="10"))
    egreso = _load(client, demo, egreso_xml)
    before = (
        snapshot(),
        list(ExternalCfdi.objects.values_list("pk", "invoice", "credit_note").order_by("pk")),
    )

    for external, code in (
        (another_ingreso, "cfdi_tipo_incorrecto"),
        (wrong_total, "cfdi_total_distinto"),
        (unrelated, "cfdi_sin_relacion"),
        (ingreso, "cfdi_tipo_incorrecto"),
    ):
        response = _link(client, note, external)
        assert response.status_code == 400, response.json()
        assert response.json()["code"] == code
    assert "DOC: 1160.00 XML: 1148.40" in _link(client, note, wrong_total).json()["message"]
    assert (
        snapshot(),
        list(ExternalCfdi.objects.values_list("pk", "invoice", "credit_note").order_by("pk")),
    ) == before

    response = _link(client, note, egreso)
    assert response.status_code == 200, response.json()
    assert response.json()["cfdi"] == "TFD"
    assert ExternalCfdi.objects.get(pk=egreso["id"]).credit_note_id == note["id"]
    xml = client.get(f"/api/sales/credit-notes/{note['id']}/xml/")
    assert xml.status_code == 200 and xml.content == egreso_xml
    root = verify_cfdi(xml.content, pac_certificate=sandbox_certificate())
    assert (root.get("TipoDeComprobante"), root.get("Total")) == ("E", "1160.00")
    again = _link(client, note, egreso)
    assert again.status_code == 409 and again.json()["code"] == "cfdi_ya_enlazado"
    sealed = client.post(f"/api/sales/credit-notes/{note['id']}/seal/")
    assert sealed.status_code == 409 and sealed.json()["code"] == "nota_con_cfdi_externo"

    # Cancelling the return frees its egreso (no SAT call: it was stamped elsewhere).
    cancelled = accountant.post(f"/api/sales/credit-notes/{note['id']}/cancel/", {}, format="json")
    assert cancelled.status_code == 200, cancelled.json()
    assert ExternalCfdi.objects.get(pk=egreso["id"]).credit_note_id is None
    refused = _link(client, note, egreso)
    assert refused.status_code == 409 and refused.json()["code"] == "nota_no_enlazable"


# -- 2. The seed's three examples, for contado, crédito and sin método de pago --------------------

EXAMPLES = {
    # kind, lines, (subtotal, IVA, total), cost of the goods back, stock after (A, B)
    "todo": ("return", None, ("3150.00", "504.00", "3654.00"), D("1900.00"), (1000, 1000)),
    "100 KG de B": (
        "return", [{"invoice_position": 2, "quantity": "100"}], ("1000.00", "160.00", "1160.00"), D("600.00"),
        (900, 900),
    ),
    "rebaja 10% B": (
        "rebate", [{"invoice_position": 2, "unit_price": "1.00"}], ("200.00", "32.00", "232.00"), None, (900, 800),
    ),
}  # fmt: skip
MONEY = {"cash": ("E", "101-01", "01"), "credit": ("D", "105-01", "17"), "none": ("D", "107-01", None)}


@pytest.mark.parametrize("payment", ["cash", "credit", "none"])
@pytest.mark.parametrize("example", list(EXAMPLES))
def test_the_seeds_examples(demo, client, django_capture_on_commit_callbacks, example, payment):
    kind, lines, (subtotal, iva, total), cost, stock = EXAMPLES[example]
    entry_kind, counter_account, forma_pago = MONEY[payment]
    with django_capture_on_commit_callbacks(execute=True):
        sale = invoice(client, demo, payment)
    invoice_uuid = _stamped("sales.salesdocument", sale["id"]).uuid
    note = credit_note(client, sale, kind, lines)
    assert (note["subtotal"], note["iva"], note["total"], note["payment"]) == (subtotal, iva, total, payment)
    withdrawals = [{"account": account(demo, "CAJA").pk, "amount": total}] if payment == "cash" else []
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, note, withdrawals)
    assert response.status_code == 200, response.json()
    origin = f"VDEV|{note['id']}|PACHUCA||"

    # Money: refunded from the cash account, off the receivable, or against CC_VENNP.
    refunds = CashMovement.objects.filter(origin=origin)
    receivable = Receivable.objects.filter(origin=f"VFAC|{sale['id']}|PACHUCA||").first()
    if payment == "cash":
        assert [(m.kind, m.amount, m.account.code) for m in refunds] == [("withdrawal", D(total), "CAJA")]
    else:
        assert not refunds.exists()
    if payment == "credit":
        assert receivable.balance == D("3654.00") - D(total)
        assert list(receivable.records.values_list("kind", "amount", "origin")) == [
            ("adjustment", D(total), origin)
        ]
    else:
        assert receivable is None
    assert entry_lines(origin, entry_kind) == {
        ("402-01", D(subtotal), 0),  # VEN_DEVOLUCIONES
        ("209-01", D(iva), 0),
        (counter_account, 0, D(total)),
    }

    # Stock: a return enters the goods at the cost they left with, with its cost póliza.
    assert levels() == {"A": D(stock[0]), "B": D(stock[1])}
    goods = StockMovement.objects.filter(origin=origin).first()
    if cost is None:
        assert goods is None
    else:
        assert {
            (ln.account.code, ln.debit, ln.credit)
            for ln in goods.journal_entry.lines.select_related("account")
        } == {
            ("115-01", cost, 0),
            ("501-01", 0, cost),
        }

    # The egreso: verified, related to the invoice as a return (03) or a rebate (01).
    customer = Customer.objects.get(company=demo.company, number=1)
    _check_egreso(
        _stamped("sales.creditnote", note["id"]),
        relation="03" if kind == "return" else "01",
        related_uuid=invoice_uuid,
        total=total,
        forma_pago=forma_pago or customer.forma_pago,
    )


# -- 5. A credit note at another exchange rate than its invoice's ---------------------------------


def _customers_ledger(company) -> Decimal:
    sums = JournalLine.objects.filter(
        entry__company=company, entry__status="posted", account__code="105-01"
    ).aggregate(debit=Sum("debit"), credit=Sum("credit"))
    return (sums["debit"] or 0) - (sums["credit"] or 0)


def test_a_dollar_credit_note_at_another_rate_takes_the_exchange_difference(demo, client):
    """The receivable, and so the customers account, holds the invoice at its own rate (17.50): a
    credit note at 18.00 lowers customers at 17.50, and the rest is an exchange gain (702.01); one
    at 17.00, an exchange loss (701.01). The customers account still equals the receivable."""
    entity = SalesEntity.objects.get(company=demo.company, code="PACHUCA")
    body = {
        "entity": entity.pk, "customer": 1, "date": str(DAY), "payment": "credit", "currency": "USD",
        "exchange_rate": "17.50", "lines": [{"product": "B", "quantity": "200"}],
    }  # fmt: skip
    sale = client.post("/api/sales/invoices/", body, format="json").json()
    assert client.post(f"/api/sales/invoices/{sale['id']}/post/", {}, format="json").status_code == 200
    returned = client.post(
        "/api/sales/credit-notes/",
        {"invoice": sale["id"], "kind": "return", "date": str(LATER), "exchange_rate": "18.00",
         "lines": [{"invoice_position": 1, "quantity": "100"}]},
        format="json",
    ).json()  # fmt: skip
    assert (returned["exchange_rate"], returned["total"]) == ("18.000000", "1160.00")
    before = snapshot()
    refused = post(client, returned)
    assert refused.status_code == 400 and refused.json()["code"] == "cuenta_cambiaria_faltante"
    assert "diferencia cambiaria de 580.00" in refused.json()["message"]
    assert "702.01" in refused.json()["message"]
    assert snapshot() == before

    Account.objects.create(
        company=demo.company, code="702-01", name="Utilidad cambiaria", nature="A", sat_grouping_code="702.01"
    )
    Account.objects.create(
        company=demo.company, code="701-01", name="Pérdida cambiaria", nature="D", sat_grouping_code="701.01"
    )
    assert post(client, returned).status_code == 200
    assert entry_lines(f"VDEV|{returned['id']}|PACHUCA||", "D") == {
        ("402-01", D("18000.00"), 0),  # 1,000.00 × 18.00
        ("209-01", D("2880.00"), 0),  # 160.00 × 18.00
        ("105-01", 0, D("20300.00")),  # 1,160.00 × 17.50, as the receivable holds it
        ("702-01", 0, D("580.00")),
    }

    rebate = client.post(
        "/api/sales/credit-notes/",
        {"invoice": sale["id"], "kind": "rebate", "date": str(LATER), "exchange_rate": "17.00",
         "lines": [{"invoice_position": 1, "unit_price": "1.00"}]},
        format="json",
    ).json()  # fmt: skip
    assert rebate["total"] == "116.00"  # the 100 KG left × 1.00 + 16%
    assert post(client, rebate).status_code == 200
    assert entry_lines(f"VDEV|{rebate['id']}|PACHUCA||", "D") == {
        ("402-01", D("1700.00"), 0),
        ("209-01", D("272.00"), 0),
        ("105-01", 0, D("2030.00")),  # 116.00 × 17.50
        ("701-01", D("58.00"), 0),
    }

    receivable = Receivable.objects.get(origin=f"VFAC|{sale['id']}|PACHUCA||")
    assert receivable.balance == D("1044.00")  # 2,320.00 − 1,160.00 − 116.00 (dollars)
    assert _customers_ledger(demo.company) == D("1044.00") * D("17.50")
    books = trial_balance(company=demo.company, date_from=date(2026, 11, 1), date_to=date(2026, 11, 30))
    assert books.total_debit == books.total_credit


# -- verify_books knows credit notes ---------------------------------------------------------------


def test_verify_books_finds_a_credit_notes_rows_out_of_step(accountant, demo, client):
    sale = invoice(client, demo, "credit")
    kept = credit_note(client, sale, "rebate", [{"invoice_position": 2, "unit_price": "1.00"}])
    assert post(client, kept).status_code == 200
    gone = credit_note(client, sale, "return", [{"invoice_position": 1, "quantity": "10"}])
    assert post(client, gone).status_code == 200
    assert (
        accountant.post(f"/api/sales/credit-notes/{gone['id']}/cancel/", {}, format="json").status_code == 200
    )
    assert verify_company(demo.company, pending_minutes=0).breaks["registros_de_documentos"] == []

    # A cancelled return whose record came back to life; an emitted rebate whose póliza went away.
    ReceivableRecord.objects.filter(origin=f"VDEV|{gone['id']}|PACHUCA||").update(status="active")
    JournalEntry.objects.filter(origin=f"VDEV|{kept['id']}|PACHUCA||").update(status="cancelled")
    assert verify_company(demo.company, pending_minutes=0).breaks["registros_de_documentos"] == [
        "La rebaja NCA1 está emitida y le falta: póliza.",
        "La devolución NCA2 está cancelada y conserva vivos: registro de cuenta por cobrar.",
    ]
    ReceivableRecord.objects.filter(origin=f"VDEV|{gone['id']}|PACHUCA||").update(status="cancelled")
    JournalEntry.objects.filter(origin=f"VDEV|{kept['id']}|PACHUCA||").update(status="posted")


def test_a_payment_in_a_closed_period_is_not_cancelled_with_sat(
    accountant, demo, client, django_capture_on_commit_callbacks
):
    """The same for customer payments: their complement stays before SAT while the books cannot move."""
    with django_capture_on_commit_callbacks(execute=True):
        sale = invoice(client, demo, "credit")
    body = payments_api.payment_body(demo, "1000.00", [(sale["id"], "1000.00")])
    body["date"] = str(LATER)
    payment_id = client.post("/api/sales/payments/", body, format="json").json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/sales/payments/{payment_id}/post/").status_code == 200
    complement = _stamped("sales.customerpayment", payment_id)
    close_period(company=demo.company, year=LATER.year, month=LATER.month)
    origin = f"VPAG|{payment_id}|PACHUCA||"
    before = _ledgers(origin)

    response = accountant.post(f"/api/sales/payments/{payment_id}/cancel/", {"motive": "02"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "periodo_cerrado"
    complement.refresh_from_db()
    assert complement.cancellation_status == ""
    assert CustomerPayment.objects.get(pk=payment_id).status == "posted"
    assert _ledgers(origin) == before


def test_an_invoice_in_a_closed_period_is_not_cancelled_with_sat(
    accountant, demo, client, django_capture_on_commit_callbacks
):
    """And for the invoices themselves (rule 6): SAT is asked only when the books can follow."""
    with django_capture_on_commit_callbacks(execute=True):
        sale = invoice(client, demo, "credit")
    cfdi = _stamped("sales.salesdocument", sale["id"])
    close_period(company=demo.company, year=DAY.year, month=DAY.month)
    origin = f"VFAC|{sale['id']}|PACHUCA||"
    before = (_ledgers(origin), snapshot())

    response = accountant.post(f"/api/sales/invoices/{sale['id']}/cancel/", {"motive": "02"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "periodo_cerrado"
    cfdi.refresh_from_db()
    assert (cfdi.status, cfdi.cancellation_status) == ("stamped", "")
    assert (_ledgers(origin), snapshot()) == before
    assert client.get(f"/api/sales/invoices/{sale['id']}/").json()["status"] != "cancelled"
