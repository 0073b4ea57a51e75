"""Writes of the accounting app: variables check, posting and cancelling journal entries."""

from collections.abc import Iterable
from datetime import date as Date
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from erp.db import insert_family
from erp.errors import DomainError
from erp.money import ZERO, quantize, to_decimal
from erp.ownership import refuse_if_owned
from erp.rfc import is_valid_rfc, normalize_rfc
from erp.transactions import business_action

from .models import (
    Account,
    AccountingVariable,
    ClosedPeriod,
    JournalEntry,
    JournalLine,
    JournalSequence,
    PaymentRecord,
)
from .variables import Variable

PAYMENT_FIELDS = {
    "kind", "date", "beneficiary", "rfc", "amount", "check_number", "origin_bank",
    "origin_bank_foreign", "origin_account", "dest_bank", "dest_bank_foreign", "dest_account",
    "method", "currency", "exchange_rate",
}  # fmt: skip


def _join_alternatives(items: list[str]) -> str:
    """ "X", "X o Y", "X, Y o Z" — the seed's way of naming several accounts."""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} o {items[-1]}"


EXCHANGE_LOSS, EXCHANGE_GAIN = "701.01", "702.01"  # SAT's código agrupador: pérdida y utilidad cambiaria


def account_by_sat_code(company, code: str) -> Account | None:
    """The company's first postable account under SAT's código agrupador ``code``."""
    return (
        Account.objects.filter(company=company, sat_grouping_code=code, postable=True)
        .order_by("code")
        .first()
    )


def exchange_difference_line(*, company, difference: Decimal, what: str) -> dict | None:
    """The line that balances a póliza whose ``difference`` (its debits less its credits) comes from
    amounts carried at two exchange rates: a gain (702.01) is credited, a loss (701.01) debited.
    ``what`` names the document in the error ("El pago")."""
    if not difference:
        return None
    code = EXCHANGE_GAIN if difference > 0 else EXCHANGE_LOSS
    account = account_by_sat_code(company, code)
    if account is None:
        raise DomainError(
            "cuenta_cambiaria_faltante",
            f"{what} deja una diferencia cambiaria de {difference:,.2f}: agregue al catálogo una cuenta "
            f"afectable con código agrupador {code} (utilidad o pérdida cambiaria).",
        )
    side = "credit" if difference > 0 else "debit"
    return {"account": account, side: abs(difference), "description": "Diferencia cambiaria"}


def require_variables(*, company, names: Iterable[str]) -> dict[str, Account]:
    """The accounts the named variables point at, or fail naming every missing one.

    Sales checks all its variables whether or not the entity is linked to accounting (seed).
    One query, whatever the number of names.
    """
    names = list(dict.fromkeys(str(n) for n in names))
    rows = AccountingVariable.objects.filter(company=company, name__in=names).select_related("account")
    found = {row.name: row.account for row in rows}
    missing = [n for n in names if found.get(n) is None or not found[n].postable or not found[n].active]
    if missing:
        labels = [Variable(n).label if n in Variable.values else n for n in missing]
        raise DomainError(
            "variable_sin_cuenta",
            f"La cuenta {_join_alternatives(labels)} no existe o no se ha enlazado",
            variables=missing,
        )
    return {n: found[n] for n in names}


def _closed_period(date: Date) -> DomainError:
    return DomainError(
        "periodo_cerrado",
        f"El periodo {date.year}-{date.month:02d} está cerrado: no admite pólizas ni cancelaciones.",
        status=409,
    )


def check_period_open(*, company, date: Date) -> None:
    if ClosedPeriod.objects.filter(company=company, year=date.year, month=date.month).exists():
        raise _closed_period(date)


# One statement checks that the month is open, creates its counter or bumps it, and reads the
# number back: posting a póliza is the hot path of every sale. The counter's row lock is held
# until commit, so concurrent postings of one kind and month queue here, briefly. Postgres and
# SQLite (3.35+) both speak INSERT … SELECT … ON CONFLICT … RETURNING; the ORM cannot say it.
_SEQUENCES = JournalSequence._meta.db_table
_TAKE_NUMBER_SQL = f"""
    INSERT INTO {_SEQUENCES} (company_id, kind, year, month, last_number)
    SELECT %s, %s, %s, %s, 1
    WHERE NOT EXISTS (
        SELECT 1 FROM {ClosedPeriod._meta.db_table}
        WHERE company_id = %s AND year = %s AND month = %s
    )
    ON CONFLICT (company_id, kind, year, month)
    DO UPDATE SET last_number = {_SEQUENCES}.last_number + 1
    RETURNING last_number
"""


