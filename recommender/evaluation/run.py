"""The whole evaluation: both protocols, every scorer, the rating errors, EASE's lambda."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from recommender.data import Dataset
from recommender.evaluation import metrics
from recommender.evaluation.baselines import EASE_LAMBDAS, Ease, bias_baseline, reference_model
from recommender.evaluation.harness import (
    FitFn,
    Progress,
    ScoreFn,
    fit_local,
    for_user_scorer,
    harness_scorers,
    mean,
    paired_differences,
    product_scorers,
    quiet,
    rank,
    summarize,
)
from recommender.evaluation.splits import (
    KNOWN_USER,
    NEW_USER,
    Split,
    known_user_split,
    new_user_split,
    validation_set,
)
from recommender.hybrid import Recommender
from recommender.training import TrainingConfig


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


def choose_ease_lambda(
    data: Dataset, seed: int, k: int, profile_size: int = 5, lambdas: Sequence[float] = EASE_LAMBDAS
) -> tuple[float, dict[float, float]]:
    """EASE's lambda by NDCG@k on the validation users (a split of the train users)."""
    validation = validation_set(data, seed, (profile_size,))
    recommender = fit_local(validation.train, TrainingConfig(factors=1))
    figures = {}
    for lam in lambdas:
        reference = ("EASE", Ease(validation.train.ratings, lam))
        scorers = harness_scorers(recommender, reference, seed)
        results = rank(recommender, validation.cases[profile_size], {"EASE": scorers["EASE"]}, k)
        figures[lam] = mean(row[f"NDCG@{k}"] for row in results["EASE"].rows)
    usable = {lam: value for lam, value in figures.items() if np.isfinite(value)}
    if not usable:  # too few users to validate on: the middle of the grid
        return float(lambdas[len(lambdas) // 2]), figures
    return max(usable, key=lambda lam: (usable[lam], -lam)), figures


def evaluate(
    data: Dataset,
    config: TrainingConfig | None = None,
    *,
    profile_sizes: Sequence[int] = (5,),
    k: int = 20,
    seed: int = 0,
    fit: FitFn = fit_local,
    protocols: Sequence[str] = (NEW_USER, KNOWN_USER),
    scorers: Sequence[str] | None = None,
    ease_lambda: float | None = None,
    progress: Progress = quiet,
) -> EvaluationResult:
    """Evaluate ``fit``'s recommender (the local engine by default) on both protocols.

    ``scorers`` limits the scorers by name (None: all); ``ease_lambda`` None chooses it on the
    validation users. Another engine is compared on the same split by passing its ``fit``
    (see ``trainer_fit``) and reading ``result.ndcg("hybrid (default)")``.
    """
    started = time.perf_counter()
    config = config or TrainingConfig()
    wanted = set(scorers) if scorers is not None else None
    reference_wanted = wanted is None or wanted & {"EASE", "item-kNN"}
    settings: dict[str, Any] = {"k": k, "seed": seed, "profile_sizes": list(profile_sizes)}
    if reference_wanted and ease_lambda is None and Ease.fits(data.ratings.shape):
        progress("choosing EASE's lambda on the validation users ...")
        ease_lambda, figures = choose_ease_lambda(data, seed, k)
        settings["ease_validation_ndcg"] = {str(lam): round(v, 4) for lam, v in figures.items()}
        progress(f"EASE lambda = {ease_lambda:g} (validation NDCG@{k}: {figures[ease_lambda]:.4f})")
    settings["ease_lambda"] = ease_lambda
    tables, paired, ratings = [], [], pd.DataFrame()
    for protocol in protocols:
        splits = protocol_splits(data, protocol, profile_sizes, seed)
        progress(f"{protocol}: training on {splits[0].train.n_ratings:,} ratings ...")
        recommender = fit(splits[0].train, config)
        reference = (
            reference_model(splits[0].train.ratings, ease_lambda or EASE_LAMBDAS[0])
            if reference_wanted
            else None
        )
        chosen = _scorers(recommender, reference, data, protocol, seed, wanted)
        for split in splits:
            label = f"profile {split.profile_size}" if split.profile_size else "known ratings"
            progress(f"{protocol} ({label}): {len(split.cases)} users x {len(chosen)} scorers")
            results = rank(recommender, split.cases, chosen, k, progress)
            table = summarize(results, recommender, k)
            table.insert(0, "profile_size", split.profile_size or 0)
            table.insert(0, "protocol", protocol)
            tables.append(table)
            paired.append(paired_differences(results, k, protocol, split.profile_size or 0))
        if protocol == KNOWN_USER:
            ratings = rating_errors(recommender, splits[0])
    settings["config"] = asdict(config)
    return EvaluationResult(
        pd.concat(tables, ignore_index=True),
        ratings,
        settings,
        paired=pd.concat(paired, ignore_index=True),
        seconds=time.perf_counter() - started,
    )


def protocol_splits(
    data: Dataset, protocol: str, profile_sizes: Sequence[int], seed: int
) -> list[Split]:
    """The splits of one protocol: one per profile size (new user), or one (known user)."""
    if protocol == NEW_USER:
        return [new_user_split(data, size, seed) for size in profile_sizes]
    return [known_user_split(data, seed)]


def _scorers(
    recommender: Recommender,
    reference: Any,
    data: Dataset,
    protocol: str,
    seed: int,
    wanted: set[str] | None,
) -> dict[str, ScoreFn]:
    """Every scorer the table shows for ``protocol``, limited to ``wanted`` names."""
    movie_ids = data.movies["movieId"].to_numpy(np.int64)
    chosen = {
        **harness_scorers(recommender, reference, seed, movie_ids),
        **product_scorers(recommender),
    }
    if protocol == KNOWN_USER:
        chosen["for_user (CF)"] = for_user_scorer(recommender)
    return {name: score for name, score in chosen.items() if wanted is None or name in wanted}
