"""PACs behind one interface. ``get_pac(company=...)`` answers the company's PAC account (a real
PAC through satcfdi's adapters, ``pac.providers``) and, without one, the configured default
(settings.CFDI_PAC, "sandbox": the project's own PAC for development, tests and demos)."""

from django.conf import settings

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

_REGISTRY: dict[str, type] = {}


def register(name: str):
    def decorate(cls):
        _REGISTRY[name] = cls
        cls.name = name
        return cls

    return decorate


def get_pac(name: str | None = None, *, company=None) -> PAC:
    from ..models import PacAccount
    from . import providers, sandbox  # noqa: F401  (sandbox registers itself)

    if name is None and company is not None:
        account = PacAccount.objects.select_related("company").filter(company=company, active=True).first()
        if account is not None and account.provider != PacAccount.Provider.SANDBOX:
            return providers.SatcfdiPAC(account)
        if account is not None:
            name = account.provider
    name = name or getattr(settings, "CFDI_PAC", "sandbox")
    try:
        return _REGISTRY[name]()
    except KeyError as exc:
        raise PACError("PAC", f"El PAC «{name}» no está configurado.") from exc


__all__ = [
    "PAC",
    "PACError",
    "PACUnavailable",
    "StampResult",
    "CancelRequest",
    "CancelResult",
    "STAMPED",
    "PREVIOUSLY_STAMPED",
    "CANCEL_REQUESTED",
    "CANCEL_ACCEPTED",
    "CANCEL_REJECTED",
    "get_pac",
    "register",
]
