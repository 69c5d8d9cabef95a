"""PowerOffice Go connectors: v1 contact persons ("Contactperson") and v2 person suppliers
("Suppliers person").

Canonical records use the wire names (v1 camelCase, v2 PascalCase with ``MailAddress`` nested);
dates are :class:`datetime.date`. The external ref lives in v1 ``externalCode`` and in v2
``ExternalImportReference``.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from talkqa.connectors.base import (
    Change,
    ConnectorError,
    FieldSpec,
    NotFound,
    Page,
    Record,
    ValidationFailed,
)
from talkqa.connectors.codecs import ISO_DATE, PO_V1_DATE, TEXT, CodecError, format_ticks, get_path, ticks, unflatten
from talkqa.connectors.http import Response, SystemClient, error_detail, path_of
from talkqa.connectors.mapping import FieldMap, create_once, handed_out, mapper_for, odata_string
from talkqa.systems.powerofficego.fields import POWEROFFICE_CONTACTPERSON_FIELDS, POWEROFFICE_SUPPLIER_FIELDS

SYSTEM = "powerofficego"
PARENT_KINDS = ("Customer", "Supplier")
_ID_RE = re.compile(r"^(Customer|Supplier)/(\d+)/(\d+)$")
_PARENT_RE = re.compile(r"^(Customer|Supplier)[:/](\d+)$")


def _watermark_ticks(watermark: str | None) -> int | None:
    if watermark is None:
        return None
    try:
        return ticks(watermark)
    except CodecError:
        raise ValueError(f"not a watermark of this connector: {watermark!r}") from None


# ================================================================================================
# v1: Contactperson
# ================================================================================================

class ContactPersonV1Connector:
    """PowerOffice Go v1 contact persons of every customer and supplier.

    * Record ids are opaque strings ``"<Customer|Supplier>/<parentId>/<id>"``.
    * Listing: all parents via ``GET /Customer`` and ``GET /Supplier`` (paged by ``$skip``/``$top``),
      then each parent's ``GET /{kind}/{parent}/Contact/`` with
      ``$filter=LastChanged gt DateTime'...'``. The filter is sent with millisecond precision, rounded
      down, and records at or before the watermark's full 7-digit value are dropped client-side, so
      nothing is missed and nothing is repeated. Cost per poll: 2 + parents requests at least.
    * Create needs a parent: the ``parent=`` argument (``"Customer:12"``) wins, else the connector's
      ``default_parent`` (config ``TALKQA_POWEROFFICE_V1_PARENT``); without either, ValueError.
    * Update is GET, merge, POST with ``id`` (v1 POST replaces the whole record). Between the GET and
      the POST a concurrent edit of the same record is overwritten (v1 has no ETag).
    * ``success: false`` (HTTP 200) raises :class:`ValidationFailed`.
    * ``find_by_external_ref`` asks every parent (``$filter=ExternalCode eq '...'``, checked
      client-side too): 2 + parents requests. After a lost create only the known parent is asked.
    """

    system = SYSTEM
    entity = "Contactperson"
    fields: Mapping[str, FieldSpec] = POWEROFFICE_CONTACTPERSON_FIELDS
    external_ref_field = "externalCode"

    def __init__(
        self,
        client: SystemClient,
        base_url: str,
        *,
        default_parent: str | None = None,
        page_size: int = 5000,
        parent_page_size: int = 50_000,
        watermark_lag: float = 0.0,
    ) -> None:
        self.http = client
        self.watermark_lag = watermark_lag
        self.base = base_url.rstrip("/")
        self.default_parent = _parse_parent(default_parent) if default_parent else None
        self.page_size = page_size
        self.parent_page_size = parent_page_size
        self.mapper = mapper_for(type(self), self.entity, self.fields, lambda: [
            FieldMap(path, path, PO_V1_DATE if spec.kind == "date" else TEXT) for path, spec in self.fields.items()])

    def __repr__(self) -> str:
        return f"ContactPersonV1Connector({self.base!r})"

    # -- reading ---------------------------------------------------------------------------------
    def changed_since(self, watermark: str | None) -> Page:
        """Changes after ``watermark`` (see :func:`~talkqa.connectors.mapping.handed_out` for the lag)."""
        since = _watermark_ticks(watermark)
        started = self.http.clock.now()
        page = Page(watermark=watermark)
        best: int | None = None
        for change, t in self._changes(since):
            page.changes.append(change)
            best = t if best is None else max(best, t)
        out = handed_out(best, since, started, self.watermark_lag)
        if out is not None and out != since:
            page.watermark = format_ticks(out)
        return page

    def iter_all(self) -> Iterator[Change]:
        for change, _ in self._changes(None):
            yield change

    def _changes(self, since: int | None) -> Iterator[tuple[Change, int]]:
        flt = None
        if since is not None:
            flt = f"LastChanged gt DateTime'{format_ticks(since - since % 10_000, 3)}'"
        for kind in PARENT_KINDS:
            for parent in self._parents(kind):
                for raw in self._paged(f"{self.base}/{kind}/{parent}/Contact/", flt, self.page_size):
                    stamp = raw.get("lastChanged")
                    t = ticks(stamp) if stamp else 0
                    if since is not None and t <= since:
                        continue
                    rid = f"{kind}/{parent}/{raw['id']}"
                    yield Change(rid, self.mapper.decode(raw), stamp or ""), t

    def _parents(self, kind: str) -> list[int]:
        """Parties that can have contact persons: PowerOffice keeps them on company contacts only, so
        a party marked ``isPerson`` is skipped (when the list says; otherwise every party is asked)."""
        parties = self._paged(f"{self.base}/{kind}", None, self.parent_page_size)
        return [int(p["id"]) for p in parties if not p.get("isPerson")]

    def _paged(self, url: str, flt: str | None, size: int) -> Iterator[dict[str, Any]]:
        skip = 0
        while True:
            params: dict[str, Any] = {"$skip": skip, "$top": size}
            if flt:
                params["$filter"] = flt
            body = self._envelope(self.http.request("GET", url, params=params, api="v1"), "GET", url)
            rows = body.get("data") or []
            yield from rows
            skip += len(rows)
            total = body.get("count")
            if not rows or len(rows) < size or (isinstance(total, int) and skip >= total):
                return

    def get(self, record_id: str) -> Record:
        return self.mapper.decode(self._get_raw(record_id))

    def _get_raw(self, record_id: str) -> dict[str, Any]:
        kind, parent, cid = _parse_id(record_id)
        url = f"{self.base}/{kind}/{parent}/Contact/{cid}/"
        body = self._envelope(self.http.request("GET", url, api="v1"), "GET", url, missing_is_404=True)
        data = body.get("data")
        if not isinstance(data, dict):
            raise NotFound(f"{SYSTEM}: GET {path_of(url)}: no such contact person", status=404)
        return data

    # -- writing ---------------------------------------------------------------------------------
    #: the name a sync gives a contact person when its document maps no first or last name
    UNNAMED = "(unnamed)"

    def complete_for_create(self, record: Record) -> Record:
        """v1 requires firstName and lastName on create: a document that maps neither (or only one) gets
        :attr:`UNNAMED` for what is missing."""
        missing = {k: self.UNNAMED for k in ("firstName", "lastName") if not record.get(k)}
        return {**record, **missing} if missing else record

    def create(self, record: Record, *, external_ref: str | None = None, parent: str | None = None) -> str:
        kind, parent_id = _parse_parent(parent) if parent else (self.default_parent or (None, None))
        if kind is None:
            raise ValueError("Contactperson: creating needs a parent: pass parent='Customer:<id>' or "
                             "configure TALKQA_POWEROFFICE_V1_PARENT")
        body = self.mapper.encode(record)
        body.pop("id", None)
        if external_ref is not None:
            body["externalCode"] = external_ref
        url = f"{self.base}/{kind}/{parent_id}/Contact/"

        def post() -> str:
            resp = self.http.request("POST", url, json_body=body, api="v1")
            data = self._envelope(resp, "POST", url).get("data") or {}
            if "id" not in data:
                raise ConnectorError(f"{SYSTEM}: POST {path_of(url)}: the answer has no id")
            return f"{kind}/{parent_id}/{data['id']}"

        find = None
        if external_ref is not None:
            ref = external_ref

            def find() -> str | None:
                return self._find_in_parent(kind, int(parent_id), ref)

        return create_once(post, find, f"{SYSTEM}: POST {path_of(url)}")

    def update(self, record_id: str, changes: Record) -> None:
        kind, parent, cid = _parse_id(record_id)
        encoded = self.mapper.encode(changes)
        if not encoded:
            return
        current = self._get_raw(record_id)
        merged = {**current, **encoded, "id": int(cid)}
        url = f"{self.base}/{kind}/{parent}/Contact/"
        # Re-sending the same full record is harmless, so this POST may be retried.
        self._envelope(self.http.request("POST", url, json_body=merged, idempotent=True, api="v1"), "POST", url)

    def delete(self, record_id: str) -> None:
        """``DELETE /{kind}/{parent}/Contact/{id}/``."""
        kind, parent, cid = _parse_id(record_id)
        url = f"{self.base}/{kind}/{parent}/Contact/{cid}/"
        self._envelope(self.http.request("DELETE", url, api="v1"), "DELETE", url, missing_is_404=True)

    def watermark_at(self, moment: float) -> str:
        """The watermark of ``moment`` (epoch seconds): changes after it are listed."""
        return format_ticks(int(moment * 10_000_000))

    def find_by_external_ref(self, external_ref: str) -> str | None:
        for kind in PARENT_KINDS:
            for parent in self._parents(kind):
                found = self._find_in_parent(kind, parent, external_ref)
                if found:
                    return found
        return None

    def _find_in_parent(self, kind: str, parent: int, ref: str) -> str | None:
        flt = f"ExternalCode eq {odata_string(ref)}"
        for raw in self._paged(f"{self.base}/{kind}/{parent}/Contact/", flt, self.page_size):
            if raw.get("externalCode") == ref:  # checked here too: a server may ignore the filter
                return f"{kind}/{parent}/{raw['id']}"
        return None

    # -- helpers ---------------------------------------------------------------------------------
    def _envelope(self, resp: Response, method: str, url: str, *, missing_is_404: bool = False
                  ) -> dict[str, Any]:
        where = f"{SYSTEM}: {method} {path_of(url)}"
        try:
            body = self.http.json(resp)
        except ValueError:
            raise ConnectorError(f"{where}: the answer is not JSON", status=resp.status_code) from None
        if not isinstance(body, dict):
            raise ConnectorError(f"{where}: unexpected answer shape", status=resp.status_code)
        if body.get("success") is False:
            detail = self.http.redact(error_detail(body))[:300]
            if missing_is_404 and "not found" in detail.lower():
                raise NotFound(f"{where}: {detail}", status=resp.status_code)
            raise ValidationFailed(f"{where} was rejected: {detail or 'success=false'}", status=resp.status_code)
        return body


def _parse_id(record_id: str) -> tuple[str, str, str]:
    m = _ID_RE.match(record_id or "")
    if not m:
        raise NotFound(f"{SYSTEM}: {record_id!r} is not a Contactperson id (<Customer|Supplier>/<parent>/<id>)")
    kind, parent, cid = m.groups()
    return kind, parent, cid


def _parse_parent(parent: str) -> tuple[str, str]:
    m = _PARENT_RE.match(parent.strip())
    if not m:
        raise ValueError(f"parent must look like 'Customer:<id>' or 'Supplier:<id>', not {parent!r}")
    return m.group(1), m.group(2)


# ================================================================================================
# v2: Suppliers person
# ================================================================================================

class SupplierPersonV2Connector:
    """PowerOffice Go v2 suppliers with ``IsPerson = true``.

    Change detection: editing only the ``MailAddress`` bumps the address's own
    ``LastChangedDateTimeOffset`` but neither the supplier's nor what
    ``lastChangedDateTimeOffsetGreaterThan`` matches. With ``scan_addresses=True`` (the default),
    ``changed_since`` therefore lists **every** supplier page *without* the filter and keeps the
    persons whose ``max(supplier, MailAddress)`` timestamp is after the watermark. Cost: every poll
    transfers all suppliers, ``ceil(N / page_size)`` requests (2 for 10,000 at 5,000 a page) whether
    or not anything changed. With ``scan_addresses=False`` the server filter is used (cheap, but
    address-only edits are missed).

    Create sets ``IsPerson = true``. The v2 API requires ``ZipCode`` with a posted ``MailAddress``;
    the spec maps only City and CountryCode, so without a ZipCode the supplier is created first and
    the address added by a PATCH (two requests). Update is a JSON Patch
    (``application/json-patch+json``); a missing ``MailAddress`` parent is added as a whole object
    (which costs a GET first when the change touches the address).
    """

    system = SYSTEM
    entity = "Suppliers person"
    fields: Mapping[str, FieldSpec] = POWEROFFICE_SUPPLIER_FIELDS
    external_ref_field = "ExternalImportReference"

    def __init__(self, client: SystemClient, base_url: str, *, page_size: int = 5000,
                 scan_addresses: bool = True, watermark_lag: float = 0.0) -> None:
        self.http = client
        self.watermark_lag = watermark_lag
        self.base = base_url.rstrip("/")
        self.page_size = page_size
        self.scan_addresses = scan_addresses
        self.mapper = mapper_for(type(self), self.entity, self.fields, lambda: [
            FieldMap(path, path, ISO_DATE if spec.kind == "date" else TEXT) for path, spec in self.fields.items()])

    def __repr__(self) -> str:
        return f"SupplierPersonV2Connector({self.base!r})"

    # -- reading ---------------------------------------------------------------------------------
    def changed_since(self, watermark: str | None) -> Page:
        since = _watermark_ticks(watermark)
        started = self.http.clock.now()
        page = Page(watermark=watermark)
        best: int | None = None
        params: dict[str, Any] = {}
        if since is not None and not self.scan_addresses:
            params["lastChangedDateTimeOffsetGreaterThan"] = format_ticks(since)
        for raw in self._list(params):
            t = _effective_ticks(raw)
            if since is not None and t <= since:
                continue
            page.changes.append(self._change(raw, t))
            best = t if best is None else max(best, t)
        out = handed_out(best, since, started, self.watermark_lag)
        if out is not None and out != since:
            page.watermark = format_ticks(out)
        return page

    def iter_all(self) -> Iterator[Change]:
        for raw in self._list({}):
            yield self._change(raw, _effective_ticks(raw))

    def _change(self, raw: Mapping[str, Any], t: int) -> Change:
        return Change(str(raw["Id"]), self.mapper.decode(raw), format_ticks(t))

    def _list(self, extra: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every IsPerson supplier, following ``X-Pagination``; 204 means none."""
        url = f"{self.base}/Suppliers"
        number = 1
        while True:
            params = {**extra, "PageNumber": number, "PageSize": self.page_size}
            resp = self.http.request("GET", url, params=params, api="v2")
            if resp.status_code == 204 or not resp.content:
                return
            rows = self.http.json(resp)
            if not isinstance(rows, list):
                raise ConnectorError(f"{SYSTEM}: GET /v2/Suppliers: expected a JSON array", status=resp.status_code)
            yield from (r for r in rows if r.get("IsPerson"))
            header = resp.headers.get("X-Pagination")
            if header:
                try:
                    info = json.loads(header)
                except ValueError:
                    info = {}
                if not (info.get("NextPageLink") or info.get("nextPageLink")):
                    return
            elif len(rows) < self.page_size:
                return
            if not rows:
                return
            number += 1

    def get(self, record_id: str) -> Record:
        raw = self._get_raw(record_id)
        return self.mapper.decode(raw)

    def _get_raw(self, record_id: str) -> dict[str, Any]:
        sid = _supplier_id(record_id)
        raw = self.http.json(self.http.request("GET", f"{self.base}/Suppliers/{sid}", api="v2"))
        if not raw.get("IsPerson"):
            raise NotFound(f"{SYSTEM}: supplier {sid} is not a person", status=404)
        return raw

    # -- writing ---------------------------------------------------------------------------------
    def create(self, record: Record, *, external_ref: str | None = None) -> str:
        body = unflatten(self.mapper.encode(record))
        body["IsPerson"] = True
        if external_ref is not None:
            body["ExternalImportReference"] = external_ref
        address = body.get("MailAddress")
        late_address = None
        if isinstance(address, dict) and not address.get("ZipCode"):
            late_address = {k: v for k, v in body.pop("MailAddress").items() if v is not None} or None
        url = f"{self.base}/Suppliers"

        def post() -> str:
            resp = self.http.request("POST", url, json_body=body, api="v2")
            return str(self.http.json(resp)["Id"])

        find = None
        if external_ref is not None:
            ref = external_ref

            def find() -> str | None:
                return self.find_by_external_ref(ref)

        sid = create_once(post, find, f"{SYSTEM}: POST /v2/Suppliers")
        if late_address:
            try:
                self._patch(sid, [{"op": "add", "path": "/MailAddress", "value": late_address}])
            except ConnectorError as exc:
                raise type(exc)(f"{exc} (supplier {sid} was created without its MailAddress)",
                                status=exc.status, retryable=exc.retryable) from None
        return sid

    def update(self, record_id: str, changes: Record) -> None:
        sid = _supplier_id(record_id)
        encoded = self.mapper.encode(changes)
        ops: list[dict[str, Any]] = []
        address = {k.split(".", 1)[1]: v for k, v in encoded.items() if k.startswith("MailAddress.")}
        for path, value in encoded.items():
            if not path.startswith("MailAddress."):
                ops.append({"op": "replace", "path": "/" + path, "value": value})
        if address:
            current = self._get_raw(record_id).get("MailAddress")
            if isinstance(current, dict):
                ops += [{"op": "add", "path": f"/MailAddress/{k}", "value": v} for k, v in address.items()]
            elif any(v is not None for v in address.values()):
                ops.append({"op": "add", "path": "/MailAddress",
                            "value": {k: v for k, v in address.items() if v is not None}})
        if ops:
            self._patch(sid, ops)

    def _patch(self, sid: str, ops: list[dict[str, Any]]) -> None:
        self.http.request("PATCH", f"{self.base}/Suppliers/{sid}", json_body=ops,
                          content_type="application/json-patch+json", api="v2")

    def delete(self, record_id: str) -> None:
        """``DELETE /v2/Suppliers/{id}`` (409 while the supplier is in use)."""
        self.http.request("DELETE", f"{self.base}/Suppliers/{_supplier_id(record_id)}", api="v2")

    def watermark_at(self, moment: float) -> str:
        """The watermark of ``moment`` (epoch seconds): changes after it are listed."""
        return format_ticks(int(moment * 10_000_000))

    def find_by_external_ref(self, external_ref: str) -> str | None:
        for raw in self._list({"externalImportReference": external_ref}):
            if raw.get("ExternalImportReference") == external_ref:  # a server may ignore the filter
                return str(raw["Id"])
        return None


def _effective_ticks(raw: Mapping[str, Any]) -> int:
    """max(supplier, MailAddress) LastChangedDateTimeOffset, as ticks (0 when neither is set)."""
    stamps = [raw.get("LastChangedDateTimeOffset"), get_path(raw, "MailAddress.LastChangedDateTimeOffset")]
    return max((ticks(s) for s in stamps if s), default=0)


def _supplier_id(record_id: str) -> str:
    if not str(record_id).isdigit():
        raise NotFound(f"{SYSTEM}: {record_id!r} is not a supplier id")
    return str(record_id)
