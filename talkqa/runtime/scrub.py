"""Remove secrets from recorded HTTP: URL, headers and body, both directions.

Two rules, applied to the URL, every header and the body:

* **By name.** A header, query parameter, form field, JSON key, XML element or attribute, or a
  ``name=value`` / ``name: value`` pair in plain text, whose name looks like a secret (token,
  secret, password, pwd, passphrase, private key, credentials, API/client/application/subscription
  key, authorization, cookie, ``code``, ``key``; any case) gets the value ``REDACTED``;
  ``token_type`` and ``expires_in`` stay readable. Under a secret-named JSON key every leaf is
  redacted. ``Bearer``/``Basic`` credentials in any text become ``Bearer REDACTED``. Inside a body,
  a string is scrubbed by name only when it is itself JSON, a form, a URL or XML (record data that
  merely mentions "code: 5" is kept).
* **By value.** Every secret the connectors know (:data:`talkqa.connectors.secret.KNOWN_SECRETS`:
  configured keys, client secrets, every access and refresh token issued, authorization codes,
  Basic credentials) is replaced wherever it appears, as written raw, percent-encoded, JSON-escaped
  (once or twice) or entity-escaped.

Bodies are read in their own encoding (a BOM, the ``charset``, or the NUL pattern of UTF-16/32
text; UTF-8 otherwise) and written back in it, BOM included. JSON, form, XML and plain text are
recognized, and so is JSON (or a form, or a URL) held in a JSON string. A body that is no text
gets the by-value rule on its bytes. A body with nothing to redact is kept byte for byte.

The hooks are idempotent (vcrpy runs them again when it loads a cassette).
"""

from __future__ import annotations

import base64
import codecs
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from talkqa.connectors.secret import KNOWN_SECRETS

REDACTED = "REDACTED"
SECRET_NAME = re.compile(
    r"(token|secret|passw|pwd|passphrase|private[_-]?key|credential|api[_-]?key|apikey|client[_-]?key"
    r"|application[_-]?key|subscription[_-]?key|authorization|cookie|^code$|^key$)",
    re.IGNORECASE,
)
NOT_SECRET = frozenset({"token_type", "tokentype", "expires_in", "expiresin"})

_BEARER = re.compile(r"\b(Bearer|Basic)(\s+)(?!REDACTED\b)([A-Za-z0-9._~+/=-]{8,})")
#: ``name=value`` or ``name: value`` in plain text (the value runs to a space, quote or separator).
_PAIR = re.compile(
    r"""(?P<name>[A-Za-z_][\w.-]*)(?P<sep>["']?\s*[:=]\s*)(?P<quote>["']?)"""
    r"""(?P<value>(?:(?:Bearer|Basic)\s+)?[^\s"'&,;<>]+)"""
)
#: An XML element with text only: ``<ns:name attr="x">text</ns:name>``.
_XML_ELEMENT = re.compile(r"<(?P<tag>[A-Za-z_][\w.:-]*)(?P<attrs>(?:\s[^<>]*?)?)>(?P<text>[^<]*)</(?P=tag)\s*>")
_XML_ATTR = re.compile(r"""(?P<lead>\s(?P<name>[A-Za-z_][\w.:-]*)\s*=\s*)(?P<q>["'])(?P<value>.*?)(?P=q)""")

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _is_secret(name: str) -> bool:
    local = name.rsplit(":", 1)[-1].strip()  # an XML namespace prefix is not part of the name
    return bool(SECRET_NAME.search(local)) and local.lower() not in NOT_SECRET


# -- JSON ----------------------------------------------------------------------------------------------


