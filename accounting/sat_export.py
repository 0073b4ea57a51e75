"""SAT electronic accounting (Contabilidad electrónica 1.3): chart of accounts, trial balance
and the entries of a month, built with satcfdi and checked against the XSDs satcfdi ships."""

from functools import cache
from pathlib import Path

import satcfdi
from django.db.models import Prefetch
from lxml import etree
from satcfdi.create.contabilidad import BCE13, PLZ13, catalogocuentas13

from erp.errors import DomainError
from erp.rfc import RFC_PUBLICO_GENERAL

from .models import Account, JournalEntry, JournalLine, PaymentRecord
from .selectors import month_bounds, trial_balance

_SCHEMA_DIR = Path(satcfdi.__file__).parent / "transform/schemas/www.sat.gob.mx/esquemas/ContabilidadE/1_3"
SCHEMAS = {
    "catalogo": "CatalogoCuentas/CatalogoCuentas_1_3.xsd",
    "balanza": "BalanzaComprobacion/BalanzaComprobacion_1_3.xsd",
    "polizas": "PolizasPeriodo/PolizasPeriodo_1_3.xsd",
}
REQUEST_TYPES = {"AF", "FC", "DE", "CO"}


@cache
def _schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(_SCHEMA_DIR / SCHEMAS[name])))