def _number_params(*, company, kind: str, date: Date) -> list:
    return [company.pk, kind, date.year, date.month, company.pk, date.year, date.month]


def _next_number(*, company, kind: str, date: Date) -> int:
    """Take the next entry number of the kind and month, refusing a closed month."""
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_NUMBER_SQL, _number_params(company=company, kind=kind, date=date))
        row = cursor.fetchone()
    if row is None:
        raise _closed_period(date)
    return row[0]


def _clean_payment(raw: dict, *, position: int) -> dict:
    unknown = set(raw) - PAYMENT_FIELDS
    if unknown:
        raise DomainError(
            "registro_invalido",
            f"Partida {position}: datos desconocidos {sorted(unknown)}.",
            fields=sorted(unknown),
        )
    data = dict(raw)
    data["amount"] = quantize(data.get("amount", 0))
    data["rfc"] = normalize_rfc(data.get("rfc", ""))
    kind = data.get("kind")
    if kind not in PaymentRecord.Kind.values:
        raise DomainError("registro_invalido", f"Partida {position}: tipo de registro de pago inválido.")
    if data["amount"] <= 0:
        raise DomainError(
            "registro_invalido", f"Partida {position}: el monto del registro de pago debe ser positivo."
        )
    if not data.get("beneficiary") or not is_valid_rfc(data["rfc"]):
        raise DomainError(
            "registro_invalido",
            f"Partida {position}: el registro de pago requiere beneficiario y un RFC válido.",
        )
    required = {
        PaymentRecord.Kind.CHECK: ["check_number", "origin_bank", "origin_account"],
        PaymentRecord.Kind.TRANSFER: ["origin_bank", "dest_bank", "dest_account"],
        PaymentRecord.Kind.OTHER: ["method"],
    }[kind]
    absent = [f for f in required if not data.get(f)]
    if absent:
        raise DomainError(
            "registro_invalido",
            f"Partida {position}: faltan datos del registro de pago ({', '.join(absent)}).",
            fields=absent,
        )
    for bank in ("origin_bank", "dest_bank"):
        value = data.get(bank) or ""
        if value and not (len(value) == 3 and value.isdigit()):
            raise DomainError(
                "registro_invalido", f"Partida {position}: la clave de banco {value} no es válida."
            )
    return data