def scrub_json(value: Any, *, inside_secret: bool = False) -> Any:
    """Redact the value of every secret-named key; under such a key, every leaf (a secret can be
    wrapped: ``{"token": {"value": ...}}``, ``{"api_key": [...]}``). A string that holds JSON, a
    form, a URL, XML or text is scrubbed as such (JSON inside a JSON string)."""
    if isinstance(value, dict):
        return {k: scrub_json(v, inside_secret=inside_secret or _is_secret(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_json(v, inside_secret=inside_secret) for v in value]
    if inside_secret and value is not None and not isinstance(value, bool):
        return REDACTED
    if isinstance(value, str):
        return scrub_text(value, nested=True)
    return value


# -- text in any shape -------------------------------------------------------------------------------------


def scrub_text(text: str, content_type: str = "", *, nested: bool = False) -> str:
    """``text`` with every secret redacted (both rules); the same object when there is none.

    A body (``nested=False``) that is neither JSON, XML, a form nor a URL is plain text: its
    ``name=value`` / ``name: value`` pairs are scrubbed by name. A string found inside a body
    (``nested=True``: a JSON string, a form value) is scrubbed by name only when it is itself
    JSON, a form, a URL or XML, so record data that merely mentions a word is kept.
    """
    if not text:
        return text
    ctype = content_type.lower()
    original = text
    text = _scrub_credentials(text)
    stripped = text.strip()
    head = stripped[:1]
    out: str | None = None
    if "json" in ctype or head in ("{", "["):
        out = _scrub_json_text(text)
    if out is None and head == "<" and (not nested or stripped.endswith(">")):
        out = _scrub_xml(text)
    if out is None and stripped.startswith(("http://", "https://")):
        out = scrub_url(text) if "?" in text else text
    if out is None and (_FORM.fullmatch(text) or (not nested and "form" in ctype)):
        out = _scrub_form(text)
    if out is None:
        out = text if nested else _scrub_pairs(text)
    out = KNOWN_SECRETS.scrub(out, REDACTED)
    return original if out == original else out


#: A form (``a=1&b=2``): names of URL-safe characters, no spaces anywhere.
_FORM = re.compile(r"[\w.~%+\-\[\]]+=[^&\s]*(?:&[\w.~%+\-\[\]]+=[^&\s]*)*")


def _scrub_credentials(text: str) -> str:
    """``Bearer <token>`` and ``Basic <base64 of user:password>`` become ``... REDACTED``."""

    def credential(match: re.Match[str]) -> str:
        scheme, value = match.group(1), match.group(3)
        if scheme == "Basic":
            try:
                looks = b":" in base64.b64decode(value, validate=True)
            except ValueError:
                looks = False
        else:
            looks = any(not c.isalpha() for c in value)  # a token, not an English word
        return f"{scheme}{match.group(2)}{REDACTED}" if looks else match.group(0)

    return _BEARER.sub(credential, text)


def _scrub_json_text(text: str) -> str | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    scrubbed = scrub_json(data)
    if scrubbed == data:
        return text
    return json.dumps(scrubbed, ensure_ascii=False)


def _scrub_form(text: str) -> str | None:
    pairs = parse_qsl(text, keep_blank_values=True)
    if not pairs:
        return None
    scrubbed = [(k, REDACTED if _is_secret(k) and v else scrub_text(v, nested=True)) for k, v in pairs]
    return text if scrubbed == pairs else urlencode(scrubbed)


def _scrub_xml(text: str) -> str:
    def attrs(match: re.Match[str]) -> str:
        if _is_secret(match["name"]) and match["value"]:
            return f"{match['lead']}{match['q']}{REDACTED}{match['q']}"
        return match.group(0)

    def element(match: re.Match[str]) -> str:
        tag, inner = match["tag"], match["text"]
        if _is_secret(tag) and inner.strip():
            return f"<{tag}{match['attrs']}>{REDACTED}</{tag}>"
        return match.group(0)

    out = _XML_ELEMENT.sub(element, text)
    return re.sub(r"<[A-Za-z_][^<>]*>", lambda m: _XML_ATTR.sub(attrs, m.group(0)), out)


def _scrub_pairs(text: str) -> str:
    def pair(match: re.Match[str]) -> str:
        if _is_secret(match["name"]) and not match["value"].endswith(REDACTED):
            return f"{match['name']}{match['sep']}{match['quote']}{REDACTED}"
        return match.group(0)

    return _PAIR.sub(pair, text)


# -- bodies --------------------------------------------------------------------------------------------


def _charset(content_type: str) -> str | None:
    m = re.search(r"charset\s*=\s*\"?([\w.:-]+)", content_type, re.IGNORECASE)
    if not m:
        return None
    try:
        return codecs.lookup(m.group(1)).name
    except LookupError:
        return None


def _nul_pattern(data: bytes) -> str | None:
    """UTF-16/32 without a BOM, from where the NULs of ASCII characters sit (as RFC 4627 did)."""
    head = data[:64]
    if b"\x00" not in head or len(head) < 4:
        return None
    if len(head) % 4 == 0 and all(head[i : i + 3] == b"\x00\x00\x00" for i in range(0, 8, 4)):
        return "utf-32-be"
    if len(head) % 4 == 0 and all(head[i + 1 : i + 4] == b"\x00\x00\x00" for i in range(0, 8, 4)):
        return "utf-32-le"
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if even > odd:
        return "utf-16-be"
    if odd > even:
        return "utf-16-le"
    return None


def decode_body(data: bytes, content_type: str = "") -> tuple[str, bytes, str] | None:
    """``(text, bom, codec)`` of a body, or None when it is no text in any encoding tried."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec), bom, codec
            except UnicodeDecodeError:
                return None
    charset = _charset(content_type)
    nul = _nul_pattern(data)
    order = [nul] if charset in (None, "utf-16", "utf-32") else [charset]
    for codec in [*order, "utf-8"]:
        if codec is None:
            continue
        if codec in ("utf-16", "utf-32"):
            codec += "-le"
        try:
            return data.decode(codec), b"", codec
        except (UnicodeDecodeError, LookupError):
            continue
    return None


def scrub_body(body: bytes | str | None, content_type: str) -> bytes | str | None:
    """A request or response body with every secret redacted, in its own encoding; the very same
    object when there was nothing to redact."""
    if not body:
        return body
    if isinstance(body, str):
        return scrub_text(body, content_type)
    decoded = decode_body(body, content_type)
    if decoded is None:
        new = KNOWN_SECRETS.scrub_bytes(body, REDACTED)
        return body if new == body else new
    text, bom, codec = decoded
    out = scrub_text(text, content_type)
    if out is text:
        return body
    return bom + out.encode(codec)


# -- URLs and headers ----------------------------------------------------------------------------------


def scrub_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        scrubbed = [(k, REDACTED if _is_secret(k) and v else v) for k, v in pairs]
        if scrubbed != pairs:
            url = urlunsplit(parts._replace(query=urlencode(scrubbed)))
    return KNOWN_SECRETS.scrub(url, REDACTED)


def _header_value(value: str) -> str:
    return KNOWN_SECRETS.scrub(_scrub_credentials(value), REDACTED)


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
        else:
            value = request.headers[name]
            new = _header_value(value) if isinstance(value, str) else value
            if new != value:
                request.headers[name] = new
    request.body = scrub_body(request.body, _header(request.headers, "content-type"))
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if _is_secret(name):
            headers[name] = [REDACTED]
        elif name.lower() == "location":
            headers[name] = [scrub_url(v) for v in headers[name]]
        else:
            headers[name] = [_header_value(v) if isinstance(v, str) else v for v in headers[name]]
    body = response.get("body", {}).get("string")
    new = scrub_body(body, _header(headers, "content-type"))
    if new is not body and new is not None:
        response["body"]["string"] = new
        for name in list(headers):
            if name.lower() == "content-length":
                headers[name] = [str(len(new if isinstance(new, bytes) else new.encode()))]
    return response
