"""Writes of the CFDI engine: install a CSD, issue (build, check, seal, stamp) a CFDI.

Flow of ``issue_cfdi``: build the Comprobante from the description with erp.taxes amounts, run
SAT's rules locally (a document with findings never reaches a PAC), seal it with the company's
CSD, store it as SEALED and commit; then call the PAC outside any transaction (no row locks
held during network calls), and record the stamp in a second transaction.
"""

from __future__ import annotations

import logging
import re
import smtplib
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from erp.errors import DomainError
from erp.models import Company, ExchangeRate

from . import checker, pdf, sat
from .certificates import forget_signers, inspect_csd, signer_for
from .description import FiscalDocument, Issuer, PaymentComplement
from .mail import cfdi_message, split_addresses
from .models import CfdiDocument, CfdiSettings, Csd
from .pac import (
    CANCEL_ACCEPTED,
    CANCEL_REQUESTED,
    CancelRequest,
    CancelResult,
    PACError,
    PACUnavailable,
    StampResult,
    get_pac,
)

logger = logging.getLogger(__name__)


class PacUnreachable(DomainError):
    """The PAC could not be reached or did not answer: nothing was refused, asking again later
    is safe (the same sealed CFDI is answered with its first stamp). Tasks retry this one."""

    def __init__(self, message: str):
        super().__init__("pac_no_disponible", message, status=503)


MAX_UPLOAD_BYTES = 64 * 1024


def issuer_for(company: Company, *, place_of_issue: str = "") -> Issuer:
    return Issuer(
        rfc=company.rfc,
        name=company.legal_name,
        regimen_fiscal=company.regimen_fiscal,
        postal_code=place_of_issue or company.postal_code,
    )


# -- CSD -------------------------------------------------------------------------------------


def install_csd(*, company: Company, cer: bytes, key: bytes, password: str) -> Csd:
    """Check and store a CSD for ``company``; it becomes the one in use. Nothing is stored when
    the files, the password, the RFC or the validity are wrong (DomainError in Spanish)."""
    if not cer or not key:
        raise DomainError("csd_archivos_faltantes", "Suba el certificado (.cer) y la llave privada (.key).")
    if len(cer) > MAX_UPLOAD_BYTES or len(key) > MAX_UPLOAD_BYTES:
        raise DomainError("csd_archivo_grande", "Los archivos del CSD no pueden exceder 64 KB.")
    if not password:
        raise DomainError("csd_contrasena_faltante", "Indique la contraseña de la llave privada.")
    info = inspect_csd(cer=bytes(cer), key=bytes(key), password=password, rfc=company.rfc, now=timezone.now())
    with transaction.atomic():
        if Csd.objects.filter(company=company, serial_number=info.serial_number).exists():
            raise DomainError(
                "csd_duplicado",
                f"El certificado {info.serial_number} ya está cargado para esta empresa.",
                status=409,
            )
        Csd.objects.select_for_update().filter(company=company, active=True).update(active=False)
        csd = Csd.objects.create(
            company=company,
            certificate=bytes(cer),
            private_key=bytes(key),
            password=password,
            serial_number=info.serial_number,
            rfc=info.rfc,
            holder_name=info.name[:254],
            valid_from=info.valid_from,
            valid_to=info.valid_to,
            active=True,
        )
    logger.info("CSD %s installed for company %s", csd.serial_number, company.rfc)
    return csd


def active_csd(company: Company) -> Csd:
    # The key and password stay encrypted in the row: signer_for decrypts them once per process.
    # get(), not first(): one_active_csd_per_company allows one row at most, and first() would
    # order by Csd's Meta ordering ("company" first), a join with the company table and an
    # ORDER BY on every document sealed.
    try:
        csd = Csd.objects.defer("private_key", "password").get(company=company, active=True)
    except Csd.DoesNotExist:
        csd = None
    if csd is None:
        raise DomainError(
            "csd_faltante", "La empresa no tiene un certificado de sello digital (CSD) cargado.", status=409
        )
    if csd.valid_to < timezone.now():
        raise DomainError(
            "csd_vencido",
            f"El CSD {csd.serial_number} venció el {csd.valid_to:%d/%m/%Y}; cargue uno vigente.",
            status=409,
        )
    return csd


