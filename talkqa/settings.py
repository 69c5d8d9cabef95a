"""A run's settings: the command line first, then pytest's ini, then ``[tool.talkqa]`` in
``pyproject.toml``, then the defaults (docs/reference.md#settings).

A setting ``name`` is the option ``--talkqa-<name>``, the ini key ``talkqa_<name>`` (dashes as
underscores) and the key ``<name>`` of ``[tool.talkqa]``; the table of them is in docs/reference.md.

A bad value anywhere is a usage error naming where it came from (file and line for files).
"""
from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BACKENDS = ("auto", "cassettes", "sandbox", "simulators")
FUZZ_PROFILES = ("ci", "dev", "nightly")


class SettingsError(ValueError):
    """A setting that cannot be used; the message names where it came from."""


def _choice(choices: tuple[str, ...]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, str) or value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}, not {value!r}")
        return value
    return check


def _sut(value: Any) -> str:
    if not isinstance(value, str) or not (value == "reference" or value.startswith("command:")):
        raise ValueError(f"must be 'reference' or 'command:<shell command>', not {value!r}")
    if value.startswith("command:") and not value[len("command:"):].strip():
        raise ValueError("'command:' names no command")
    return value


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        return value.strip().lower() in ("1", "true", "yes", "on")
    raise ValueError(f"must be true or false, not {value!r}")


def _budget(value: Any) -> str:
    """``N`` (every system) or ``slug=N,slug=N`` (those systems; the others keep their default)."""
    from talkqa.runtime.budget import parse_budget

    parse_budget(value)
    return str(value).strip()


def _percent(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a percentage from 0 to 100, not {value!r}") from None
    if isinstance(value, bool) or not 0 <= number <= 100:
        raise ValueError(f"must be a percentage from 0 to 100, not {value!r}")
    return number


@dataclass(frozen=True)
class Setting:
    """One run setting: its ``[tool.talkqa]`` key, validation, default, and the pytest option it is."""

    name: str  # as in [tool.talkqa]
    check: Callable[[Any], Any]
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    flag: bool = False  # a switch on the command line (--talkqa-strict)
    metavar: str | None = None

    @property
    def option(self) -> str:
        return f"--talkqa-{self.name}"

    @property
    def ini(self) -> str:
        return f"talkqa_{self.name.replace('-', '_')}"


def _setting(name: str, choices: tuple[str, ...], default: Any, help: str) -> Setting:
    return Setting(name, _choice(choices), default, help, choices=choices)


BATCH_MODES = ("auto", "on", "off")
FAULT_PROFILES = ("none", "transient", "hostile")
CONFLICT_WINNERS = ("source", "target", "newest", "any")

SETTINGS = {
    s.name: s
    for s in (
        _setting("backend", BACKENDS, None,
                 "where HTTP goes: auto (default: a module's cassettes where it has recordings, else the simulators), "
                 "cassettes (replay only), simulators (in-process), sandbox (TALKQA_<SYSTEM>_* endpoints). "
                 "Recording (--record-mode other than none) implies simulators."),
        Setting("sut", _sut, "reference",
                "the system under test: 'reference' (talkqa's reference sync, the default) or "
                "'command:<shell command>'"),
        _setting("fuzz-profile", FUZZ_PROFILES, None,
                 "how hard fuzz tests try: ci (25 derandomised examples; default when $CI is set), dev (50), "
                 "nightly (500)"),
        Setting("strict", _bool, False, "a row with no recording yet (pending) fails instead of being skipped",
                flag=True),
        Setting("min-checked", _percent, None, "fail the run when fewer than PCT%% of the documents' rows were "
                "checked (not skipped, pending or unrun)", metavar="PCT"),
        _setting("batch", BATCH_MODES, "auto",
                 "judge a document's mapping and fuzz checks from a few shared runs of the system under test (auto, "
                 "the default: on for an external sync on a live backend; off: one check at a time)"),
        _setting("faults", FAULT_PROFILES, "none",
                 "run live checks on simulators that misbehave: transient (429s, 503s, lost reads) or hostile (also "
                 "lost writes and dropped connections); implies the simulators backend"),
        Setting("api-budget", _budget, None,
                "sandbox backend: the most API calls the run makes per system, as N (every system) or "
                "SLUG=N,SLUG=N (the others keep their default: the system's daily quota, docs/sandboxes.md)",
                metavar="BUDGET"),
        _setting("conflict-winner", CONFLICT_WINNERS, "source",
                 "which edit must win when both sides edit the same property between two syncs (the documents "
                 "state no rule): source (the default, as the reference sync), target, newest, or any (only: they "
                 "agree)"),
    )
}


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start`` that has a ``[tool.talkqa]`` table."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                return candidate  # read_pyproject reports it
            if "talkqa" in data.get("tool", {}):
                return candidate
    return None


def _line_of(text: str, key: str) -> int | None:
    in_table = False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_table = stripped.replace(" ", "") in ("[tool.talkqa]",)
            continue
        if in_table and stripped.split("=", 1)[0].strip().strip('"') == key:
            return number
    return None


def read_pyproject(path: Path) -> dict[str, Any]:
    """The validated ``[tool.talkqa]`` of ``path`` (setting name -> value)."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise SettingsError(f"{path}:1: not UTF-8") from None
    except OSError as exc:
        raise SettingsError(f"{path}:1: cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not TOML: {exc}") from None
    table = data.get("tool", {}).get("talkqa", {})
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: [tool.talkqa] must be a table")
    out: dict[str, Any] = {}
    for key, value in table.items():
        line = _line_of(text, key) or 1
        setting = SETTINGS.get(key) or SETTINGS.get(key.replace("_", "-"))
        if setting is None:
            raise SettingsError(f"{path}:{line}: [tool.talkqa] has no setting {key!r} "
                                f"(known: {', '.join(SETTINGS)})")
        try:
            out[setting.name] = setting.check(value)
        except ValueError as exc:
            raise SettingsError(f"{path}:{line}: [tool.talkqa] {key} {exc}") from None
    return out


def resolve(config: Any) -> dict[str, Any]:
    """Every setting of a pytest run, from its options, ini and ``[tool.talkqa]`` (cached on config)."""
    cached = getattr(config, "_talkqa_settings", None)
    if cached is not None:
        return cached
    pyproject: dict[str, Any] = {}
    start = Path(str(getattr(config, "inipath", None) or "")).parent if getattr(config, "inipath", None) else None
    found = find_pyproject(start or Path(str(config.rootpath)))
    if found is not None:
        pyproject = read_pyproject(found)
    out: dict[str, Any] = {}
    for name, setting in SETTINGS.items():
        value = config.getoption(setting.option, None)
        source = f"{setting.option}"
        if value is None:
            raw = config.getini(setting.ini)
            if raw not in ("", None, []):
                value, source = raw, f"ini option {setting.ini} ({config.inipath or 'pytest ini'})"
        if value is None and name in pyproject:
            out[name] = pyproject[name]
            continue
        if value is None:
            out[name] = setting.default
            continue
        try:
            out[name] = setting.check(value)
        except ValueError as exc:
            raise SettingsError(f"{source} {exc}") from None
    config._talkqa_settings = out
    return out


def setting(config: Any, name: str) -> Any:
    return resolve(config)[name]
