"""How fast the Streamlit app is for a visitor, from a trained bundle.

    python benchmarks/app_latency.py --artifacts-dir artifacts [--repeats 5] [--changes 20]
                                     [--actions 10]

Measures, and prints as a table (medians, with min and max) and writes as JSON:

1. first page, server time: a fresh session with empty caches (load the bundle, render the
   cold-start page), run by AppTest in this process: the script run itself, and the round trip.
   As in the server, whose start-up has checked the bundle, its checksums are computed once
   per process (the first of the runs);
2. page interactive in a browser: start ``streamlit run main.py``, open the page in headless
   chromium and wait until "Popular picks" is shown with its stars and the search box takes
   input; timed from process start and from navigation (skipped with ``--no-browser`` or when
   chromium is missing). The server reads the bundle before it reports healthy (``warm_up``
   in main.py); a three-line Streamlit page in the same browser gives the floor;
3. a visitor's actions in the browser, ``--actions`` of each: search (type a title and press
   Enter, until its best match shows), rate (a star under that result: the profile and the
   lists follow), add (the top recommendation), remove (a profile movie); each from the action
   to the page's last change (``benchmarks/page_driver.py``);
4. re-render after a profile change, server time: with the model loaded, rate a search
   result or remove a movie through the page's own widgets and time the rerun that recomputes
   the recommendations (AppTest's own overhead is included, so this errs on the slow side);
5. for reference, ``Recommender.recommend`` alone for the same profiles.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.page_driver import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    MAIN,
    act,
    open_settled,
    run_record,
    serve,
    watch_pages,
)
from recommender import BundleError, Recommender  # noqa: E402

# Well-known titles of ml-latest-small; other data sets fall back on their most-rated titles.
PROFILE_QUERIES = [
    "toy story", "matrix", "finding nemo", "alien", "heat", "amelie", "godfather", "fargo",
    "pulp fiction", "shrek", "titanic", "jurassic park", "star wars", "casablanca", "up",
]  # fmt: skip


def summary(values: list[float]) -> dict[str, float]:
    """Median, min and max in milliseconds, and how many runs."""
    ms = [v * 1000 for v in values]
    return {
        "median_ms": round(statistics.median(ms), 1),
        "min_ms": round(min(ms), 1),
        "max_ms": round(max(ms), 1),
        "runs": len(ms),
    }


def keep_compiled_script() -> None:
    """Make AppTest reuse the compiled script between runs, as a running server does.

    AppTest builds a new ScriptCache on every run, so each run would re-parse and compile
    main.py (~50-200 ms here), which `streamlit run` does once per process.
    """
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test

    shared = ScriptCache()
    app_test.ScriptCache = lambda: shared


SCRIPT_RUNS: list[float] = []


def time_script_runs() -> None:
    """Record how long each run of main.py takes inside Streamlit's script runner.

    This is the server's own work for a rerun (callbacks, the script, the model calls),
    without AppTest's bookkeeping around it.
    """
    from streamlit.runtime.scriptrunner import script_runner

    original = script_runner.exec_func_with_error_handling

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            SCRIPT_RUNS.append(time.perf_counter() - start)

    script_runner.exec_func_with_error_handling = timed


def first_page_server(artifacts: Path, repeats: int) -> tuple[list[float], list[float]]:
    """Seconds for a new session's first run with empty caches (bundle load included): the
    script run inside Streamlit's runner, and AppTest's whole round trip (which adds ~0.2 s of
    its own start-up, such as scanning installed packages for components)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    script, round_trip = [], []
    for _ in range(repeats):
        st.cache_resource.clear()
        st.cache_data.clear()
        seconds, in_script = timed_run(AppTest.from_file(str(MAIN), default_timeout=60))
        round_trip.append(seconds)
        script.append(in_script)
    return script, round_trip


def timed_run(at: Any) -> tuple[float, float]:
    """Run the app once: seconds for AppTest's round trip, and for the script run(s) inside."""
    SCRIPT_RUNS.clear()
    start = time.perf_counter()
    at.run()
    seconds = time.perf_counter() - start
    if at.exception:
        raise RuntimeError(f"the app failed: {at.exception[0].value}")
    return seconds, sum(SCRIPT_RUNS)


def profile_queries(rec: Recommender) -> Iterator[str]:
    """What to type into the search box, endlessly: well-known titles of ml-latest-small, then
    the catalogue's own most-rated titles (without the year), so any data set has matches."""
    most_rated = rec.movies.nlargest(50, "n_ratings")["title"]
    titles = most_rated.str.replace(r"\s*\(\d{4}\)\s*$", "", regex=True)
    return itertools.cycle([*PROFILE_QUERIES, *titles])


