"""Sequels: the one thing every fan expects of a one-movie profile, measured across a catalogue.

A franchise is found by its titles: "Toy Story", "Toy Story 2", "Toy Story 3"; "The Godfather",
"The Godfather: Part II"; "Back to the Future", "Back to the Future Part II"; "Rocky III".
Each film that has a next one gives a case: a visitor who liked only the first film, whose
target is the next. ``hit rate@5`` is the share of such cases whose next film is in the top 5.
Franchises whose titles do not follow these patterns (Star Wars' episodes, The Lord of the
Rings' subtitles) are not found; the measure is the same for every scorer, so it compares them.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from recommender.evaluation.splits import Case
from recommender.titles import display_title

ROMAN = {"ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6}
# "X 2", "X II", "X Part 2", "X: Part II", "X 2: Subtitle": the stem and the number
NUMBERED = re.compile(
    r"^(?P<stem>.+?)[:,]?\s+(?:part\s+)?(?P<number>[2-6]|ii|iii|iv|v|vi)(?::.*)?$", re.IGNORECASE
)


def _stem_and_number(title: str) -> tuple[str, int]:
    name = display_title(title).casefold().strip()
    match = NUMBERED.match(name)
    if not match:
        return name, 1
    number = match.group("number").casefold()
    return match.group("stem").strip(" :,"), int(ROMAN.get(number, number))


def franchise_cases(movies: pd.DataFrame, min_ratings: int = 1) -> list[Case]:
    """One case per film whose next film of the same franchise is in ``movies`` (both with at
    least ``min_ratings`` ratings in the ``n_ratings`` column when there is one)."""
    counts = movies["n_ratings"] if "n_ratings" in movies else pd.Series(min_ratings, movies.index)
    found: dict[str, dict[int, int]] = {}
    for movie_id, title, rated in zip(movies["movieId"], movies["title"], counts, strict=True):
        if rated < min_ratings:
            continue
        stem, number = _stem_and_number(str(title))
        if len(stem) >= 3:  # "2" or "Up" alone is not a franchise
            found.setdefault(stem, {}).setdefault(number, int(movie_id))
    cases = []
    for films in found.values():
        for number, movie_id in sorted(films.items()):
            following = films.get(number + 1)
            if following is not None:
                cases.append(Case(movie_id, {movie_id: None}, np.array([following])))
    return cases
