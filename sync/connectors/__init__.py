"""The connector registry: one module per kind of connection (see ``base`` for the contract)."""

from django.core.exceptions import ValidationError

from .base import Connector
from .customer_file import CustomerFileConnector
from .qr import QrCustomersConnector
from .sae import SaeConnector
from .wopen import WopenConnector

CONNECTORS: dict[str, type[Connector]] = {
    QrCustomersConnector.kind: QrCustomersConnector,
    CustomerFileConnector.kind: CustomerFileConnector,
    SaeConnector.kind: SaeConnector,
    WopenConnector.kind: WopenConnector,
}


class _NotYetAvailable(Connector):
    @classmethod
    def clean_options(cls, connection) -> dict:
        raise ValidationError({"kind": "Este tipo de conexión todavía no está disponible."})


def get_connector(kind: str) -> type[Connector]:
    return CONNECTORS.get(kind, _NotYetAvailable)
