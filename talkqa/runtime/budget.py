"""A sandbox run's API budget: the most calls it makes per system, shared by its processes.

Every request a connector's transport (:class:`talkqa.connectors.http.SystemClient`) attempts asks
:meth:`RunBudget.take` first; once a system's budget is spent the request is refused with
:class:`BudgetSpent`, which the plugin reports as "not run: API budget of SYSTEM spent (N calls)"
(never as a pass). The counts live in one small JSON file under an exclusive ``flock``, so the
pytest-xdist workers of one run share one budget. The same file keeps what checks cost so far
(per check, per fuzz example), from which a fuzz test plans how many examples fit
(:func:`plan_examples`). docs/sandboxes.md says what each figure means.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from talkqa.verdicts import BUDGET_PREFIX  # how a check not run for want of budget is reported

#: The budget of a system whose plugin states no daily quota (PowerOffice Go states a rate per second,
#: the generic system knows none): as Exact Online's 5,000 calls a day.
DEFAULT_BUDGET = 5000



#: Share of the remaining budget a plan leaves unplanned: checks vary in cost around their average.
SAFETY = 0.1


class BudgetSpent(Exception):
    """A system's API budget is spent. Not a ConnectorError: no sync or check catches it."""

    def __init__(self, system: str, calls: int, need: int = 0) -> None:
        super().__init__(system, calls, need)
        self.system = system
        self.calls = calls
        self.need = need  # what a check costs on average, when that is more than is left

    def __str__(self) -> str:
        more = f"; a check costs about {self.need}" if self.need else ""
        return f"{BUDGET_PREFIX}{self.system} spent ({self.calls} calls{more})"


def parse_budget(value: Any) -> tuple[int | None, dict[str, int]]:
    """``N`` -> (N, {}); ``exact=500,powerofficego=2000`` -> (None, {...}); ValueError otherwise."""
    text = str(value).strip() if value is not None else ""
    if not text:
        raise ValueError("must be N or SLUG=N[,SLUG=N...], not empty")
    every: int | None = None
    per: dict[str, int] = {}
    for part in text.split(","):
        slug, eq, number = part.strip().rpartition("=")
        try:
            n = int(number)
        except ValueError:
            raise ValueError(f"must be N or SLUG=N[,SLUG=N...], not {text!r}") from None
        if n < 0 or (eq and not slug.strip()):
            raise ValueError(f"must be N or SLUG=N[,SLUG=N...] with N >= 0, not {text!r}")
        if eq:
            per[slug.strip().lower()] = n
        else:
            every = n
    return every, per


def budgets(setting: str | None, quota_of: Callable[[str], int | None]) -> Callable[[str], int]:
    """The budget of a system key (``exact``, ``hubspot#target``): the setting's, else its plugin's daily
    quota, else :data:`DEFAULT_BUDGET`. A second tenant has its own budget (another company)."""
    every, per = parse_budget(setting) if setting else (None, {})

    def of(system: str) -> int:
        slug = system.split("#", 1)[0]
        if system in per:
            return per[system]
        if slug in per:
            return per[slug]
        if every is not None:
            return every
        quota = quota_of(slug)
        return quota if quota is not None else DEFAULT_BUDGET

    return of