# -- Building and checking ------------------------------------------------------------------


def _reference_rate(company: Company, document: FiscalDocument) -> Decimal | None:
    if document.currency in ("MXN", "XXX") or document.exchange_rate is None:
        return None
    day = timezone.localdate(document.issued_at) if document.issued_at else timezone.localdate()
    row = (
        ExchangeRate.objects.filter(company=company, currency__code=document.currency, date__lte=day)
        .order_by("-date")
        .first()
    )
    return row.rate if row else None


def check_document(*, company: Company, document: FiscalDocument) -> list[checker.Finding]:
    """SAT rule findings of the CFDI this description would produce (nothing is stored)."""
    comprobante, _ = sat.build_comprobante(document)
    root = comprobante.to_xml()
    return checker.check(root, now=timezone.now(), reference_rate=_reference_rate(company, document))


def _refuse_findings(findings: list[checker.Finding]):
    first = findings[0]
    raise DomainError(
        "cfdi_reglas_sat",
        f"El CFDI no cumple las reglas del SAT: {first.code} {first.message}",
        sat_code=first.code,
        findings=[f.as_dict() for f in findings],
    )


def refuse_what_sat_would(*, company: Company, document: FiscalDocument) -> None:
    """Every rule the checker knows, run on the description before its source is committed (a
    posting checks here before it takes its consecutive): raises the first SAT code with its
    Spanish message and every finding in the details; writes nothing."""
    findings = check_document(company=company, document=document)
    if findings:
        _refuse_findings(findings)


def seal_cfdi(
    *,
    company: Company,
    document: FiscalDocument | PaymentComplement,
    source_model: str = "",
    source_id: int | None = None,
) -> CfdiDocument:
    """Build, check and seal a CFDI and store it as SEALED (not yet stamped).

    No transaction block of its own: its one write, the final INSERT, is atomic by itself, and
    BEGIN and COMMIT would be two more round trips per document on the stamping hot path. Wrap
    it in transaction.atomic() if a second write ever joins it."""
    if document.issuer.rfc != company.rfc:
        raise DomainError("cfdi_emisor_distinto", "El emisor del comprobante no es la empresa.")
    if document.doc_type not in CfdiDocument.Kind.values:
        raise DomainError(
            "cfdi_tipo_invalido", "El tipo de comprobante debe ser I (ingreso), E (egreso) o P (pago)."
        )
    if document.doc_type != CfdiDocument.Kind.PAGO and not document.concepts:
        raise DomainError("cfdi_sin_conceptos", "El comprobante debe tener al menos un concepto.")
    csd = active_csd(company)
    comprobante, totals = sat.build_comprobante(document)
    root = comprobante.to_xml()
    findings = checker.check(root, now=timezone.now(), reference_rate=_reference_rate(company, document))
    if findings:
        _refuse_findings(findings)
    sat.seal_root(root, signer_for(csd))
    xml = sat.to_bytes(root)
    issued_at = sat.timezone_of(document.lugar_expedicion).localize(comprobante["Fecha"])
    if not csd.valid_from <= issued_at <= csd.valid_to:
        raise DomainError(
            "cfdi_fuera_de_vigencia",
            f"La fecha del comprobante no está dentro de la vigencia del CSD {csd.serial_number} "
            f"({csd.valid_from:%d/%m/%Y} a {csd.valid_to:%d/%m/%Y}).",
        )
    return CfdiDocument.objects.create(
        company=company,
        kind=document.doc_type,
        status=CfdiDocument.Status.SEALED,
        series=document.series,
        folio=document.folio,
        issued_at=issued_at,
        issuer_rfc=document.issuer.rfc,
        receiver_rfc=document.receiver.rfc,
        receiver_name=document.receiver.name[:300],
        currency=document.currency,
        exchange_rate=document.exchange_rate,
        subtotal=totals.importe,
        discount=totals.discount,
        total_transferred=totals.total_transferred or 0,
        total_withheld=totals.total_withheld or 0,
        total=totals.total,
        csd=csd,
        certificate_number=csd.serial_number,
        xml=xml,
        source_model=source_model,
        source_id=source_id,
        receiver_email=document.receiver.email[:254],
    )


