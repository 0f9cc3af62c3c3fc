"""The "fans also liked" neighbours on Spark: the local engine's item-kNN on a grid of movie blocks.

    capped links per user block (cached) -> counts per movie (1 job) -> the links cut into g
    column blocks, shuffled to the g x g cells of a grid (1 shuffle) -> each cell's co-occurrence
    cut to its top K per movie -> the candidates of a row of cells merged (1 shuffle)

Each user block turns its ratings into the links the local engine uses
(``recommender.neighbours.linked_ratings``: the same threshold and the same per-user sample,
which hashes userIds, so it does not depend on the blocks). Cell (J, K) of the grid receives, from
every user block, its users' links into movie block J and into movie block K, and computes the
co-occurrence of J's movies with K's (every user at once), weighed and cut to each movie's top K
by the local engine's own code: from COMPILED_NNZ links on, its compiled top-n product
(``topn.product_top_k``, the same stand-in and bound, in threads), below it scipy's products,
ROWS_PER_BLOCK movie rows at a time, and its last step (``neighbours.block_top_k``); the local
engine switches at the same count of links (``neighbours.COMPILED_NNZ``). A movie's K best
neighbours overall are among the K best of each cell of its row, so merging a row of cells by
the same rule gives the local engine's answer.

No task holds the co-occurrence of all movies, or more than two column blocks of the links; the
driver receives each movie's count and its top K only. The links cross the network 2g - 1 times
(docs/spark.md has the volumes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from pyspark import RDD, StorageLevel

from recommender import neighbours as local_engine
from recommender.neighbours import (
    ROWS_PER_BLOCK,
    block_top_k,
    cosine_weigh,
    from_row_blocks,
    linked_ratings,
)
from recommender.spark.blocks import Block
from recommender.topn import StandIn, cosine_stand_in, product_top_k, threads

if TYPE_CHECKING:
    from recommender.model import TrainingConfig

LINKS_PER_CELL = 16_000_000  # links of two column blocks a cell may receive (about 200 MB)
Result = tuple[np.ndarray, np.ndarray, np.ndarray]  # neighbours per row, columns, similarities


def neighbours_spark(
    blocks: RDD, n_movies: int, config: TrainingConfig, cores: int
) -> sp.csr_matrix:
    """The movies x movies CSR of each movie's top ``config.neighbours`` shrunk asymmetric
    cosines, equal to ``recommender.neighbours.cosine`` on the same links."""
    links = blocks.map(partial(_links, n_movies=n_movies, config=config))
    links = links.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        counts = links.map(_counts).treeReduce(np.add)
        weigh = cosine_weigh(counts, config.neighbour_shrinkage, config.neighbour_asymmetry)
        k = max(0, min(config.neighbours, n_movies - 1))
        bounds = column_bounds(n_movies, int(counts.sum()), cores)
        # the local engine's rule, read at run time (a test sets it for both engines at once)
        compiled = counts.sum() >= local_engine.COMPILED_NNZ
        cells = links.flatMap(partial(_to_cells, bounds=bounds))
        cells = cells.groupByKey(max(1, (len(bounds) - 1) ** 2))
        top_k = partial(_cell_top_k, bounds=bounds, k=k, weigh=weigh)
        if compiled:  # the stand-in is built in each task: movies x 16 scales are not shipped
            shrinkage, asymmetry = config.neighbour_shrinkage, config.neighbour_asymmetry
            top_k = partial(top_k, stand_in=partial(cosine_stand_in, counts, shrinkage, asymmetry))
        candidates = cells.map(top_k)
        rows = candidates.groupByKey(max(1, len(bounds) - 1))
        merged = rows.map(partial(_merged, bounds=bounds, k=k)).collect()
    finally:
        links.unpersist()
    return from_row_blocks(_every_row(merged, bounds), n_movies)


def column_bounds(n_movies: int, n_links: int, cores: int) -> np.ndarray:
    """The g + 1 bounds of the movie blocks: g large enough that a cell's links stay under
    LINKS_PER_CELL, and g x g cells enough to keep every core busy."""
    blocks = max(math.ceil(2 * n_links / LINKS_PER_CELL), math.ceil(math.sqrt(max(cores, 1))))
    blocks = max(1, min(blocks, n_movies))
    return np.linspace(0, n_movies, blocks + 1).round().astype(np.int64)


def _links(block: Block, n_movies: int, config: TrainingConfig) -> tuple[int, sp.csc_matrix]:
    """(the block's first userId, its users x movies links: 1 for each kept rating, columns in
    movie codes), by columns for the cut into movie blocks."""
    shape = (len(block.indptr) - 1, n_movies)
    ratings = sp.csr_matrix((block.values, block.movies[block.columns], block.indptr), shape)
    links = sp.csr_matrix(
        linked_ratings(ratings, config, block.user_ids), dtype=np.float32, copy=True
    )
    links.data[:] = 1.0
    return int(block.user_ids[0]), links.tocsc()


def _counts(item: tuple[int, sp.csc_matrix]) -> np.ndarray:
    """Each movie's links in one block (the columns of its links)."""
    return np.diff(item[1].indptr).astype(np.int64)


