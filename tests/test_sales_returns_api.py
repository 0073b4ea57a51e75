"""Returns and rebates (credit notes) through the API on the demo company: the seed's three worked
examples for contado, crédito and sin método de pago, each with its stock, money or receivable,
pólizas and egreso CFDI; the refusals (which change nothing); cancelling; and the books."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum

from accounting.models import JournalEntry, JournalLine
from accounting.selectors import trial_balance
from cashbank.models import CashBankAccount, CashMovement
from cfdi.models import CfdiDocument
from cfdi.pac.sandbox import sandbox_certificate
from demo.services import load_demo
from inventory.models import Product, StockLevel, StockMovement
from sales.models import CreditNote, SalesEntity
from sales.receivables.models import Receivable, ReceivableRecord
from tests.cfdi_verify import CFDI, verify_cfdi
from tests.factories_ledgers import opening_stock

pytestmark = pytest.mark.django_db
DAY = date(2026, 11, 20)
LATER = date(2026, 11, 25)
D = Decimal


@pytest.fixture
def demo():
    demo = load_demo()
    opening_stock(
        demo.company,
        [
            (Product.objects.get(company=demo.company, code="A"), 1000, "7.00"),
            (Product.objects.get(company=demo.company, code="B"), 1000, "6.00"),
        ],
    )
    return demo


@pytest.fixture
def client(demo, api_as):
    return api_as(get_user_model().objects.get(username="cajero"))


@pytest.fixture
def contador(demo, api_as):
    """Cancelling a posted document (and its CFDI) is the accountant's (issue 10)."""
    return api_as(get_user_model().objects.get(username="contador"))


def account(demo, code):
    return CashBankAccount.objects.get(company=demo.company, code=code)


def invoice(client, demo, payment, collections=None, day=DAY):
    entity = SalesEntity.objects.get(company=demo.company, code="PACHUCA")
    body = {
        "entity": entity.pk,
        "customer": 1,
        "date": str(day),
        "payment": payment,
        "lines": [{"product": "A", "quantity": "100"}, {"product": "B", "quantity": "200"}],
    }
    created = client.post("/api/sales/invoices/", body, format="json").json()
    if payment == "cash" and collections is None:
        collections = [{"account": account(demo, "CAJA").pk, "amount": "3654.00"}]
    response = client.post(
        f"/api/sales/invoices/{created['id']}/post/", {"collections": collections or []}, format="json"
    )
    assert response.status_code == 200, response.json()
    return response.json()


def credit_note(client, invoice_, kind, lines=None, expect=201):
    body = {
        "invoice": invoice_["id"],
        "kind": kind,
        "date": str(max(LATER, date.fromisoformat(invoice_["date"]))),
    }
    if lines is not None:
        body["lines"] = lines
    response = client.post("/api/sales/credit-notes/", body, format="json")
    assert response.status_code == expect, response.json()
    return response.json()


def post(client, note, collections=None):
    return client.post(
        f"/api/sales/credit-notes/{note['id']}/post/", {"collections": collections or []}, format="json"
    )


def entry_lines(origin, kind):
    entry = JournalEntry.objects.get(origin=origin, kind=kind, status="posted")
    return {(ln.account.code, ln.debit, ln.credit) for ln in entry.lines.select_related("account")}


def levels():
    return {lv.product.code: lv.quantity for lv in StockLevel.objects.filter(warehouse__code="ALM")}


def snapshot():
    """Everything a credit note could write."""
    return (
        list(CreditNote.objects.values_list("pk", "status", "number").order_by("pk")),
        CashMovement.objects.count(),
        JournalEntry.objects.filter(status="posted").count(),
        list(Receivable.objects.values_list("pk", "balance").order_by("pk")),
        ReceivableRecord.objects.count(),
        StockMovement.objects.count(),
        levels(),
    )


# -- The seed's three examples ---------------------------------------------------------------


