"""The shipped HubSpot profile (talkqa/systems/profiles/hubspot.toml): it loads, names its sources and
guesses, maps every HubSpot entity label of the corpus to an API path, resolves the corpus's deal
condition, and a generic connector configured by it round-trips records against a generic store that
speaks the same profile: properties nested and sent as text, ``?properties=`` reads, ``results`` and
``paging.next.after``, a nested ref field found by scanning, changes filtered client-side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from generator.parser import parse_file
from talkqa.sync.predicates import resolve
from talkqa.systems.generic import GenericSystem
from talkqa.systems.generic.connector import GenericConnector
from talkqa.systems.generic.profile import PROFILE_DIR, Profile, find_profiles, load_profile
from tests.spec.conftest import corpus_dir
from tests.spec.docwriter import FlowSpec, RowSpec
from tests.systems.helpers import WAYS, Api, document, simulated

FILE = PROFILE_DIR / "hubspot.toml"
CONDITION = "When a HubSpot Deal has a 100% probability of beeing sold"
PROBABILITY = "properties.hs_deal_stage_probability"

DOC = document("HubSpot", "Acme", FlowSpec("Company", "Organisation", "always", rows=(
    RowSpec("id", "CompanyId", '"string"'),
    RowSpec("properties.name", "Name", '"string"'),
    RowSpec("properties.numberofemployees", "Staff", '"integer"'),
    RowSpec("properties.is_public", "Listed", '"boolean"'),
    RowSpec("properties.annualrevenue", "Revenue", '"float"'),
)), FlowSpec("Deal", "Order", "when", condition="has a 100% probability of beeing sold", rows=(
    RowSpec("properties.dealname", "Title", '"string"'),
    RowSpec("properties.amount", "Total", '"float"'),
)))
COMPANIES = "/crm/v3/objects/companies"
NAMES = "annualrevenue,is_public,name,numberofemployees,talkqa_ref"


@pytest.fixture(scope="module")
def hubspot() -> Profile:
    return find_profiles()["hubspot"]


def system(profile: Profile) -> GenericSystem:
    return GenericSystem([DOC], {"hubspot": profile})


def test_the_profile_loads_and_names_its_sources_and_guesses(hubspot: Profile) -> None:
    assert load_profile(FILE) == hubspot
    assert (hubspot.base_url, hubspot.envelope, hubspot.id_field, hubspot.modified_field) == (
        "https://api.hubapi.com", "results", "id", "updatedAt")
    assert (hubspot.paging, hubspot.cursor_param, hubspot.next_cursor_path, hubspot.page_size) == (
        "cursor", "after", "paging.next.after", 100)
    assert hubspot.auth_type == "bearer"
    assert hubspot.since_param == "" and hubspot.ref_filter_param == ""
    assert hubspot.text_values == ("properties",) and hubspot.select_param == "properties"
    head = "".join(line for line in FILE.read_text(encoding="utf-8").splitlines(keepends=True)
                   if line.startswith("#"))
    assert hubspot.sources and all(url.startswith("https://") and url in head for url in hubspot.sources)
    assert len(hubspot.guesses) >= 5 and "Guesses" in head


@pytest.mark.corpus
def test_every_hubspot_entity_label_of_the_corpus_has_an_api_path(hubspot: Profile,
                                                                 request: pytest.FixtureRequest) -> None:
    folder = corpus_dir(request.config)
    if folder is None or not folder.is_dir():
        pytest.skip("no corpus (set --corpus or TALKQA_CORPUS)")
    labels: set[str] = set()
    conditions: set[str] = set()
    for path in sorted({*folder.glob("hubspot-*.rst"), *folder.glob("*-hubspot.rst")}):
        doc = parse_file(path)
        for flow in doc.flows:
            if doc.source_system.slug == "hubspot":
                labels.add(flow.source_label)
                if flow.condition:
                    conditions.add(flow.condition)
            if doc.target_system.slug == "hubspot":
                labels.add(flow.target_label)
    assert labels, "no HubSpot flows in the corpus"
    assert sorted(labels - set(hubspot.entity_paths)) == []
    for condition in conditions:  # every condition the corpus puts on HubSpot records is understood
        assert resolve(condition, "hubspot", {"hubspot": hubspot}) is not None, condition


def test_the_deal_condition_is_the_probability_property_at_one(hubspot: Profile) -> None:
    predicate = resolve(CONDITION, "hubspot", {"hubspot": hubspot})
    assert predicate is not None
    assert (predicate.path, predicate.equals) == (PROBABILITY, 1.0)
    assert predicate({"properties": {"hs_deal_stage_probability": 1.0}})
    assert not predicate({"properties": {"hs_deal_stage_probability": predicate.failing()}})
    other = resolve("When a HubSpot Deal has a 90% probability of beeing sold", "hubspot", {"hubspot": hubspot})
    assert other is not None and (other.path, other.equals) == (PROBABILITY, 0.9)  # the [conventions] entry


def spy_params(connector: GenericConnector) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    request = connector.http.request

    def recording(method: str, url: str, **kw: Any) -> Any:
        sent.append(dict(kw.get("params") or {}))
        return request(method, url, **kw)

    connector.http.request = recording  # type: ignore[method-assign]
    return sent


@pytest.mark.parametrize("way", WAYS)
def test_a_connector_configured_by_the_profile_round_trips_records(hubspot: Profile, way: str) -> None:
    with simulated(system(hubspot), way) as sim:
        companies = sim.open("hubspot", "Company")
        assert companies.url.endswith("/hubspot/main" + COMPANIES)
        made = companies.create({"properties": {"name": "Acme AS", "numberofemployees": 12, "is_public": False,
                                                "annualrevenue": 1500.5}}, external_ref="ref-1")
        api = Api(sim.store, "hubspot")
        wire = api.get(f"{COMPANIES}/{made}", properties=NAMES).json()
        assert wire["id"] == made == "1" and wire["updatedAt"].endswith("Z")
        assert wire["properties"] == {"name": "Acme AS", "numberofemployees": "12", "is_public": "false",
                                      "annualrevenue": "1500.5", "talkqa_ref": "ref-1"}  # every value is text
        assert api.get(f"{COMPANIES}/{made}").json()["properties"] == {}  # nothing asked, nothing returned
        expected = {"id": "1", "properties": {"name": "Acme AS", "numberofemployees": 12, "is_public": False,
                                              "annualrevenue": 1500.5}}
        assert companies.get(made) == expected  # back in the fields' kinds
        assert companies.find_by_external_ref("ref-1") == made
        assert companies.find_by_external_ref("ref-2") is None

        other = companies.create({"properties": {"name": "Other"}})
        first = companies.changed_since(None)
        assert [c.id for c in first.changes] == [made, other]
        sent = spy_params(companies)
        companies.update(made, {"properties": {"numberofemployees": 13, "is_public": True}})
        later = companies.changed_since(first.watermark)
        assert [(c.id, c.record["properties"]["numberofemployees"]) for c in later.changes] == [(made, 13)]
        assert sent[-1] == {"properties": NAMES, "limit": 100}  # no "changed after" parameter: filtered here
        assert api.get(f"{COMPANIES}/{made}", properties="is_public").json()["properties"] == {"is_public": "true"}
        companies.update(made, {"properties": {"numberofemployees": None}})
        assert companies.get(made)["properties"]["numberofemployees"] is None


def test_the_store_takes_property_values_only_as_text_of_the_field_s_kind(hubspot: Profile) -> None:
    with simulated(system(hubspot)) as sim:
        api = Api(sim.store, "hubspot")
        for properties in ({"numberofemployees": 12}, {"numberofemployees": "twelve"}, {"is_public": "yes"},
                           {"annualrevenue": "1,5"}, {"name": 5}, {"nickname": "x"}):
            resp = api.post(COMPANIES, {"properties": properties})
            assert resp.status_code == 400, properties
            assert next(iter(properties)) in resp.json()["error"]
        made = api.create(COMPANIES, {"properties": {"numberofemployees": "-3", "is_public": "TRUE",
                                                     "annualrevenue": "2e3", "name": ""}})
        assert api.patch(f"{COMPANIES}/{made['id']}", {"properties": {"numberofemployees": ""}}).status_code == 200
        assert api.post(COMPANIES, {"properties": {}, "updatedAt": "x"}).status_code == 400
        assert api.post(COMPANIES, {"properties": {}, "id": "9"}).status_code == 400
        assert Api(sim.store, "hubspot", token=None).get(COMPANIES).status_code == 401


def test_lists_page_by_after_at_most_one_hundred_records(hubspot: Profile) -> None:
    with simulated(system(hubspot)) as sim:
        api = Api(sim.store, "hubspot")
        made = [api.create(COMPANIES, {"properties": {"name": f"c{i}"}})["id"] for i in range(205)]
        page = api.get(COMPANIES, limit=500).json()
        assert len(page["results"]) == 100 and page["paging"]["next"]["after"]
        last = api.get(COMPANIES, after=api.get(COMPANIES, after=page["paging"]["next"]["after"]).json()
                       ["paging"]["next"]["after"]).json()
        assert len(last["results"]) == 5 and not (last.get("paging") or {}).get("next", {}).get("after")
        companies = sim.open("hubspot", "Company")
        assert sorted(c.id for c in companies.iter_all()) == sorted(made)
        assert companies.http.stats.requests == 3


def test_the_deal_probability_travels_as_text_and_decides_the_flow(hubspot: Profile) -> None:
    with simulated(system(hubspot)) as sim:
        deals = sim.open("hubspot", "Deal")
        assert deals.fields[PROBABILITY].kind == "float"
        predicate = resolve(CONDITION, "hubspot", {"hubspot": hubspot})
        assert predicate is not None
        won = deals.create({"properties": {"dealname": "won", "hs_deal_stage_probability": 1.0}})
        open_ = deals.create({"properties": {"dealname": "open", "hs_deal_stage_probability": 0.5}})
        wire = Api(sim.store, "hubspot").get(f"/crm/v3/objects/deals/{won}", properties="hs_deal_stage_probability")
        assert wire.json()["properties"] == {"hs_deal_stage_probability": "1.0"}
        assert predicate(deals.get(won)) and not predicate(deals.get(open_))


def test_a_profile_folder_on_talkqa_profiles_wins(tmp_path: Path, hubspot: Profile) -> None:
    (tmp_path / "hubspot.toml").write_text('[system]\nslug = "hubspot"\n[paging]\npage_size = 7\n')
    found = find_profiles({"TALKQA_PROFILES": str(tmp_path)})
    assert found["hubspot"].page_size == 7
    assert find_profiles({})["hubspot"] == hubspot