class RunBudget:
    """The calls of one run per system (all its processes), checked against ``budget_of``."""

    def __init__(self, path: Path, budget_of: Callable[[str], int]) -> None:
        self.path = path
        self.budget_of = budget_of
        self.local: Counter[str] = Counter()  # calls this process made
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError), open(path, "x", encoding="utf-8") as f:
            f.write("{}")

    @contextlib.contextmanager
    def _data(self, write: bool = True) -> Iterator[dict[str, Any]]:
        fd = os.open(self.path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if write else fcntl.LOCK_SH)
            raw = b""
            while chunk := os.read(fd, 65536):
                raw += chunk
            data = json.loads(raw or b"{}")
            yield data
            if write:
                out = json.dumps(data).encode()
                os.lseek(fd, 0, os.SEEK_SET)
                os.ftruncate(fd, 0)
                os.write(fd, out)
        finally:
            os.close(fd)  # closing drops the lock

    def take(self, system: str) -> None:
        """Count one request of ``system``, or raise :class:`BudgetSpent` when its budget is spent."""
        with self._data() as data:
            calls = data.setdefault("calls", {})
            made = calls.get(system, 0)
            if made >= self.budget_of(system):
                raise BudgetSpent(system, made)
            calls[system] = made + 1
        self.local[system] += 1

    def calls(self) -> dict[str, int]:
        with self._data(write=False) as data:
            return dict(data.get("calls", {}))

    def spent(self, systems: list[str], kind: str = "check") -> BudgetSpent | None:
        """The first of ``systems`` whose budget is spent, or too short for what a check of ``kind``
        (``check``, ``example``) has cost on average so far (a check started is not left half done, its
        records not left behind), else None."""
        with self._data(write=False) as data:
            calls = data.get("calls", {})
            costs = data.get("costs", {}).get(kind, {})
        for system in systems:
            made = calls.get(system, 0)
            need = math.ceil(_dearest(costs, system))
            if made >= self.budget_of(system):
                return BudgetSpent(system, made)
            if made + need > self.budget_of(system):
                return BudgetSpent(system, made, need)
        return None

    def note(self, kind: str, cost: Mapping[str, int], count: int = 1, group: str = "") -> None:
        """A check (``kind`` ``check``) or ``count`` fuzz examples (``example``) of ``group`` (a flow: its
        entities decide what a check costs) cost ``cost`` calls."""
        with self._data() as data:
            costs = data.setdefault("costs", {}).setdefault(kind, {})
            for system, n in cost.items():
                total, seen = costs.setdefault(group, {}).get(system, [0, 0])
                costs[group][system] = [total + n, seen + count]
            if kind == "check":
                data["checks_done"] = data.get("checks_done", 0) + 1
            else:
                data["fuzz_done"] = data.get("fuzz_done", 0) + 1

    def plan(self, systems: list[str], full: int, checks: int, fuzz: int) -> int:
        """Examples a fuzz test may run so that the checks and fuzz tests still to come fit every budget
        (``checks`` and ``fuzz``: how many the run has in all)."""
        with self._data(write=False) as data:
            calls = data.get("calls", {})
            costs = data.get("costs", {})
            left_checks = max(0, checks - data.get("checks_done", 0))
            left_fuzz = max(1, fuzz - data.get("fuzz_done", 0))
        n = full
        for system in systems:  # the dearest flow's average: the tests still to come may all be like it
            per_check = _dearest(costs.get("check", {}), system)
            per_example = _dearest(costs.get("example", {}), system) or per_check
            if not per_example:
                continue  # nothing measured yet: the budget still caps it
            remaining = self.budget_of(system) - calls.get(system, 0)
            n = min(n, plan_examples(full, remaining, per_check or per_example, per_example, left_checks, left_fuzz))
        return n


def _average(entry: list[int] | None) -> float:
    return entry[0] / entry[1] if entry and entry[1] else 0.0


def _dearest(groups: Mapping[str, Mapping[str, list[int]]], system: str) -> float:
    """The highest average cost for ``system`` over the groups (flows) measured so far."""
    return max((_average(g.get(system)) for g in groups.values()), default=0.0)


def plan_examples(full: int, remaining: int, per_check: float, per_example: float, checks_left: int,
                  fuzz_left: int) -> int:
    """How many of ``full`` examples each of ``fuzz_left`` fuzz tests may run so that they and
    ``checks_left`` other checks fit ``remaining`` calls (at least 1: the budget cap still holds)."""
    if per_example <= 0:
        return full
    for_fuzz = remaining * (1 - SAFETY) - checks_left * per_check
    fits = math.floor(for_fuzz / (fuzz_left * per_example)) if for_fuzz > 0 else 1
    return max(1, min(full, fits))
