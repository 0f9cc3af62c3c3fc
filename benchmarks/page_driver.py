"""Driving the app in a real browser: serve it, open it in headless chromium, act, time.

Shared by ``benchmarks/app_latency.py`` (timings) and ``tests/test_browser.py`` (checks). Every
page watches itself (``WATCH_PAGE``): it counts the server's messages and notes when it last
changed, so ``act`` knows when an action's effect is over, however fast or slow the run.
"""

from __future__ import annotations

import contextlib
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
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
    with serve_process(script, env, log) as (url, start, _):
        yield url, start


@contextlib.contextmanager
def serve_process(
    script: Path, env: dict[str, str], log: Path | None = None
) -> Iterator[tuple[str, float, subprocess.Popen]]:
    """As ``serve``, and the server's process (its pid is the server's: /proc/PID/...)."""
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
            yield url, start, server
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def run_record(load_at_start: list[float] | None = None) -> dict[str, Any]:
    """What a result file starts with: the command, when it ran, the machine and its load."""
    machine: dict[str, Any] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    if load_at_start is not None:
        machine["load_average_1_5_15_at_start"] = load_at_start
    # Other work on the machine slows every figure; the load says how busy it was.
    machine["load_average_1_5_15"] = [round(x, 2) for x in os.getloadavg()]
    return {
        "command": " ".join(["python", *sys.argv]),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine,
    }


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
