"""The contract every scorer keeps, and the request it answers.

A scorer turns one taste profile into a score for every movie (higher = better). The
``Recommender`` puts each scorer's scores on a 0-1 scale over the movies that may be recommended
and blends them with a weight per scorer, by name. A scorer also explains a result in words, and
owns the arrays it keeps in the bundle: ``to_arrays`` gives them to the bundle writer,
``from_arrays`` takes them back (``recommender.bundle`` alone knows files and formats).

Adding a scorer is one subclass of ``Scorer`` plus one line in ``recommender.registry``: the
result columns (``<name>_score``), the app's sliders, the manifest's default weights and the
evaluation's rows and tuning grid all come from the registry.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from recommender.data import Dataset
    from recommender.model import Model, TrainingConfig


@dataclass(frozen=True, eq=False)
class Request:
    """One taste profile, as every scorer sees it (movie codes index every movie-sized array).

    ``weights`` says how much each profile movie counts, from its rating (see
    ``Recommender.rating_weights``); ``genres`` are the genres the visitor attached to each
    profile movie (the movie's own by default); ``allowed`` marks the movies that may be
    recommended (filters passed, not in the profile).
    """

    codes: np.ndarray  # int: the profile's movie codes
    ratings: np.ndarray  # float32: the visitor's ratings, NaN where none was given
    weights: np.ndarray  # float32: how much each profile movie counts
    genres: tuple[tuple[str, ...], ...]  # the genres of each profile movie
    allowed: np.ndarray  # bool over all movies

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def liked(self) -> np.ndarray:
        """Which profile movies the visitor liked (a positive weight)."""
        return self.weights > 0

    @property
    def liked_weights(self) -> np.ndarray:
        """The weights with dislikes at 0: what a scorer that only follows likes uses."""
        return np.maximum(self.weights, 0).astype(np.float32)


@dataclass(frozen=True)
class BundleInfo:
    """What a scorer may read besides its own arrays when it is loaded from a bundle."""

    counts: Mapping[str, int]  # movies, users, ratings, genres, factors
    parameters: Mapping[str, Any]  # the training parameters (TrainingConfig as a dict)
    genres: tuple[str, ...]  # the genre vocabulary
    movies: pd.DataFrame  # the movie table (row = movie code): titles, rating counts, means


class Scorer(ABC):
    """One signal of the hybrid: scores every movie for a request, explains a result.

    Class attributes name the scorer for people and programs alike:

    - ``name``: the key of its weight and of its result column ``<name>_score``;
    - ``label`` and ``help``: what the app's slider and the tables call it, in the user's words;
    - ``default_weight``: its weight in the default blend (chosen on validation users);
    - ``tuning_weights``: the weights the evaluation's tuning tries; None for the one scorer
      that takes what the others leave (the weights of a blend sum to 1);
    - ``unit_range``: its scores already mean something on 0-1 (a cosine), so they are kept
      as they are instead of stretched to 0-1 over the candidates: a weak match stays weak
      (down to -1 for a movie a dislike pushes away);
    - ``reason_first``: where it has a reason, that reason is shown before the other scorers'
      (a series' "next in the Toy Story series" says more than the strongest part's).

    A scorer reads the profile's ``weights``: positive for a liked movie, negative for a
    disliked one. A disliked movie may push its own neighbours down; it must never count as
    the opposite of a like (a linear fold-in with negative weights flips the whole profile).
    """

    name: ClassVar[str]
    label: ClassVar[str]
    help: ClassVar[str]
    default_weight: ClassVar[float]
    tuning_weights: ClassVar[tuple[float, ...] | None] = (0.0, 0.05, 0.1, 0.2)
    unit_range: ClassVar[bool] = False
    reason_first: ClassVar[bool] = False

    @classmethod
    @abstractmethod
    def from_training(cls, model: Model, config: TrainingConfig) -> Self:
        """The scorer for a freshly trained model (the trainer calls this once)."""

    @classmethod
    def from_data(cls, data: Dataset, config: TrainingConfig) -> Self | None:
        """The scorer from the loaded data alone, or None (the default) for one that needs
        the fitted models. The trainer builds these in a thread while the SVD runs: the SVD's
        products leave part of a core idle, which a Python-heavy scorer then fills."""
        return None

    @classmethod
    @abstractmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], info: BundleInfo) -> Self:
        """The scorer from the arrays ``to_arrays`` wrote; raises ``BundleError`` if they do
        not fit the bundle's counts."""

    @abstractmethod
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays this scorer keeps in the bundle, by name (numeric dtypes only)."""

    @abstractmethod
    def scores(self, request: Request) -> np.ndarray:
        """A finite score for every movie (higher is better), on any scale."""

    def reasons(self, codes: np.ndarray, request: Request) -> list[str | None]:
        """Words that explain why each of ``codes`` is recommended, or None where this
        scorer has nothing honest to say (the next strongest part then explains it)."""
        return [None] * len(codes)


def blend(parts: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """The hybrid score: the weighted mean of the 0-1 scaled parts, by scorer name (so it is
    on 0-1 too: 1 only for a movie every weighted part puts first)."""
    # Weights are relative: scaled to a largest of 1, a weight of 1e-300 does not underflow.
    scale = max((float(weights.get(name, 0.0)) for name in parts), default=0.0) or 1.0
    total = sum(float(weights.get(name, 0.0)) / scale for name in parts)
    mixed = sum(float(weights.get(name, 0.0)) / scale * part for name, part in parts.items())
    return mixed / total if total > 0 else mixed


@dataclass
class ScoredProfile:
    """A profile's scores over every movie, before the blend (see ``Recommender.score_parts``)."""

    request: Request
    parts: dict[str, np.ndarray]  # scorer name -> its scores, 0-1 over ``request.allowed``

    @property
    def allowed(self) -> np.ndarray:
        return self.request.allowed