@business_action
def post_journal_entry(
    *,
    company,
    kind: str,
    date: Date,
    concept: str,
    lines: list[dict],
    origin: str = "",
    user=None,
) -> JournalEntry:
    """Post a balanced póliza on postable accounts of the company, numbered per kind and month.

    ``lines``: dicts with ``account`` (an Account), ``debit`` or ``credit``, and optionally
    ``description``, ``currency``, ``exchange_rate``, ``foreign_amount`` and ``payments`` (the
    e-accounting records, dicts of PaymentRecord fields). A fixed number of queries, whatever the
    number of lines.
    """
    if kind not in JournalEntry.Kind.values:
        raise DomainError("poliza_invalida", "El tipo de póliza debe ser ingresos, egresos o diario.")
    if not concept:
        raise DomainError("poliza_invalida", "Indique el concepto de la póliza.")
    if not lines:
        raise DomainError("poliza_invalida", "La póliza no tiene partidas.")
    built, payments = [], []
    total_debit = total_credit = ZERO
    for position, raw in enumerate(lines, start=1):
        account = raw["account"]
        debit = quantize(raw.get("debit") or 0)
        credit = quantize(raw.get("credit") or 0)
        if account.company_id != company.pk:
            raise DomainError(
                "cuenta_invalida", f"Partida {position}: la cuenta {account.code} es de otra empresa."
            )
        if not account.postable or not account.active:
            raise DomainError(
                "cuenta_no_afectable",
                f"Partida {position}: la cuenta {account.code} {account.name} no es afectable o está inactiva.",
                account=account.code,
            )
        if debit < 0 or credit < 0 or (debit > 0) == (credit > 0):
            raise DomainError(
                "partida_invalida",
                f"Partida {position}: lleva un cargo o un abono positivo, no ambos ni ninguno.",
            )
        total_debit += debit
        total_credit += credit
        rate = raw.get("exchange_rate")
        foreign = raw.get("foreign_amount")
        built.append(
            JournalLine(
                position=position,
                account=account,
                debit=debit,
                credit=credit,
                description=(raw.get("description") or "")[:200],
                currency=raw.get("currency"),
                exchange_rate=to_decimal(rate) if rate is not None else None,
                foreign_amount=quantize(foreign) if foreign is not None else None,
            )
        )
        payments.append([_clean_payment(p, position=position) for p in raw.get("payments") or []])
    if total_debit != total_credit:
        raise DomainError(
            "poliza_descuadrada",
            f"La póliza no cuadra: cargos {total_debit:,.2f} y abonos {total_credit:,.2f}.",
            debit=str(total_debit),
            credit=str(total_credit),
        )
    entry = JournalEntry(
        company=company,
        kind=kind,
        date=date,
        year=date.year,
        month=date.month,
        concept=concept[:300],
        origin=origin,
        total=total_debit,
        created_by=user,
    )
    for line in built:
        line.entry = entry
    # Postgres: the number, the entry and its lines in one statement (erp.db); elsewhere, three.
    written = insert_family(
        entry,
        [("entry_id", built)],
        prelude=_TAKE_NUMBER_SQL,
        prelude_params=_number_params(company=company, kind=kind, date=date),
        computed={"number": "prelude.last_number"},
    )
    if written is False:
        raise _closed_period(date)
    if written is None:
        entry.number = _next_number(company=company, kind=kind, date=date)
        entry.save(force_insert=True)
        for line in built:
            line.entry = entry
        JournalLine.objects.bulk_create(built)
    records = [
        PaymentRecord(line=line, **data)
        for line, group in zip(built, payments, strict=True)
        for data in group
    ]
    if records:
        PaymentRecord.objects.bulk_create(records)
    return entry


def can_cancel_entry(entry: JournalEntry) -> bool:
    return entry.status == JournalEntry.Status.POSTED


@business_action
def cancel_journal_entry(*, entry: JournalEntry, user=None, by_owner: bool = False) -> JournalEntry:
    """Cancel a póliza; one a document wrote is cancelled only by that document (erp.ownership)."""
    entry = JournalEntry.objects.select_for_update().get(pk=entry.pk)
    if not can_cancel_entry(entry):
        raise DomainError("poliza_cancelada", "La póliza ya está cancelada.", status=409)
    refuse_if_owned(origin=entry.origin, what="Esta póliza", by_owner=by_owner)
    check_period_open(company=entry.company_id, date=entry.date)
    entry.status = JournalEntry.Status.CANCELLED
    entry.cancelled_at = timezone.now()
    entry.cancelled_by = user
    entry.save(update_fields=["status", "cancelled_at", "cancelled_by"])
    return entry


def cancel_entries(*, entries: Iterable[JournalEntry | None], user=None) -> None:
    """Cancel the posted ones among ``entries`` (callers undoing a document use this)."""
    for entry in entries:
        if entry is not None and can_cancel_entry(entry):
            cancel_journal_entry(entry=entry, user=user, by_owner=True)


@business_action
def cancel_entries_for_origin(*, company, origin: str, user=None) -> int:
    """Cancel every posted entry a document wrote (seed: cancelling an invoice cancels all the
    pólizas tied to it). Returns how many were cancelled."""
    entries = list(
        JournalEntry.objects.select_for_update()
        .filter(company=company, origin=origin, status=JournalEntry.Status.POSTED)
        .order_by("pk")
    )
    cancel_entries(entries=entries, user=user)
    return len(entries)


@business_action
def close_period(*, company, year: int, month: int) -> ClosedPeriod:
    period, _ = ClosedPeriod.objects.get_or_create(company=company, year=year, month=month)
    return period


def signed(debit: Decimal, credit: Decimal, nature: str) -> Decimal:
    """A balance in the account's own nature (debtor: debit − credit; creditor: the reverse)."""
    return debit - credit if nature == Account.Nature.DEBIT else credit - debit