def _to_cells(
    item: tuple[int, sp.csc_matrix], bounds: np.ndarray
) -> Iterator[tuple[tuple[int, int], tuple[int, sp.csr_matrix, sp.csr_matrix]]]:
    """((J, K), (block, its users' links into J, into K)) for every cell both reach; J's links
    in J's own columns, K's in movie codes."""
    first_user, links = item
    parts = [_columns(links, start, end) for start, end in pairwise(bounds)]
    for j, (rows, _) in enumerate(parts):
        for k, (_, columns) in enumerate(parts):
            if rows.nnz and columns.nnz:
                yield (j, k), (first_user, rows, columns)


def _columns(links: sp.csc_matrix, start: int, end: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The links into movies start..end: (in their own columns, in movie codes)."""
    own = links[:, start:end].tocsr()
    coded = sp.csr_matrix((own.data, own.indices + start, own.indptr), shape=links.shape)
    return own, coded


def task_cpus() -> int:
    """The cores Spark gave the running task (``spark.task.cpus``, 1 unless set), outside a task
    the local engine's ``topn.threads()``: the compiled product's threads in an executor, so that
    the tasks Spark runs side by side do not ask for more cores than it has."""
    from pyspark import TaskContext

    context = TaskContext.get()
    return max(1, context.cpus()) if context is not None else threads()


def _cell_top_k(
    cell: tuple[tuple[int, int], Iterable[tuple[int, sp.csr_matrix, sp.csr_matrix]]],
    bounds: np.ndarray,
    k: int,
    weigh: Any,
    stand_in: Callable[[], StandIn] | None = None,
) -> tuple[int, Result]:
    """(J, the top k of each movie of J among the movies of K), summed over every user:
    through the compiled product when given the ``stand_in`` to rank by, else scipy's."""
    (j, _), parts = cell
    parts = sorted(parts, key=lambda part: part[0])  # the same users in the same order
    by_movie = sp.vstack([rows for _, rows, _ in parts]).T.tocsr()
    others = sp.vstack([columns for _, _, columns in parts]).tocsr()
    start, results = int(bounds[j]), []
    if stand_in is not None:
        rows = np.arange(start, start + by_movie.shape[0])
        cut = product_top_k(by_movie, others, rows, k, weigh, stand_in(), n_threads=task_cpus())
        return j, cut
    for offset in range(0, by_movie.shape[0], ROWS_PER_BLOCK):
        rows = np.arange(start + offset, start + min(offset + ROWS_PER_BLOCK, by_movie.shape[0]))
        block = by_movie[offset : offset + ROWS_PER_BLOCK] @ others
        results.append(block_top_k(block, rows, k, weigh))
    return j, _joined(results)


def _merged(row: tuple[int, Iterable[Result]], bounds: np.ndarray, k: int) -> tuple[int, Result]:
    """(J, the top k of each movie of J), from the top k of every cell of J's row (the cells
    hold disjoint columns)."""
    j, results = row
    rows = np.arange(int(bounds[j]), int(bounds[j + 1]))
    counts, columns, values = _joined(list(results))
    within = np.tile(np.arange(len(rows)), len(counts) // max(len(rows), 1))
    shape = (len(rows), int(bounds[-1]))
    candidates = sp.csr_matrix((values, (np.repeat(within, counts), columns)), shape=shape)
    return j, block_top_k(candidates, rows, k, _as_is)


def _every_row(merged: list[tuple[int, Result]], bounds: np.ndarray) -> list[Result]:
    """Every movie block's result in order; a block that nobody's links reach has none."""
    found = dict(merged)
    empty = (np.zeros(0, np.int32), np.zeros(0, np.float32))
    return [
        found.get(j, (np.zeros(end - start, np.int64), *empty))
        for j, (start, end) in enumerate(pairwise(bounds))
    ]


def _joined(results: list[Result]) -> Result:
    counts, indices, values = (np.concatenate(part) for part in zip(*results, strict=True))
    return counts, indices, values


def _as_is(block: sp.csr_matrix, rows: np.ndarray) -> None:
    """The merge's ``weigh``: the candidates are similarities already."""