def test_returning_the_whole_credit_invoice(demo, client):
    """Example 1, crédito: the template unchanged returns everything: 3,654.00 off the receivable,
    a diario against customers, and the goods back at the cost they left with."""
    sale = invoice(client, demo, "credit")
    preview = client.post(
        "/api/sales/credit-notes/preview/",
        {"invoice": sale["id"], "kind": "return", "date": str(LATER)},
        format="json",
    ).json()
    assert [(ln["code"], ln["quantity"], ln["importe"], ln["iva_display"]) for ln in preview["lines"]] == [
        ("A", "100.000000", "1150.00", "16:184.00"),
        ("B", "200.000000", "2000.00", "16:320.00"),
    ]
    assert (preview["subtotal"], preview["iva"], preview["total"]) == ("3150.00", "504.00", "3654.00")
    assert not CreditNote.objects.exists()  # a preview saves nothing

    note = credit_note(client, sale, "return")
    assert (note["status"], note["number"], note["total"], note["payment"]) == (
        "draft",
        None,
        "3654.00",
        "credit",
    )
    response = post(client, note)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["series"], body["number"]) == ("emitted", "NCA", 1)

    origin = f"VDEV|{note['id']}|PACHUCA||"
    receivable = Receivable.objects.get(origin=f"VFAC|{sale['id']}|PACHUCA||")
    assert receivable.balance == 0
    record = receivable.records.get()
    assert (record.kind, record.amount, record.origin) == ("adjustment", D("3654.00"), origin)
    assert entry_lines(origin, "D") == {
        ("402-01", D("3150.00"), 0),  # VEN_DEVOLUCIONES
        ("209-01", D("504.00"), 0),
        ("105-01", 0, D("3654.00")),
    }
    entry = StockMovement.objects.get(origin=origin)
    assert entry.kind == "entry"
    assert {(ln.product.code, ln.quantity, ln.unit_cost) for ln in entry.lines.select_related("product")} == {
        ("A", D("100"), D("7.000000")),
        ("B", D("200"), D("6.000000")),
    }
    cost = {
        (ln.account.code, ln.debit, ln.credit) for ln in entry.journal_entry.lines.select_related("account")
    }
    assert cost == {("115-01", D("1900.00"), 0), ("501-01", 0, D("1900.00"))}
    assert levels() == {"A": D("1000"), "B": D("1000")}
    assert not CashMovement.objects.filter(origin=origin).exists()


def test_returning_100_kg_of_b_on_a_cash_invoice(demo, client):
    """Example 2, contado: 100 KG of B, 1,000.00 + 160.00 = 1,160.00 withdrawn from the cash
    account, one póliza de egresos, and 100 KG back at 6.00."""
    sale = invoice(client, demo, "cash")
    note = credit_note(client, sale, "return", [{"invoice_position": 2, "quantity": "100"}])
    assert [(ln["code"], ln["importe"], ln["iva_display"]) for ln in note["lines"]] == [
        ("B", "1000.00", "16:160.00")
    ]
    assert (note["importe"], note["iva"], note["total"]) == ("1000.00", "160.00", "1160.00")
    response = post(
        client, note, [{"account": account(demo, "CAJA").pk, "amount": "1160.00", "method": "01"}]
    )
    assert response.status_code == 200, response.json()

    origin = f"VDEV|{note['id']}|PACHUCA||"
    withdrawal = CashMovement.objects.get(origin=origin)
    assert (withdrawal.kind, withdrawal.amount, withdrawal.account.code) == (
        "withdrawal",
        D("1160.00"),
        "CAJA",
    )
    assert entry_lines(origin, "E") == {
        ("101-01", 0, D("1160.00")),
        ("402-01", D("1000.00"), 0),
        ("209-01", D("160.00"), 0),
    }
    assert withdrawal.journal_entry.kind == "E"
    assert levels() == {"A": D("900"), "B": D("900")}  # 1000 − 100 and 1000 − 200 + 100
    entry = StockMovement.objects.get(origin=origin)
    assert [(ln.quantity, ln.unit_cost) for ln in entry.lines.all()] == [(D("100"), D("6.000000"))]
    assert not ReceivableRecord.objects.exists()


