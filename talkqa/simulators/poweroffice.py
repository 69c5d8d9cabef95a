"""PowerOffice Go simulator: token endpoint, v1 contact persons and v2 suppliers."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from talkqa.clock import Clock
from talkqa.simulators.auth import basic_credentials, bearer_token, new_token, read_form
from talkqa.simulators.core import CommonSettings, Reply, Simulator, query_of
from talkqa.simulators.formats import parse_date, parse_iso, to_timestamp7
from talkqa.simulators.odata import FilterError, parse_filter
from talkqa.simulators.ratelimit import SlidingWindowLimiter
from talkqa.simulators.supplier_patch import PatchError, apply_patch, canonical_keys
from talkqa.simulators.validation import validate
from talkqa.systems.powerofficego.fields import POWEROFFICE_CONTACTPERSON_FIELDS, POWEROFFICE_SUPPLIER_FIELDS

V1_WRITABLE = (
    "firstName", "lastName", "emailAddress", "phoneNumber", "isActive", "address1", "address2", "city",
    "zipCode", "residenceCountryCode", "dateOfBirth", "externalCode",
)
V1_DATES = ("lastChanged", "dateOfBirth", "createdDate")
ADDRESS_FIELDS = ("Id", "AddressLine1", "AddressLine2", "City", "ZipCode", "CountryCode", "ExternalCode",
                  "LastChangedDateTimeOffset")
ADDRESS_WRITABLE = ("AddressLine1", "AddressLine2", "City", "ZipCode", "CountryCode", "ExternalCode")
SUPPLIER_WRITABLE = (
    "IsPerson", "FirstName", "LastName", "Name", "EmailAddress", "PhoneNumber", "DateOfBirth", "MailAddress",
    "ExternalImportReference", "IsArchived", "CurrencyCode", "Number", "OrganizationNumber", "WebsiteUrl",
    "LegalName",
)
RATE_LIMIT_BODY = {"statusCode": "429", "message": "Rate limit is exceeded. Try again in 1 seconds."}
TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Object(s) not found",
          405: "Method Not Allowed", 415: "Unsupported Media Type", 500: "Internal Server Error",
          502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


@dataclasses.dataclass
class PowerOfficeSettings(CommonSettings):
    """PowerOffice Go behaviour. Comments say which choices are UNCONFIRMED (ours)."""

    token_lifetime: int = 1200  # documented 20 minutes (one spec example says 600)
    v1_rate_per_second: int = 50  # per application key
    v2_rate_per_second: int = 10  # per subscription key
    retry_after_header: bool = True  # UNCONFIRMED: Retry-After: 1 on 429
    token_requires_subscription_key: bool = False  # UNCONFIRMED: token call without the APIM key
    v1_post_update: str = "replace"  # UNCONFIRMED: "replace" (omitted -> null) or "merge"
    v1_date_format: str = "%Y-%m-%dT%H:%M:%S"  # UNCONFIRMED: wire format of v1 dateOfBirth
    v1_first_name_required: bool = True  # UNCONFIRMED: v1 requires firstName as well as lastName
    v1_not_found_status: int = 404  # UNCONFIRMED: status of an unknown v1 id (body success=false)
    v1_max_top: int = 50000
    v1_party_is_person: bool = True  # UNCONFIRMED: v1 party lists carry isPerson (persons have no contact persons)
    v2_default_page_size: int = 5000
    v2_max_page_size: int = 20000
    address_edit_bumps_supplier: bool = False  # UNCONFIRMED: address-only edit bumps supplier timestamp
    mail_address_requires_city_and_zip: bool = True  # ContactAddressPostDto requires City and ZipCode
    default_country_code: str = "NO"  # AddressDto: CountryCode "Defaults to NO if not set"
    problem_details_lowercase: bool = True  # UNCONFIRMED: "title" (examples) vs "Title" (schema)


@dataclasses.dataclass(frozen=True)
class PowerOfficeKeys:
    application_key: str
    client_key: str
    subscription_key: str


class PowerOfficeSimulator(Simulator):
    slug = "powerofficego"
    collections = ("customers", "suppliers", "contactpersons")
    settings: PowerOfficeSettings

    def __init__(
        self, keys: PowerOfficeKeys, *, settings: PowerOfficeSettings | None = None,
        clock: Clock | None = None, seed: int = 0, state_file: str | None = None, port: int = 0,
    ) -> None:
        self.keys = keys
        super().__init__(
            settings=settings or PowerOfficeSettings(), clock=clock, seed=seed, state_file=state_file, port=port
        )
        self.v1_limiter = SlidingWindowLimiter(self.clock, self.settings.v1_rate_per_second)
        self.v2_limiter = SlidingWindowLimiter(self.clock, self.settings.v2_rate_per_second)

    def empty_state(self) -> dict[str, Any]:
        state = super().empty_state()
        state["auth"] = {"tokens": {}}
        return state

    def check_settings(self, settings: Any) -> None:
        if settings.v1_post_update not in ("replace", "merge"):
            raise ValueError("v1_post_update must be 'replace' or 'merge'")
        if min(settings.v1_rate_per_second, settings.v2_rate_per_second, settings.v2_default_page_size) < 1:
            raise ValueError("rates and page sizes must be >= 1")

    def on_reset(self) -> None:
        self.v1_limiter.reset()
        self.v2_limiter.reset()
        self._traces = 0  # trace ids count from the reset: a recording twice gives the same ids

    def _trace_id(self) -> str:
        """A W3C trace id, as PowerOffice's problem details carry one; numbered since the last reset."""
        self._traces = getattr(self, "_traces", 0) + 1
        digest = hashlib.sha256(f"talkqa-trace-{self._traces}".encode()).hexdigest()
        return f"00-{digest[:32]}-{digest[32:48]}-00"

    def normalize_path(self, path: str) -> str:
        if path.lower().startswith("/demo/"):
            return path[len("/demo") :]
        return path

    # ----- responses -----------------------------------------------------------------------
    def problem(self, status: int, detail: str, title: str | None = None) -> Response:
        body = {"type": f"https://httpstatuses.io/{status}", "title": title or TITLES.get(status, "Error"),
                "status": status, "detail": detail, "traceId": self._trace_id()}
        if not self.settings.problem_details_lowercase:
            body = {k[0].upper() + k[1:]: v for k, v in body.items()}
        return JSONResponse(body, status, media_type="application/problem+json")

    def error_response(self, status: int, message: str) -> Response:
        return self.problem(status, message)

    def expire_token(self, request: Request) -> None:
        token = bearer_token(request)
        with self.lock:
            tokens = self.state["auth"]["tokens"]
            if token in tokens:
                tokens[token] = min(tokens[token], self.clock.now())
                self.changed(("auth", "tokens"))

    def rate_limited_response(self, request: Request) -> Response:
        headers = {"Retry-After": "1"} if self.settings.retry_after_header else None
        return JSONResponse(RATE_LIMIT_BODY, 429, headers=headers)

    def v1_fail(self, summary: str, status: int = 200) -> Response:
        ref = str(uuid.uuid4())
        body = {"success": False, "validation": {
            "errorLogReference": ref, "summary": summary, "exception": "ValidationException"}}
        return JSONResponse(body, status)

    # ----- routes ------------------------------------------------------------------------------
    def register_routes(self) -> None:
        self.route("POST", r"/OAuth/Token/?", self.token, ignore_case=True)
        party = r"/v1/(?P<kind>Customer|Supplier)"
        self.route("GET", party + r"/?", self.v1_parties, ignore_case=True)
        contacts = party + r"/(?P<parent>\d+)/Contact"
        self.route("GET", contacts + r"/?", self.v1_list_contacts, ignore_case=True)
        self.route("POST", contacts + r"/?", self.v1_save_contact, ignore_case=True)
        self.route("GET", contacts + r"/(?P<cid>\d+)/?", self.v1_get_contact, ignore_case=True)
        self.route("DELETE", contacts + r"/(?P<cid>\d+)/?", self.v1_delete_contact, ignore_case=True)
        self.route("GET", r"/v2/Suppliers/?", self.v2_list_suppliers, ignore_case=True)
        self.route("POST", r"/v2/Suppliers/?", self.v2_create_supplier, ignore_case=True)
        self.route("GET", r"/v2/Suppliers/(?P<sid>\d+)/?", self.v2_get_supplier, ignore_case=True)
        self.route("PATCH", r"/v2/Suppliers/(?P<sid>\d+)/?", self.v2_patch_supplier, ignore_case=True)
        self.route("DELETE", r"/v2/Suppliers/(?P<sid>\d+)/?", self.v2_delete_supplier, ignore_case=True)

    # ----- auth ----------------------------------------------------------------------------------
    def _apim_denied(self, missing: bool) -> Response:
        what = "missing" if missing else "invalid"
        return JSONResponse({"statusCode": 401, "message": f"Access denied due to {what} subscription key. "
                             "Make sure to provide a valid key for an active subscription."}, 401)

    async def token(self, request: Request) -> Response:
        sub = request.headers.get("ocp-apim-subscription-key")
        if sub is not None and sub != self.keys.subscription_key:
            return self._apim_denied(missing=False)
        if sub is None and self.settings.token_requires_subscription_key:
            return self._apim_denied(missing=True)
        form = await read_form(request)
        if basic_credentials(request) != (self.keys.application_key, self.keys.client_key):
            return JSONResponse({"error": "invalid_client", "error_description": "Client integration not found. "
                                 "Please ensure the provided keys are matching the desired environment."}, 400)
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        access = new_token()
        now = self.clock.now()
        with self.lock:
            tokens = self.state["auth"]["tokens"]
            for old in [t for t, exp in tokens.items() if exp < now - 86400]:
                del tokens[old]
            tokens[access] = now + self.settings.token_lifetime
            self.changed()
        return JSONResponse({"access_token": access, "token_type": "bearer",
                             "expires_in": self.settings.token_lifetime})

    def _access(self, request: Request, version: int) -> None:
        if version == 2:
            sub = request.headers.get("ocp-apim-subscription-key")
            if sub != self.keys.subscription_key:
                raise Reply(self._apim_denied(missing=sub is None))
        token = bearer_token(request)
        with self.lock:
            expires = self.state["auth"]["tokens"].get(token or "")
        if expires is None or self.clock.now() >= expires:
            if version == 1:
                raise Reply(self.v1_fail("Authorization has been denied for this request.", 401))
            raise Reply(self.problem(401, "The access token is missing, invalid or expired."))
        if not self.settings.rate_limits:
            return
        limiter = self.v2_limiter if version == 2 else self.v1_limiter
        limiter.limit = self.settings.v2_rate_per_second if version == 2 else self.settings.v1_rate_per_second
        key = self.keys.subscription_key if version == 2 else self.keys.application_key
        if not limiter.hit(key):
            raise Reply(self.rate_limited_response(request))

    # ----- v1 ---------------------------------------------------------------------------------------
    def _v1_party_view(self, kind: str, party: dict[str, Any]) -> dict[str, Any]:
        if kind == "customer":
            return party
        view = {"id": party["Id"], "code": party.get("Number"), "name": party.get("Name"),
                "emailAddress": party.get("EmailAddress"), "isActive": party.get("IsActive", True),
                "lastChanged": party.get("LastChangedDateTimeOffset")}
        if self.settings.v1_party_is_person:
            view["isPerson"] = bool(party.get("IsPerson"))
        return view

    def _v1_parties(self, kind: str) -> list[dict[str, Any]]:
        table = self.table("customers" if kind == "customer" else "suppliers")
        return [self._v1_party_view(kind, p) for p in table.values()]

    @staticmethod
    def _v1_resolver(row: dict[str, Any]) -> Any:
        def resolve(name: str) -> Any:
            camel = name[:1].lower() + name[1:]
            if not name[:1].isupper() or camel not in row:
                raise FilterError(f"Could not find a property named '{name}' (filter fields are PascalCase)")
            value = row[camel]
            if camel in V1_DATES and isinstance(value, str):
                return parse_iso(value)
            return value

        return resolve

    def _v1_query(self, request: Request, rows: list[dict[str, Any]]) -> Response:
        q = query_of(request)
        try:
            if q.get("$filter"):
                pred = parse_filter(q["$filter"])
                rows = [r for r in rows if pred(self._v1_resolver(r))]
            order = q.get("$orderby")
            if order:
                name, _, direction = order.strip().partition(" ")
                resolve_key = [self._v1_resolver(r)(name) for r in rows]
                pairs = sorted(zip(resolve_key, rows, strict=True), key=lambda p: (p[0] is None, p[0]),
                               reverse=direction.strip().lower() == "desc")
                rows = [r for _, r in pairs]
            else:
                rows = sorted(rows, key=lambda r: r["id"])
            skip = int(q.get("$skip", "0"))
            top = min(int(q.get("$top", str(self.settings.v1_max_top))), self.settings.v1_max_top)
            if skip < 0 or top < 0:
                raise ValueError
        except FilterError as exc:
            return self.v1_fail(str(exc))
        except ValueError:
            return self.v1_fail("$skip and $top must be non-negative integers.")
        return JSONResponse({"success": True, "data": rows[skip : skip + top], "count": len(rows)})

    async def v1_parties(self, request: Request, kind: str) -> Response:
        self._access(request, 1)
        with self.lock:
            rows = self._v1_parties(kind.lower())
        return self._v1_query(request, rows)

    def _v1_parent(self, kind: str, parent: str) -> int:
        table = self.table("customers" if kind.lower() == "customer" else "suppliers")
        if parent not in table:
            raise Reply(self.v1_fail(f"{kind.capitalize()} with id {parent} not found.",
                                     self.settings.v1_not_found_status))
        return int(parent)

    async def v1_list_contacts(self, request: Request, kind: str, parent: str) -> Response:
        self._access(request, 1)
        with self.lock:
            party_id = self._v1_parent(kind, parent)
            rows = [dict(c) for c in self.table("contactpersons").values() if c["partyId"] == party_id]
        return self._v1_query(request, rows)

    def _v1_find(self, party_id: int, cid: str) -> dict[str, Any]:
        contact = self.table("contactpersons").get(cid)
        if contact is None or contact["partyId"] != party_id:
            raise Reply(self.v1_fail(f"Contact person with id {cid} not found.", self.settings.v1_not_found_status))
        return contact

    async def v1_get_contact(self, request: Request, kind: str, parent: str, cid: str) -> Response:
        self._access(request, 1)
        with self.lock:
            contact = dict(self._v1_find(self._v1_parent(kind, parent), cid))
        return JSONResponse({"data": contact, "success": True})

    async def v1_delete_contact(self, request: Request, kind: str, parent: str, cid: str) -> Response:
        self._access(request, 1)
        with self.lock:
            self._v1_find(self._v1_parent(kind, parent), cid)
            del self.table("contactpersons")[cid]
            self.changed()
        return JSONResponse({"success": True})

    def _v1_date(self, value: Any) -> Any:
        if value in (None, ""):
            return None
        if not isinstance(value, str):
            raise Reply(self.v1_fail("dateOfBirth must be a date string."))
        try:
            return parse_date(value).strftime(self.settings.v1_date_format)
        except ValueError:
            raise Reply(self.v1_fail(f"dateOfBirth '{value}' is not a valid date.")) from None

    async def v1_save_contact(self, request: Request, kind: str, parent: str) -> Response:
        self._access(request, 1)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return self.v1_fail("The request body is not valid JSON.")
        if not isinstance(body, dict):
            return self.v1_fail("The request body must be a JSON object.")
        fields = {k: body[k] for k in V1_WRITABLE if k in body}
        if "dateOfBirth" in fields:
            fields["dateOfBirth"] = self._v1_date(fields["dateOfBirth"])
        now = self.clock.now()
        with self.lock:
            party_id = self._v1_parent(kind, parent)
            contact_id = body.get("id")
            if contact_id:
                current = self._v1_find(party_id, str(contact_id))
                if self.settings.v1_post_update == "merge":
                    record = {**current, **fields}
                else:
                    record = {**dict.fromkeys(V1_WRITABLE), "isActive": True, **fields}
                    record["id"], record["partyId"] = current["id"], party_id
            else:
                record = {**dict.fromkeys(V1_WRITABLE), "isActive": True, **fields,
                          "id": self.next_id("contactperson_id", 50001), "partyId": party_id}
            record["lastChanged"] = to_timestamp7(now)
            if record.get("isActive") is None:
                record["isActive"] = True
            problems = self._v1_problems(record)
            if problems:
                return self.v1_fail("; ".join(problems))
            self.table("contactpersons")[str(record["id"])] = record
            self.changed()
        return JSONResponse({"success": True, "data": record})

    def _v1_problems(self, record: dict[str, Any]) -> list[str]:
        specs = POWEROFFICE_CONTACTPERSON_FIELDS
        if not self.settings.v1_first_name_required:
            specs = {**specs, "firstName": dataclasses.replace(specs["firstName"], required_on_create=False,
                                                                nullable=True)}
        problems = []
        for name in ("firstName", "lastName"):
            if specs[name].required_on_create and not record.get(name):
                problems.append(f"{name} is required")
        return problems + [p for p in validate(record, specs, creating=False) if "must not be null" not in p]

    # ----- v2 -----------------------------------------------------------------------------------------
    @staticmethod
    def _query(request: Request, name: str) -> str | None:
        for key, value in query_of(request).multi_items():
            if key.lower() == name.lower():
                return value
        return None

    def _iso_param(self, request: Request, name: str) -> float | None:
        raw = self._query(request, name)
        if raw is None or raw == "":
            return None
        try:
            return parse_iso(raw)
        except ValueError:
            raise Reply(self.problem(400, f"The value '{raw}' is not valid for {name}.")) from None

    def _int_param(self, request: Request, name: str, default: int) -> int:
        raw = self._query(request, name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise Reply(self.problem(400, f"The value '{raw}' is not valid for {name}.")) from None

    async def v2_list_suppliers(self, request: Request) -> Response:
        self._access(request, 2)
        changed_after = self._iso_param(request, "lastChangedDateTimeOffsetGreaterThan")
        created_after = self._iso_param(request, "supplierCreatedDateTimeOffsetGreaterThan")
        ext_ref = self._query(request, "externalImportReference")
        page_number = self._int_param(request, "PageNumber", 1)
        page_size = self._int_param(request, "PageSize", self.settings.v2_default_page_size)
        if page_number < 1 or page_size < 1 or page_size > self.settings.v2_max_page_size:
            limit = self.settings.v2_max_page_size
            return self.problem(400, f"PageNumber must be >= 1 and PageSize within 1..{limit}.")
        with self.lock:
            rows = sorted(self.table("suppliers").values(), key=lambda s: s["Id"])
            if changed_after is not None:
                rows = [s for s in rows if parse_iso(s["LastChangedDateTimeOffset"]) > changed_after]
            if created_after is not None:
                rows = [s for s in rows if parse_iso(s["SupplierCreatedDateTimeOffset"]) > created_after]
            if ext_ref is not None:
                rows = [s for s in rows if s.get("ExternalImportReference") == ext_ref]
            rows = [json.loads(json.dumps(s)) for s in rows]
        total = len(rows)
        pages = (total + page_size - 1) // page_size
        page = rows[(page_number - 1) * page_size : page_number * page_size]
        if not page:
            return Response(status_code=204)
        next_link = None
        if page_number < pages:
            params = [(k, v) for k, v in query_of(request).multi_items() if k.lower() != "pagenumber"]
            params.append(("PageNumber", str(page_number + 1)))
            next_link = str(request.url.replace(query=urlencode(params)))
        pagination = {"CurrentPage": page_number, "PageSize": page_size, "TotalCount": total,
                      "TotalPages": pages, "NextPageLink": next_link}
        return JSONResponse(page, headers={"X-Pagination": json.dumps(pagination)})

    def _v2_find(self, sid: str) -> dict[str, Any]:
        supplier = self.table("suppliers").get(str(int(sid)))
        if supplier is None:
            raise Reply(self.problem(404, f"Supplier with id = {sid} not found.", "Object(s) not found"))
        return supplier

    async def v2_get_supplier(self, request: Request, sid: str) -> Response:
        self._access(request, 2)
        with self.lock:
            supplier = json.loads(json.dumps(self._v2_find(sid)))
        return JSONResponse(supplier)

    async def v2_delete_supplier(self, request: Request, sid: str) -> Response:
        self._access(request, 2)
        with self.lock:
            supplier = self._v2_find(sid)
            del self.table("suppliers")[str(supplier["Id"])]
            self.changed()
        return Response(status_code=200)

    def _v2_body(self, raw: bytes) -> Any:
        try:
            return json.loads(raw)
        except ValueError:
            raise Reply(self.problem(400, "The request body is not valid JSON.")) from None

    def _v2_date(self, value: Any) -> Any:
        if value in (None, ""):
            return None
        try:
            return parse_date(str(value)).strftime("%Y-%m-%d")
        except ValueError:
            raise Reply(self.problem(400, f"DateOfBirth: '{value}' is not a valid date.",
                                     "Supplier validation error(s)")) from None

    def _v2_check(self, supplier: dict[str, Any], *, creating: bool, own_id: int | None) -> None:
        problems: list[str] = []
        if supplier.get("IsPerson"):
            problems += [f"{n} is required when IsPerson is true" for n in ("FirstName", "LastName")
                         if not supplier.get(n)]
        elif not supplier.get("Name"):
            problems.append("Name is required for a company supplier")
        address = supplier.get("MailAddress") or {}
        if creating and supplier.get("_address_given") and self.settings.mail_address_requires_city_and_zip:
            problems += [f"MailAddress.{n} is required" for n in ("City", "ZipCode") if not address.get(n)]
        problems += validate(supplier, POWEROFFICE_SUPPLIER_FIELDS, creating=creating)
        ref = supplier.get("ExternalImportReference")
        if ref:
            for other in self.table("suppliers").values():
                if other.get("ExternalImportReference") == ref and other["Id"] != own_id:
                    problems.append(f"ExternalImportReference is already in use. '{ref}' is used on "
                                    f"(contact) Id = {other['Id']}.")
        if problems:
            raise Reply(self.problem(400, " ".join(problems), "Supplier validation error(s)"))

    def new_supplier(self, fields: dict[str, Any], now: float, supplier_id: int) -> dict[str, Any]:
        stamp = to_timestamp7(now)
        given = fields.get("MailAddress")
        address = {**dict.fromkeys(ADDRESS_FIELDS), **canonical_keys(given or {}, ADDRESS_WRITABLE)}
        address["Id"] = supplier_id * 10 + 1
        address["LastChangedDateTimeOffset"] = stamp
        if given and not address.get("CountryCode"):
            address["CountryCode"] = self.settings.default_country_code
        supplier: dict[str, Any] = {
            **dict.fromkeys(SUPPLIER_WRITABLE), "IsPerson": False, "IsArchived": False, "CurrencyCode": "NOK",
            **{k: v for k, v in fields.items() if k != "MailAddress"},
            "Id": supplier_id, "MailAddress": address, "IsActive": True,
            "LastChangedDateTimeOffset": stamp, "SupplierCreatedDateTimeOffset": stamp,
            "ContactCreatedDateTimeOffset": stamp,
        }
        if supplier.get("Number") is None:
            supplier["Number"] = 20000 + supplier_id
        if supplier.get("IsPerson") and not supplier.get("Name"):
            supplier["Name"] = " ".join(p for p in (supplier.get("FirstName"), supplier.get("LastName")) if p)
        return supplier

    async def v2_create_supplier(self, request: Request) -> Response:
        self._access(request, 2)
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in ("application/json", "text/json") and not (
            ctype.startswith("application/") and ctype.endswith("+json")
        ):
            return self.problem(415, f"Unsupported content type '{ctype}'.")
        body = self._v2_body(await request.body())
        if not isinstance(body, dict):
            return self.problem(400, "The request body must be a JSON object.")
        fields = canonical_keys(body, SUPPLIER_WRITABLE)
        if "DateOfBirth" in fields:
            fields["DateOfBirth"] = self._v2_date(fields["DateOfBirth"])
        if fields.get("MailAddress") is not None and not isinstance(fields["MailAddress"], dict):
            return self.problem(400, "MailAddress must be an object.")
        now = self.clock.now()
        with self.lock:
            supplier_id = self.next_id("party_id", 10001)
            supplier = self.new_supplier(fields, now, supplier_id)
            self._v2_check({**supplier, "_address_given": bool(fields.get("MailAddress"))}, creating=True,
                           own_id=supplier_id)
            self.table("suppliers")[str(supplier_id)] = supplier
            self.changed()
        return JSONResponse(supplier, status_code=201)

    async def v2_patch_supplier(self, request: Request, sid: str) -> Response:
        self._access(request, 2)
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json-patch+json":
            return self.problem(415, f"Unsupported content type '{ctype}'; use application/json-patch+json.")
        ops = self._v2_body(await request.body())
        with self.lock:
            current = self._v2_find(sid)
            try:
                updated = apply_patch(current, ops, SUPPLIER_WRITABLE, ADDRESS_WRITABLE)
            except PatchError as exc:
                return self.problem(400, str(exc), "One or more validation errors occurred.")
            if "DateOfBirth" in updated:
                updated["DateOfBirth"] = self._v2_date(updated["DateOfBirth"])
            if updated.get("IsPerson") is None:
                updated["IsPerson"] = False
            names_changed = any(updated.get(n) != current.get(n) for n in ("FirstName", "LastName"))
            if updated["IsPerson"] and (names_changed or not updated.get("Name")):
                updated["Name"] = " ".join(p for p in (updated.get("FirstName"), updated.get("LastName")) if p)
            self._v2_check(updated, creating=False, own_id=current["Id"])
            stamp = to_timestamp7(self.clock.now())
            address_changed = updated["MailAddress"] != current["MailAddress"]
            others_changed = any(updated.get(k) != current.get(k) for k in updated if k != "MailAddress")
            if address_changed:
                updated["MailAddress"]["LastChangedDateTimeOffset"] = stamp
            if others_changed or (address_changed and self.settings.address_edit_bumps_supplier):
                updated["LastChangedDateTimeOffset"] = stamp
            self.table("suppliers")[str(current["Id"])] = updated
            self.changed()
            result = json.loads(json.dumps(updated))
        return JSONResponse(result)

    # ----- seeding --------------------------------------------------------------------------------------
    def prepare_seed(self, collection: str, record: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        if collection == "suppliers":
            sid = int(record.get("Id") or self.next_id("party_id", 10001))
            supplier = self.new_supplier({k: v for k, v in record.items() if k in SUPPLIER_WRITABLE}, now, sid)
            for key, value in record.items():
                if key == "MailAddress" and isinstance(value, dict):
                    supplier["MailAddress"].update(value)
                else:
                    supplier[key] = value
            self.table("suppliers")[str(sid)] = supplier
            return supplier
        if collection == "customers":
            record.setdefault("id", self.next_id("party_id", 10001))
            record.setdefault("name", None)
            record.setdefault("isActive", True)
            record.setdefault("lastChanged", to_timestamp7(now))
            self.table("customers")[str(record["id"])] = record
            return record
        if "partyId" not in record:
            raise ValueError("a contact person needs partyId")
        contact = {**dict.fromkeys(V1_WRITABLE), "isActive": True, **record}
        contact.setdefault("id", self.next_id("contactperson_id", 50001))
        contact.setdefault("lastChanged", to_timestamp7(now))
        self.table("contactpersons")[str(contact["id"])] = contact
        return contact
