"""The shared rule for catalogs that may be linked to accounting through one ledger account."""

from django.core.exceptions import ValidationError


def check_ledger_link(instance, *, flag: str, account_field: str, label: str) -> None:
    """A linked row needs a postable account of its own company; an unlinked one needs none."""
    account = getattr(instance, account_field)
    if getattr(instance, flag):
        if account is None:
            raise ValidationError({account_field: f"Indique la {label} para enlazar a contabilidad."})
        if account.company_id != instance.company_id:
            raise ValidationError({account_field: "La cuenta contable es de otra empresa."})
        if not account.postable:
            raise ValidationError({account_field: "La cuenta contable debe ser afectable."})
    elif account is not None:
        raise ValidationError(
            {account_field: "Solo se indica cuenta contable cuando se enlaza a la contabilidad."}
        )
