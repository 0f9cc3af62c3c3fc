"""Trainers that are killed, stopped, run twice at once, or given a read-only or full folder:
the previous bundle stays current and loadable, nothing half-written stays behind for long, and
the operator gets one line and exit code 2.

Real trainer processes (the CLI) are stopped at a point the test controls: a small driver wraps
one function of ``recommender.bundle`` so that the trainer writes a marker file and waits there
until the test sends a signal or lets it go on. Read-only and full folders are real mounts in a
private mount namespace (``unshare``), skipped where the machine does not allow one.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recommender import Recommender, train
from recommender.artifacts import LOCK_FILE, ArtifactsError
from recommender.bundle import CURRENT, bundle_dir
from tests.conftest import REPO
from train_and_save_model import main

DRIVER = r"""
import os, runpy, sys, time
from pathlib import Path

point, marker, cli = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
import recommender.bundle as bundle

def pause():
    marker.write_text(str(os.getpid()))
    while not marker.with_suffix(".go").exists():
        time.sleep(0.02)

def before(function):
    def paused(*args, **kwargs):
        pause()
        return function(*args, **kwargs)
    return paused

if point == "written":  # every file of the bundle written, before the rename
    bundle.sync_tree = before(bundle.sync_tree)
elif point == "renamed":  # the bundle renamed into place, before CURRENT moves
    bundle.point_current_at = before(bundle.point_current_at)
elif point == "pointer":  # the new CURRENT written beside the old, before it replaces it
    real_replace = os.replace
    def replace(source, target, *args, **kwargs):
        if Path(target).name == "CURRENT":
            pause()
        return real_replace(source, target, *args, **kwargs)
    os.replace = replace
