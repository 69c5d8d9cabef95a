"""The generic connector: reads and writes one entity of a JSON/HTTP API described by a profile.

Canonical records use the documents' property paths (nested for dotted paths). On the wire a path
may be renamed (``[fields]`` of the profile) and may run through a list (``lists``): the canonical
``Emails.Value`` is the ``Value`` of the *first* element of the wire list ``Emails`` (the primary
one); writing it changes that element only and keeps the others.

The identifier (``id`` unless the documents or the profile spell it otherwise) is part of the
canonical record, read-only. Change tracking uses the profile's last-modified field: with a
``since_param`` the server filters, otherwise every record is listed and filtered here.

Some APIs send every value of an object as text (``text_values``: HubSpot's ``properties``): values
are written as text and read back in the field's kind. Some return only the fields a read names
(``select_param``): every read names all the fields the connector knows, the ref field included.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from talkqa.connectors.base import Change, ConnectorError, FieldSpec, NotFound, Page, Record
from talkqa.connectors.codecs import flatten, get_path, has_path, set_path
from talkqa.connectors.http import SystemClient
from talkqa.connectors.mapping import create_once
from talkqa.sync.coerce import TEXT_KINDS, NotConvertible, coerce
from talkqa.systems.generic.profile import Profile
from talkqa.systems.generic.schema import EntitySchema


class GenericConnector:
    def __init__(self, client: SystemClient, base_url: str, schema: EntitySchema, profile: Profile) -> None:
        self.http = client
        self.system = schema.slug
        self.entity = schema.entity
        self.schema = schema
        self.profile = profile
        self.fields: Mapping[str, FieldSpec] = schema.fields
        self.id_path = schema.id_path
        self.id_field = profile.id_field or schema.id_path
        # the sync's external reference is kept in the profile's ref field, which no document maps as a rule;
        # one that does owns it (the reference sync then writes no reference there: docs/sync.md)
        self.external_ref_field: str | None = next(
            (path for path in schema.fields if profile.wire_name(path) == profile.ref_field), None)
        self.url = base_url.rstrip("/") + profile.entity_path(schema.entity)
        self._lists = tuple(sorted(profile.lists, key=len, reverse=True))
        self.mapper = _Mapper(self)
        self._plan: tuple[tuple[str, str, str | None, bool], ...] = ()
        self._plan_key: tuple[Any, ...] | None = None
        self._selected: tuple[tuple[Any, ...], dict[str, str]] | None = None

    def __repr__(self) -> str:
        return f"GenericConnector({self.system!r}, {self.entity!r}, {self.url!r})"

    # -- wire <-> canonical -------------------------------------------------------------------------
    def _list_prefix(self, wire_path: str) -> str | None:
        for prefix in self._lists:
            if wire_path.startswith(prefix + "."):
                return prefix
        return None

    def _decode_plan(self) -> tuple[tuple[str, str, str | None, bool], ...]:
        """Per field: (path, wire name, list prefix, sent as text), worked out once per set of fields (a
        test may add fields to a connector: the plan follows its size and identity)."""
        key = (id(self.fields), len(self.fields), self.id_field, id(self.profile))
        if self._plan_key != key:
            plan = []
            for path in self.fields:
                name = self.id_field if path == self.id_path else self.profile.wire_name(path)
                plan.append((path, name, self._list_prefix(name), self.profile.text_prefix(name) is not None))
            self._plan, self._plan_key = tuple(plan), key
        return self._plan

    def decode(self, wire: Mapping[str, Any]) -> Record:
        record: Record = {}
        for path, name, prefix, text in self._decode_plan():
            if prefix is not None:
                items = get_path(wire, prefix)
                first = items[0] if isinstance(items, list) and items else None
                value = get_path(first, name[len(prefix) + 1:]) if isinstance(first, dict) else None
            else:
                value = get_path(wire, name)
            if text and isinstance(value, str):
                spec = self.fields[path]
                if value == "" and spec.kind not in TEXT_KINDS:
                    value = None  # a cleared number or flag
                else:
                    with contextlib.suppress(NotConvertible):  # else handed on as the API sent it
                        value = coerce(value, spec)
            if value is not None or has_path(wire, name):
                set_path(record, path, value)
        return record

    def encode(self, changes: Record, current: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for path, value in flatten(changes).items():
            spec = self.fields.get(path)
            if spec is None:
                known = ", ".join(sorted(p for p, s in self.fields.items() if not s.read_only))
                raise ValueError(f"{self.entity}: unknown field {path!r}; writable: {known}")
            if spec.read_only:
                raise ValueError(f"{self.entity}: {path!r} is assigned by the system (read-only)")
            name = self.profile.wire_name(path)
            prefix = self._list_prefix(name)
            try:
                value = coerce(value, spec)  # JSON holds no dates: a date goes as ISO 8601 text
            except NotConvertible as exc:
                raise ValueError(f"{self.entity}.{path}: {exc}") from None
            if self.profile.text_prefix(name) is not None:
                value = _text(value)
            if prefix is None:
                set_path(body, name, value)
                continue
            items = body.get(prefix) if prefix in body else copy.deepcopy(get_path(current or {}, prefix))
            items = list(items) if isinstance(items, list) else []
            if not items:
                items.append({})
            first = dict(items[0]) if isinstance(items[0], dict) else {}
            set_path(first, name[len(prefix) + 1:], value)
            items[0] = first
            set_path(body, prefix, items)
        return body

    # -- reading ----------------------------------------------------------------------------------------
    def _select(self) -> dict[str, str]:
        """The query that asks for every field this connector reads (``select_param``), or nothing (worked
        out once per set of fields, as :meth:`_decode_plan`)."""
        p = self.profile
        if not p.select_param:
            return {}
        key = (id(self.fields), len(self.fields), id(p))
        if self._selected is None or self._selected[0] != key:
            wire = [p.wire_name(path) for path in self.fields if path != self.id_path] + [p.ref_field]
            names = sorted({n for n in map(p.selected_name, wire) if n})
            self._selected = (key, {p.select_param: ",".join(names)} if names else {})
        return dict(self._selected[1])

    def _records(self, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        p = self.profile
        params = {**params, **self._select()}
        params[p.size_param] = p.page_size
        url: str | None = self.url
        page, offset = 1, 0
        for _ in range(100_000):
            if p.paging == "page":
                params[p.page_param] = page
            elif p.paging == "offset":
                params[p.offset_param] = offset
            resp = self.http.request("GET", url or self.url, params=params)
            body = self.http.json(resp)
            rows = get_path(body, p.envelope) if p.envelope else body
            if not isinstance(rows, list):
                raise ConnectorError(f"{self.system}: GET {self.entity}: no list at {p.envelope or 'the body'}")
            yield from (r for r in rows if isinstance(r, dict))
            if p.paging == "cursor":
                cursor = get_path(body, p.next_cursor_path) if isinstance(body, dict) else None
                if not cursor:
                    return
                params[p.cursor_param] = cursor
            elif p.paging == "next_link":
                link = get_path(body, p.next_link_path) if isinstance(body, dict) else None
                if not link:
                    return
                origin, target = httpx.URL(self.url), httpx.URL(link)
                if (target.scheme, target.host, target.port) != (origin.scheme, origin.host, origin.port):
                    raise ConnectorError(f"{self.system}: the next link points to another host; not followed")
                # the link's own query goes as params: a client given params replaces a URL's query
                url, params = str(target.copy_with(query=None)), dict(target.params)
            elif p.paging in ("page", "offset"):
                if len(rows) < p.page_size:
                    return
                page += 1
                offset += len(rows)
            else:
                return
        raise ConnectorError(f"{self.system}: GET {self.entity}: paging did not end")

    def _change(self, wire: Mapping[str, Any]) -> Change:
        return Change(str(wire.get(self.id_field)), self.decode(wire), str(wire.get(self.profile.modified_field) or ""))

    def changed_since(self, watermark: str | None) -> Page:
        params: dict[str, Any] = {}
        if watermark and self.profile.since_param:
            params[self.profile.since_param] = watermark
        page = Page(watermark=watermark)
        for wire in self._records(params):
            change = self._change(wire)
            if watermark and not change.watermark > watermark:
                continue  # filtered here when the server does not, and checked when it does
            page.changes.append(change)
            if page.watermark is None or change.watermark > page.watermark:
                page.watermark = change.watermark
        return page

    def iter_all(self) -> Iterator[Change]:
        for wire in self._records({}):
            yield self._change(wire)

    def _get_wire(self, record_id: str) -> dict[str, Any]:
        try:
            resp = self.http.request("GET", f"{self.url}/{record_id}", params=self._select() or None)
        except NotFound:
            raise
        body = self.http.json(resp)
        record = get_path(body, self.profile.single_envelope) if self.profile.single_envelope else body
        if not isinstance(record, dict):
            raise NotFound(f"{self.system}: GET {self.entity}/{record_id}: no record in the answer")
        return record

    def get(self, record_id: str) -> Record:
        return self.decode(self._get_wire(record_id))

    # -- writing ----------------------------------------------------------------------------------------
    def create(self, record: Record, *, external_ref: str | None = None) -> str:
        body = self.encode(record)
        if external_ref is not None:
            set_path(body, self.profile.ref_field, external_ref)

        def post() -> str:
            resp = self.http.request("POST", self.url, json_body=body)
            data = self.http.json(resp)
            made = get_path(data, self.profile.single_envelope) if self.profile.single_envelope else data
            if not isinstance(made, dict) or made.get(self.id_field) is None:
                raise ConnectorError(f"{self.system}: POST {self.entity}: the answer has no {self.id_field}")
            return str(made[self.id_field])

        find = None
        if external_ref is not None:
            ref = external_ref

            def find() -> str | None:
                return self.find_by_external_ref(ref)

        return create_once(post, find, f"{self.system}: POST {self.entity}")

    def update(self, record_id: str, changes: Record) -> None:
        current = self._get_wire(record_id) if self._touches_list(changes) else None
        body = self.encode(changes, current)
        if body:
            self.http.request(self.profile.update_method, f"{self.url}/{record_id}", json_body=body)

    def delete(self, record_id: str) -> None:
        """``DELETE {entity url}/{id}``."""
        self.http.request("DELETE", f"{self.url}/{record_id}")

    def _touches_list(self, changes: Record) -> bool:
        return bool(self._lists) and any(
            self._list_prefix(self.profile.wire_name(p)) for p in flatten(changes)
        )

    def find_by_external_ref(self, external_ref: str) -> str | None:
        p = self.profile
        params = {p.ref_filter_param: external_ref} if p.ref_filter_param else {}
        for wire in self._records(params):
            if get_path(wire, p.ref_field) == external_ref:
                return str(wire.get(self.id_field))
        return None


def _text(value: Any) -> Any:
    """A value as the API's text form (``text_values``): numbers as decimal text, booleans as
    ``true``/``false``, dates as ISO 8601; text and null as they are."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    return value  # a list or an object: the API decides


class _Mapper:
    """``encode`` as the fuzz replay needs it: canonical changes -> ``{wire path: value}``."""

    def __init__(self, connector: GenericConnector) -> None:
        self._c = connector

    def encode(self, changes: Record) -> dict[str, Any]:
        return flatten(self._c.encode(changes))
