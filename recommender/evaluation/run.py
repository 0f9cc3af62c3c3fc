"""The whole evaluation: every protocol, the product's scorers beside the tuned anchors."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from recommender.data import Dataset
from recommender.evaluation import metrics
from recommender.evaluation.anchors import ANCHORS, EASE_500, Anchor, label
from recommender.evaluation.baselines import bias_baseline
from recommender.evaluation.harness import (
    FitFn,
    Progress,
    ScoreFn,
    fit_local,
    for_user_scorer,
    harness_scorers,
    paired_differences,
    product_scorers,
    quiet,
    rank,
    sequel_hit_rates,
    summarize,
)
from recommender.evaluation.objectives import RATED_SIZES, SEQUELS
from recommender.evaluation.splits import (
    KNOWN_USER,
    NEW_USER,
    RATED,
    RATED_DROPPED,
    Split,
    known_user_split,
    new_user_split,
    rated_split,
    validation_set,
)
from recommender.evaluation.tuning import tune_anchors
from recommender.hybrid import Recommender
from recommender.training import TrainingConfig

PROTOCOLS = (NEW_USER, RATED, RATED_DROPPED, KNOWN_USER)


def rating_errors(recommender: Recommender, split: Split) -> pd.DataFrame:
    """RMSE and MAE on the held-out ratings of the known-user protocol, per predictor."""
    heldout = split.heldout
    rows = np.searchsorted(split.train.user_ids, heldout["userId"].to_numpy())
    cols = recommender.codes_of(heldout["movieId"].to_numpy())
    actual = heldout["rating"].to_numpy(np.float64)
    mean = float(split.train.ratings.data.mean())
    predictions = {
        "global mean": np.full(len(actual), mean),
        "bias baseline": bias_baseline(split.train.ratings)(rows, cols),
    }
    return pd.DataFrame(
        [
            {
                "predictor": name,
                "ratings": len(actual),
                "RMSE": metrics.rmse(values, actual),
                "MAE": metrics.mae(values, actual),
            }
            for name, values in predictions.items()
        ]
    )


@dataclass
class EvaluationResult:
    """Ranking figures (``table``), rating errors (``ratings``) and how they were made."""

    table: pd.DataFrame
    ratings: pd.DataFrame
    settings: dict[str, Any]
    validation: pd.DataFrame | None = None
    paired: pd.DataFrame | None = None
    seconds: float = 0.0

    def ndcg(self, scorer: str = "hybrid (default)", profile_size: int = 5) -> float:
        """NDCG@k of a scorer in the new-user protocol for one profile size."""
        rows = self.table[
            (self.table["protocol"] == NEW_USER)
            & (self.table["profile_size"] == profile_size)
            & (self.table["scorer"] == scorer)
        ]
        return float(rows[f"NDCG@{self.settings['k']}"].iloc[0])


def evaluate(
    data: Dataset,
    config: TrainingConfig | None = None,
    *,
    profile_sizes: Sequence[int] = (5,),
    k: int = 20,
    seed: int = 0,
    fit: FitFn = fit_local,
    protocols: Sequence[str] = PROTOCOLS,
    scorers: Sequence[str] | None = None,
    progress: Progress = quiet,
) -> EvaluationResult:
    """Evaluate ``fit``'s recommender (the local engine by default) on every protocol.

    The anchors are tuned first, on validation users drawn from the training users only.
    ``scorers`` limits the rows by name (None: all; an anchor's row is its name). Another
    engine is compared on the same split by passing its ``fit`` (see ``trainer_fit``).
    """
    started = time.perf_counter()
    config = config or TrainingConfig()
    wanted = set(scorers) if scorers is not None else None
    settings: dict[str, Any] = {"k": k, "seed": seed, "profile_sizes": list(profile_sizes)}
    anchors = _chosen_anchors(data, seed, k, wanted, settings, progress)
    tables, paired, ratings = [], [], pd.DataFrame()
    for splits in _splits_by_training(data, protocols, profile_sizes, seed):
        progress(f"training on {splits[0].train.n_ratings:,} ratings ...")
        recommender = fit(splits[0].train, config)
        fitted = {name: anchor.fit(splits[0].train.ratings, params)
                  for name, (anchor, params) in anchors.items()}  # fmt: skip
        sequels: dict[str, float] = {}
        for split in splits:
            chosen = _scorers(recommender, fitted, data, split.protocol, seed, wanted)
            label_ = f"profile {split.profile_size}" if split.profile_size else "known ratings"
            progress(f"{split.protocol} ({label_}): {len(split.cases)} users x {len(chosen)}")
            results = rank(recommender, split.cases, chosen, k, progress)
            table = summarize(results, recommender, k)
            if split.protocol == NEW_USER:  # one-movie profiles of every franchise's films
                sequels = sequels or sequel_hit_rates(recommender, chosen)
                table[SEQUELS] = table["scorer"].map(sequels)
            table.insert(0, "profile_size", split.profile_size or 0)
            table.insert(0, "protocol", split.protocol)
            tables.append(table)
            paired.append(paired_differences(results, k, split.protocol, split.profile_size or 0))
            if split.protocol == KNOWN_USER:
                ratings = rating_errors(recommender, split)
    settings["config"] = asdict(config)
    return EvaluationResult(
        pd.concat(tables, ignore_index=True),
        ratings,
        settings,
        paired=pd.concat(paired, ignore_index=True),
        seconds=time.perf_counter() - started,
    )


def _chosen_anchors(
    data: Dataset,
    seed: int,
    k: int,
    wanted: set[str] | None,
    settings: dict[str, Any],
    progress: Progress,
) -> dict[str, tuple[Anchor, dict[str, Any]]]:
    """Each wanted anchor that fits this data, with its parameters tuned on validation users;
    EASE at lambda 500 too (issue 11's yardstick for the long tail, overlap, calibration)."""
    usable = [
        anchor
        for anchor in [*ANCHORS, EASE_500]
        if anchor.fits(data.ratings.shape) and (wanted is None or anchor.name in wanted)
    ]
    if not usable:
        return {}
    progress(f"tuning {len(usable)} anchors on validation users ...")
    choices = tune_anchors(validation_set(data, seed), usable, k, progress)
    settings["anchors"] = {
        anchor.name: {"parameters": params, "validation": label(anchor, params), **figures}
        for anchor, (params, figures) in zip(usable, choices, strict=True)
    }
    return {
        anchor.name: (anchor, params) for anchor, (params, _) in zip(usable, choices, strict=True)
    }


def _splits_by_training(
    data: Dataset, protocols: Sequence[str], profile_sizes: Sequence[int], seed: int
) -> list[list[Split]]:
    """The protocols' splits, grouped by their training data: the new-user and rated
    protocols share the same 80% of the users; the known-user protocol has its own. The rated
    protocols run at the sizes the rule judges them by (5 and 10) when those were asked for."""
    shared: list[Split] = []
    if NEW_USER in protocols:
        shared += [new_user_split(data, size, seed) for size in profile_sizes]
    rated_sizes = [size for size in profile_sizes if size in RATED_SIZES] or profile_sizes
    for protocol in (RATED, RATED_DROPPED):
        if protocol in protocols:
            drop = protocol == RATED_DROPPED
            shared += [rated_split(data, size, seed, drop) for size in rated_sizes]
    groups = [shared] if shared else []
    if KNOWN_USER in protocols:
        groups.append([known_user_split(data, seed)])
    return groups


def _scorers(
    recommender: Recommender,
    anchors: dict[str, Any],
    data: Dataset,
    protocol: str,
    seed: int,
    wanted: set[str] | None,
) -> dict[str, ScoreFn]:
    """Every scorer the table shows for ``protocol``, limited to ``wanted`` names."""
    movie_ids = data.movies["movieId"].to_numpy(np.int64)
    chosen = {
        **harness_scorers(recommender, anchors, seed, movie_ids),
        **product_scorers(recommender),
    }
    if protocol == KNOWN_USER:
        chosen["for_user (CF)"] = for_user_scorer(recommender)
    return {name: score for name, score in chosen.items() if wanted is None or name in wanted}
