"""Offline evaluation: does the hybrid help a new user, and which defaults are best?

    python -m recommender.evaluate --data-dir DIR [--profile-size 5 ...] [--k 20] [--seed 0]
                                   [--out evaluation] [--artifacts-dir DIR] [--tune]

Two protocols (docs/evaluation.md):

- new user: users are split 80/20 (seeded); the models are trained on the train users only; each
  test user reveals ``profile_size`` movies they rated >= 4, with those ratings, and their other
  movies rated >= 4 are the targets; every movie outside the profile is ranked.
- known user: 20% of each test user's ratings are held out and the models are trained on
  everything else; the profile is what the user rated, the targets are the held-out ratings >= 4,
  and the held-out ratings also measure rating predictions (RMSE, MAE).

The project's scorers are measured through the product's own code: a ``Recommender`` built from
the fitted model (``training.in_memory_bundle``) and its ``score_parts``/``blend``/``_top``, the
path ``recommend`` takes. Another engine is measured the same way by passing ``fit``.
The defaults are chosen by ``tune`` on a second split of the train users only, never on the
test users.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from recommender import metrics, training
from recommender.bundle import BundleError, load_bundle, update_manifest
from recommender.data import DataError, Dataset, load_dataset
from recommender.hybrid import Recommender, ScoredProfile, blend
from recommender.training import TrainingConfig, in_memory_bundle

Progress = Callable[[str], None]
FitFn = Callable[[Dataset, TrainingConfig], Recommender]
Scorer = Callable[["Case", ScoredProfile], np.ndarray]

RELEVANT_RATING = 4.0  # a rating at or above this marks a movie the user liked
TEST_FRACTION = 0.2  # of users (new-user protocol) and of a test user's ratings (known-user)
VALIDATION_SEED_OFFSET = 1  # the validation split of the train users uses seed + 1
NEW_USER, KNOWN_USER = "new-user", "known-user"
EASE_LAMBDAS = (1_000.0, 2_000.0, 4_000.0, 8_000.0, 16_000.0, 32_000.0)
EASE_MEMORY_BYTES = 2 * 2**30  # above this EASE's dense matrices do not fit: item-kNN instead
BIAS_DAMPING = 5.0  # of the bias baseline: a movie with few ratings keeps close to the mean

# The project's own scorers: blend weights (content, general CF, personal CF); None = defaults.
BLENDS: dict[str, tuple[float, float, float] | None] = {
    "content": (1.0, 0.0, 0.0),
    "general CF": (0.0, 1.0, 0.0),
    "seed blend": (0.5, 0.5, 0.0),
    "personal CF": (0.0, 0.0, 1.0),
    "hybrid (default)": None,
}
DEFAULT = "hybrid (default)"


def _quiet(message: str) -> None:
    """A progress callback that says nothing."""


# --- splits -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One test user's request: what they reveal and what they liked but did not reveal."""

    user_id: int
    profile: dict[int, float]  # movieId -> rating: what the recommender is given
    targets: np.ndarray  # movieIds rated >= RELEVANT_RATING that are not in the profile


@dataclass
class Split:
    """Training data and the test cases of one protocol.

    ``heldout`` (known-user only) is a frame userId, movieId, rating of every held-out rating.
    """

    protocol: str
    train: Dataset
    cases: list[Case]
    profile_size: int | None = None
    heldout: pd.DataFrame | None = None


def split_users(n_users: int, seed: int, fraction: float = TEST_FRACTION) -> tuple:
    """(train rows, test rows), both sorted: a seeded random ``fraction`` of users is test."""
    order = np.random.default_rng(seed).permutation(n_users)
    n_test = max(1, round(fraction * n_users))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def subset_users(data: Dataset, rows: np.ndarray) -> Dataset:
    """The data of some users only (rows sorted, so userIds stay sorted); all movies are kept."""
    return Dataset(data.movies, data.user_ids[rows], data.ratings[rows], [], data.input_files)


def _user_row(ratings: sp.csr_matrix, row: int) -> tuple[np.ndarray, np.ndarray]:
    span = slice(ratings.indptr[row], ratings.indptr[row + 1])
    return ratings.indices[span], ratings.data[span]


