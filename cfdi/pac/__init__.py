"""PACs behind one interface. ``get_pac()`` answers the configured one (settings.CFDI_PAC,
"sandbox" by default: the project's own PAC for development, tests and demos)."""

from django.conf import settings

from .base import PAC, PREVIOUSLY_STAMPED, STAMPED, PACError, StampResult

_REGISTRY: dict[str, type] = {}


def register(name: str):
    def decorate(cls):
        _REGISTRY[name] = cls
        cls.name = name
        return cls

    return decorate


def get_pac(name: str | None = None) -> PAC:
    from . import sandbox  # noqa: F401  (registers itself)

    name = name or getattr(settings, "CFDI_PAC", "sandbox")
    try:
        return _REGISTRY[name]()
    except KeyError as exc:
        raise PACError("PAC", f"El PAC «{name}» no está configurado.") from exc


__all__ = ["PAC", "PACError", "StampResult", "STAMPED", "PREVIOUSLY_STAMPED", "get_pac", "register"]
