"""Writes of the CFDI engine: install a CSD, issue (build, check, seal, stamp) a CFDI.

Flow of ``issue_cfdi``: build the Comprobante from the description with erp.taxes amounts, run
SAT's rules locally (a document with findings never reaches a PAC), seal it with the company's
CSD, store it as SEALED and commit; then call the PAC outside any transaction (no row locks
held during network calls), and record the stamp in a second transaction.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from erp.errors import DomainError
from erp.models import Company, ExchangeRate

from . import checker, sat
from .certificates import forget_signers, inspect_csd, signer_for
from .description import FiscalDocument, Issuer
from .models import CfdiDocument, Csd
from .pac import PACError, StampResult, get_pac

logger = logging.getLogger(__name__)

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
    csd = Csd.objects.filter(company=company, active=True).first()
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
        findings=[f.as_dict() for f in findings],
    )


@transaction.atomic
def seal_cfdi(
    *, company: Company, document: FiscalDocument, source_model: str = "", source_id: int | None = None
) -> CfdiDocument:
    """Build, check and seal a CFDI and store it as SEALED (not yet stamped)."""
    if document.issuer.rfc != company.rfc:
        raise DomainError("cfdi_emisor_distinto", "El emisor del comprobante no es la empresa.")
    if document.doc_type not in CfdiDocument.Kind.values:
        raise DomainError("cfdi_tipo_invalido", "El tipo de comprobante debe ser I (ingreso) o E (egreso).")
    if not document.concepts:
        raise DomainError("cfdi_sin_conceptos", "El comprobante debe tener al menos un concepto.")
    csd = active_csd(company)
    comprobante, totals = sat.build_comprobante(document)
    root = comprobante.to_xml()
    findings = checker.check(root, now=timezone.now(), reference_rate=_reference_rate(company, document))
    if findings:
        _refuse_findings(findings)
    sat.seal_root(root, signer_for(csd))
    xml = sat.to_bytes(root)
    issued_at = sat.get_timezone(document.lugar_expedicion).localize(comprobante["Fecha"])
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
    )


# -- Stamping -------------------------------------------------------------------------------


def can_stamp(document: CfdiDocument) -> bool:
    return document.status == CfdiDocument.Status.SEALED


def _mark_stamped(*, document_id: int, result: StampResult, pac_name: str) -> CfdiDocument:
    with transaction.atomic():
        document = CfdiDocument.objects.select_for_update().get(pk=document_id)
        if document.status == CfdiDocument.Status.STAMPED:
            return document  # recorded by a concurrent call with the same stamp
        if not can_stamp(document):
            raise DomainError("cfdi_estado", "El CFDI no está en estado de sellado.", status=409)
        document.status = CfdiDocument.Status.STAMPED
        document.xml = result.xml
        document.uuid = result.uuid
        document.stamped_at = result.stamped_at
        document.pac = pac_name
        document.sat_certificate_number = result.sat_certificate_number
        document.last_error_code = ""
        document.last_error_message = ""
        document.save()
    return document


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
    pac = pac or get_pac()
    try:
        result = pac.stamp(bytes(document.xml))
    except PACError as error:
        _record_pac_error(document_id=document.pk, error=error)
        raise DomainError(
            "pac_rechazo",
            f"El PAC rechazó el CFDI: {error.code} {error.message}",
            status=409,
            pac_code=error.code,
            findings=error.findings,
        ) from error
    return _mark_stamped(document_id=document.pk, result=result, pac_name=pac.name)


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


__all__ = [
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
