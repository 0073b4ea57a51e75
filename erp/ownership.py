"""Rows a document writes belong to it.

A posted document (an invoice, and as they land its credit notes and payments) writes rows in
the apps below it: a receivable, cash movements, a stock movement, pólizas. Each carries the
document's owner link in its ``origin``, "Módulo|ID|Entidad||". Those rows are undone only by
the document's own cancellation, which checks the seed's rules as a whole; cancelling one of
them on its own would leave the document "Generada" without its books.

The apps that own rows (they sit above cashbank, inventory and accounting) register their
module key here once, with how to name a document; the cancel services of the rows call
``refuse_if_owned`` unless the owner itself is cancelling (``by_owner=True``). A new kind of
document gets the rule by writing the same owner link and registering its key.
"""

from collections.abc import Callable
from dataclasses import dataclass

from .errors import DomainError


@dataclass(frozen=True)
class Owner:
    noun: str  # "la factura": what the user cancels instead
    label: str  # "la factura A-12"


# module key ("VFAC") -> pk -> Owner, or None when there is no such document.
_OWNERS: dict[str, Callable[[int], Owner | None]] = {}


def register_owner(module: str, describe: Callable[[int], Owner | None]) -> None:
    _OWNERS[module] = describe


def owner_of(origin: str) -> Owner | None:
    """The document that wrote a row with this ``origin``, if a registered one did."""
    module, _, rest = (origin or "").partition("|")
    describe = _OWNERS.get(module)
    pk = rest.partition("|")[0]
    if describe is None or not pk.isdigit():
        return None
    return describe(int(pk))


def refuse_if_owned(*, origin: str, what: str, by_owner: bool = False) -> None:
    """``what`` ("Este movimiento", "Esta póliza") cannot be cancelled apart from its document."""
    if by_owner:
        return
    owner = owner_of(origin)
    if owner is not None:
        raise DomainError(
            "pertenece_a_documento",
            f"{what} pertenece a {owner.label}; cancélelo desde {owner.noun}.",
            status=409,
            owner=owner.label,
        )


def validate_free_origin(origin: str) -> str:
    """An origin typed through the API or the admin cannot claim to be a document's owner link
    (the row would then be tied to a document that never wrote it)."""
    module = (origin or "").partition("|")[0]
    if module in _OWNERS:
        raise DomainError(
            "origen_reservado",
            f"El origen «{origin[:40]}» es el de un documento ({module}); solo el documento lo asigna.",
        )
    return origin
