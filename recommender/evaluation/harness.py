"""Ranking every test case with every scorer through the product's own code, and the metrics."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from recommender import training
from recommender.bundle import load_bundle
from recommender.data import Dataset
from recommender.discovery import DISCOVERY_STEPS
from recommender.evaluation import metrics
from recommender.evaluation.judging import Judge, metric_names
from recommender.evaluation.splits import Case
from recommender.hybrid import Recommender, ScoredProfile, rescale
from recommender.scorer import blend
from recommender.training import TrainingConfig, in_memory_bundle

Progress = Callable[[str], None]

FitFn = Callable[[Dataset, TrainingConfig], Recommender]

ScoreFn = Callable[[Case, ScoredProfile], np.ndarray]

DEFAULT = "hybrid (default)"
# The seed project's blend, kept as a row of the table: genre content plus the crowd.
SEED_BLEND = {"content": 0.5, "general_cf": 0.5}


def quiet(message: str) -> None:
    """A progress callback that says nothing."""


def fit_local(data: Dataset, config: TrainingConfig) -> Recommender:
    """The local engine: ``training.fit`` and a ``Recommender`` on its in-memory bundle."""
    return Recommender(in_memory_bundle(training.fit(data, config, {}, quiet), config))


def write_movielens(data: Dataset, folder: Path) -> Path:
    """Write ``data`` as MovieLens CSVs (movies.csv, ratings.csv), for engines that read files."""
    folder.mkdir(parents=True, exist_ok=True)
    data.movies[["movieId", "title", "genres"]].to_csv(folder / "movies.csv", index=False)
    ratings = data.ratings.tocoo()
    frame = pd.DataFrame(
        {
            "userId": data.user_ids[ratings.row],
            "movieId": data.movies["movieId"].to_numpy()[ratings.col],
            "rating": ratings.data.astype(np.float64),
        }
    )
    frame.to_csv(folder / "ratings.csv", index=False)
    return folder


def trainer_fit(train_fn: Callable[[Path, Path, TrainingConfig], Any]) -> FitFn:
    """A ``fit`` for an engine that trains from CSV files into an artifacts folder.

    ``train_fn(data_dir, artifacts_dir, config)`` has the shape of ``training.train``; the
    split's training data is written to a temporary folder and the bundle loaded from disk.
    """

    def fit_with_files(data: Dataset, config: TrainingConfig) -> Recommender:
        with tempfile.TemporaryDirectory(prefix="movierec-eval-") as scratch:
            folder = write_movielens(data, Path(scratch) / "data")
            train_fn(folder, Path(scratch) / "artifacts", config)
            bundle = load_bundle(Path(scratch) / "artifacts")
            # copied out of the memory-mapped files, which the scratch folder takes away
            bundle.arrays = {name: np.array(array) for name, array in bundle.arrays.items()}
            return Recommender(bundle)

    return fit_with_files


@dataclass
class Scores:
    """Ranking metrics of one scorer on one split."""

    scorer: str
    lists: list[np.ndarray] = field(default_factory=list)  # recommended movie codes per case
    rows: list[dict[str, float]] = field(default_factory=list)  # metrics per case


def product_blends(recommender: Recommender) -> dict[str, dict[str, float]]:
    """The blends the table shows, by row name: each registered scorer alone, the seed's
    blend (when its scorers are there) and the default hybrid, what ``recommend`` returns."""
    blends = {name: {name: 1.0} for name in recommender.scorers}
    if set(SEED_BLEND) <= set(recommender.scorers):
        blends["seed blend"] = SEED_BLEND
    blends[DEFAULT] = recommender.default_weights
    return blends


def product_scorers(recommender: Recommender) -> dict[str, ScoreFn]:
    """The project's scorers: blends of the parts ``recommend`` computes, by row name; the
    default as ``recommend`` ranks it (at the bundle's discovery) and the discovery curve."""
    scorers = {
        name: blend_scorer(recommender, chosen)
        for name, chosen in product_blends(recommender).items()
    }
    scorers[DEFAULT] = discovery_scorer(recommender, None)
    for d in DISCOVERY_STEPS:
        scorers[discovery_row(d)] = discovery_scorer(recommender, d)
    return scorers


def discovery_row(d: float) -> str:
    """The table's name of the default blend at discovery ``d``."""
    return f"discovery {d:g}"


def discovery_scorer(recommender: Recommender, d: float | None) -> ScoreFn:
    """The default blend at discovery ``d`` (None: the bundle's), as ``recommend`` ranks it."""
    chosen = recommender.blend_weights(None)
    popularity = np.asarray(recommender.popularity.score, dtype=np.float64)

    def score(case: Case, scored: ScoredProfile) -> Blended | np.ndarray:
        if not scored.parts:
            return popularity
        found = recommender.discovery.scored(scored, chosen, d)
        return Blended(found.score, found.calibration)

    return score


@dataclass(frozen=True)
class Blended:
    """A product blend's scores, to be ranked as ``recommend`` ranks them (``Recommender.rank``,
    genre calibration included; ``calibration`` None: the bundle's)."""

    score: np.ndarray
    calibration: float | None = None


PartsFn = Callable[[ScoredProfile], Mapping[str, np.ndarray]]  # a profile's parts to blend


def product_parts(scored: ScoredProfile) -> Mapping[str, np.ndarray]:
    """The parts ``recommend`` blends: the registered scorers' own."""
    return scored.parts


def with_models(models: Mapping[str, Callable[[np.ndarray], np.ndarray]]) -> PartsFn:
    """The product's parts plus one part per model (profile movie codes -> a score per
    movie, put on 0-1 over what may be recommended, as the scorers' are): an anchor offered
    to the blend as one more scorer. Computed once per profile for every blend that asks."""
    last: list[Any] = [None, {}]

    def parts(scored: ScoredProfile) -> Mapping[str, np.ndarray]:
        if last[0] is not scored:
            codes, allowed = scored.request.codes, scored.allowed
            added = {
                name: rescale(np.asarray(model(codes), np.float32), allowed)
                for name, model in models.items()
            }
            last[:] = [scored, {**scored.parts, **added}]
        return last[1]

    return parts


def blend_scorer(
    recommender: Recommender,
    weights: Mapping[str, float],
    calibration: float | None = None,
    parts: PartsFn = product_parts,
) -> ScoreFn:
    """A blend of the product's parts (or of ``parts``, see ``with_models``); an empty
    profile gets the popularity order, as ``recommend`` gives the cold-start list."""
    popularity = np.asarray(recommender.popularity.score, dtype=np.float64)

    def score(case: Case, scored: ScoredProfile) -> Blended | np.ndarray:
        if not scored.parts:
            return popularity
        return Blended(blend(parts(scored), weights), calibration)

    return score


def harness_scorers(
    recommender: Recommender,
    anchors: dict[str, Callable[[np.ndarray], np.ndarray]],
    seed: int,
    movie_ids: np.ndarray | None = None,
) -> dict[str, ScoreFn]:
    """Random, the product's popularity and the fitted anchors, on the recommender's codes.

    ``anchors`` maps a row name to a model fitted on the split's training data in the movie
    order ``movie_ids`` (None: the recommender's own order).
    """
    popularity = np.asarray(recommender.popularity.score, dtype=np.float64)
    n_movies = len(recommender.movie_ids)
    scorers: dict[str, ScoreFn] = {
        "random": lambda case, scored: np.random.default_rng([seed, case.user_id]).random(n_movies),
        "popularity": lambda case, scored: popularity,
    }
    for name, model in anchors.items():
        score = in_recommender_order(model, recommender, movie_ids)
        scorers[name] = lambda case, scored, score=score: score(scored.request.codes)
    return scorers


def sequel_hit_rates(recommender: Recommender, scorers: dict[str, ScoreFn]) -> dict[str, float]:
    """Each scorer's sequel hit rate@5 over the franchises of the recommender's catalogue whose
    films were rated in its training data (``sequels``)."""
    from recommender.evaluation.sequels import franchise_cases

    cases = franchise_cases(recommender.movies)
    if not cases:
        return {name: float("nan") for name in scorers}
    results = rank(recommender, cases, scorers, 5)
    return {name: mean(row["Recall@5"] for row in scores.rows) for name, scores in results.items()}


def in_recommender_order(
    score: Callable[[np.ndarray], np.ndarray],
    recommender: Recommender,
    movie_ids: np.ndarray | None,
) -> Callable[[np.ndarray], np.ndarray]:
    """A reference model's scorer (fitted on the split's movie order) in the recommender's order.

    Another engine's bundle may order its movies differently; the ids map one to the other.
    """
    if movie_ids is None or np.array_equal(recommender.movie_ids, movie_ids):
        return score
    to_split = pd.Index(movie_ids).get_indexer(recommender.movie_ids)
    if (to_split < 0).any():
        raise ValueError("the recommender's catalogue differs from the evaluation data's")
    return lambda codes: score(to_split[codes])[to_split]


def rank(
    recommender: Recommender,
    cases: Sequence[Case],
    scorers: dict[str, ScoreFn],
    k: int,
    progress: Progress = quiet,
    judge: Judge | None = None,
) -> dict[str, Scores]:
    """Top-k of every scorer for every case, ranked by the product's own top-k (ties: lower id),
    and every per-case metric of each list (``judging``)."""
    judge = judge or Judge.of(recommender)
    results = {name: Scores(name) for name in scorers}
    started = time.perf_counter()
    # One BLAS thread: these are small matrix-vector products, and on a busy 2-core machine
    # threaded BLAS makes each of them 5-30 times slower (measured); results do not change.
    with threadpool_limits(limits=1, user_api="blas"):
        for done, case in enumerate(cases, 1):
            _rank_case(recommender, judge, case, scorers, k, results)
            if done % 100 == 0 or done == len(cases):
                seconds = time.perf_counter() - started
                progress(f"  ranked {done}/{len(cases)} users ({seconds:.1f} s)")
    return results


def _rank_case(
    recommender: Recommender,
    judge: Judge,
    case: Case,
    scorers: dict[str, ScoreFn],
    k: int,
    results: dict[str, Scores],
) -> None:
    """Add one case's top-k and metrics to ``results`` for every scorer."""
    scored = recommender.score_parts(case.profile)
    for name, scorer in scorers.items():
        result = scorer(case, scored)
        if isinstance(result, Blended):
            top = recommender.rank(result.score, scored.request, k, result.calibration)
        else:
            top = recommender.top(np.asarray(result), scored.allowed, k)
        results[name].lists.append(top)
        results[name].rows.append(judge.case_metrics(top, case, k))


def mean(values: Iterable[float]) -> float:
    """Mean over the cases that have a value; NaN (no warning) when none has."""
    values = np.asarray(list(values), dtype=np.float64)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def standard_error(values: Iterable[float]) -> float:
    """Standard error of the mean over users: how far the mean could move with other users."""
    values = np.asarray(list(values), dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")


def summarize(results: dict[str, Scores], recommender: Recommender, k: int) -> pd.DataFrame:
    """One row per scorer: the mean of each per-case metric, the standard error of NDCG, the
    overlap of two users' lists, coverage and novelty."""
    ranks = metrics.popularity_ranks(recommender.popularity.n_ratings)
    rows = []
    for name, scores in results.items():
        frame = pd.DataFrame(scores.rows, columns=metric_names(k))
        row: dict[str, Any] = {"scorer": name, "users": len(frame)}
        row.update({column: mean(frame[column]) for column in frame.columns})
        row[f"NDCG@{k} se"] = standard_error(frame[f"NDCG@{k}"])
        row["overlap"] = metrics.jaccard_overlap(scores.lists)
        row["coverage"] = metrics.catalogue_coverage(scores.lists, len(recommender.movie_ids))
        row["novelty"] = metrics.mean_popularity_rank(scores.lists, ranks)
        rows.append(row)
    return pd.DataFrame(rows)


def paired_differences(
    results: dict[str, Scores], k: int, protocol: str, profile_size: int, best: str = DEFAULT
) -> pd.DataFrame:
    """NDCG@k of ``best`` minus each other scorer's, per user: mean and standard error.

    The same users are ranked by every scorer, so the paired difference is far less noisy than
    the two means side by side; a difference of more than two standard errors is a real one.
    """
    if best not in results:
        return pd.DataFrame()
    own = np.array([row[f"NDCG@{k}"] for row in results[best].rows])
    rows = []
    for name, scores in results.items():
        if name == best:
            continue
        difference = own - np.array([row[f"NDCG@{k}"] for row in scores.rows])
        rows.append(
            {
                "protocol": protocol,
                "profile_size": profile_size,
                "comparison": f"{best} - {name}",
                f"NDCG@{k} difference": mean(difference),
                "se": standard_error(difference),
            }
        )
    return pd.DataFrame(rows)


def for_user_scorer(recommender: Recommender) -> ScoreFn:
    """What ``Recommender.for_user`` ranks by (``Recommender.user_scores``)."""

    def score(case: Case, scored: ScoredProfile) -> np.ndarray:
        return recommender.user_scores(case.user_id)

    return score
