"""The randomized SVD of recommender/svd.py on Spark: the same algorithm, seed and start.

The local engine computes, with Y = A Z and Q = orthonormal(Y)::

    Z = random_start (rows in popularity order);  n_iter times: Z = orthonormal(A^T Q)
    then A^T Q of the last Z, and the SVD of its transpose (width x movies) gives s and V.

Here each of those n_iter + 1 products is one pass (one Spark job) over the cached user blocks:
every task computes its users' rows of Y = A Z, their Gram matrix Y^T Y, their column sums and
A^T Y over the movies its users rated. Y itself (users x width) is never kept or sent. On the
driver, Q = Y R^-1 with R the Cholesky factor of the summed Gram (CholeskyQR in float64), so
A^T Q = (A^T Y) R^-1 and the column means of Q are colsum(Y) R^-1 / users: the driver holds only
movies x width and width x width arrays. Nothing of size users ever reaches it: the general CF
score needs only the mean user factor, mean(U s) = mean(Q) U_small s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np
from pyspark import RDD
from pyspark.broadcast import Broadcast

from recommender.spark.blocks import Block, movie_pieces, sum_by_movie
from recommender.svd import inverse_cholesky_factor, orthonormal, popularity_order, random_start

GRAM, COLUMN_SUMS = -1, -2  # reduce keys of the two small sums (movie blocks are 0, 1, ...)
MOVIE_BLOCK_BYTES = 32 * 2**20  # a reducer's dense float64 sum of one movie block


@dataclass(frozen=True)
class MovieBlocks:
    """How movie-sized sums are cut for the reduce: ``count`` blocks of ``rows`` movies."""

    rows: int
    count: int

    @classmethod
    def for_sums(cls, n_movies: int, width: int, parallelism: int) -> MovieBlocks:
        """Blocks of at most MOVIE_BLOCK_BYTES, and at least one per core when movies allow."""
        count = max(parallelism, -(-n_movies * width * 8 // MOVIE_BLOCK_BYTES))
        rows = max(1, -(-n_movies // min(count, max(n_movies, 1))))
        return cls(rows, -(-n_movies // rows))


@dataclass(frozen=True)
class Factorisation:
    """What the SVD gives the bundle: V (movies x k), s, and the mean of U s over users."""

    item_factors: np.ndarray
    singular_values: np.ndarray
    mean_user: np.ndarray


@dataclass(frozen=True)
class SvdOptions:
    """The local engine's SVD settings, and how the Spark passes report themselves."""

    k: int
    seed: int
    n_iter: int
    centered: bool
    item_scale: np.ndarray | None  # d of the column normalisation (None: none)
    movie_blocks: MovieBlocks
    report: Callable[[str], None] = print  # one line per pass: its time and bytes


def randomized_svd_spark(
    blocks: RDD,
    shape: tuple[int, int],
    width: int,
    votes: np.ndarray,
    options: SvdOptions,
) -> Factorisation:
    """The rank-``options.k`` truncated SVD of the users x movies matrix held in ``blocks``."""
    n_users, n_movies = shape
    z: np.ndarray | None = np.empty((n_movies, width), dtype=np.float32)
    z[popularity_order(votes)] = random_start(n_movies, width, options.seed)
    context = blocks.context
    scale = None if options.item_scale is None else context.broadcast(options.item_scale)
    passes = options.n_iter + 1
    for step in range(passes):
        context.setJobDescription(f"SVD pass {step + 1}/{passes}")
        at_y, gram, sums = one_pass(blocks, z, scale, options, n_movies, f"{step + 1}/{passes}")
        z = None  # movie-sized arrays are let go once used: they make the driver's peak
        to_q = orthonormalizer(gram)  # Q = Y to_q is orthonormal
        at_q = at_y @ to_q.astype(np.float32)  # A^T Q, float32 as the local engine's
        del at_y
        if step < options.n_iter:
            z = orthonormal(at_q)
            del at_q
    context.setJobDescription(None)
    if scale is not None:
        scale.destroy()
    u_small, s, vt = np.linalg.svd(at_q.T, full_matrices=False)
    del at_q
    k = options.k
    mean_q = sums @ to_q / max(n_users, 1)
    mean_user = (mean_q @ u_small[:, :k]) * s[:k]
    return Factorisation(
        np.ascontiguousarray(vt[:k].T, dtype=np.float32),
        s[:k].astype(np.float32),
        mean_user.astype(np.float32),
    )


def one_pass(
    blocks: RDD,
    z: np.ndarray,
    scale: Broadcast | None,
    options: SvdOptions,
    n_movies: int,
    name: str = "",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(A^T Y, Y^T Y, colsum(Y)) for Y = A z: one Spark job; z is broadcast for it."""
    started = time.perf_counter()
    shared = blocks.context.broadcast(z)
    try:
        products = partial(
            block_products,
            z=shared,
            scale=scale,
            centered=options.centered,
            block_rows=options.movie_blocks.rows,
        )
        pieces = blocks.mapPartitions(products)
        at_y, extras = sum_by_movie(
            pieces, n_movies, options.movie_blocks.rows, options.movie_blocks.count
        )
    finally:
        shared.destroy()
    received = at_y.nbytes + sum(extra.nbytes for extra in extras.values())
    options.report(
        f"SVD pass {name}: {time.perf_counter() - started:.2f} s, broadcast "
        f"{z.nbytes / 2**20:.1f} MB, to the driver {received / 2**20:.1f} MB"
    )
    return at_y, extras[GRAM], extras[COLUMN_SUMS]


def block_products(
    blocks: Iterator[Block],
    z: Broadcast,
    scale: Broadcast | None,
    centered: bool,
    block_rows: int,
) -> Iterator[tuple[int, object]]:
    """On an executor: the partition's share of A^T Y (by movie block), Y^T Y and colsum(Y).

    The column normalisation A / d is applied to z's rows and to A^T Y's rows (movies-sized
    work) instead of to every rating.
    """
    start = z.value
    d = None if scale is None else scale.value
    width = start.shape[1]
    gram, sums = np.zeros((width, width)), np.zeros(width)
    for block in blocks:
        matrix = block.matrix(centered)
        rows = start[block.movies]
        if d is not None:
            rows = rows / d[block.movies, None]
        y = matrix @ rows  # float32, as the local engine's products
        wide = y.astype(np.float64)  # the Gram in float64: Q's accuracy is R's
        gram += wide.T @ wide
        sums += wide.sum(axis=0)
        product = matrix.T @ y
        if d is not None:
            product /= d[block.movies, None]
        yield from movie_pieces(block.movies, product, block_rows)
    yield GRAM, gram
    yield COLUMN_SUMS, sums


def orthonormalizer(gram: np.ndarray) -> np.ndarray:
    """T with Y T orthonormal, from Y's Gram matrix alone: R^-1 of its Cholesky factor.

    A rank-deficient Y (a tiny data set) has no Cholesky factor: then T maps Y onto the
    eigenvectors of its nonzero eigenvalues and the other columns of Y T are zero; the
    orthonormalisation of A^T Q on the driver (Householder QR then) fills them, as the local
    engine's QR does.
    """
    try:
        return inverse_cholesky_factor(gram)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(gram)
        keep = values > 1e-10 * max(values.max(), 0.0)
        inverse_roots = np.zeros_like(values)
        inverse_roots[keep] = 1.0 / np.sqrt(values[keep])
        return vectors * inverse_roots
