"""What a visitor narrows recommendations to: genres in or out, a range of release years."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Filters:
    """Keep movies with any of ``include_genres``, none of ``exclude_genres`` and a release
    year within ``years`` (both ends included; None: any year, and movies without a year).

    Frozen and hashable, so ``recommend``, ``popular`` and the app's caches share one value.
    Genre names are checked against a model's vocabulary by ``Recommender``; a list given for
    a genre argument is kept as a tuple.
    """

    include_genres: tuple[str, ...] = ()
    exclude_genres: tuple[str, ...] = ()
    years: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        for name in ("include_genres", "exclude_genres"):
            object.__setattr__(self, name, genre_names(getattr(self, name), name))
        if self.years is not None:
            object.__setattr__(self, "years", _year_range(self.years))

    @property
    def genres(self) -> tuple[str, ...]:
        """Every genre name the filters mention."""
        return self.include_genres + self.exclude_genres

    def __bool__(self) -> bool:
        return bool(self.include_genres or self.exclude_genres or self.years is not None)


def genre_names(value: Any, argument: str) -> tuple[str, ...]:
    """``value`` as a tuple of genre names; ``ValueError`` naming ``argument`` if it is one
    string or holds anything but text."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(f"{argument} must be a list of genre names, got {value!r}")
    names = tuple(value)
    for name in names:
        if not isinstance(name, str):
            raise ValueError(f"{argument} must hold genre names (text), got {name!r}")
    return names


def genre_lists(value: Any, argument: str) -> dict[Any, tuple[str, ...]]:
    """``value`` (None, or movieId -> genre names) as a dict of tuples; ``ValueError`` naming
    ``argument`` if it is not a mapping or a movie's genres are not a list of names."""
    if not isinstance(value, Mapping | None):
        raise ValueError(f"{argument} must map movieIds to genre lists, got {value!r}")
    return {
        movie_id: genre_names(names, f"{argument} of movieId {movie_id}")
        for movie_id, names in (value or {}).items()
    }


def _year_range(years: Any) -> tuple[int, int]:
    try:
        first, last = years
    except (TypeError, ValueError):
        raise ValueError(f"years must be a pair (from, to), got {years!r}") from None
    bounds = []
    for value in (first, last):
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not math.isfinite(value)
        ):
            raise ValueError(f"years must be two whole years, got {years!r}")
        if value != int(value):
            raise ValueError(f"years must be two whole years, got {years!r}")
        bounds.append(int(value))
    if bounds[0] > bounds[1]:
        raise ValueError(f"years run from the first to the last, got {years!r} (reversed?)")
    return bounds[0], bounds[1]


NO_FILTERS = Filters()
