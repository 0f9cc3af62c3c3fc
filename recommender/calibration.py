"""Calibrated lists (Steck, "Calibrated Recommendations", RecSys 2018): a list's genre mix
follows the profile's, so a visitor whose movies are all animated films gets mostly animated
films, and one who likes horror and comedy gets some of each.

Each movie spreads a weight of 1 evenly over its genres; a set of movies has the mean of its
movies' spreads as its genre mix. The list is built greedily from the best candidates by score:
each step adds the movie that maximises

    (1 - strength) * (sum of the list's scores) - strength * KL(p || q~)

with p the profile's mix, q the list's and q~ = (1 - ALPHA) q + ALPHA p (so that KL stays
finite). ``strength`` 0 is the plain ranking by score.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

ALPHA = 0.01  # Steck's smoothing of the list's mix towards the profile's
CANDIDATES_PER_RESULT = 5  # the greedy pass chooses among the 5 n best by score (at least 100)
# The greedy pass costs n x candidates: past this many results, the rest follow by score (a
# list of the whole catalogue then takes about the time of one of 500).
MAX_CALIBRATED = 500


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
    given) for score and genre mix; the plain top n when ``strength`` is 0 or p has no genre."""
    if strength <= 0 or target.sum() <= 0 or len(candidates) <= 1:
        return candidates[:n]
    if n > MAX_CALIBRATED:
        pool = max(CANDIDATES_PER_RESULT * MAX_CALIBRATED, 100)
        head = calibrated(score, candidates[:pool], shares, target, MAX_CALIBRATED, strength)
        rest = candidates[~np.isin(candidates, head)]
        return np.concatenate([head, rest[: n - len(head)]])
    spread = shares[candidates].toarray().astype(np.float64)
    values = np.asarray(score[candidates], dtype=np.float64)
    chosen: list[int] = []
    mix_sum, score_sum = np.zeros(len(target)), 0.0
    free = np.ones(len(candidates), dtype=bool)
    present = target > 0
    for size in range(1, min(n, len(candidates)) + 1):
        mixes = (1 - ALPHA) * (mix_sum + spread) / size + ALPHA * target
        kl = (target[present] * np.log(target[present] / mixes[:, present])).sum(axis=1)
        gain = (1 - strength) * (score_sum + values) - strength * kl
        gain[~free] = -np.inf
        best = int(np.argmax(gain))  # ties: the earlier candidate, i.e. the better score
        chosen.append(best)
        free[best] = False
        mix_sum += spread[best]
        score_sum += values[best]
    return candidates[np.array(chosen, dtype=np.int64)]
