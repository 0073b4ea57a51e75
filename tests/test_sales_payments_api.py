"""Customer payments through the API, with their payment complement (CFDI type P, Pagos 2.0).

Every complement a test stamps is verified independently: Pagos20.xsd with cfdv40.xsd, the
sello over SAT's cadena original, the PAC's SelloSAT, and the Totales arithmetic."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from accounting.models import Account, JournalEntry
from cashbank.models import CashBankAccount, CashMovement
from cfdi.models import CfdiDocument
from cfdi.pac.sandbox import sandbox_certificate
from demo.services import load_demo
from inventory.models import Product
from sales.models import Customer, CustomerAdvance, CustomerPayment, Receivable, SalesEntity
from tests.cfdi_verify import CFDI, verify_cfdi
from tests.factories_ledgers import opening_stock
from tests.test_delivery_documents import pdf_text

pytestmark = pytest.mark.django_db
P = "{http://www.sat.gob.mx/Pagos20}"
D = Decimal
CENT = D("0.01")


@pytest.fixture
def demo():
    demo = load_demo()
    products = {p.code: p for p in Product.objects.filter(company=demo.company, code__in=("A", "B", "CERV"))}
    opening_stock(demo.company, [(products[code], 500, "5") for code in ("A", "B", "CERV")])
    return demo


@pytest.fixture
def client(demo, api_as):
    return api_as(get_user_model().objects.get(username="cajero"))


@pytest.fixture
def contador(demo, api_as):
    """Cancelling a posted document (and its CFDI) is the accountant's (issue 10)."""
    return api_as(get_user_model().objects.get(username="contador"))


def entity(demo):
    return SalesEntity.objects.get(company=demo.company, code="PACHUCA")


def add_invoice(client, demo, lines, *, payment="credit", collections=None, capture=None):
    body = {
        "entity": entity(demo).pk,
        "customer": 1,
        "date": str(date.today()),
        "payment": payment,
        "lines": lines,
    }
    invoice = client.post("/api/sales/invoices/", body, format="json").json()
    with capture(execute=True):
        response = client.post(
            f"/api/sales/invoices/{invoice['id']}/post/", {"collections": collections or []}, format="json"
        )
    assert response.status_code == 200, response.json()
    return invoice["id"]


def bank(demo, code="BBVA-MXN"):
    return CashBankAccount.objects.get(company=demo.company, code=code)


def payment_body(demo, amount, applications, *, account="BBVA-MXN", rate="1"):
    return {
        "company": demo.company.pk,
        "entity": entity(demo).pk,
        "customer": 1,
        "date": str(date.today()),
        "account": bank(demo, account).pk,
        "amount": amount,
        "exchange_rate": rate,
        "payment_form": "03",
        "operation_number": "SPEI-0001",
        "payer_bank_code": "002",
        "payer_bank_rfc": "BNM840515VB1",
        "payer_account": "002180700123456789",
        "applications": [{"invoice": i, "amount": a} for i, a in applications],
    }


def pay(client, demo, amount, applications, capture, **options):
    created = client.post(
        "/api/sales/payments/", payment_body(demo, amount, applications, **options), format="json"
    )
    assert created.status_code == 201, created.json()
    payment_id = created.json()["id"]
    # The customer is the number sent, both ways; its id and name come beside it.
    customer = Customer.objects.get(entity=entity(demo), number=1)
    assert (created.json()["customer"], created.json()["customer_id"], created.json()["customer_name"]) == (
        1, customer.pk, customer.name,
    )  # fmt: skip
    with capture(execute=True):
        posted = client.post(f"/api/sales/payments/{payment_id}/post/")
    assert posted.status_code == 200, posted.json()
    return payment_id


def complement_of(payment_id) -> CfdiDocument:
    return CfdiDocument.objects.get(source_model="sales.customerpayment", source_id=payment_id)