# -- Stamping -------------------------------------------------------------------------------


def can_stamp(document: CfdiDocument) -> bool:
    return document.status == CfdiDocument.Status.SEALED


def _mark_stamped(*, document: CfdiDocument, result: StampResult, pac_name: str) -> CfdiDocument:
    """Record the stamp: one conditional UPDATE (SEALED → STAMPED) of the stamp's fields only, so
    a concurrent write to the document (its PDF, its mail) is never overwritten. A single
    statement is atomic by itself, so it needs no lock, no transaction block and no re-read."""
    stamp = {
        "status": CfdiDocument.Status.STAMPED,
        "xml": result.xml,
        "uuid": result.uuid,
        "stamped_at": result.stamped_at,
        "pac": pac_name,
        "sat_certificate_number": result.sat_certificate_number,
        "last_error_code": "",
        "last_error_message": "",
    }
    if CfdiDocument.objects.filter(pk=document.pk, status=CfdiDocument.Status.SEALED).update(**stamp):
        for name, value in stamp.items():
            setattr(document, name, value)
        return document
    current = CfdiDocument.objects.get(pk=document.pk)
    if current.status == CfdiDocument.Status.STAMPED:
        return current  # recorded by a concurrent call with the same stamp
    raise DomainError("cfdi_estado", "El CFDI no está en estado de sellado.", status=409)


def _record_pac_error(*, document_id: int, error: PACError) -> None:
    with transaction.atomic():
        CfdiDocument.objects.filter(pk=document_id, status=CfdiDocument.Status.SEALED).update(
            last_error_code=error.code[:20], last_error_message=error.message
        )


def stamp_cfdi(*, document: CfdiDocument, pac=None) -> CfdiDocument:
    """Send a sealed CFDI to the PAC and record the stamp. Safe to call twice: a stamped document
    is returned as is, and the PAC answers a re-stamp with the same stamp (307)."""
    if document.status == CfdiDocument.Status.STAMPED:
        return document
    if not can_stamp(document):
        raise DomainError("cfdi_estado", "El CFDI no está en estado de sellado.", status=409)
    pac = pac or get_pac(company=document.company)
    try:
        result = pac.stamp(bytes(document.xml))
    except PACUnavailable as error:
        _record_pac_error(document_id=document.pk, error=error)
        raise PacUnreachable(error.message) from error
    except PACError as error:
        _record_pac_error(document_id=document.pk, error=error)
        raise DomainError(
            "pac_rechazo",
            f"El PAC rechazó el CFDI: {error.code} {error.message}",
            status=409,
            pac_code=error.code,
            findings=error.findings,
        ) from error
    return _mark_stamped(document=document, result=result, pac_name=pac.name)


def issue_cfdi(
    *,
    company: Company,
    document: FiscalDocument,
    source_model: str = "",
    source_id: int | None = None,
    pac=None,
) -> CfdiDocument:
    """Build, check, seal and stamp: the stored document, STAMPED, or a DomainError."""
    sealed = seal_cfdi(company=company, document=document, source_model=source_model, source_id=source_id)
    return stamp_cfdi(document=sealed, pac=pac)


# -- PDF --------------------------------------------------------------------------------------


def _settings_of(company) -> CfdiSettings | None:
    return CfdiSettings.objects.filter(company=company).first()


