"""Hypothesis' draws for fuzz tests, remembered within a process where they cannot differ.

Under a derandomized profile (``ci``) Hypothesis seeds a test's engine from the test function's source
(its *digest*). Every fuzz test runs the same function (``survives`` in :func:`talkqa.runtime.fuzz.run_fuzz`),
so two fuzz tests with the same strategy and settings draw the same values in the same order, provided
that

* every example passes (a failure makes Hypothesis shrink, which changes what it tries next);
* each filter the strategy applies answers the same for every candidate it sees (a reverse fuzz test
  filters out the value the origin already holds, which differs from test to test);
* Hypothesis' pool of constants (it also draws literals found in local source files, re-read whenever
  a module is imported) is the same.

So the first such test runs Hypothesis and this module remembers what it fed the test; a later test with
the same key feeds the test those values itself, in the same order, each with the global ``random``
seeded as Hypothesis seeds it. If any example raises, the later test runs Hypothesis from the start, which
finds the same failure and shrinks it exactly as without this module. A test that is not derandomized
(``dev``, ``nightly``: a fresh seed per test) always runs Hypothesis.

``tests/runtime/test_draws.py`` checks the claim itself: for many strategies and filters, the values a
real Hypothesis run feeds the test equal the remembered ones.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import settings as Settings

try:  # Hypothesis' pool of constants from local source files; without it nothing is remembered
    from hypothesis.internal.conjecture.providers import _get_local_constants as _constants
except ImportError:  # pragma: no cover - a Hypothesis without the pool (or with it elsewhere)
    _constants = None

#: (the settings' repr, the strategy's key, the size of Hypothesis' pool of constants)
Key = tuple[str, Hashable, int]


@dataclass(frozen=True)
class _Entry:
    values: tuple[Any, ...]  # what Hypothesis fed the test, explicit examples left out
    candidates: tuple[Any, ...]  # every value the test's filter was asked about (none without a filter)


_MEMO: dict[Key, _Entry] = {}
_LIMIT = 4096


def _pool_size() -> int | None:
    if _constants is None:
        return None
    try:
        return len(_constants())
    except Exception:  # pragma: no cover - the private pool changed shape: remember nothing
        return None


def key_for(run_settings: Settings, strategy_key: Hashable) -> Key | None:
    """The key of a test's draws (``strategy_key`` names its strategy and filter), or None when they are
    not to be remembered: the settings are not derandomized, or Hypothesis' constants cannot be read."""
    if not run_settings.derandomize or run_settings.database is not None:
        return None
    size = _pool_size()
    if size is None:
        return None
    return (repr(run_settings), strategy_key, size)


def remembered(key: Key | None, rejects: Callable[[Any], bool] | None = None) -> list[Any] | None:
    """The values to feed a test under ``key``, or None (run Hypothesis). ``rejects``: the test's filter
    (True for a value it filters out); the remembered values stand only if it rejects none of the
    candidates the remembered run's filter saw."""
    if key is None:
        return None
    entry = _MEMO.get(key)
    if entry is None:
        return None
    if rejects is not None and any(rejects(c) for c in entry.candidates):
        return None
    return [snapshot(v) for v in entry.values]


def remember(key: Key | None, fed: Sequence[Any], candidates: Sequence[Any], rejected: int) -> None:
    """Remember what a passing Hypothesis run fed the test (``fed``: explicit examples left out, each a
    :func:`snapshot`) and the candidates its filter saw (snapshots too). Nothing is remembered when its
    filter rejected any (the draws then depend on the filter's own value) or when Hypothesis' constants
    changed during the run."""
    if key is None or rejected or _pool_size() != key[2]:
        return
    if len(_MEMO) >= _LIMIT:
        _MEMO.clear()
    _MEMO[key] = _Entry(tuple(fed), tuple(candidates))


def snapshot(value: Any) -> Any:
    """``value`` as fed, kept apart from what the test may do to it (a list is copied)."""
    return copy.deepcopy(value) if isinstance(value, list | dict) else value


def feed(test: Callable[[Any], None], values: Sequence[Any]) -> None:
    """Call ``test`` with each value in turn, the global ``random`` seeded with 0 for each, as Hypothesis
    does, and restored afterwards."""
    state = random.getstate()
    try:
        for value in values:
            random.seed(0)
            test(value)
    finally:
        random.setstate(state)
