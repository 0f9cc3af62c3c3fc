"""The artifact bundle: one directory of files that cannot run code when loaded.

Layout of ``artifacts/``::

    CURRENT                      name of the bundle in use (replaced atomically)
    .trainer.lock                held by the one training at work (recommender.artifacts)
    bundle-20261127T120000-1a2b/ one bundle:
        manifest.json            schema version, parameters, inputs, counts, timings, and per
                                 file its size and sha256 (and an array's dtype and shape)
        movies.parquet           the movie table
        <name>.npy               one array per file, read with allow_pickle=False (memory-mapped)

A bundle is written into a hidden directory beside the others, fsynced, renamed into place, and
only then made current; a failed or interrupted training leaves the previous bundle current and
intact, and the next training removes what a dead one left.

Loading is contained and total: CURRENT must name a plain directory beside it, nothing in the
bundle may be a symbolic link, every file must be listed in the manifest (and every listed path
stay inside the bundle), the manifest's structure is checked, each array's header is read before
it is mapped (numbers only, with the dtype and shape the manifest records), and every failure is
a ``BundleError`` whose message says how to fix it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
import uuid
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.artifacts import (
    BUILDING_PREFIX,
    CURRENT,
    current_name,
    point_current_at,
    prune,
    read_pointer,
    remove_path,
    replace_durably,
    sync_directory,
    sync_tree,
    trainer_lock,
    unwritable,
)
from recommender.bundle_format import (
    MANIFEST,
    MOVIES_TABLE,
    SCHEMA_VERSION,
    array_values_problem,
    header_problem,
    manifest_problem,
    movie_table_problem,
    pointers_rise,
    read_npy_header,
)

FIX_HINT = "python train_and_save_model.py --data-dir DATA_DIR --artifacts-dir {artifacts}"
PARQUET_MAGIC = b"PAR1"


class BundleError(RuntimeError):
    """The bundle is missing, incomplete, corrupted, not contained in its folder or of another
    schema version; the message says how to fix it."""


@dataclass
class Bundle:
    """What a bundle holds once loaded: the manifest, the movie table and named arrays."""

    path: Path
    manifest: dict[str, Any]
    movies: pd.DataFrame
    arrays: dict[str, np.ndarray]


def sha256_of(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


# (path, inode, size, modification time) -> sha256 of the files this process has hashed
_DIGESTS: dict[tuple[str, int, int, int], str] = {}


def sha256_of_each(paths: Iterable[Path]) -> dict[Path, str]:
    """The sha256 of several files, hashed in parallel.

    hashlib releases the GIL while it hashes, so on two cores a 275 MB bundle (MovieLens-32M)
    is checked in about half the time; the largest files start first to balance the threads.
    A file unchanged since this process hashed it (same inode, size and modification time) is
    not read again: the app's server checks the bundle as it starts, then loads it for the
    first page (0.15 s of hashing at MovieLens-32M).
    """
    for known in list(_DIGESTS):  # forget pruned bundles: a server lives through many
        if not os.path.exists(known[0]):
            _DIGESTS.pop(known, None)
    identities = {path: _identity(path) for path in paths}
    todo = sorted(
        (path for path, key in identities.items() if key not in _DIGESTS),
        key=lambda path: identities[path][2],
        reverse=True,
    )
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        for path, digest in zip(todo, pool.map(sha256_of, todo), strict=True):
            _DIGESTS[identities[path]] = digest
    return {path: _DIGESTS[key] for path, key in identities.items()}


def _identity(path: Path) -> tuple[str, int, int, int]:
    status = path.stat()
    return (str(path.resolve()), status.st_ino, status.st_size, status.st_mtime_ns)


def save_bundle(
    artifacts_dir: str | Path,
    movies: pd.DataFrame,
    arrays: dict[str, np.ndarray],
    manifest: dict[str, Any],
    extra_files: Path | None = None,
) -> Path:
    """Write a bundle atomically and make it current; return its directory.

    ``extra_files`` is a folder of files written before (the Spark engine's executors write the
    ``users/`` part files): it is moved into the bundle, and its files are listed and checked
    like the others. It must be on the same file system as ``artifacts_dir``.

    Holds the trainer lock (``ArtifactsError`` if another process holds it). Every file and
    directory is fsynced before CURRENT moves; an error or an interruption (Ctrl-C, SIGTERM via
    the CLI) removes what this call wrote and leaves the previous bundle current. A write that
    fails (full disk, read-only folder) is an ``ArtifactsError`` with one line.
    """
    artifacts_dir = Path(artifacts_dir)
    with trainer_lock(artifacts_dir):
        previous = current_name(artifacts_dir)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        name = f"bundle-{stamp}-{uuid.uuid4().hex[:6]}"
        building = artifacts_dir / f"{BUILDING_PREFIX}{name}"
        try:
            building.mkdir()
            if extra_files is not None:
                extra_files.rename(building / extra_files.name)
            files = _write_files(building, movies, arrays)
            manifest = {**manifest, "schema_version": SCHEMA_VERSION, "files": files}
            (building / MANIFEST).write_text(json.dumps(manifest, indent=2, default=_json_default))
            sync_tree(building)
            building.rename(artifacts_dir / name)
            sync_directory(artifacts_dir)
            point_current_at(artifacts_dir, name)
        except BaseException as error:  # also KeyboardInterrupt: never leave half a bundle behind
            _undo(artifacts_dir, name)
            if isinstance(error, OSError):
                raise unwritable(artifacts_dir, error) from error
            raise
        prune(artifacts_dir, keep={name, previous})
    return artifacts_dir / name


def _undo(artifacts_dir: Path, name: str) -> None:
    """Remove what a failed save wrote: its building directory, and the renamed bundle unless
    CURRENT already names it (an interruption can land just after CURRENT moved)."""
    remove_path(artifacts_dir / f"{BUILDING_PREFIX}{name}")
    if current_name(artifacts_dir) != name:
        remove_path(artifacts_dir / name)


def _write_files(folder: Path, movies: pd.DataFrame, arrays: dict[str, np.ndarray]) -> dict:
    """Write the table and the arrays; the manifest's entry of every file in ``folder``."""
    movies.to_parquet(folder / MOVIES_TABLE, index=False)
    for key, array in arrays.items():
        np.save(folder / f"{key}.npy", np.ascontiguousarray(array), allow_pickle=False)
    paths = sorted(path for path in folder.rglob("*") if path.is_file())
    checksums = sha256_of_each(paths)
    return {
        path.relative_to(folder).as_posix(): _file_entry(path, checksums[path]) for path in paths
    }