def pdf_bytes(document: CfdiDocument) -> bytes:
    """Render the PDF of a stamped CFDI from its XML (nothing is stored)."""
    if document.status != CfdiDocument.Status.STAMPED:
        raise DomainError("cfdi_sin_timbre", "El CFDI aún no está timbrado: no tiene PDF.", status=409)
    xml = CfdiDocument.objects.values_list("xml", flat=True).get(pk=document.pk)
    options = _settings_of(document.company)
    logo, logo_name = None, ""
    if options is not None and options.logo:
        try:
            with options.logo.open("rb") as handle:
                logo, logo_name = handle.read(), options.logo.name
        except OSError:  # a lost logo file must not stop the invoice from printing
            logger.warning(
                "Logo %s of company %s not found; printing without it", options.logo.name, document.company_id
            )
    return pdf.render_pdf(
        bytes(xml),
        logo=logo,
        logo_name=logo_name,
        cancelled=document.cancellation_status == CfdiDocument.Cancellation.ACCEPTED,
    )


def render_cfdi_pdf(*, document: CfdiDocument, force: bool = False) -> CfdiDocument:
    """Render and store the PDF of a stamped CFDI. Safe to repeat: a stored PDF is kept unless
    ``force`` (e.g. after a cancellation, to print it as CANCELADO). Rendered without locks."""
    document = CfdiDocument.objects.select_related("company").defer("xml").get(pk=document.pk)
    if document.pdf and not force:
        return document
    content = pdf_bytes(document)
    with transaction.atomic():
        locked = CfdiDocument.objects.select_for_update().defer("xml").get(pk=document.pk)
        if locked.pdf and not force:
            return locked
        locked.pdf.save(document.pdf_filename, ContentFile(content), save=False)
        locked.save(update_fields=["pdf"])
    return locked


# -- E-mail -----------------------------------------------------------------------------------


class MailUnavailable(DomainError):
    """The mail server could not be reached or refused the connection: retry later."""

    def __init__(self, message: str):
        super().__init__("correo_no_disponible", message, status=503)


NO_EMAIL_MESSAGE = "El cliente no tiene correo electrónico registrado: capture uno en su ficha para enviarle el XML y el PDF."


def _record_delivery_error(document_id: int, message: str) -> None:
    CfdiDocument.objects.filter(pk=document_id).update(delivery_error=message[:1000])


def send_cfdi(*, document: CfdiDocument, to: list[str] | None = None, force: bool = False) -> CfdiDocument:
    """E-mail the XML and PDF to ``to`` (or the receiver's addresses). Without ``force`` a CFDI
    already sent is not sent again (the pipeline may run twice). No lock is held while the
    message travels; the sending is recorded afterwards."""
    document = CfdiDocument.objects.select_related("company").defer("xml").get(pk=document.pk)
    if document.status != CfdiDocument.Status.STAMPED:
        raise DomainError(
            "cfdi_sin_timbre", "El CFDI aún no está timbrado: no hay nada que enviar.", status=409
        )
    recipients = to or split_addresses(document.receiver_email)
    if not recipients:
        _record_delivery_error(document.pk, NO_EMAIL_MESSAGE)
        raise DomainError("cliente_sin_correo", NO_EMAIL_MESSAGE, status=409)
    if document.emailed_at and not force:
        return document
    if not document.pdf:
        document = render_cfdi_pdf(document=document)
    with document.pdf.open("rb") as handle:
        pdf_content = handle.read()
    xml = bytes(CfdiDocument.objects.values_list("xml", flat=True).get(pk=document.pk))
    options = _settings_of(document.company)
    message = cfdi_message(
        document=document,
        issuer_name=document.company.legal_name,
        xml=xml,
        pdf=pdf_content,
        to=recipients,
        note=options.email_note if options else "",
    )
    try:
        message.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as error:
        text = "El servidor de correo rechazó la dirección del cliente: " + ", ".join(error.recipients)
        _record_delivery_error(document.pk, text)
        raise DomainError("correo_rechazado", text, status=409) from error
    except (smtplib.SMTPException, OSError) as error:
        text = f"No se pudo enviar el correo (servidor no disponible): {error}"
        _record_delivery_error(document.pk, text)
        raise MailUnavailable(text) from error
    with transaction.atomic():
        CfdiDocument.objects.filter(pk=document.pk).update(
            emailed_at=timezone.now(), emailed_to=", ".join(recipients)[:254], delivery_error=""
        )
    logger.info("CFDI %s sent to %d address(es)", document.uuid, len(recipients))
    return CfdiDocument.objects.defer("xml").get(pk=document.pk)


