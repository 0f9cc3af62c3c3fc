"""The rating matrix on the executors: one block of rows per range of users, cached.

The coded ratings are range-partitioned by userId (so each partition holds whole users, and the
ranges do not overlap); one Arrow pass (``mapInArrow``) per
partition then keeps the latest of each duplicate, writes the partition's ratings as the
bundle's Parquet part file ``users/part-NNNNN.parquet`` (recommender/history.py reads it) and
turns them into a CSR block over the movies the partition's users rated. The blocks stay cached
as Python objects for the SVD's passes; the driver receives one small row of counts per part.

Sums over all users of movie-sized rows (per-movie counts, A^T Y in the SVD) are reduced on the
executors: each block sends only the rows of the movies it touched, cut into movie blocks of
``block_rows`` rows (the reduce key), and each movie block is summed where it lands. Only the
summed, movie-sized result comes to the driver.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from itertools import pairwise
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp
from pyspark import RDD, StorageLevel
from pyspark.sql import DataFrame

from recommender.history import PART_COLUMNS

PART_ROW_GROUP = 65_536  # ratings per Parquet row group: a user's row is read from one or two
PART_FOLDER = "users"
META_FIELDS = (
    ("part", pa.int32()),
    ("file", pa.string()),
    ("first_user", pa.int64()),
    ("last_user", pa.int64()),
    ("users", pa.int64()),
    ("ratings", pa.int64()),
    ("duplicates", pa.int64()),
    ("movies", pa.int64()),  # movies the part's users rated: its rows of A^T Y in each pass
    ("mean_sum", pa.float64()),  # the sum of the users' mean ratings (the "centered" offset)
)
ARRAY_FIELDS = (("indptr", np.int64), ("columns", np.int32), ("values", np.float32))
ARRAY_FIELDS += (("movie_codes", np.int32), ("means", np.float32), ("user_ids", np.int64))
BLOCK_SCHEMA = pa.schema(
    [pa.field(name, kind, nullable=False) for name, kind in META_FIELDS]
    + [pa.field(name, pa.binary(), nullable=False) for name, _ in ARRAY_FIELDS]
)
SPARK_SCHEMA = "part int, file string, first_user long, last_user long, users long, "
SPARK_SCHEMA += "ratings long, duplicates long, movies long, mean_sum double, "
SPARK_SCHEMA += ", ".join(f"{name} binary" for name, _ in ARRAY_FIELDS)


@dataclass(frozen=True)
class Block:
    """The ratings of one range of users: CSR rows over the movies those users rated."""

    indptr: np.ndarray  # users + 1 (int64)
    columns: np.ndarray  # per rating: its column, an index into ``movies`` (int32)
    values: np.ndarray  # per rating: the rating (float32)
    movies: np.ndarray  # the movie code of each column, ascending (int32)
    means: np.ndarray  # per user: the mean rating (float32)
    user_ids: np.ndarray  # per user: the userId (int64)

    def matrix(self, centered: bool) -> sp.csr_matrix:
        """users x touched movies; ``centered`` subtracts each user's mean (the variant)."""
        values = self.values
        if centered:
            values = values - np.repeat(self.means, np.diff(self.indptr))
        shape = (len(self.indptr) - 1, len(self.movies))
        return sp.csr_matrix((values, self.columns, self.indptr), shape=shape, copy=False)


# --- building the blocks (runs on the executors) -------------------------------------------------


def user_blocks(
    coded: DataFrame, partitions: int, folder: Path
) -> tuple[RDD, list[dict[str, Any]]]:
    """(the cached (counts, Block) pairs: ``.values()`` are the blocks, one dict of counts per
    part file), the part files written in ``folder``/users/. Nothing per user or per rating
    comes to the driver."""
    (folder / PART_FOLDER).mkdir(parents=True, exist_ok=True)
    ranged = coded.repartitionByRange(partitions, "user")
    built = ranged.mapInArrow(partial(build_blocks, folder=str(folder)), SPARK_SCHEMA)
    blocks = built.rdd.map(_split_row).persist(StorageLevel.MEMORY_AND_DISK)
    parts = blocks.keys().collect()
    return blocks, sorted(parts, key=itemgetter("first_user"))


def build_blocks(batches: Iterator[pa.RecordBatch], folder: str) -> Iterator[pa.RecordBatch]:
    """One partition's ratings -> its part file and one row: counts and block arrays."""
    from pyspark import TaskContext

    batches = list(batches)
    if not batches or not sum(batch.num_rows for batch in batches):
        return
    table = pa.Table.from_batches(batches)
    users, codes, ratings, duplicates = latest_ratings(table)
    part = TaskContext.get().partitionId()
    name = write_part(Path(folder), part, users, codes, ratings)
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    indptr = np.r_[starts, len(users)].astype(np.int64)
    movies, columns = np.unique(codes, return_inverse=True)
    means = (np.add.reduceat(ratings, starts, dtype=np.float64) / np.diff(indptr)).astype(
        np.float32
    )
    meta = (part, name, users[0], users[-1], len(starts), len(users), duplicates, len(movies))
    arrays = (indptr, columns.astype(np.int32), ratings, movies.astype(np.int32), means)
    arrays += (users[starts].astype(np.int64),)
    row = [*meta, float(means.sum(dtype=np.float64)), *(array.tobytes() for array in arrays)]
    yield pa.RecordBatch.from_arrays([pa.array([value]) for value in row], schema=BLOCK_SCHEMA)


