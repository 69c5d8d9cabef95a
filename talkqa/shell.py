"""Commands the tool prints for people to paste into a shell: quoted so that pasting runs exactly
that command, whatever the file names (quotes, ``$(...)``, ``;``, spaces, newlines, a leading
dash).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def quote(arg: str) -> str:
    """``arg`` as one shell word: ``shlex.quote``, or bash's ``$'...'`` when it holds control
    characters (so a newline in a file name keeps the command on one line)."""
    if not _CONTROL.search(arg):
        return shlex.quote(arg)
    body = "".join(
        "\\\\" if c == "\\" else "\\'" if c == "'" else f"\\x{ord(c):02x}" if _CONTROL.match(c) else c for c in arg
    )
    return f"$'{body}'"


def path_arg(path: str) -> str:
    """A path as an argument: a relative one starting with ``-`` gets ``./`` (not read as an option)."""
    return f"./{path}" if path.startswith("-") else path


def command(words: Iterable[str]) -> str:
    """The command line of ``words``, each quoted."""
    return " ".join(quote(w) for w in words)


def talkqa_command(name: str, paths: Iterable[str], *options: str) -> str:
    """``talkqa NAME PATH... OPTION...`` with every word quoted and every path safe as an argument."""
    return command(["talkqa", name, *(path_arg(str(p)) for p in paths), *options])
