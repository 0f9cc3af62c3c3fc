"""Item neighbourhoods: for every movie, its closest movies, kept as a sparse movies x K matrix.

The product's "fans also liked" scorer links two movies when the same people liked both
(rated them at least ``neighbour_rating``) and keeps, per movie, the neighbours with the highest
shrunk asymmetric cosine (``cosine``): on ml-latest-small Toy Story's first neighbour is Toy
Story 2, The Shining's are Psycho, Alien, The Thing. RP3beta (below) is the evaluation's anchor.

RP3beta (Paudel, Christoffel and Bernstein 2016; as implemented by Dacrema et al. 2019): a
random walk movie -> user -> movie on the graph of who rated what. With P(i->u) = 1/(raters of
i) and P(u->j) = 1/(movies u rated), each raised to ``alpha``,

    W_ij = sum_u P(i->u)^alpha P(u->j)^alpha / (raters of j)^beta

and only each row's ``neighbours`` largest entries are kept. ``beta`` > 0 takes the walk away
from the movies everybody rated: that is what makes the lists specific (the sequel, the other
horror films) instead of the same blockbusters for everyone. A visitor's score for movie j is
the sum of W_ij over the movies i they liked, so a request costs O(profile x neighbours).

The matrix is computed in blocks of rows, each a sparse product of the rating matrix with itself
whose rows are cut to their top K, so memory stays at one block whatever the catalogue: a dense
movies x movies matrix is never built (30 GB at MovieLens-32M).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_all_start_methods, get_context
from typing import Self

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.bundle import csr_arrays, expect_csr
from recommender.model import Model, TrainingConfig
from recommender.scorer import BundleInfo, Request, Scorer
from recommender.titles import quoted_title
from recommender.topn import (  # block_top_k: re-exported, every engine's last step
    ROWS_PER_BLOCK,
    StandIn,
    block_top_k,
    cosine_stand_in,
    product_top_k,
    tie_broken,
)

PARALLEL_NNZ = 1_000_000  # from this many ratings on, blocks run in one process per core
# from this many links on, the compiled product (below it, its 16 passes cost more than they
# save); ml-latest-small's 90,000 links take 0.53 s there against 1.05 s in scipy's blocks
COMPILED_NNZ = 10_000


def rp3beta(ratings: sp.csr_matrix, alpha: float, beta: float, neighbours: int) -> sp.csr_matrix:
    """The top-``neighbours`` RP3beta similarities of every movie (movies x movies, float32).

    ``ratings`` is users x movies; every rating counts as an edge of the graph (its value does
    not matter here: a 2-star rating is still evidence of the same audience).
    """
    edges = _binary(ratings)
    user_degree = np.maximum(np.diff(edges.indptr), 1).astype(np.float32)
    movie_degree = np.maximum(np.bincount(edges.indices, minlength=edges.shape[1]), 1)
    movie_degree = movie_degree.astype(np.float32)
    from_movie = movie_degree ** -np.float32(alpha)  # P(i->u)^alpha, the same for every u
    into_movie = movie_degree ** -np.float32(beta)  # the popularity penalty of the target

    def weigh(block: sp.csr_matrix, rows: np.ndarray) -> None:
        block.data *= from_movie[rows] * into_movie[block.indices]

    walk_weights = user_degree ** -np.float32(alpha)  # sum_u P(u->j)^alpha
    # W_ij = from_movie[i] into_movie[j] x (walk-weighted co-occurrence): a product whose
    # rows the compiled kernel ranks exactly (from_movie[i] is the same along a row)
    scale = tie_broken(into_movie[None, :].astype(np.float64))
    from_row = from_movie.astype(np.float64)
    stand_in = StandIn(
        scale, np.zeros(len(movie_degree), int), lambda rows, low: low * from_row[rows], False
    )
    return top_k_rows(edges, neighbours, weigh, walk_weights, stand_in)


def cosine(
    ratings: sp.csr_matrix, shrinkage: float, neighbours: int, asymmetry: float = 0.5
) -> sp.csr_matrix:
    """Item-kNN: the top-``neighbours`` shrunk (asymmetric) cosine similarities,

        W_ij = co_ij / (n_i^asymmetry n_j^(1 - asymmetry) + shrinkage)

    with co_ij the people who rated both and n_i those who rated i. ``asymmetry`` 0.5 is the
    cosine; below it, a movie j everybody rated is reached less often (a longer tail).
    ``shrinkage`` keeps two movies that share three fans from looking alike.
    """
    edges = _binary(ratings)
    del ratings  # its values (100 MB at 32M) go here when the caller passed the links alone
    counts = np.bincount(edges.indices, minlength=edges.shape[1])
    weigh = cosine_weigh(counts, shrinkage, asymmetry)
    return top_k_rows(edges, neighbours, weigh, None, cosine_stand_in(counts, shrinkage, asymmetry))


def cosine_weigh(
    counts: np.ndarray, shrinkage: float, asymmetry: float
) -> Callable[[sp.csr_matrix, np.ndarray], None]:
    """``weigh`` for ``top_k_rows``: co-occurrence counts to shrunk asymmetric cosines, from
    how many people rated each movie (``counts``; every engine computes the same)."""
    counts = np.asarray(counts, dtype=np.float32)
    source, target = counts ** np.float32(asymmetry), counts ** np.float32(1 - asymmetry)

    def weigh(block: sp.csr_matrix, rows: np.ndarray) -> None:
        block.data /= source[rows] * target[block.indices] + np.float32(shrinkage) + 1e-9

    return weigh


def at_least(ratings: sp.csr_matrix, rating: float) -> sp.csr_matrix:
    """The ratings of ``rating`` or more (all of them for 0): the edges people liked."""
    if rating <= 0:
        return ratings
    kept = sp.csr_matrix(ratings, copy=True)
    kept.data = np.where(kept.data >= rating, kept.data, 0).astype(kept.data.dtype)
    kept.eliminate_zeros()
    return kept


def at_most_per_user(
    ratings: sp.csr_matrix, cap: int, seed: int = 0, user_ids: np.ndarray | None = None
) -> sp.csr_matrix:
    """Each user's ratings, a seeded sample of ``cap`` of them for a user with more.

    The co-occurrence counts cost the sum over users of (their ratings)^2: the few people who
    rated thousands of movies would take most of the time (at MovieLens-32M size, a cap of
    500 keeps 91% of the liked ratings and halves the work) while adding little about any
    one pair of movies. A user keeps the ``cap`` ratings with the smallest hash of (seed,
    userId, movie code) (``user_ids``: the userId of each row; by default the row number), so
    the sample does not depend on which other users are in the matrix: the Spark engine,
    which sees one block of users at a time, draws the same one.
    """
    counts = np.diff(ratings.indptr)
    if cap <= 0 or counts.max(initial=0) <= cap:
        return ratings
    ids = np.arange(len(counts)) if user_ids is None else np.asarray(user_ids)
    heavy = np.flatnonzero(counts > cap)
    over = np.concatenate([np.arange(ratings.indptr[u], ratings.indptr[u + 1]) for u in heavy])
    keys = sample_keys(np.repeat(ids[heavy], counts[heavy]), ratings.indices[over], seed)
    keep = np.ones(ratings.nnz, dtype=bool)
    ends = np.cumsum(counts[heavy])
    for user, end in zip(heavy, ends, strict=True):  # a user's keys are distinct (a bijection)
        mine = keys[end - counts[user] : end]
        start = ratings.indptr[user]
        keep[start : start + len(mine)] = mine <= np.partition(mine, cap - 1)[cap - 1]
    indptr = np.concatenate([[0], np.cumsum(np.minimum(counts, cap), dtype=np.int64)])
    return sp.csr_matrix((ratings.data[keep], ratings.indices[keep], indptr), shape=ratings.shape)


def sample_keys(users: np.ndarray, movies: np.ndarray, seed: int) -> np.ndarray:
    """A well-mixed 64-bit hash of each (seed, user, movie) (SplitMix64's finaliser)."""
    with np.errstate(over="ignore"):
        x = users.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        x ^= movies.astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
        x ^= np.uint64(seed & 0xFFFFFFFFFFFFFFFF) * np.uint64(0x165667B19E3779F9)
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x


def linked_ratings(
    ratings: sp.csr_matrix, config: TrainingConfig, user_ids: np.ndarray | None = None
) -> sp.csr_matrix:
    """The ratings that link movies: those of at least ``neighbour_rating``, at most
    ``neighbour_user_cap`` per user (``user_ids``: each row's userId, for the sample)."""
    liked = at_least(ratings, config.neighbour_rating)
    return at_most_per_user(liked, config.neighbour_user_cap, config.seed, user_ids)


def _binary(ratings: sp.csr_matrix) -> sp.csr_matrix:
    """1 for every rating, on the ratings' own indices and indptr (not copied: 100 MB at 32M)."""
    ratings = ratings if ratings.has_canonical_format else sp.csr_matrix(ratings, copy=True)
    ratings.sum_duplicates()
    ones = np.ones(ratings.nnz, dtype=np.float32)
    return sp.csr_matrix((ones, ratings.indices, ratings.indptr), shape=ratings.shape, copy=False)


@dataclass(frozen=True)
class _Job:
    """What every block of rows needs: the (weighted) movies x users matrix, the users x
    movies one, how many neighbours to keep and how co-occurrence becomes similarity."""

    by_movie: sp.csr_matrix
    edges: sp.csr_matrix
    k: int
    weigh: Callable[[sp.csr_matrix, np.ndarray], None]


_JOB: _Job | None = None  # the job forked workers inherit (fork copies it; nothing is pickled)


def top_k_rows(
    edges: sp.csr_matrix,
    k: int,
    weigh: Callable[[sp.csr_matrix, np.ndarray], None],
    user_weights: np.ndarray | None = None,
    stand_in: StandIn | None = None,
) -> sp.csr_matrix:
    """For every movie, the ``k`` largest positive entries of its row of the co-occurrence
    matrix (sum over users u of w_u x_u,i x_u,j), each first turned into a similarity by
    ``weigh(block, row of each entry)``; the diagonal left out. CSR, float32, columns sorted.

    With a ``stand_in`` (what the similarity is proportional to along a row, or bounded by),
    through the compiled top-n product (``recommender.topn``: the same lists, in threads).
    Without one, ROWS_PER_BLOCK rows at a time, each block a scipy sparse product; with a
    million ratings or more, in one process per core (scipy's sparse product holds the GIL).
    """
    global _JOB
    weighted = edges if user_weights is None else sp.diags(user_weights) @ edges
    n, k = edges.shape[1], max(0, min(k, edges.shape[1] - 1))
    by_movie = weighted.T.tocsr()
    del weighted
    if user_weights is None and np.all(edges.data == 1):  # both all ones: one array serves
        by_movie.data = edges.data  # (100 MB at 32M; neither is written to)
    if stand_in is not None and edges.nnz >= COMPILED_NNZ:
        return from_row_blocks(
            [product_top_k(by_movie, edges, np.arange(n), k, weigh, stand_in)], n
        )
    _JOB = _Job(by_movie, edges, k, weigh)
    starts = range(0, n, ROWS_PER_BLOCK)
    workers = min(os.cpu_count() or 1, 4)
    try:
        if edges.nnz >= PARALLEL_NNZ and workers > 1 and "fork" in get_all_start_methods():
            with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
                parts = list(pool.map(_block_top_k, starts, chunksize=4))
        else:
            parts = [_block_top_k(start) for start in starts]
    finally:
        _JOB = None
    return from_row_blocks(parts, n)


def _block_top_k(start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(neighbours per row, their columns, their similarities) of one block of rows."""
    job = _JOB
    assert job is not None, "top_k_rows sets the job before any block runs"
    rows = np.arange(start, min(start + ROWS_PER_BLOCK, job.edges.shape[1]))
    block = (job.by_movie[rows[0] : rows[-1] + 1] @ job.edges).tocsr()
    return block_top_k(block, rows, job.k, job.weigh)


def from_row_blocks(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n: int
) -> sp.csr_matrix:
    """The movies x movies CSR of ``block_top_k``'s results, in the order of their rows."""
    if not parts:  # an empty catalogue
        return sp.csr_matrix((n, n), dtype=np.float32)
    counts, indices, values = (np.concatenate(part) for part in zip(*parts, strict=True))
    indptr = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])
    return sp.csr_matrix((values, indices, indptr), shape=(n, n))


