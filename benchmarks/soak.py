"""Does the app's server stay the same size however often its bundle changes? A soak run.

    python benchmarks/soak.py DATA_DIR [--changes 20] [--manifest-updates] [--output FILE]

Trains a bundle on DATA_DIR into a fresh artifacts folder, starts ``streamlit run main.py`` on
it and loads the page in headless chromium (as benchmarks/app_latency.py does). Then, CHANGES
times: changes the bundle (a retrain into the same folder, as a nightly job would; with
``--manifest-updates`` every other change is instead the offline evaluation writing its
figures into the current bundle's manifest, as ``make evaluate`` does), loads the page again
and waits until it is interactive. After each page load it records, from /proc/PID of the
server: open files (``fd``), resident memory (``VmRSS``), which bundle directories have files
mapped (``maps``), mapped bundle files already deleted (disk space a pruned bundle cannot give
back while mapped) and open file descriptors into the artifacts folder.

It prints a line per step and a verdict, writes the figures as JSON (default
benchmarks/results/soak.json) and exits 1 when the server did not stay flat: open files after
the last change at most 2 above, and RSS within 10% of, the values after the first page load;
one bundle mapped after each load (the current one); nothing deleted still mapped.

With Streamlit's own session TTL, closed tabs' sessions are kept for two minutes, so files are
judged once they are gone (issue 21's soak, about 8 minutes)::

    python benchmarks/soak.py DATA_DIR --changes 6 --loads-per-change 10 --session-ttl 120 \
        --quiet 150

``--loads-per-change`` loads (and closes) the page that many times after each change;
``--quiet`` waits that long after the last tab closed, with no client connected, and judges the
server then: open files at most the figure after the first load + 5, RSS within 10%.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.app_latency import open_until_interactive  # noqa: E402
from benchmarks.page_driver import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    MAIN,
    run_record,
    serve_process,
)
from recommender.artifacts import current_name  # noqa: E402

SESSION_TTL = 1  # seconds Streamlit keeps a closed page's session (its default is 120)
# Sockets of a page that just closed may linger a moment. Fewer files than at the first load is
# not a leak: whether the tab closed just before an observation still holds its session's 3 files
# depends on when the reaper last ran (app/sessions.py, every 10 s), so only growth is counted.
OPEN_FILES_SLACK = 2
QUIET_OPEN_FILES_SLACK = 5  # after --quiet: the bound
RSS_SLACK = 0.10
Change = Callable[[int], str]  # changes the bundle at a step; says how ("retrain", ...)
DELETED = " (deleted)"


@dataclass(frozen=True)
class Options:
    """How the server is run and observed."""

    session_ttl: int = SESSION_TTL
    settle: float = 2.0  # seconds after a page closes before the server is observed
    verbose: bool = False  # print a line per step
    loads_per_change: int = 1  # page loads (each tab closed) after each change
    quiet: float = 0.0  # seconds to wait after the last tab closed, then observe once more


# --- what the server holds, from /proc ------------------------------------------------------------


def open_files(pid: int) -> int:
    """How many file descriptors the process has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_mb(pid: int) -> float:
    """The process's resident memory (VmRSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmRSS")


def mapped_files(pid: int, folder: Path) -> set[str]:
    """Files under ``folder`` mapped into the process; a deleted one ends in " (deleted)"."""
    prefix = f"{folder.resolve()}/"
    found = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5].startswith(prefix):
            found.add(fields[5])
    return found


def bundles_of(paths: set[str], folder: Path) -> list[str]:
    """The bundle directories (first path part under ``folder``) of some paths, sorted."""
    prefix = f"{folder.resolve()}/"
    return sorted({path.removeprefix(prefix).split("/")[0] for path in paths})


def descriptors_into(pid: int, folder: Path) -> int:
    """How many of the process's open file descriptors point into ``folder``."""
    prefix = f"{folder.resolve()}/"
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        count += target.startswith(prefix)
    return count


def observe(pid: int, artifacts: Path) -> dict[str, Any]:
    """What the server holds now: open files, RSS, mapped bundles, deleted files still mapped."""
    mapped = mapped_files(pid, artifacts)
    return {
        "open_files": open_files(pid),
        "rss_mb": round(rss_mb(pid), 1),
        "mapped_bundles": bundles_of({path.removesuffix(DELETED) for path in mapped}, artifacts),
        "deleted_but_mapped": sum(path.endswith(DELETED) for path in mapped),
        "descriptors_into_artifacts": descriptors_into(pid, artifacts),
        "current": current_name(artifacts),
        "arrays_in_current": len(list((artifacts / str(current_name(artifacts))).glob("*.npy"))),
        "bundles_on_disk": sorted(p.name for p in artifacts.glob("bundle-*")),
    }


