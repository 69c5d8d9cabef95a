"""Declarative profiles: how a real JSON/HTTP API looks, so the generic connector can speak to it.

A profile is a TOML file per system (``talkqa/systems/profiles/<slug>.toml`` ship with talkqa;
``$TALKQA_PROFILES`` names more folders). Every key is optional; the defaults describe the generic
simulator's own shape. The generic simulator speaks whatever shape the profile describes, so a
profile is tested end to end before it meets the real API. See ``docs/systems.md`` for every key.
"""

from __future__ import annotations

import functools
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from talkqa.sync.predicates import Conventions, Predicate
from talkqa.systems.generic.schema import entity_segment

PROFILE_DIR = Path(__file__).resolve().parent.parent / "profiles"
AUTH_TYPES = ("bearer", "api_key", "oauth2_client_credentials", "oauth2_refresh_token", "none")
PAGING_STYLES = ("cursor", "page", "offset", "next_link", "none")


class ProfileError(ValueError):
    """A profile file is malformed (the message names the file and key)."""


@dataclass(frozen=True)
class Profile:
    slug: str = ""
    title: str = ""
    # where and how
    base_url: str = ""
    entity_paths: Mapping[str, str] = field(default_factory=dict)  # entity label -> path under base_url
    envelope: str = "data"  # where a list response holds its records (dotted; "" = the body is the list)
    single_envelope: str = ""  # where a get/create response holds the record ("" = the body)
    id_field: str = ""  # the wire identifier ("" = as the documents spell it, else "id")
    modified_field: str = "updated_at"  # the wire's last-modified timestamp (ISO 8601)
    since_param: str = "updated_after"  # query parameter for "changed after" ("" = filter client-side)
    ref_field: str = "talkqa_ref"  # a field that keeps the sync's external reference
    ref_filter_param: str = "talkqa_ref"  # query parameter to find a record by it ("" = scan)
    update_method: str = "PATCH"
    # what the API sends back
    text_values: tuple[str, ...] = ()  # wire prefixes whose leaf values travel as JSON strings (HubSpot properties)
    select_param: str = ""  # query parameter naming, comma-separated, the fields a read returns ("" = all)
    select_prefix: str = ""  # the wire object those names are relative to (``properties``)
    # auth
    auth_type: str = "bearer"
    auth_header: str = "Authorization"  # for api_key (bearer always uses Authorization)
    token_url: str = ""  # for oauth2 types, relative to base_url unless absolute
    # paging
    paging: str = "cursor"
    page_size: int = 10  # small, so a volume check (two pages and one) stays cheap; real APIs state theirs
    size_param: str = "limit"
    cursor_param: str = "cursor"
    next_cursor_path: str = "next_cursor"
    next_link_path: str = "next"
    page_param: str = "page"
    offset_param: str = "offset"
    # schema additions
    required: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # entity label -> paths
    lists: tuple[str, ...] = ()  # path prefixes that are lists on the wire (``Emails`` of ``Emails.Value``)
    field_names: Mapping[str, str] = field(default_factory=dict)  # canonical path -> wire path
    predicates: Mapping[str, Predicate] = field(default_factory=dict)  # condition text -> predicate
    conventions: Conventions = field(default_factory=Conventions)  # the fields the documents' wordings mean
    sources: tuple[str, ...] = ()
    guesses: tuple[str, ...] = ()
    file: str = ""

    def entity_path(self, label: str) -> str:
        return self.entity_paths.get(label.strip()) or "/" + entity_segment(label)

    def wire_name(self, path: str) -> str:
        return self.field_names.get(path, path)

    def required_for(self, label: str) -> tuple[str, ...]:
        return tuple(self.required.get(label.strip(), ())) + tuple(self.required.get("*", ()))

    def text_prefix(self, wire_path: str) -> str | None:
        """The ``text_values`` prefix ``wire_path`` lies under, if any."""
        for prefix in self.text_values:
            if wire_path.startswith(prefix + "."):
                return prefix
        return None

    def selected_name(self, wire_path: str) -> str | None:
        """The name ``select_param`` asks for to get ``wire_path`` back; None when every read returns it."""
        if not self.select_param:
            return None
        if wire_path.startswith(self.select_prefix + "."):
            return wire_path[len(self.select_prefix) + 1:].split(".", 1)[0]
        return None


DEFAULT = Profile()
_SCALARS = {f.name for f in fields(Profile)} - {
    "entity_paths", "required", "lists", "field_names", "predicates", "sources", "guesses", "file", "conventions",
    "text_values",
}


_TABLES = ("system", "api", "auth", "paging", "entities", "fields", "predicates", "conventions")


