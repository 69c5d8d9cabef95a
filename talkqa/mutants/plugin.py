"""A pytest plugin that runs the suite against a mutant of the reference sync.

Load it with ``-p talkqa.mutants.plugin`` and choose the mutant with ``TALKQA_MUTANT=<spec>``
(see :mod:`talkqa.mutants.catalogue`); without the variable it does nothing. Under
pytest-xdist every worker loads it too (the ``-p`` option and the environment are inherited).
"""

from __future__ import annotations

import contextlib
import os

import pytest

ENV = "TALKQA_MUTANT"
_ACTIVE = pytest.StashKey[contextlib.ExitStack]()


def pytest_configure(config: pytest.Config) -> None:
    spec = os.environ.get(ENV, "").strip()
    if not spec:
        return
    from talkqa.mutants.catalogue import UnknownMutant, activate

    stack = contextlib.ExitStack()
    try:
        stack.enter_context(activate(spec))
    except UnknownMutant as exc:
        raise pytest.UsageError(f"{ENV}={spec}: {exc}") from None
    config.stash[_ACTIVE] = stack


def pytest_unconfigure(config: pytest.Config) -> None:
    stack = config.stash.get(_ACTIVE, None)
    if stack is not None:
        stack.close()
        del config.stash[_ACTIVE]


def pytest_report_header(config: pytest.Config) -> str | None:
    spec = os.environ.get(ENV, "").strip()
    return f"talkqa mutant: {spec}" if spec else None