def wants_email(document: CfdiDocument) -> bool:
    options = _settings_of(document.company)
    return options is None or options.send_by_email


# -- Cancellation -----------------------------------------------------------------------------

_UUID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")


def can_request_cancellation(document: CfdiDocument) -> bool:
    return document.status == CfdiDocument.Status.STAMPED and document.cancellation_status in (
        CfdiDocument.Cancellation.NONE,
        CfdiDocument.Cancellation.REJECTED,
    )


def _check_motive(document: CfdiDocument, motive: str, substitute_uuid: str) -> str:
    if motive not in CfdiDocument.Motive.values:
        raise DomainError(
            "cancelacion_motivo", "Indique el motivo de cancelación del SAT: 01, 02, 03 o 04.", motive=motive
        )
    substitute_uuid = (substitute_uuid or "").strip().upper()
    if motive == CfdiDocument.Motive.WITH_RELATION:
        if not substitute_uuid:
            raise DomainError(
                "cancelacion_sin_sustituto",
                "El motivo 01 (comprobante emitido con errores con relación) requiere el folio fiscal "
                "(UUID) del CFDI que sustituye al que se cancela; emita primero el CFDI sustituto.",
            )
        if not _UUID.match(substitute_uuid):
            raise DomainError(
                "cancelacion_uuid_invalido", f"«{substitute_uuid}» no es un folio fiscal (UUID) válido."
            )
        if substitute_uuid == (document.uuid or "").upper():
            raise DomainError(
                "cancelacion_uuid_invalido", "El CFDI sustituto no puede ser el mismo que se cancela."
            )
        return substitute_uuid
    if substitute_uuid:
        raise DomainError(
            "cancelacion_sustituto_no_aplica",
            "Solo el motivo 01 lleva el folio fiscal del CFDI que sustituye.",
        )
    return ""


def _cancel_request(document: CfdiDocument, motive: str, substitute_uuid: str) -> CancelRequest:
    xml = bytes(CfdiDocument.objects.values_list("xml", flat=True).get(pk=document.pk))
    return CancelRequest(
        xml=xml,
        uuid=document.uuid,
        issuer_rfc=document.issuer_rfc,
        receiver_rfc=document.receiver_rfc,
        total=str(document.total),
        motive=motive,
        substitute_uuid=substitute_uuid,
        signer=signer_for(document.csd),
    )


def _pac_call(operation, request):
    try:
        return operation(request)
    except PACUnavailable as error:
        raise PacUnreachable(error.message) from error
    except PACError as error:
        raise DomainError(
            "pac_rechazo_cancelacion",
            f"El PAC rechazó la cancelación: {error.code} {error.message}",
            status=409,
            pac_code=error.code,
        ) from error


def _record_cancellation(document_id: int, result: CancelResult, *, motive: str = "", substitute: str = ""):
    with transaction.atomic():
        document = CfdiDocument.objects.select_for_update().defer("xml").get(pk=document_id)
        now = timezone.now()
        if motive:
            document.cancellation_motive = motive
            document.substitute_uuid = substitute
            document.cancellation_requested_at = now
        document.cancellation_status = result.status
        document.cancellation_answered_at = now if result.status != CANCEL_REQUESTED else None
        if result.acuse:
            document.cancellation_acuse = result.acuse
        document.save(
            update_fields=[
                "cancellation_status", "cancellation_motive", "substitute_uuid", "cancellation_requested_at",
                "cancellation_answered_at", "cancellation_acuse",
            ]
        )  # fmt: skip
    return document