def test_a_ten_percent_rebate_on_b_without_payment_method(demo, client):
    """Example 3, sin método de pago: a 10% rebate on B, 200 × 1.00 = 200.00 + 32.00 = 232.00;
    a diario against CC_VENNP, no money, no receivable, no stock."""
    sale = invoice(client, demo, "none")
    note = credit_note(client, sale, "rebate", [{"invoice_position": 2, "unit_price": "1.00"}])
    assert [(ln["quantity"], ln["unit_price"], ln["importe"], ln["iva_display"]) for ln in note["lines"]] == [
        ("200.000000", "1.000000", "200.00", "16:32.00")
    ]
    assert note["total"] == "232.00"
    response = post(client, note)
    assert response.status_code == 200, response.json()

    origin = f"VDEV|{note['id']}|PACHUCA||"
    assert entry_lines(origin, "D") == {
        ("402-01", D("200.00"), 0),
        ("209-01", D("32.00"), 0),
        ("107-01", 0, D("232.00")),  # CC_VENNP
    }
    assert not StockMovement.objects.filter(origin=origin).exists()  # rebates move no stock
    assert not CashMovement.objects.filter(origin=origin).exists()
    assert not Receivable.objects.exists()


def test_rebate_on_a_credit_invoice_lowers_the_receivable(demo, client):
    sale = invoice(client, demo, "credit")
    note = credit_note(client, sale, "rebate", [{"invoice_position": 2, "unit_price": "1.00"}])
    assert post(client, note).status_code == 200
    receivable = Receivable.objects.get(origin=f"VFAC|{sale['id']}|PACHUCA||")
    assert receivable.balance == D("3422.00")  # 3654 − 232
    assert entry_lines(f"VDEV|{note['id']}|PACHUCA||", "D") == {
        ("402-01", D("200.00"), 0),
        ("209-01", D("32.00"), 0),
        ("105-01", 0, D("232.00")),
    }


def test_d4_a_return_of_an_invoice_from_a_remission_enters_the_goods(demo, client):
    """D.4: even when the invoice came from a remission, the return enters the goods (at the cost
    the remission's exit took them out with), with its cost póliza."""
    pachuca = SalesEntity.objects.get(company=demo.company, code="PACHUCA")
    remission = client.post(
        "/api/sales/remissions/",
        {"entity": pachuca.pk, "customer": 1, "date": str(DAY), "payment": "credit",
         "lines": [{"product": "B", "quantity": "200"}]},
        format="json",
    ).json()  # fmt: skip
    sale = client.post(f"/api/sales/remissions/{remission['id']}/generate-invoice/").json()
    response = client.post(f"/api/sales/invoices/{sale['id']}/post/", {}, format="json")
    assert response.status_code == 200 and response.json()["stock_movement"] is None
    note = credit_note(client, sale, "return", [{"invoice_position": 1, "quantity": "50"}])
    assert post(client, note).status_code == 200
    entry = StockMovement.objects.get(origin=f"VDEV|{note['id']}|PACHUCA||")
    assert [(ln.quantity, ln.unit_cost) for ln in entry.lines.all()] == [(D("50"), D("6.000000"))]
    assert entry.journal_entry is not None and entry.journal_entry.total == D("300.00")
    assert levels() == {"A": D("1000"), "B": D("850")}


# -- The egreso CFDI ---------------------------------------------------------------------------


def _stamped(note_id) -> CfdiDocument:
    return CfdiDocument.objects.get(source_model="sales.creditnote", source_id=note_id, status="stamped")


def _check_egreso(cfdi, *, relation, related_uuid, total, forma_pago):
    root = verify_cfdi(bytes(cfdi.xml), pac_certificate=sandbox_certificate())
    assert (root.get("TipoDeComprobante"), root.get("MetodoPago"), root.get("FormaPago")) == (
        "E",
        "PUE",
        forma_pago,
    )
    assert root.get("Total") == total
    taxes = root.find(f"{CFDI}Impuestos")
    assert D(root.get("SubTotal")) - D(root.get("Descuento") or 0) + D(
        taxes.get("TotalImpuestosTrasladados") or 0
    ) - D(taxes.get("TotalImpuestosRetenidos") or 0) == D(total)
    related = root.find(f"{CFDI}CfdiRelacionados")
    assert related.get("TipoRelacion") == relation
    assert [r.get("UUID") for r in related.iterfind(f"{CFDI}CfdiRelacionado")] == [related_uuid]
    assert root.find(f"{CFDI}Receptor").get("UsoCFDI") == "G02"
    return root


