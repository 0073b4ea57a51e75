"""The cashier's invoice list shows the effective status with its colour class and the CFDI state
as one word with its links (rendered HTML through the test client)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from demo.services import load_demo
from inventory.services import revert_stock_movement
from sales.models import SalesDocument, SalesEntity

pytestmark = pytest.mark.django_db


def _rows(client, entity, tab):
    html = client.get(f"/caja/facturas/{entity.pk}/?tab={tab}&period=hoy").content.decode()
    return re.findall(r'<tr class="st-(\w+)">(.*?)</tr>', html, re.S)


def test_a_reverted_exit_shows_blue_revertida_under_revertidas_and_the_cfdi_as_one_word():
    company = load_demo(activity=True).company
    users = get_user_model().objects
    pachuca = SalesEntity.objects.get(company=company, code="PACHUCA")
    credit = SalesDocument.objects.get(company=company, idempotency_key="demo-factura-2")
    revert_stock_movement(movement=credit.stock_movement, user=users.get(username="contador"))
    client = Client()
    client.force_login(users.get(username="cajero"))

    rows = _rows(client, pachuca, "revertidas")
    assert len(rows) == 1 and rows[0][0] == "reverted" and "Revertida" in rows[0][1]
    assert "Generada" not in rows[0][1]

    cancelled = _rows(client, pachuca, "canceladas")
    assert [css for css, _ in cancelled] == ["cancelled"]

    stamped = [cells for css, cells in _rows(client, pachuca, "todas") if "Timbrado" in cells]
    assert len(stamped) == 1
    cfdi_cell = re.search(r'<td data-cfdi="\w+">(.*?)</td>', stamped[0], re.S).group(1)
    assert re.sub(r"<[^>]+>", "", cfdi_cell).split() == ["Timbrado", "XML", "PDF"]


def test_the_list_pages_through_every_invoice_of_the_tab_and_keeps_the_filters(monkeypatch):
    """No invoice is left off: the pages together show each invoice of the tab once, and the
    pager's links keep the tab and the period."""
    import sales.views

    company = load_demo(activity=True).company
    pachuca = SalesEntity.objects.get(company=company, code="PACHUCA")
    expected = set(
        SalesDocument.objects.filter(entity=pachuca, kind="invoice")
        .exclude(status="draft")
        .values_list("number", flat=True)
    )
    assert len(expected) >= 3
    monkeypatch.setattr(sales.views, "LIST_PAGE_SIZE", 2)
    client = Client()
    client.force_login(get_user_model().objects.get(username="cajero"))

    seen, url, pages = [], f"/caja/facturas/{pachuca.pk}/?tab=todas&period=todas", 0
    while url:
        html = client.get(url).content.decode()
        rows = re.findall(r'<tr class="st-\w+">\s*<td class="num">[A-Z]*(\d+)</td>', html)
        assert 1 <= len(rows) <= 2
        seen += [int(number) for number in rows]
        pages += 1
        assert f"Página {pages} de " in html and f"{len(expected)} facturas" in html
        following = re.search(r'<a href="(\?[^"]+)" id="next-page">', html)
        url = f"/caja/facturas/{pachuca.pk}/{following.group(1).replace('&amp;', '&')}" if following else ""
        if url:
            assert "tab=todas&period=todas" in url
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))