def profile_changes(artifacts: Path, changes: int) -> tuple[list[float], list[float], list[float]]:
    """Seconds per rerun after rating a search result into the profile or removing a movie:
    AppTest round trip, the script run inside it, and recommend() alone."""
    from streamlit.testing.v1 import AppTest

    rec = Recommender.load(artifacts)
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    at.run()
    rerun, script, direct = [], [], []
    added: list[int] = []
    queries = profile_queries(rec)
    while len(rerun) < changes:
        if len(added) >= 5:  # alternate: grow to 5 movies, then shrink
            at.button(key=f"remove_{added.pop(0)}").click()
        else:
            at.text_input(key="search_text").input(next(queries)).run()
            stars = [w for w in at.get("feedback") if w.key.startswith("stars_search_")]
            found = [w for w in stars if int(w.key.rsplit("_", 1)[1]) not in added]
            if not found:
                continue  # no new match in this catalogue
            added.append(int(found[0].key.rsplit("_", 1)[1]))
            found[0].set_value(3)  # four stars
        seconds, in_script = timed_run(at)
        rerun.append(seconds)
        script.append(in_script)
        start = time.perf_counter()
        rec.recommend(dict.fromkeys(added, 4.0), n=10)
        direct.append(time.perf_counter() - start)
    return rerun, script, direct


def browser_actions(artifacts: Path, rounds: int) -> dict[str, list[float]]:
    """Seconds from a visitor's action to the page's last change, in headless chromium against
    `streamlit run`: search (type a title, Enter, until its best match shows), rate the match
    (a star: into the profile, the lists follow), add the top recommendation ("Add"), remove
    the oldest profile movies down to five. ``rounds`` of each (more removals)."""
    from playwright.sync_api import sync_playwright

    rec = Recommender.load(artifacts)
    queries = profile_queries(rec)
    env = {**os.environ, "MOVIEREC_ARTIFACTS_DIR": str(artifacts)}
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    times: dict[str, list[float]] = {"search": [], "rate": [], "add": [], "remove": []}
    with sync_playwright() as playwright, serve(MAIN, env) as (url, _):
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            watch_pages(context)
            page = context.new_page()
            open_settled(page, url, "[class*='st-key-stars_picks_']")
            profile: list[int] = []
            while len(times["rate"]) < rounds:
                query = next(queries)
                found = rec.search(query, n=1)["movieId"].tolist()
                if found and found[0] not in profile:
                    one_round(page, times, profile, query, found[0])
        finally:
            browser.close()
    return times


def one_round(
    page: Any, times: dict[str, list[float]], profile: list[int], query: str, movie: int
) -> None:
    """Search ``query`` (its best match is ``movie``), rate it, add the top recommendation,
    remove the oldest profile movies down to five; each timed into ``times``."""
    box = page.get_by_role("searchbox", name="Find a movie")
    times["search"].append(
        act(page, lambda: (box.fill(query), box.press("Enter")), f".st-key-stars_search_{movie}")
    )
    star = page.locator(f".st-key-stars_search_{movie} button").nth(3)
    times["rate"].append(act(page, lambda: click(page, star), f".st-key-profile_{movie}"))
    profile.append(movie)
    first = page.locator("[class*='st-key-add_recs_']").first.get_attribute("class")
    top = int(first.split("st-key-add_recs_")[1].split()[0])
    add = page.locator(f".st-key-add_recs_{top} [data-testid^=stBaseButton]:visible")
    times["add"].append(act(page, lambda: click(page, add), f".st-key-profile_{top}"))
    profile.append(top)
    while len(profile) > 5:
        oldest = profile.pop(0)
        remove = page.locator(f".st-key-remove_{oldest} [data-testid^=stBaseButton]:visible")
        gone = f".st-key-profile_{oldest}"
        times["remove"].append(act(page, partial(click, page, remove), absent=gone))


def click(page: Any, target: Any) -> None:
    """Click, then move the pointer away: a tooltip showing up later is no part of the answer."""
    target.click()
    page.mouse.move(0, 0)


BASELINE_APP = """import streamlit as st
st.title("What should I watch next?")
st.text_input("Find a movie")
st.subheader("Popular picks")
"""


def browser_interactive(artifacts: Path, repeats: int) -> dict[str, list[float]]:
    """Seconds from `streamlit run` to health, and to the cold-start page shown in chromium.

    "baseline" times a three-line Streamlit page in the same browser: what the browser and
    Streamlit's own front end cost on this machine before the app does anything.
    """
    from playwright.sync_api import sync_playwright

    result: dict[str, list[float]] = {
        "health": [],
        "from_start": [],
        "from_navigation": [],
        "next_visitor": [],
        "baseline": [],
    }
    env = {**os.environ, "MOVIEREC_ARTIFACTS_DIR": str(artifacts)}
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            for _ in range(repeats):
                with serve(MAIN, env) as (url, start):
                    result["health"].append(time.perf_counter() - start)
                    seconds = open_until_interactive(browser, url)
                    result["from_start"].append(time.perf_counter() - start)
                    result["from_navigation"].append(seconds)
                    # A later visitor: the server, its model and the browser cache are warm.
                    result["next_visitor"].append(open_until_interactive(browser, url))
            with tempfile.TemporaryDirectory() as folder:
                baseline = Path(folder) / "baseline.py"
                baseline.write_text(BASELINE_APP)
                with serve(baseline, env) as (url, _):
                    open_until_interactive(browser, url, stars=False)  # warm: a next visitor
                    for _ in range(repeats):
                        result["baseline"].append(open_until_interactive(browser, url, False))
        finally:
            browser.close()
    return result


