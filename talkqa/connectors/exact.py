"""Exact Online ``crm/Contacts`` connector ("Contacts").

Canonical records use the API's PascalCase names (``City``, ``BirthDate``, ``Email``, ``FirstName``,
``LastName``, ``Phone``, ``Country``, ``Notes``); ``BirthDate`` is a :class:`datetime.date`.
The external ref is stored in ``Notes`` (a free-text field the mapping does not use) and found again
with ``$filter=Notes eq '<ref>'``.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from talkqa.connectors.base import Change, ConnectorError, FieldSpec, NotFound, Page, Record
from talkqa.connectors.codecs import EXACT_DATE, TEXT, CodecError, parse_exact_datetime, parse_timestamp
from talkqa.connectors.http import SystemClient, origin_of
from talkqa.connectors.mapping import FieldMap, create_once, handed_out, mapper_for, odata_string
from talkqa.systems.exact.fields import EXACT_CONTACT_FIELDS

SYSTEM = "exact"
_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class ExactContactsConnector:
    """Exact Online CRM contacts of one division.

    * Division: the configured one, else ``GET current/Me?$select=CurrentDivision`` (once).
    * Listing: ``$filter=Modified gt datetime'...'`` with ``$select`` of the mapped fields, following
      ``__next`` sequentially (60 a page); ``__next`` must stay on the configured host (the bearer
      token is never sent elsewhere).
    * Watermarks are ``Modified`` as ISO text with milliseconds. The filter literal has no zone;
      ``filter_offset_minutes`` says how far the server's naive datetimes are ahead of UTC (0 here).
    * Create: POST, 201 with the record. Update: PUT of only the changed properties (204).
    * ``find_by_external_ref``: ``$filter=Notes eq '<ref>'`` (the simulator supports it; whether the
      real API filters on ``Notes`` is UNCONFIRMED; the result is checked client-side either way).
    """

    system = SYSTEM
    entity = "Contacts"
    fields: Mapping[str, FieldSpec] = EXACT_CONTACT_FIELDS
    external_ref_field = "Notes"
    page_size = 60  # Exact's own (the server pages listings; clients cannot ask for more)

    def __init__(self, client: SystemClient, api_url: str, *, division: int | None = None,
                 filter_offset_minutes: int = 0, watermark_lag: float = 0.0) -> None:
        self.http = client
        self.watermark_lag = watermark_lag
        self.api = api_url.rstrip("/")
        self._division = division
        self.filter_offset_minutes = filter_offset_minutes
        self.mapper = mapper_for(type(self), self.entity, self.fields, lambda: [
            FieldMap(p, p, EXACT_DATE if spec.kind == "date" else TEXT, writable=not spec.read_only)
            for p, spec in self.fields.items()])
        self._select = ",".join(["ID", "Modified", *self.mapper.wire_names()])

    def __repr__(self) -> str:
        return f"ExactContactsConnector({self.api!r}, division={self._division})"

    @property
    def division(self) -> int:
        if self._division is None:
            resp = self.http.request("GET", f"{self.api}/current/Me", params={"$select": "CurrentDivision"})
            try:
                self._division = int(_results(self.http.json(resp))[0]["CurrentDivision"])
            except (LookupError, TypeError, ValueError):
                raise ConnectorError(f"{SYSTEM}: GET /api/v1/current/Me: no CurrentDivision in the answer") from None
        return self._division

    @property
    def _contacts(self) -> str:
        return f"{self.api}/{self.division}/crm/Contacts"

    # -- reading ---------------------------------------------------------------------------------
    def changed_since(self, watermark: str | None) -> Page:
        """Changes after ``watermark`` (see :func:`~talkqa.connectors.mapping.handed_out` for the lag)."""
        started = self.http.clock.now()
        page = Page(watermark=watermark)
        since = _parse_watermark(watermark) if watermark else None
        params: dict[str, Any] = {"$select": self._select}
        if since is not None:
            local = since + timedelta(minutes=self.filter_offset_minutes)
            params["$filter"] = f"Modified gt datetime'{local.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}'"
        best: int | None = None
        for raw in self._pages(params):
            change, modified = self._change(raw)
            if since is not None and modified <= since:
                continue  # the server filter is trusted, but not blindly
            page.changes.append(change)
            best = _ticks(modified) if best is None else max(best, _ticks(modified))
        base = _ticks(since) if since is not None else None
        out = handed_out(best, base, started, self.watermark_lag)
        if out is not None and out != base:
            page.watermark = _format_watermark(_EPOCH + timedelta(microseconds=out // 10))
        return page

    def iter_all(self) -> Iterator[Change]:
        for raw in self._pages({"$select": self._select}):
            yield self._change(raw)[0]

    def _change(self, raw: Mapping[str, Any]) -> tuple[Change, datetime]:
        modified = _decode_modified(raw.get("Modified"))
        return Change(str(raw["ID"]), self.mapper.decode(raw), _format_watermark(modified)), modified

    def _pages(self, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        url: str | None = self._contacts
        first_params: Mapping[str, Any] | None = params
        origin = origin_of(self.api)
        while url:
            resp = self.http.request("GET", url, params=first_params)
            body = self.http.json(resp)
            yield from _results(body)
            nxt = (body.get("d") or {}).get("__next") if isinstance(body.get("d"), dict) else None
            if nxt and origin_of(nxt) != origin:
                raise ConnectorError(f"{SYSTEM}: __next points to another host; not followed")
            url, first_params = nxt, None

    def get(self, record_id: str) -> Record:
        resp = self.http.request("GET", self._one(record_id), params={"$select": self._select})
        rows = _results(self.http.json(resp))
        if not rows:
            raise NotFound(f"{SYSTEM}: GET crm/Contacts: no contact {record_id}", status=404)
        return self.mapper.decode(rows[0])

    # -- writing ---------------------------------------------------------------------------------
    #: the name a sync gives a contact when its document maps neither first nor last name
    UNNAMED = "(unnamed)"

    def complete_for_create(self, record: Record) -> Record:
        """Exact refuses a contact with neither first nor last name ("Provide at least first name or
        last name"): a document that maps neither gets :attr:`UNNAMED` as the last name."""
        if record.get("FirstName") or record.get("LastName"):
            return record
        return {**record, "LastName": self.UNNAMED}

    def create(self, record: Record, *, external_ref: str | None = None) -> str:
        body = self.mapper.encode(record)
        if external_ref is not None:
            body["Notes"] = external_ref
        url = self._contacts

        def post() -> str:
            resp = self.http.request("POST", url, json_body=body, headers={"Prefer": "return=representation"})
            rows = _results(self.http.json(resp))
            if not rows or "ID" not in rows[0]:
                raise ConnectorError(f"{SYSTEM}: POST crm/Contacts: the answer has no ID", status=resp.status_code)
            return str(rows[0]["ID"])

        find = None
        if external_ref is not None:
            ref = external_ref

            def find() -> str | None:
                return self.find_by_external_ref(ref)

        return create_once(post, find, f"{SYSTEM}: POST crm/Contacts")

    def update(self, record_id: str, changes: Record) -> None:
        body = self.mapper.encode(changes)
        if body:
            self.http.request("PUT", self._one(record_id), json_body=body)

    def delete(self, record_id: str) -> None:
        """``DELETE crm/Contacts(guid'...')`` (204)."""
        self.http.request("DELETE", self._one(record_id))

    def watermark_at(self, moment: float) -> str:
        """The watermark of ``moment`` (epoch seconds): changes after it are listed."""
        return _format_watermark(datetime.fromtimestamp(moment, UTC))

    def find_by_external_ref(self, external_ref: str) -> str | None:
        params = {"$filter": f"Notes eq {odata_string(external_ref)}", "$select": "ID,Notes"}
        for raw in self._pages(params):
            if raw.get("Notes") == external_ref:
                return str(raw["ID"])
        return None

    def _one(self, record_id: str) -> str:
        if not _GUID_RE.match(str(record_id)):
            raise NotFound(f"{SYSTEM}: {record_id!r} is not a contact ID (a GUID)")
        return f"{self._contacts}(guid'{record_id}')"


def _results(body: Any) -> list[dict[str, Any]]:
    """``{"d": {"results": [...]}}``, ``{"d": {...}}`` or ``{"d": [...]}`` -> list of records."""
    d = body.get("d") if isinstance(body, dict) else None
    if isinstance(d, list):
        return d
    if isinstance(d, dict):
        if isinstance(d.get("results"), list):
            return d["results"]
        return [d]
    return []


def _decode_modified(value: Any) -> datetime:
    """``Modified`` (``/Date(ms)/``, ISO tolerated) as a naive-UTC-compatible aware datetime."""
    if not value:
        return datetime(1970, 1, 1, tzinfo=UTC)
    try:
        moment = parse_exact_datetime(value) if str(value).startswith("/Date(") else parse_timestamp(value)
    except CodecError as exc:
        raise ConnectorError(f"{SYSTEM}: unreadable Modified value ({exc})") from None
    return moment.astimezone(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ticks(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1) * 10


def _format_watermark(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _parse_watermark(watermark: str) -> datetime:
    try:
        return parse_timestamp(watermark).astimezone(UTC)
    except CodecError:
        raise ValueError(f"not a watermark of this connector: {watermark!r}") from None