def new_user_cases(data: Dataset, rows: Iterable[int], profile_size: int, seed: int) -> list[Case]:
    """Cases of the new-user protocol; users with too few liked movies for a target are skipped.

    Each user's profile is drawn with its own seeded generator, so it does not depend on the
    other users or on the order they come in.
    """
    movie_ids = data.movies["movieId"].to_numpy(np.int64)
    cases = []
    for row in rows:
        codes, ratings = _user_row(data.ratings, int(row))
        liked = np.flatnonzero(ratings >= RELEVANT_RATING)
        if len(liked) <= profile_size:
            continue
        user_id = int(data.user_ids[row])
        shown = np.random.default_rng([seed, user_id]).choice(liked, profile_size, replace=False)
        profile = {int(movie_ids[codes[i]]): float(ratings[i]) for i in np.sort(shown)}
        targets = movie_ids[codes[np.setdiff1d(liked, shown)]]
        cases.append(Case(user_id, profile, np.sort(targets)))
    return cases


def new_user_split(data: Dataset, profile_size: int, seed: int) -> Split:
    """Train on 80% of the users; each of the others reveals ``profile_size`` liked movies."""
    train_rows, test_rows = split_users(len(data.user_ids), seed)
    cases = new_user_cases(data, test_rows, profile_size, seed)
    return Split(NEW_USER, subset_users(data, train_rows), cases, profile_size)


def known_user_split(data: Dataset, seed: int) -> Split:
    """Hold out 20% of each test user's ratings (at least one); train on all the rest."""
    _, test_rows = split_users(len(data.user_ids), seed)
    movie_ids = data.movies["movieId"].to_numpy(np.int64)
    keep = np.ones(data.ratings.nnz, bool)
    cases, heldout = [], []
    for row in test_rows:
        start, end = data.ratings.indptr[row], data.ratings.indptr[row + 1]
        user_id = int(data.user_ids[row])
        n_out = max(1, round(TEST_FRACTION * (end - start)))
        out = start + np.random.default_rng([seed, user_id]).choice(end - start, n_out, False)
        keep[out] = False
        span = np.arange(start, end)
        kept = span[keep[start:end]]
        codes, ratings = data.ratings.indices, data.ratings.data
        profile = {int(movie_ids[codes[i]]): float(ratings[i]) for i in kept}
        targets = np.sort(movie_ids[codes[out][ratings[out] >= RELEVANT_RATING]])
        if len(targets):
            cases.append(Case(user_id, profile, targets))
        heldout.append(pd.DataFrame({"userId": user_id, "movieId": movie_ids[codes[out]]}))
        heldout[-1]["rating"] = ratings[out]
    train = data.ratings.copy()
    train.data = np.where(keep, train.data, 0).astype(train.data.dtype)
    train.eliminate_zeros()  # ratings are >= 0.5, so only the held-out entries are zero
    trained = Dataset(data.movies, data.user_ids, train, [], data.input_files)
    return Split(KNOWN_USER, trained, cases, None, pd.concat(heldout, ignore_index=True))


# --- fitting: the product's code, or another engine's ------------------------------------------


def fit_local(data: Dataset, config: TrainingConfig) -> Recommender:
    """The local engine: ``training.fit`` and a ``Recommender`` on its in-memory bundle."""
    return Recommender(in_memory_bundle(training.fit(data, config, {}, _quiet), config))


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


# --- the reference models computed in the harness ----------------------------------------------


