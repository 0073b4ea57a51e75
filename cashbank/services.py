"""Writes of cash and bank: the collection rules, movements and their cancellation."""

from collections.abc import Iterable, Sequence
from datetime import date as Date
from decimal import Decimal

from django.utils import timezone

from accounting.models import Account, JournalEntry, PaymentRecord
from accounting.services import cancel_entries, post_journal_entry
from erp.errors import DomainError
from erp.models import Currency
from erp.money import quantize, to_decimal
from erp.ownership import refuse_if_owned
from erp.rfc import RFC_PUBLICO_GENERAL, is_valid_rfc, normalize_rfc
from erp.transactions import business_action

from .models import CashBankAccount, CashMovement, PaymentMethod

TRACES_MESSAGE = {
    "collect": (
        "No se puede agregar la factura porque al pagarse de contado requiere que las cajas o bancos "
        "manejen los mismos trazos contables que la factura."
    ),
    "refund": (
        "No se puede agregar la devolución o rebaja porque al pagarse de contado requiere que las cajas o "
        "bancos manejen los mismos trazos contables que la devolución o rebaja."
    ),
}
_DOCUMENT = {"collect": ("la factura", "cobrar en"), "refund": ("la devolución o rebaja", "retirar de")}
PUBLIC_NAME = "PUBLICO EN GENERAL"


def check_collection_accounts(
    *,
    document_currency: Currency,
    accounts: Sequence[CashBankAccount],
    document_is_contable: bool,
    operation: str = "collect",
) -> None:
    """The seed's rules A.1–A.5 for collecting a document (``collect``: invoice, deposits) or paying
    one back (``refund``: return or rebate, withdrawals) with one or several cash/bank accounts.

    National document: national accounts only. Foreign document: national accounts (at the
    exchange rate) or accounts in the same foreign currency. And every account must carry the same
    accounting traces as the document (linked to accounting exactly when the document is).
    """
    if operation not in _DOCUMENT:
        raise ValueError("operation is 'collect' or 'refund'")
    document, verb = _DOCUMENT[operation]
    if not accounts:
        raise DomainError(
            "sin_cajas", f"Indique al menos una caja o banco para {verb.split()[0]} {document}."
        )
    if document_currency.is_national:
        wrong = [a for a in accounts if not a.currency.is_national]
        detail = f"es en moneda nacional y no se puede {verb} cajas o bancos en moneda extranjera"
    else:
        wrong = [a for a in accounts if not a.currency.is_national and a.currency_id != document_currency.pk]
        detail = (
            f"es en {document_currency.code} y no se puede {verb} cajas o bancos en otra moneda extranjera"
        )
    if wrong:
        names = ", ".join(f"{a.code} ({a.currency.code})" for a in wrong)
        raise DomainError(
            "moneda_incompatible",
            f"No se puede agregar {document} porque {detail}: {names}.",
            accounts=[a.code for a in wrong],
        )
    if any(a.linked_to_accounting != document_is_contable for a in accounts):
        raise DomainError("trazos_contables", TRACES_MESSAGE[operation])


def _missing_sat_data(*, account, kind, method, check_number, counterparty_bank, counterparty_account,
                      beneficiary, beneficiary_rfc) -> list[str]:  # fmt: skip
    if method not in (PaymentMethod.CHECK, PaymentMethod.TRANSFER):
        return []
    missing = []
    ours_needed = method == PaymentMethod.TRANSFER or kind == CashMovement.Kind.WITHDRAWAL
    theirs_needed = method == PaymentMethod.TRANSFER or kind == CashMovement.Kind.DEPOSIT
    if method == PaymentMethod.CHECK and not check_number:
        missing.append("número de cheque")
    if theirs_needed and not counterparty_bank:
        missing.append("banco de la contraparte")
    if theirs_needed and not counterparty_account:
        missing.append("cuenta de la contraparte")
    if ours_needed and not account.sat_bank_code:
        missing.append(f"clave SAT del banco de {account.code}")
    if ours_needed and not account.account_number:
        missing.append(f"número de cuenta de {account.code}")
    if not beneficiary:
        missing.append("beneficiario")
    if not is_valid_rfc(beneficiary_rfc):
        missing.append("RFC del beneficiario")
    return missing


def national_amount(movement: CashMovement) -> Decimal:
    """The movement in pesos (for the póliza)."""
    if movement.account.currency.is_national:
        return movement.amount
    if movement.exchange_rate is None:
        raise DomainError(
            "tipo_cambio_requerido",
            f"Indique el tipo de cambio para registrar en la póliza el movimiento de {movement.account.code}.",
        )
    return quantize(movement.amount * movement.exchange_rate)


