"""A request reaches the entity whose path is the longest one it lies under, among many entities."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from talkqa.systems.generic.profile import Profile
from talkqa.systems.generic.simulator import ApiError
from tests.systems.helpers import Api, entity, store


def test_nested_entity_paths_each_get_their_own_requests() -> None:
    profile = Profile(slug="crm", entity_paths={"Deal": "/crm/deals", "Deal note": "/crm/deals/notes"})
    target = store(entity("crm", "Deal", {"name": "string"}), entity("crm", "Deal note", {"text": "string"}),
                   *(entity("crm", f"Other {i}", {"x": "string"}) for i in range(200)),
                   profiles={"crm": profile})
    api = Api(target, "crm")
    deal = api.create("/crm/deals", {"name": "big"})
    note = api.create("/crm/deals/notes", {"text": "call back"})
    assert api.get(f"/crm/deals/{deal['id']}").json()["name"] == "big"
    assert api.get(f"/crm/deals/notes/{note['id']}").json()["text"] == "call back"
    assert api.get(f"/crm/deals/{note['id']}x").status_code == 404  # no such deal
    assert api.get("/other-7").status_code == 200  # an entity of its own path
    assert api.post("/nowhere", {}).status_code == 404


def longest_under(paths: list[str], rest: str) -> str | None:
    """The rule, spelled out: among the paths ``rest`` equals or lies under, the longest."""
    inside = [p for p in paths if rest == p or rest.startswith(p + "/")]
    return max(inside, key=len) if inside else None


SEGMENTS = st.sampled_from(["a", "b", "ab", "c"])
PATHS = st.lists(SEGMENTS, min_size=1, max_size=3).map(lambda parts: "/" + "/".join(parts))


@given(paths=st.lists(PATHS, min_size=1, max_size=6, unique=True), rest=st.lists(
    st.sampled_from(["a", "b", "ab", "c", "", "7"]), min_size=1, max_size=4).map(lambda p: "/" + "/".join(p)))
def test_the_lookup_finds_what_the_rule_says(paths: list[str], rest: str) -> None:
    labels = {f"E{i}": p for i, p in enumerate(paths)}
    target = store(*(entity("s", label, {"x": "string"}) for label in labels),
                   profiles={"s": Profile(slug="s", entity_paths=labels)})
    expected = longest_under(paths, rest)
    try:
        _entity, path, _tail = target._entity_for("s", rest)
    except ApiError:
        path = None
    assert path == expected
