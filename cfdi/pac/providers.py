"""Real PACs through satcfdi's adapters, chosen per company (``PacAccount``).

Every adapter speaks its PAC's protocol; this module turns its answers into the project's PAC
interface: a stamp (200), the earlier stamp of a CFDI stamped before (307, asked for again
through the PAC's recovery operation where it has one), a refusal (``PACError`` with the PAC's
or SAT's code) or ``PACUnavailable`` when the PAC could not be reached or did not answer in
time — the only case the pipeline retries.
"""

from __future__ import annotations

import re
from datetime import datetime

import requests
from lxml import etree
from satcfdi.cfdi import CFDI
from satcfdi.exceptions import ResponseError
from satcfdi.pacs import CancelReason, Environment
from satcfdi.pacs.comerciodigital import ComercioDigital
from satcfdi.pacs.diverza import Diverza
from satcfdi.pacs.facturama import Facturama
from satcfdi.pacs.finkok import Finkok
from satcfdi.pacs.prodigia import Prodigia
from satcfdi.pacs.swsapien import SWSapien

from .. import sat
from .base import (
    CANCEL_ACCEPTED,
    CANCEL_REJECTED,
    CANCEL_REQUESTED,
    PAC,
    PREVIOUSLY_STAMPED,
    STAMPED,
    CancelRequest,
    CancelResult,
    PACError,
    PACUnavailable,
    StampResult,
)

_CODE = re.compile(r"^\s*(?P<code>[A-Za-z]*\d+)\s*[-:]\s*(?P<message>.*)$", re.S)


class FinkokClient(Finkok):
    """satcfdi's Finkok adapter with a bounded wait and, for tests and private deployments, the
    service's base URL (the adapter otherwise picks Finkok's demo or production host)."""

    def __init__(self, username, password, environment, *, base_url: str = "", timeout: float = 30):
        super().__init__(username, password, environment)
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    @property
    def host(self):
        return self.base_url or super().host

    def _perform_request(self, url, envelope):
        response = requests.post(
            url=url,
            data=etree.tostring(envelope),
            headers={"Content-Type": "text/xml; charset=utf-8"},
            timeout=self.timeout,
        )
        return etree.fromstring(response.content)


def _environment(account) -> Environment:
    return Environment.PRODUCTION if account.environment == "production" else Environment.TEST


def build_adapter(account):
    """The satcfdi adapter of a company's PAC account, with its decrypted credentials."""
    env = _environment(account)
    match account.provider:
        case "finkok":
            return FinkokClient(
                account.username,
                account.password,
                env,
                base_url=account.service_url,
                timeout=account.timeout_seconds,
            )
        case "swsapien":
            if account.token:
                return SWSapien(token=account.token, environment=env)
            return SWSapien(user=account.username, password=account.password, environment=env)
        case "diverza":
            return Diverza(rfc=account.company.rfc, id=account.contract, token=account.token, environment=env)
        case "prodigia":
            return Prodigia(account.username, account.password, account.contract, environment=env)
        case "comerciodigital":
            return ComercioDigital(account.username, account.password, environment=env)
        case "facturama":
            return Facturama(account.username, account.password, environment=env)
    raise PACError("PAC", f"El PAC «{account.provider}» no está soportado.")


def _refusal(error: ResponseError) -> PACError:
    text = str(error.response if hasattr(error, "response") else error)
    match = _CODE.match(text)
    if match:
        return PACError(match["code"], match["message"].strip())
    return PACError("PAC", text.strip() or "El PAC rechazó el comprobante.")


def _call(operation, *args, **kwargs):
    try:
        return operation(*args, **kwargs)
    except requests.Timeout as exc:
        raise PACUnavailable("El PAC no respondió a tiempo; se reintentará.") from exc
    except requests.ConnectionError as exc:
        raise PACUnavailable("No se pudo conectar con el PAC; se reintentará.") from exc
    except etree.XMLSyntaxError as exc:
        raise PACUnavailable("La respuesta del PAC no es válida; se reintentará.") from exc
    except ResponseError as error:
        raise _refusal(error) from error


def result_from_stamped(xml: bytes, *, code: str = STAMPED, message: str = "") -> StampResult:
    """UUID, date and SAT certificate of a stamped CFDI, read from its TimbreFiscalDigital."""
    root = sat.parse(xml)
    tfd = root.find(f"{{{sat.CFDI_NS}}}Complemento/{{{sat.TFD_NS}}}TimbreFiscalDigital")
    if tfd is None:
        raise PACUnavailable("El PAC devolvió un comprobante sin timbre; se reintentará.")
    zone = sat.timezone_of(root.get("LugarExpedicion"))
    return StampResult(
        xml=xml,
        uuid=tfd.get("UUID").upper(),
        stamped_at=zone.localize(datetime.fromisoformat(tfd.get("FechaTimbrado"))),
        sat_certificate_number=tfd.get("NoCertificadoSAT"),
        code=code,
        message=message or ("Comprobante timbrado previamente." if code == PREVIOUSLY_STAMPED else ""),
    )


class SatcfdiPAC(PAC):
    """A company's real PAC behind the project's interface."""

    def __init__(self, account):
        self.account = account
        self.name = account.provider
        self.adapter = build_adapter(account)

    def stamp(self, xml: bytes) -> StampResult:
        cfdi = CFDI.from_string(xml)
        try:
            document = _call(self.adapter.stamp, cfdi)
        except PACError as error:
            if error.code != PREVIOUSLY_STAMPED or not hasattr(self.adapter, "stamped"):
                raise
            # 307: stamped before (a reply lost on the way back). Ask for that stamp.
            document = _call(self.adapter.stamped, cfdi)
            return result_from_stamped(_as_bytes(document.xml), code=PREVIOUSLY_STAMPED)
        return result_from_stamped(_as_bytes(document.xml))

    def cancel(self, request: CancelRequest) -> CancelResult:
        cfdi = CFDI.from_string(request.xml)
        acknowledgment = _call(
            self.adapter.cancel,
            cfdi,
            CancelReason(request.motive),
            substitution_id=request.substitute_uuid or None,
            signer=request.signer,
        )
        code = acknowledgment.code
        code = code.get("EstatusUUID", "") if isinstance(code, dict) else str(code or "")
        if code in ("201", "202"):
            status = CANCEL_ACCEPTED if code == "201" else CANCEL_REQUESTED
            return CancelResult(status=status, message=code, acuse=acknowledgment.acuse)
        raise PACError(code or "PAC", f"El PAC no aceptó la solicitud de cancelación ({code}).")

    def cancellation_status(self, request: CancelRequest) -> CancelResult:
        cfdi = CFDI.from_string(request.xml)
        answer = _call(self.adapter.status, cfdi)
        state = str(answer.get("Estado", "")) if isinstance(answer, dict) else ""
        cancel_state = str(answer.get("EstatusCancelacion", "")) if isinstance(answer, dict) else ""
        if state.lower().startswith("cancelado"):
            return CancelResult(status=CANCEL_ACCEPTED, message=state)
        if "rechaz" in cancel_state.lower() or "rechaz" in state.lower():
            return CancelResult(status=CANCEL_REJECTED, message=cancel_state or state)
        return CancelResult(status=CANCEL_REQUESTED, message=cancel_state or state)


def _as_bytes(xml) -> bytes:
    return xml if isinstance(xml, bytes) else str(xml).encode("utf-8")
