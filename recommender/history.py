"""What each user of the data set rated: the rows ``Recommender.for_user`` folds in.

Two layouts hold the same thing, and ``rating_history`` picks the one a bundle has:

- ``CsrHistory``: the local engine's arrays, memory-mapped from the bundle and compact (3
  bytes a rating instead of 6; ``history_arrays`` writes them): ``user_ids`` (sorted, int64);
  ``seen_movies`` (uint16), each movie code modulo 65,536 (its "page" is code // 65,536), by
  user then code; ``seen_indptr`` (int64), where the run of each (user, page) starts, so a user
  owns ``pages`` runs; ``seen_ratings`` (uint8), two ratings a byte as half stars (1-10),
  the first in the low four bits.
- ``PartitionedHistory``: the Spark engine's Parquet part files ``users/part-NNNNN.parquet``
  (columns userId int64, movie_code int32, rating float32; sorted by userId, then movie code),
  each holding one range of userIds, listed in the manifest's ``users`` section. The executors
  write them; nothing per user passes through the driver. A row is read from the one part whose
  range holds the user, and within it only the row groups whose userId statistics can hold it.

A new visitor's recommendations never touch either: only ``for_user`` and ``user_ratings`` do.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from recommender.bundle import FIX_HINT, Bundle, BundleError, check_pointers, expect_array

USERS_SECTION = "users"  # the manifest section that lists the part files
PART_COLUMNS = ("userId", "movie_code", "rating")


class RatingHistory(Protocol):
    """The seen ratings of the data set's users, by userId (int64: exact beyond 2^53)."""

    @property
    def user_ids(self) -> np.ndarray:
        """Every userId, sorted (int64)."""
        ...

    def row(self, user_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(movie codes int32, ratings float32) of what the user rated, by movie code;
        ValueError naming the userId when the data set has no such user."""
        ...

    def __contains__(self, user_id: object) -> bool: ...

    def __len__(self) -> int: ...

    def closed(self) -> RatingHistory:
        """What stays once the bundle is let go (``Recommender.close``): the userIds, and no
        open or mapped file; a row can no longer be read."""
        ...


def unknown_user(user_id: int) -> ValueError:
    return ValueError(f"unknown userId: {user_id}")


PAGE = 1 << 16  # movie codes per page: a code is stored as its place in its page (uint16)


def history_arrays(user_ids: np.ndarray, ratings: sp.csr_matrix) -> dict[str, np.ndarray]:
    """The compact arrays ``CsrHistory`` reads, from the users x movies rating matrix (whose
    rows are sorted by movie code, as the loader builds it)."""
    ratings = ratings if ratings.has_sorted_indices else ratings.sorted_indices()
    pages = max(1, -(-ratings.shape[1] // PAGE))
    # starts[u, p]: where user u's run of page p begins: after the user's codes below the page
    # (a row's codes are sorted), counted one page at a time with an int32 running count
    starts = np.empty((ratings.shape[0], pages), dtype=np.int64)
    starts[:, 0] = ratings.indptr[:-1]
    below = np.zeros(ratings.nnz + 1, dtype=np.int32 if ratings.nnz < 2**31 else np.int64)
    for page in range(1, pages):
        np.cumsum(ratings.indices < page * PAGE, out=below[1:])
        counted = below[ratings.indptr[1:]] - below[ratings.indptr[:-1]]
        starts[:, page] = ratings.indptr[:-1] + counted
    half_stars = np.rint(ratings.data * np.float32(2)).astype(np.uint8)  # 1-10: half stars
    if len(half_stars) % 2:
        half_stars = np.append(half_stars, np.uint8(0))
    return {
        "user_ids": np.asarray(user_ids, dtype=np.int64),
        "seen_indptr": np.append(starts.ravel(), ratings.indptr[-1]).astype(np.int64),
        "seen_movies": ratings.indices.astype(np.uint16),  # the code modulo 65,536 (it wraps)
        "seen_ratings": half_stars[0::2] | (half_stars[1::2] << 4),
    }


class CsrHistory:
    """The compact arrays of the local engine's bundle (``history_arrays``; not copied)."""

    def __init__(self, arrays: Mapping[str, np.ndarray], movies: int | None = None):
        """The arrays, checked against each other; given ``movies``, a row's movie codes are
        checked against the catalogue when it is read (a code's page is its place among the
        row pointers, so checking them all at load would decode every rating)."""
        self.user_ids: np.ndarray = expect_array(arrays, "user_ids", (None,), "iu")
        users = len(self.user_ids)
        pointers = len(arrays["seen_indptr"]) if "seen_indptr" in arrays else 1
        self.pages = -(-movies // PAGE) if movies else (pointers - 1) // max(users, 1)
        self.pages = max(1, self.pages)
        self.catalogue = movies
        shape = (users * self.pages + 1,)
        self.indptr: np.ndarray = expect_array(arrays, "seen_indptr", shape, "iu")
        check_pointers(self.indptr, "seen_indptr")
        nnz = int(self.indptr[-1])
        self.movies: np.ndarray = expect_array(arrays, "seen_movies", (nnz,), "u")
        self.ratings: np.ndarray = expect_array(arrays, "seen_ratings", ((nnz + 1) // 2,), "u")

    def _code(self, user_id: int) -> int:
        code = int(np.searchsorted(self.user_ids, user_id))
        if code >= len(self.user_ids) or self.user_ids[code] != user_id:
            return -1
        return code

    def row(self, user_id: int) -> tuple[np.ndarray, np.ndarray]:
        code = self._code(user_id)
        if code < 0:
            raise unknown_user(user_id)
        starts = np.asarray(self.indptr[code * self.pages : (code + 1) * self.pages + 1])
        start, end = int(starts[0]), int(starts[-1])
        page = np.repeat(np.arange(self.pages, dtype=np.int32), np.diff(starts))
        codes = np.asarray(self.movies[start:end], np.int32) + page * PAGE
        packed = np.asarray(self.ratings[start // 2 : (end + 1) // 2])
        half_stars = np.stack([packed & 15, packed >> 4], axis=1).ravel()
        half_stars = half_stars[start % 2 : start % 2 + end - start]
        self._check_row(user_id, codes, half_stars)
        return codes, half_stars.astype(np.float32) / 2

    def _check_row(self, user_id: int, codes: np.ndarray, half_stars: np.ndarray) -> None:
        """``BundleError`` for a movie code outside the catalogue or a rating outside 0.5-5 in
        one user's row: checked as a row is read, not at load, where it would decode (and map
        into memory) every rating of the data set."""
        if not len(codes):
            return
        problem = None
        if self.catalogue is not None and int(codes.max()) >= self.catalogue:
            problem = f"'seen_movies' holds movie code {int(codes.max())} for userId {user_id}"
        elif int(half_stars.min()) < 1 or int(half_stars.max()) > 10:
            problem = f"'seen_ratings' holds a rating outside 0.5-5 for userId {user_id}"
        if problem:
            hint = FIX_HINT.format(artifacts="ARTIFACTS_DIR")
            raise BundleError(f"bundle array {problem}; retrain with: {hint}")

    def __contains__(self, user_id: object) -> bool:
        return isinstance(user_id, int | np.integer) and self._code(int(user_id)) >= 0

    def __len__(self) -> int:
        return len(self.user_ids)

    def closed(self) -> ClosedHistory:
        return ClosedHistory(np.array(self.user_ids))  # a copy: the mapped file is let go


class ClosedHistory:
    """The userIds of a closed ``Recommender``'s history; a row can no longer be read. The
    userIds are given, or read when first asked for (``source``: the part files are read only
    if a page still asks)."""

    def __init__(self, user_ids: np.ndarray | None = None, source: Any = None):
        self._user_ids, self._source = user_ids, source

    @cached_property
    def user_ids(self) -> np.ndarray:
        if self._user_ids is not None:
            return self._user_ids
        try:
            return self._source()
        except OSError as error:  # the bundle was pruned since
            raise BundleError(f"this model was closed and its files are gone: {error}") from None

    def closed(self) -> ClosedHistory:
        return self

    def row(self, user_id: int) -> tuple[np.ndarray, np.ndarray]:
        raise BundleError("this model was closed (a newer bundle replaced it); load it again")

    def __contains__(self, user_id: object) -> bool:
        return isinstance(user_id, int | np.integer) and bool(np.isin(user_id, self.user_ids))

    def __len__(self) -> int:
        return len(self.user_ids)


class PartitionedHistory:
    """Parquet part files, one userId range each, read when a user's row is asked for."""

    def __init__(self, folder: Path, section: Mapping[str, Any]):
        self.folder = Path(folder)
        self.parts: list[dict[str, Any]] = sorted(section["parts"], key=lambda p: p["first_user"])
        self._firsts = [int(part["first_user"]) for part in self.parts]
        self._count = int(section["count"])
        self._files: dict[str, Any] = {}  # open part files: footers read once

    def _file(self, name: str) -> Any:
        import pyarrow.parquet as pq

        if name not in self._files:
            self._files[name] = pq.ParquetFile(self.folder / name)
        return self._files[name]

    def closed(self) -> ClosedHistory:
        self._files.clear()  # the part files are let go (a pruned bundle's space is freed)
        known = self.__dict__.get("user_ids")
        return ClosedHistory(known, source=self._read_user_ids)

    def _part(self, user_id: int) -> dict[str, Any] | None:
        """The part whose userId range holds ``user_id`` (ranges do not overlap)."""
        index = bisect.bisect_right(self._firsts, user_id) - 1
        if index < 0 or user_id > int(self.parts[index]["last_user"]):
            return None
        return self.parts[index]

    def row(self, user_id: int) -> tuple[np.ndarray, np.ndarray]:
        user_id = int(user_id)
        part = self._part(user_id)
        found = None if part is None else _read_user(self._file(part["file"]), user_id)
        if found is None or len(found[0]) == 0:
            raise unknown_user(user_id)
        return found

    def __contains__(self, user_id: object) -> bool:
        if not isinstance(user_id, int | np.integer):
            return False
        try:
            self.row(int(user_id))
        except ValueError:
            return False
        return True

    def __len__(self) -> int:
        return self._count

    @cached_property
    def user_ids(self) -> np.ndarray:
        """Every userId, read from the parts' userId columns on first use (8 bytes a user:
        the user mode of the app asks for it, a visitor's recommendations never do)."""
        return self._read_user_ids()

    def _read_user_ids(self) -> np.ndarray:
        import pyarrow.parquet as pq

        chunks = []
        for part in self.parts:
            users = pq.read_table(self.folder / part["file"], columns=["userId"])["userId"]
            users = users.to_numpy().astype(np.int64, copy=False)
            chunks.append(users[np.r_[True, users[1:] != users[:-1]]])  # sorted: drop repeats
        return np.concatenate(chunks) if chunks else np.empty(0, np.int64)


def _read_user(file: Any, user_id: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The user's (movie codes, ratings) from the row groups of one part (an open
    ``ParquetFile``) that can hold them."""
    metadata = file.metadata
    groups = []
    for index in range(metadata.num_row_groups):
        stats = metadata.row_group(index).column(0).statistics
        if stats is None or not stats.has_min_max or stats.min <= user_id <= stats.max:
            groups.append(index)
    if not groups:
        return None
    table = file.read_row_groups(groups, columns=list(PART_COLUMNS))
    users = table["userId"].to_numpy()
    start = np.searchsorted(users, user_id, side="left")  # the part is sorted by user
    end = np.searchsorted(users, user_id, side="right")
    codes = table["movie_code"].to_numpy()[start:end].astype(np.int32, copy=False)
    return codes, table["rating"].to_numpy()[start:end].astype(np.float32, copy=False)


def rating_history(bundle: Bundle) -> RatingHistory:
    """The history a bundle holds: Parquet parts when its manifest lists them, else the arrays."""
    section = bundle.manifest.get(USERS_SECTION)
    if section is not None and bundle.path is not None:
        return PartitionedHistory(bundle.path, section)
    return CsrHistory(bundle.arrays, len(bundle.movies))
