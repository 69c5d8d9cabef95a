"""Exact Online simulator: OAuth2 code + refresh-token rotation, ``current/Me`` and ``crm/Contacts``."""
from __future__ import annotations

import dataclasses
import functools
import json
import re
import uuid
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from talkqa.clock import Clock
from talkqa.simulators.auth import basic_credentials, bearer_token, new_token, read_form
from talkqa.simulators.core import CommonSettings, Reply, Simulator, base_of, query_of
from talkqa.simulators.formats import from_ms_date, is_ms_date, parse_iso, to_ms_date
from talkqa.simulators.odata import FilterError, parse_filter
from talkqa.simulators.ratelimit import ExactBudget
from talkqa.simulators.validation import validate
from talkqa.systems.exact.fields import EXACT_CONTACT_FIELDS

CONTACT_TYPE = "Exact.Web.Api.Models.CRM.Contact"
GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
WRITABLE = ("FirstName", "LastName", "Email", "Phone", "City", "Country", "BirthDate", "Notes", "Account",
            "BusinessEmail", "Mobile", "BusinessMobile", "BusinessPhone")
READ_ONLY = ("ID", "FullName", "Modified", "Created", "Division")
PROPERTIES = WRITABLE + READ_ONLY
DATE_PROPS = ("BirthDate", "Modified", "Created")
MAX_CURSORS = 1000


@functools.lru_cache(maxsize=256)
def _selected(raw: str | None) -> frozenset[str] | str | None:
    """The properties a ``$select`` names (None: all of them), or the first unknown name (a connector
    sends the same few selects again and again)."""
    if not raw or raw.strip() == "*":
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    unknown = [n for n in names if n not in PROPERTIES]
    return unknown[0] if unknown else frozenset(names)


#: where a request's scope keeps the rate-limit headers its answer carries (set by ``_access``)
_RATE_HEADERS = "talkqa.rate_headers"


@dataclasses.dataclass
class ExactSettings(CommonSettings):
    """Exact Online behaviour. Comments say which choices are UNCONFIRMED (ours)."""

    access_token_lifetime: int = 600
    min_refresh_age: int = 570
    code_lifetime: int = 180
    refresh_token_lifetime: int = 30 * 86400
    page_size: int = 60
    per_minute: int = 60
    per_day: int = 5000
    single_entity_as_list: bool = False  # UNCONFIRMED: GET by key gives {"d": {...}} or {"d": [{...}]}
    account_required: bool = False  # UNCONFIRMED: Account mandatory on POST
    accept_iso_dates: bool = True  # UNCONFIRMED: writes accept "2000-01-31T00:00:00"
    accept_ms_dates: bool = True  # UNCONFIRMED: writes accept "/Date(ms)/"
    naive_datetime_offset_minutes: int = 0  # UNCONFIRMED: zone of datetime'...' filter literals
    retry_after_header: bool = False  # UNCONFIRMED: a Retry-After header on 429
    reject_unknown_properties: bool = True  # UNCONFIRMED: 400 on a property the entity lacks


@dataclasses.dataclass(frozen=True)
class ExactKeys:
    client_id: str
    client_secret: str
    redirect_uri: str
    division: int


