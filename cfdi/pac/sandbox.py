"""The sandbox PAC: validates like a PAC and stamps with its own certificate, inside the project.

It checks, in a real PAC's order: well-formed XML (301), cfdv40.xsd (301), the CSD in the
document (306 FIEL instead of CSD, 303 RFC other than the issuer's, 305 outside its validity),
the sello over SAT's cadena original (302), the 72-hour window (401) and SAT's CFDI 4.0 rules
(CFDI40xxx, via cfdi.checker). Then it adds a TimbreFiscalDigital 1.1 signed with its own key
(SelloSAT over cadenaoriginal_TFD_1_1.xslt). The certificate is published by
``sandbox_certificate()`` (and the API) so SelloSAT can be verified.

Unlike a real PAC, it accepts CSDs not issued by SAT (the test CSDs the project generates).
"""

from __future__ import annotations

import base64
import hashlib
import threading
import uuid
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import NameOID
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from lxml import etree

from .. import checker, sat
from ..certificates import certificate_info, certificate_number, read_certificate
from ..models import SandboxPacCertificate, SandboxStamp
from ..testing_csd import new_key, serial_for
from . import register
from .base import (
    CANCEL_ACCEPTED,
    CANCEL_REJECTED,
    CANCEL_REQUESTED,
    PAC,
    PREVIOUSLY_STAMPED,
    CancelRequest,
    CancelResult,
    PACError,
    StampResult,
)

RFC_PROV_CERTIF = "SPR190613I52"
GENERIC_RFCS = ("XAXX010101000", "XEXX010101000")
# SAT lets the issuer cancel without the receiver's acceptance up to this total (MXN), for the
# generic RFCs, and within the 24 hours after stamping; otherwise the receiver has to answer.
NO_ACCEPTANCE_MAX_TOTAL = Decimal("1000")
NO_ACCEPTANCE_WINDOW = timedelta(hours=24)
SANDBOX_CERTIFICATE_NUMBER = "00001000000700000001"
MAX_XML_BYTES = 4 * 1024 * 1024
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_TFD_LOCATION = (
    "http://www.sat.gob.mx/TimbreFiscalDigital "
    "http://www.sat.gob.mx/sitio_internet/cfd/TimbreFiscalDigital/TimbreFiscalDigitalv11.xsd"
)

_KEYS: dict[str, tuple] = {}
_LOCK = threading.Lock()


def _new_sandbox_material():
    key = new_key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "PAC DE PRUEBAS DEL ERP (SANDBOX)"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ERP SANDBOX PAC"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"PAC{RFC_PROV_CERTIF}"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "MX"),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial_for(SANDBOX_CERTIFICATE_NUMBER))
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER), key


def _material():
    """(certificate DER, private key), one per installation (a database row shared by every
    process), kept in this process's memory once loaded."""
    cached = _KEYS.get("sandbox")
    if cached is not None:
        return cached
    row = SandboxPacCertificate.objects.filter(name="sandbox").first()
    if row is not None:
        cer = bytes(row.certificate)
        cached = (cer, serialization.load_der_private_key(bytes(row.private_key), password=None))
        with _LOCK:
            _KEYS["sandbox"] = cached
        return cached
    cer, key = _new_sandbox_material()
    key_bytes = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        with transaction.atomic():
            SandboxPacCertificate.objects.create(name="sandbox", certificate=cer, private_key=key_bytes)
    except IntegrityError:
        return _material()
    with _LOCK:
        _KEYS["sandbox"] = (cer, key)
    return cer, key


def sandbox_certificate() -> bytes:
    """The sandbox PAC's certificate (DER): verifies every SelloSAT it gives."""
    return _material()[0]


def sandbox_certificate_number() -> str:
    return _certificate_number(sandbox_certificate())


@lru_cache(maxsize=4)
def _certificate_number(cer: bytes) -> str:
    return certificate_number(read_certificate(cer))


@lru_cache(maxsize=64)
def _issuer_certificate(der: bytes):
    """Public key and data of an issuer's certificate, parsed once per process by its DER bytes
    (a PAC sees the same few CSDs document after document)."""
    cert = read_certificate(der)
    return cert.public_key(), certificate_info(cert)


def _savepoint_if_in_transaction():
    """The stamp's record is one INSERT: alone it commits by itself, as a PAC's own database
    would (a transaction block would only add BEGIN and COMMIT round trips); inside a caller's
    transaction a savepoint keeps a duplicate digest (IntegrityError) from aborting it."""
    return transaction.atomic() if connection.in_atomic_block else nullcontext()


def _relates(xml: bytes, uuid: str, relation_type: str) -> bool:
    root = sat.parse(xml)
    return any(
        group.get("TipoRelacion") == relation_type
        and any(
            (r.get("UUID") or "").upper() == uuid.upper()
            for r in group.iterfind(f"{{{sat.CFDI_NS}}}CfdiRelacionado")
        )
        for group in root.iterfind(f"{{{sat.CFDI_NS}}}CfdiRelacionados")
    )


def _refuse(code: str, message: str, findings=None):
    raise PACError(code, message, findings=[f.as_dict() for f in findings or []])


