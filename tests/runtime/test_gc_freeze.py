"""A run moves its collected suite out of the garbage collector's reach, and still collects what tests drop."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = '''
import gc
import weakref


def test_the_collected_suite_is_frozen():
    assert gc.get_freeze_count() > 0


def test_cycles_made_by_a_test_are_still_collected():
    class Node:
        pass

    node = Node()
    node.self = node
    gone = weakref.ref(node)
    del node
    gc.collect()
    assert gone() is None
'''


def test_a_run_freezes_its_suite_and_collects_the_tests_garbage(tmp_path: Path) -> None:
    (tmp_path / "test_probe.py").write_text(PROBE, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                           str(tmp_path / "test_probe.py")], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0 and "2 passed" in done.stdout, done.stdout + done.stderr