# --- changing the bundle --------------------------------------------------------------------------


def retrain(data_dir: Path, artifacts: Path) -> None:
    """A training run into ``artifacts``, in its own process, as a nightly job would."""
    _run([REPO / "train_and_save_model.py", "--data-dir", data_dir, "--artifacts-dir", artifacts])


def update_manifest(data_dir: Path, artifacts: Path, scratch: Path) -> None:
    """The offline evaluation writing its figures into the current bundle's manifest."""
    module = ["-m", "recommender.evaluation", "--data-dir", data_dir]
    _run([*module, "--artifacts-dir", artifacts, "--out", scratch])


def _run(arguments: list[Any]) -> None:
    command = [sys.executable, *map(str, arguments)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")


# --- the run --------------------------------------------------------------------------------------


def bundle_changes(data_dir: Path, artifacts: Path, manifest_updates: bool) -> Change:
    """What each step does to the bundle: a retrain (or, with ``manifest_updates``, a retrain
    and a manifest update in turn), each in its own process as a scheduled job would run."""

    def change(step: int) -> str:
        if manifest_updates and step % 2 == 0:
            update_manifest(data_dir, artifacts, artifacts.parent / "evaluation")
            return "manifest update"
        retrain(data_dir, artifacts)
        return "retrain"

    return change


def soak(artifacts: Path, change: Change, changes: int, options: Options) -> list[dict[str, Any]]:
    """Start the server on ``artifacts``, load the page, then ``changes`` times change the
    bundle (``change(step)`` says how) and load the page again; what the server held after each
    load (the first entry: before any change)."""
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "MOVIEREC_ARTIFACTS_DIR": str(artifacts)}
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    env["STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL"] = str(options.session_ttl)
    log = artifacts.parent / "streamlit.log"
    steps = []
    with sync_playwright() as playwright, serve_process(MAIN, env, log) as (url, _, server):
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            for step in range(changes + 1):
                start = time.perf_counter()
                kind = change(step) if step else "start"
                changed = time.perf_counter() - start
                for _ in range(options.loads_per_change if step else 1):
                    page = open_until_interactive(browser, url)
                time.sleep(options.settle)  # the closed page's session and socket wind down
                held = observe(server.pid, artifacts)
                steps.append(
                    {"step": step, "change": kind, "change_s": round(changed, 2)}
                    | {"page_s": round(page, 2), **held}
                )
                if options.verbose:
                    print_step(steps[-1])
            if options.quiet:
                time.sleep(options.quiet)  # no client: what the closed tabs leave behind
                held = observe(server.pid, artifacts)
                steps.append({"step": "quiet", "change": f"{options.quiet:g} s"} | held)
        finally:
            browser.close()
    return steps


