"""Profiles as files: every key lands where it should, and a malformed profile is refused with a
message naming the file and the key (a typo must not silently fall back to a default)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from talkqa.sync.predicates import Conventions, Predicate
from talkqa.systems.generic.profile import Profile, ProfileError, load_profile, profile_from_mapping

GOOD = """\
[system]
slug = "acme"
sources = ["https://example.com/api"]
guesses = ["paging"]

[api]
base_url = "https://api.example.com"
envelope = "items"
text_values = ["attributes"]
select_param = "fields"
select_prefix = "attributes"
lists = ["Emails"]

[auth]
type = "oauth2_client_credentials"
token_url = "oauth/token"

[paging]
style = "page"
page_size = 25

[fields]
"name" = "attributes.full_name"

[entities.Person]
path = "/v2/people"
required = ["name"]

[predicates."When a Acme Person is special"]
path = "attributes.special"
equals = true

[conventions]
type_field = "attributes.kind"
"""


def test_every_table_lands_in_the_profile(tmp_path: Path) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(GOOD, encoding="utf-8")
    p = load_profile(path)
    assert (p.slug, p.base_url, p.envelope, p.auth_type, p.token_url, p.paging, p.page_size) == (
        "acme", "https://api.example.com", "items", "oauth2_client_credentials", "oauth/token", "page", 25)
    assert p.sources == ("https://example.com/api",) and p.guesses == ("paging",)
    assert p.text_values == ("attributes",) and p.lists == ("Emails",)
    assert p.entity_path("Person") == "/v2/people" and p.entity_path("Other Thing") == "/other-thing"
    assert p.required_for("Person") == ("name",) and p.wire_name("name") == "attributes.full_name"
    assert p.predicates["When a Acme Person is special"] == Predicate("attributes.special", True, False,
                                                                       "When a Acme Person is special")
    assert p.conventions == Conventions(type_field="attributes.kind")
    assert p.file == str(path)


def test_text_values_and_selection_name_the_wire_paths_under_their_prefix() -> None:
    p = Profile(text_values=("properties",), select_param="properties", select_prefix="properties")
    assert p.text_prefix("properties.amount") == "properties"
    assert p.text_prefix("properties") is None and p.text_prefix("id") is None
    assert p.selected_name("properties.amount") == "amount"
    assert p.selected_name("associations.companies.results.id") is None
    assert Profile().selected_name("properties.amount") is None  # no select_param: every read returns all


@pytest.mark.parametrize(("raw", "message"), [
    ({"nonsense": 1}, "unknown key 'nonsense'"),
    ({"pagination": {"style": "cursor"}}, "unknown table(s): pagination"),
    ({"paging": {"page_size": "10"}}, "page_size must be of type int"),
    ({"paging": {"page_size": True}}, "page_size must be of type int"),
    ({"paging": {"page_size": 0}}, "page_size must be at least 1"),
    ({"paging": {"style": "scroll"}}, "paging.style must be one of"),
    ({"auth": {"type": "magic"}}, "auth.type must be one of"),
    ({"api": {"envelope": 3}}, "envelope must be of type str"),
    ({"api": {"text_values": "properties"}}, "text_values must be a list"),
    ({"api": {"select_param": "properties"}}, "select_param needs select_prefix"),
    ({"entities": {"Person": "/people"}}, "entities.'Person' must be a table"),
    ({"entities": {"Person": {"required": "name"}}}, "required is a list"),
    ({"predicates": {"When": "x"}}, "must be a table"),
    ({"conventions": {"probability": "p"}}, "unknown key(s) in [conventions]: probability"),
])
def test_a_malformed_profile_is_refused_by_file_and_key(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ProfileError) as refused:
        profile_from_mapping(raw, "profiles/acme.toml")
    assert str(refused.value).startswith("profiles/acme.toml: ")
    assert message in str(refused.value)


def test_an_unreadable_or_invalid_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read profile"):
        load_profile(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[api\nenvelope = 1\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=str(bad)):
        load_profile(bad)