def _file_entry(path: Path, digest: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"bytes": path.stat().st_size, "sha256": digest}
    if path.suffix == ".npy":  # what the loader checks each array's header against
        header = read_npy_header(path)
        entry.update(dtype=header.dtype.str, shape=list(header.shape))
    return entry


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to the manifest")


# --- finding the bundle ------------------------------------------------------------------------


def _hint(artifacts_dir: Path) -> str:
    return FIX_HINT.format(artifacts=artifacts_dir)


def bundle_dir(artifacts_dir: str | Path) -> Path:
    """The current bundle's directory (``artifacts_dir`` itself when it is a bundle).

    CURRENT must be a regular file naming one plain directory beside it (no separators, no
    "..", not absolute); that directory must not be a symbolic link.
    """
    artifacts_dir = Path(artifacts_dir)
    if (artifacts_dir / MANIFEST).is_file():
        return artifacts_dir
    pointer = artifacts_dir / CURRENT
    hint = _hint(artifacts_dir)
    if not pointer.is_file():
        raise BundleError(f"no model bundle in {artifacts_dir}; train one with: {hint}")
    try:
        name = read_pointer(pointer)
    except (OSError, ValueError) as error:
        raise BundleError(f"{error}; retrain with: {hint}") from None
    folder = artifacts_dir / name
    try:
        mode = os.lstat(folder).st_mode
    except OSError:
        raise BundleError(
            f"{pointer} names {name}, which does not exist; retrain with: {hint}"
        ) from None
    if stat.S_ISLNK(mode) or not stat.S_ISDIR(mode):
        raise BundleError(
            f"bundle {folder} is not a plain directory (a bundle is never a symbolic link); "
            f"retrain with: {hint}"
        )
    if not (folder / MANIFEST).is_file():
        raise BundleError(f"bundle {folder} has no {MANIFEST}; retrain with: {hint}")
    return folder


def bundle_version(artifacts_dir: str | Path) -> str:
    """Which bundle is current and when its manifest last changed ("" if there is none)."""
    try:
        folder = bundle_dir(artifacts_dir)
        return f"{folder.resolve()}@{(folder / MANIFEST).stat().st_mtime_ns}"
    except (BundleError, OSError):
        return ""


# --- the manifest -------------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict[str, Any]:
    """The bundle's manifest, its structure checked (``BundleError`` if anything is off)."""
    path = folder / MANIFEST
    hint = _hint(folder.parent)
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            raise ValueError("it is not a regular file")
        manifest = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError) as error:
        raise BundleError(f"{path} cannot be read ({error}); retrain: {hint}") from None
    if not isinstance(manifest, dict):
        raise BundleError(
            f"{path} holds a JSON {type(manifest).__name__}, not an object; retrain: {hint}"
        )
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        raise BundleError(
            f"bundle {folder} has schema version {version}, this program reads version "
            f"{SCHEMA_VERSION}; retrain with: {hint}"
        )
    problem = manifest_problem(manifest)
    if problem:
        raise BundleError(f"{path}: {problem}; retrain with: {hint}")
    return manifest


