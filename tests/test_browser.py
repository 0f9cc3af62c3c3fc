"""End to end in a real browser: Debian's chromium, driven by Playwright, against `streamlit run`.

The app runs on a free port with the session's trained bundle; a visitor rates and adds movies
where they stand, searches, reloads, shares a link, opens a bad one, tries a data-set user and
a phone-sized screen. Every request the browser makes is checked: one to any host but the
app's own fails the test. The profile-building test saves a screenshot: in the test's
temporary folder, or where MOVIEREC_SCREENSHOT says (`make screenshot` refreshes
docs/screenshot.png that way). It never runs `playwright install`: it uses the system
chromium, and is skipped when that or Playwright is missing.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from benchmarks.page_driver import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MAIN,
    act,
    open_settled,
    serve,
    watch_pages,
)
from tests.conftest import SEARCHES, evil_bundle

SCREENSHOT_ENV = "MOVIEREC_SCREENSHOT"
GODFATHER, GODFATHER_2, PULP_FICTION, MATRIX, WALL_E, TITANIC = 858, 1221, 296, 2571, 60069, 1721
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(), reason="needs Debian's /usr/bin/chromium")
expect = sync_api.expect


@contextlib.contextmanager
def streamlit_run(artifacts: Path, log: Path) -> Iterator[str]:
    """`streamlit run main.py` on a free port, reading ``artifacts``; stopped afterwards."""
    env = {**os.environ, "MOVIEREC_ARTIFACTS_DIR": str(artifacts)}
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    env.pop("TMDB_API_KEY", None)
    with serve(MAIN, env, log) as (url, _):
        yield url


class Browser:
    """Headless chromium whose pages may only talk to the app: a request to any other host
    is refused and recorded in ``foreign``."""

    def __init__(self, playwright: Any) -> None:
        self.browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        self.foreign: list[str] = []

    def page(self, width: int = 1440, height: int = 900, **options: Any) -> Any:
        """A page in a fresh context (no shared state), with generous timeouts."""
        context = self.browser.new_context(viewport={"width": width, "height": height}, **options)
        context.route("**/*", self._only_local)
        watch_pages(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        return page

    def _only_local(self, route: Any) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.foreign.append(route.request.url)
            route.abort()


@pytest.fixture(scope="module")
def app_url(trained_artifacts: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app serving the session's bundle, shared by this module's visitors."""
    log = tmp_path_factory.mktemp("browser") / "streamlit.log"
    with streamlit_run(trained_artifacts, log) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Chromium for one test; the test fails if a page asked any host but the app's own."""
    expect.set_options(timeout=30_000)
    with sync_api.sync_playwright() as playwright:
        chromium = Browser(playwright)
        try:
            yield chromium
        finally:
            chromium.browser.close()
    assert chromium.foreign == [], "the page asked another host"


def card(context: str, movie_id: int) -> str:
    return f".st-key-{context}_{movie_id}"


def stars(page: Any, context: str, movie_id: int, count: int, present: str = "") -> None:
    """Click the ``count``-th star under a movie and wait for the page to follow (to show
    ``present``; by default the movie in the profile)."""
    button = page.locator(f".st-key-stars_{context}_{movie_id} button").nth(count - 1)
    expect(button).to_have_attribute("aria-label", f"{count} out of 5 stars")
    act(page, button.click, present or card("profile", movie_id))


def press(page: Any, key: str, present: str | None = None, absent: str | None = None) -> None:
    """Click the button with ``key`` and wait for the page to follow."""
    button = page.locator(f".st-key-{key} [data-testid^=stBaseButton]:visible")
    act(page, button.click, present, absent)


FIRST_FOUND = """(movieId) => {
  const first = document.querySelector("[class*='st-key-stars_search_']");
  return first !== null && first.className.includes(`st-key-stars_search_${movieId} `);
}"""