def quiet_verdict(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """After ``--quiet``: open files within +5 of, and RSS within 10% of, the first load's."""
    first, quiet = steps[0], steps[-1]
    return {
        "open_files_first_quiet": [first["open_files"], quiet["open_files"]],
        "rss_mb_first_quiet": [first["rss_mb"], quiet["rss_mb"]],
        "quiet_open_files_ok": quiet["open_files"] <= first["open_files"] + QUIET_OPEN_FILES_SLACK,
        "quiet_rss_ok": quiet["rss_mb"] <= first["rss_mb"] * (1 + RSS_SLACK),
    }


def verdict(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """Whether the server stayed flat, comparing the last step with the first page load."""
    quiet = steps[-1]["step"] == "quiet"
    steps = steps[:-1] if quiet else steps
    first, last = steps[0], steps[-1]
    return {
        "open_files_first_last": [first["open_files"], last["open_files"]],
        "rss_mb_first_last": [first["rss_mb"], last["rss_mb"]],
        "rss_change": round(last["rss_mb"] / first["rss_mb"] - 1, 3),
        "open_files_flat": last["open_files"] - first["open_files"] <= OPEN_FILES_SLACK,
        "rss_flat": abs(last["rss_mb"] / first["rss_mb"] - 1) <= RSS_SLACK,
        "one_bundle_mapped": all(s["mapped_bundles"] == [s["current"]] for s in steps),
        "nothing_deleted_mapped": all(s["deleted_but_mapped"] == 0 for s in steps),
    }


def print_step(step: dict[str, Any]) -> None:
    if step["step"] == "quiet":
        print(f"after {step['change']} with no client: {step['open_files']} open files, "
              f"{step['rss_mb']:.1f} MB RSS", flush=True)  # fmt: skip
        return
    print(
        f"{step['step']:>3} {step['change']:<16} {step['change_s']:>6.1f} s"
        f" {step['page_s']:>5.2f} s"
        f" {step['open_files']:>6} {step['rss_mb']:>8.1f} {len(step['mapped_bundles']):>7}"
        f" {step['deleted_but_mapped']:>8} {step['descriptors_into_artifacts']:>6}",
        flush=True,
    )


HEADER = (
    "step change            change   page  files  RSS MB  mapped  deleted  fds in"
    "\n                                                       bundles  mapped artifacts"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path, help="MovieLens-format folder to train on")
    parser.add_argument("--changes", type=int, default=20, help="bundle changes (default 20)")
    parser.add_argument(
        "--manifest-updates",
        action="store_true",
        help="every other change is a manifest update by the evaluation instead of a retrain",
    )
    parser.add_argument("--settle", type=float, default=2.0, help="seconds after each page")
    parser.add_argument(
        "--session-ttl",
        type=int,
        default=SESSION_TTL,
        help="server.disconnectedSessionTTL: seconds a closed page's session is kept "
        f"(default {SESSION_TTL}; Streamlit's own default is 120)",
    )
    parser.add_argument("--loads-per-change", type=int, default=1, help="page loads per change")
    parser.add_argument(
        "--quiet", type=float, default=0.0, help="seconds with no client at the end"
    )
    parser.add_argument(
        "--output", type=Path, default=REPO / "benchmarks" / "results" / "soak.json"
    )
    args = parser.parse_args(argv)
    if not CHROMIUM.is_file():
        print(f"error: the soak run needs chromium at {CHROMIUM}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="movierec-soak-") as scratch:
        artifacts = Path(scratch) / "artifacts"
        retrain(args.data_dir, artifacts)
        print(HEADER)
        change = bundle_changes(args.data_dir, artifacts, args.manifest_updates)
        options = Options(args.session_ttl, args.settle, True, args.loads_per_change, args.quiet)
        steps = soak(artifacts, change, args.changes, options)
        if options.quiet:
            print_step(steps[-1])
    result = verdict(steps)
    if options.quiet:
        result |= quiet_verdict(steps)
    print(
        f"open files {result['open_files_first_last'][0]} -> {result['open_files_first_last'][1]}"
        f" ({'flat' if result['open_files_flat'] else 'NOT flat'}, +{OPEN_FILES_SLACK}); "
        f"RSS {result['rss_mb_first_last'][0]:.1f} -> {result['rss_mb_first_last'][1]:.1f} MB"
        f" ({result['rss_change']:+.1%}, {'flat' if result['rss_flat'] else 'NOT flat'}, "
        f"±{RSS_SLACK:.0%}); one bundle mapped: {result['one_bundle_mapped']}; "
        f"deleted files mapped: {not result['nothing_deleted_mapped']}"
    )
    report = {
        **run_record(),
        "data_dir": str(args.data_dir),
        "session_ttl_s": args.session_ttl,
        "verdict": result,
        "steps": steps,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")
    if options.quiet:
        quiet_ok = result["quiet_open_files_ok"] and result["quiet_rss_ok"]
        print(f"after --quiet: open files {result['open_files_first_quiet']}, RSS "
              f"{result['rss_mb_first_quiet']} MB: {'within' if quiet_ok else 'NOT within'} "
              f"+{QUIET_OPEN_FILES_SLACK} files, +{RSS_SLACK:.0%}")  # fmt: skip
        kept = result["nothing_deleted_mapped"] and result["one_bundle_mapped"]
        return 0 if quiet_ok and kept else 1
    flat = all(result[name] for name in ("open_files_flat", "rss_flat", "one_bundle_mapped"))
    return 0 if flat and result["nothing_deleted_mapped"] else 1


if __name__ == "__main__":
    sys.exit(main())