def validate_cancellation(*, document: CfdiDocument, motive: str, substitute_uuid: str = "") -> str:
    """The checks ``cancel_cfdi`` makes before calling the PAC, without calling it: use them
    inside a transaction (e.g. a sales cancellation) and ask the PAC after commit. Returns the
    normalised substitute UUID; raises DomainError in Spanish."""
    substitute = _check_motive(document, motive, substitute_uuid)
    if document.cancellation_status not in (
        CANCEL_ACCEPTED,
        CANCEL_REQUESTED,
    ) and not can_request_cancellation(document):
        raise DomainError(
            "cfdi_sin_timbre", "El CFDI no está timbrado: no hay nada que cancelar ante el SAT.", status=409
        )
    return substitute


def cancel_cfdi(*, document: CfdiDocument, motive: str, substitute_uuid: str = "", pac=None) -> CfdiDocument:
    """Ask SAT, through the company's PAC, to cancel a stamped CFDI with SAT's ``motive``
    ("01" with ``substitute_uuid``, "02", "03", "04"). The answer is recorded as
    ``cancellation_status``: accepted (cancelled), requested (the receiver must answer) or, later,
    rejected. The stamped XML is never touched. Safe to repeat: a CFDI cancelled or awaiting
    the receiver is returned as is. Refusals are DomainError (Spanish); an unreachable PAC is
    ``PacUnreachable`` (retry later)."""
    substitute = _check_motive(document, motive, substitute_uuid)
    with transaction.atomic():
        locked = (
            CfdiDocument.objects.select_for_update().select_related("csd").defer("xml").get(pk=document.pk)
        )
        if locked.cancellation_status in (CANCEL_ACCEPTED, CANCEL_REQUESTED):
            return locked
        if not can_request_cancellation(locked):
            raise DomainError(
                "cfdi_sin_timbre",
                "El CFDI no está timbrado: no hay nada que cancelar ante el SAT.",
                status=409,
            )
    pac = pac or get_pac(company=locked.company)
    result = _pac_call(pac.cancel, _cancel_request(locked, motive, substitute))
    recorded = _record_cancellation(locked.pk, result, motive=motive, substitute=substitute)
    logger.info("CFDI %s cancellation %s (motive %s)", recorded.uuid, recorded.cancellation_status, motive)
    return _reprint_if_cancelled(recorded)


def _reprint_if_cancelled(document: CfdiDocument) -> CfdiDocument:
    """A cancelled CFDI's stored PDF is printed again, marked CANCELADO (the XML stays as is)."""
    if document.cancellation_status == CANCEL_ACCEPTED and document.pdf:
        return render_cfdi_pdf(document=document, force=True)
    return document


def refresh_cancellation(*, document: CfdiDocument, pac=None) -> CfdiDocument:
    """Ask the PAC how a requested cancellation stands (the receiver accepts or rejects it)."""
    document = CfdiDocument.objects.select_related("csd", "company").defer("xml").get(pk=document.pk)
    if document.cancellation_status != CANCEL_REQUESTED:
        return document
    pac = pac or get_pac(company=document.company)
    request = _cancel_request(document, document.cancellation_motive, document.substitute_uuid)
    result = _pac_call(pac.cancellation_status, request)
    if result.status == CANCEL_REQUESTED:
        return document
    return _reprint_if_cancelled(_record_cancellation(document.pk, result))


__all__ = [
    "PacUnreachable",
    "MailUnavailable",
    "render_cfdi_pdf",
    "pdf_bytes",
    "send_cfdi",
    "wants_email",
    "cancel_cfdi",
    "validate_cancellation",
    "refresh_cancellation",
    "can_request_cancellation",
    "install_csd",
    "active_csd",
    "check_document",
    "seal_cfdi",
    "stamp_cfdi",
    "issue_cfdi",
    "can_stamp",
    "issuer_for",
    "forget_signers",
]
