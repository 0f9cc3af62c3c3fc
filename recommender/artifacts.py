"""The artifacts folder as a place several processes share: one trainer at a time, nothing
half-written, nothing left behind.

- A trainer holds an advisory lock (``fcntl.flock``) on ``artifacts/.trainer.lock`` from its start
  to its end; a second one is refused with one line naming the first one's process id. The lock
  is re-entrant within a thread (the CLI, ``train`` and ``save_bundle`` each take it), and the
  kernel releases it when a trainer dies, even by kill -9.
- While it holds the lock, a trainer removes what dead trainers left: ``.building-*`` directories
  and ``.CURRENT.*`` files. Without the lock nothing is removed: they may be a live trainer's.
- Before the long work, a write probe: a small file written, fsynced and removed, and the free
  space compared with the size of the current bundle (the next one is about as large). A
  read-only, full or out-of-inodes folder is reported then, not after the training.
- Every file of a bundle and every directory on the way is fsynced before ``CURRENT`` moves, so a
  power cut cannot leave ``CURRENT`` naming a bundle whose files never reached the disk.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import stat
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from recommender.data_messages import shorten

CURRENT = "CURRENT"
LOCK_FILE = ".trainer.lock"
BUILDING_PREFIX = ".building-"
POINTER_PREFIX = f".{CURRENT}."
MAX_POINTER_BYTES = 1024
# What CURRENT may name: one plain directory name (no separators, not hidden, not "..").
PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
MB = 2**20


class ArtifactsError(RuntimeError):
    """The artifacts folder cannot take a new bundle: another trainer holds it, or it is
    read-only, full or not a folder. The message says which, and what to do."""


# --- one trainer at a time ----------------------------------------------------------------------

_held = threading.local()  # per thread: {resolved folder: depth}, so nested takes are free


@contextmanager
def trainer_lock(artifacts_dir: str | Path) -> Iterator[list[str]]:
    """Hold the artifacts folder for one training; yield the leftovers it removed.

    Creates the folder if needed, takes the lock (``ArtifactsError`` if another process holds
    it), removes leftovers of dead trainers and probes that a bundle can be written. Taken again
    by the same thread it does nothing more (and yields no leftovers).
    """
    folder = _created(Path(artifacts_dir))
    key = str(folder.resolve())
    depths: dict[str, int] = _held.__dict__.setdefault("depths", {})
    if depths.get(key):
        depths[key] += 1
        try:
            yield []
        finally:
            depths[key] -= 1
        return
    handle = _locked(folder)
    depths[key] = 1
    try:
        try:
            removed = remove_leftovers(folder)
        except OSError as error:
            raise unwritable(folder, error) from None
        check_writable(folder)
        yield removed
    finally:
        depths.pop(key, None)
        os.close(handle)  # closing the only descriptor releases the lock


def _created(folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ArtifactsError(
            f"cannot create the artifacts folder {folder}: {_reason(error)}"
        ) from None
    if not folder.is_dir():
        raise ArtifactsError(f"{folder} is not a folder; choose another --artifacts-dir")
    return folder


def _locked(folder: Path) -> int:
    """A descriptor of the lock file holding an exclusive lock on it."""
    path = folder / LOCK_FILE
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as error:
        raise unwritable(folder, error) from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(handle)
        os.close(handle)
        raise ArtifactsError(
            f"another training{holder} is writing to {folder}; wait for it to finish, "
            "or train into another --artifacts-dir"
        ) from None
    except OSError as error:
        os.close(handle)
        raise ArtifactsError(f"cannot lock {path}: {_reason(error)}") from None
    try:  # the holder's process id, for the message the next trainer gets
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{os.getpid()}\n".encode(), 0)
    except OSError:
        pass  # a full disk: the probe reports it in a moment
    return handle


def _holder(handle: int) -> str:
    text = os.pread(handle, 32, 0).decode("ascii", errors="replace").strip()
    return f" (process {text})" if text.isdigit() else ""


# --- leftovers, the write probe ----------------------------------------------------------------


def remove_leftovers(folder: Path) -> list[str]:
    """Remove the ``.building-*`` directories and ``.CURRENT.*`` files of dead trainers.

    Only call this holding the lock: then no live trainer owns them. Returns their names.
    """
    removed = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith((BUILDING_PREFIX, POINTER_PREFIX)):
            remove_path(path)
            removed.append(path.name)
    return removed


def remove_path(path: Path) -> None:
    """Remove a file, a symbolic link (not what it points to) or a directory tree."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except FileNotFoundError:
        pass


