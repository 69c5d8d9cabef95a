"""One test's view of the reference sync running against the simulators over HTTP.

The sync and the "user" (who edits records between cycles) talk to the simulators through
separate :class:`Connections`; set-up and assertions go through the admin channel, so they
never show up as API requests. Write requests are counted from the simulators' request logs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from generator.model import Document
from generator.parser import parse_file
from talkqa.connectors.base import ResourceConnector
from talkqa.connectors.config import Endpoints
from talkqa.connectors.registry import Connections, connector_for
from talkqa.simulators.launcher import Simulators
from talkqa.sync.engine import Summary, SyncEngine, flow_key
from talkqa.sync.state import SyncState

ROOT = Path(__file__).resolve().parents[2]
SEED_DOC = ROOT / "spec" / "powerofficego-exact.rst"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
TOKEN_PATHS = ("/OAuth/Token", "/api/oauth2/")
CONTACTPERSON, SUPPLIER = 0, 1  # the seed document's flows, in document order


def is_write(entry: dict[str, Any]) -> bool:
    """An API write (token requests are POSTs too, but write no record)."""
    return entry["method"] in WRITE_METHODS and not any(p.lower() in entry["path"].lower() for p in TOKEN_PATHS)


class Harness:
    def __init__(self, sims: Simulators, tmp_path: Path, document: Path = SEED_DOC) -> None:
        self.sims = sims
        self.tmp = tmp_path
        self.po = sims.poweroffice.admin
        self.ex = sims.exact.admin
        self.parent = self.po.seed("customers", {"name": "talkqa parent customer"})["id"]
        self.endpoints = Endpoints.from_simulators(
            sims, rate_limits=False, token_store=tmp_path / "exact-tokens.json", v1_parent=f"Customer:{self.parent}"
        )
        self.conns = Connections(self.endpoints, clock=sims.clock, seed=3)
        self.user = Connections(self.endpoints, clock=sims.clock, seed=4)
        self.state_path = tmp_path / "sync.sqlite"
        self.state = SyncState(self.state_path)
        self.use(document)

    def close(self) -> None:
        self.conns.close()
        self.user.close()
        self.state.close()

    # -- the document and the sync -----------------------------------------------------------------

    def use(self, document: Path) -> None:
        self.doc_path = document
        self.document: Document = parse_file(str(document))

    def engine(self) -> SyncEngine:
        cache: dict[tuple[str, str], ResourceConnector] = {}

        def resolve(slug: str, label: str) -> ResourceConnector:
            if (slug, label) not in cache:
                cache[(slug, label)] = connector_for(slug, label, self.endpoints, connections=self.conns)
            return cache[(slug, label)]

        return SyncEngine(self.document, resolve, self.state)

    def sync(self, *, errors: bool = False) -> Summary:
        summary = self.engine().run_once()
        if not errors:
            assert not summary.errors, summary.errors
        return summary

    def key(self, index: int) -> str:
        return flow_key(self.document, index, self.document.flows[index])

    def target_of(self, index: int, source_id: str) -> str:
        link = self.state.link_for_source(self.key(index), source_id)
        assert link is not None, f"{source_id} is not linked by flow {index}"
        return link.target_id

    # -- the user's side: API connectors ---------------------------------------------------------------

    def connector(self, slug: str, label: str) -> ResourceConnector:
        return connector_for(slug, label, self.endpoints, connections=self.user)

    def v1(self) -> ResourceConnector:
        return self.connector("powerofficego", "Contactperson")

    def v2(self) -> ResourceConnector:
        return self.connector("powerofficego", "Suppliers person")

    def exact(self) -> ResourceConnector:
        return self.connector("exact", "Contacts")

    # -- seeding and reading raw records (admin channel) -----------------------------------------------

    def contact_person(self, **fields: Any) -> str:
        """A v1 contact person under the parent customer; returns the connector's record id."""
        raw = self.po.seed("contactpersons", {"partyId": self.parent, **fields})
        return f"Customer/{self.parent}/{raw['id']}"

    def supplier(self, **fields: Any) -> str:
        return str(self.po.seed("suppliers", fields)["Id"])

    def raw_contact_person(self, record_id: str) -> dict[str, Any]:
        return self.po.state()["contactpersons"][record_id.rsplit("/", 1)[1]]

    def raw_supplier(self, supplier_id: str) -> dict[str, Any]:
        return self.po.state()["suppliers"][supplier_id]

    def exact_contacts(self) -> dict[str, dict[str, Any]]:
        return self.ex.state()["contacts"]

    def raw_exact(self, contact_id: str) -> dict[str, Any]:
        return self.exact_contacts()[contact_id]

    # -- request logs --------------------------------------------------------------------------------

    def mark(self) -> tuple[int, int]:
        return len(self.po.requests()), len(self.ex.requests())

    def requests_since(self, mark: tuple[int, int]) -> list[dict[str, Any]]:
        po, ex = self.po.requests()[mark[0] :], self.ex.requests()[mark[1] :]
        return [{**r, "system": "powerofficego"} for r in po] + [{**r, "system": "exact"} for r in ex]

    def writes_since(self, mark: tuple[int, int]) -> list[dict[str, Any]]:
        return [r for r in self.requests_since(mark) if is_write(r)]
