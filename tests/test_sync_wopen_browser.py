"""The Wopen connection in a real browser (Debian's Chromium driven by Playwright): the ops user
opens the demo Wopen connection's "Visor de eventos", sees the order and the stamped invoice
arrive, and runs it now against the demo source served by the project itself."""

import os

import pytest

from demo.services import load_demo, load_wopen_demo
from sync.models import Run
from tests.test_screens_browser import CHROMIUM, DEMO_PASSWORD, page  # noqa: F401 - page: the browser fixture

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="Chromium no está instalado (apt-get install chromium)."
    ),
]


def test_ops_user_opens_the_wopen_visor_de_eventos_and_runs_it_now(page, live_server, settings):  # noqa: F811
    settings.SYNC_DEMO_SOURCE = True
    demo = load_demo()
    connection = load_wopen_demo(demo.company, source_url=f"{live_server.url}/sync/demo-wopen")
    first = Run.objects.get(connection=connection)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "operaciones")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/sync/eventos/")

    page.click(f"#connections tr[data-connection='{connection.pk}'] a.events-of")
    page.wait_for_url(f"**connection={connection.pk}**")
    events = page.locator("#events").inner_text()
    assert "Pedido Wopen P-1001 recibido como pedido" in events
    assert "Factura Wopen F-2001 agregada como factura" in events
    assert "Factura Wopen F-2001 timbrada" in events and "informada a Wopen" in events

    page.click(f"#connections tr[data-connection='{connection.pk}'] button.run-now")
    page.wait_for_selector("[role=status]")
    second = Run.objects.exclude(pk=first.pk).get(connection=connection)
    assert (second.trigger, second.result, second.message) == ("manual", "success", "Sin cambios")