def search(page: Any, text: str, meant: int) -> None:
    """Type into the search box and press Enter; fails unless the first result comes to be
    the film ``meant``."""
    box = page.get_by_role("searchbox", name="Find a movie")
    # typing alone commits after a pause too: whichever run comes first is waited for
    act(page, lambda: (box.fill(text), box.press("Enter")))
    try:
        page.wait_for_function(FIRST_FOUND, arg=meant, polling="raf", timeout=20_000)
    except sync_api.TimeoutError:
        pytest.fail(f"{text!r}: the first result is {listed(page, 'search')[:1]}, not {meant}")


def listed(page: Any, context: str) -> list[int]:
    """The movieIds of one list's cards, in order."""
    classes = page.locator(f"[class*='st-key-stars_{context}_']").evaluate_all(
        "elements => elements.map(e => e.className)"
    )
    found = [re.search(rf"st-key-stars_{context}_(\d+)", c) for c in classes]
    return [int(m.group(1)) for m in found if m]


def test_rate_and_add_from_popular_picks_and_recommendations(
    browser: Browser, app_url: str
) -> None:
    page = browser.page()
    open_settled(page, app_url, "[class*='st-key-stars_picks_']")
    expect(page.get_by_text("Popular picks", exact=True)).to_be_visible()
    first, second = listed(page, "picks")[:2]
    stars(page, "picks", first, 5)  # one click rates it into the profile
    expect(page.get_by_text("Recommended for you", exact=True)).to_be_visible()
    recommended = listed(page, "recs")
    assert first not in recommended and len(recommended) == 10
    press(page, f"add_recs_{recommended[0]}", card("profile", recommended[0]))
    expect(page.locator(card("profile", recommended[0]))).to_contain_text("liked, no stars")
    stars(page, "recs", recommended[1], 2)  # a low rating reads as one
    expect(page.locator(card("profile", recommended[1]))).to_contain_text("disliked")
    assert listed(page, "profile") == [recommended[1], recommended[0], first]
    assert f"p={first}%3A5%2C{recommended[0]}%2C{recommended[1]}%3A2" in page.url
    press(page, f"remove_{recommended[0]}", absent=card("profile", recommended[0]))
    assert listed(page, "profile") == [recommended[1], first]
    press(page, "clear_profile", card("picks", first))
    assert second in listed(page, "picks") and not listed(page, "profile")
    press(page, f"add_picks_{second}", card("profile", second))  # "Add" on a popular pick
    assert not page.get_by_test_id("stException").count()


def test_search_finds_the_film_meant(browser: Browser, app_url: str) -> None:
    page = browser.page()
    open_settled(page, app_url, "[class*='st-key-stars_picks_']")
    for text, meant in SEARCHES:
        search(page, text, meant)
    # results come as the visitor types, without Enter
    box = page.get_by_role("searchbox", name="Find a movie")
    box.fill("")
    box.press_sequentially("amelie", delay=40)
    expect(page.locator(card("search", 4973))).to_be_visible()


def test_reload_and_a_shared_link_keep_the_profile(browser: Browser, app_url: str) -> None:
    page = browser.page()
    open_settled(page, app_url, "[class*='st-key-stars_picks_']")
    search(page, "the godfather", GODFATHER)
    stars(page, "search", GODFATHER, 5)
    search(page, "matrix", MATRIX)
    stars(page, "search", MATRIX, 2)
    built = listed(page, "profile")
    assert built == [MATRIX, GODFATHER]
    open_settled(page, page.url, card("profile", GODFATHER))  # a reload
    assert listed(page, "profile") == built
    expect(page.locator(card("profile", MATRIX))).to_contain_text("disliked")
    shared = browser.page()  # another visitor opens the link
    open_settled(shared, page.url, card("profile", GODFATHER))
    assert listed(shared, "profile") == built
    assert listed(shared, "recs") == listed(page, "recs")


def test_a_bad_link_gives_a_message_and_a_clean_page(browser: Browser, app_url: str) -> None:
    page = browser.page()
    open_settled(page, f"{app_url}/?p=858:9", "[class*='st-key-stars_picks_']")
    expect(page.get_by_text("This link's profile could not be opened")).to_be_visible()
    expect(page.get_by_text("rating 9 is outside 0.5-5")).to_be_visible()
    assert not listed(page, "profile") and "p=" not in page.url
    assert not page.get_by_test_id("stException").count()


