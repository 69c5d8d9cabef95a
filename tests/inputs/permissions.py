"""Real permission denials for the bad-input tests, also when the tests run as root.

Root reads and writes through any file mode (the capabilities CAP_DAC_OVERRIDE and
CAP_DAC_READ_SEARCH). :func:`enforced` lowers those two in the calling thread's *effective* set
for the block (they stay permitted, so they are raised again after it), which makes ``chmod 000``
mean what it says in-process. Nothing is faked: the kernel refuses the reads and writes.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
from collections.abc import Iterator

_VERSION_3 = 0x20080522
_DAC = (1 << 1) | (1 << 2)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name, use_errno=True) if name else None


def _caps() -> tuple[ctypes.CDLL, _Header, ctypes.Array[_Data]] | None:
    libc = _libc()
    if libc is None or not hasattr(libc, "capget"):
        return None
    header, data = _Header(_VERSION_3, 0), (_Data * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        return None
    return libc, header, data


def can_enforce() -> bool:
    """Whether permission bits can be made to bind in this process (always, unless root without capset)."""
    try:
        with enforced():
            return True
    except (OSError, RuntimeError):
        return False


@contextlib.contextmanager
def enforced() -> Iterator[None]:
    """File modes bind for the block, even for root (see the module's docstring)."""
    if os.geteuid() != 0:
        yield
        return
    caps = _caps()
    if caps is None:
        raise RuntimeError("cannot lower capabilities here")
    libc, header, data = caps
    saved = data[0].effective
    data[0].effective = saved & ~_DAC
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")
    try:
        yield
    finally:
        data[0].effective = saved
        header.version, header.pid = _VERSION_3, 0
        if libc.capset(ctypes.byref(header), data) != 0:
            raise OSError(ctypes.get_errno(), "capset (restoring)")