# --- the files ---------------------------------------------------------------------------------


def check_listing(folder: Path, manifest: dict[str, Any]) -> None:
    """Every file in the bundle is listed in the manifest and every listed file is there.

    Nothing in the bundle may be a symbolic link; a listed path must be a regular file.
    """
    hint = _hint(folder.parent)
    present = set()
    for root, directories, files in os.walk(folder):
        for entry in directories + files:
            path = Path(root, entry)
            if path.is_symlink():
                raise BundleError(
                    f"bundle file {path} is a symbolic link; a bundle holds only its own files; "
                    f"retrain with: {hint}"
                )
        present.update(Path(root, file).relative_to(folder).as_posix() for file in files)
    listed = set(manifest["files"])
    for name in sorted(present - listed - {MANIFEST}):
        raise BundleError(
            f"bundle file {folder / name} is not listed in the manifest (added or left behind "
            f"after the bundle was written); delete it, or retrain with: {hint}"
        )
    for name in sorted(listed - present):
        raise BundleError(f"bundle file {folder / name} is missing; retrain with: {hint}")
    for name in sorted(listed):
        if not stat.S_ISREG(os.lstat(folder / name).st_mode):
            raise BundleError(f"bundle file {folder / name} is not a regular file; retrain: {hint}")


def verify_files(folder: Path, manifest: dict[str, Any]) -> None:
    """Every file of the bundle is listed, and every listed file has the recorded checksum.

    Missing and unlisted files are reported before anything is hashed, and a file whose size
    differs from the recorded one is corrupted without hashing it; the others are hashed in
    parallel.
    """
    check_listing(folder, manifest)
    hint = _hint(folder.parent)
    recorded = manifest["files"]
    same_size = [
        folder / name
        for name, entry in recorded.items()
        if (folder / name).stat().st_size == entry["bytes"]
    ]
    checksums = sha256_of_each(same_size)
    for name, entry in recorded.items():
        if checksums.get(folder / name) != entry["sha256"]:
            raise BundleError(
                f"bundle file {folder / name} is corrupted (checksum mismatch); retrain: {hint}"
            )


def load_bundle(artifacts_dir: str | Path, verify: bool = True) -> Bundle:
    """Load the current bundle: check its place, manifest, files and checksums (``verify``),
    read each array's header, memory-map the arrays. Any problem is a ``BundleError``."""
    folder = bundle_dir(artifacts_dir)
    manifest = read_manifest(folder)
    if verify:
        verify_files(folder, manifest)
    else:
        check_listing(folder, manifest)
    hint = _hint(folder.parent)
    for name in manifest["files"]:
        if name.endswith(".parquet"):
            _check_parquet_ends(folder / name, hint)
    arrays = {
        name.removesuffix(".npy"): _mapped(folder / name, entry, hint)
        for name, entry in manifest["files"].items()
        if name.endswith(".npy")
    }
    movies = read_table(folder / MOVIES_TABLE)
    problem = movie_table_problem(movies, manifest["counts"])
    if problem:
        raise BundleError(f"bundle file {folder / MOVIES_TABLE} {problem}; retrain with: {hint}")
    return Bundle(folder, manifest, movies, arrays)


def read_table(path: Path) -> pd.DataFrame:
    """A Parquet file of the bundle as a table; ``BundleError`` if it cannot be read."""
    hint = _hint(path.parent)
    _check_parquet_ends(path, hint)
    try:
        return pd.read_parquet(path)
    except Exception as error:  # pyarrow raises its own types for a damaged file
        raise BundleError(
            f"bundle file {path} cannot be read as Parquet ({error}); retrain with: {hint}"
        ) from None


def _check_parquet_ends(path: Path, hint: str) -> None:
    """A Parquet file starts and ends with PAR1: a cheap check of every listed table."""
    size = len(PARQUET_MAGIC)
    with path.open("rb") as handle:
        head = handle.read(size)
        handle.seek(max(0, path.stat().st_size - size))
        tail = handle.read(size)
    if head != PARQUET_MAGIC or tail != PARQUET_MAGIC:
        raise BundleError(f"bundle file {path} is not a Parquet file; retrain with: {hint}")


# --- arrays ---------------------------------------------------------------------------------------