def test_user_mode_says_plainly_and_the_box_and_page_agree(browser: Browser, app_url: str) -> None:
    page = browser.page()
    open_settled(page, app_url, "[class*='st-key-stars_picks_']")
    user_cards = "[class*='st-key-stars_user_recs_']"
    act(page, page.get_by_text("A user from the data set").click, user_cards)
    box = page.get_by_role("textbox", name="User id")
    for typed, message in [("5000", "User 5000 is not in the data set"),
                           (str(2**53 + 1), f"User {2**53 + 1} is not in the data set"),
                           ("abc", "is not a user id")]:  # fmt: skip
        box.fill(typed)
        act(page, lambda: box.press("Enter"), absent=user_cards)
        expect(page.get_by_text(message)).to_be_visible()
    press(page, "random_user", user_cards)
    chosen = box.input_value()
    expect(page.get_by_text(f"Recommended for user {chosen}", exact=True)).to_be_visible()
    first = listed(page, "user_recs")[0]
    stars(page, "user_recs", first, 5, f".st-key-remove_user_recs_{first}")  # into the profile
    assert f"p={first}%3A5" in page.url
    assert not page.get_by_test_id("stException").count()


def test_a_phone_shows_search_and_recommendations_without_sideways_scrolling(
    browser: Browser, app_url: str
) -> None:
    page = browser.page(390, 844, is_mobile=True, has_touch=True)
    open_settled(page, f"{app_url}/?p=858:5,2571:4,60069", "[class*='st-key-stars_recs_']")
    height = page.viewport_size["height"]
    box = page.get_by_role("searchbox", name="Find a movie").bounding_box()
    first = page.locator(card("recs", listed(page, "recs")[0])).bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= height
    assert first["y"] < height and first["x"] >= 0 and first["x"] + first["width"] <= 390
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] == 390
    open_settled(page, f"{app_url}/?p=858:9", "[class*='st-key-stars_picks_']")
    message = page.get_by_text("This link's profile could not be opened").bounding_box()
    assert message["y"] + message["height"] <= height  # said first, not under the lists


def test_building_a_profile_of_films_a_fan_knows(
    browser: Browser, app_url: str, tmp_path: Path
) -> None:
    """Rate films from search and the lists; the screenshot is the README's picture."""
    page = browser.page(1440, 1000)
    open_settled(page, app_url, "[class*='st-key-stars_picks_']")
    for text, movie_id, count in [("the godfather", GODFATHER, 5), ("godfather 2", GODFATHER_2, 5),
                                  ("pulp fiction", PULP_FICTION, 4), ("matrix", MATRIX, 4),
                                  ("titanic", TITANIC, 1)]:  # fmt: skip
        search(page, text, movie_id)
        stars(page, "search", movie_id, count)
    search(page, "wall-e", WALL_E)
    press(page, f"add_search_{WALL_E}", card("profile", WALL_E))
    box = page.get_by_role("searchbox", name="Find a movie")
    act(page, lambda: (box.fill(""), box.press("Enter")), absent="[class*='st-key-stars_search_']")
    expect(page.locator(card("profile", TITANIC))).to_contain_text("disliked")
    expect(page.locator(".st-key-hide_recs_" + str(listed(page, "recs")[0]))).to_be_visible()
    assert not page.get_by_text("% match").count()  # no percentage out of the list's order
    assert len(listed(page, "recs")) == 10
    page.mouse.move(0, 0)  # no tooltip in the picture
    screenshot = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "screenshot.png")
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 10_000


