"""Discovery: one control from "what most people with this taste watch next" (0) to "hidden
gems that fit the taste" (1).

A random hold-out rewards the crowd: with one or three movies the lists that find most of what a
person watched next are co-occurrence and popularity (RP3beta without its popularity penalty,
the count of likes). A fan wants the opposite end: films of the same kind that fewer people
saw. ``discovery`` moves the ranking along a straight path between two blends instead of
filtering one list, so every step between is a ranking of its own:

- the **popular end** (0) blends the personal fold-in with "liked by everyone" (general CF),
  whose weight is divided by the number of liked profile movies: a one-movie profile leans on
  the crowd, ten movies hardly at all; no genre calibration; a bonus for popular films;
- the **hidden-gems end** (1) is the visitor's blend (the bundle's default weights, or the
  caller's ``weights``) with the bundle's genre calibration and a penalty for popular films;
- between them the weights, the calibration strength and the popularity term are interpolated
  linearly in ``d``.

The popularity term is by log-count, ``log(1 + ratings) / log(1 + most ratings)`` on 0-1: the
additive form of RP3beta's ``ratings^-beta``. It separates the head (a film with 300 ratings
from one with 40) where a percentile would not (both sit above the 99th).

The bundle's default ``d`` (``DISCOVERY_PARAMETER`` in the manifest's parameters) is chosen on
validation users by the rule in ``recommender.evaluation.objectives``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from recommender import arguments
from recommender.popularity import Popularity
from recommender.scorer import ScoredProfile, blend

DISCOVERY_PARAMETER = "discovery"
FALLBACK_DISCOVERY = 1.0  # a bundle trained before discovery existed: its own blend (and a penalty)
DISCOVERY_STEPS = (0.0, 0.25, 0.5, 0.75, 1.0)  # the curve the evaluation prints

# The popular end, chosen on validation users (docs/evaluation.md, "Discovery"): the fold-in
# with the crowd; CROWD's weight is divided by the number of liked profile movies.
POPULAR_END: Mapping[str, float] = {"personal": 0.6, "general_cf": 0.4}
CROWD = "general_cf"
# Kept at the blend's share at both ends: the next film of a series a visitor liked is what most
# people with that taste watch next too, and a disliked series stays down whatever the setting.
KEPT = ("series",)
GEMS_BETA = 0.2  # at d = 1 a positive score is divided by (1 + ratings)^GEMS_BETA
COLD_START_SPAN = 0.4  # the cold-start list's exponent of (1 + ratings) per unit of discovery


@dataclass(frozen=True)
class Discovered:
    """The score a discovery setting ranks by and the genre calibration it ranks with."""

    score: np.ndarray
    calibration: float


def log_popularity(n_ratings: np.ndarray) -> np.ndarray:
    """Each movie's log(1 + its number of ratings): the penalty's exponent base."""
    return np.log1p(np.maximum(np.asarray(n_ratings, np.float64), 0.0)).astype(np.float32)


def weights_at(d: float, chosen: Mapping[str, float], liked: int) -> dict[str, float]:
    """The blend weights at discovery ``d``: the popular end's (the crowd's weight over the
    number of ``liked`` profile movies) and ``chosen`` mixed, each as shares summing to 1."""
    popular = {
        name: weight / max(liked, 1) if name == CROWD else weight
        for name, weight in POPULAR_END.items()
    }
    chosen = shares(chosen)
    kept = {name: chosen[name] for name in KEPT if name in chosen}
    popular = {name: w * (1.0 - sum(kept.values())) for name, w in shares(popular).items()}
    names = dict.fromkeys([*chosen, *popular])
    return {
        name: kept[name]
        if name in kept
        else (1 - d) * popular.get(name, 0.0) + d * chosen.get(name, 0.0)
        for name in names
    }


def shares(weights: Mapping[str, float]) -> dict[str, float]:
    """Relative weights as shares summing to 1 (scaled to a largest of 1 first, so that weights
    like 1e-320 neither underflow nor lose their ratios)."""
    scale = max(weights.values(), default=0.0) or 1.0
    scaled = {name: weight / scale for name, weight in weights.items()}
    total = sum(scaled.values()) or 1.0
    return {name: weight / total for name, weight in scaled.items()}


def popularity_beta(d: float) -> float:
    """The popularity penalty's exponent at discovery ``d``: 0 at the popular end, growing as
    d squared so that the middle of the path keeps most of the blend's accuracy."""
    return d * d * GEMS_BETA


def discovered(
    parts: Mapping[str, np.ndarray],
    chosen: Mapping[str, float],
    d: float,
    liked: int,
    popularity: np.ndarray,
    calibration: float,
) -> Discovered:
    """What a request at discovery ``d`` ranks by: the parts (0-1 each) blended by
    ``weights_at``, what a dislike pushes below 0 at ``chosen``'s shares whatever ``d``, a
    positive score divided by (1 + ratings)^``popularity_beta(d)``
    (``popularity`` is ``log_popularity``); the genre
    calibration grows from 0 at the popular end to ``calibration`` at the other."""
    weights = weights_at(d, chosen, liked)
    # what a dislike pushes below 0 keeps the visitor's blend share at every setting (as the
    # series does): the popular end's parts follow likes only, so near d = 0 a dislike did
    # nothing (docs/evaluation.md, "Discovery")
    liked_part = {name: np.maximum(part, 0) for name, part in parts.items()}
    pushed_part = {name: np.minimum(part, 0) for name, part in parts.items()}
    score = blend(liked_part, weights) + blend(pushed_part, shares(chosen))
    # RP3beta's penalty on what the blend likes: a positive score over (1 + ratings)^beta;
    # a movie a dislike pushes below 0 stays there
    factor = np.exp(-np.float32(popularity_beta(d)) * popularity)
    score = np.where(score > 0, score * factor, score)
    return Discovered(np.asarray(score, np.float32), d * calibration)


class Discovery:
    """A bundle's discovery path: its default setting, the movies' log-popularity, and what
    a request at a setting ranks by (``Recommender.recommend``, ``Recommender.popular``)."""

    def __init__(self, popularity: Popularity, parameters: Mapping[str, Any]):
        self.popularity = popularity
        self.log_popularity = log_popularity(popularity.n_ratings)
        self.default = float(parameters.get(DISCOVERY_PARAMETER, FALLBACK_DISCOVERY))
        self.calibration = float(parameters.get("calibration", 0.0))

    def setting(self, value: float | None) -> float:
        """``value`` checked (``arguments.discovery``), or the bundle's default for None."""
        return self.default if value is None else arguments.discovery(value)

    def scored(
        self, scored: ScoredProfile, chosen: Mapping[str, float], value: float | None
    ) -> Discovered:
        """What a profile's parts rank by at discovery ``value`` with the blend ``chosen``."""
        liked = int(scored.request.liked.sum())
        d = self.setting(value)
        return discovered(scored.parts, chosen, d, liked, self.log_popularity, self.calibration)

    def cold_start(self, value: float | None) -> Popularity:
        """The popularity the cold-start list draws from at discovery ``value``: the weighted
        rating divided by (1 + ratings)^(COLD_START_SPAN (d - default)). At the bundle's
        default it is the weighted rating itself; below it the films most people saw and
        liked come first, above it well-rated films fewer people saw (still only films with
        enough ratings to qualify)."""
        beta = np.float32(COLD_START_SPAN * (self.setting(value) - self.default))
        score = self.popularity.score * np.exp(-beta * self.log_popularity)
        return replace(self.popularity, score=score.astype(np.float32))
