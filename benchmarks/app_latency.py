"""How fast the Streamlit app is for a visitor, from a trained bundle.

    python benchmarks/app_latency.py --artifacts-dir artifacts [--repeats 5] [--changes 20]

Measures, and prints as a table (medians, with min and max) and writes as JSON:

1. first page, server time: a fresh session with empty caches (load the bundle, render the
   cold-start page), run by AppTest in this process: the script run itself, and the round trip.
   As in the server, whose start-up has checked the bundle, its checksums are computed once
   per process (the first of the runs);
2. page interactive in a browser: start ``streamlit run main.py``, open the page in headless
   chromium and wait until "Popular picks" is shown and the search box takes input; timed
   from process start and from navigation (skipped with ``--no-browser`` or when chromium is
   missing). The server reads the bundle before it reports healthy (``warm_up`` in main.py);
   a three-line Streamlit page in the same browser gives the floor;
3. re-render after a profile change, server time: with the model loaded, add or remove a
   movie through the page's own buttons and time the rerun that recomputes the
   recommendations (AppTest's own overhead is included, so this errs on the slow side);
4. for reference, ``Recommender.recommend`` alone for the same profiles.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from recommender import BundleError, Recommender  # noqa: E402

MAIN = REPO / "main.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
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
    """Seconds per rerun after adding or removing a movie: AppTest round trip, the script
    run inside it, and recommend() alone."""
    from streamlit.testing.v1 import AppTest

    rec = Recommender.load(artifacts)
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    at.run()
    rerun, script, direct = [], [], []
    added: list[int] = []
    queries = profile_queries(rec)
    while len(rerun) < changes:
        removing = len(added) >= 5  # alternate: grow to 5 movies, then shrink
        if removing:
            button = at.button(key=f"remove_{added.pop(0)}")
        else:
            at.text_input(key="search_text").input(next(queries)).run()
            if not at.selectbox:
                continue  # no match in this catalogue
            added.append(int(at.selectbox(key="search_choice").value))
            button = at.button(key="add_movie")
        button.click()
        seconds, in_script = timed_run(at)
        rerun.append(seconds)
        script.append(in_script)
        profile = dict.fromkeys(added)
        start = time.perf_counter()
        rec.recommend(profile, n=20)
        direct.append(time.perf_counter() - start)
    return rerun, script, direct


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def serve(
    script: Path, env: dict[str, str], log: Path | None = None
) -> Iterator[tuple[str, float]]:
    """`streamlit run script` on a free port: yields (url, perf_counter at process start).

    The server's output goes to ``log`` when given (else nowhere); it is stopped afterwards.
    """
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(script)]
    command += ["--server.headless", "true", "--server.address", "127.0.0.1"]
    command += ["--server.port", str(port)]
    with contextlib.ExitStack() as stack:
        output = stack.enter_context(log.open("w")) if log else subprocess.DEVNULL
        start = time.perf_counter()
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=output)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, server)
            yield url, start
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


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
                    open_until_interactive(browser, url)  # warm, like "next visitor"
                    for _ in range(repeats):
                        result["baseline"].append(open_until_interactive(browser, url))
        finally:
            browser.close()
    return result


INTERACTIVE = """() => {
  const heading = [...document.querySelectorAll("h1, h2, h3")]
    .some((h) => h.textContent.trim() === "Popular picks");
  const search = document.querySelector('input[aria-label="Find a movie"]');
  return heading && search !== null && !search.disabled && search.offsetParent !== null;
}"""


# Installed in every page before the app's own scripts: counts the messages the server sends
# (over Streamlit's websocket) and notes when the page last changed (a message, or any change
# of the document), so a test or a timing knows when an action's effect is over.
WATCH_PAGE = """(() => {
  const watch = {messages: 0, lastChange: performance.now()};
  window.movierecWatch = watch;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", () => {
        watch.messages += 1;
        watch.lastChange = performance.now();
      });
    }
  };
  new MutationObserver(() => { watch.lastChange = performance.now(); }).observe(document, {
    subtree: true, childList: true, attributes: true, characterData: true});
})();"""
QUIET_MS = 150  # no message and no change for this long: the page has settled
# The page has settled after an action: the server answered it (more than ``messages``
# messages so far), Streamlit's script is not running, no element is left from the previous
# run ("stale"), nothing changed for QUIET_MS, ``present`` (a CSS selector) is shown and
# ``absent`` is not. Checked by the page itself on every animation frame.
SETTLED = """([messages, present, absent, quiet]) => {
  const watch = window.movierecWatch;
  if (watch.messages <= messages || performance.now() - watch.lastChange < quiet) return false;
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') === 'running') return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  if (present && !document.querySelector(present)) return false;
  return !(absent && document.querySelector(absent));
}"""


def watch_pages(context: Any) -> None:
    """Make every page of a browser context watch itself (see ``act``)."""
    context.add_init_script(WATCH_PAGE)


def act(page: Any, action: Any, present: str | None = None, absent: str | None = None) -> float:
    """Do ``action()`` (a click, a key press), wait until the page has settled showing
    ``present`` and not ``absent``, and return the seconds from the action to the page's last
    change (the quiet wait that proves it was the last is not counted)."""
    messages, start = page.evaluate("[window.movierecWatch.messages, performance.now()]")
    action()
    arguments = [messages, present, absent, QUIET_MS]
    page.wait_for_function(SETTLED, arg=arguments, polling="raf", timeout=60_000)
    return (page.evaluate("window.movierecWatch.lastChange") - start) / 1000


def open_settled(page: Any, url: str, present: str | None = None) -> float:
    """Open ``url`` and wait until its first run has ended and it shows ``present``; returns
    the seconds from the start of navigation (the page's time origin) to its last change."""
    page.goto(url)
    page.wait_for_function(SETTLED, arg=[0, present, None, QUIET_MS], polling="raf", timeout=60_000)
    return page.evaluate("window.movierecWatch.lastChange") / 1000


def open_until_interactive(browser: Any, url: str) -> float:
    """Seconds from navigation until "Popular picks" is shown and the search box takes input.

    The page checks itself on every animation frame; Playwright's own waits poll at growing
    intervals (up to a second), which would add their own delay to the figure.
    """
    page = browser.new_page()
    try:
        start = time.perf_counter()
        page.goto(url)
        page.wait_for_function(INTERACTIVE, polling="raf", timeout=60_000)
        return time.perf_counter() - start
    finally:
        page.close()


def wait_healthy(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} was not healthy within {timeout} s")


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

    rows: list[tuple[str, dict[str, float]]] = []
    time_script_runs()
    script, round_trip = first_page_server(artifacts, args.repeats)
    rows.append(("first page: script run (server, cold caches, bundle load)", summary(script)))
    rows.append(("first page: AppTest round trip", summary(round_trip)))
    if not args.no_browser and CHROMIUM.is_file():
        browser = browser_interactive(artifacts, args.repeats)
        rows.append(
            ("browser: `streamlit run` start -> /_stcore/health", summary(browser["health"]))
        )
        rows.append(("browser: `streamlit run` start -> page interactive", summary(
            browser["from_start"])))  # fmt: skip
        rows.append(("browser: first visitor, navigation -> page interactive", summary(
            browser["from_navigation"])))  # fmt: skip
        rows.append(("browser: next visitor, navigation -> page interactive", summary(
            browser["next_visitor"])))  # fmt: skip
        rows.append(("browser: 3-line Streamlit page, same browser (baseline)", summary(
            browser["baseline"])))  # fmt: skip
    keep_compiled_script()
    rerun, script, direct = profile_changes(artifacts, args.changes)
    rows.append(("re-render after a profile change: script run (server)", summary(script)))
    rows.append(("re-render after a profile change: AppTest round trip", summary(rerun)))
    rows.append(("  Recommender.recommend alone (n=20), for reference", summary(direct)))
    print_table(rows)

    report: dict[str, Any] = {
        "command": " ".join(["python", *sys.argv]),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            # Other work on the machine slows every figure; the load says how busy it was.
            "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        },
        "bundle_counts": counts,
        "measures": dict(rows),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
