"""Popularity for cold start: the IMDB weighted rating.

WR = v/(v+m) * R + m/(v+m) * C, where v is a movie's number of ratings, R its mean rating,
C the mean of all movies' mean ratings and m the vote count at a quantile (0.9 by default):
a movie needs many ratings before its own mean outweighs the prior C.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


def weighted_rating(votes: np.ndarray, mean: np.ndarray, m: float, prior: float) -> np.ndarray:
    """IMDB weighted rating of each movie; a movie with no votes gets the prior."""
    votes = np.asarray(votes, dtype=np.float64)
    mean = np.nan_to_num(np.asarray(mean, dtype=np.float64), nan=prior)
    return votes / (votes + m) * mean + m / (votes + m) * prior


@dataclass(frozen=True)
class Popularity:
    """Per-movie rating statistics and their weighted rating (index = movie code)."""

    n_ratings: np.ndarray  # int32
    mean_rating: np.ndarray  # float32, NaN for unrated movies
    score: np.ndarray  # float32 weighted rating
    min_votes: float  # m
    prior: float  # C

    @property
    def qualified(self) -> np.ndarray:
        """Codes of movies with at least m ratings, best weighted rating first."""
        codes = np.flatnonzero(self.n_ratings >= self.min_votes)
        return codes[np.lexsort((codes, -self.score[codes]))]


def fit_popularity(ratings: sp.csr_matrix, quantile: float = 0.9) -> Popularity:
    """Weighted-rating statistics from a users x movies rating matrix.

    m is the ``quantile`` of the vote counts of rated movies (never below 1, so a single rating
    cannot qualify a movie in a tiny data set); C is the mean of rated movies' mean ratings.
    """
    # Per-column counts and sums by bincount: tocsc() would copy the whole matrix (256 MB and
    # several seconds at MovieLens-32M) only to read its column pointers.
    movies = ratings.shape[1]
    votes = np.bincount(ratings.indices, minlength=movies)
    sums = np.bincount(ratings.indices, weights=ratings.data, minlength=movies)
    return popularity_from_sums(votes, sums, quantile)


def popularity_from_sums(votes: np.ndarray, sums: np.ndarray, quantile: float = 0.9) -> Popularity:
    """Weighted-rating statistics from each movie's vote count and sum of ratings.

    The Spark engine computes the counts and sums with Spark SQL aggregates and shares the rest.
    """
    if not 0.0 <= quantile < 1.0:
        raise ValueError(f"quantile must be in [0, 1), got {quantile}")
    votes = np.asarray(votes).astype(np.int32)
    sums = np.asarray(sums, dtype=np.float64)
    rated = votes > 0
    mean = np.full(votes.shape, np.nan)
    mean[rated] = sums[rated] / votes[rated]
    min_votes = max(1.0, float(np.quantile(votes[rated], quantile))) if rated.any() else 1.0
    prior = float(mean[rated].mean()) if rated.any() else 0.0
    score = weighted_rating(votes, mean, min_votes, prior)
    return Popularity(votes, mean.astype(np.float32), score.astype(np.float32), min_votes, prior)


def popular_sample(
    popularity: Popularity,
    n: int,
    seed: int | None,
    pool_size: int = 100,
    allowed: np.ndarray | None = None,
) -> np.ndarray:
    """A reproducible random sample of n movies from the top ``pool_size`` qualified movies.

    The sample is shown in popularity order. With seed None the plain top n is returned.
    ``allowed`` (a boolean mask over movies) restricts the choice, e.g. to some genres.
    """
    allowed = np.ones(len(popularity.score), bool) if allowed is None else allowed
    qualified = popularity.qualified
    pool = qualified[allowed[qualified]][:pool_size]
    if len(pool) < n:  # a tiny data set or a narrow filter: fill with the best of the rest
        rest = np.lexsort((np.arange(len(popularity.score)), -popularity.score))
        rest = rest[allowed[rest] & ~np.isin(rest, pool)]
        pool = np.concatenate([pool, rest[: n - len(pool)]])
    if seed is None or len(pool) <= n:
        return pool[:n]
    picked = np.random.default_rng(seed).choice(len(pool), size=n, replace=False)
    return pool[np.sort(picked)]
