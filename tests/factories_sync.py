"""Builders for the sync engine's tests: a QR connection pointed at a stand-in on loopback."""

from sales.models import Customer
from sync.connectors.qr_source import QrSource, QrSourceServer
from sync.models import Connection
from sync.services import save_connection
from tests.factories import sales_entity

TOKEN = "token-secreto-qr"


def receiver(rfc: str, **fields) -> dict:
    values = {
        "rfc_receptor": rfc,
        "razon_social": f"CLIENTE {rfc}",
        "regimen_fiscal": "601" if len(rfc) == 12 else "612",
        "correo": f"{rfc.lower()}@example.mx",
        "codigo_postal": "06000",
        "uso_cfdi": "G03",
        "forma_pago": "03",
    }
    values.update(fields)
    return values


def qr_connection(company, url: str, *, entity=None, page_size: int = 500, **fields) -> Connection:
    entity = entity or sales_entity(company)
    fields.setdefault("name", "QR clientes")
    return save_connection(
        connection=Connection(
            company=company,
            kind=Connection.Kind.QR_CUSTOMERS,
            options={"base_url": url, "entity": entity.code, "page_size": page_size, "timeout_seconds": 1},
            **fields,
        ),
        credentials=TOKEN,
    )


def qr_server(receivers=()) -> QrSourceServer:
    return QrSourceServer(QrSource(receivers, token=TOKEN))


def customers_snapshot(company) -> list[tuple]:
    return list(
        Customer.objects.filter(company=company)
        .order_by("pk")
        .values_list("rfc", "name", "regimen_fiscal", "email", "postal_code", "uso_cfdi", "forma_pago")
    )
