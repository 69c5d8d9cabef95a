"""A run's settings: the command line first, then pytest's ini, then ``[tool.talkqa]`` in
``pyproject.toml``, then the defaults (docs/reference.md#settings).

=============  ==========================  ======================  ===================================
setting        command line                pytest ini              ``[tool.talkqa]``
=============  ==========================  ======================  ===================================
backend        ``--talkqa-backend``        ``talkqa_backend``      ``backend = "auto"``
sut            ``--talkqa-sut``            ``talkqa_sut``          ``sut = "command:..."``
fuzz profile   ``--talkqa-fuzz-profile``   ``talkqa_fuzz_profile`` ``fuzz-profile = "ci"``
strict         ``--talkqa-strict``         ``talkqa_strict``       ``strict = true``
min checked    ``--talkqa-min-checked``    ``talkqa_min_checked``  ``min-checked = 90``
batch          ``--talkqa-batch``          ``talkqa_batch``        ``batch = "off"``
faults         ``--talkqa-faults``         ``talkqa_faults``       ``faults = "transient"``
conflicts      ``--talkqa-conflict-winner``  ``talkqa_conflict_winner``  ``conflict-winner = "newest"``
=============  ==========================  ======================  ===================================

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
    name: str  # as in [tool.talkqa]
    option: str  # the pytest command-line option
    ini: str
    check: Callable[[Any], Any]
    default: Any


SETTINGS = {
    s.name: s
    for s in (
        Setting("backend", "--talkqa-backend", "talkqa_backend", _choice(BACKENDS), None),
        Setting("sut", "--talkqa-sut", "talkqa_sut", _sut, "reference"),
        Setting("fuzz-profile", "--talkqa-fuzz-profile", "talkqa_fuzz_profile", _choice(FUZZ_PROFILES), None),
        Setting("strict", "--talkqa-strict", "talkqa_strict", _bool, False),
        Setting("min-checked", "--talkqa-min-checked", "talkqa_min_checked", _percent, None),
        Setting("batch", "--talkqa-batch", "talkqa_batch", _choice(("auto", "on", "off")), "auto"),
        Setting("faults", "--talkqa-faults", "talkqa_faults", _choice(("none", "transient", "hostile")), "none"),
        Setting("conflict-winner", "--talkqa-conflict-winner", "talkqa_conflict_winner",
                _choice(("source", "target", "newest", "any")), "source"),
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
