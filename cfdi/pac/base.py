"""The one PAC interface. The sandbox PAC implements it, and so do the adapters around satcfdi's
real PACs (``cfdi.pac.providers``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime

STAMPED = "200"
PREVIOUSLY_STAMPED = "307"

# Cancellation states, as the CFDI record keeps them.
CANCEL_REQUESTED = "requested"
CANCEL_ACCEPTED = "accepted"
CANCEL_REJECTED = "rejected"


@dataclass(frozen=True)
class StampResult:
    xml: bytes  # the stamped CFDI exactly as the PAC returned it
    uuid: str
    stamped_at: datetime  # aware
    sat_certificate_number: str
    code: str = STAMPED  # 200, or 307 "previamente timbrado" with the earlier stamp
    message: str = "Comprobante timbrado."


@dataclass(frozen=True)
class CancelResult:
    status: str  # CANCEL_REQUESTED, CANCEL_ACCEPTED or CANCEL_REJECTED
    message: str = ""
    acuse: bytes | None = None


@dataclass(frozen=True)
class CancelRequest:
    """What a PAC needs to cancel a stamped CFDI: the XML as stamped, SAT's motive and the CSD's
    signer (cancellations are signed by the issuer)."""

    xml: bytes
    uuid: str
    issuer_rfc: str
    receiver_rfc: str
    total: str
    motive: str
    substitute_uuid: str = ""
    signer: object = None


class PACError(Exception):
    """A PAC refused the document. ``code`` is the PAC's/SAT's (301, 302, CFDI40108, ...)."""

    def __init__(self, code: str, message: str, findings: list[dict] | None = None, retryable: bool = False):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.findings = findings or []
        self.retryable = retryable


class PACUnavailable(PACError):
    """The PAC could not be reached or did not answer (connection refused, timeout, a reply that
    is not the PAC's protocol). Nothing is known to be refused: asking again is safe, because
    the same sealed CFDI is answered with its first stamp (307)."""

    def __init__(self, message: str):
        super().__init__("pac_no_disponible", message, retryable=True)


@dataclass
class PAC(ABC):
    name: str = field(default="", init=False)

    @abstractmethod
    def stamp(self, xml: bytes) -> StampResult:
        """Stamp a sealed CFDI. Raises PACError when refused, PACUnavailable when it cannot be
        reached. Must be idempotent: the same CFDI stamped again returns the same stamp (307)."""

    def cancel(self, request: CancelRequest) -> CancelResult:
        raise PACError("PAC", f"El PAC «{self.name}» no permite cancelar desde el sistema.")

    def cancellation_status(self, request: CancelRequest) -> CancelResult:
        raise PACError("PAC", f"El PAC «{self.name}» no permite consultar el estado de una cancelación.")