def test_egreso_cfdis_relate_to_the_invoice(demo, client, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        sale = invoice(client, demo, "credit")
    invoice_uuid = CfdiDocument.objects.get(source_model="sales.salesdocument", source_id=sale["id"]).uuid

    returned = credit_note(client, sale, "return", [{"invoice_position": 2, "quantity": "100"}])
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, returned).status_code == 200
    cfdi = _stamped(returned["id"])
    _check_egreso(cfdi, relation="03", related_uuid=invoice_uuid, total="1160.00", forma_pago="17")
    detail = client.get(f"/api/sales/credit-notes/{returned['id']}/").json()
    assert (detail["cfdi"], detail["cfdi_error"]) == ("PDF", "")  # printed by the same pipeline
    assert client.get(f"/api/sales/credit-notes/{returned['id']}/xml/").status_code == 200
    pdf = client.get(f"/api/sales/credit-notes/{returned['id']}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert any("nota de crédito" in m.subject.lower() or m.attachments for m in mailoutbox)

    rebate = credit_note(client, sale, "rebate", [{"invoice_position": 1, "unit_price": "1.15"}])
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, rebate).status_code == 200
    _check_egreso(
        _stamped(rebate["id"]), relation="01", related_uuid=invoice_uuid, total="133.40", forma_pago="17"
    )

    tree = client.get(f"/api/sales/invoices/{sale['id']}/track/").json()
    assert [c["type"] for c in tree["children"]].count("nota_de_credito") == 2


def test_cash_refund_egreso_uses_the_withdrawal_method(demo, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sale = invoice(client, demo, "cash")
    invoice_uuid = CfdiDocument.objects.get(source_model="sales.salesdocument", source_id=sale["id"]).uuid
    note = credit_note(client, sale, "return")
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            post(client, note, [{"account": account(demo, "CAJA").pk, "amount": "3654.00"}]).status_code
            == 200
        )
    _check_egreso(
        _stamped(note["id"]), relation="03", related_uuid=invoice_uuid, total="3654.00", forma_pago="01"
    )


