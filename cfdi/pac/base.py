"""The one PAC interface. The sandbox PAC implements it; real PACs (next issue) add theirs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime

STAMPED = "200"
PREVIOUSLY_STAMPED = "307"


@dataclass(frozen=True)
class StampResult:
    xml: bytes  # the stamped CFDI exactly as the PAC returned it
    uuid: str
    stamped_at: datetime  # aware
    sat_certificate_number: str
    code: str = STAMPED  # 200, or 307 "previamente timbrado" with the earlier stamp
    message: str = "Comprobante timbrado."


class PACError(Exception):
    """A PAC refused the document. ``code`` is the PAC's/SAT's (301, 302, CFDI40108, ...)."""

    def __init__(self, code: str, message: str, findings: list[dict] | None = None, retryable: bool = False):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.findings = findings or []
        self.retryable = retryable


@dataclass
class PAC(ABC):
    name: str = field(default="", init=False)

    @abstractmethod
    def stamp(self, xml: bytes) -> StampResult:
        """Stamp a sealed CFDI. Raises PACError when refused. Must be idempotent: the same CFDI
        stamped again returns the same stamp with code 307."""