def verified(client, payment_id):
    """The stamped complement, checked: XSD, sello, SelloSAT, Totales = Σ of the parts."""
    xml = client.get(f"/api/sales/payments/{payment_id}/xml/")
    assert xml.status_code == 200
    root = verify_cfdi(xml.content, pac_certificate=sandbox_certificate())
    assert (root.get("TipoDeComprobante"), root.get("Moneda"), root.get("SubTotal"), root.get("Total")) == (
        "P", "XXX", "0", "0",
    )  # fmt: skip
    assert root.find(f"{CFDI}Receptor").get("UsoCFDI") == "CP01"
    pagos = root.find(f"{CFDI}Complemento/{P}Pagos")
    totales = pagos.find(f"{P}Totales")
    for pago in pagos.iterfind(f"{P}Pago"):
        rate = D(pago.get("TipoCambioP") or "1")
        for docto in pago.iterfind(f"{P}DoctoRelacionado"):
            assert D(docto.get("ImpSaldoInsoluto")) == D(docto.get("ImpSaldoAnt")) - D(docto.get("ImpPagado"))
        sums = {}
        for node in pago.iterfind(f".//{P}TrasladoDR"):
            key = (node.get("ImpuestoDR"), node.get("TipoFactorDR"), node.get("TasaOCuotaDR"))
            base, amount = sums.get(key, (D(0), D(0)))
            eq = D(node.getparent().getparent().getparent().get("EquivalenciaDR") or "1")
            sums[key] = (base + D(node.get("BaseDR")) / eq, amount + D(node.get("ImporteDR") or "0") / eq)
        for node in pago.iterfind(f"{P}ImpuestosP/{P}TrasladosP/{P}TrasladoP"):
            key = (node.get("ImpuestoP"), node.get("TipoFactorP"), node.get("TasaOCuotaP"))
            assert D(node.get("BaseP")) == sums[key][0].quantize(CENT, ROUND_HALF_UP)
            if node.get("ImporteP"):
                assert D(node.get("ImporteP")) == sums[key][1].quantize(CENT, ROUND_HALF_UP)
        if (
            node := pago.find(f"{P}ImpuestosP/{P}TrasladosP/{P}TrasladoP[@TasaOCuotaP='0.160000']")
        ) is not None:
            assert D(totales.get("TotalTrasladosImpuestoIVA16")) == (D(node.get("ImporteP")) * rate).quantize(
                CENT, ROUND_HALF_UP
            )
            assert D(totales.get("TotalTrasladosBaseIVA16")) == (D(node.get("BaseP")) * rate).quantize(
                CENT, ROUND_HALF_UP
            )
        assert D(totales.get("MontoTotalPagos")) == (D(pago.get("Monto")) * rate).quantize(
            CENT, ROUND_HALF_UP
        )
    return root


def docto(root, n=0):
    return root.findall(f".//{P}DoctoRelacionado")[n]