def test_a_markdown_image_in_a_title_fetches_nothing(tmp_path: Path) -> None:
    """A title like ![x](https://example.invalid/x.png) shows as text in cards, the profile,
    headings and tooltips: the browser never asks example.invalid (nor any other host)."""
    artifacts = evil_bundle(tmp_path)
    with (
        streamlit_run(artifacts, tmp_path / "streamlit.log") as url,
        sync_api.sync_playwright() as playwright,
    ):
        chromium = Browser(playwright)
        try:
            page = chromium.page()
            open_settled(page, url, "[class*='st-key-stars_picks_']")
            search(page, "img src", 1)
            stars(page, "search", 1, 5)
            press(page, "like_search_1", ".st-key-back")
            page.locator(".st-key-remove_1 [data-testid^=stBaseButton]:visible").hover()
            page.wait_for_timeout(500)
            expect(page.get_by_text("![x]").first).to_be_visible()
            press(page, "show_genres", "[data-testid='stDialog']")  # the title as an option
            movie = page.get_by_role("dialog").get_by_role("combobox", name="Movie")
            expect(movie).to_have_value(re.compile(re.escape("![x]")))
        finally:
            chromium.browser.close()
    assert chromium.foreign == []


def test_server_without_a_bundle_starts_and_says_how_to_fix_it(
    browser: Browser, tmp_path: Path
) -> None:
    """The start-up that reads the bundle lets a missing one through to the page's message."""
    missing = tmp_path / "no-artifacts"
    with streamlit_run(missing, tmp_path / "streamlit.log") as url:
        page = browser.page()
        page.goto(url)
        expect(page.get_by_text("no model bundle")).to_be_visible()
        command = page.get_by_test_id("stCode")  # the fix, as a command to copy
        expect(command).to_contain_text("python train_and_save_model.py --data-dir")
        expect(command).to_contain_text(str(missing))
        assert not page.get_by_test_id("stException").count()


def test_an_unexpected_error_shows_no_traceback(browser: Browser, tmp_path: Path) -> None:
    """The project's .streamlit/config.toml keeps error details on the server."""
    failing = tmp_path / "failing.py"
    failing.write_text('import streamlit as st\nst.title("Hello")\nraise ValueError("secret")\n')
    log = tmp_path / "streamlit.log"
    with serve(failing, dict(os.environ), log) as (url, _):
        page = browser.page()
        page.goto(url)
        notice = page.get_by_test_id("stException")
        expect(notice).to_contain_text("This app has encountered an error")
        shown = page.locator("body").inner_text()
    assert "secret" not in shown and "ValueError" not in shown and "Traceback" not in shown
    assert "ValueError: secret" in log.read_text()  # the details are in the server's log


def years_of(page: Any, context: str) -> list[int]:
    """The release years on one list's cards, in order (from each card's "Title · 1999")."""
    texts = page.locator(f"[class*='st-key-{context}_']").evaluate_all(
        "elements => elements.map(e => e.innerText.split('\\n')[0])"
    )
    found = [re.search(r" · (\d{4})\b", text) for text in texts]
    return [int(m.group(1)) for m in found if m]


def test_not_interested_takes_a_film_out_and_it_stays_out(browser: Browser, app_url: str) -> None:
    page = browser.page()
    open_settled(page, f"{app_url}/?p=1214:5,541:5,1240:4", "[class*='st-key-stars_recs_']")
    first, second = listed(page, "recs")[:2]
    press(page, f"hide_recs_{first}", absent=card("recs", first))  # it leaves at once
    assert first not in listed(page, "recs") and len(listed(page, "recs")) == 10
    assert f"h={first}" in page.url and first not in listed(page, "profile")
    stars(page, "recs", second, 4)  # a rerun with another profile: it stays out
    assert first not in listed(page, "recs")
    open_settled(page, page.url, card("profile", second))  # a reload of the address
    assert first not in listed(page, "recs")
    press(page, "show_hidden", f".st-key-hidden_{first}")  # where the visitor sees it
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("is not a rating")
    act(
        page,
        dialog.locator(f".st-key-unhide_{first} button").click,
        absent=f".st-key-hidden_{first}",
    )
    act(page, lambda: page.keyboard.press("Escape"), absent="[data-testid='stDialog']")
    page.wait_for_function(
        "(id) => document.querySelector(`.st-key-stars_recs_${id}`) !== null", arg=first
    )
    assert f"h={first}" not in page.url
    assert not page.get_by_test_id("stException").count()