class Ease:
    """EASE (Steck 2019): B = I - P diag(1/diag(P)), P = (X^T X + lambda I)^-1, X binarised.

    With fewer users than movies the same P comes from the users x users matrix (Woodbury):
    P = (I - X^T (X X^T + lambda I)^-1 X) / lambda, so no movies x movies matrix is needed;
    a user's scores are x B = x - (x P) / diag(P).
    """

    def __init__(self, ratings: sp.csr_matrix, lam: float):
        x = ratings.copy().astype(np.float64)
        x.data[:] = 1.0
        self.lam = lam
        self._dual = x.shape[0] < x.shape[1]
        if self._dual:
            gram = (x @ x.T).toarray() + lam * np.eye(x.shape[0])
            self._x = x.tocsc()
            self._a = np.linalg.solve(gram, x.toarray())  # users x movies: (XX^T + lI)^-1 X
            diag = 1.0 - np.asarray(x.multiply(self._a).sum(axis=0)).ravel()
            self._diag = diag / lam
        else:
            p = np.linalg.inv((x.T @ x).toarray() + lam * np.eye(x.shape[1]))
            self._p, self._diag = p, np.diag(p).copy()

    @staticmethod
    def fits(shape: tuple[int, int]) -> bool:
        """Whether EASE's dense matrices fit in ``EASE_MEMORY_BYTES`` for a users x movies shape."""
        users, movies = shape
        needed = 8 * (users * movies + users**2) if users < movies else 8 * 2 * movies**2
        return needed <= EASE_MEMORY_BYTES

    def scores(self, codes: np.ndarray) -> np.ndarray:
        """Scores of every movie for a user who liked the movies ``codes``."""
        x = np.zeros(len(self._diag))
        x[codes] = 1.0
        if self._dual:
            counts = np.asarray(self._x[:, codes].sum(axis=1)).ravel()  # x X^T
            xp = (x - counts @ self._a) / self.lam
        else:
            xp = self._p[codes].sum(axis=0)
        return x - xp / self._diag


class ItemKnn:
    """Item-kNN by cosine on the binarised matrix, computed per request: no item x item matrix."""

    def __init__(self, ratings: sp.csr_matrix):
        x = ratings.copy().astype(np.float32)
        x.data[:] = 1.0
        norms = np.sqrt(np.asarray(x.sum(axis=0)).ravel())
        self._x = (x @ sp.diags(1.0 / np.maximum(norms, 1.0))).tocsc()

    def scores(self, codes: np.ndarray) -> np.ndarray:
        column = self._x[:, codes] @ np.ones(len(codes), np.float32)
        return np.asarray(self._x.T @ column).ravel()


def reference_model(ratings: sp.csr_matrix, lam: float) -> tuple[str, Ease | ItemKnn]:
    """EASE where it fits, item-kNN where it would not."""
    if Ease.fits(ratings.shape):
        return "EASE", Ease(ratings, lam)
    return "item-kNN", ItemKnn(ratings)


# --- scoring ------------------------------------------------------------------------------------


@dataclass
class Scores:
    """Ranking metrics of one scorer on one split."""

    scorer: str
    lists: list[np.ndarray] = field(default_factory=list)  # recommended movie codes per case
    rows: list[dict[str, float]] = field(default_factory=list)  # metrics per case


def _case_metrics(top_ids: np.ndarray, targets: np.ndarray, k: int) -> dict[str, float]:
    ranked, relevant = top_ids.tolist(), set(targets.tolist())
    return {
        f"Precision@{k}": metrics.precision_at_k(ranked, relevant, k),
        f"Recall@{k}": metrics.recall_at_k(ranked, relevant, k),
        f"NDCG@{k}": metrics.ndcg_at_k(ranked, relevant, k),
        f"MAP@{k}": metrics.average_precision_at_k(ranked, relevant, k),
    }


def product_scorers(recommender: Recommender) -> dict[str, Scorer]:
    """The project's scorers: blends of the parts ``recommend`` computes, by name."""
    scorers: dict[str, Scorer] = {}
    for name, weights in BLENDS.items():
        chosen = tuple(recommender.default_weights.values()) if weights is None else weights
        scorers[name] = lambda case, scored, chosen=chosen: blend(scored.parts, chosen)
    return scorers


def harness_scorers(
    recommender: Recommender,
    reference: tuple[str, Ease | ItemKnn] | None,
    seed: int,
    movie_ids: np.ndarray | None = None,
) -> dict[str, Scorer]:
    """Random, popularity and the reference model, on the recommender's movie codes.

    ``movie_ids`` is the movie order the reference model was fitted on (None: the same order).
    """
    popularity = np.asarray(recommender.popularity.score, dtype=np.float64)
    n_movies = len(recommender.movie_ids)
    scorers: dict[str, Scorer] = {
        "random": lambda case, scored: np.random.default_rng([seed, case.user_id]).random(n_movies),
        "popularity": lambda case, scored: popularity,
    }
    if reference is not None:
        name, model = reference
        score = _in_recommender_order(model.scores, recommender, movie_ids)
        scorers[name] = lambda case, scored: score(scored.codes)
    return scorers


