"""Collaborative filtering: truncated SVD of the sparse users x movies rating matrix.

Only the factors are kept (float32): R ~ U S V^T. Predicted ratings for a user are materialised
on demand, one row at a time; the dense users x movies matrix is never built (81 GB at
MovieLens-25M).

Variants (``variant``):
- "pure": PureSVD, the zero-filled rating matrix. Ranks far better than the others here.
- "centered": each user's mean is subtracted from their ratings first; predicts ratings better.

Popularity normalisation (``item_scale``, d): before the SVD each movie's column is divided by
d_j = (number of ratings)^alpha, so the factors are not spent on the few blockbusters everybody
rated; scores are multiplied by d again afterwards, so a prediction is on the rating scale. alpha
= 0 gives d = 1, plain SVD. The evaluation (docs/evaluation.md) chose alpha on validation users.

A new user is folded in without retraining: their rating row r is projected on the item factors,
p = (r / d) V diag(f), and scored against every movie, (p V^T) * d, with per-factor shrinkage
f = s^2 / (s^2 + shrinkage * s_1^2). ``shrinkage`` is relative to the largest squared singular
value s_1^2 so that one value carries over between data sets of different sizes; with shrinkage
0, f = 1 and the score is the plain PureSVD projection r V V^T. A large shrinkage makes f close to
s^2 / (shrinkage * s_1^2): a low-rank ridge, the item-item co-occurrence X^T X seen through k
factors, which ranks better here than the plain projection.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

import numpy as np
import scipy.sparse as sp

from recommender.bundle import expect_array
from recommender.model import CollaborativeModel, Model, TrainingConfig
from recommender.scorer import BundleInfo, Request, Scorer
from recommender.titles import quoted_title

VARIANTS = ("pure", "centered")


def prepare_matrix(ratings: sp.csr_matrix, variant: str) -> tuple[sp.csr_matrix, np.ndarray]:
    """The matrix the SVD factorises for ``variant`` and the per-user means it removed."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}; got {variant!r}")
    n_users = ratings.shape[0]
    if variant == "pure":
        return ratings, np.zeros(n_users, dtype=np.float32)
    counts = np.maximum(np.diff(ratings.indptr), 1)
    means = (np.asarray(ratings.sum(axis=1)).ravel() / counts).astype(np.float32)
    centered = ratings.copy()
    centered.data -= np.repeat(means, np.diff(ratings.indptr))
    return centered, means


def fit_svd(
    ratings: sp.csr_matrix,
    k: int,
    variant: str = "pure",
    seed: int = 0,
    shrinkage: float = 0.0,
    n_iter: int = 4,
    item_norm_exponent: float = 0.0,
) -> CollaborativeModel:
    """Truncated SVD (randomized, seeded) of the rating matrix, keeping k factors.

    k is lowered to min(users, movies) - 1 when the data has fewer; the caller reports that.
    ``item_norm_exponent`` is alpha of the column normalisation (module docstring).
    """
    from recommender.svd import randomized_svd  # imported here: serving never needs it

    matrix, means = prepare_matrix(ratings, variant)
    scale = column_scale(ratings, item_norm_exponent)
    if scale is not None:
        matrix = (matrix @ sp.diags(1.0 / scale)).tocsr()
    k = effective_factors(k, ratings.shape)
    # Seeded randomized SVD, float32, sparse products in threads (recommender/svd.py; the
    # choice over ARPACK and over scikit-learn's randomized_svd is measured in docs/scale.md).
    u, s, vt = randomized_svd(matrix, k, n_iter=n_iter, seed=seed)
    return CollaborativeModel(
        item_factors=np.ascontiguousarray(vt.T, dtype=np.float32),
        singular_values=s.astype(np.float32),
        user_factors=np.ascontiguousarray(u * s, dtype=np.float32),
        user_means=means,
        variant=variant,
        shrinkage=float(shrinkage),
        item_scale=scale,
    )


def column_scale(ratings: sp.csr_matrix, exponent: float) -> np.ndarray | None:
    """d_j = max(1, ratings of movie j)^exponent (float32), or None when exponent is 0."""
    counts = np.bincount(ratings.indices, minlength=ratings.shape[1])
    return column_scale_from_counts(counts, exponent)


def column_scale_from_counts(counts: np.ndarray, exponent: float) -> np.ndarray | None:
    """``column_scale`` from each movie's number of ratings."""
    if exponent == 0:
        return None
    return (np.maximum(counts, 1).astype(np.float64) ** exponent).astype(np.float32)


def effective_factors(k: int, shape: tuple[int, int]) -> int:
    """The number of factors a matrix of ``shape`` supports: at most min(shape) - 1, at least 1."""
    if k < 1:
        raise ValueError(f"the number of factors must be at least 1, got {k}")
    return max(1, min(k, min(shape) - 1))


