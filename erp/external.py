"""Fields another system owns: read-only in the admin once a row came from it.

A sync connector whose source is the master of a catalog (Aspel SAE for products and customers:
the seed recommends editing them in SAE only) registers here, once, which fields of which model
it owns for a given row. The admin of the catalog (an app below ``sync``) asks ``owned_fields``
and shows those fields read-only with a notice naming the system, without importing the sync app.
"""

from collections.abc import Callable

from django.contrib import messages
from rest_framework import serializers

# model label ("inventory.product") -> obj -> (system name, fields) or None
_OWNERS: dict[str, list[Callable[[object], tuple[str, list[str]] | None]]] = {}


def register_owned_fields(
    model_label: str, describe: Callable[[object], tuple[str, list[str]] | None]
) -> None:
    _OWNERS.setdefault(model_label, []).append(describe)


def owned_fields(obj) -> tuple[str, list[str]]:
    """The system that owns fields of ``obj`` and those fields; ("", []) when none does."""
    if obj is None or obj.pk is None:
        return "", []
    for describe in _OWNERS.get(obj._meta.label_lower, []):
        found = describe(obj)
        if found:
            return found
    return "", []


def refuse_owned_changes(instance, attrs: dict) -> None:
    """For the API: a change to a field another system owns is refused (400), naming it."""
    system, owned = owned_fields(instance)
    errors = {
        name: f"Este dato lo administra {system}: edítelo en {system}; llega con la sincronización."
        for name in owned
        if name in attrs and attrs[name] != getattr(instance, name)
    }
    if errors:
        raise serializers.ValidationError(errors)


class ExternallyOwnedAdminMixin:
    """For a catalog's ModelAdmin: the owned fields read-only, and a notice on the change form."""

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        _, owned = owned_fields(obj)
        return fields + [f for f in owned if f not in fields]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        system, owned = owned_fields(obj)
        if owned and request.method == "GET":
            messages.warning(
                request,
                f"Este registro viene de {system}: sus datos ({', '.join(str(obj._meta.get_field(f).verbose_name) for f in owned)}) "
                f"se editan en {system} y llegan con la sincronización.",
            )
        return super().change_view(request, object_id, form_url, extra_context)
