"""Two threads accepting the same template on Postgres: one invoice, one link, one refusal."""

import threading

import pytest
from django.db import connection

from cfdi.models import Csd
from demo.services import load_demo
from erp.errors import DomainError
from inventory.models import Product
from sales.cfdi_import.services import accept_xml_invoice, build_xml_invoice, update_xml_invoice
from sales.external_cfdi import load_external_cfdi
from sales.models import ExternalCfdi, SalesDocument, SalesEntity
from tests.factories_external_cfdi import stamped_elsewhere
from tests.factories_ledgers import opening_stock


@pytest.mark.django_db(transaction=True)
def test_the_same_template_is_accepted_once(postgres_only):
    demo = load_demo()
    Csd.objects.filter(company=demo.company).update(active=False)
    opening_stock(demo.company, [(Product.objects.get(company=demo.company, code="A"), 50, "7.00")])
    entity = SalesEntity.objects.get(company=demo.company, code="PACHUCA")
    external = load_external_cfdi(entity=entity, xml=stamped_elsewhere(demo.company))
    template = build_xml_invoice(external=external)
    update_xml_invoice(template=template, codes={1: "A"})
    barrier = threading.Barrier(2)
    outcomes = []

    def accept():
        barrier.wait()
        try:
            outcomes.append(accept_xml_invoice(template=template).pk)
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    invoice = SalesDocument.objects.get(kind="invoice")
    assert sorted(outcomes, key=str) == sorted([invoice.pk, "plantilla_ya_agregada"], key=str)
    assert ExternalCfdi.objects.get().invoice == invoice
    assert SalesDocument.objects.count() == 1