def schema_errors(xml: bytes, name: str) -> list[str]:
    """SAT schema violations of an export ("catalogo", "balanza" or "polizas"); empty when valid."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    schema = _schema(name)
    if schema.validate(etree.fromstring(xml, parser)):
        return []
    return [f"{e.line}: {e.message}" for e in schema.error_log]


def _checked(xml: bytes, name: str) -> bytes:
    errors = schema_errors(xml, name)
    if errors:
        raise DomainError("xml_invalido", "El XML no cumple el esquema del SAT.", errors=errors[:20])
    return xml


def _period(year: int, month: int) -> str:
    if not 1 <= month <= 12 or not 2015 <= year <= 2099:
        raise DomainError("periodo_invalido", "Indique un mes (1 a 12) y un año entre 2015 y 2099.")
    return f"{month:02d}"


def chart_of_accounts_xml(*, company, year: int, month: int) -> bytes:
    mes = _period(year, month)
    accounts = list(
        Account.objects.filter(company=company, active=True).select_related("parent").order_by("code")
    )
    if not accounts:
        raise DomainError("catalogo_vacio", "La empresa no tiene cuentas en su catálogo.")
    levels: dict[int, int] = {}
    for account in accounts:  # ordered by code, so parents usually come first; fall back to walking
        levels[account.pk] = levels[account.parent_id] + 1 if account.parent_id in levels else account.level
    ctas = [
        catalogocuentas13.Ctas(
            cod_agrup=a.sat_grouping_code,
            num_cta=a.code,
            desc=a.name[:400],
            nivel=levels[a.pk],
            natur=a.nature,
            sub_cta_de=a.parent.code if a.parent_id else None,
        )
        for a in accounts
    ]
    catalog = catalogocuentas13.Catalogo(rfc=company.rfc, mes=mes, anio=year, ctas=ctas)
    return _checked(catalog.xml_bytes(), "catalogo")


def trial_balance_xml(*, company, year: int, month: int, send_type: str = "N", last_change=None) -> bytes:
    mes = _period(year, month)
    if send_type not in {"N", "C"}:
        raise DomainError("tipo_envio_invalido", "El tipo de envío es N (normal) o C (complementaria).")
    if send_type == "C" and last_change is None:
        raise DomainError(
            "tipo_envio_invalido", "La balanza complementaria requiere la fecha de modificación."
        )
    date_from, date_to = month_bounds(year, month)
    balance = trial_balance(company=company, date_from=date_from, date_to=date_to)
    ctas = [
        BCE13.Ctas(num_cta=r.code, saldo_ini=r.opening, debe=r.debit, haber=r.credit, saldo_fin=r.closing)
        for r in balance.rows
        if r.account.active
    ]
    document = BCE13.Balanza(
        rfc=company.rfc, mes=mes, anio=year, tipo_envio=send_type, ctas=ctas, fecha_mod_bal=last_change
    )
    return _checked(document.xml_bytes(), "balanza")


def _payment_nodes(record: PaymentRecord) -> tuple[str, object]:
    rfc = record.rfc or RFC_PUBLICO_GENERAL
    foreign = {"moneda": record.currency or None, "tip_camb": record.exchange_rate}
    if record.kind == PaymentRecord.Kind.CHECK:
        return "cheque", PLZ13.Cheque(
            num=record.check_number,
            ban_emis_nal=record.origin_bank,
            ban_emis_ext=record.origin_bank_foreign or None,
            cta_ori=record.origin_account,
            fecha=record.date,
            benef=record.beneficiary[:300],
            rfc=rfc,
            monto=record.amount,
            **foreign,
        )
    if record.kind == PaymentRecord.Kind.TRANSFER:
        return "transferencia", PLZ13.Transferencia(
            cta_ori=record.origin_account or None,
            banco_ori_nal=record.origin_bank,
            banco_ori_ext=record.origin_bank_foreign or None,
            cta_dest=record.dest_account,
            banco_dest_nal=record.dest_bank,
            banco_dest_ext=record.dest_bank_foreign or None,
            fecha=record.date,
            benef=record.beneficiary[:300],
            rfc=rfc,
            monto=record.amount,
            **foreign,
        )
    return "otr_metodo_pago", PLZ13.OtrMetodoPago(
        met_pago_pol=record.method,
        fecha=record.date,
        benef=record.beneficiary[:300],
        rfc=rfc,
        monto=record.amount,
        **foreign,
    )


def journal_entries_xml(
    *,
    company,
    year: int,
    month: int,
    request_type: str = "AF",
    order_number: str = "",
    procedure_number: str = "",
) -> bytes:
    """Pólizas del periodo. AF and FC need the order number; DE and CO the procedure number."""
    mes = _period(year, month)
    if request_type not in REQUEST_TYPES:
        raise DomainError("tipo_solicitud_invalido", "El tipo de solicitud es AF, FC, DE o CO.")
    if request_type in {"AF", "FC"} and not order_number:
        raise DomainError("tipo_solicitud_invalido", "Para AF y FC indique el número de orden.")
    if request_type in {"DE", "CO"} and not procedure_number:
        raise DomainError("tipo_solicitud_invalido", "Para DE y CO indique el número de trámite.")
    entries = list(
        JournalEntry.objects.filter(
            company=company, year=year, month=month, status=JournalEntry.Status.POSTED
        )
        .order_by("date", "kind", "number")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=JournalLine.objects.select_related("account")
                .prefetch_related("payments")
                .order_by("position"),
            )
        )
    )
    if not entries:
        raise DomainError("sin_polizas", "No hay pólizas registradas en el periodo.")
    polizas = []
    for entry in entries:
        transacciones = []
        for line in entry.lines.all():
            nodes: dict[str, list] = {}
            for record in line.payments.all():
                name, node = _payment_nodes(record)
                nodes.setdefault(name, []).append(node)
            transacciones.append(
                PLZ13.Transaccion(
                    num_cta=line.account.code,
                    des_cta=line.account.name[:100],
                    concepto=(line.description or entry.concept)[:200],
                    debe=line.debit,
                    haber=line.credit,
                    **nodes,
                )
            )
        polizas.append(
            PLZ13.Poliza(
                num_un_iden_pol=entry.sat_id,
                fecha=entry.date,
                concepto=entry.concept[:300],
                transaccion=transacciones,
            )
        )
    document = PLZ13.Polizas(
        rfc=company.rfc,
        mes=mes,
        anio=year,
        tipo_solicitud=request_type,
        poliza=polizas,
        num_orden=order_number or None,
        num_tramite=procedure_number or None,
    )
    return _checked(document.xml_bytes(), "polizas")
