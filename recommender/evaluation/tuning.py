"""Choosing the defaults on validation users drawn from the train users only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import product
from typing import Any

import pandas as pd

from recommender import training
from recommender.data import Dataset
from recommender.evaluation.harness import (
    Progress,
    ScoreFn,
    fit_local,
    harness_scorers,
    mean,
    quiet,
    rank,
)
from recommender.evaluation.splits import TUNE_PROFILE_SIZES, Validation, validation_set
from recommender.hybrid import Recommender, blend
from recommender.registry import SCORERS
from recommender.scorer import Scorer
from recommender.training import TrainingConfig, default_weights, in_memory_bundle

Blend = tuple[tuple[str, float], ...]  # (scorer name, weight) pairs: hashable, one per scorer

# Searched in stages (see ``tune``); the factors stop at 160 because the bundle must stay under
# 10 MB on ml-latest-small (item factors are movies x k float32: 6.2 MB at k = 160).
TUNE_GRID: dict[str, Sequence[Any]] = {
    # (variant, item_norm_exponent, factors): one SVD each; "centered" is measured at two
    # sizes only, as evidence: it ranks at half the NDCG of "pure"
    "svd": [("pure", alpha, k) for alpha in (0.0, 0.25, 0.5) for k in (64, 128, 160)]
    + [("centered", 0.0, 64), ("centered", 0.0, 160)],
    "shrinkage": (0.0, 0.1, 0.3, 1.0),
    "shrinkage_decay": (0.0, 0.5, 1.0),
    "neutral_rating": (0.0, 2.5, 3.0, 3.5),
    "popularity_quantile": (0.75, 0.9, 0.95, 0.98),
}

PERSONAL_ONLY: Blend = (("personal", 1.0),)  # the SVD stage scores the fold-in alone
# Among blends within BLEND_TOLERANCE of the best, the one with the most weight on this scorer
# wins: its reasons ("Sci-Fi like Alien") are ones a visitor can check, and it keeps the
# obvious genre neighbours in the list (Toy Story 2 for Toy Story).
PREFERRED_WHEN_TIED = "content"

BLEND_TOLERANCE = 0.005  # validation NDCG@20 differences below this are noise (see tune)


def blend_grid(scorers: Sequence[type[Scorer]] = SCORERS) -> list[Blend]:
    """Every blend the tuning tries: each scorer's ``tuning_weights`` in turn, the scorer
    without any (the remainder) taking 1 minus the others, so that the weights sum to 1."""
    free = [scorer for scorer in scorers if scorer.tuning_weights is not None]
    remainder = [scorer.name for scorer in scorers if scorer.tuning_weights is None][:1]
    blends = []
    for weights in product(*(scorer.tuning_weights or () for scorer in free)):
        total = sum(weights)
        if (remainder and total >= 1.0) or (not remainder and total <= 0):
            continue
        chosen = dict(zip((scorer.name for scorer in free), weights, strict=True))
        chosen.update({name: round(1.0 - total, 6) for name in remainder})
        blends.append(tuple((scorer.name, chosen[scorer.name]) for scorer in scorers))
    return blends


def validation_ndcg(
    recommender: Recommender,
    validation: Validation,
    k: int,
    weights: Sequence[Blend],
) -> dict[Blend, dict[str, float]]:
    """Validation NDCG@k of several blends, per profile size and their mean (the criterion)."""
    scorers: dict[str, ScoreFn] = {
        str(w): (lambda case, scored, w=w: blend(scored.parts, dict(w))) for w in weights
    }
    figures: dict[Blend, dict[str, float]] = {w: {} for w in weights}
    for size, cases in validation.cases.items():
        results = rank(recommender, cases, scorers, k)
        for w in weights:
            ndcg = mean(row[f"NDCG@{k}"] for row in results[str(w)].rows)
            figures[w][f"NDCG@{k} profile {size}"] = ndcg
    for w in weights:
        figures[w]["criterion"] = mean(figures[w].values())
    return figures


def tune(
    data: Dataset,
    *,
    k: int = 20,
    seed: int = 0,
    grid: dict[str, Sequence[Any]] | None = None,
    progress: Progress = quiet,
) -> tuple[TrainingConfig, pd.DataFrame]:
    """Choose the defaults by NDCG@k on validation users drawn from the train users only.

    The criterion is the mean validation NDCG@k over profiles of 1, 3, 5 and 10 movies. Search
    in stages, each keeping the best of the one before: (1) the SVD (variant, column
    normalisation, k) and the fold-in (shrinkage and its decay with the profile's length),
    scored by personal CF alone; (2) how profile ratings weigh
    (the neutral rating) with the blend weights; (3) the popularity quantile, scored by
    popularity alone (it sets the cold-start list and the popularity scorer). Returns the
    chosen config and every validation figure.
    """
    grid = {**TUNE_GRID, **(grid or {})}
    validation = validation_set(data, seed)
    start = TrainingConfig()
    best, svd_rows = _tune_svd(validation, start, grid, k, progress)
    best, blend_rows = _tune_blend(validation, best, grid, k, progress)
    best, popularity_rows = _tune_popularity(validation, best, grid, k, progress)
    table = pd.DataFrame(svd_rows + blend_rows + popularity_rows)
    table.insert(0, "validation_users", len(validation.cases[TUNE_PROFILE_SIZES[-1]]))
    return best, table


def _tune_svd(
    validation: Validation, base: TrainingConfig, grid: dict, k: int, progress: Progress
) -> tuple[TrainingConfig, list[dict[str, Any]]]:
    rows, best, best_value = [], base, -1.0
    for variant, exponent, factors in grid["svd"]:
        config = replace(base, variant=variant, item_norm_exponent=exponent, factors=factors)
        model = training.fit(validation.train, config, {}, quiet)
        for shrinkage, decay in _shrinkages(grid):
            shrunk = replace(config, shrinkage=shrinkage, shrinkage_decay=decay)
            recommender = Recommender(in_memory_bundle(model, shrunk))
            figures = validation_ndcg(recommender, validation, k, [PERSONAL_ONLY])
            rows.append({"stage": "svd", **_params(shrunk), **figures[PERSONAL_ONLY]})
            if figures[PERSONAL_ONLY]["criterion"] > best_value:
                best, best_value = shrunk, figures[PERSONAL_ONLY]["criterion"]
        progress(f"  svd {variant} alpha={exponent} k={factors}: best {best_value:.4f}")
    return best, rows


def _shrinkages(grid: dict) -> list[tuple[float, float]]:
    """(shrinkage, decay) pairs; without shrinkage the decay has nothing to act on."""
    return [
        (shrinkage, decay)
        for shrinkage in grid["shrinkage"]
        for decay in grid["shrinkage_decay"]
        if shrinkage > 0 or decay == grid["shrinkage_decay"][0]
    ]


def _params(config: TrainingConfig) -> dict[str, Any]:
    names = ("variant", "item_norm_exponent", "factors", "shrinkage", "shrinkage_decay")
    names += ("neutral_rating", "popularity_quantile")
    weights = {f"{name}_weight": weight for name, weight in default_weights(config).items()}
    return {**{name: getattr(config, name) for name in names}, **weights}


def _tune_blend(
    validation: Validation, base: TrainingConfig, grid: dict, k: int, progress: Progress
) -> tuple[TrainingConfig, list[dict[str, Any]]]:
    weights = list(grid.get("blends") or blend_grid())
    model = training.fit(validation.train, base, {}, quiet)
    rows, candidates = [], []
    for neutral in grid["neutral_rating"]:
        config = replace(base, neutral_rating=neutral)
        figures = validation_ndcg(
            Recommender(in_memory_bundle(model, config)), validation, k, weights
        )
        for chosen_weights, values in figures.items():
            chosen = replace(config, weights=chosen_weights)
            rows.append({"stage": "blend", **_params(chosen), **values})
            candidates.append((values["criterion"], chosen))
    best = _preferred_within_noise(candidates)
    progress(f"  blend: {dict(best.weights)}, neutral rating {best.neutral_rating}")
    return best, rows


def _preferred_within_noise(candidates: list[tuple[float, TrainingConfig]]) -> TrainingConfig:
    """The blend with the most weight on PREFERRED_WHEN_TIED among those within
    BLEND_TOLERANCE of the best.

    Blends this close are a tie at this data size (the paired standard error of NDCG@20 is
    0.003-0.006), so the tie goes to the blend whose reasons a visitor can check.
    """
    top = max(value for value, _ in candidates)
    close = [(value, config) for value, config in candidates if value >= top - BLEND_TOLERANCE]

    def preference(item: tuple[float, TrainingConfig]) -> tuple[float, float]:
        return dict(item[1].weights).get(PREFERRED_WHEN_TIED, 0.0), item[0]

    return max(close, key=preference)[1]


def _tune_popularity(
    validation: Validation, base: TrainingConfig, grid: dict, k: int, progress: Progress
) -> tuple[TrainingConfig, list[dict[str, Any]]]:
    rows, best, best_value = [], base, -1.0
    for quantile in grid["popularity_quantile"]:
        config = replace(base, popularity_quantile=quantile)
        recommender = fit_local(validation.train, replace(config, factors=1))
        scorer = harness_scorers(recommender, None, 0)["popularity"]
        values: dict[str, float] = {}
        for size, cases in validation.cases.items():
            results = rank(recommender, cases, {"popularity": scorer}, k)
            ndcg = mean(row[f"NDCG@{k}"] for row in results["popularity"].rows)
            values[f"NDCG@{k} profile {size}"] = ndcg
        values["criterion"] = mean(values.values())
        rows.append({"stage": "popularity", **_params(config), **values})
        if values["criterion"] > best_value:
            best, best_value = config, values["criterion"]
    progress(f"  popularity quantile {best.popularity_quantile}: {best_value:.4f}")
    return best, rows