sys.argv = ["train_and_save_model.py", *cli]
runpy.run_path("train_and_save_model.py", run_name="__main__")
"""
POINTS = ["written", "renamed", "pointer"]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "train_and_save_model.py", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )


class PausedTrainer:
    """A real trainer process, stopped at ``point`` of its save until signalled or let go."""

    def __init__(self, point: str, data: Path, artifacts: Path, scratch: Path):
        self.marker = scratch / f"paused-{point}"
        options = ["--data-dir", str(data), "--artifacts-dir", str(artifacts)]
        self.process = subprocess.Popen(
            [sys.executable, "-c", DRIVER, point, str(self.marker), *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        deadline = time.monotonic() + 120
        while not self.marker.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                pytest.fail(f"the trainer did not reach {point}: {self.process.communicate()}")
            time.sleep(0.02)

    def stop(self, signum: int) -> tuple[int, str, str]:
        self.process.send_signal(signum)
        out, err = self.process.communicate(timeout=60)
        return self.process.returncode, out, err

    def go_on(self) -> tuple[int, str, str]:
        self.marker.with_suffix(".go").touch()
        out, err = self.process.communicate(timeout=120)
        return self.process.returncode, out, err


def current(artifacts: Path) -> str:
    return (artifacts / CURRENT).read_text().strip()


def contents(artifacts: Path) -> set[str]:
    return {path.name for path in artifacts.iterdir()} - {LOCK_FILE}


def leftovers(artifacts: Path) -> set[str]:
    return {name for name in contents(artifacts) if name.startswith((".building-", ".CURRENT."))}


# --- SIGTERM and kill -9 at points we choose --------------------------------------------------


@pytest.mark.parametrize("point", POINTS)
def test_sigterm_leaves_the_previous_bundle_and_nothing_half_written(
    point, artifacts, tiny_data, tmp_path
):
    before = contents(artifacts)
    trainer = PausedTrainer(point, tiny_data, artifacts, tmp_path)
    assert contents(artifacts) != before  # it was writing when stopped
    code, _, err = trainer.stop(signal.SIGTERM)
    assert code == 143
    assert err.strip().splitlines() == [
        "interrupted (SIGTERM): the previous bundle, if any, is unchanged"
    ]
    assert contents(artifacts) == before
    Recommender.load(artifacts)


@pytest.mark.parametrize("point", POINTS)
def test_after_kill_9_the_next_training_removes_what_it_left(point, artifacts, tiny_data, tmp_path):
    first = current(artifacts)
    trainer = PausedTrainer(point, tiny_data, artifacts, tmp_path)
    code, _, _ = trainer.stop(signal.SIGKILL)
    assert code == -signal.SIGKILL
    left = contents(artifacts) - {CURRENT, first}
    assert left  # a building directory, an orphan bundle, a CURRENT written beside
    assert current(artifacts) == first
    Recommender.load(artifacts)  # what it left is outside the current bundle

    result = cli("--data-dir", str(tiny_data), "--artifacts-dir", str(artifacts))
    assert result.returncode == 0, result.stderr
    for name in leftovers(artifacts) | {n for n in left if n.startswith((".building", ".CURR"))}:
        assert name in result.stdout  # it says what it removed
    assert leftovers(artifacts) == set()
    # the orphan bundle of a trainer that died between its rename and CURRENT is not "previous"
    assert contents(artifacts) == {CURRENT, first, current(artifacts)}


def test_an_orphan_newer_than_the_previous_bundle_is_pruned_not_kept(artifacts, tiny_data):
    """Pruning follows what CURRENT named, never file times."""
    previous = current(artifacts)
    orphan = artifacts / "bundle-99991231T235959-ffffff"
    shutil.copytree(artifacts / previous, orphan)
    future = time.time() + 10 * 365 * 86400
    os.utime(orphan, (future, future))
    train(tiny_data, artifacts)
    assert contents(artifacts) == {CURRENT, previous, current(artifacts)}


# --- one trainer at a time --------------------------------------------------------------------


def test_a_second_trainer_is_refused_while_one_works(artifacts, tiny_data, tmp_path):
    """The issue's case: a trainer stalled between its rename and CURRENT, plus two more runs."""
    first = current(artifacts)
    stalled = PausedTrainer("renamed", tiny_data, artifacts, tmp_path)
    (artifacts / ".building-of-a-dead-run").mkdir()  # as if left by dead runs
    (artifacts / ".CURRENT.dead").write_text("x\n")
    for _ in range(2):
        second = cli("--data-dir", str(tiny_data), "--artifacts-dir", str(artifacts))
        assert second.returncode == 2
        assert second.stderr.strip().splitlines() == [
            f"error: another training (process {stalled.process.pid}) is writing to "
            f"{artifacts}; wait for it to finish, or train into another --artifacts-dir"
        ]
        assert "load" not in second.stdout  # refused before any work
    with pytest.raises(ArtifactsError, match="another training"):
        train(tiny_data, artifacts)  # the API too
    # a refused trainer removes nothing: those may be the working trainer's
    assert {".building-of-a-dead-run", ".CURRENT.dead"} <= contents(artifacts)

    code, _, err = stalled.go_on()
    assert code == 0, err
    assert current(artifacts) != first and (artifacts / current(artifacts)).is_dir()
    assert cli("--data-dir", str(tiny_data), "--artifacts-dir", str(artifacts)).returncode == 0
    assert leftovers(artifacts) == set()
    Recommender.load(artifacts)


