"""Checks of what a caller passes to ``Recommender``: each refusal a ``ValueError`` that names
the argument and what it should be (implicit's style), never a wrong answer."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from recommender.data import MAX_RATING, MIN_RATING


def movie_id(value: Any) -> int:
    """A movieId given by a caller: a whole number (not a bool, a fraction or text; 1.0 is 1)."""
    whole = isinstance(value, numbers.Integral) or (
        isinstance(value, numbers.Real) and float(value).is_integer()
    )
    if isinstance(value, bool) or not whole:
        raise ValueError(f"movieId must be a whole number, got {value!r}")
    if not -(2**63) <= int(value) < 2**63:  # no bundle holds it (ids are int64)
        raise ValueError(f"unknown movieId(s): {int(value)}")
    return int(value)


def movie_ids(values: Iterable[Any]) -> np.ndarray:
    """``values`` as int64 movieIds, each checked as ``movie_id`` checks one. Plain whole
    numbers take a vectorized path (1,000 ids in well under a millisecond)."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "i":
        return values.astype(np.int64, copy=False).ravel()
    values = list(values)
    if all(type(value) is int for value in values):  # not bool, whose type is bool
        try:
            return np.asarray(values, dtype=np.int64)
        except OverflowError:
            pass  # the check below names the value
    return np.asarray([movie_id(value) for value in values], dtype=np.int64)


def user_id(value: Any) -> int:
    """A userId given by a caller: a whole number (not a bool, a fraction or text)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"user_id must be a whole number, got {value!r}")
    return int(value)


def rating(movie_id: Any, rating: Any) -> float:
    """A profile rating: None (no rating) as NaN, else a number within 0.5-5."""
    if rating is None:
        return math.nan
    if isinstance(rating, bool) or not isinstance(rating, numbers.Real):
        raise ValueError(f"rating of movieId {movie_id} must be a number or None, got {rating!r}")
    if not MIN_RATING <= float(rating) <= MAX_RATING:  # also refuses NaN
        raise ValueError(f"rating of movieId {movie_id} must be 0.5-5, got {rating}")
    return float(rating)


def weight(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"weights: {name} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"weights: {name} must be a finite number >= 0, got {value!r}")
    return float(value)


def count(n: Any, argument: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"{argument} must be a whole number >= 0, got {n!r}")
    return int(n)


def discovery(value: Any) -> float:
    """A discovery setting: a number from 0 (popular picks) to 1 (hidden gems)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"discovery must be a number from 0 to 1, got {value!r}")
    if not 0.0 <= float(value) <= 1.0:  # also refuses NaN
        raise ValueError(f"discovery must be from 0 to 1, got {value!r}")
    return float(value)
