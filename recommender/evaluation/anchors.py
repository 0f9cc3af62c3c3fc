"""The anchors the product must beat: strong published baselines, each tuned like our own.

Dacrema, Cremonesi and Jannach (RecSys 2019) found that carefully tuned simple baselines beat
most published models; so every anchor here is tuned on validation users drawn from the
training users only (``tune_anchors``), with the criterion the product's defaults are chosen
by: the mean NDCG@k over new-user profiles of 1, 3, 5 and 10 movies.

Every anchor sees a profile as the set of movies it holds (ratings ignored) and is trained on
every rating of the training users, each one an edge (a 2-star rating is still evidence of
the same audience).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

import numpy as np
import scipy.sparse as sp

from recommender.collaborative import fit_svd
from recommender.evaluation.baselines import Ease
from recommender.neighbours import cosine, profile_scores, rp3beta

ScoreModel = Callable[[np.ndarray], np.ndarray]  # profile movie codes -> a score per movie
Fitter = Callable[[sp.csr_matrix, dict[str, Any]], ScoreModel]


@dataclass(frozen=True)
class Anchor:
    """A baseline: its name in the tables, the parameters tuning tries, how to fit it."""

    name: str
    grid: tuple[dict[str, Any], ...]
    fit: Fitter
    fits: Callable[[tuple[int, int]], bool] = lambda shape: True  # whether it fits in memory


def grid(**values: Sequence[Any]) -> tuple[dict[str, Any], ...]:
    """Every combination of the given parameter values."""
    names = list(values)
    return tuple(dict(zip(names, combo, strict=True)) for combo in product(*values.values()))


def _liked_count(ratings: sp.csr_matrix, params: dict[str, Any]) -> ScoreModel:
    """Popularity by the number of ratings of 4 or more (not the weighted rating)."""
    counts = np.bincount(ratings.indices[ratings.data >= 4.0], minlength=ratings.shape[1])
    counts = counts.astype(np.float64)
    return lambda codes: counts


def _ease(ratings: sp.csr_matrix, params: dict[str, Any]) -> ScoreModel:
    return Ease(ratings, params["lam"]).scores


def _neighbourhood(matrix: sp.csr_matrix) -> ScoreModel:
    return lambda codes: profile_scores(matrix, codes, np.ones(len(codes), np.float32))


def _rp3beta(ratings: sp.csr_matrix, params: dict[str, Any]) -> ScoreModel:
    return _neighbourhood(rp3beta(ratings, params["alpha"], params["beta"], params["neighbours"]))


def _item_knn(ratings: sp.csr_matrix, params: dict[str, Any]) -> ScoreModel:
    return _neighbourhood(cosine(ratings, params["shrinkage"], params["neighbours"]))


def _pure_svd(ratings: sp.csr_matrix, params: dict[str, Any]) -> ScoreModel:
    """PureSVD (Cremonesi et al. 2010): the plain projection r V V^T of the binary profile."""
    edges = sp.csr_matrix(ratings, dtype=np.float32, copy=True)
    edges.data[:] = 1.0
    model = fit_svd(edges, params["factors"], "pure", seed=0)
    return lambda codes: model.personal_scores(codes, np.ones(len(codes), np.float32))


def _ials(ratings: sp.csr_matrix, params: dict[str, Any]) -> ScoreModel:
    """iALS (Hu, Koren and Volinsky 2008) by implicit; a profile is folded in by its own
    least-squares step (``recalculate_user``)."""
    from implicit.cpu.als import AlternatingLeastSquares

    edges = sp.csr_matrix(ratings, dtype=np.float32, copy=True)
    edges.data[:] = 1.0
    model = AlternatingLeastSquares(
        factors=params["factors"],
        regularization=params["regularization"],
        alpha=params["alpha"],
        iterations=15,
        random_state=0,
        num_threads=1,
    )
    model.fit(edges, show_progress=False)
    n_movies = edges.shape[1]

    def score(codes: np.ndarray) -> np.ndarray:
        row = sp.csr_matrix(
            (np.ones(len(codes), np.float32), (np.zeros(len(codes), int), codes)),
            shape=(1, n_movies),
        )
        user = np.asarray(model.recalculate_user(0, row)).ravel()
        return model.item_factors @ user

    return score


def implicit_installed() -> bool:
    try:
        import implicit  # noqa: F401
    except ImportError:
        return False
    return True


EASE_500 = Anchor("EASE (λ=500)", ({"lam": 500.0},), _ease, Ease.fits)  # issue 11's yardstick
ANCHORS: list[Anchor] = [
    Anchor("popularity (count of 4+)", ({},), _liked_count),
    Anchor("EASE", grid(lam=(250.0, 500.0, 1_000.0, 2_000.0, 4_000.0, 8_000.0)), _ease, Ease.fits),
    Anchor(
        "RP3beta",
        grid(alpha=(0.5, 0.75, 1.0), beta=(0.0, 0.25), neighbours=(200,)),
        _rp3beta,
    ),
    Anchor("item-kNN", grid(shrinkage=(0.0, 10.0, 50.0), neighbours=(200,)), _item_knn),
    Anchor("PureSVD", grid(factors=(16, 32, 64, 128)), _pure_svd),
]
if implicit_installed():
    ANCHORS.append(
        Anchor(
            "iALS",
            grid(factors=(32, 64, 128), regularization=(0.01, 0.1), alpha=(1.0,)),
            _ials,
        )
    )


def label(anchor: Anchor, params: dict[str, Any]) -> str:
    """ "RP3beta (alpha=0.5, beta=0.25, neighbours=200)": an anchor with its parameters."""
    shown = ", ".join(f"{name}={value:g}" for name, value in params.items())
    return f"{anchor.name} ({shown})" if shown else anchor.name
