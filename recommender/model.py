"""What the trainer hands the scorers: the training parameters and the fitted parts.

This module sits below every scorer and knows none of them, nor the trainer: a scorer's
``from_training`` reads a ``Model`` and a ``TrainingConfig`` from here, and the trainer
(``recommender.training``, which imports the registry of scorers) builds them. So the imports
run one way: training -> registry -> scorers -> model (tests/test_layout.py checks it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from recommender.data import Dataset
from recommender.popularity import Popularity


@dataclass(frozen=True)
class TrainingConfig:
    """Parameters of a training run; stored in the bundle manifest.

    The defaults were chosen by ``python -m recommender.evaluate --tune`` on validation users
    of ml-latest-small (train users only; docs/evaluation.md has the figures).
    """

    factors: int = 160  # the best k of the tuning grid, which stops at 160 (bundle size)
    variant: str = "pure"  # zero-filled SVD: "centered" ranks at half the NDCG
    shrinkage: float = 1.0  # fold-in f = s^2 / (s^2 + 1.0 s_1^2 / n): a low-rank ridge
    seed: int = 0
    popularity_quantile: float = 0.98  # m of the weighted rating (0.99: < 100 movies qualify)
    popular_pool: int = 100
    # (scorer name, weight) pairs that replace the scorers' own default weights in the blend
    weights: tuple[tuple[str, float], ...] = ()
    # A rating above neutral_rating is a like, (r - n) / (5 - n) strong; at or below it, a
    # dislike, which only pushes its own neighbours down (dislike_weight: how hard).
    neutral_rating: float = 2.0
    dislike_weight: float = 1.0
    # Neighbours ("fans also liked"): movies two people both rated at least neighbour_rating
    # are linked; similarity co / (n_i^a n_j^(1-a) + shrinkage), the top `neighbours` kept.
    neighbour_rating: float = 0.0
    neighbour_asymmetry: float = 0.3
    neighbour_shrinkage: float = 10.0
    neighbours: int = 100
    neighbour_sharpness: float = 2.0  # the 0-1 link strength to this power: strong links stand out
    neighbour_user_cap: int = 500
    # Steck's calibration: how strongly the list's genre mix is drawn to the profile's (0: off)
    calibration: float = 0.3  # a seeded sample of this many likes per user (speed at 32M)
    item_norm_exponent: float = 0.25  # alpha: SVD columns divided by (ratings of the movie)^alpha
    shrinkage_decay: float = 1.0  # an n-movie profile is shrunk by shrinkage * n^-decay
    discovery: float = 0.5  # the default of recommend(discovery=...): recommender.discovery


class BuiltScorer(Protocol):
    """A scorer an engine built itself (the trainer only asks it for its bundle arrays)."""

    def to_arrays(self) -> dict[str, np.ndarray]: ...


@dataclass
class Model:
    """Everything trained, before it is written."""

    data: Dataset
    popularity: Popularity
    content: ContentModel
    cf: CollaborativeModel
    # scorers an engine built itself, by name (the Spark engine's neighbours come from its
    # executors); every other registered scorer is built by its own from_training
    scorers: dict[str, BuiltScorer] = field(default_factory=dict)


@dataclass(frozen=True)
class CollaborativeModel:
    """SVD factors. Index of ``item_factors`` = movie code; of ``user_factors`` = user code."""

    item_factors: np.ndarray  # movies x k: V
    singular_values: np.ndarray  # k: s
    user_factors: np.ndarray | None  # users x k: U * s (training only; not in the bundle)
    user_means: np.ndarray | None  # users: the mean removed per user ("centered"), else zeros
    variant: str
    shrinkage: float = 0.0  # relative to the largest squared singular value
    item_scale: np.ndarray | None = None  # movies: d, the column normalisation (None: all 1)
    shrinkage_decay: float = 0.0  # the shrinkage of an n-movie profile is shrinkage * n^-decay

    @property
    def k(self) -> int:
        return int(self.singular_values.shape[0])

    @property
    def fold_in_weights(self) -> np.ndarray:
        """f per factor: how much of each factor a folded-in one-movie profile keeps."""
        return self.fold_in_weights_for(1)

    def fold_in_weights_for(self, n_movies: int) -> np.ndarray:
        """f per factor for a profile of ``n_movies``.

        A longer profile is more evidence, so it is shrunk less: shrinkage * n^-decay. The
        evaluation measured the best shrinkage falling from 1 (one movie) to 0.1 (ten movies).
        """
        squared = self.singular_values.astype(np.float64) ** 2
        if self.shrinkage <= 0 or len(squared) == 0:
            return np.ones_like(squared, dtype=np.float32)
        shrinkage = self.shrinkage * max(n_movies, 1) ** -self.shrinkage_decay
        return (squared / (squared + shrinkage * squared.max())).astype(np.float32)

    def _unscale(self, scores: np.ndarray) -> np.ndarray:
        """Undo the column normalisation on scores of every movie (last axis)."""
        return scores if self.item_scale is None else scores * self.item_scale

    def predict(self, user_codes: np.ndarray) -> np.ndarray:
        """Predicted ratings of the given users for every movie (len(users) x movies)."""
        users = np.atleast_1d(user_codes)
        if self.user_factors is None or self.user_means is None:
            raise ValueError("these factors were loaded without their users: no predictions")
        scores = self._unscale(self.user_factors[users] @ self.item_factors.T)
        return scores + self.user_means[users, None]

    def general_scores(self) -> np.ndarray:
        """Mean predicted rating of each movie over all users, in O((users + movies) * k).

        mean_u(U_u s V_i + b_u) = (mean_u U_u s) V_i + mean_u b_u: no users x movies matrix.
        """
        if self.user_factors is None or self.user_means is None:
            raise ValueError("these factors were loaded without their users: no general score")
        mean_user = self.user_factors.mean(axis=0, dtype=np.float64)
        mean_offset = float(self.user_means.mean()) if len(self.user_means) else 0.0
        general = self._unscale(self.item_factors @ mean_user.astype(np.float32))
        return general + np.float32(mean_offset)

    def fold_in(self, movie_codes: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The factor vector of a new user who gave ``values`` to ``movie_codes``."""
        codes = np.asarray(movie_codes)
        values = np.asarray(values, dtype=np.float32)
        if self.variant == "centered" and len(values) > 1:
            values = values - values.mean()
        if self.item_scale is not None:
            values = values / self.item_scale[codes]
        projected = values @ self.item_factors[codes]
        return projected * self.fold_in_weights_for(len(codes))

    def personal_scores(self, movie_codes: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Fold-in scores of every movie for a new user's profile (O(movies * k)).

        They stay in the normalised space the SVD was fitted in (columns divided by d, the
        movie's ratings^alpha): multiplying them back by d, as a predicted rating would be,
        gave every much-rated film a lift of ratings^alpha whatever the profile, and that lift
        carried the blockbusters of other kinds into far tastes (Forrest Gump for a Kubrick
        fan: docs/evaluation.md, "The leak").
        """
        return self.item_factors @ self.fold_in(movie_codes, values)


DENSE_GENRE_CELLS = 1 << 25  # movies x genres up to which the distinct rows are held densely


@dataclass(frozen=True)
class ContentModel:
    """Row-normalised TF-IDF vectors of every movie's genres (index = movie code)."""

    matrix: sp.csr_matrix  # movies x genres, float32, rows of unit length (or zero)
    genres: list[str]  # the vocabulary, column order
    idf: np.ndarray  # float32 per genre

    def vectorize(self, genres: Iterable[str]) -> np.ndarray:
        """The unit TF-IDF vector of one list of genres (unknown genres are ignored)."""
        index = {genre: column for column, genre in enumerate(self.genres)}
        vector = np.zeros(len(self.genres), dtype=np.float64)
        for genre in genres:
            if genre in index:
                vector[index[genre]] = self.idf[index[genre]]
        norm = np.linalg.norm(vector)
        return vector / norm if norm > 0 else vector

    def profile_vector(
        self, genre_lists: Sequence[Iterable[str]], weights: Sequence[float]
    ) -> np.ndarray:
        """The weighted sum of each profile movie's genre vector."""
        vector = np.zeros(len(self.genres), dtype=np.float64)
        for genres, weight in zip(genre_lists, weights, strict=True):
            vector += weight * self.vectorize(genres)
        return vector

    def scores(self, profile: np.ndarray) -> np.ndarray:
        """Cosine similarity of every movie to the profile vector (0 for an empty profile)."""
        norm = np.linalg.norm(profile)
        if norm == 0:
            return np.zeros(self.matrix.shape[0], dtype=np.float32)
        if self._distinct_rows is None:
            return (self.matrix @ (profile / norm)).astype(np.float32)
        rows, movie_row = self._distinct_rows
        return np.take(rows @ (profile / norm), movie_row).astype(np.float32)

    @cached_property
    def _distinct_rows(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(the matrix's distinct rows, dense float64; which of them each movie has), or None
        for a vocabulary too large to hold densely. Movies share a few thousand combinations
        of genres (2,634 among 87,585 at MovieLens-32M size), so a profile's cosine is computed
        once per combination: 0.1 ms a request, against 0.6 ms for the sparse product."""
        movies, genres = self.matrix.shape
        if movies * genres > DENSE_GENRE_CELLS or movies == 0 or genres == 0:
            return None
        dense = np.ascontiguousarray(self.matrix.toarray(), dtype=np.float64)
        # rows told apart by a random projection (a sort of floats, not of byte strings:
        # 10x faster), checked: two distinct rows that project alike fall back to the bytes
        key = dense @ np.random.default_rng(0).random(genres)
        _, first, movie_row = np.unique(key, return_index=True, return_inverse=True)
        if not np.array_equal(dense[first][movie_row], dense):
            as_bytes = dense.view(np.dtype((np.void, dense.itemsize * genres))).ravel()
            _, first, movie_row = np.unique(as_bytes, return_index=True, return_inverse=True)
        return dense[first], movie_row.ravel().astype(np.intp)

    def movie_genres(self, code: int) -> list[str]:
        """The genres the model knows for one movie."""
        row = self.matrix.indices[self.matrix.indptr[code] : self.matrix.indptr[code + 1]]
        return [self.genres[column] for column in sorted(row)]