def _in_recommender_order(
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
    scorers: dict[str, Scorer],
    k: int,
    progress: Progress = _quiet,
) -> dict[str, Scores]:
    """Top-k of every scorer for every case, ranked by the product's own top-k (ties: lower id)."""
    results = {name: Scores(name) for name in scorers}
    started = time.perf_counter()
    # One BLAS thread: these are small matrix-vector products, and on a busy 2-core machine
    # threaded BLAS makes each of them 5-30 times slower (measured); results do not change.
    with threadpool_limits(limits=1, user_api="blas"):
        for done, case in enumerate(cases, 1):
            _rank_case(recommender, case, scorers, k, results)
            if done % 100 == 0 or done == len(cases):
                seconds = time.perf_counter() - started
                progress(f"  ranked {done}/{len(cases)} users ({seconds:.1f} s)")
    return results


def _rank_case(
    recommender: Recommender,
    case: Case,
    scorers: dict[str, Scorer],
    k: int,
    results: dict[str, Scores],
) -> None:
    """Add one case's top-k and metrics to ``results`` for every scorer."""
    scored = recommender.score_parts(case.profile)
    for name, scorer in scorers.items():
        top = recommender._top(np.asarray(scorer(case, scored)), scored.allowed, k)
        results[name].lists.append(top)
        results[name].rows.append(_case_metrics(recommender.movie_ids[top], case.targets, k))


def metric_names(k: int) -> list[str]:
    """The ranking metrics' column names for lists of k."""
    return [f"Precision@{k}", f"Recall@{k}", f"NDCG@{k}", f"MAP@{k}"]


