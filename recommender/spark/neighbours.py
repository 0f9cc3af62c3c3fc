"""The "fans also liked" neighbours on Spark: the local engine's item-kNN, summed on the executors.

    capped links per block (cached) -> counts per movie (1 job) -> co-occurrence rows per
    movie block, summed by key where they land, cut to the top K (1 job, 1 shuffle)

Each user block turns its ratings into the links the local engine uses
(``recommender.neighbours.linked_ratings``: the same threshold and the same per-user sample,
which hashes userIds, so it does not depend on the blocks). Its co-occurrence counts, cut
into blocks of ``ROWS_PER_BLOCK`` movie rows, are reduced by movie block on the executors;
each summed block is weighed and cut to its top K there (``neighbours.block_top_k``, the local
engine's own last step). The driver receives the counts per movie and the movies x K result:
movie-sized, as everything it holds. The shuffle carries, for every user block, the
co-occurrence of the movies its users rated (docs/spark.md has the volumes).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from pyspark import RDD, StorageLevel

from recommender.neighbours import (
    ROWS_PER_BLOCK,
    block_top_k,
    cosine_weigh,
    from_row_blocks,
    linked_ratings,
)
from recommender.spark.blocks import Block

if TYPE_CHECKING:
    from recommender.training import TrainingConfig


def neighbours_spark(
    blocks: RDD, n_movies: int, config: TrainingConfig, reducers: int
) -> sp.csr_matrix:
    """The movies x movies CSR of each movie's top ``config.neighbours`` shrunk asymmetric
    cosines, equal to ``recommender.neighbours.cosine`` on the same links."""
    links = blocks.map(partial(_links, n_movies=n_movies, config=config))
    links = links.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        counts = links.map(partial(_counts, n_movies=n_movies)).treeReduce(np.add)
        weigh = cosine_weigh(counts, config.neighbour_shrinkage, config.neighbour_asymmetry)
        k = max(0, min(config.neighbours, n_movies - 1))
        pieces = links.flatMap(_co_occurrence)
        summed = pieces.reduceByKey(lambda a, b: a + b, max(1, reducers))
        top = partial(_top_of_block, n_movies=n_movies, k=k, weigh=weigh)
        results = sorted(summed.map(top).collect(), key=lambda item: item[0])
    finally:
        links.unpersist()
    return from_row_blocks(_with_empty_blocks(results, n_movies), n_movies)


def _links(block: Block, n_movies: int, config: TrainingConfig) -> sp.csr_matrix:
    """The block's users x movies links (1 for each kept rating), columns in movie codes."""
    shape = (len(block.indptr) - 1, n_movies)
    ratings = sp.csr_matrix((block.values, block.movies[block.columns], block.indptr), shape)
    links = linked_ratings(ratings, config, block.user_ids)
    links = sp.csr_matrix(links, dtype=np.float32, copy=True)
    links.data[:] = 1.0
    return links


def _counts(links: sp.csr_matrix, n_movies: int) -> np.ndarray:
    return np.bincount(links.indices, minlength=n_movies).astype(np.int64)


def _co_occurrence(links: sp.csr_matrix) -> Iterator[tuple[int, sp.csr_matrix]]:
    """(movie block, its rows of links^T links) for every movie block the users touched."""
    by_movie = links.T.tocsr()
    touched = np.unique(links.indices // ROWS_PER_BLOCK)
    for key in touched.tolist():
        start = key * ROWS_PER_BLOCK
        rows = by_movie[start : min(start + ROWS_PER_BLOCK, by_movie.shape[0])]
        yield key, (rows @ links).tocsr()


def _top_of_block(item: tuple[int, sp.csr_matrix], n_movies: int, k: int, weigh: Any) -> tuple:
    key, block = item
    start = key * ROWS_PER_BLOCK
    rows = np.arange(start, min(start + ROWS_PER_BLOCK, n_movies))
    return key, block_top_k(block, rows, k, weigh)


def _with_empty_blocks(
    results: list[tuple[int, tuple[np.ndarray, np.ndarray, np.ndarray]]], n_movies: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Every movie block's result in order; a block nobody rated has no neighbours."""
    found = dict(results)
    parts = []
    for key, start in enumerate(range(0, n_movies, ROWS_PER_BLOCK)):
        rows = min(ROWS_PER_BLOCK, n_movies - start)
        empty = (np.zeros(rows, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32))
        parts.append(found.get(key, empty))
    return parts