INTERACTIVE = """(withStars) => {
  const heading = [...document.querySelectorAll("h1, h2, h3")]
    .some((h) => h.textContent.trim() === "Popular picks");
  const search = document.querySelector('input[aria-label="Find a movie"]');
  const stars = document.querySelector("[class*='st-key-stars_picks_'] button");
  return heading && (stars !== null || !withStars) && search !== null && !search.disabled
    && search.offsetParent !== null;
}"""


def open_until_interactive(browser: Any, url: str, stars: bool = True) -> float:
    """Seconds from navigation until "Popular picks" is shown and the search box takes input.

    The page checks itself on every animation frame; Playwright's own waits poll at growing
    intervals (up to a second), which would add their own delay to the figure.
    """
    page = browser.new_page()
    try:
        start = time.perf_counter()
        page.goto(url)
        page.wait_for_function(INTERACTIVE, arg=stars, polling="raf", timeout=60_000)
        return time.perf_counter() - start
    finally:
        page.close()


def browser_rows(artifacts: Path, repeats: int, actions: int) -> list[tuple[str, dict]]:
    """The browser's figures: the first page, then a visitor's actions."""
    browser = browser_interactive(artifacts, repeats)
    rows = [
        ("browser: `streamlit run` start -> /_stcore/health", browser["health"]),
        ("browser: `streamlit run` start -> page interactive", browser["from_start"]),
        ("browser: first visitor, navigation -> page interactive", browser["from_navigation"]),
        ("browser: next visitor, navigation -> page interactive", browser["next_visitor"]),
        ("browser: 3-line Streamlit page, same browser (baseline)", browser["baseline"]),
    ]
    timed = browser_actions(artifacts, actions)
    rows += [
        ("browser: search (type a title, Enter) -> its match shown", timed["search"]),
        ("browser: rate (a star on a result) -> profile and lists updated", timed["rate"]),
        ("browser: add (the top recommendation) -> page updated", timed["add"]),
        ("browser: remove (a profile movie) -> page updated", timed["remove"]),
    ]
    return [(name, summary(values)) for name, values in rows]


def print_table(rows: list[tuple[str, dict[str, float]]]) -> None:
    print(f"{'measure':<58} {'median ms':>10} {'min ms':>9} {'max ms':>9} {'runs':>5}")
    for name, figures in rows:
        print(
            f"{name:<58} {figures['median_ms']:>10.1f} {figures['min_ms']:>9.1f} "
            f"{figures['max_ms']:>9.1f} {figures['runs']:>5}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--artifacts-dir", type=Path, default=Path("artifacts"))
    parser.add_argument("--repeats", type=int, default=5, help="cold starts to time")
    parser.add_argument("--changes", type=int, default=20, help="profile changes to time")
    parser.add_argument("--actions", type=int, default=10, help="browser actions of each kind")
    parser.add_argument("--no-browser", action="store_true", help="skip the chromium timing")
    parser.add_argument(
        "--output", type=Path, default=REPO / "benchmarks" / "results" / "app_latency.json"
    )
    args = parser.parse_args(argv)
    artifacts = args.artifacts_dir.resolve()
    try:
        counts = Recommender.load(artifacts).manifest.get("counts", {})
    except BundleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    os.environ["MOVIEREC_ARTIFACTS_DIR"] = str(artifacts)
    load_at_start = [round(x, 2) for x in os.getloadavg()]

    rows: list[tuple[str, dict[str, float]]] = []
    time_script_runs()
    script, round_trip = first_page_server(artifacts, args.repeats)
    rows.append(("first page: script run (server, cold caches, bundle load)", summary(script)))
    rows.append(("first page: AppTest round trip", summary(round_trip)))
    if not args.no_browser and CHROMIUM.is_file():
        rows += browser_rows(artifacts, args.repeats, args.actions)
    keep_compiled_script()
    rerun, script, direct = profile_changes(artifacts, args.changes)
    rows.append(("re-render after a profile change: script run (server)", summary(script)))
    rows.append(("re-render after a profile change: AppTest round trip", summary(rerun)))
    rows.append(("  Recommender.recommend alone (n=10), for reference", summary(direct)))
    print_table(rows)

    report: dict[str, Any] = {
        **run_record(load_at_start),
        "bundle_counts": counts,
        "measures": dict(rows),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
