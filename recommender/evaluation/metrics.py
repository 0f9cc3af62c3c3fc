"""Top-k ranking and rating-prediction metrics: small pure functions.

Conventions follow LensKit: a list is judged on its first ``k`` items; relevance is binary (a
movie is relevant when it is among the user's targets); a user with no targets gets NaN and a
``MetricWarning`` (never a silent 0 or a crash), and the caller averages with ``nanmean``.
Recall@k and MAP@k divide by min(number of targets, k), the best a list of k items can reach,
so a perfect list scores 1 even when the user has more targets than k.
Rankings are given as sequences of ids, best first; ties must already be broken (the
recommender breaks them by the lower movieId).
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Iterable, Sequence

import numpy as np


class MetricWarning(UserWarning):
    """A metric was asked for a case it cannot judge (e.g. no targets); the result is NaN."""


def _hits(ranked: Sequence[int], relevant: Collection[int], k: int) -> np.ndarray:
    """1.0 where the i-th of the first k ranked items is relevant, else 0.0."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    relevant = set(relevant)
    return np.array([float(item in relevant) for item in list(ranked)[:k]], dtype=np.float64)


def _no_targets(name: str) -> float:
    message = f"{name}: the user has no targets; the result is NaN"
    warnings.warn(message, MetricWarning, stacklevel=3)
    return float("nan")


def precision_at_k(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Relevant items among the first k, divided by k (a list shorter than k is not padded)."""
    if not relevant:
        return _no_targets("Precision@k")
    return float(_hits(ranked, relevant, k).sum() / k)


def recall_at_k(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Relevant items among the first k, divided by min(len(relevant), k)."""
    if not relevant:
        return _no_targets("Recall@k")
    return float(_hits(ranked, relevant, k).sum() / min(len(set(relevant)), k))


def ndcg_at_k(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Binary-relevance NDCG: sum of 1/log2(rank + 1) over hits, over the best possible sum."""
    if not relevant:
        return _no_targets("NDCG@k")
    hits = _hits(ranked, relevant, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = discounts[: min(len(set(relevant)), k)].sum()
    return float((hits * discounts[: len(hits)]).sum() / ideal)


def average_precision_at_k(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Mean of Precision@i over the ranks i of the hits, divided by min(len(relevant), k)."""
    if not relevant:
        return _no_targets("MAP@k")
    hits = _hits(ranked, relevant, k)
    precisions = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precisions * hits).sum() / min(len(set(relevant)), k))


def catalogue_coverage(lists: Iterable[Sequence[int]], n_items: int) -> float:
    """Share of the catalogue that appears in at least one list."""
    if n_items < 1:
        raise ValueError(f"n_items must be at least 1, got {n_items}")
    shown: set[int] = set()
    for ranked in lists:
        shown.update(int(item) for item in ranked)
    return len(shown) / n_items


def popularity_ranks(counts: np.ndarray) -> np.ndarray:
    """Rank of each item by its number of ratings: 1 = most rated; ties share their mean rank."""
    counts = np.asarray(counts, dtype=np.float64)
    order = np.argsort(-counts, kind="stable")
    ranks = np.empty(len(counts), dtype=np.float64)
    ranks[order] = np.arange(1, len(counts) + 1)
    # ties: every item with the same count gets the mean of the ranks they span
    _, inverse = np.unique(-counts, return_inverse=True)
    sums = np.bincount(inverse, weights=ranks)
    sizes = np.bincount(inverse)
    return sums[inverse] / sizes[inverse]


def mean_popularity_rank(lists: Iterable[Sequence[int]], ranks: np.ndarray) -> float:
    """Novelty: the mean popularity rank of every recommended item (higher = less obvious)."""
    items = [int(item) for ranked in lists for item in ranked]
    if not items:
        return float("nan")
    return float(np.mean(np.asarray(ranks)[items]))


def rmse(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Root mean squared error (NaN for no pairs)."""
    errors = np.asarray(predicted, np.float64) - np.asarray(actual, np.float64)
    return float(np.sqrt(np.mean(errors**2))) if errors.size else float("nan")


def mae(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Mean absolute error (NaN for no pairs)."""
    errors = np.asarray(predicted, np.float64) - np.asarray(actual, np.float64)
    return float(np.mean(np.abs(errors))) if errors.size else float("nan")


# --- what a fan notices: the long tail, how alike lists are, genre calibration -------------


def tail_ndcg_at_k(
    ranked: Sequence[int], relevant: Collection[int], head: Collection[int], k: int
) -> float:
    """NDCG@k counting only the targets outside ``head`` (the most-rated movies): do the
    films a user liked that few others saw come up? NaN when the user has none."""
    return ndcg_at_k(ranked, set(relevant) - set(head), k)


def jaccard_overlap(lists: Sequence[Sequence[int]]) -> float:
    """The mean Jaccard overlap |A & B| / |A | B| of every pair of lists: 0 when no two users
    see the same movie, 1 when everyone sees the same list (NaN for fewer than two lists)."""
    lists = [sorted({int(item) for item in ranked}) for ranked in lists]
    if len(lists) < 2:
        return float("nan")
    items = {item: column for column, item in enumerate(sorted(set().union(*lists)))}
    rows = np.repeat(np.arange(len(lists)), [len(ranked) for ranked in lists])
    columns = np.array([items[item] for ranked in lists for item in ranked], dtype=np.int64)
    incidence = np.zeros((len(lists), len(items)), dtype=np.float32)
    incidence[rows, columns] = 1.0
    shared = incidence @ incidence.T
    sizes = incidence.sum(axis=1)
    union = sizes[:, None] + sizes[None, :] - shared
    pairs = np.triu_indices(len(lists), k=1)
    return float(np.mean(shared[pairs] / np.maximum(union[pairs], 1.0)))


def genre_distribution(genre_shares: np.ndarray, items: Sequence[int]) -> np.ndarray:
    """Steck's p(g | items): the mean of each item's genre distribution, an item spreading 1
    evenly over its genres (``genre_shares`` is items x genres, rows summing to 1 or 0)."""
    if len(items) == 0:
        return np.zeros(genre_shares.shape[1])
    return np.asarray(genre_shares[np.asarray(items)].mean(axis=0)).ravel()


def miscalibration(profile: np.ndarray, recommended: np.ndarray, alpha: float = 0.01) -> float:
    """Steck (2018): KL(p || q~), q~ = (1 - alpha) q + alpha p, of the profile's genre mix p
    and the list's q. 0 when the list has the profile's mix; NaN for a profile without genres."""
    p = np.asarray(profile, dtype=np.float64)
    if p.sum() <= 0:
        return float("nan")
    q = (1 - alpha) * np.asarray(recommended, dtype=np.float64) + alpha * p
    present = p > 0
    return float(np.sum(p[present] * np.log(p[present] / q[present])))


def popularity_percentiles(counts: np.ndarray) -> np.ndarray:
    """Each item's popularity as a percentile of the catalogue: 100 = the most rated, 0 = the
    least (ties share their mean rank)."""
    ranks = popularity_ranks(counts)  # 1 = most rated
    n = len(ranks)
    return 100.0 * (n - ranks) / max(n - 1, 1)
