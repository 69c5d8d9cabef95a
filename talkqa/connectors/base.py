"""The small interface every connector offers to the sync and to the tests.

A connector talks to one resource of one system (for example Exact Online
``crm/Contacts``) over HTTP. It exchanges *canonical records*: plain dicts keyed
by the spec's property paths, nested for dotted paths (``MailAddress.City`` is
``{"MailAddress": {"City": ...}}``), with values already decoded by the
resource's field codecs (a date is a :class:`datetime.date`, never a vendor
string). Wire formats never leak out of a connector.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

Record = dict[str, Any]


class ConnectorError(Exception):
    """A request failed for good (after any retries). The message never contains a secret."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class ValidationFailed(ConnectorError):
    """The remote system rejected the record's content (4xx validation / success=false)."""


class NotFound(ConnectorError):
    """The record does not exist."""


class AuthFailed(ConnectorError):
    """Credentials or tokens were rejected."""


class OutcomeUnknown(ConnectorError):
    """A request that is not safe to repeat was sent, but no answer came back (dropped connection,
    read timeout, 5xx): the remote system may or may not have applied it. Connectors catch this and
    check (e.g. through the external ref) instead of blindly retrying."""


from talkqa.fields import FieldSpec  # noqa: E402  (re-exported: connectors describe their fields with it)

__all__ = ["FieldSpec"]


class UnsupportedEntity(LookupError):
    """No connector exists for this (system, entity); the message lists the supported ones."""


@dataclass(frozen=True)
class Change:
    """One record seen by ``changed_since``: its id, canonical content, and its change watermark."""

    id: str
    record: Record
    watermark: str


@dataclass
class Page:
    changes: list[Change] = field(default_factory=list)
    watermark: str | None = None  # the watermark to pass next time


class ResourceConnector(Protocol):
    """One resource (entity) of one system."""

    system: str  # slug, e.g. "powerofficego"
    entity: str  # the spec's entity name, e.g. "Contactperson"
    fields: Mapping[str, FieldSpec]  # by canonical path

    def changed_since(self, watermark: str | None) -> Page:
        """Every record changed after ``watermark`` (None: all), following every page."""

    def iter_all(self) -> Iterator[Change]:
        """Every record of the resource."""

    def get(self, record_id: str) -> Record:
        """One record by id (raises NotFound)."""

    def create(self, record: Record, *, external_ref: str | None = None) -> str:
        """Create and return the new id. ``external_ref`` is stored in a field the
        resource offers for it (used to find the record again after a lost response)."""

    def update(self, record_id: str, changes: Record) -> None:
        """Change only the given canonical paths."""

    def find_by_external_ref(self, external_ref: str) -> str | None:
        """The id of the record created with ``external_ref``, if any."""


class Deletable(Protocol):
    """Optional: a connector whose API can delete a record (a sandbox run removes what it created,
    docs/sandboxes.md). ``watermark_at`` (also optional) is the watermark of a moment (epoch seconds),
    so a listing can start there instead of at the beginning of time."""

    def delete(self, record_id: str) -> None:
        """Delete one record (raises NotFound, or ValidationFailed when the system refuses)."""