def check_writable(folder: Path) -> None:
    """``ArtifactsError`` unless a file can be written and synced here and there is room for a
    bundle as large as the current one."""
    probe = folder / f"{BUILDING_PREFIX}probe-{uuid.uuid4().hex[:8]}"
    try:
        with probe.open("wb") as handle:
            handle.write(b"movierec write probe\n")
            os.fsync(handle.fileno())
    except OSError as error:
        raise unwritable(folder, error) from None
    finally:
        probe.unlink(missing_ok=True)
    needed = _current_bundle_bytes(folder)
    status = os.statvfs(folder)
    free = status.f_bavail * status.f_frsize
    if free < needed:
        raise ArtifactsError(
            f"{folder} has {free / MB:.1f} MB free and a new bundle needs about "
            f"{needed / MB:.1f} MB (the size of the current one); free some space "
            "or train into another --artifacts-dir"
        )


def _current_bundle_bytes(folder: Path) -> int:
    name = current_name(folder)
    if name is None or (folder / name).is_symlink() or not (folder / name).is_dir():
        return 0  # no bundle to go by (and never walk what a link points to)
    total = 0
    for root, _, files in os.walk(folder / name):
        total += sum(os.lstat(os.path.join(root, file)).st_size for file in files)
    return total


def unwritable(folder: Path, error: OSError) -> ArtifactsError:
    """The one-line message for a folder a bundle cannot be written into."""
    return ArtifactsError(
        f"cannot write to the artifacts folder {folder}: {_reason(error)}; the previous bundle, "
        "if any, is unchanged; make room or train into another --artifacts-dir"
    )


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


# --- fsync ---------------------------------------------------------------------------------------


def sync_directory(folder: Path) -> None:
    """Make a directory's entries (new names, renames) durable."""
    handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def sync_tree(folder: Path) -> None:
    """fsync every file and every directory under ``folder`` (deepest first)."""
    for root, _, files in os.walk(folder, topdown=False):
        for file in files:
            handle = os.open(os.path.join(root, file), os.O_RDONLY | os.O_NOFOLLOW)
            try:
                os.fsync(handle)
            finally:
                os.close(handle)
        sync_directory(Path(root))


# --- CURRENT ------------------------------------------------------------------------------------


def current_name(folder: Path) -> str | None:
    """The bundle name CURRENT holds, or None when there is none or it is not a plain name."""
    try:
        return read_pointer(folder / CURRENT)
    except (OSError, ValueError):
        return None


def read_pointer(pointer: Path) -> str:
    """The name in a CURRENT file: ``ValueError`` unless it is a regular file holding one plain
    name (``OSError`` if it cannot be read at all)."""
    if not stat.S_ISREG(os.lstat(pointer).st_mode):
        raise ValueError(f"{pointer} is not a regular file")
    with pointer.open("rb") as handle:
        data = handle.read(MAX_POINTER_BYTES + 1)
    text = data.decode("utf-8", errors="replace").strip()
    if len(data) > MAX_POINTER_BYTES or not PLAIN_NAME.fullmatch(text):
        raise ValueError(
            f"{pointer} holds {shorten(text, 80)!r}, not the name of a bundle directory beside it "
            "(one plain name: no '/', no '..', no absolute path)"
        )
    return text


def point_current_at(folder: Path, name: str) -> None:
    """Make ``name`` current, durably and atomically."""
    replace_durably(folder / CURRENT, name + "\n")


def replace_durably(target: Path, text: str, scratch: Path | None = None) -> None:
    """Replace ``target`` with ``text`` atomically: written first as ``.<name>.<random>`` in
    ``scratch`` (same filesystem; default: beside it), fsynced, renamed over it, and the folders
    fsynced; a failure removes the written file."""
    folder = scratch or target.parent
    beside = folder / f".{target.name}.{uuid.uuid4().hex[:6]}"
    try:
        with beside.open("w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(beside, target)
    except BaseException:
        beside.unlink(missing_ok=True)
        raise
    for changed in {folder, target.parent}:
        sync_directory(changed)


def prune(folder: Path, keep: set[str | None]) -> None:
    """Remove every ``bundle-*`` directory except those named in ``keep``.

    ``keep`` is the new current bundle and the one CURRENT named before it: what CURRENT named,
    never file times, so an orphan of a trainer that died between its rename and its CURRENT
    write is removed rather than kept as "the previous bundle".
    """
    for path in folder.glob("bundle-*"):
        if path.name not in keep and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