def payment_record_data(movement: CashMovement) -> dict:
    """The e-accounting record (check, transfer or other method) of a movement, for its póliza line."""
    account = movement.account
    deposit = movement.kind == CashMovement.Kind.DEPOSIT
    data = {
        "date": movement.date,
        "beneficiary": movement.beneficiary or PUBLIC_NAME,
        "rfc": movement.beneficiary_rfc or RFC_PUBLICO_GENERAL,
        "amount": movement.amount,
    }
    if not account.currency.is_national:
        data.update(currency=account.currency.code, exchange_rate=movement.exchange_rate)
    ours = {"bank": account.sat_bank_code, "account": account.account_number, "foreign": ""}
    theirs = {
        "bank": movement.counterparty_bank,
        "account": movement.counterparty_account,
        "foreign": movement.counterparty_bank_foreign,
    }
    origin, dest = (theirs, ours) if deposit else (ours, theirs)
    if movement.method == PaymentMethod.CHECK:
        data.update(
            kind=PaymentRecord.Kind.CHECK,
            check_number=movement.check_number,
            origin_bank=origin["bank"],
            origin_bank_foreign=origin["foreign"],
            origin_account=origin["account"],
        )
    elif movement.method == PaymentMethod.TRANSFER:
        data.update(
            kind=PaymentRecord.Kind.TRANSFER,
            origin_bank=origin["bank"],
            origin_bank_foreign=origin["foreign"],
            origin_account=origin["account"],
            dest_bank=dest["bank"],
            dest_bank_foreign=dest["foreign"],
            dest_account=dest["account"],
        )
    else:
        data.update(kind=PaymentRecord.Kind.OTHER, method=movement.method)
    return data


def cash_journal_line(movement: CashMovement, *, description: str = "") -> dict:
    """The póliza line of a movement on its ledger account, with its e-accounting record.

    Sales builds one póliza for all the movements that collect an invoice with these lines.
    """
    account = movement.account
    amount = national_amount(movement)
    line = {
        "account": account.ledger_account,
        "debit" if movement.kind == CashMovement.Kind.DEPOSIT else "credit": amount,
        "description": description or movement.concept,
        "payments": [payment_record_data(movement)],
    }
    if not account.currency.is_national:
        line.update(
            currency=account.currency, exchange_rate=movement.exchange_rate, foreign_amount=movement.amount
        )
    return line


