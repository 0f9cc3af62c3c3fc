"""Calibrated lists (Steck, "Calibrated Recommendations", RecSys 2018): a list's genre mix
follows the profile's, so a visitor whose movies are all animated films gets mostly animated
films, and one who likes horror and comedy gets some of each.

Each movie spreads a weight of 1 evenly over its genres; a set of movies has the mean of its
movies' spreads as its genre mix. The list is built greedily from the best candidates by score:
each step adds the movie that maximises

    (1 - strength) * (sum of the list's scores) - strength * KL(p || q~)

with p the profile's mix, q the list's and q~ = (1 - ALPHA) q + ALPHA p (so that KL stays
finite). ``strength`` 0 is the plain ranking by score.

Steck calibrates any attribute; the list is calibrated on three (``attributes``, ``target``),
their divergences summed, each weighed:

- the **genre mix** above;
- the **shared genres**: a genre every liked profile movie has (two or more of them) is what the
  taste is, and the list's share of films with it should be all of them too: a yes/no
  attribute, KL = -log q~ of the list's share with it. The genre mix alone hardly sees it: an
  all-Animation profile's mix is a fifth Animation, and The Lord of the Rings (Adventure and
  Fantasy, as Spirited Away is) fits the other four fifths;
- the **decades**: the mix of the liked movies' decades against the list's (a Kubrick fan's
  1960s-80s against the 1990s' most-rated crime films).

The weights were chosen on the fans written down before tuning (tests/test_discovery.py) and
checked on validation users (docs/evaluation.md, "The leak").
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

ALPHA = 0.01  # Steck's smoothing of the list's mix towards the profile's
CANDIDATES_PER_RESULT = 5  # the greedy pass chooses among the 5 n best by score (at least 100)
# The greedy pass costs n x candidates: past this many results, the rest follow by score (a
# list of the whole catalogue then takes about the time of one of 500).
MAX_CALIBRATED = 500
SHARED_GENRE_WEIGHT = 10.0  # a shared genre's divergence beside the genre mix's (weight 1)
DECADE_WEIGHT = 10.0  # the decades' divergence beside the genre mix's
LEAN = 0.5  # at recency -1 or 1, this share of the decade mix moves one decade


def decade_shares(years: np.ndarray) -> sp.csr_matrix:
    """Movies x decades (from the earliest year's to the latest's): 1 for a movie's decade,
    nothing for a movie without a year; float32."""
    years = np.asarray(years, dtype=np.float64)
    known = np.flatnonzero(np.isfinite(years))
    decade = (years[known] // 10).astype(np.int64)
    first = int(decade.min()) if len(decade) else 0
    width = int(decade.max()) - first + 1 if len(decade) else 0
    ones = np.ones(len(known), dtype=np.float32)
    return sp.csr_matrix((ones, (known, decade - first)), shape=(len(years), width))


def attributes(
    shares: sp.csr_matrix, membership: sp.spmatrix, decades: sp.csr_matrix
) -> sp.csr_matrix:
    """Movies x (genre mix, has each genre, decade), each part times its weight: summed over
    the columns, the list's KL is the weighed sum of the three divergences (a column whose
    target is 0 does not count, so a genre the profile's films do not all share costs
    nothing in the second part)."""
    has = sp.csr_matrix(membership, dtype=np.float32) * np.float32(SHARED_GENRE_WEIGHT)
    era = decades * np.float32(DECADE_WEIGHT)
    return sp.csr_matrix(sp.hstack([shares, has, era]), dtype=np.float32)


def leaned(decades: np.ndarray, recency: float) -> np.ndarray:
    """A decade mix leant by a visitor's ``recency`` (-1 classics ... 1 recent): |recency| of
    it moved one decade earlier (below 0) or later (the first and last decades keep theirs),
    so that the decades part follows the year slider instead of holding the list to the
    profile's own decades."""
    mix = np.asarray(decades, dtype=np.float64)
    if recency == 0 or len(mix) < 2:
        return mix
    if recency < 0:
        moved = np.concatenate([mix[1:], [0.0]])
        moved[0] += mix[0]
    else:
        moved = np.concatenate([[0.0], mix[:-1]])
        moved[-1] += mix[-1]
    share = LEAN * abs(recency)
    return (1 - share) * mix + share * moved


def target(mix: np.ndarray, shared: np.ndarray, decades: np.ndarray) -> np.ndarray:
    """What ``attributes``' columns are drawn to: the profile's genre mix, 1 for each genre
    every liked profile movie has (``shared``, boolean), the liked movies' decade mix."""
    total = decades.sum()
    era = decades / total if total > 0 else np.zeros_like(decades, dtype=np.float64)
    return np.concatenate(
        [mix, np.asarray(shared, np.float64) * SHARED_GENRE_WEIGHT, era * DECADE_WEIGHT]
    )


def genre_shares(membership: sp.spmatrix) -> sp.csr_matrix:
    """Movies x genres: 1 / (number of genres) for each genre a movie has, float32."""
    membership = sp.csr_matrix(membership, dtype=np.float32)
    counts = np.maximum(np.diff(membership.indptr), 1).astype(np.float32)
    return sp.csr_matrix(sp.diags(1.0 / counts) @ membership, dtype=np.float32)


def profile_mix(shares: sp.csr_matrix, codes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The weighted genre mix of profile movies (weights: how much each counts, > 0)."""
    if len(codes) == 0 or weights.sum() <= 0:
        return np.zeros(shares.shape[1])
    mix = np.asarray(weights @ shares[codes].toarray(), dtype=np.float64)
    return mix / weights.sum()


def calibrated(
    score: np.ndarray,
    candidates: np.ndarray,
    shares: sp.csr_matrix,
    target: np.ndarray,
    n: int,
    strength: float,
) -> np.ndarray:
    """The n codes chosen greedily from ``candidates`` (best first by score, ties broken as
    given) for score and genre mix (or any attributes: ``shares`` a movie's, ``target`` the
    profile's, each block of columns summing to its weight); the plain top n when
    ``strength`` is 0 or p has no genre."""
    if strength <= 0 or target.sum() <= 0 or len(candidates) <= 1:
        return candidates[:n]
    if n > MAX_CALIBRATED:
        pool = max(CANDIDATES_PER_RESULT * MAX_CALIBRATED, 100)
        head = calibrated(score, candidates[:pool], shares, target, MAX_CALIBRATED, strength)
        rest = candidates[~np.isin(candidates, head)]
        return np.concatenate([head, rest[: n - len(head)]])
    # only the columns the profile has count in KL(p || q~): the others are never read
    present = np.flatnonzero(target > 0)
    spread = shares[candidates][:, present].toarray().astype(np.float64)
    target = np.asarray(target, dtype=np.float64)[present]
    values = np.asarray(score[candidates], dtype=np.float64)
    chosen: list[int] = []
    mix_sum, score_sum = np.zeros(len(target)), 0.0
    free = np.ones(len(candidates), dtype=bool)
    for size in range(1, min(n, len(candidates)) + 1):
        mixes = (1 - ALPHA) * (mix_sum + spread) / size + ALPHA * target
        kl = (target * np.log(target / mixes)).sum(axis=1)
        gain = (1 - strength) * (score_sum + values) - strength * kl
        gain[~free] = -np.inf
        best = int(np.argmax(gain))  # ties: the earlier candidate, i.e. the better score
        chosen.append(best)
        free[best] = False
        mix_sum += spread[best]
        score_sum += values[best]
    return candidates[np.array(chosen, dtype=np.int64)]
