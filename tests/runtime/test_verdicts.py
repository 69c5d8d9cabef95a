"""``talkqa check`` never reports a pass for what it did not check (issue 10, item 1, in part)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HEAD = """\
======================
Alpha to Beta Dataflow
======================

Alpha Person to Beta Contact
----------------------------
{policy}
The following properties are synchronized between a Alpha Person and a Beta Contact:

.. list-table::
   :header-rows: 1

   * - Alpha Person Property
     - Beta Contact Property
     - Beta Data Type
   * - name
     - Name
     - "string"
"""
ALWAYS = "Every Alpha Person will be synchronized with a Beta Contact.\n"


SECOND = """
Alpha Pet to Beta Animal
------------------------
The following properties are synchronized between a Alpha Pet and a Beta Animal:

.. list-table::
   :header-rows: 1

   * - Alpha Pet Property
     - Beta Animal Property
     - Beta Data Type
   * - nick
     - Nick
     - "string"
"""


def run(tmp_path: Path, argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *argv], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env={**os.environ, "CI": "true", **env})


def check(tmp_path: Path, text: str, *extra: str, **env: str) -> subprocess.CompletedProcess[str]:
    doc = tmp_path / "alpha-beta.rst"
    doc.write_text(text, encoding="utf-8")
    return run(tmp_path, ["talkqa", "check", doc.name, "--out", "suite", "-m", "not fuzz", *extra], **env)


def checklist(done: subprocess.CompletedProcess[str]) -> str:
    """The checklist section of the output (asserting it is printed exactly once)."""
    assert done.stdout.count("talkqa checklist") == 1, done.stdout
    return done.stdout.split("talkqa checklist", 1)[1]


def test_a_document_none_of_whose_checks_ran_exits_5_and_shows_no_pass(tmp_path: Path) -> None:
    done = check(tmp_path, HEAD.format(policy=""))  # no link policy stated: nothing can be checked
    assert done.returncode == 5, done.stdout + done.stderr
    summary = checklist(done)
    flow_lines = [ln for ln in summary.splitlines() if "Alpha Person to Beta Contact (line" in ln]
    assert flow_lines and all(ln.lstrip().startswith("–") for ln in flow_lines), summary
    assert "✓" not in summary
    assert "nothing was checked" in summary
    assert "rows: 0 of 1 checked" in summary


def test_the_same_document_with_a_policy_is_checked_on_the_generic_simulator(tmp_path: Path) -> None:
    done = check(tmp_path, HEAD.format(policy=ALWAYS))
    assert done.returncode == 0, done.stdout + done.stderr
    summary = checklist(done)
    assert "(live on the simulators)" in summary
    assert "  ✓ Alpha Person to Beta Contact (line 5): 1 of 1 rows conform · forward 1/1" in summary
    assert "Warning" not in done.stdout + done.stderr


def test_min_checked_fails_a_run_that_checked_too_few_rows(tmp_path: Path) -> None:
    text = HEAD.format(policy=ALWAYS) + SECOND  # the second flow states no policy: its row is not checkable
    done = check(tmp_path, text, "--min-checked", "100")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "only 1 of 2 rows (50.0%) were checked" in checklist(done)
    assert check(tmp_path, text, "--min-checked", "50").returncode == 0


def test_settings_come_from_tool_talkqa_in_pyproject(tmp_path: Path) -> None:
    text = HEAD.format(policy=ALWAYS) + SECOND
    (tmp_path / "pyproject.toml").write_text("[tool.talkqa]\nmin-checked = 75\n", encoding="utf-8")
    done = check(tmp_path, text)
    assert done.returncode == 1 and "fewer than --min-checked 75%" in checklist(done), done.stdout + done.stderr
    (tmp_path / "pyproject.toml").write_text("[tool.talkqa]\n\nmin-chekced = 75\n", encoding="utf-8")
    done = check(tmp_path, text)
    assert done.returncode == 2, done.stdout + done.stderr
    errors = [ln for ln in (done.stdout + done.stderr).splitlines() if "min-chekced" in ln]
    assert len(errors) == 1 and "pyproject.toml:3:" in errors[0], done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_a_broken_sync_is_annotated_on_the_document_row_for_github(tmp_path: Path) -> None:
    done = check(tmp_path, HEAD.format(policy=ALWAYS), GITHUB_ACTIONS="true", TALKQA_MUTANT="drop-property",
                 PYTEST_ADDOPTS="-p talkqa.mutants.plugin")
    assert done.returncode == 1, done.stdout + done.stderr
    errors = [ln for ln in done.stdout.splitlines() if ln.startswith("::error ")]
    # the row (line 17) and the flow whose link check failed (its title, line 5)
    assert {ln.split(",title=")[0] for ln in errors} == {"::error file=alpha-beta.rst,line=17",
                                                         "::error file=alpha-beta.rst,line=5"}, done.stdout
    assert all("%0A" in ln for ln in errors)
    summary = checklist(done)
    assert "✗ alpha-beta.rst:17 Person.name -> Contact.Name [forward]" in summary
    assert "reproduce: pytest" in summary and "--talkqa-backend=simulators" in summary


def test_setup_mistakes_are_one_usage_error_before_any_test(tmp_path: Path) -> None:
    check(tmp_path, HEAD.format(policy=ALWAYS))  # generates suite/
    for options, words in (
        (["--talkqa-sut=command:no-such-sync-command --once"], "'no-such-sync-command' is not found"),
        (["--talkqa-sut=command:true", "--talkqa-backend=cassettes"], "cannot be replayed from cassettes"),
        (["--talkqa-sut=nonsense"], "must be 'reference' or 'command:"),
    ):
        done = run(tmp_path, ["pytest", "suite", "-p", "no:randomly", *options])
        assert done.returncode == 4, done.stdout + done.stderr
        out = done.stdout + done.stderr
        assert words in out and "Traceback" not in out and "passed" not in out and "failed" not in out, out
    done = check(tmp_path, HEAD.format(policy=ALWAYS), "--sut", "command:no-such-sync-command")
    assert done.returncode == 2 and "is not found" in done.stdout + done.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TALKQA_ALPHA", "TALKQA_BETA"))}
    for workers in ([], ["-n", "2"]):  # under xdist the controller checks, before any worker starts
        done = subprocess.run([sys.executable, "-m", "pytest", "suite", "-p", "no:randomly",
                               "--talkqa-backend=sandbox", *workers], capture_output=True, text=True, timeout=300,
                              cwd=tmp_path, env=env)
        out = done.stdout + done.stderr
        assert done.returncode == 4, out
        assert "alpha (generic JSON/HTTP system) is not configured: set TALKQA_ALPHA_*" in out
        assert "Traceback" not in out and "INTERNALERROR" not in out


REPO = Path(__file__).resolve().parents[2]


def test_findings_reach_every_output_and_never_as_python_warnings(tmp_path: Path) -> None:
    import json
    import xml.etree.ElementTree as ET

    results, junit, html = tmp_path / "r.json", tmp_path / "j.xml", tmp_path / "r.html"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(REPO / "generated_tests"), "-p", "no:randomly", "-q",
         "-k", "fuzz and Contactperson.city", f"--talkqa-results={results}", f"--junitxml={junit}"],
        capture_output=True, text=True, timeout=600, cwd=REPO, env={**os.environ, "CI": "true"},
    )
    assert done.returncode == 0, done.stdout[-2000:]
    finding = "spec/powerofficego-exact.rst:26: city accepts up to 100 characters but City only 60"
    assert finding in done.stdout and "Warning" not in done.stdout and "warnings summary" not in done.stdout
    data = json.loads(results.read_text(encoding="utf-8"))
    assert {"document": "spec/powerofficego-exact.rst", "line": 26,
            "message": "city accepts up to 100 characters but City only 60: longer values cannot survive the sync"
            } in data["findings"]
    props = [p.get("value", "") for p in ET.parse(junit).getroot().iter("property")
             if p.get("name") == "talkqa_finding"]
    assert any("City only 60" in v for v in props)
    report = subprocess.run([sys.executable, "-m", "talkqa", "report", str(results), "--out", str(html)],
                            capture_output=True, text=True, timeout=300, cwd=REPO)
    assert report.returncode == 0, report.stderr
    assert "City only 60" in html.read_text(encoding="utf-8")


def test_a_failure_shows_the_message_not_the_plugin_frames_or_the_document(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(REPO / "generated_tests"), "-p", "no:randomly", "-q",
         "-p", "talkqa.mutants.plugin", "--talkqa-backend=simulators", "-k", "mapping and Contactperson.city"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "CI": "true", "TALKQA_MUTANT": "drop-property@26"},
    )
    assert done.returncode == 1, done.stdout[-2000:]
    failures = done.stdout.split("= FAILURES =", 1)[1].split("talkqa checklist", 1)[0]
    assert "spec/powerofficego-exact.rst:26:" in failures and "reproduce: pytest" in failures
    for noise in ("DOCUMENT", "def run(", "plugin.py", "Traceback", "_pytest"):
        assert noise not in failures, noise