def _mapped(path: Path, entry: dict[str, Any], hint: str) -> np.ndarray:
    """A read-only array backed by the file's pages (memory-mapped), as a plain ndarray, after
    its header is checked against the manifest: numbers only, the recorded dtype and shape.

    Pages are read when touched and shared by every process that maps the file, so a loaded
    bundle costs little resident memory. The np.memmap subclass is dropped (the view keeps the
    mapping alive): its Python-level __getitem__ and __array_finalize__ run on every slice and
    cost a recommend() call about a millisecond.
    """
    try:
        header = read_npy_header(path)
    except (OSError, ValueError) as error:
        raise BundleError(
            f"bundle file {path} is not a .npy array ({error}); retrain: {hint}"
        ) from None
    problem = header_problem(header, entry, path.stat().st_size)
    if problem:
        raise BundleError(f"bundle file {path}: {problem}; retrain with: {hint}")
    if header.dtype.itemsize * math.prod(header.shape) == 0:
        return np.zeros(header.shape, dtype=header.dtype)  # an empty file cannot be mapped
    try:
        return np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))
    except (OSError, ValueError) as error:
        raise BundleError(
            f"bundle file {path} cannot be mapped ({error}); retrain: {hint}"
        ) from None


def expect_array(
    arrays: dict[str, np.ndarray] | Any,
    name: str,
    shape: tuple[int | None, ...],
    kind: str = "fiu",
    below: int | None = None,
    positive: bool = False,
) -> np.ndarray:
    """``arrays[name]``, checked: present, of ``shape`` (None = any length on that axis), of a
    dtype kind in ``kind`` ("f" float, "i" signed, "u" unsigned integer), finite when it holds
    floats, and, given ``below``, whole numbers from 0 to ``below`` - 1 (indices of movies,
    genres or users), above 0 if ``positive`` (what a request divides by); else
    ``BundleError`` naming the array.

    Scorers call this in ``from_arrays`` with the bundle's counts, so an array that does not
    fit is refused when the bundle loads, not found later as an IndexError or a list of 0 rows
    in a request. The checks read the values (a NaN has a valid checksum too), whatever the
    dtype: float16 weights and int32 ids are checked as float32 and int64 ones are.
    """
    hint = FIX_HINT.format(artifacts="ARTIFACTS_DIR")
    if name not in arrays:
        raise BundleError(f"the bundle has no array {name!r}; retrain with: {hint}")
    array = arrays[name]
    fits = len(array.shape) == len(shape) and all(
        want is None or have == want for have, want in zip(array.shape, shape, strict=True)
    )
    if not fits or array.dtype.kind not in kind:
        wanted = "x".join("any" if want is None else str(want) for want in shape)
        raise BundleError(
            f"bundle array {name!r} is {array.dtype} {'x'.join(map(str, array.shape))}, "
            f"expected {wanted}; retrain with: {hint}"
        )
    problem = array_values_problem(array, below, positive)
    if problem:
        raise BundleError(f"bundle array {name!r} {problem}; retrain with: {hint}")
    return array


def csr_arrays(matrix: sp.csr_matrix, dtype: type = np.float32) -> dict[str, np.ndarray]:
    """A sparse matrix as the three arrays a bundle keeps (``expect_csr`` reads them back):
    the values as ``dtype``, and int32 positions while they fit (scipy would copy int32
    indices to int64 beside an int64 indptr, instead of mapping them)."""
    index = np.int32 if matrix.nnz < 2**31 else np.int64
    return {
        "data": matrix.data.astype(dtype),
        "indices": matrix.indices.astype(index),
        "indptr": matrix.indptr.astype(index),
    }


def expect_csr(arrays: Mapping[str, np.ndarray], shape: tuple[int, int]) -> sp.csr_matrix:
    """The sparse matrix ``csr_arrays`` wrote, each array checked for shape, dtype and values:
    row pointers from 0 that never decrease, column indices within ``shape``, finite data."""
    indptr = expect_array(arrays, "indptr", (shape[0] + 1,), "iu")
    nnz = int(indptr[-1]) if len(indptr) else 0
    data = expect_array(arrays, "data", (nnz,), "f")
    indices = expect_array(arrays, "indices", (nnz,), "iu", below=shape[1])
    check_pointers(indptr, "indptr")
    return sp.csr_matrix((data, indices, indptr), shape=shape)


def check_pointers(indptr: np.ndarray, name: str) -> None:
    """``BundleError`` unless ``indptr`` starts at 0 and never decreases (CSR row pointers)."""
    if not pointers_rise(indptr):
        raise BundleError(
            f"bundle array {name!r} holds row pointers that do not start at 0 and rise; "
            f"retrain with: {FIX_HINT.format(artifacts='ARTIFACTS_DIR')}"
        )


def update_manifest(artifacts_dir: str | Path, **sections: Any) -> None:
    """Add or replace top-level sections of the current bundle's manifest (e.g. evaluation)."""
    folder = bundle_dir(artifacts_dir)
    manifest = read_manifest(folder)
    manifest.update(sections)
    # Written first outside the bundle, so that no process loading it meanwhile finds a file
    # its manifest does not list.
    text = json.dumps(manifest, indent=2, default=_json_default)
    replace_durably(folder / MANIFEST, text, scratch=folder.parent)