def latest_ratings(table: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(users, movie codes, ratings) sorted by user and movie, with the latest of each
    duplicate (the last by time, then row), and how many duplicates were dropped."""
    columns = [table[name].to_numpy() for name in ("_id", "time", "movie_code", "user")]
    order = np.lexsort(columns)  # numpy sorts a partition faster than Spark's sorter here
    users, codes = columns[3][order], columns[2][order]
    ratings = table["rating"].to_numpy()[order].astype(np.float32, copy=False)
    last = np.r_[(users[1:] != users[:-1]) | (codes[1:] != codes[:-1]), True]
    if last.all():
        return users, codes, ratings, 0
    return users[last], codes[last], ratings[last], int(len(last) - last.sum())


def write_part(
    folder: Path, part: int, users: np.ndarray, codes: np.ndarray, ratings: np.ndarray
) -> str:
    """Write users/part-NNNNN.parquet (atomically: a retried task rewrites the same file)."""
    name = f"{PART_FOLDER}/part-{part:05d}.parquet"
    table = pa.table(
        [pa.array(users, pa.int64()), pa.array(codes, pa.int32()), pa.array(ratings)],
        names=list(PART_COLUMNS),
    )
    temporary = folder / f"{name}.{uuid.uuid4().hex[:8]}.tmp"
    pq.write_table(table, temporary, row_group_size=PART_ROW_GROUP, compression="zstd")
    os.replace(temporary, folder / name)
    return name


def _split_row(row: Any) -> tuple[dict[str, Any], Block]:
    meta = {name: row[name] for name, _ in META_FIELDS}
    arrays = {name: np.frombuffer(row[name], dtype) for name, dtype in ARRAY_FIELDS}
    arrays["movies"] = arrays.pop("movie_codes")
    return meta, Block(**arrays)


# --- movie-sized sums over the blocks (reduced on the executors) ----------------------------------

Piece = tuple[np.ndarray, np.ndarray]  # (rows within a movie block, their values)


def movie_pieces(
    movies: np.ndarray, rows: np.ndarray, block_rows: int
) -> Iterator[tuple[int, Piece]]:
    """The rows a block touched (``rows[i]`` belongs to movie ``movies[i]``, ascending), keyed
    by movie block."""
    keys = movies // block_rows
    bounds = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1], True])
    for start, end in pairwise(bounds):
        key = int(keys[start])
        yield key, (movies[start:end] - key * block_rows, rows[start:end])


def add_pieces(total: np.ndarray | Piece, more: np.ndarray | Piece, block_rows: int) -> np.ndarray:
    """The sum of two partial sums, dense (float64); either may still be a sparse piece."""
    total = _dense(total, block_rows)
    if isinstance(more, tuple):
        total[more[0]] += more[1]  # the rows of a piece are distinct
    else:
        total += more
    return total


def _dense(value: np.ndarray | Piece, block_rows: int) -> np.ndarray:
    if not isinstance(value, tuple):
        return value
    dense = np.zeros((block_rows, *value[1].shape[1:]), dtype=np.float64)
    dense[value[0]] += value[1]
    return dense


def sum_by_movie(
    pieces: RDD, n_movies: int, block_rows: int, reducers: int, dtype: type = np.float32
) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """(the movies x width sum of the keyed pieces as ``dtype``, the sums of the negative keys:
    extras such as a Gram matrix). One Spark job; the driver receives the summed result only."""
    summed = pieces.reduceByKey(partial(add_pieces, block_rows=block_rows), reducers)
    finish = partial(_finished, block_rows=block_rows, n_movies=n_movies, dtype=dtype)
    results = summed.map(finish).collect()
    extras = {key: value for key, value in results if key < 0}
    width = next((value.shape[1] for key, value in results if key >= 0), 0)
    total = np.zeros((n_movies, width), dtype=dtype)
    while results:  # each block let go once copied: the driver holds about one copy
        key, value = results.pop()
        if key >= 0:
            total[key * block_rows : key * block_rows + len(value)] = value
    return total, extras


def _finished(
    item: tuple[int, Any], block_rows: int, n_movies: int, dtype: type
) -> tuple[int, np.ndarray]:
    """A reduced movie block as ``dtype`` (float32: half the bytes to the driver), cut to the
    movies."""
    key, value = item
    if key < 0:
        return key, value
    dense = _dense(value, block_rows)[: n_movies - key * block_rows]
    return key, dense.astype(dtype, copy=False)


def movie_counts(blocks: RDD, n_movies: int, block_rows: int, reducers: int) -> np.ndarray:
    """(votes, sum of ratings) of each movie over all blocks: movies x 2."""
    pieces = blocks.flatMap(partial(_block_counts, block_rows=block_rows))
    return sum_by_movie(pieces, n_movies, block_rows, reducers, np.float64)[0]


def _block_counts(block: Block, block_rows: int) -> Iterator[tuple[int, Piece]]:
    width = len(block.movies)
    counts = np.bincount(block.columns, minlength=width)
    sums = np.bincount(block.columns, weights=block.values, minlength=width)
    yield from movie_pieces(block.movies, np.column_stack([counts, sums]), block_rows)
