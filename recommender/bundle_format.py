"""What a valid bundle looks like, as pure checks that say what is wrong in words.

``recommender.bundle`` reads the files and turns each problem into a ``BundleError`` with the fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recommender.artifacts import PLAIN_NAME
from recommender.data_messages import MAX_RATING, MIN_RATING, shorten

# 2: arrays named <scorer>.<array>, no user factors; 3: each .npy entry of the manifest records
# the array's dtype and shape, which the loader checks the file's header against; 4: compact
# arrays (the history's uint16 codes by page and packed half stars, float16 neighbours and
# item factors, int32 sparse positions)
SCHEMA_VERSION = 4
MANIFEST = "manifest.json"
MOVIES_TABLE = "movies.parquet"
# The manifest's sections every reader relies on, with their JSON types.
SECTIONS: dict[str, type] = {
    "files": dict,
    "parameters": dict,
    "counts": dict,
    "genres": list,
    "popularity": dict,
    "weights": dict,
}
MOVIE_TABLE_COLUMNS = ("movieId", "title", "genres")  # the columns every reader relies on
NUMERIC_KINDS = "biuf"  # bool, signed and unsigned integers, floats: never objects


def manifest_problem(manifest: dict[str, Any]) -> str | None:
    """What is wrong with a manifest's structure, in words, or None."""
    for section, kind in SECTIONS.items():
        if section not in manifest:
            return f"the {section!r} section is missing"
        if not isinstance(manifest[section], kind):
            found = type(manifest[section]).__name__
            return f"{section!r} is a {found}, expected a {kind.__name__}"
    if not all(_is_count(value) for value in manifest["counts"].values()):
        return "'counts' must hold whole numbers"
    problem = values_problem(manifest)
    if problem:
        return problem
    if not all(isinstance(genre, str) for genre in manifest["genres"]):
        return "'genres' must be a list of names"
    files = manifest["files"]
    if MOVIES_TABLE not in files:
        return f"'files' does not list {MOVIES_TABLE}"
    for name, entry in files.items():
        problem = _file_entry_problem(name, entry)
        if problem:
            return f"'files' entry {_shown(name)}: {problem}"
    return None