def test_a_1160_ppd_invoice_paid_in_two_parts(demo, client, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    invoice = add_invoice(client, demo, [{"product": "B", "quantity": "100"}], capture=capture)
    invoice_uuid = CfdiDocument.objects.get(source_model="sales.salesdocument", source_id=invoice).uuid
    assert Receivable.objects.get(origin__startswith=f"VFAC|{invoice}|").amount == D("1160.00")
    mail.outbox.clear()

    first = pay(client, demo, "500.00", [(invoice, "500.00")], capture)
    second = pay(client, demo, "660.00", [(invoice, "660.00")], capture)

    one, two = verified(client, first), verified(client, second)
    a, b = docto(one), docto(two)
    assert a.get("IdDocumento") == invoice_uuid
    assert (a.get("NumParcialidad"), a.get("ImpSaldoAnt"), a.get("ImpPagado"), a.get("ImpSaldoInsoluto")) == (
        "1", "1160.00", "500.00", "660.00",
    )  # fmt: skip
    assert (b.get("NumParcialidad"), b.get("ImpSaldoAnt"), b.get("ImpPagado"), b.get("ImpSaldoInsoluto")) == (
        "2", "660.00", "660.00", "0.00",
    )  # fmt: skip
    # Proportional IVA, rounded (500/1160·160 = 68.9655… → 68.97, never truncated to 68.96), and
    # the two installments add up to the invoice's IVA and base exactly.
    iva_a, iva_b = a.find(f".//{P}TrasladoDR"), b.find(f".//{P}TrasladoDR")
    assert (iva_a.get("BaseDR"), iva_a.get("ImporteDR")) == ("431.03", "68.97")
    assert D(iva_a.get("ImporteDR")) + D(iva_b.get("ImporteDR")) == D("160.00")
    assert D(iva_a.get("BaseDR")) + D(iva_b.get("BaseDR")) == D("1000.00")
    assert Receivable.objects.get(origin__startswith=f"VFAC|{invoice}|").balance == 0
    # Printed and mailed once each, through the engine's pipeline.
    assert complement_of(first).pdf and complement_of(second).pdf
    assert len([m for m in mail.outbox if "compras@ure.example.mx" in m.to]) == 2
    pdf = client.get(f"/api/sales/payments/{first}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = pdf_text(pdf.content)  # the payment and the invoice it settles, with its balances
    assert "PAGO RECIBIDO" in text.upper() and "A1 " in text
    assert "1,160.00" in text and "500.00" in text and "660.00" in text
    # The póliza de ingresos: bank against customers.
    entry = JournalEntry.objects.get(origin=f"VPAG|{first}|PACHUCA||")
    assert entry.kind == JournalEntry.Kind.INCOME
    assert (
        sum(line.debit for line in entry.lines.all())
        == sum(line.credit for line in entry.lines.all())
        == D("500.00")
    )


def test_one_payment_over_three_invoices_with_different_taxes(
    demo, client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    iva = add_invoice(client, demo, [{"product": "B", "quantity": "37"}], capture=capture)  # 370 + IVA
    ieps_invoice = add_invoice(
        client, demo, [{"product": "CERV", "quantity": "10"}], capture=capture
    )  # IEPS + IVA
    # Freight to a persona moral: IVA withheld at 4% (LIVA 1-A II c; a persona moral issuer has no ISR withheld).
    withheld = add_invoice(client, demo, [{"product": "FLETE", "quantity": "3"}], capture=capture)
    balances = {
        i: Receivable.objects.get(origin__startswith=f"VFAC|{i}|").balance
        for i in (iva, ieps_invoice, withheld)
    }
    applications = [(iva, "233.33"), (ieps_invoice, "100.01"), (withheld, str(balances[withheld]))]
    total = sum((D(a) for _, a in applications), D(0))

    preview_payment = client.post(
        "/api/sales/payments/", payment_body(demo, str(total), applications), format="json"
    )
    preview = client.post(f"/api/sales/payments/{preview_payment.json()['id']}/preview/").json()
    assert [d["installment"] for d in preview["documents"]] == [1, 1, 1]
    with capture(execute=True):
        assert client.post(f"/api/sales/payments/{preview_payment.json()['id']}/post/").status_code == 200
    root = verified(client, preview_payment.json()["id"])
    totales = root.find(f".//{P}Totales")
    # Totales equal the sum of the documents' proportional taxes exactly.
    iva16 = [n for n in root.iterfind(f".//{P}TrasladoDR") if n.get("TasaOCuotaDR") == "0.160000"]
    assert D(totales.get("TotalTrasladosImpuestoIVA16")) == sum(D(n.get("ImporteDR")) for n in iva16)
    assert D(totales.get("TotalTrasladosBaseIVA16")) == sum(D(n.get("BaseDR")) for n in iva16)
    ieps = [n for n in root.iterfind(f".//{P}TrasladoDR") if n.get("ImpuestoDR") == "003"]
    ieps_p = root.find(f".//{P}TrasladoP[@ImpuestoP='003']")
    assert D(ieps_p.get("ImporteP")) == sum(D(n.get("ImporteDR")) for n in ieps) > 0
    retained = {n.get("ImpuestoDR"): D(n.get("ImporteDR")) for n in root.iterfind(f".//{P}RetencionDR")}
    assert D(totales.get("TotalRetencionesIVA")) == retained["002"]
    assert "001" not in retained and totales.get("TotalRetencionesISR") is None
    assert D(totales.get("MontoTotalPagos")) == total
    # The invoice paid in full carries its withholdings whole.
    whole = CfdiDocument.objects.get(source_model="sales.salesdocument", source_id=withheld)
    assert retained["002"] == whole.total_withheld > 0
    # One deposit for the whole payment, one payment record per invoice.
    payment = CustomerPayment.objects.get(pk=preview_payment.json()["id"])
    assert payment.cash_movement.amount == total
    assert [a.receivable_record.amount for a in payment.applications.order_by("invoice_id")] == [
        D(a) for _, a in applications
    ]


def test_usd_payment_of_an_mxn_invoice(demo, client, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    invoice = add_invoice(
        client, demo, [{"product": "B", "quantity": "100"}], capture=capture
    )  # 1,160.00 MXN
    payment_id = pay(client, demo, "50.00", [(invoice, "862.50")], capture, account="BBVA-USD", rate="17.25")
    root = verified(client, payment_id)
    pago = root.find(f".//{P}Pago")
    assert (pago.get("MonedaP"), pago.get("TipoCambioP"), pago.get("Monto")) == ("USD", "17.25", "50.00")
    d = docto(root)
    assert (d.get("MonedaDR"), d.get("EquivalenciaDR"), d.get("ImpPagado")) == ("MXN", "17.25", "862.50")
    assert root.find(f".//{P}Totales").get("MontoTotalPagos") == "862.50"
    movement = CashMovement.objects.get(pk=CustomerPayment.objects.get(pk=payment_id).cash_movement_id)
    assert movement.amount == D("50.00")
    entry = JournalEntry.objects.get(origin=f"VPAG|{payment_id}|PACHUCA||")
    assert (
        sum(line.debit for line in entry.lines.all())
        == sum(line.credit for line in entry.lines.all())
        == D("862.50")
    )


def test_a_pue_invoice_takes_no_complement(demo, client, django_capture_on_commit_callbacks):
    caja = bank(demo, "CAJA")
    invoice = add_invoice(
        client, demo, [{"product": "B", "quantity": "1"}], payment="cash",
        collections=[{"account": caja.pk, "amount": "11.60"}], capture=django_capture_on_commit_callbacks,
    )  # fmt: skip
    before = (CustomerPayment.objects.count(), CashMovement.objects.count(), CfdiDocument.objects.count())
    response = client.post(
        "/api/sales/payments/", payment_body(demo, "11.60", [(invoice, "11.60")]), format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "factura_pue"
    assert "no lleva complemento de pago" in response.json()["message"]
    assert (
        CustomerPayment.objects.count(),
        CashMovement.objects.count(),
        CfdiDocument.objects.count(),
    ) == before


def test_refusals_change_nothing(demo, client, django_capture_on_commit_callbacks):
    invoice = add_invoice(
        client, demo, [{"product": "B", "quantity": "100"}], capture=django_capture_on_commit_callbacks
    )
    for amount, applied, code in (
        ("2000.00", "2000.00", "importe_excede_saldo"),
        ("600.00", "500.00", "pago_no_cuadra"),
    ):
        response = client.post(
            "/api/sales/payments/", payment_body(demo, amount, [(invoice, applied)]), format="json"
        )
        assert response.status_code == 400 and response.json()["code"] == code
    assert not CustomerPayment.objects.exists()
    assert Receivable.objects.get(origin__startswith=f"VFAC|{invoice}|").balance == D("1160.00")


def test_cancel_cancels_the_complement_with_sat_first(
    demo, client, django_capture_on_commit_callbacks, contador
):
    capture = django_capture_on_commit_callbacks
    invoice = add_invoice(client, demo, [{"product": "B", "quantity": "100"}], capture=capture)
    payment_id = pay(client, demo, "500.00", [(invoice, "500.00")], capture)
    response = contador.post(f"/api/sales/payments/{payment_id}/cancel/", {"motive": "02"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"
    assert complement_of(payment_id).cancellation_status == CfdiDocument.Cancellation.ACCEPTED
    assert Receivable.objects.get(origin__startswith=f"VFAC|{invoice}|").balance == D("1160.00")
    payment = CustomerPayment.objects.get(pk=payment_id)
    assert payment.cash_movement.status == CashMovement.Status.CANCELLED
    assert not JournalEntry.objects.filter(origin=f"VPAG|{payment_id}|PACHUCA||", status="posted").exists()
    again = contador.post(f"/api/sales/payments/{payment_id}/cancel/", {}, format="json")
    assert again.status_code == 409


def test_iva_moves_to_collected_when_the_chart_has_the_account(
    demo, client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    Account.objects.create(
        company=demo.company, code="208-01", name="IVA trasladado cobrado", nature="A", sat_grouping_code="208.01",
        parent=Account.objects.get(company=demo.company, code="209"),
    )  # fmt: skip
    invoice = add_invoice(client, demo, [{"product": "B", "quantity": "100"}], capture=capture)
    payment_id = pay(client, demo, "580.00", [(invoice, "580.00")], capture)
    entry = JournalEntry.objects.get(origin=f"VPAG|{payment_id}|PACHUCA||")
    lines = {(line.account.code, line.debit, line.credit) for line in entry.lines.select_related("account")}
    assert ("209-01", D("80.00"), D("0")) in lines
    assert ("208-01", D("0"), D("80.00")) in lines


def test_missing_complements_list_with_sat_deadline(demo, client, django_capture_on_commit_callbacks):
    from cfdi.models import Csd

    capture = django_capture_on_commit_callbacks
    invoice = add_invoice(client, demo, [{"product": "B", "quantity": "100"}], capture=capture)
    Csd.objects.filter(company=demo.company).update(active=False)  # the complement cannot be sealed
    payment_id = pay(client, demo, "500.00", [(invoice, "500.00")], capture)
    rows = client.get(f"/api/sales/payments/missing/?company={demo.company.pk}").json()
    assert [r["payment"] for r in rows] == [payment_id]
    today = date.today()
    following = date(today.year + (today.month == 12), today.month % 12 + 1, 5)
    assert rows[0]["deadline"] == str(following)
    Csd.objects.filter(company=demo.company).update(active=True)
    with capture(execute=True):
        assert client.post(f"/api/sales/payments/{payment_id}/complement/").status_code == 200
    verified(client, payment_id)
    assert client.get(f"/api/sales/payments/missing/?company={demo.company.pk}").json() == []
    # Exactly once: asking again returns the same stamped complement.
    with capture(execute=True):
        client.post(f"/api/sales/payments/{payment_id}/complement/")
    assert (
        CfdiDocument.objects.filter(source_model="sales.customerpayment", source_id=payment_id).count() == 1
    )


def test_admin_lists_payments_missing_their_complement(demo, client, django_capture_on_commit_callbacks):
    from django.test import Client

    from cfdi.models import Csd
    from demo.services import DEMO_PASSWORD

    capture = django_capture_on_commit_callbacks
    invoice = add_invoice(client, demo, [{"product": "B", "quantity": "100"}], capture=capture)
    stamped = pay(client, demo, "100.00", [(invoice, "100.00")], capture)
    Csd.objects.filter(company=demo.company).update(active=False)
    missing = pay(client, demo, "200.00", [(invoice, "200.00")], capture)
    browser = Client()
    assert browser.login(username="contador", password=DEMO_PASSWORD)
    page = browser.get("/admin/sales/customerpayment/?complemento=falta")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"/admin/sales/customerpayment/{missing}/change/" in html
    assert f"/admin/sales/customerpayment/{stamped}/change/" not in html
    detail = browser.get(f"/admin/sales/customerpayment/{missing}/change/")
    assert detail.status_code == 200 and "Aplicaciones de pago" in detail.content.decode()


def test_a_substituting_complement_carries_relation_04(demo, client, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    invoice = add_invoice(client, demo, [{"product": "B", "quantity": "100"}], capture=capture)
    payment_id = pay(client, demo, "500.00", [(invoice, "500.00")], capture)
    old = complement_of(payment_id)
    with capture(execute=True):
        response = client.post(f"/api/sales/payments/{payment_id}/substitute/")
    assert response.status_code == 200, response.json()
    new = (
        CfdiDocument.objects.filter(source_model="sales.customerpayment", source_id=payment_id)
        .exclude(pk=old.pk)
        .get()
    )
    root = verified(client, payment_id)
    assert root.get("Folio") == new.folio and new.uuid == response.json()["cfdi_uuid"]
    related = root.find(f"{CFDI}CfdiRelacionados")
    assert related.get("TipoRelacion") == "04"
    assert related.find(f"{CFDI}CfdiRelacionado").get("UUID") == old.uuid
    old.refresh_from_db()
    assert (old.cancellation_status, old.cancellation_motive, old.substitute_uuid) == (
        CfdiDocument.Cancellation.ACCEPTED, "01", new.uuid,
    )  # fmt: skip
    assert docto(root).get("NumParcialidad") == "1"  # the same installment, not a new one


@pytest.mark.usefixtures("verified_books")
def test_a_payment_left_partly_as_an_advance_applied_later(
    contador, demo, client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    first = add_invoice(client, demo, [{"product": "B", "quantity": "100"}], capture=capture)  # 1,160.00
    second = add_invoice(client, demo, [{"product": "B", "quantity": "50"}], capture=capture)  # 580.00
    # Without leave_advance a payment larger than its invoices is refused, as before.
    refused = client.post(
        "/api/sales/payments/", payment_body(demo, "1500.00", [(first, "1160.00")]), format="json"
    )
    assert refused.status_code == 400 and refused.json()["code"] == "pago_no_cuadra"

    body = {**payment_body(demo, "1500.00", [(first, "1160.00")]), "leave_advance": True}
    created = client.post("/api/sales/payments/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["advance"] == "340.00"
    payment_id = created.json()["id"]
    assert (
        client.post(f"/api/sales/payments/{payment_id}/preview/").json()["totales"]["MontoTotalPagos"]
        == "1160.00"
    )
    with capture(execute=True):
        assert client.post(f"/api/sales/payments/{payment_id}/post/").status_code == 200
    # The complement pays the invoice only; the remainder is the customer's advance (a credit).
    root = verified(client, payment_id)
    assert root.find(f".//{P}Pago").get("Monto") == "1160.00"
    entry = JournalEntry.objects.get(origin=f"VPAG|{payment_id}|PACHUCA||")
    advances_account = Account.objects.get(company=demo.company, code="206-01")
    assert [(line.credit) for line in entry.lines.filter(account=advances_account)] == [D("340.00")]
    assert (
        sum(line.debit for line in entry.lines.all())
        == sum(line.credit for line in entry.lines.all())
        == D("1500.00")
    )
    advances = client.get(f"/api/sales/advances/?company={demo.company.pk}").json()["results"]
    assert [(a["payment"], a["amount"], a["balance"]) for a in advances] == [(payment_id, "340.00", "340.00")]
    advance = advances[0]["id"]

    # Applied later to the second invoice: its balance drops, a diario moves advances to customers.
    too_much = client.post(
        f"/api/sales/advances/{advance}/apply/",
        {"invoice": second, "amount": "400.00", "date": str(date.today())},
    )
    assert too_much.status_code == 400 and too_much.json()["code"] == "importe_excede_anticipo"
    applied = client.post(
        f"/api/sales/advances/{advance}/apply/",
        {"invoice": second, "amount": "340.00", "date": str(date.today())},
    )
    assert applied.status_code == 200, applied.json()
    assert applied.json()["balance"] == "0.00" and len(applied.json()["applications"]) == 1
    assert Receivable.objects.get(origin__startswith=f"VFAC|{second}|").balance == D("240.00")
    diario = JournalEntry.objects.get(origin=f"VANT|{advance}|{applied.json()['applications'][0]['id']}||")
    assert diario.kind == JournalEntry.Kind.GENERAL
    assert [(line.account.code, line.debit, line.credit) for line in diario.lines.order_by("pk")] == [
        ("206-01", D("340.00"), D("0.00")),
        ("105-01", D("0.00"), D("340.00")),
    ]
    again = client.post(
        f"/api/sales/advances/{advance}/apply/",
        {"invoice": second, "amount": "1.00", "date": str(date.today())},
    )
    assert again.status_code == 409 and again.json()["code"] == "anticipo_sin_saldo"
    # A payment whose advance was applied cannot be cancelled (its complement stays in force).
    cancel = contador.post(f"/api/sales/payments/{payment_id}/cancel/", {"motive": "02"}, format="json")
    assert cancel.status_code == 409 and cancel.json()["code"] == "anticipo_aplicado"
    assert complement_of(payment_id).cancellation_status == CfdiDocument.Cancellation.NONE


@pytest.mark.usefixtures("verified_books")
def test_a_whole_payment_as_an_advance_takes_no_complement(
    contador, demo, client, django_capture_on_commit_callbacks
):
    body = {**payment_body(demo, "800.00", []), "leave_advance": True}
    created = client.post("/api/sales/payments/", body, format="json")
    assert created.status_code == 201, created.json()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/sales/payments/{created.json()['id']}/post/").status_code == 200
    assert not CfdiDocument.objects.filter(source_model="sales.customerpayment").exists()
    assert CustomerAdvance.objects.get().balance == D("800.00")
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = contador.post(
            f"/api/sales/payments/{created.json()['id']}/cancel/", {"motive": "02"}, format="json"
        )
    assert cancelled.status_code == 200, cancelled.json()
    assert CustomerAdvance.objects.get().status == "cancelled"


def test_a_cash_payment_with_an_ordering_account_is_refused(demo, client):
    body = {**payment_body(demo, "100.00", []), "payment_form": "01", "leave_advance": True}
    refused = client.post("/api/sales/payments/", body, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "cuenta_ordenante_no_aplica"
    assert "no es bancarizada" in refused.json()["message"]
    assert not CustomerPayment.objects.exists()
