"""The published HTML reports, opened in a real headless Chromium with the internet blocked.

What a reader sees: the index and each report load without script or console
errors, every static figure is an image with a non-zero size, and no progress
bar or warning text reaches the page. ``.ci/run`` installs Debian's chromium; the
tests skip only where it is genuinely absent, and fail instead when
``TRANSITMILE_REQUIRE_BROWSER=1`` (CI) says it must be there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest

from transitmile.plots import OFFLINE_MESSAGE

from .browser import Chromium, find_chromium

NOTEBOOKS = sorted(p.stem for p in (Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))

#: Text that must never reach a report: tqdm bars and their widget warning,
#: Python warnings and tracebacks, folium's untrusted-notebook notice.
FORBIDDEN = [
    r"IProgress not found",
    r"\d+%\|",  # a tqdm bar: " 45%|████"
    r"it/s\]",
    r"\bWarning\b",
    r"warnings\.warn",
    r"Traceback",
    r"Make this Notebook Trusted",
]


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    if executable is None:
        reason = "Debian's chromium is not installed (apt-get install chromium; .ci/run does it)"
        if os.environ.get("TRANSITMILE_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    chromium = Chromium(executable)
    yield chromium
    chromium.close()


def _assert_clean(page):
    assert not page.exceptions, page.exceptions
    assert not page.console_errors, page.console_errors
    assert not page.failed_local, page.failed_local
    for pattern in FORBIDDEN:
        assert not re.search(pattern, page.text), f"{pattern!r} in {page.url}"


def test_the_index_loads_and_links_every_report(browser, study_reports):
    folder, runs = study_reports
    page = browser.load(folder / "index.html")
    _assert_clean(page)
    links = browser.evaluate("Array.from(document.links).map(a => a.getAttribute('href'))")
    for name in runs:
        assert f"{name}.html" in links and f"{name}.ipynb" in links
    assert all((folder / link).is_file() for link in links)
    assert "all notebooks ran" in page.text
    assert "poa_eptc.zip" in page.text and "2019-05-13" in page.text


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_report_loads_with_every_figure_and_no_noise(browser, study_reports, name):
    folder, _ = study_reports
    page = browser.load(folder / f"{name}.html")
    _assert_clean(page)
    executed = nbformat.read(folder / f"{name}.ipynb", as_version=4)
    figures = [
        o for c in executed.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})
    ]
    assert figures, "a report without a static figure"
    assert len(page.images) == len(figures)
    for image in page.images:
        assert image["complete"] and image["natural_width"] > 0 and image["natural_height"] > 0
        assert image["width"] > 0 and image["height"] > 0
    # off line the interactive map says why it is missing instead of an empty frame
    assert page.frames_text, "no interactive map"
    assert all(text == OFFLINE_MESSAGE or text is None for text in page.frames_text)
    assert "Method" in page.text and "licences" in page.text
