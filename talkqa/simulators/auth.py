"""Small helpers for the token endpoints."""
from __future__ import annotations

import base64
import binascii
import secrets
from urllib.parse import parse_qs

from starlette.requests import Request


def new_token(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as a flat dict (first value wins)."""
    raw = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """(user, password) from an ``Authorization: Basic`` header, or None."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        user, sep, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, or None (read off the scope once per request:
    the simulator's core and its handler both ask)."""
    scope = request.scope
    if _BEARER in scope:
        return scope[_BEARER]  # type: ignore[no-any-return]
    header = next((v for k, v in scope["headers"] if k == b"authorization"), b"").decode("latin-1")
    scheme, _, value = header.partition(" ")
    token = scope[_BEARER] = value.strip() or None if scheme.lower() == "bearer" else None
    return token


#: where a request's scope keeps its bearer token once read
_BEARER = "talkqa.bearer"