def test_files_and_folders_are_fsynced_before_current_moves(tiny_data, tmp_path, monkeypatch):
    artifacts = tmp_path / "artifacts"
    synced: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(handle: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{handle}"))
        real_fsync(handle)

    def replace(source, target, *args, **kwargs):
        if Path(target).name == CURRENT:
            synced.append("CURRENT moved")
        real_replace(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    train(tiny_data, artifacts)
    folder = bundle_dir(artifacts)
    before = synced[: synced.index("CURRENT moved")]
    building = str(artifacts.resolve() / f".building-{folder.name}")
    expected = {f"{building}/{path.name}" for path in folder.iterdir()}
    assert expected | {building, str(artifacts.resolve())} <= set(before)
    assert any(Path(name).name.startswith(".CURRENT.") for name in before)
    assert synced[-1] == str(artifacts.resolve())  # the rename of CURRENT made durable


# --- folders a bundle cannot be written into --------------------------------------------------


def test_an_artifacts_path_that_is_a_file_is_one_line(tiny_data, tmp_path, capsys):
    path = tmp_path / "a-file"
    path.write_text("x")
    assert main(["--data-dir", str(tiny_data), "--artifacts-dir", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[0].startswith("error: cannot create the artifacts folder")
    assert len(err.strip().splitlines()) == 1


def _namespaces_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    return probe.returncode == 0


needs_mounts = pytest.mark.skipif(
    not _namespaces_work(), reason="no private mount namespace here (unshare -rm)"
)


def in_namespace(script: str) -> subprocess.CompletedProcess:
    """Run a shell script as root of a private mount namespace (mounts vanish with it)."""
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, cwd=REPO
    )


@needs_mounts
def test_a_read_only_folder_is_one_line_before_any_work(artifacts, tiny_data):
    first = current(artifacts)
    result = in_namespace(
        f"mount --bind {artifacts} {artifacts} && mount -o remount,ro,bind {artifacts} && "
        f"exec {sys.executable} train_and_save_model.py --data-dir {tiny_data} "
        f"--artifacts-dir {artifacts}"
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: cannot write to the artifacts folder {artifacts}: Read-only file system; "
        "the previous bundle, if any, is unchanged; make room or train into another "
        "--artifacts-dir"
    ]
    assert result.stdout == ""  # found before the data was read
    assert current(artifacts) == first
    Recommender.load(artifacts)


@needs_mounts
def test_a_full_disk_is_one_line_and_keeps_the_previous_bundle(tiny_data, data_dir, tmp_path):
    """A 512 KB filesystem: the tiny bundle fits; full, the probe refuses at once; with room for
    the probe but not for a larger bundle, the save fails with one line and removes its files."""
    artifacts, out = tmp_path / "small-disk", tmp_path / "out"
    artifacts.mkdir()
    out.mkdir()
    train_cli = f"{sys.executable} train_and_save_model.py --artifacts-dir {artifacts}"
    script = f"""
        mount -t tmpfs -o size=512k tmpfs {artifacts} || exit 99
        {train_cli} --data-dir {tiny_data} > {out}/out1 2> {out}/err1; echo $? > {out}/rc1
        dd if=/dev/zero of={artifacts}/filler bs=4k 2> /dev/null
        {train_cli} --data-dir {tiny_data} > {out}/out2 2> {out}/err2; echo $? > {out}/rc2
        rm {artifacts}/filler
        {train_cli} --data-dir {data_dir} --factors 8 > {out}/out3 2> {out}/err3
        echo $? > {out}/rc3
        ls -A {artifacts} > {out}/listing
        {sys.executable} -c "from recommender import Recommender; Recommender.load('{artifacts}')" \
            && echo loads > {out}/loads
    """
    result = in_namespace(script)
    assert result.returncode == 0, result.stderr

    def read(name: str) -> str:
        return (out / name).read_text().strip()

    assert read("rc1") == "0", read("err1")
    assert read("rc2") == "2"
    assert read("err2").splitlines() == [
        f"error: cannot write to the artifacts folder {artifacts}: No space left on device; "
        "the previous bundle, if any, is unchanged; make room or train into another "
        "--artifacts-dir"
    ]
    assert read("out2") == ""  # refused before the data was read
    assert read("rc3") == "2"
    assert len(read("err3").splitlines()) == 1 and "No space left on device" in read("err3")
    assert "SVD" in read("out3")  # this one was found only when the bundle was written
    listing = set(read("listing").split())
    assert {name for name in listing if name.startswith("bundle-")} == {
        line.split("/")[-1].split(" ")[0]
        for line in read("out1").splitlines()
        if line.startswith("bundle:")
    }
    assert not {name for name in listing if name.startswith((".building-", ".CURRENT."))}
    assert read("loads") == "loads"