class GeneralCFScorer(Scorer):
    """What everybody likes: each movie's mean predicted score over all users of the data."""

    name = "general_cf"
    label = "Liked by everyone"
    help = "How highly everyone in the data set would rate it"
    default_weight = 0.0  # measured: no help to NDCG, and the same blockbusters for everyone

    def __init__(self, general: np.ndarray, n_ratings: np.ndarray, mean_rating: np.ndarray):
        self.general = np.asarray(general, dtype=np.float32)
        self.n_ratings = n_ratings
        self.mean_rating = mean_rating

    @classmethod
    def from_training(cls, model: Model, config: TrainingConfig) -> Self:
        popularity = model.popularity
        return cls(model.cf.general_scores(), popularity.n_ratings, popularity.mean_rating)

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], info: BundleInfo) -> Self:
        general = expect_array(arrays, "scores", (len(info.movies),), "f")
        movies = info.movies
        return cls(general, movies["n_ratings"].to_numpy(), movies["mean_rating"].to_numpy())

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"scores": self.general}

    def scores(self, request: Request) -> np.ndarray:
        return self.general

    def reasons(self, codes: np.ndarray, request: Request) -> list[str | None]:
        return [
            f"widely liked: {float(self.mean_rating[code]):.1f} average from "
            f"{int(self.n_ratings[code]):,} ratings"
            for code in codes
        ]


class PersonalScorer(Scorer):
    """People like you: the profile folded into the SVD factors (no retraining)."""

    name = "personal"
    label = "People like you"
    help = "What people who liked your movies also liked (your profile folded into the model)"
    default_weight = 0.6
    tuning_weights = None  # takes what the other scorers leave

    def __init__(self, cf: CollaborativeModel, titles: np.ndarray):
        self.cf = cf
        self.titles = titles

    @classmethod
    def from_training(cls, model: Model, config: TrainingConfig) -> Self:
        return cls(model.cf, model.data.movies["title"].to_numpy())

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], info: BundleInfo) -> Self:
        movies, params = len(info.movies), info.parameters
        # stored as float16 (half the bundle), served as float32: a float16 matrix would be
        # converted on every request
        factors = expect_array(arrays, "item_factors", (movies, None), "f").astype(np.float32)
        k = factors.shape[1]
        cf = CollaborativeModel(
            item_factors=factors,
            singular_values=np.asarray(expect_array(arrays, "singular_values", (k,), "f")),
            user_factors=None,
            user_means=None,
            variant=str(params["variant"]),
            shrinkage=float(params["shrinkage"]),
            item_scale=np.asarray(
                expect_array(arrays, "item_scale", (movies,), "f", positive=True)
            ),
            shrinkage_decay=float(params.get("shrinkage_decay", 0.0)),
        )
        return cls(cf, info.movies["title"].to_numpy())

    def to_arrays(self) -> dict[str, np.ndarray]:
        cf = self.cf
        scale = cf.item_scale
        if scale is None:  # no column normalisation: d = 1 for every movie
            scale = np.ones(cf.item_factors.shape[0], dtype=np.float32)
        return {
            "item_factors": np.asarray(cf.item_factors, dtype=np.float16),
            "singular_values": np.asarray(cf.singular_values, dtype=np.float32),
            "item_scale": np.asarray(scale, dtype=np.float32),
        }

    def scores(self, request: Request) -> np.ndarray:
        liked = request.liked  # a disliked movie is not folded in: it would flip the profile
        return self.cf.personal_scores(request.codes[liked], request.weights[liked])

    def reasons(self, codes: np.ndarray, request: Request) -> list[str | None]:
        """ "people who liked X liked it", X the liked profile movie that pulls it up most
        compared with how much X pulls up the other results: a movie loved by everyone (Star
        Wars) pulls every result up, so the plain strongest pull would name it on most rows."""
        liked = request.codes[request.liked]
        if len(liked) == 0:
            return [None] * len(codes)
        cf, weights = self.cf, request.weights[request.liked]
        if cf.item_scale is not None:  # the fold-in divides each rating by the movie's d
            weights = weights / cf.item_scale[liked]
        shrunk = cf.item_factors[liked] * cf.fold_in_weights_for(len(liked))
        closeness = (cf.item_factors[codes] @ shrunk.T) * weights
        norms = np.linalg.norm(cf.item_factors[liked], axis=1) + 1e-12
        specific = np.where(closeness > 0, closeness / (weights * norms), -np.inf)
        reasons: list[str | None] = []
        for row, pulls in enumerate(specific):  # the liked movie that pulls it up most, if any
            best = int(np.argmax(pulls))
            title = quoted_title(self.titles[liked[best]])
            reasons.append(
                f"people who liked {title} liked it" if closeness[row, best] > 0 else None
            )
        return reasons