@register("sandbox")
class SandboxPAC(PAC):
    def stamp(self, xml: bytes) -> StampResult:
        if len(xml) > MAX_XML_BYTES:
            _refuse("301", "El XML excede el tamaño permitido.")
        try:
            root = sat.parse(xml)
        except etree.XMLSyntaxError as exc:
            raise PACError("301", f"El XML está mal formado: {exc}") from exc
        if root.tag != f"{{{sat.CFDI_NS}}}Comprobante" or root.get("Version") != "4.0":
            _refuse("301", "El documento no es un CFDI versión 4.0.")
        if root.find(f"{{{sat.CFDI_NS}}}Complemento/{{{sat.TFD_NS}}}TimbreFiscalDigital") is not None:
            return self._previous(root) or _refuse(PREVIOUSLY_STAMPED, "El CFDI contiene un timbre previo.")
        try:
            self._validate(root)
        except PACError:
            # A CFDI stamped before is answered with its first stamp (307) even when it would be
            # refused now (e.g. 72 hours later), as a PAC does. Looked up only here and on the
            # stamp's unique digest (``_add_stamp``), not before every first stamp.
            previous = self._previous(root)
            if previous:
                return previous
            raise
        return self._add_stamp(root)

    # -- checks -----------------------------------------------------------------------------
    def _validate(self, root):
        errors = sat.schema_errors(root)
        if errors:
            _refuse("301", "El XML no cumple con el esquema cfdv40.xsd del SAT: " + errors[0])
        self._check_certificate_and_seal(root)
        findings = checker.check(root, now=timezone.now())
        if findings:
            first = findings[0]
            _refuse(first.code, first.message, findings)

    def _check_certificate_and_seal(self, root):
        try:
            public_key, info = _issuer_certificate(sat.certificate_der_from(root))
        except Exception:  # noqa: BLE001 - any unreadable certificate is the same refusal
            _refuse("308", "El certificado del emisor no es válido.")
        if not info.is_csd:
            _refuse("306", "El certificado no es de tipo CSD: corresponde a una e.firma (FIEL).")
        if info.serial_number != root.get("NoCertificado"):
            _refuse("308", "El NoCertificado no corresponde al certificado incluido en el CFDI.")
        emisor = root.find(f"{{{sat.CFDI_NS}}}Emisor")
        if emisor is None or emisor.get("Rfc") != info.rfc:
            _refuse("303", "El RFC del CSD no corresponde al RFC del emisor del comprobante.")
        zone = sat.timezone_of(root.get("LugarExpedicion"))
        fecha = zone.localize(datetime.fromisoformat(root.get("Fecha")))
        if not info.valid_from <= fecha <= info.valid_to:
            _refuse("305", "La fecha de emisión no está dentro de la vigencia del CSD del emisor.")
        try:
            public_key.verify(
                base64.b64decode(root.get("Sello", "")),
                sat.cadena_original(root).encode("utf-8"),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except Exception:  # noqa: BLE001 - InvalidSignature or a malformed base64 sello
            _refuse("302", "El sello del emisor no es válido: no corresponde a la cadena original.")

    # -- stamping ---------------------------------------------------------------------------
    @staticmethod
    def _digest(root) -> str:
        return hashlib.sha256(root.get("Sello", "").encode("ascii")).hexdigest()

    def _previous(self, root) -> StampResult | None:
        stamp = SandboxStamp.objects.filter(sello_digest=self._digest(root)).first()
        if stamp is None:
            return None
        return StampResult(
            xml=bytes(stamp.stamped_xml),
            uuid=stamp.uuid,
            stamped_at=stamp.stamped_at,
            sat_certificate_number=sandbox_certificate_number(),
            code=PREVIOUSLY_STAMPED,
            message="Comprobante timbrado previamente.",
        )

    def _add_stamp(self, root) -> StampResult:
        cer, key = _material()
        number = _certificate_number(cer)
        now = timezone.now().replace(microsecond=0)
        local = now.astimezone(sat.timezone_of(root.get("LugarExpedicion"))).replace(tzinfo=None)
        stamp_uuid = str(uuid.uuid4()).upper()
        tfd = etree.Element(f"{{{sat.TFD_NS}}}TimbreFiscalDigital", nsmap={"tfd": sat.TFD_NS, "xsi": _XSI})
        tfd.set(f"{{{_XSI}}}schemaLocation", _TFD_LOCATION)
        tfd.set("Version", "1.1")
        tfd.set("UUID", stamp_uuid)
        tfd.set("FechaTimbrado", local.isoformat(timespec="seconds"))
        tfd.set("RfcProvCertif", RFC_PROV_CERTIF)
        tfd.set("SelloCFD", root.get("Sello"))
        tfd.set("NoCertificadoSAT", number)
        tfd.set("SelloSAT", "")
        cadena = sat.tfd_cadena_original(tfd)
        signature = key.sign(cadena.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        tfd.set("SelloSAT", base64.b64encode(signature).decode("ascii"))

        complemento = root.find(f"{{{sat.CFDI_NS}}}Complemento")
        if complemento is None:
            complemento = etree.Element(f"{{{sat.CFDI_NS}}}Complemento")
            addenda = root.find(f"{{{sat.CFDI_NS}}}Addenda")
            if addenda is not None:
                addenda.addprevious(complemento)
            else:
                root.append(complemento)
        complemento.append(tfd)
        stamped = sat.to_bytes(root)
        try:
            with _savepoint_if_in_transaction():
                SandboxStamp.objects.create(
                    sello_digest=self._digest(root),
                    uuid=stamp_uuid,
                    issuer_rfc=root.find(f"{{{sat.CFDI_NS}}}Emisor").get("Rfc"),
                    receiver_rfc=root.find(f"{{{sat.CFDI_NS}}}Receptor").get("Rfc"),
                    total=Decimal(root.get("Total")),
                    stamped_xml=stamped,
                    stamped_at=now,
                )
        except IntegrityError:
            # The same CFDI was stamped before (or concurrently): answer as a re-stamp (307).
            previous = self._previous(root)
            if previous:
                return previous
            raise
        return StampResult(xml=stamped, uuid=stamp_uuid, stamped_at=now, sat_certificate_number=number)

    # -- cancellation -----------------------------------------------------------------------
    def cancel(self, request: CancelRequest) -> CancelResult:
        """SAT's cancellation as the sandbox plays it: motive 01 needs the substituting UUID;
        a small, generic-RFC or same-day CFDI is cancelled at once, any other one waits for the
        receiver's answer (``receiver_answers``)."""
        if request.motive not in ("01", "02", "03", "04"):
            _refuse("CA301", "El motivo de cancelación no es válido (01, 02, 03 o 04).")
        if request.motive == "01" and not request.substitute_uuid:
            _refuse("CA302", "El motivo 01 requiere el folio fiscal (UUID) del comprobante que sustituye.")
        if request.motive == "01" and request.substitute_uuid.upper() == request.uuid.upper():
            _refuse("CA303", "El folio que sustituye no puede ser el mismo que se cancela.")
        if request.motive == "01":
            substitute = SandboxStamp.objects.filter(uuid__iexact=request.substitute_uuid).first()
            if substitute is not None and not _relates(bytes(substitute.stamped_xml), request.uuid, "04"):
                _refuse(
                    "CA304",
                    f"El comprobante {request.substitute_uuid.upper()} no sustituye al que se cancela: no lleva "
                    "CfdiRelacionados con TipoRelacion 04 y ese folio fiscal.",
                )
        with transaction.atomic():
            stamp = SandboxStamp.objects.select_for_update().filter(uuid=request.uuid).first()
            if stamp is None or stamp.issuer_rfc != request.issuer_rfc:
                _refuse(
                    "205", "UUID no encontrado: el comprobante no fue timbrado por este PAC para el emisor."
                )
            if stamp.cancellation_status in (CANCEL_ACCEPTED, CANCEL_REQUESTED):
                return self._answer(stamp, "202 Comprobante previamente cancelado o en proceso.")
            immediate = (
                stamp.receiver_rfc in GENERIC_RFCS
                or (stamp.total is not None and stamp.total <= NO_ACCEPTANCE_MAX_TOTAL)
                or timezone.now() - stamp.stamped_at <= NO_ACCEPTANCE_WINDOW
            )
            stamp.cancellation_status = CANCEL_ACCEPTED if immediate else CANCEL_REQUESTED
            stamp.cancellation_motive = request.motive
            stamp.save(update_fields=["cancellation_status", "cancellation_motive"])
        message = (
            "201 Cancelado sin aceptación."
            if immediate
            else "201 En proceso: en espera de la respuesta del receptor."
        )
        return self._answer(stamp, message)

    def cancellation_status(self, request: CancelRequest) -> CancelResult:
        stamp = SandboxStamp.objects.filter(uuid=request.uuid).first()
        if stamp is None or not stamp.cancellation_status:
            _refuse("205", "UUID no encontrado o sin solicitud de cancelación.")
        return self._answer(stamp, "")

    @staticmethod
    def _answer(stamp: SandboxStamp, message: str) -> CancelResult:
        acuse = etree.Element(
            "Acuse", Fecha=timezone.now().isoformat(timespec="seconds"), RfcEmisor=stamp.issuer_rfc
        )
        folio = etree.SubElement(acuse, "Folios")
        etree.SubElement(folio, "UUID").text = stamp.uuid
        etree.SubElement(folio, "EstatusUUID").text = "201"
        etree.SubElement(folio, "Estado").text = stamp.cancellation_status
        return CancelResult(
            status=stamp.cancellation_status,
            message=message,
            acuse=etree.tostring(acuse, xml_declaration=True, encoding="UTF-8"),
        )


def receiver_answers(uuid: str, *, accept: bool) -> None:
    """The receiver's answer to a pending cancellation, as SAT's buzón would record it."""
    updated = SandboxStamp.objects.filter(uuid=uuid, cancellation_status=CANCEL_REQUESTED).update(
        cancellation_status=CANCEL_ACCEPTED if accept else CANCEL_REJECTED
    )
    if not updated:
        raise PACError("205", "No hay una solicitud de cancelación pendiente para ese UUID.")
