"""End to end in a real browser: Debian's chromium, driven by Playwright, against `streamlit run`.

The test starts the app on a free port with the session's trained bundle, adds two movies
through the page as a visitor would, waits for the recommendations to appear as text and saves
a screenshot: in the test's temporary folder, or where MOVIEREC_SCREENSHOT says (`make screenshot`
refreshes docs/screenshot.png that way). It never runs `playwright install`: it uses the system
chromium, and is skipped when that or Playwright is missing.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.app_latency import CHROMIUM, CHROMIUM_ARGS, MAIN, serve

SCREENSHOT_ENV = "MOVIEREC_SCREENSHOT"
# Any of these in the top five shows the profile of two animated films was understood.
FAMILY_FILMS = re.compile(
    r"Toy Story 2 \(1999\)|Monsters, Inc\. \(2001\)|Shrek \(2001\)|Incredibles, The \(2004\)"
    r"|Lion King, The \(1994\)|Ratatouille \(2007\)|Up \(2009\)|Bug's Life, A \(1998\)"
)

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(), reason="needs Debian's /usr/bin/chromium")


@contextlib.contextmanager
def streamlit_run(artifacts: Path, log: Path) -> Iterator[str]:
    """`streamlit run main.py` on a free port, reading ``artifacts``; stopped afterwards."""
    env = {**os.environ, "MOVIEREC_ARTIFACTS_DIR": str(artifacts)}
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    with serve(MAIN, env, log) as (url, _):
        yield url


@contextlib.contextmanager
def chromium_page(**options: Any) -> Iterator[Any]:
    """A page of Debian's chromium, headless, with generous timeouts for busy CI machines."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(**options)
            page.set_default_timeout(30_000)
            sync_api.expect.set_options(timeout=30_000)
            yield page
        finally:
            browser.close()


@pytest.fixture
def app_url(trained_artifacts: Path, tmp_path: Path) -> Iterator[str]:
    """The app serving the session's bundle."""
    with streamlit_run(trained_artifacts, tmp_path / "streamlit.log") as url:
        yield url


def add_movie(page, search: str, title: str) -> None:
    """Type part of a title, pick the match, press "Add to profile", see it in the profile."""
    box = page.get_by_label("Find a movie")
    box.fill(search)
    box.press("Enter")
    choice = page.get_by_role("combobox", name="Pick the movie")
    sync_api.expect(choice).to_have_value(re.compile(re.escape(title)))
    page.get_by_role("button", name="Add to profile").click()
    sync_api.expect(page.get_by_test_id("stMarkdownContainer").filter(has_text=title).first)


def test_two_movie_profile_in_chromium(app_url: str, tmp_path: Path) -> None:
    screenshot = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "screenshot.png")
    with chromium_page(viewport={"width": 1440, "height": 1700}) as page:
        page.goto(app_url)
        expect = sync_api.expect
        expect(page.get_by_text("Popular picks", exact=True)).to_be_visible()

        add_movie(page, "toy story", "Toy Story (1995)")
        expect(page.get_by_text("1 movie(s) in your profile")).to_be_visible()
        add_movie(page, "finding nemo", "Finding Nemo (2003)")
        expect(page.get_by_text("2 movie(s) in your profile")).to_be_visible()

        expect(page.get_by_text("Recommended for you", exact=True)).to_be_visible()
        expect(page.get_by_text("movies for your 2-movie profile")).to_be_visible()
        # The top picks are also written out as text (the table itself is a canvas).
        picks = page.locator(".st-key-top_picks")
        expect(picks).to_contain_text("1.")
        expect(picks).to_contain_text(FAMILY_FILMS)
        expect(page.get_by_text("Genre mix", exact=True)).to_be_visible()
        assert not page.get_by_test_id("stException").count()

        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000


def test_server_without_a_bundle_starts_and_says_how_to_fix_it(tmp_path: Path) -> None:
    """The start-up that reads the bundle lets a missing one through to the page's message."""
    missing = tmp_path / "no-artifacts"
    with streamlit_run(missing, tmp_path / "streamlit.log") as url, chromium_page() as page:
        page.goto(url)
        sync_api.expect(page.get_by_text("no model bundle")).to_be_visible()
        command = page.get_by_test_id("stCode")  # the fix, as a command to copy
        sync_api.expect(command).to_contain_text("python train_and_save_model.py --data-dir")
        sync_api.expect(command).to_contain_text(str(missing))
        assert not page.get_by_test_id("stException").count()


def test_an_unexpected_error_shows_no_traceback(tmp_path: Path) -> None:
    """The project's .streamlit/config.toml keeps error details on the server."""
    failing = tmp_path / "failing.py"
    failing.write_text('import streamlit as st\nst.title("Hello")\nraise ValueError("secret")\n')
    log = tmp_path / "streamlit.log"
    with serve(failing, dict(os.environ), log) as (url, _), chromium_page() as page:
        page.goto(url)
        notice = page.get_by_test_id("stException")
        sync_api.expect(notice).to_contain_text("This app has encountered an error")
        shown = page.locator("body").inner_text()
    assert "secret" not in shown and "ValueError" not in shown and "Traceback" not in shown
    assert "ValueError: secret" in log.read_text()  # the details are in the server's log
