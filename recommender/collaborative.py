"""Collaborative filtering: truncated SVD of the sparse users x movies rating matrix.

Only the factors are kept (float32): R ~ U S V^T. Predicted ratings for a user are materialised
on demand, one row at a time; the dense users x movies matrix is never built (81 GB at
MovieLens-25M).

Variants (``variant``):
- "pure": PureSVD, the zero-filled rating matrix. Ranks far better than the others here.
- "centered": each user's mean is subtracted from their ratings first; predicts ratings better.

A new user is folded in without retraining: their rating row r is projected on the item factors,
p = r V diag(f), and scored against every movie, p V^T, with f = s^2 / (s^2 + shrinkage) (f = 1
without shrinkage: the plain PureSVD projection r V V^T).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

VARIANTS = ("pure", "centered")


@dataclass(frozen=True)
class CollaborativeModel:
    """SVD factors. Index of ``item_factors`` = movie code; of ``user_factors`` = user code."""

    item_factors: np.ndarray  # movies x k: V
    singular_values: np.ndarray  # k: s
    user_factors: np.ndarray  # users x k: U * s
    user_means: np.ndarray  # users: the mean subtracted per user ("centered"), else zeros
    variant: str
    shrinkage: float = 0.0

    @property
    def k(self) -> int:
        return int(self.singular_values.shape[0])

    @property
    def fold_in_weights(self) -> np.ndarray:
        """f per factor: how much of each factor a folded-in profile keeps."""
        squared = self.singular_values.astype(np.float64) ** 2
        return (squared / (squared + self.shrinkage)).astype(np.float32)

    def predict(self, user_codes: np.ndarray) -> np.ndarray:
        """Predicted ratings of the given users for every movie (len(users) x movies)."""
        users = np.atleast_1d(user_codes)
        scores = self.user_factors[users] @ self.item_factors.T
        return scores + self.user_means[users, None]

    def general_scores(self) -> np.ndarray:
        """Mean predicted rating of each movie over all users, in O((users + movies) * k).

        mean_u(U_u s V_i + b_u) = (mean_u U_u s) V_i + mean_u b_u: no users x movies matrix.
        """
        mean_user = self.user_factors.mean(axis=0, dtype=np.float64)
        mean_offset = float(self.user_means.mean()) if len(self.user_means) else 0.0
        return (self.item_factors @ mean_user.astype(np.float32)) + np.float32(mean_offset)

    def fold_in(self, movie_codes: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The factor vector of a new user who gave ``values`` to ``movie_codes``."""
        values = np.asarray(values, dtype=np.float32)
        if self.variant == "centered" and len(values) > 1:
            values = values - values.mean()
        projected = values @ self.item_factors[np.asarray(movie_codes)]
        return projected * self.fold_in_weights

    def personal_scores(self, movie_codes: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Fold-in scores of every movie for a new user's profile (O(movies * k))."""
        return self.item_factors @ self.fold_in(movie_codes, values)


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
) -> CollaborativeModel:
    """Truncated SVD (randomized, seeded) of the rating matrix, keeping k factors.

    k is lowered to min(users, movies) - 1 when the data has fewer; the caller reports that.
    """
    from sklearn.utils.extmath import randomized_svd  # imported here: serving never needs it

    matrix, means = prepare_matrix(ratings, variant)
    k = effective_factors(k, ratings.shape)
    u, s, vt = randomized_svd(
        matrix.astype(np.float32), n_components=k, n_iter=n_iter, random_state=seed
    )
    return CollaborativeModel(
        item_factors=np.ascontiguousarray(vt.T, dtype=np.float32),
        singular_values=s.astype(np.float32),
        user_factors=np.ascontiguousarray(u * s, dtype=np.float32),
        user_means=means,
        variant=variant,
        shrinkage=float(shrinkage),
    )


def effective_factors(k: int, shape: tuple[int, int]) -> int:
    """The number of factors a matrix of ``shape`` supports: at most min(shape) - 1, at least 1."""
    if k < 1:
        raise ValueError(f"the number of factors must be at least 1, got {k}")
    return max(1, min(k, min(shape) - 1))
