"""The cashier builds an invoice from a CFDI stamped elsewhere, in a real browser (Chromium)."""

import os

import pytest

from cfdi.models import Csd
from demo.services import load_demo
from sales.models import ExternalCfdi, SalesDocument
from tests.factories_external_cfdi import stamped_elsewhere
from tests.test_sales_cfdi_import_api import SEED_MESSAGES
from tests.test_screens_browser import CHROMIUM, SCREENSHOTS, login, page, put_in_stock  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="Chromium no está instalado (apt-get install chromium)."
    ),
]


def test_cashier_loads_an_xml_fixes_the_code_and_accepts(page, live_server):  # noqa: F811
    demo = load_demo()
    Csd.objects.filter(company=demo.company).update(active=False)
    put_in_stock(demo.company)
    xml = stamped_elsewhere(demo.company)
    login(page, live_server.url, "cajero")
    page.click("text=Pachuca (contable)")
    page.click("#xml-invoices")
    page.set_input_files(
        "input[name=xml]", files=[{"name": "f.xml", "mimeType": "application/xml", "buffer": xml}]
    )
    page.click("text=Cargar XML y/o PDF")
    page.wait_for_selector("text=Se cargó el CFDI")
    page.click("text=Generar factura")
    page.wait_for_url("**/caja/facturas/xml/plantilla/*/")

    shown = [item.text_content() for item in page.locator("#concordance li").all()]
    assert shown == SEED_MESSAGES
    assert page.is_disabled("#accept")
    page.fill("input[name=code-1]", "A")
    page.click("#update")
    page.wait_for_selector("text=Sin diferencias")
    assert "16.0:21.60" in page.text_content("#template-lines")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "xml_invoice_template.png"), full_page=True)
    page.click("#accept")
    page.wait_for_url("**/caja/facturas/*/")

    invoice = SalesDocument.objects.get(company=demo.company, kind="invoice")
    assert (invoice.payment, str(invoice.total), invoice.status) == ("credit", "156.60", "generated")
    assert ExternalCfdi.objects.get().invoice == invoice
