"""The report in a real browser: headless Chromium (Debian's ``chromium``) driven by Selenium
through Debian's ``chromium-driver``, no browser or driver download.

Opens the report of a real run (with a known failure) from a ``file://`` URL, checks every
document row's state in the DOM against the results JSON, checks the failed rows are drawn
differently from the conforming ones and show their details, and saves a full-page screenshot
under the test's tmp path (its path is printed; run with ``-s`` to see it).
"""
from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.report.conftest import BROKEN_LINES, CONFORMING_LINES, RealRun

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,1024",
)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (apt-get install chromium chromium-driver)")
    if not Path(CHROMEDRIVER).exists():
        pytest.skip("chromedriver is not installed (apt-get install chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="profile-", dir=tmp_path)  # a new, empty user data dir
    options.add_argument(f"--user-data-dir={profile}")
    service = Service(executable_path=CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def expected_states(entries: list[dict[str, Any]]) -> dict[int, str]:
    """Independent of the report's code: a row's state is its worst result."""
    by_line: dict[int, set[str]] = defaultdict(set)
    for e in entries:
        if e["kind"] in ("mapping", "fuzz"):
            by_line[e["line"]].add(e["outcome"])
    order = ["failed", "pending", "passed", "skipped"]
    return {line: next(s for s in order if s in states) for line, states in by_line.items()}


def test_report_in_a_real_browser(browser: Any, real_run: RealRun, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.get(real_run.report.resolve().as_uri())
    assert browser.title.startswith("talkqa checklist")

    rows = browser.find_elements(By.CSS_SELECTOR, "article.talkqa-document tr.talkqa-row[data-line]")
    seen = {int(r.get_attribute("data-line")): r.get_attribute("data-talkqa-state") for r in rows}
    expected = expected_states(real_run.entries)
    assert {line: seen.get(line) for line in expected} == expected
    assert {seen[line] for line in set(seen) - set(expected)} <= {"not-run"}  # rows the run deselected
    for line in BROKEN_LINES:
        assert seen[line] == "failed"
    for line in CONFORMING_LINES:
        assert seen[line] == "passed"

    def cell_colour(line: int) -> str:
        cell = browser.find_element(By.CSS_SELECTOR, f'tr.talkqa-row[data-line="{line}"] > td')
        return cell.value_of_css_property("background-color")

    assert cell_colour(BROKEN_LINES[0]) != cell_colour(CONFORMING_LINES[0])
    detail = browser.find_element(By.CSS_SELECTOR, f'tr.talkqa-detail[data-detail-for="{BROKEN_LINES[0]}"]')
    assert detail.is_displayed()
    for label in ("Direction", "Expected", "Actual", "Minimal failing value", "Reproduce"):
        assert label in detail.text, label
    verdict = browser.find_element(By.CSS_SELECTOR, "[data-talkqa-verdict]")
    assert verdict.get_attribute("data-talkqa-verdict") == "failed" and verdict.is_displayed()
    assert not browser.find_elements(By.CSS_SELECTOR, "script, link, img")

    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(int(height) + 40, 12000))
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    print(f"\nreport screenshot: {shot}\nreport: {real_run.report}")
