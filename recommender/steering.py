"""What a visitor steers besides the blend: films they are not interested in, and a tilt of the
ranking towards recent films or classics.

- ``exclude``: movieIds that must never come back (the page's "Not interested"). They are
  taken out of what may be recommended before any scorer runs, so they cannot take a place in
  the list, the genre calibration's pool or a score's 0-1 scale. Not a dislike: a dislike is a
  rating, and moves the film's neighbours; an excluded film moves nothing else.
- ``recency`` r, -1 (classics) ... 0 (no preference) ... +1 (recent): multiplies the blended
  score (0-1) by ``1 + r * RECENCY_STRENGTH * (2 p - 1)``, p the movie's release year as a
  percentile of the catalogue's years (0: the oldest, 1: the newest; 0.5 for a movie without a
  year). A tilt, not a cut: a strong match from the other end still makes the list (the year
  filter is the cut), and a weak match stays weak (an added tilt can lift a barely matching
  film of the right years over better ones; on validation users both traded years for NDCG
  about alike: ``benchmarks/recency.py --validation --added``).
  Percentiles rather than years, because the catalogue is crowded in its last decades: a
  linear year scale would barely tell 1995 from 2015.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

# How much recency +-1 scales the score of a movie of the newest or oldest year (+-40%).
# Chosen on validation users (benchmarks/recency.py --validation, steps of 0.1): the smallest
# strength whose median year of the top 20 moves at least 5 years each way at 5 movies, with
# NDCG@20 >= 0.8x recency 0's, ranked at the default discovery (0.4: -5.1 / +5.1 years,
# 0.91x / 0.85x since the list is calibrated on decades too; 0.3 moves 4.4 / 3.6 years).
RECENCY_STRENGTH = 0.4
NO_EXCLUSIONS: tuple[int, ...] = ()


def recency(value: Any) -> float:
    """A caller's recency: a finite number within -1 (classics) and +1 (recent films)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"recency must be a number, -1 (classics) to 1 (recent), got {value!r}")
    if not math.isfinite(value) or not -1.0 <= value <= 1.0:
        raise ValueError(f"recency must be from -1 (classics) to 1 (recent), got {value!r}")
    return float(value)


def year_positions(years: pd.Series) -> np.ndarray:
    """Each movie's release year as a percentile of the catalogue's (0-1, ties share their
    middle rank); 0.5 for a movie without a known year."""
    known = years.notna().to_numpy()
    positions = np.full(len(years), 0.5, dtype=np.float32)
    if known.sum() > 1:
        ranks = years[known].rank(method="average").to_numpy()
        positions[known] = (ranks - 1) / (known.sum() - 1)
    return positions


class Steering:
    """The steering of one catalogue: movieIds to codes, years to positions."""

    def __init__(
        self,
        codes_of: Callable[[Iterable[int]], np.ndarray],
        years: pd.Series,
        strength: float = RECENCY_STRENGTH,
    ):
        self._codes_of = codes_of  # movieIds to movie codes (``Recommender.codes_of``)
        self.positions = year_positions(years)
        self.strength = strength  # how much recency +-1 scales the newest or oldest films

    def excluded(self, exclude: Iterable[int] | None) -> np.ndarray:
        """Movie codes of the movieIds in ``exclude``; ValueError naming unknown or malformed
        ones, as a profile's are (the same check, prefixed "exclude:")."""
        if exclude is None:
            return np.zeros(0, dtype=np.int64)
        if isinstance(exclude, str | bytes) or not isinstance(exclude, Iterable):
            raise ValueError(f"exclude must be a list of movieIds, got {exclude!r}")
        try:
            return self._codes_of(exclude)
        except ValueError as error:
            raise ValueError(f"exclude: {error}") from None

    def leave_out(self, allowed: np.ndarray, exclude: Iterable[int] | None) -> np.ndarray:
        """``allowed`` (changed in place and returned) without the excluded movies."""
        allowed[self.excluded(exclude)] = False
        return allowed

    def tilt(self, score: np.ndarray, recency_value: float) -> np.ndarray:
        """``score`` tilted by release year (a new array; ``score`` itself at recency 0)."""
        r = recency(recency_value)
        if r == 0:
            return score
        tilt = (r * self.strength) * (2.0 * self.positions - 1.0)
        return (score + tilt * np.abs(score)).astype(np.float32)
