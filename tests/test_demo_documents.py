import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounting.models import JournalEntry
from cfdi.models import CfdiDocument
from cfdi.pac.sandbox import sandbox_certificate
from sales.integrity import verify_books
from sales.models import SalesDocument
from sales.payments.complement import payment_cfdi
from sales.payments.models import CustomerPayment
from sales.receivables.models import Receivable
from sales.returns.cfdi import credit_note_cfdi
from sales.returns.models import CreditNote
from tests.cfdi_verify import verify_cfdi

pytestmark = pytest.mark.django_db


def test_make_run_demo_has_a_stamped_rebate_and_a_payment_with_its_complement():
    call_command("load_demo", stdout=io.StringIO())
    invoice = SalesDocument.objects.get(idempotency_key="demo-factura-2")
    note = CreditNote.objects.get(invoice=invoice)
    assert (note.kind, note.status) == (CreditNote.Kind.REBATE, CreditNote.Status.EMITTED)
    assert note.total == Decimal("232.00")  # 10% of B's 10.00 on 200 kg, plus IVA
    egreso = credit_note_cfdi(note)
    assert egreso.status == CfdiDocument.Status.STAMPED and egreso.uuid
    root = verify_cfdi(bytes(egreso.xml), pac_certificate=sandbox_certificate())
    assert root.get("TipoDeComprobante") == "E"

    payment = CustomerPayment.objects.get(applications__invoice=invoice)
    assert (payment.status, payment.payment_form, payment.account.code) == ("posted", "03", "BBVA-MXN")
    complement = payment_cfdi(payment)
    assert complement.status == CfdiDocument.Status.STAMPED and complement.uuid
    root = verify_cfdi(bytes(complement.xml), pac_certificate=sandbox_certificate())
    assert root.get("TipoDeComprobante") == "P"

    receivable = Receivable.objects.get(origin=invoice.origin_reference)
    assert receivable.balance == invoice.total - note.total - payment.amount
    assert [(r.company.rfc, r.breaks) for r in verify_books() if not r.ok] == []

    counts = [m.objects.count() for m in (CreditNote, CustomerPayment, CfdiDocument, JournalEntry)]
    call_command("load_demo", stdout=io.StringIO())
    assert [m.objects.count() for m in (CreditNote, CustomerPayment, CfdiDocument, JournalEntry)] == counts
    assert Receivable.objects.get(origin=invoice.origin_reference).balance == receivable.balance