class ExactSimulator(Simulator):
    slug = "exact"
    collections = ("contacts",)
    settings: ExactSettings

    def __init__(
        self, keys: ExactKeys, *, settings: ExactSettings | None = None, clock: Clock | None = None,
        seed: int = 0, state_file: str | None = None, port: int = 0,
    ) -> None:
        self.keys = keys
        super().__init__(
            settings=settings or ExactSettings(), clock=clock, seed=seed, state_file=state_file, port=port
        )
        self.budget = ExactBudget(self.clock, self.settings.per_minute, self.settings.per_day)

    def empty_state(self) -> dict[str, Any]:
        state = super().empty_state()
        state["auth"] = {"codes": {}, "refresh": {}, "access": {}}
        return state

    def check_settings(self, settings: Any) -> None:
        if min(settings.page_size, settings.per_minute, settings.per_day, settings.access_token_lifetime) < 1:
            raise ValueError("page size, limits and token lifetime must be >= 1")

    def on_reset(self) -> None:
        self.budget.reset()

    # ----- responses -----------------------------------------------------------------------
    def error_response(self, status: int, message: str) -> Response:
        return JSONResponse({"error": {"code": "", "message": {"lang": "", "value": message}}}, status)

    def expire_token(self, request: Request) -> None:
        # as if the token's lifetime had passed: it is refused, and its grant may be refreshed (no
        # "Access Token not expired")
        token = bearer_token(request) or ""
        now = self.clock.now()
        with self.lock:
            auth = self.state["auth"]
            access = auth["access"].get(token)
            if access is None:
                return
            aged = max(now - access["issued"], float(self.settings.access_token_lifetime),
                       float(self.settings.min_refresh_age))
            access["issued"] = now - aged
            access["expires"] = min(access["expires"], now)
            for grant in auth["refresh"].values():
                if grant.get("access") == token:
                    grant["access_issued"] = min(grant["access_issued"], now - aged)
            self.changed(("auth", "access"), ("auth", "refresh"))

    def rate_limited_response(self, request: Request) -> Response:
        response = self.error_response(429, "Too many requests. Rate limit exceeded.")
        now_ms = int(self.clock.now() * 1000)
        response.headers["X-RateLimit-Minutely-Limit"] = str(self.settings.per_minute)
        response.headers["X-RateLimit-Minutely-Remaining"] = "0"
        response.headers["X-RateLimit-Minutely-Reset"] = str(now_ms + 60_000)
        if self.settings.retry_after_header:
            response.headers["Retry-After"] = "60"
        return response

    def finalize(self, request: Request, response: Response) -> Response:
        headers = request.scope.get(_RATE_HEADERS)
        if not headers:
            return response
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        present = {k for k, _ in response.raw_headers}
        if present.isdisjoint(k for k, _ in raw):  # what MutableHeaders would do, in one go
            response.raw_headers.extend(raw)
        else:
            for name, value in headers.items():
                response.headers[name] = value
        return response

    def _oauth_error(self, status: int, error: str, description: str) -> Response:
        return JSONResponse({"error": error, "error_description": description}, status)

    # ----- routes -----------------------------------------------------------------------------
    def register_routes(self) -> None:
        self.route("GET", r"/api/oauth2/auth", self.authorize)
        self.route("POST", r"/api/oauth2/token", self.token)
        self.route("GET", r"/api/v1/current/Me", self.me)
        contacts = r"/api/v1/(?P<division>\d+)/crm/Contacts"
        self.route("GET", contacts, self.list_contacts)
        self.route("POST", contacts, self.create_contact)
        one = contacts + rf"\(guid'(?P<contact_id>{GUID})'\)"
        self.route("GET", one, self.get_contact)
        self.route("PUT", one, self.update_contact)
        self.route("DELETE", one, self.delete_contact)

    # ----- OAuth -------------------------------------------------------------------------------
    async def authorize(self, request: Request) -> Response:
        q = query_of(request)
        if q.get("client_id") != self.keys.client_id:
            return self._oauth_error(400, "invalid_client", "Unknown client_id.")
        if q.get("redirect_uri") != self.keys.redirect_uri:
            return self._oauth_error(400, "invalid_request", "redirect_uri does not match the app.")
        if q.get("response_type") != "code":
            return self._oauth_error(400, "unsupported_response_type", "response_type must be code.")
        code = new_token()
        with self.lock:
            self.state["auth"]["codes"][code] = {"issued": self.clock.now(), "redirect_uri": q["redirect_uri"]}
            self.changed()
        params = {"code": code}
        if "state" in q:
            params["state"] = q["state"]
        sep = "&" if "?" in self.keys.redirect_uri else "?"
        return RedirectResponse(self.keys.redirect_uri + sep + urlencode(params), status_code=302)

    async def token(self, request: Request) -> Response:
        form = await read_form(request)
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = basic_credentials(request)
        if basic and not client_id:
            client_id, client_secret = basic
        if client_id != self.keys.client_id or client_secret != self.keys.client_secret:
            return self._oauth_error(400, "invalid_client", "Client authentication failed.")
        grant = form.get("grant_type")
        now = self.clock.now()
        with self.lock:
            auth = self.state["auth"]
            if grant == "authorization_code":
                entry = auth["codes"].pop(form.get("code", ""), None)
                if entry is None or now - entry["issued"] > self.settings.code_lifetime:
                    self.changed()
                    return self._oauth_error(400, "invalid_grant", "Invalid or expired authorization code.")
                if form.get("redirect_uri") != entry["redirect_uri"]:
                    return self._oauth_error(400, "invalid_grant", "redirect_uri does not match.")
            elif grant == "refresh_token":
                refresh = auth["refresh"].get(form.get("refresh_token", ""))
                if refresh is None:
                    return self._oauth_error(400, "invalid_grant", "Invalid refresh token.")
                if refresh["revoked"]:
                    return self._oauth_error(400, "invalid_grant", "Old refresh token used.")
                if now - refresh["issued"] > self.settings.refresh_token_lifetime:
                    return self._oauth_error(400, "invalid_grant", "Refresh token expired.")
                if now - refresh["access_issued"] < self.settings.min_refresh_age:
                    return self._oauth_error(401, "invalid_request", "Access Token not expired")
                refresh["revoked"] = True
            else:
                return self._oauth_error(400, "unsupported_grant_type", "Unsupported grant_type.")
            body = self._issue_tokens(now)
            self.changed()
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    def _issue_tokens(self, now: float) -> dict[str, str]:
        auth = self.state["auth"]
        access, refresh = new_token(), new_token()
        lifetime = self.settings.access_token_lifetime
        auth["access"][access] = {"issued": now, "expires": now + lifetime}
        auth["refresh"][refresh] = {"issued": now, "revoked": False, "access_issued": now, "access": access}
        # forget long-dead access tokens so the state stays small
        for token in [t for t, a in auth["access"].items() if a["expires"] < now - 86400]:
            del auth["access"][token]
        return {"access_token": access, "token_type": "bearer", "expires_in": str(lifetime),
                "refresh_token": refresh}

    def issue_refresh_token(self) -> str:
        """Grant tokens in-process, as after a user's consent (no HTTP: nothing for a cassette to record)."""
        with self.lock:
            tokens = self._issue_tokens(self.clock.now())
            self.changed()
        return tokens["refresh_token"]

    def age_tokens(self, seconds: float, refresh_token: str | None = None) -> None:
        """Make issued tokens ``seconds`` older, as for a connector resuming later: those of
        ``refresh_token``'s grant, or all when None. A test and bootstrap helper."""
        with self.lock:
            auth = self.state["auth"]
            grants = [auth["refresh"][refresh_token]] if refresh_token else list(auth["refresh"].values())
            for grant in grants:
                grant["access_issued"] -= seconds
                access = auth["access"].get(grant.get("access", ""))
                if access:
                    access["issued"] -= seconds
                    access["expires"] -= seconds
            # grants reached through .values() were changed in place: name them for the state file
            self.changed(*([("auth", "refresh")] if refresh_token is None else []))

    # ----- API access ----------------------------------------------------------------------------
    def _access(self, request: Request, division: int | None) -> None:
        token = bearer_token(request)
        now = self.clock.now()
        with self.lock:
            entry = self.state["auth"]["access"].get(token or "")
        if entry is None or now >= entry["expires"]:
            response = self.error_response(401, "Unauthorized: the access token is invalid or has expired.")
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            raise Reply(response)
        if division is not None and division != self.keys.division:
            raise Reply(self.error_response(403, f"Forbidden: no access to division {division}."))
        if not self.settings.rate_limits:
            return
        self.budget.per_minute, self.budget.per_day = self.settings.per_minute, self.settings.per_day
        allowed, minute, day = self.budget.hit(f"{self.keys.client_id}/{self.keys.division}")
        headers = {
            "X-RateLimit-Minutely-Limit": str(minute.limit),
            "X-RateLimit-Minutely-Remaining": str(minute.remaining),
            "X-RateLimit-Minutely-Reset": str(minute.reset_ms),
        }
        if allowed or minute.remaining > 0:
            headers.update({
                "X-RateLimit-Limit": str(day.limit),
                "X-RateLimit-Remaining": str(day.remaining),
                "X-RateLimit-Reset": str(day.reset_ms),
            })
        if not allowed:
            response = self.error_response(429, "Too many requests. Rate limit exceeded.")
            response.headers.update(headers)
            if self.settings.retry_after_header:
                response.headers["Retry-After"] = str(max(1, round(minute.reset_ms / 1000 - now)))
            raise Reply(response)
        request.scope[_RATE_HEADERS] = headers

    def _metadata(self, request: Request, contact: dict[str, Any]) -> dict[str, Any]:
        base = base_of(request)
        uri = f"{base}/api/v1/{contact['Division']}/crm/Contacts(guid'{contact['ID']}')"
        return {"__metadata": {"uri": uri, "type": CONTACT_TYPE}, **contact}

    def _select(self, request: Request) -> frozenset[str] | None:
        names = _selected(query_of(request).get("$select"))
        if isinstance(names, str):
            raise Reply(self.error_response(400, f"Invalid $select: property '{names}' does not exist."))
        return names

    @staticmethod
    def _project(record: dict[str, Any], names: frozenset[str] | None) -> dict[str, Any]:
        if names is None:
            return record
        return {k: v for k, v in record.items() if k == "__metadata" or k in names}

    async def me(self, request: Request) -> Response:
        self._access(request, None)
        me = {"CurrentDivision": self.keys.division, "UserID": "00000000-0000-0000-0000-000000000001",
              "FullName": "Simulator User", "UserName": "simulator"}
        raw = query_of(request).get("$select")
        if raw:
            names = [n.strip() for n in raw.split(",")]
            me = {k: v for k, v in me.items() if k in names}
        base = base_of(request)
        me = {"__metadata": {"uri": f"{base}/api/v1/current/Me", "type": "Exact.Web.Api.System.Me"}, **me}
        return JSONResponse({"d": {"results": [me]}})

    # ----- contacts ----------------------------------------------------------------------------------
    def _sort_key(self, contact: dict[str, Any]) -> tuple[float, str]:
        return (from_ms_date(contact["Modified"]), contact["ID"])

    def _resolver(self, contact: dict[str, Any]) -> Any:
        def resolve(name: str) -> Any:
            if name not in PROPERTIES:
                raise FilterError(f"property '{name}' does not exist on {CONTACT_TYPE}")
            value = contact.get(name)
            if name in DATE_PROPS and is_ms_date(value):
                return from_ms_date(value)
            if name in ("ID", "Account") and isinstance(value, str):
                return value.lower()
            return value

        return resolve

    async def list_contacts(self, request: Request, division: str) -> Response:
        self._access(request, int(division))
        q = query_of(request)
        names = self._select(request)
        page_size = self.settings.page_size
        top = q.get("$top")
        try:
            pred = parse_filter(q["$filter"], naive_offset_minutes=self.settings.naive_datetime_offset_minutes) \
                if q.get("$filter") else None
            with self.lock:
                rows = [c for c in self.table("contacts").values() if pred is None or pred(self._resolver(c))]
                cursors = self.state["meta"].setdefault("cursors", {})
                rows.sort(key=self._sort_key)
                skip = q.get("$skiptoken")
                if skip:
                    m = re.fullmatch(rf"guid'({GUID})'", skip)
                    if not m:
                        return self.error_response(400, "Invalid $skiptoken.")
                    key = cursors.get(m.group(1).lower())
                    if key is None:
                        last = self.table("contacts").get(m.group(1).lower())
                        if last is None:
                            return self.error_response(400, "Invalid $skiptoken.")
                        key = list(self._sort_key(last))
                    rows = [c for c in rows if list(self._sort_key(c)) > key]
                limit = page_size
                if top is not None:
                    limit = min(page_size, int(top))
                page = rows[:limit]
                more = len(rows) > limit and (top is None or int(top) > page_size)
                if more and page:
                    cursors[page[-1]["ID"]] = list(self._sort_key(page[-1]))
                    while len(cursors) > MAX_CURSORS:  # forget the oldest skiptokens
                        del cursors[next(iter(cursors))]
        except FilterError as exc:
            return self.error_response(400, f"Invalid $filter: {exc}")
        except ValueError:
            return self.error_response(400, "Invalid $top.")
        body: dict[str, Any] = {"results": [self._project(self._metadata(request, c), names) for c in page]}
        if more and page:
            params = [(k, v) for k, v in q.multi_items() if k != "$skiptoken"]
            params.append(("$skiptoken", f"guid'{page[-1]['ID']}'"))
            body["__next"] = str(request.url.replace(query=urlencode(params, safe="$',:")))
        return JSONResponse({"d": body})

    def _find(self, contact_id: str) -> dict[str, Any]:
        contact = self.table("contacts").get(contact_id.lower())
        if contact is None:
            raise Reply(self.error_response(404, "Not found: the contact does not exist."))
        return contact

    async def get_contact(self, request: Request, division: str, contact_id: str) -> Response:
        self._access(request, int(division))
        names = self._select(request)
        with self.lock:
            contact = dict(self._find(contact_id))
        item = self._project(self._metadata(request, contact), names)
        return JSONResponse({"d": [item] if self.settings.single_entity_as_list else item})

    async def _body(self, request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body())
        except ValueError:
            raise Reply(self.error_response(400, "The request body is not valid JSON.")) from None
        if not isinstance(body, dict):
            raise Reply(self.error_response(400, "The request body must be a JSON object."))
        for name in body:
            if name not in PROPERTIES and self.settings.reject_unknown_properties:
                raise Reply(self.error_response(400, f"Property '{name}' does not exist on {CONTACT_TYPE}."))
        return {k: v for k, v in body.items() if k in WRITABLE}

    def _decode_date(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            if is_ms_date(value) and self.settings.accept_ms_dates:
                return value
            if not is_ms_date(value) and self.settings.accept_iso_dates:
                try:
                    return to_ms_date(parse_iso(value))
                except ValueError:
                    pass
        raise Reply(self.error_response(400, f"BirthDate: invalid date value {value!r}."))

    def _check(self, contact: dict[str, Any]) -> None:
        if not (contact.get("FirstName") or contact.get("LastName")):
            raise Reply(self.error_response(400, "Provide at least first name or last name."))
        if self.settings.account_required and not contact.get("Account"):
            raise Reply(self.error_response(400, "Mandatory: Account."))
        account = contact.get("Account")
        if account is not None and not (isinstance(account, str) and re.fullmatch(GUID, account)):
            raise Reply(self.error_response(400, "Account: invalid GUID."))
        problems = validate(contact, EXACT_CONTACT_FIELDS, creating=False)
        if problems:
            raise Reply(self.error_response(400, problems[0]))

    @staticmethod
    def _full_name(contact: dict[str, Any]) -> str:
        return " ".join(p for p in (contact.get("FirstName"), contact.get("LastName")) if p)

    def new_contact(self, fields: dict[str, Any], now: float) -> dict[str, Any]:
        contact: dict[str, Any] = dict.fromkeys(WRITABLE)
        contact.update(fields)
        contact.update({
            "ID": str(uuid.uuid4()), "Division": self.keys.division,
            "Created": to_ms_date(now), "Modified": to_ms_date(now),
        })
        contact["FullName"] = self._full_name(contact)
        return contact

    async def create_contact(self, request: Request, division: str) -> Response:
        self._access(request, int(division))
        fields = await self._body(request)
        if "BirthDate" in fields:
            fields["BirthDate"] = self._decode_date(fields["BirthDate"])
        contact = self.new_contact(fields, self.clock.now())
        self._check(contact)
        with self.lock:
            self.table("contacts")[contact["ID"]] = contact
            self.changed()
        item = self._metadata(request, contact)
        return JSONResponse({"d": item}, status_code=201, headers={"Location": item["__metadata"]["uri"]})

    async def update_contact(self, request: Request, division: str, contact_id: str) -> Response:
        self._access(request, int(division))
        fields = await self._body(request)
        if "BirthDate" in fields:
            fields["BirthDate"] = self._decode_date(fields["BirthDate"])
        with self.lock:
            current = self._find(contact_id)
            updated = {**current, **fields}
            updated["FullName"] = self._full_name(updated)
            updated["Modified"] = to_ms_date(self.clock.now())
            self._check(updated)
            self.table("contacts")[current["ID"]] = updated
            self.changed()
        return Response(status_code=204)

    async def delete_contact(self, request: Request, division: str, contact_id: str) -> Response:
        self._access(request, int(division))
        with self.lock:
            contact = self._find(contact_id)
            del self.table("contacts")[contact["ID"]]
            self.changed()
        return Response(status_code=204)

    def prepare_seed(self, collection: str, record: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        record.pop("__metadata", None)
        contact = self.new_contact({k: v for k, v in record.items() if k in WRITABLE}, now)
        for key in ("ID", "Created", "Modified", "Division", "FullName"):
            if record.get(key) is not None:
                contact[key] = record[key].lower() if key == "ID" else record[key]
        if "FullName" not in record:
            contact["FullName"] = self._full_name(contact)
        for key, value in record.items():
            contact.setdefault(key, value)
        self.table("contacts")[contact["ID"]] = contact
        return contact