def _mean(values: Iterable[float]) -> float:
    """Mean over the cases that have a value; NaN (no warning) when none has."""
    values = np.asarray(list(values), dtype=np.float64)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def _standard_error(values: Iterable[float]) -> float:
    """Standard error of the mean over users: how far the mean could move with other users."""
    values = np.asarray(list(values), dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")


def summarize(results: dict[str, Scores], recommender: Recommender, k: int) -> pd.DataFrame:
    """One row per scorer: mean of each metric over cases, coverage and novelty."""
    ranks = metrics.popularity_ranks(recommender.popularity.n_ratings)
    rows = []
    for name, scores in results.items():
        frame = pd.DataFrame(scores.rows, columns=metric_names(k))
        row: dict[str, Any] = {"scorer": name, "users": len(frame)}
        row.update({column: _mean(frame[column]) for column in frame.columns})
        row[f"NDCG@{k} se"] = _standard_error(frame[f"NDCG@{k}"])
        row["coverage"] = metrics.catalogue_coverage(scores.lists, len(recommender.movie_ids))
        row["novelty"] = metrics.mean_popularity_rank(scores.lists, ranks)
        rows.append(row)
    return pd.DataFrame(rows)


# --- rating predictions -------------------------------------------------------------------------


def bias_baseline(ratings: sp.csr_matrix, damping: float = BIAS_DAMPING):
    """Global mean + damped item bias + damped user bias; returns predict(rows, cols)."""
    coo = ratings.tocoo()
    mean = float(coo.data.mean())
    residual = coo.data - mean
    item_count = np.bincount(coo.col, minlength=ratings.shape[1])
    item_bias = np.bincount(coo.col, residual, ratings.shape[1]) / (item_count + damping)
    residual = residual - item_bias[coo.col]
    user_count = np.bincount(coo.row, minlength=ratings.shape[0])
    user_bias = np.bincount(coo.row, residual, ratings.shape[0]) / (user_count + damping)

    def predict(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return mean + item_bias[cols] + user_bias[rows]

    return predict


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
        "CF predicted rating (cf.predict)": _cf_predictions(recommender, rows, cols),
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


def _cf_predictions(recommender: Recommender, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The ratings ``CollaborativeModel.predict`` gives, one user at a time."""
    out = np.empty(len(rows))
    for user in np.unique(rows):
        mask = rows == user
        out[mask] = recommender.cf.predict(np.array([user]))[0][cols[mask]]
    return out


# --- the whole evaluation ----------------------------------------------------------------------


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
        figures[lam] = _mean(row[f"NDCG@{k}"] for row in results["EASE"].rows)
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
    progress: Progress = _quiet,
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
        splits = (
            [new_user_split(data, size, seed) for size in profile_sizes]
            if protocol == NEW_USER
            else [known_user_split(data, seed)]
        )
        progress(f"{protocol}: training on {splits[0].train.n_ratings:,} ratings ...")
        recommender = fit(splits[0].train, config)
        reference = (
            reference_model(splits[0].train.ratings, ease_lambda or EASE_LAMBDAS[0])
            if reference_wanted
            else None
        )
        movie_ids = data.movies["movieId"].to_numpy(np.int64)
        harness = harness_scorers(recommender, reference, seed, movie_ids)
        chosen = {**harness, **product_scorers(recommender)}
        if protocol == KNOWN_USER:
            chosen["for_user (CF)"] = _for_user_scorer(recommender)
        chosen = {name: s for name, s in chosen.items() if wanted is None or name in wanted}
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
                f"NDCG@{k} difference": _mean(difference),
                "se": _standard_error(difference),
            }
        )
    return pd.DataFrame(rows)


def _for_user_scorer(recommender: Recommender) -> Scorer:
    """What ``Recommender.for_user`` ranks by (``Recommender.user_scores``)."""

    def score(case: Case, scored: ScoredProfile) -> np.ndarray:
        return recommender.user_scores(case.user_id)

    return score


# --- choosing the defaults ------------------------------------------------------------------


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
    "content_weight": (0.0, 0.05, 0.1, 0.2),
    "general_cf_weight": (0.0, 0.05, 0.1, 0.2),
    "popularity_quantile": (0.75, 0.9, 0.95, 0.98),
}
TUNE_PROFILE_SIZES = (1, 3, 5, 10)  # the defaults must serve short and long profiles alike
PERSONAL_ONLY = (0.0, 0.0, 1.0)
BLEND_TOLERANCE = 0.005  # validation NDCG@20 differences below this are noise (see tune)


@dataclass
class Validation:
    """The new-user protocol inside the train users: one training set, cases per profile size."""

    train: Dataset
    cases: dict[int, list[Case]]


def validation_set(
    data: Dataset, seed: int, profile_sizes: Sequence[int] = TUNE_PROFILE_SIZES
) -> Validation:
    """The train users of the test split, split 80/20 again (seed + 1): never a test user."""
    train_rows, _ = split_users(len(data.user_ids), seed)
    train_users = subset_users(data, train_rows)
    fit_rows, validation_rows = split_users(len(train_rows), seed + VALIDATION_SEED_OFFSET)
    cases = {
        size: new_user_cases(train_users, validation_rows, size, seed + VALIDATION_SEED_OFFSET)
        for size in profile_sizes
    }
    return Validation(subset_users(train_users, fit_rows), cases)


def validation_ndcg(
    recommender: Recommender,
    validation: Validation,
    k: int,
    weights: Sequence[tuple[float, float, float]],
) -> dict[tuple[float, float, float], dict[str, float]]:
    """Validation NDCG@k of several blends, per profile size and their mean (the criterion)."""
    scorers: dict[str, Scorer] = {
        str(w): (lambda case, scored, w=w: blend(scored.parts, w)) for w in weights
    }
    figures: dict[tuple[float, float, float], dict[str, float]] = {w: {} for w in weights}
    for size, cases in validation.cases.items():
        results = rank(recommender, cases, scorers, k)
        for w in weights:
            ndcg = _mean(row[f"NDCG@{k}"] for row in results[str(w)].rows)
            figures[w][f"NDCG@{k} profile {size}"] = ndcg
    for w in weights:
        figures[w]["criterion"] = _mean(figures[w].values())
    return figures


def tune(
    data: Dataset,
    *,
    k: int = 20,
    seed: int = 0,
    grid: dict[str, Sequence[Any]] | None = None,
    progress: Progress = _quiet,
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
    start = TrainingConfig(content_weight=0.0, general_cf_weight=0.0, personal_weight=1.0)
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
        model = training.fit(validation.train, config, {}, _quiet)
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
    names += ("neutral_rating",)
    names += ("content_weight", "general_cf_weight", "personal_weight", "popularity_quantile")
    return {name: getattr(config, name) for name in names}


def _tune_blend(
    validation: Validation, base: TrainingConfig, grid: dict, k: int, progress: Progress
) -> tuple[TrainingConfig, list[dict[str, Any]]]:
    weights = [
        (c, g, round(1.0 - c - g, 6))
        for c in grid["content_weight"]
        for g in grid["general_cf_weight"]
        if c + g < 1.0
    ]
    model = training.fit(validation.train, base, {}, _quiet)
    rows, candidates = [], []
    for neutral in grid["neutral_rating"]:
        config = replace(base, neutral_rating=neutral)
        figures = validation_ndcg(
            Recommender(in_memory_bundle(model, config)), validation, k, weights
        )
        for (content, general, personal), values in figures.items():
            chosen = replace(
                config,
                content_weight=content,
                general_cf_weight=general,
                personal_weight=personal,
            )
            rows.append({"stage": "blend", **_params(chosen), **values})
            candidates.append((values["criterion"], chosen))
    best = _most_content_within_noise(candidates)
    progress(f"  blend: content {best.content_weight}, general CF {best.general_cf_weight}")
    return best, rows


def _most_content_within_noise(candidates: list[tuple[float, TrainingConfig]]) -> TrainingConfig:
    """The blend with the most content weight among those within BLEND_TOLERANCE of the best.

    Blends this close are a tie at this data size (the paired standard error of NDCG@20 is
    0.003-0.006); content weight breaks the tie because it keeps the obvious genre neighbours
    in the list (Toy Story 2 for Toy Story) and gives reasons a visitor can check.
    """
    top = max(value for value, _ in candidates)
    close = [(value, config) for value, config in candidates if value >= top - BLEND_TOLERANCE]
    return max(close, key=lambda item: (item[1].content_weight, item[0]))[1]


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
            ndcg = _mean(row[f"NDCG@{k}"] for row in results["popularity"].rows)
            values[f"NDCG@{k} profile {size}"] = ndcg
        values["criterion"] = _mean(values.values())
        rows.append({"stage": "popularity", **_params(config), **values})
        if values["criterion"] > best_value:
            best, best_value = config, values["criterion"]
    progress(f"  popularity quantile {best.popularity_quantile}: {best_value:.4f}")
    return best, rows


# --- output -------------------------------------------------------------------------------------


def format_table(result: EvaluationResult) -> str:
    """The ranking table and the rating errors as text for the terminal."""
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        text = result.table.to_string(index=False, float_format=lambda v: f"{v:.4f}")
        if not result.ratings.empty:
            ratings = result.ratings.to_string(index=False, float_format=lambda v: f"{v:.4f}")
            text += "\n\nrating predictions on held-out ratings (known-user protocol):\n" + ratings
        if result.paired is not None and not result.paired.empty:
            paired = result.paired.to_string(index=False, float_format=lambda v: f"{v:.4f}")
            text += "\n\npaired differences over the same users:\n" + paired
    return text


def ndcg_overview(table: pd.DataFrame, k: int) -> pd.DataFrame:
    """NDCG@k (± its standard error) per scorer: one column per profile size, then known users.

    ``table`` holds the rows of ``EvaluationResult.table`` (or the manifest's "results").
    """
    columns = [
        (
            f"new user, {size} movie{'' if size == 1 else 's'}",
            (table["protocol"] == NEW_USER) & (table["profile_size"] == size),
        )
        for size in sorted(table.loc[table["protocol"] == NEW_USER, "profile_size"].unique())
    ]
    if (table["protocol"] == KNOWN_USER).any():
        columns.append(("known user", table["protocol"] == KNOWN_USER))
    overview = pd.DataFrame(index=pd.Index(list(dict.fromkeys(table["scorer"])), name="scorer"))
    for name, mask in columns:
        rows = table[mask].drop_duplicates("scorer").set_index("scorer")
        overview[name] = [_cell(rows.loc[s], k) if s in rows.index else "" for s in overview.index]
    return overview


def markdown_summary(result: EvaluationResult) -> str:
    """A README-ready table: NDCG@k per scorer for every profile size and the known users."""
    k = result.settings["k"]
    overview = ndcg_overview(result.table, k)
    lines = [
        f"| NDCG@{k} | " + " | ".join(overview.columns) + " |",
        "|---|" + "---:|" * len(overview.columns),
    ]
    lines += [f"| {scorer} | " + " | ".join(row) + " |" for scorer, row in overview.iterrows()]
    if not result.ratings.empty:
        lines += ["", "| rating prediction (held-out) | RMSE | MAE |", "|---|---:|---:|"]
        lines += [
            f"| {row.predictor} | {row.RMSE:.3f} | {row.MAE:.3f} |"
            for row in result.ratings.itertuples()
        ]
    return "\n".join(lines) + "\n"


def _cell(row: pd.Series, k: int) -> str:
    value, error = row[f"NDCG@{k}"], row[f"NDCG@{k} se"]
    return f"{value:.3f}" if not np.isfinite(error) else f"{value:.3f} ± {error:.3f}"


def write_outputs(result: EvaluationResult, out: Path) -> list[Path]:
    """results.csv, ratings.csv, results.md, validation.csv (tuned) and evaluation.json."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "results.csv", out / "ratings.csv", out / "evaluation.json"]
    written.append(out / "results.md")
    written[-1].write_text(markdown_summary(result))
    result.table.to_csv(written[0], index=False)
    result.ratings.to_csv(written[1], index=False)
    if result.validation is not None:
        written.append(out / "validation.csv")
        result.validation.to_csv(written[-1], index=False)
    written[2].write_text(json.dumps(manifest_section(result), indent=2, default=_plain))
    return written


def manifest_section(result: EvaluationResult) -> dict[str, Any]:
    """The "evaluation" section of the bundle manifest: settings, chosen values, test figures."""
    section = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "protocols": {
            NEW_USER: "80/20 user split; a test user reveals profile_size movies rated >= 4; "
            "targets are their other movies rated >= 4; every movie outside the profile ranked",
            KNOWN_USER: "20% of each test user's ratings held out; targets are those rated >= 4",
        },
        **result.settings,
        "defaults_chosen_by": "python -m recommender.evaluate --tune: validation users drawn "
        "from the train users only; figures in docs/evaluation.md",
        "seconds": round(result.seconds, 1),
        "results": result.table.to_dict(orient="records"),
        "rating_predictions": result.ratings.to_dict(orient="records"),
        "paired_differences": (
            [] if result.paired is None else result.paired.to_dict(orient="records")
        ),
    }
    if result.validation is not None:
        section["validation"] = result.validation.to_dict(orient="records")
    return section


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


# --- command line -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m recommender.evaluate", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="folder of the CSVs")
    parser.add_argument(
        "--profile-size", type=int, nargs="+", default=[5], help="movies a new user reveals"
    )
    parser.add_argument("--k", type=int, default=20, help="length of the judged lists")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("evaluation"), help="CSV/JSON folder")
    parser.add_argument(
        "--artifacts-dir", type=Path, help="write the results into this bundle's manifest"
    )
    parser.add_argument(
        "--tune",
        action="store_true",
        help="first choose the defaults on validation users (train users only) and use them",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    try:
        data = load_dataset(args.data_dir)
        config, validation = TrainingConfig(), None
        if args.tune:
            progress("choosing the defaults on validation users ...")
            config, validation = tune(data, k=args.k, seed=args.seed, progress=progress)
            progress(f"chosen: {asdict(config)}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", metrics.MetricWarning)  # cases always have targets
            result = evaluate(
                data,
                config,
                profile_sizes=args.profile_size,
                k=args.k,
                seed=args.seed,
                progress=progress,
            )
        result.validation = validation
        result.seconds = time.perf_counter() - started
        print(format_table(result))
        for path in write_outputs(result, args.out):
            print(f"wrote {path}")
        if args.artifacts_dir is not None:
            update_manifest(args.artifacts_dir, evaluation=manifest_section(result))
            print(f"wrote the evaluation into the manifest of the bundle in {args.artifacts_dir}")
    except (DataError, BundleError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"evaluation took {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
