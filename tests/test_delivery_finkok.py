"""satcfdi's Finkok adapter against a local server speaking Finkok's SOAP stamp protocol: a
stamp, the 307 of a repeat (recovered through ``stamped``), a timeout and a refusal, through
the CFDI engine's services and the invoice's "Sellar"."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from cfdi import services
from cfdi.models import CfdiDocument, PacAccount, SandboxStamp
from cfdi.pac import PREVIOUSLY_STAMPED, STAMPED, PACError, PACUnavailable, get_pac
from cfdi.pac.providers import SatcfdiPAC
from demo.services import load_demo
from inventory.models import Product, Warehouse
from inventory.services import create_stock_movement
from sales.models import SalesDocument, SalesEntity
from tests.factories import CompanyFactory
from tests.factories_cfdi import install_test_csd, seed_invoice
from tests.factories_delivery import FakeFinkok

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def finkok():
    with FakeFinkok() as server:
        yield server


def finkok_account(company, finkok, **fields):
    return PacAccount.objects.create(
        company=company,
        provider=PacAccount.Provider.FINKOK,
        username="usuario@finkok",
        password="clave-finkok",
        service_url=finkok.url,
        timeout_seconds=1,
        **fields,
    )


@pytest.fixture
def sealed(finkok):
    company = CompanyFactory()
    install_test_csd(company)
    finkok_account(company, finkok)
    return services.seal_cfdi(company=company, document=seed_invoice(company))


def test_the_company_account_picks_the_adapter_and_keeps_credentials_encrypted(sealed, finkok):
    pac = get_pac(company=sealed.company)
    assert isinstance(pac, SatcfdiPAC) and pac.name == "finkok"
    assert pac.adapter.host == finkok.url and pac.adapter.username == "usuario@finkok"
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM cfdi_pacaccount")
        (stored,) = cursor.fetchone()
    assert "clave-finkok" not in stored
    assert get_pac(company=CompanyFactory(rfc="AAA010101AAA")).name == "sandbox"  # no account: default


def test_stamp_then_307_for_a_repeat(sealed, finkok):
    pac = get_pac(company=sealed.company)
    xml = bytes(sealed.xml)
    first = pac.stamp(xml)
    again = pac.stamp(xml)
    assert first.code == STAMPED and again.code == PREVIOUSLY_STAMPED
    assert first.uuid == again.uuid and first.xml == again.xml
    assert [op for op, _ in finkok.requests] == ["stamp", "stamp", "stamped"]
    assert SandboxStamp.objects.count() == 1


def test_a_timeout_is_unavailable_and_the_next_attempt_gets_the_stamp(sealed, finkok):
    finkok.faults = ["slow"]
    finkok.slow_seconds = 2.5
    with pytest.raises(services.PacUnreachable) as unreachable:
        services.stamp_cfdi(document=sealed)
    assert unreachable.value.status == 503
    sealed.refresh_from_db()
    assert (sealed.status, sealed.last_error_code) == ("sealed", "pac_no_disponible")
    assert "no respondió a tiempo" in sealed.last_error_message

    stamped = services.stamp_cfdi(document=sealed)
    assert stamped.status == "stamped" and stamped.pac == "finkok" and stamped.last_error_code == ""


def test_a_dropped_reply_is_unavailable_then_307(sealed, finkok):
    finkok.faults = ["drop"]
    with pytest.raises(PACUnavailable):
        get_pac(company=sealed.company).stamp(bytes(sealed.xml))
    stamped = services.stamp_cfdi(document=sealed)
    assert stamped.uuid == finkok.stamps[0] and len(finkok.stamps) == 1


def test_a_refusal_shows_sat_code_and_message(sealed, finkok):
    finkok.faults = ["refuse"]
    with pytest.raises(PACError) as refused:
        get_pac(company=sealed.company).stamp(bytes(sealed.xml))
    assert (refused.value.code, refused.value.message) == ("302", "Sello mal formado o inválido")


def test_an_unreachable_host_is_unavailable(sealed):
    PacAccount.objects.filter(company=sealed.company).update(service_url="http://127.0.0.1:9")
    with pytest.raises(services.PacUnreachable):
        services.stamp_cfdi(document=sealed)


def test_sellar_shows_the_refusal_and_retries_it(finkok, api_as):
    demo = load_demo()
    create_stock_movement(
        company=demo.company,
        warehouse=Warehouse.objects.get(company=demo.company, code="ALM"),
        kind="entry",
        date=date(2026, 11, 1),
        concept="Inventario inicial",
        lines=[
            {"product": Product.objects.get(company=demo.company, code="A"), "quantity": 50, "unit_cost": "5"}
        ],
    )
    finkok_account(demo.company, finkok)
    finkok.faults = ["refuse"]
    client = api_as(get_user_model().objects.get(username="cajero"))
    entity = SalesEntity.objects.get(company=demo.company, code="PACHUCA")
    invoice = client.post(
        "/api/sales/invoices/",
        {"entity": entity.pk, "customer": 1, "date": str(date.today()), "payment": "credit",
         "lines": [{"product": "A", "quantity": "10"}]},
        format="json",
    ).json()  # fmt: skip
    assert client.post(f"/api/sales/invoices/{invoice['id']}/post/", {}, format="json").status_code == 200

    detail = client.get(f"/api/sales/invoices/{invoice['id']}/").json()  # eager: refused after commit
    assert detail["cfdi"] == "---"
    assert detail["cfdi_error"] == "pac_rechazo: El PAC rechazó el CFDI: 302 Sello mal formado o inválido"
    document = CfdiDocument.objects.get(source_id=invoice["id"])
    assert (document.last_error_code, document.last_error_message) == ("302", "Sello mal formado o inválido")

    sealed = client.post(f"/api/sales/invoices/{invoice['id']}/seal/")  # "Sellar"
    assert sealed.status_code == 200, sealed.json()
    assert (sealed.json()["cfdi"], sealed.json()["cfdi_error"]) == ("PDF", "")
    assert SalesDocument.objects.get(pk=invoice["id"]).cfdi_error == ""
    assert CfdiDocument.objects.filter(source_id=invoice["id"]).count() == 1
    assert len(finkok.stamps) == 1