def _real(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# What each value a reader uses means, as (required, the words for it, the test). A bundle
# whose checksums match can still hold a value edited in (neutral_rating 100: every score 0).
RATING_SCALE = f"{MIN_RATING:g}-{MAX_RATING:g}"
PARAMETERS: dict[str, tuple[bool, str, Any]] = {
    "neutral_rating": (
        True,
        f"a rating of the data's scale, {MIN_RATING:g} up to below {MAX_RATING:g}",
        lambda v: _real(v) and MIN_RATING <= v < MAX_RATING,
    ),
    "calibration": (False, "a number from 0 to 1", lambda v: _real(v) and 0 <= v <= 1),
    "seed": (True, "a whole number from 0 to 2**32 - 1", lambda v: _whole(v) and 0 <= v < 2**32),
    "popular_pool": (True, "a whole number >= 1", lambda v: _whole(v) and v >= 1),
    "factors": (False, "a whole number >= 1", lambda v: _whole(v) and v >= 1),
    "variant": (True, "'pure' or 'centered'", lambda v: v in ("pure", "centered")),
    "shrinkage": (True, "a finite number >= 0", lambda v: _real(v) and v >= 0),
    "shrinkage_decay": (False, "a finite number >= 0", lambda v: _real(v) and v >= 0),
    "dislike_weight": (False, "a finite number >= 0", lambda v: _real(v) and v >= 0),
    "neighbour_sharpness": (False, "a finite number > 0", lambda v: _real(v) and v > 0),
}
POPULARITY: dict[str, tuple[bool, str, Any]] = {
    "min_votes": (True, "a finite number >= 0", lambda v: _real(v) and v >= 0),
    "prior": (
        True,
        f"a mean rating within {RATING_SCALE}",
        lambda v: _real(v) and MIN_RATING <= v <= MAX_RATING,
    ),
}
POSITIVE_COUNTS = ("movies", "users", "factors")  # a bundle of none of these serves nothing


def values_problem(manifest: dict[str, Any]) -> str | None:
    """What is wrong with the values a reader uses, in words naming the field, or None:
    parameters, popularity, weights (finite, >= 0, a positive sum) and counts (positive)."""
    for section, rules in (("parameters", PARAMETERS), ("popularity", POPULARITY)):
        for field, (required, meaning, test) in rules.items():
            if field not in manifest[section]:
                if required:
                    return f"'{section}.{field}' is missing"
                continue
            value = manifest[section][field]
            if not test(value):
                return f"'{section}.{field}' is {_shown(value)}, expected {meaning}"
    weights = manifest["weights"]
    for name, weight in weights.items():
        if not (_real(weight) and weight >= 0):
            return f"'weights.{name}' is {_shown(weight)}, expected a finite number >= 0"
    if not 0 < math.fsum(weights.values()) < math.inf:
        return "'weights' must have a positive, finite sum (at least one weight above 0)"
    for name in POSITIVE_COUNTS:
        if manifest["counts"].get(name, 1) < 1:
            return f"'counts.{name}' is {manifest['counts'][name]}, expected at least 1"
    return None


def array_values_problem(
    array: np.ndarray, below: int | None = None, positive: bool = False
) -> str | None:
    """What is wrong with an array's values, in words, or None (see ``bundle.expect_array``)."""
    if array.size == 0:
        return None
    if array.dtype.kind == "f" and not _all_finite(array):
        return "holds values that are not finite numbers (NaN or infinity)"
    if positive and array.min() <= 0:
        return f"holds {array.min()}, expected numbers above 0"
    if below is not None:
        low, high = array.min(), array.max()
        if low < 0 or high >= below:
            return f"holds indices from {low} to {high}, outside 0-{below - 1}"
    return None


def _all_finite(array: np.ndarray) -> bool:
    """Whether every value is finite. A finite float64 sum means no NaN and no infinity (either
    carries into the sum) without a temporary the array's size; only a sum that overflows
    needs the element-wise check."""
    with np.errstate(over="ignore", invalid="ignore"):
        if math.isfinite(array.sum(dtype=np.float64)):
            return True
    return bool(np.isfinite(array).all())


def pointers_rise(indptr: np.ndarray) -> bool:
    """Whether CSR row pointers start at 0 and never decrease."""
    return not len(indptr) or (indptr[0] == 0 and not (np.diff(indptr) < 0).any())


def movie_table_problem(movies: pd.DataFrame, counts: dict[str, int]) -> str | None:
    """What is wrong with the movie table, in words, or None: a column every reader needs is
    missing, the ids are not whole numbers, or it has another number of rows than the manifest
    counts (one row per movie: every movie-sized array is indexed by it)."""
    missing = [column for column in MOVIE_TABLE_COLUMNS if column not in movies]
    if missing:
        return f"has no column {missing[0]!r}"
    if movies["movieId"].dtype.kind not in "iu":
        return f"has movieIds of type {movies['movieId'].dtype}, not whole numbers"
    if "movies" in counts and len(movies) != counts["movies"]:
        return f"has {len(movies):,} rows; the manifest counts {counts['movies']:,} movies"
    for column in ("n_ratings", "weighted_rating"):  # what every cold-start list ranks by
        if column in movies:
            values = movies[column].to_numpy(np.float64, na_value=np.nan)
            if not np.isfinite(values).all() or (values < 0).any():
                return f"has a {column!r} that is not a finite number >= 0"
    return None


def _file_entry_problem(name: str, entry: Any) -> str | None:
    if not is_inside(name) or name == MANIFEST:
        return "not a path inside the bundle (plain names joined by '/', no '..')"
    if not isinstance(entry, dict):
        return "expected an object with bytes and sha256"
    digest = entry.get("sha256")
    if not _is_count(entry.get("bytes")) or not (
        isinstance(digest, str) and len(digest) == 64 and set(digest) <= set("0123456789abcdef")
    ):
        return "needs 'bytes' (a whole number) and 'sha256' (64 hex digits)"
    if name.endswith(".npy"):
        shape = entry.get("shape")
        if not isinstance(entry.get("dtype"), str) or not (
            isinstance(shape, list) and all(_is_count(n) for n in shape)
        ):
            return "an array needs 'dtype' (text) and 'shape' (a list of whole numbers)"
    return None


def is_inside(name: Any) -> bool:
    """Whether a manifest's file name is a relative path that stays inside the bundle: plain
    names (no "..", nothing hidden) joined by "/", as ``users/part-00000.parquet``."""
    return isinstance(name, str) and all(PLAIN_NAME.fullmatch(part) for part in name.split("/"))


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _shown(name: Any) -> str:
    return shorten(repr(name), 80)


@dataclass(frozen=True)
class NpyHeader:
    """What a .npy file's header says: the array's dtype and shape, and where its data starts."""

    dtype: np.dtype
    shape: tuple[int, ...]
    fortran_order: bool
    data_offset: int


def read_npy_header(path: Path) -> NpyHeader:
    """The header of a .npy file, read without reading (or unpickling) the data.

    ``ValueError`` if it is not a .npy file of a version numpy writes for plain arrays.
    """
    with path.open("rb") as handle:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            raise ValueError(f".npy format version {version} is not read here")
        return NpyHeader(np.dtype(dtype), tuple(shape), bool(fortran_order), handle.tell())


def header_problem(header: NpyHeader, entry: dict[str, Any], size: int) -> str | None:
    """What is wrong with an array file, in words, or None: not numbers, not in C order, not
    the dtype and shape its manifest entry records, or not as many bytes as its header says."""
    dtype = header.dtype
    if dtype.hasobject or dtype.kind not in NUMERIC_KINDS:
        return f"holds {dtype} values; a bundle array holds numbers only"
    if header.fortran_order:
        return "is in Fortran order; bundle arrays are written in C order"
    if dtype.str != entry["dtype"] or list(header.shape) != entry["shape"]:
        return (
            f"holds {dtype.str} {list(header.shape)}, the manifest records "
            f"{entry['dtype']} {entry['shape']}"
        )
    expected = header.data_offset + dtype.itemsize * math.prod(header.shape)  # exact
    if size != expected:
        return f"has {size:,} bytes; its header says {expected:,}"
    return None