def test_the_recency_slider_moves_the_years_of_the_list(browser: Browser, app_url: str) -> None:
    page = browser.page()
    open_settled(page, f"{app_url}/?p=1214:5,541:5,1240:4,260:5", "[class*='st-key-stars_recs_']")
    expect(page.get_by_text("Classics ↔ Recent films")).to_be_visible()
    expect(page.get_by_text("Leans the list towards older or newer films")).to_be_visible()
    before = years_of(page, "recs")
    slider = page.locator(".st-key-recency input[type='range']")
    expect(slider).to_have_attribute("aria-valuetext", "Any year")
    for _ in range(2):  # two steps right: "Recent films first"
        act(page, lambda: (slider.focus(), page.keyboard.press("ArrowRight")))
    expect(slider).to_have_attribute("aria-valuetext", "Recent films first")
    recent = years_of(page, "recs")
    assert "r=1" in page.url and sum(recent) / len(recent) > sum(before) / len(before)
    for _ in range(4):  # to the other end: "Classics first"
        act(page, lambda: (slider.focus(), page.keyboard.press("ArrowLeft")))
    expect(slider).to_have_attribute("aria-valuetext", "Classics first")
    classics = years_of(page, "recs")
    assert "r=-1" in page.url and sum(classics) / len(classics) < sum(before) / len(before)
    assert sum(classics) / len(classics) < sum(before) / len(before) < sum(recent) / len(recent)
    assert not page.get_by_test_id("stException").count()


GHIBLI_LINK = "p=5618:5,5971:5,3000:5"  # Spirited Away, Totoro, Princess Mononoke
DISCOVERY_SCREENSHOT_ENV = "MOVIEREC_DISCOVERY_SCREENSHOT"


def discovery_slider(page: Any) -> Any:
    """The sidebar's "Popular picks ↔ Hidden gems" slider."""
    return page.get_by_test_id("stSlider").filter(has_text="Popular picks ↔ Hidden gems")


def move_discovery(page: Any, key: str, value: str) -> None:
    """Move the "Popular picks ↔ Hidden gems" slider with the keyboard (Home: 0, End: 1) and
    wait until the page has followed; the slider then shows ``value``."""
    slider = discovery_slider(page)
    act(page, lambda: slider.get_by_role("slider").press(key))
    expect(slider.get_by_test_id("stSliderThumbValue")).to_have_text(value)


def test_the_discovery_slider_moves_the_lists_and_stays_in_the_link(
    browser: Browser, app_url: str, tmp_path: Path
) -> None:
    page = browser.page()
    open_settled(page, app_url, "[class*='st-key-stars_picks_']")
    # words a new visitor reads beside the slider, without the README
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("Popular picks ↔ Hidden gems")).to_be_visible()
    expect(sidebar.get_by_text("films fewer people have seen that still fit your")).to_be_visible()
    picks = listed(page, "picks")
    move_discovery(page, "End", "1.00")  # the cold-start list follows it
    assert listed(page, "picks") != picks
    open_settled(page, f"{app_url}/?{GHIBLI_LINK}", "[class*='st-key-stars_recs_']")
    default = listed(page, "recs")
    move_discovery(page, "End", "1.00")
    gems = listed(page, "recs")
    assert gems != default and "d=1" in page.url
    open_settled(page, page.url, "[class*='st-key-stars_recs_']")  # a reload keeps it
    expect(discovery_slider(page).get_by_test_id("stSliderThumbValue")).to_have_text("1.00")
    assert listed(page, "recs") == gems
    move_discovery(page, "Home", "0.00")
    popular = listed(page, "recs")
    assert popular not in (gems, default) and "d=0" in page.url
    move_discovery(page, "End", "1.00")
    screenshot = Path(os.environ.get(DISCOVERY_SCREENSHOT_ENV) or tmp_path / "discovery.png")
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot))
    assert not page.get_by_test_id("stException").count()
