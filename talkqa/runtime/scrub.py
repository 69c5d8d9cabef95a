"""Remove secrets from recorded HTTP: headers, query strings, form and JSON bodies, both directions.

Key-based: any header, query parameter, form field or JSON key whose name looks like a secret
(token, key, secret, password, authorization, cookie, code) gets the value ``REDACTED``. The
hooks are idempotent (vcrpy runs them again when it loads a cassette).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "REDACTED"
SECRET_NAME = re.compile(
    r"(token|secret|password|passwd|api[_-]?key|apikey|client[_-]?key|application[_-]?key|subscription[_-]?key"
    r"|authorization|cookie|^code$|^key$)",
    re.IGNORECASE,
)


def _is_secret(name: str) -> bool:
    return bool(SECRET_NAME.search(name)) and name.lower() not in {"token_type", "expires_in"}


def scrub_json(value: Any, *, inside_secret: bool = False) -> Any:
    """Redact the value of every secret-named key; under such a key, every leaf (a secret can be
    wrapped: ``{"token": {"value": ...}}``, ``{"api_key": [...]}``)."""
    if isinstance(value, dict):
        return {k: scrub_json(v, inside_secret=inside_secret or _is_secret(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_json(v, inside_secret=inside_secret) for v in value]
    if inside_secret and value is not None and not isinstance(value, bool):
        return REDACTED
    return value


def scrub_body(body: bytes | str | None, content_type: str) -> bytes | str | None:
    if not body:
        return body
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    ctype = content_type.lower()
    out: str | None = None
    if "json" in ctype or text.lstrip().startswith(("{", "[")):
        try:
            out = json.dumps(scrub_json(json.loads(text)), ensure_ascii=False)
        except ValueError:
            out = None
    if out is None and ("form" in ctype or ("=" in text and " " not in text)):
        pairs = parse_qsl(text, keep_blank_values=True)
        if pairs:
            out = urlencode([(k, REDACTED if _is_secret(k) else v) for k, v in pairs])
    if out is None:
        return body
    return out.encode("utf-8") if isinstance(body, bytes) else out


def scrub_url(url: str) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = urlencode(
        [(k, REDACTED if _is_secret(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    )
    return urlunsplit(parts._replace(query=query))


def _header(headers: Any, name: str) -> str:
    for k, v in dict(headers).items():
        if k.lower() == name:
            return v[0] if isinstance(v, list) else v
    return ""


def scrub_request(request: Any) -> Any:
    request.uri = scrub_url(request.uri)
    for name in list(request.headers):
        if _is_secret(name):
            request.headers[name] = REDACTED
    request.body = scrub_body(request.body, _header(request.headers, "content-type"))
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if _is_secret(name):
            headers[name] = [REDACTED]
        elif name.lower() == "location":
            headers[name] = [scrub_url(v) for v in headers[name]]
    body = response.get("body", {}).get("string")
    new = scrub_body(body, _header(headers, "content-type"))
    if new is not body and new is not None:
        response["body"]["string"] = new
        for name in list(headers):
            if name.lower() == "content-length":
                headers[name] = [str(len(new if isinstance(new, bytes) else new.encode()))]
    return response
