"""How much more two films' audiences overlap than chance: the series' evidence from the ratings.

overlap(i -> j) = (both - expected) / (raters of i - expected + shrinkage): 1 when every rater of
i rated j, 0 when as many did as chance says. Expected counts each rater of i by how much they
rate (a user who rated a third of the catalogue rated a third of anything, at most all of it),
so heavy raters, who rated everything, do not make every pair of films look related.

At MovieLens-32M size the generator's titles share some 13,000 names, and asking each name's
audiences was most of the series' training time. Most names are not series, and an upper bound
says so from the raters both films share alone (``Audiences.may_overlap``: the expected count
only lowers the overlap), counted for every pair of the small names in one numpy pass; only the
names the bound keeps are asked in full (``Audiences.overlap``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.topn import ranges

# The few raters' shrinkage: a film two people rated does not reach another by luck.
OVERLAP_SHRINKAGE = 2.0
PAIRWISE_FILMS = 12  # up to this many films, raters are matched pair by pair (no scipy overhead)
SHARED_ENTRIES = 4_000_000  # raters of the pairs ``Audiences.shared`` looks at in one pass


def rated_columns(seen: sp.spmatrix) -> sp.csc_matrix:
    """``seen`` by column with only its nonzero entries (a rating), sorted by user: a column's
    indices are then the film's raters. Converted once per training, not per series; only
    whether each was rated is kept (a byte a rating, not the float: 96 MB less at 32M)."""
    seen = sp.csr_matrix(seen, copy=False)
    rated = sp.csr_matrix((seen.data != 0, seen.indices, seen.indptr), shape=seen.shape)
    columns = rated.tocsc()
    del rated
    columns.eliminate_zeros()
    columns.sort_indices()
    return columns


def _counts(values: np.ndarray, length: int) -> np.ndarray:
    """``np.bincount(values, minlength=length)`` a slice at a time: bincount copies 32-bit
    values to 64-bit ones first (256 MB for the 32M raters at once)."""
    counts = np.zeros(length, dtype=np.int64)
    for start in range(0, len(values), SHARED_ENTRIES):
        counts += np.bincount(values[start : start + SHARED_ENTRIES], minlength=length)
    return counts


def _shared(users: np.ndarray, others: np.ndarray) -> int:
    """How many of two sorted, distinct user lists are on both."""
    if len(users) > len(others):
        users, others = others, users
    if not len(users):
        return 0
    at = np.minimum(np.searchsorted(others, users), len(others) - 1)
    return int(np.count_nonzero(others[at] == users))


class Audiences:
    """Who rated each film (users x movies ``seen``, a rating is a nonzero): the raters of
    every film (one CSC copy a training) and how many movies each user rated."""

    def __init__(self, seen: sp.spmatrix):
        self.columns = rated_columns(seen)
        # how many movies each user rated (whole numbers: the expected counts stay exact)
        self.activity = _counts(self.columns.indices, seen.shape[0]).astype(float)
        self.raters = np.diff(self.columns.indptr).astype(np.int64)

    def overlap(self, codes: np.ndarray) -> np.ndarray:
        """overlap[i, j] of films ``codes[i]`` -> ``codes[j]`` (module docstring), on a scale
        up to 1 (all of i's raters rated j)."""
        seen, activity = self.columns, self.activity
        # Plain arrays, not a sparse matrix per series: scipy's overhead per small matrix (about a
        # millisecond) times the thousands of names a large catalogue shares was most of the cost.
        raters_of = [seen.indices[seen.indptr[code] : seen.indptr[code + 1]] for code in codes]
        raters = np.array([len(users) for users in raters_of], dtype=np.float64)
        share = raters / max(float(activity.sum()), 1.0)
        expected = np.zeros((len(codes), len(codes)))
        both = np.diag(raters)
        with np.errstate(divide="ignore"):
            saturates = 1.0 / share  # a rater this active rated film j for sure: min(1, a s_j) = 1
        for i, users in enumerate(raters_of):
            # sum over the film's own raters of min(1, a_u s_j), for every j at once: below the
            # saturating activity a rater adds a_u s_j, above it 1 (sorted, a cumulative sum)
            own = np.sort(activity[users])
            below = np.searchsorted(own, saturates, side="left")
            totals = np.concatenate([[0.0], np.cumsum(own)])
            expected[i] = share * totals[below] + (len(own) - below)
            if len(codes) <= PAIRWISE_FILMS:
                for j in range(i + 1, len(codes)):
                    both[i, j] = both[j, i] = _shared(users, raters_of[j])
        if len(codes) > PAIRWISE_FILMS:  # a name many films share: one sparse product
            columns = sp.csc_matrix(seen[:, codes], dtype=np.float32)
            columns.data[:] = 1.0
            both = (columns.T @ columns).toarray().astype(np.float64)
        return (both - expected) / (raters[:, None] - expected + OVERLAP_SHRINKAGE)

    def shared(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """How many users rated both films of each pair: each of the smaller audience looked
        up among the larger one's, the films' raters keyed (film, user) in one sorted array.
        SHARED_ENTRIES raters at a time (the pairs in order of their larger film, which each
        chunk then keys once): at 32M the pairs' raters in one pass took 285 MB."""
        first, second = np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)
        large = np.where(self.raters[first] <= self.raters[second], second, first)
        order = np.argsort(large, kind="stable")
        work = np.cumsum(self.raters[first[order]] + self.raters[second[order]])
        counts = np.zeros(len(first))
        start = 0
        while start < len(order):
            end = max(start + 1, int(np.searchsorted(work, work[start] + SHARED_ENTRIES)))
            chunk = order[start:end]
            counts[chunk] = self._shared_pairs(first[chunk], second[chunk])
            start = end
        return counts

    def _shared_pairs(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """``shared`` of one chunk of pairs, in one pass."""
        small = np.where(self.raters[first] <= self.raters[second], first, second)
        large = np.where(small == first, second, first)
        films, position = np.unique(large, return_inverse=True)
        users, lengths = self._raters_of(films)
        n_users = np.int64(max(len(self.activity), 1))
        keys = np.repeat(np.arange(len(films), dtype=np.int64), lengths) * n_users + users
        asked, counts = self._raters_of(small)
        pair = np.repeat(np.arange(len(first)), counts)
        queries = position[pair].astype(np.int64) * n_users + asked
        at = np.minimum(np.searchsorted(keys, queries), max(len(keys) - 1, 0))
        found = keys[at] == queries if len(keys) else np.zeros(len(queries), dtype=bool)
        return np.bincount(pair, weights=found, minlength=len(first))

    def may_overlap(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Per pair, at least the larger overlap of the two ways: (both - expected) / (raters -
        expected + shrinkage) falls as expected grows (both <= raters), so expected 0 bounds it."""
        first, second = np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)
        both = self.shared(first, second)
        fewer = np.minimum(self.raters[first], self.raters[second])
        return both / (fewer + OVERLAP_SHRINKAGE)

    def _raters_of(self, films: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the raters of each of ``films``, one film after the other; each film's count)."""
        lengths = self.raters[films]
        return self.columns.indices[ranges(self.columns.indptr[films], lengths)], lengths