def load_profile(path: str | os.PathLike[str]) -> Profile:
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{p}: cannot read profile: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{p}: {exc}") from None
    return profile_from_mapping(raw, str(p))


def profile_from_mapping(raw: Mapping[str, Any], where: str = "<profile>") -> Profile:
    """Flatten the TOML tables (``[system]``, ``[api]``, ``[auth]``, ``[paging]``, ...) into a Profile."""
    values: dict[str, Any] = {"file": where}
    sections = {k: v for k, v in raw.items() if isinstance(v, dict)}
    unknown_tables = set(sections) - set(_TABLES)
    if unknown_tables:
        raise ProfileError(f"{where}: unknown table(s): {', '.join(sorted(unknown_tables))}")
    for name, value in raw.items():
        if not isinstance(value, dict):
            _scalar(values, name, value, where)
    for section in ("system", "api", "auth", "paging"):
        for name, value in sections.get(section, {}).items():
            key = {"type": "auth_type", "header": "auth_header", "style": "paging"}.get(name, name) \
                if section in ("auth", "paging") else name
            _scalar(values, key, value, where)
    entities = sections.get("entities", {})
    for label, spec in entities.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("required", []), list):
            raise ProfileError(f"{where}: entities.{label!r} must be a table whose required is a list")
    values["entity_paths"] = {label: str(spec.get("path", "")) for label, spec in entities.items()
                              if isinstance(spec, dict) and spec.get("path")}
    values["required"] = {label: tuple(spec.get("required", ())) for label, spec in entities.items()
                          if isinstance(spec, dict) and spec.get("required")}
    values["field_names"] = {str(k): str(v) for k, v in sections.get("fields", {}).items()}
    preds: dict[str, Predicate] = {}
    for text, spec in sections.get("predicates", {}).items():
        if not isinstance(spec, dict):
            raise ProfileError(f"{where}: predicates.{text!r} must be a table")
        preds[text] = Predicate(path=str(spec.get("path", "")), equals=spec.get("equals"),
                                never=bool(spec.get("never", False)), text=text)
    values["predicates"] = preds
    conv = sections.get("conventions", {})
    unknown = set(conv) - {f.name for f in fields(Conventions)}
    if unknown:
        raise ProfileError(f"{where}: unknown key(s) in [conventions]: {', '.join(sorted(unknown))}")
    values["conventions"] = Conventions(**{k: str(v) for k, v in conv.items()})
    profile = Profile(**values)
    if profile.auth_type not in AUTH_TYPES:
        raise ProfileError(f"{where}: auth.type must be one of {', '.join(AUTH_TYPES)}")
    if profile.paging not in PAGING_STYLES:
        raise ProfileError(f"{where}: paging.style must be one of {', '.join(PAGING_STYLES)}")
    if profile.select_param and not profile.select_prefix:
        raise ProfileError(f"{where}: select_param needs select_prefix (the object whose fields it names)")
    if profile.page_size < 1:
        raise ProfileError(f"{where}: paging.page_size must be at least 1")
    return profile


def _scalar(values: dict[str, Any], key: str, value: Any, where: str) -> None:
    if key in ("lists", "sources", "guesses", "text_values"):
        if not isinstance(value, list):
            raise ProfileError(f"{where}: {key} must be a list of strings")
        values[key] = tuple(str(v) for v in value)
    elif key in _SCALARS:
        default = getattr(DEFAULT, key)
        if isinstance(value, bool) or not isinstance(value, type(default)):
            raise ProfileError(f"{where}: {key} must be of type {type(default).__name__}, not {value!r}")
        values[key] = value
    elif key not in ("entities", "fields", "predicates", "conventions"):
        raise ProfileError(f"{where}: unknown key {key!r}")


def profile_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    env = os.environ if env is None else env
    extra = [Path(p) for p in env.get("TALKQA_PROFILES", "").split(os.pathsep) if p]
    return [*extra, PROFILE_DIR]


def find_profiles(env: Mapping[str, str] | None = None) -> dict[str, Profile]:
    """Every profile by system slug (a folder earlier in ``$TALKQA_PROFILES`` wins). Read once per set
    of files: a changed or added file is read again."""
    files: list[tuple[str, int, int]] = []
    for folder in reversed(profile_dirs(env)):
        if folder.is_dir():
            for path in sorted(folder.glob("*.toml")):
                st = path.stat()
                files.append((str(path), st.st_mtime_ns, st.st_size))
    return _load_all(tuple(files))  # shared: do not change it


@functools.lru_cache(maxsize=16)
def _load_all(files: tuple[tuple[str, int, int], ...]) -> dict[str, Profile]:
    found: dict[str, Profile] = {}
    for path, _mtime, _size in files:
        profile = load_profile(path)
        found[profile.slug or Path(path).stem] = profile
    return found