def _up_to_one(values: np.ndarray) -> np.ndarray:
    """Non-negative ``values`` divided by their largest (all 0 when there is none)."""
    top = float(values.max(initial=0.0))
    return np.maximum(values, 0) / np.float32(top) if top > 0 else np.zeros_like(values)


def profile_scores(matrix: sp.csr_matrix, codes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """sum_i weights[i] * row codes[i] of ``matrix``: one sparse product of the profile's rows."""
    scores = np.zeros(matrix.shape[1], dtype=np.float32)
    for code, weight in zip(codes, weights, strict=True):
        start, end = matrix.indptr[code], matrix.indptr[code + 1]
        scores[matrix.indices[start:end]] += np.float32(weight) * matrix.data[start:end]
    return scores


def links_between(matrix: sp.csr_matrix, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``matrix[rows][:, columns]`` as a dense float32 array, read row by row (the bundle's
    float16 values, memory-mapped, are not copied whole as scipy's indexing would)."""
    links = np.zeros((len(rows), len(columns)), dtype=np.float32)
    order = np.argsort(columns, kind="stable")
    ranked = np.asarray(columns)[order]
    for place, row in enumerate(rows):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        found = np.minimum(np.searchsorted(ranked, matrix.indices[start:end]), len(ranked) - 1)
        hit = ranked[found] == matrix.indices[start:end] if len(ranked) else found < 0
        links[place, order[found[hit]]] = matrix.data[start:end][hit]
    return links


class NeighbourScorer(Scorer):
    """Fans also liked: the shrunk-cosine neighbours (``cosine``) of the liked movies; a
    disliked movie pushes its own neighbours down (and nothing else)."""

    name = "neighbours"
    label = "Fans also liked"
    help = "Movies that the fans of your movies liked too, favouring the less obvious ones"
    default_weight = 0.2
    tuning_weights = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)

    unit_range = True  # its own scale: 1 for the strongest link, -1 for the most pushed away

    def __init__(
        self,
        similar: sp.csr_matrix,
        titles: np.ndarray,
        dislike_weight: float,
        sharpness: float = 1.0,
    ):
        self.similar = similar
        self.titles = titles
        self.dislike_weight = dislike_weight
        self.sharpness = sharpness

    @classmethod
    def from_training(cls, model: Model, config: TrainingConfig) -> Self:
        similar = cosine(  # the links passed alone: cosine drops their values once binary
            linked_ratings(model.data.ratings, config, model.data.user_ids),
            config.neighbour_shrinkage,
            config.neighbours,
            config.neighbour_asymmetry,
        )
        return cls.from_similar(similar, model.data.movies, config)

    @classmethod
    def from_similar(
        cls, similar: sp.csr_matrix, movies: pd.DataFrame, config: TrainingConfig
    ) -> Self:
        """The scorer for neighbours computed elsewhere (the Spark engine's executors)."""
        titles = movies["title"].to_numpy()
        return cls(similar, titles, config.dislike_weight, config.neighbour_sharpness)

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], info: BundleInfo) -> Self:
        similar = expect_csr(arrays, (len(info.movies), len(info.movies)))
        titles = info.movies["title"].to_numpy()
        params = info.parameters
        dislike, sharpness = params.get("dislike_weight", 0.0), params.get("neighbour_sharpness", 1)
        return cls(similar, titles, float(dislike), float(sharpness))

    def to_arrays(self) -> dict[str, np.ndarray]:
        # float16: 3 significant digits rank the links as well (docs/scale.md), in half the bytes
        return csr_arrays(self.similar, np.float16)

    def scores(self, request: Request) -> np.ndarray:
        """The liked movies' links on 0-1 (the strongest is 1), raised to ``sharpness`` so
        that only strong links (the sequel, the same director's next film) stand out; minus the
        disliked movies' links on 0 to ``dislike_weight``: only a disliked movie's own
        neighbours go down, so a dislike never turns the rest of the list around."""
        liked = request.liked
        links = profile_scores(self.similar, request.codes[liked], request.weights[liked])
        scores = _up_to_one(links) ** np.float32(self.sharpness)
        disliked = request.weights < 0
        if self.dislike_weight > 0 and disliked.any():
            strength = np.abs(request.weights[disliked])
            pushed = profile_scores(self.similar, request.codes[disliked], strength)
            scores -= _up_to_one(pushed) * np.float32(self.dislike_weight * strength.max())
        return scores

    def reasons(self, codes: np.ndarray, request: Request) -> list[str | None]:
        """ "often liked with X": X the liked movie whose link to it is strongest."""
        liked = np.flatnonzero(request.weights > 0)
        if len(liked) == 0:
            return [None] * len(codes)
        links = links_between(self.similar, request.codes[liked], codes)
        links *= request.weights[liked, None]
        reasons: list[str | None] = []
        for column in range(len(codes)):
            best = int(np.argmax(links[:, column]))
            strongest = quoted_title(self.titles[request.codes[liked[best]]])
            reasons.append(f"often liked with {strongest}" if links[best, column] > 0 else None)
        return reasons