def test_cancelling_a_stamped_credit_note_asks_sat_first(
    demo, client, django_capture_on_commit_callbacks, contador
):
    with django_capture_on_commit_callbacks(execute=True):
        sale = invoice(client, demo, "credit")
        note = credit_note(client, sale, "return")
        assert post(client, note).status_code == 200
    refused = contador.post(f"/api/sales/credit-notes/{note['id']}/cancel/", {}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "motivo_requerido"
    assert CreditNote.objects.get(pk=note["id"]).status == "emitted"

    blocked = contador.post(f"/api/sales/invoices/{sale['id']}/cancel/", {"motive": "02"}, format="json")
    assert blocked.status_code == 409 and blocked.json()["code"] == "factura_con_nota_de_credito"
    assert _stamped(note["id"]).cancellation_status == ""  # nothing was asked of SAT for the invoice

    cancelled = contador.post(
        f"/api/sales/credit-notes/{note['id']}/cancel/", {"motive": "02"}, format="json"
    )
    assert cancelled.status_code == 200, cancelled.json()
    assert cancelled.json()["status"] == "cancelled"
    assert _stamped(note["id"]).cancellation_status == "accepted"
    assert Receivable.objects.get(origin=f"VFAC|{sale['id']}|PACHUCA||").balance == D("3654.00")
    assert (
        contador.post(
            f"/api/sales/invoices/{sale['id']}/cancel/", {"motive": "02"}, format="json"
        ).status_code
        == 200
    )


# -- Refusals: a clear message, nothing changed ------------------------------------------------


def test_returning_more_than_invoiced_across_two_returns_is_refused(demo, client):
    sale = invoice(client, demo, "credit")
    first = credit_note(client, sale, "return", [{"invoice_position": 2, "quantity": "150"}])
    racing = credit_note(
        client, sale, "return", [{"invoice_position": 2, "quantity": "100"}]
    )  # 150 + 100 > 200
    assert post(client, first).status_code == 200
    before = snapshot()

    response = client.post(
        "/api/sales/credit-notes/",
        {
            "invoice": sale["id"],
            "kind": "return",
            "date": str(LATER),
            "lines": [{"invoice_position": 2, "quantity": "51"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "cantidad_excede_factura"
    assert "no debe ser mayor a la cantidad de la factura asociada" in response.json()["message"]
    refused = post(client, racing)  # a draft made before the first was posted is checked again
    assert refused.status_code == 400 and refused.json()["code"] == "cantidad_excede_factura"
    assert snapshot() == before
    assert (
        credit_note(client, sale, "return", [{"invoice_position": 2, "quantity": "50"}])["total"] == "580.00"
    )


def test_a_rebate_above_the_price_is_refused(demo, client):
    sale = invoice(client, demo, "credit")
    before = snapshot()
    too_much = credit_note(
        client, sale, "rebate", [{"invoice_position": 2, "unit_price": "10.01"}], expect=400
    )
    assert too_much["code"] == "precio_excede_factura"
    assert "no debe ser mayor al precio establecido en la factura asociada" in too_much["message"]
    changed_quantity = credit_note(
        client, sale, "rebate", [{"invoice_position": 2, "quantity": "10", "unit_price": "1"}], expect=400
    )
    assert changed_quantity["message"].endswith("en rebajas, esta cantidad no puede cambiar.")
    changed_price = credit_note(
        client, sale, "return", [{"invoice_position": 2, "quantity": "10", "unit_price": "9"}], expect=400
    )
    assert changed_price["message"].endswith("en devoluciones, este precio no puede cambiar.")
    assert snapshot() == before

    assert (
        post(
            client, credit_note(client, sale, "rebate", [{"invoice_position": 2, "unit_price": "1.00"}])
        ).status_code
        == 200
    )
    again = credit_note(client, sale, "rebate", [{"invoice_position": 2, "unit_price": "9.01"}], expect=400)
    assert again["code"] == "precio_excede_factura"  # 10.00 less the 1.00 already rebated


def test_a_credit_note_on_a_cancelled_invoice_is_refused(demo, client, contador):
    sale = invoice(client, demo, "credit")
    assert contador.post(f"/api/sales/invoices/{sale['id']}/cancel/", {}, format="json").status_code == 200
    before = snapshot()
    refused = credit_note(client, sale, "return", expect=409)
    assert (refused["code"], refused["message"]) == (
        "factura_cancelada",
        "La factura está cancelada: no se puede devolver ni rebajar.",
    )
    assert snapshot() == before


def test_dollar_return_paid_back_from_a_peso_cash_account_at_the_exchange_rate(demo, client):
    """Rule 2: a USD credit note withdrawn from a national account, converted at its exchange rate;
    the póliza de egresos is in pesos and balances."""
    entity = SalesEntity.objects.get(company=demo.company, code="PACHUCA")
    body = {
        "entity": entity.pk, "customer": 1, "date": str(DAY), "payment": "cash", "currency": "USD",
        "exchange_rate": "17.50", "lines": [{"product": "B", "quantity": "200"}],
    }  # fmt: skip
    sale = client.post("/api/sales/invoices/", body, format="json").json()
    caja = account(demo, "CAJA").pk
    posted = client.post(
        f"/api/sales/invoices/{sale['id']}/post/",
        {"collections": [{"account": caja, "amount": "2320.00"}]},
        format="json",
    )
    assert posted.status_code == 200, posted.json()
    note = credit_note(client, sale, "return", [{"invoice_position": 1, "quantity": "100"}])
    assert (note["currency"], note["exchange_rate"], note["total"]) == ("USD", "17.500000", "1160.00")
    assert post(client, note, [{"account": caja, "amount": "1160.00"}]).status_code == 200
    origin = f"VDEV|{note['id']}|PACHUCA||"
    withdrawal = CashMovement.objects.get(origin=origin)
    assert (withdrawal.kind, withdrawal.amount, withdrawal.document_amount) == (
        "withdrawal",
        D("20300.00"),
        D("1160.00"),
    )
    assert entry_lines(origin, "E") == {
        ("101-01", 0, D("20300.00")),
        ("402-01", D("17500.00"), 0),
        ("209-01", D("2800.00"), 0),
    }


def test_a_withdrawal_in_the_wrong_currency_is_refused(demo, client):
    sale = invoice(client, demo, "cash")
    note = credit_note(client, sale, "return", [{"invoice_position": 2, "quantity": "100"}])
    before = snapshot()
    response = post(
        client,
        note,
        [{"account": account(demo, "BBVA-USD").pk, "amount": "1160.00", "method": "03",
          "counterparty_bank": "002", "counterparty_account": "002180700000000011"}],
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["code"] == "moneda_incompatible"
    assert "devolución o rebaja" in response.json()["message"]
    incomplete = post(client, note, [{"account": account(demo, "CAJA").pk, "amount": "1000.00"}])
    assert (
        incomplete.json()["message"]
        == "Los retiros suman 1000.00 y el total de la devolución o rebaja es 1160.00."
    )
    assert snapshot() == before


def test_another_companys_credit_note_is_not_found(demo, client, other_company, api_as):
    from erp.models import Role
    from tests.factories import user_with_role

    sale = invoice(client, demo, "credit")
    note = credit_note(client, sale, "return")
    stranger = api_as(user_with_role(other_company, Role.CASHIER))
    assert stranger.get(f"/api/sales/credit-notes/{note['id']}/").status_code == 404
    response = stranger.post(
        "/api/sales/credit-notes/",
        {"invoice": sale["id"], "kind": "return", "date": str(LATER)},
        format="json",
    )
    assert response.status_code in (400, 403)
    assert CreditNote.objects.count() == 1


# -- Cancelling and the books ----------------------------------------------------------------


def test_cancelling_a_return_reverses_everything_it_posted(demo, client, contador):
    sale = invoice(client, demo, "cash")
    note = credit_note(client, sale, "return", [{"invoice_position": 2, "quantity": "100"}])
    assert post(client, note, [{"account": account(demo, "CAJA").pk, "amount": "1160.00"}]).status_code == 200
    origin = f"VDEV|{note['id']}|PACHUCA||"
    response = contador.post(f"/api/sales/credit-notes/{note['id']}/cancel/", {}, format="json")
    assert response.status_code == 200, response.json()
    assert CashMovement.objects.get(origin=origin).status == "cancelled"
    assert not JournalEntry.objects.filter(origin=origin, status="posted").exists()
    assert StockMovement.objects.get(origin=origin).status == "cancelled"
    assert not JournalEntry.objects.filter(
        pk=StockMovement.objects.get(origin=origin).journal_entry_id, status="posted"
    ).exists()
    assert levels() == {"A": D("900"), "B": D("800")}
    again = contador.post(f"/api/sales/credit-notes/{note['id']}/cancel/", {}, format="json")
    assert again.status_code == 409
    tree = client.get(f"/api/sales/credit-notes/{note['id']}/track/").json()
    assert tree["type"] == "nota_de_credito" and tree["children"][0]["type"] == "factura"


def _customers_ledger(company) -> Decimal:
    sums = JournalLine.objects.filter(
        entry__company=company, entry__status="posted", account__code="105-01"
    ).aggregate(debit=Sum("debit"), credit=Sum("credit"))
    return (sums["debit"] or 0) - (sums["credit"] or 0)


def test_books_balance_and_receivables_equal_their_ledger_after_a_mix(demo, client, contador):
    caja = account(demo, "CAJA").pk
    credit_1 = invoice(client, demo, "credit")
    credit_2 = invoice(client, demo, "credit")
    cash = invoice(client, demo, "cash")
    none = invoice(client, demo, "none")

    ret = credit_note(client, credit_1, "return", [{"invoice_position": 1, "quantity": "40"}])
    assert post(client, ret).status_code == 200
    reb = credit_note(client, credit_1, "rebate", [{"invoice_position": 2, "unit_price": "0.50"}])
    assert post(client, reb).status_code == 200
    whole = credit_note(client, credit_2, "return")
    assert post(client, whole).status_code == 200
    assert (
        contador.post(f"/api/sales/credit-notes/{whole['id']}/cancel/", {}, format="json").status_code == 200
    )
    assert (
        contador.post(f"/api/sales/invoices/{credit_2['id']}/cancel/", {}, format="json").status_code == 200
    )
    cash_return = credit_note(client, cash, "return", [{"invoice_position": 2, "quantity": "10"}])
    assert post(client, cash_return, [{"account": caja, "amount": "116.00"}]).status_code == 200
    none_rebate = credit_note(client, none, "rebate")
    assert post(client, none_rebate).status_code == 200

    books = trial_balance(company=demo.company, date_from=date(2026, 11, 1), date_to=date(2026, 11, 30))
    assert books.balances and books.total_debit == books.total_credit
    open_balance = Receivable.objects.filter(company=demo.company, status="active").aggregate(
        total=Sum("balance")
    )["total"]
    assert open_balance == D("3654.00") - D("533.60") - D("116.00")  # 40 × 11.50 + 16%; 200 × 0.50 + 16%
    assert _customers_ledger(demo.company) == open_balance


# -- Admin -------------------------------------------------------------------------------------


def test_accountant_consults_tracks_posts_and_cancels_in_the_admin(demo, client):
    from django.test import Client

    sale = invoice(client, demo, "credit")
    note = credit_note(client, sale, "rebate", [{"invoice_position": 2, "unit_price": "1.00"}])
    browser = Client()
    browser.force_login(get_user_model().objects.get(username="contador"))
    listing = browser.get("/admin/sales/creditnote/")
    assert listing.status_code == 200 and "Devoluciones sobre ventas" in listing.content.decode()

    posted = browser.post(
        "/admin/sales/creditnote/", {"action": "post_selected", "_selected_action": [note["id"]]}, follow=True
    )
    assert posted.status_code == 200
    assert CreditNote.objects.get(pk=note["id"]).status == "emitted"
    page = browser.get(f"/admin/sales/creditnote/{note['id']}/change/").content.decode()
    assert "Rastreo" in page and "Póliza Diario" in page

    browser.post("/admin/sales/creditnote/", {"action": "cancel_selected", "_selected_action": [note["id"]]})
    assert CreditNote.objects.get(pk=note["id"]).status == "cancelled"
    assert Receivable.objects.get(origin=f"VFAC|{sale['id']}|PACHUCA||").balance == D("3654.00")


# -- One definition of what a credit note copies from its invoice ---------------------------------


def _fields(model, names):
    return {name: model._meta.get_field(name).deconstruct()[1:] for name in names}


def test_credit_note_keeps_the_invoices_customer_snapshot_and_line_fields():
    """The customer snapshot a credit note copies from its invoice is every ``customer_*`` field
    of both (sales.document_models.CUSTOMER_SNAPSHOT), and a credit-note line has the invoice
    line's fields, declared once (TaxedLine): same types, precisions and labels."""
    from sales.document_models import CUSTOMER_SNAPSHOT, TaxedLine
    from sales.models import CreditNoteLine, SalesDocument, SalesDocumentLine

    snapshot = {f"customer_{name}" for name in CUSTOMER_SNAPSHOT}
    for model in (SalesDocument, CreditNote):
        prefixed = {f.name for f in model._meta.concrete_fields if f.name.startswith("customer_")}
        assert prefixed == snapshot, model
    assert _fields(SalesDocument, snapshot) == _fields(CreditNote, snapshot)
    shared = [f.name for f in TaxedLine._meta.fields]
    assert "ieps_quota" in shared and "quantity" in shared
    assert _fields(SalesDocumentLine, shared) == _fields(CreditNoteLine, shared)
