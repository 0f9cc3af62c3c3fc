"""One loaded bundle at a time: a server that is retrained again and again stays the same size.

A short version of ``benchmarks/soak.py`` against a real ``streamlit run`` and Debian's chromium
(skipped when that or Playwright is missing), and the model loader's contract in this process:
a new bundle's model replaces the old one, which is closed (its memory maps and open files let
go) once the page runs using it have ended.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from app.loading import load_recommender, recommender_or_stop
from benchmarks.page_driver import CHROMIUM
from benchmarks.soak import OPEN_FILES_SLACK, Options, mapped_files, soak
from recommender import BundleError, Recommender, TrainingConfig, train

BUNDLE_CHANGES = 5


def retrained(data_dir: Path, artifacts: Path) -> Path:
    """A new bundle trained into ``artifacts`` (the trainer prunes all but it and the one
    before); its directory."""
    train(data_dir, artifacts, TrainingConfig())
    return artifacts / (artifacts / "CURRENT").read_text().strip()


@pytest.mark.skipif(not CHROMIUM.is_file(), reason="needs Debian's /usr/bin/chromium")
def test_retrains_leave_the_server_as_it_was(data_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("playwright.sync_api")
    artifacts = tmp_path / "artifacts"
    current = [retrained(data_dir, artifacts).name]

    def change(step: int) -> str:
        current.append(retrained(data_dir, artifacts).name)
        return "retrain"

    steps = soak(artifacts, change, BUNDLE_CHANGES, Options())

    assert [step["current"] for step in steps] == current  # each load followed a change
    for step in steps:  # the page loaded the new bundle, and only it is mapped and open
        assert step["mapped_bundles"] == [step["current"]], step
        assert step["deleted_but_mapped"] == 0, step
        assert step["descriptors_into_artifacts"] == step["arrays_in_current"] > 0, step
    first, last = steps[0]["open_files"], steps[-1]["open_files"]
    # no growth (a drop is a closed tab's session the reaper took before this observation)
    assert last - first <= OPEN_FILES_SLACK, [step["open_files"] for step in steps]
    pruned = [name for name in current if not (artifacts / name).exists()]
    assert pruned == current[:-2]  # the trainer keeps the current bundle and the one before


def test_a_new_bundle_closes_the_model_it_replaced(data_dir: Path, tmp_path: Path) -> None:
    """In this process, as the server's warm-up loads it: the replaced model lets go of its
    files (nothing of its bundle stays mapped) and refuses to score; its catalogue stays."""
    artifacts = tmp_path / "artifacts"
    first = retrained(data_dir, artifacts)
    try:
        old = load_recommender(str(artifacts), Recommender.current_version(artifacts))
        assert any(str(first) in path for path in mapped_files(os.getpid(), artifacts))
        second = retrained(data_dir, artifacts)
        new = load_recommender(str(artifacts), Recommender.current_version(artifacts))

        assert new is not old
        mapped = mapped_files(os.getpid(), artifacts)
        assert mapped and all(path.startswith(f"{second.resolve()}/") for path in mapped)
        with pytest.raises(BundleError, match="closed"):
            old.recommend([1])
        assert old.search("toy story")["movieId"].iloc[0] == 1  # titles can still be looked up
        assert len(new.recommend([1], n=5)) == 5
    finally:
        load_recommender.clear()  # closes what this test loaded


def test_a_replaced_model_stays_open_until_the_runs_using_it_end(
    data_dir: Path, tmp_path: Path
) -> None:
    """A page run in progress when a new bundle is loaded keeps a working model to the end."""
    artifacts = tmp_path / "artifacts"
    retrained(data_dir, artifacts)
    handed, finish = threading.Event(), threading.Event()
    held: list[Recommender] = []

    def page_run() -> None:  # a run that got the model, then takes its time
        held.append(recommender_or_stop(str(artifacts))[0])
        handed.set()
        finish.wait(60)

    run = threading.Thread(target=page_run)
    run.start()
    try:
        assert handed.wait(60)
        retrained(data_dir, artifacts)
        load_recommender(str(artifacts), Recommender.current_version(artifacts))
        assert len(held[0].recommend([1], n=5)) == 5  # replaced, but still in use: open
        finish.set()
        run.join(60)
        deadline = time.monotonic() + 30
        while "scorers" in vars(held[0]) and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(BundleError, match="closed"):
            held[0].recommend([1])
    finally:
        finish.set()
        load_recommender.clear()


def test_checksums_of_pruned_files_are_forgotten(tmp_path: Path) -> None:
    """The memo of files already hashed (so the server's start-up and first page hash a bundle
    once) keeps no entry for a file pruned since: months of retrains would pile them up."""
    from recommender import bundle

    old, new = tmp_path / "old.npy", tmp_path / "new.npy"
    old.write_bytes(b"old")
    new.write_bytes(b"new")
    bundle.sha256_of_each([old])
    old.unlink()
    bundle.sha256_of_each([new])
    remembered = {path for path, *_ in bundle._DIGESTS}
    assert str(new.resolve()) in remembered and str(old.resolve()) not in remembered


@pytest.mark.skipif(not CHROMIUM.is_file(), reason="needs Debian's /usr/bin/chromium")
def test_closed_tabs_let_go_of_their_files_without_another_visitor(
    trained_artifacts: Path, tmp_path: Path
) -> None:
    """Each session holds 3 files (its event loop); Streamlit dropped an expired one only when
    the next visitor came, so a quiet server kept every closed tab's files. Now they go within
    REAP_EVERY seconds of the TTL, with no client connected. (A short TTL, so the test is short:
    benchmarks/soak.py --session-ttl 120 --quiet 150 runs it with Streamlit's own.)"""
    sync_api = pytest.importorskip("playwright.sync_api")
    from app.sessions import REAP_EVERY
    from benchmarks.app_latency import open_until_interactive
    from benchmarks.page_driver import CHROMIUM_ARGS, MAIN, serve_process
    from benchmarks.soak import open_files

    ttl = 3
    env = {**os.environ, "MOVIEREC_ARTIFACTS_DIR": str(trained_artifacts)}
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    env["STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL"] = str(ttl)
    with (
        sync_api.sync_playwright() as playwright,
        serve_process(MAIN, env, tmp_path / "streamlit.log") as (url, _, server),
    ):
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            open_until_interactive(browser, url)
            time.sleep(1)
            first = open_files(server.pid)
            for _ in range(8):
                open_until_interactive(browser, url)
        finally:
            browser.close()
        time.sleep(ttl + REAP_EVERY + 5)  # no client connected meanwhile
        assert open_files(server.pid) <= first, (first, open_files(server.pid))
