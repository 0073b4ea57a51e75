"""What a connector is: the engine's side of the contract with one remote system.

A connector reads its source in pages from a cursor and maps each page's records onto the
catalogs through their services (so a synced record obeys the rules of a typed one). It knows
nothing of runs, locks, retries or schedules: ``sync.engine`` owns those.

- ``clean_options(connection)`` validates the connection's options for this kind (Spanish
  messages, ``ValidationError({"options": ...})``) and returns them with defaults filled in.
- ``read_page(cursor)`` returns a ``Page``: the records after ``cursor`` and the cursor after
  them. A source that answers 5xx, times out or sends garbage raises ``SourceUnavailable`` (the
  engine retries with backoff); one that refuses (wrong password, unknown resource) raises
  ``SourceRefused`` (the run fails at once).
- ``write_page(page)`` writes the page (the engine wraps it in one transaction, so a page is
  written whole or not at all, and then advances the cursor) and returns an ``Outcome``: counts
  and events. One bad record is an event in the outcome, never an exception.
- ``after_pages()`` (optional) runs once the last page is written, outside any transaction, for
  what must follow the writes' commit (Wopen reports stamps back); its ``Outcome`` is recorded
  like a page's. It must not raise for one record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

TIMEOUT_MAX_SECONDS = 120


def paging_options(options: dict, errors: list[str], *, page_size: int, page_max: int, timeout: float):
    """(page_size, timeout_seconds) of an HTTP connector's options, the defaults where not given:
    a page of 1 to ``page_max`` records and a timeout of more than 0 and up to 120 seconds. What is
    wrong goes to ``errors`` (Spanish, for ``clean_options``)."""
    try:
        size = int(options.get("page_size", page_size))
        seconds = float(options.get("timeout_seconds", timeout))
    except (TypeError, ValueError):
        size, seconds = 0, 0
    if not 1 <= size <= page_max:
        errors.append(f"El tamaño de página debe estar entre 1 y {page_max}.")
    if not 0 < seconds <= TIMEOUT_MAX_SECONDS:
        errors.append(f"El tiempo de espera debe estar entre 1 y {TIMEOUT_MAX_SECONDS} segundos.")
    return size, seconds


class SourceUnavailable(Exception):
    """The source failed in a way that may pass: 5xx, timeout, a reply that is not its format."""


class SourceRefused(Exception):
    """The source refused the request (credentials, configuration): retrying will not help."""


@dataclass
class Page:
    records: list[Any]
    cursor: str
    has_more: bool


@dataclass
class EventDraft:
    level: str  # "info", "warning" or "error" (Event.Level)
    message: str
    record_key: str = ""
    record_model: str = ""
    record_id: int | None = None


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    unchanged: int = 0
    failed: int = 0
    events: list[EventDraft] = field(default_factory=list)

    COUNTS: ClassVar[tuple[str, ...]] = ("created", "updated", "deactivated", "unchanged", "failed")

    def error(self, message: str, *, key: str = "") -> None:
        self.failed += 1
        self.events.append(EventDraft("error", message, record_key=key))


class Connector:
    """Base class; a connector module subclasses it and registers in ``sync.connectors``."""

    kind: ClassVar[str] = ""

    def __init__(self, connection):
        self.connection = connection

    @classmethod
    def clean_options(cls, connection) -> dict:
        raise NotImplementedError

    def read_page(self, cursor: str) -> Page:
        raise NotImplementedError

    def write_page(self, page: Page) -> Outcome:
        raise NotImplementedError

    def after_pages(self) -> Outcome:
        """Work that follows the pages' commit (calls to the source included); nothing by default."""
        return Outcome()

    def close(self) -> None:
        """Release what ``read_page`` opened (connections, files)."""