@business_action
def create_cash_movement(
    *,
    company,
    account: CashBankAccount,
    kind: str,
    date: Date,
    amount,
    method: str,
    concept: str,
    document_currency: Currency | None = None,
    exchange_rate=None,
    check_number: str = "",
    counterparty_bank: str = "",
    counterparty_bank_foreign: str = "",
    counterparty_account: str = "",
    beneficiary: str = "",
    beneficiary_rfc: str = "",
    reference: str = "",
    origin: str = "",
    counterpart_account: Account | None = None,
    user=None,
) -> CashMovement:
    """Deposit into or withdraw from ``account`` ``amount`` expressed in ``document_currency``
    (the account's currency when omitted).

    A foreign-currency document moved through a national account is converted at
    ``exchange_rate``; a national document cannot move through a foreign account, nor a foreign one
    through an account in another foreign currency. With ``counterpart_account`` and an account
    linked to accounting, the movement posts its own póliza (ingresos or egresos) with its
    e-accounting record; callers that group several movements in one póliza use
    ``cash_journal_line`` and ``link_movements_to_entry`` instead.
    """
    if account.company_id != company.pk:
        raise DomainError("caja_invalida", "La caja o banco es de otra empresa.")
    if not account.active:
        raise DomainError("caja_inactiva", f"La caja o banco {account.code} está inactiva.")
    if kind not in CashMovement.Kind.values:
        raise DomainError("movimiento_invalido", "El movimiento es un depósito o un retiro.")
    if method not in PaymentMethod.values:
        raise DomainError("movimiento_invalido", "La forma de pago no es válida.")
    if not concept:
        raise DomainError("movimiento_invalido", "Indique el concepto del movimiento.")
    document_amount = quantize(amount)
    if document_amount <= 0:
        raise DomainError("importe_invalido", "El importe del movimiento debe ser mayor que cero.")
    document_currency = document_currency or account.currency
    rate = to_decimal(exchange_rate) if exchange_rate not in (None, "") else None
    if rate is not None and rate <= 0:
        raise DomainError("tipo_cambio_invalido", "El tipo de cambio debe ser mayor que cero.")
    check_collection_accounts(
        document_currency=document_currency,
        accounts=[account],
        document_is_contable=account.linked_to_accounting,
        operation="collect" if kind == CashMovement.Kind.DEPOSIT else "refund",
    )
    if document_currency.pk == account.currency_id:
        movement_amount = document_amount
    else:  # a foreign document through a national account
        if rate is None:
            raise DomainError(
                "tipo_cambio_requerido",
                f"Indique el tipo de cambio para convertir {document_currency.code} a {account.currency.code}.",
            )
        movement_amount = quantize(document_amount * rate)
        if movement_amount <= 0:
            raise DomainError(
                "importe_invalido",
                f"{document_amount} {document_currency.code} al tipo de cambio {rate} son 0.00 "
                f"{account.currency.code}: el movimiento de {account.code} debe ser mayor que cero.",
            )
    if method in (PaymentMethod.CHECK, PaymentMethod.TRANSFER) and account.kind != CashBankAccount.Kind.BANK:
        raise DomainError(
            "movimiento_invalido", "Los cheques y transferencias se registran en cuentas de banco."
        )
    beneficiary_rfc = normalize_rfc(beneficiary_rfc)
    missing = _missing_sat_data(
        account=account, kind=kind, method=method, check_number=check_number,
        counterparty_bank=counterparty_bank, counterparty_account=counterparty_account,
        beneficiary=beneficiary, beneficiary_rfc=beneficiary_rfc,
    )  # fmt: skip
    if missing:
        raise DomainError(
            "datos_contabilidad_electronica",
            f"Faltan datos para la contabilidad electrónica: {', '.join(missing)}.",
            missing=missing,
        )
    movement = CashMovement.objects.create(
        company=company,
        account=account,
        kind=kind,
        date=date,
        amount=movement_amount,
        document_currency=document_currency,
        document_amount=document_amount,
        exchange_rate=rate,
        method=method,
        check_number=check_number,
        counterparty_bank=counterparty_bank,
        counterparty_bank_foreign=counterparty_bank_foreign,
        counterparty_account=counterparty_account,
        beneficiary=beneficiary,
        beneficiary_rfc=beneficiary_rfc,
        concept=concept[:300],
        reference=reference,
        origin=origin,
        created_by=user,
    )
    if counterpart_account is not None and account.linked_to_accounting:
        cash_line = cash_journal_line(movement)
        side = "credit" if "debit" in cash_line else "debit"
        entry = post_journal_entry(
            company=company,
            kind=JournalEntry.Kind.INCOME if kind == CashMovement.Kind.DEPOSIT else JournalEntry.Kind.EXPENSE,
            date=date,
            concept=concept,
            origin=movement.reference_string,
            lines=[
                cash_line,
                {"account": counterpart_account, side: cash_line.get("debit") or cash_line["credit"]},
            ],
            user=user,
        )
        movement.journal_entry = entry
        movement.save(update_fields=["journal_entry"])
    return movement


def link_movements_to_entry(*, movements: Iterable[CashMovement], entry: JournalEntry) -> None:
    """Point the movements at the one póliza that records them (one UPDATE)."""
    ids = [m.pk for m in movements]
    CashMovement.objects.filter(pk__in=ids).update(journal_entry=entry)
    for movement in movements:
        movement.journal_entry = entry


def can_cancel_movement(movement: CashMovement) -> bool:
    return movement.status == CashMovement.Status.ACTIVE


@business_action
def cancel_cash_movement(*, movement: CashMovement, user=None, by_owner: bool = False) -> CashMovement:
    """Cancel a movement: it leaves the balance, and its póliza (if any) is cancelled. One a
    document wrote is cancelled only by that document (erp.ownership)."""
    movement = (
        CashMovement.objects.select_for_update(of=("self",))
        .select_related("journal_entry")
        .get(pk=movement.pk)
    )
    if not can_cancel_movement(movement):
        raise DomainError("movimiento_cancelado", "El movimiento ya está cancelado.", status=409)
    refuse_if_owned(origin=movement.origin, what="Este movimiento", by_owner=by_owner)
    movement.status = CashMovement.Status.CANCELLED
    movement.cancelled_at = timezone.now()
    movement.cancelled_by = user
    movement.save(update_fields=["status", "cancelled_at", "cancelled_by"])
    cancel_entries(entries=[movement.journal_entry], user=user)
    return movement
