"""The connector registry: one module per kind of connection (see ``base`` for the contract)."""

from django.core.exceptions import ValidationError

from .base import Connector
from .customer_file import CustomerFileConnector
from .qr import QrCustomersConnector

CONNECTORS: dict[str, type[Connector]] = {
    QrCustomersConnector.kind: QrCustomersConnector,
    CustomerFileConnector.kind: CustomerFileConnector,
}


class _NotYetAvailable(Connector):
    @classmethod
    def clean_options(cls, connection) -> dict:
        raise ValidationError({"kind": "Este tipo de conexión todavía no está disponible."})


def get_connector(kind: str) -> type[Connector]:
    return CONNECTORS.get(kind, _NotYetAvailable)
