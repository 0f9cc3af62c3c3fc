"""A taste profile in the page's address, so a reload keeps it and a link shares it.

``?p=858:5,1221,2571:4`` is The Godfather at 5 stars, The Godfather: Part II liked without
stars, The Matrix at 4. Genres the visitor changed follow a second colon, ``|``-separated
(``2571:4:Action|Sci-Fi``; ``2571::`` keeps no genre); a movie with its own genres says
nothing more. ``read_link`` checks a link as strictly as an uploaded file
(``app.profile_files``): a malformed one raises ``ProfileError`` with one message, movies the
catalogue lacks are skipped with a note. Nothing here touches Streamlit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from app.profile_files import (
    GENRE_SEPARATOR,
    MAX_MOVIES,
    LoadedProfile,
    ProfileEntry,
    ProfileError,
    check_rows,
)

LINK_PARAMETER = "p"  # the query parameter that holds the profile
SOURCE = "the link"  # how messages name it: "the link, movie 2: rating 7 is outside 0.5-5"
# A movie is at most "<id>:<rating>:<genres>"; ids and ratings are short, genres are few.
MAX_LINK_CHARS = MAX_MOVIES * 200
_NUMBER = re.compile(r"\d{1,16}(\.\d{1,4})?")


def profile_link(
    entries: Iterable[ProfileEntry], own_genres: Callable[[int], Sequence[str]]
) -> str:
    """The profile as the value of the ``p`` parameter ("" for an empty profile)."""
    items = []
    for entry in entries:
        fields = [str(entry.movie_id), "" if entry.rating is None else f"{entry.rating:g}"]
        if tuple(entry.genres) != tuple(own_genres(entry.movie_id)):
            fields.append(GENRE_SEPARATOR.join(entry.genres))
        items.append(":".join(fields).rstrip(":") if len(fields) == 2 else ":".join(fields))
    return ",".join(items)


def read_link(
    text: str,
    titles: Mapping[int, str],
    known_genres: Collection[str],
    own_genres: Callable[[int], Sequence[str]],
) -> LoadedProfile:
    """The profile a link holds, checked; ``ProfileError`` says what is wrong with it."""
    text = str(text).strip()
    if len(text) > MAX_LINK_CHARS:
        raise ProfileError(f"{SOURCE} is {len(text):,} characters long; too long for a profile")
    if not text:
        raise ProfileError(f"{SOURCE} holds no movies")
    items = text.split(",")
    if len(items) > MAX_MOVIES:
        raise ProfileError(
            f"{SOURCE} lists {len(items):,} movies; a profile holds at most {MAX_MOVIES:,}"
        )
    rows = [_row(item, number) for number, item in enumerate(items, start=1)]
    return check_rows(rows, titles, known_genres, SOURCE, own_genres)


def _row(item: str, number: int) -> tuple[str, dict[str, Any]]:
    """("movie N", {movieId, rating[, genres]}) from "id[:rating[:genres]]"."""
    where = f"movie {number}"
    fields = item.strip().split(":")
    if len(fields) > 3:
        raise ProfileError(f"{SOURCE}, {where}: {_shown(item)} is not id:rating:genres")
    movie_id = fields[0].strip()
    if not movie_id.isascii() or not movie_id.isdigit() or len(movie_id) > 16:
        raise ProfileError(f"{SOURCE}, {where}: {_shown(movie_id)} is not a movie id")
    rating = fields[1].strip() if len(fields) > 1 else ""
    if rating and not _NUMBER.fullmatch(rating):
        raise ProfileError(f"{SOURCE}, {where}: rating {_shown(rating)} is not a number")
    row: dict[str, Any] = {"movieId": movie_id, "rating": rating}
    if len(fields) == 3:
        row["genres"] = [g.strip() for g in fields[2].split(GENRE_SEPARATOR) if g.strip()]
    return where, row


def _shown(text: str, limit: int = 30) -> str:
    """A piece of a link as a message quotes it, cut short."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


# --- the discovery setting in the address (``?d=0.3``) and in saved profiles ------------------

DISCOVERY_PARAMETER = "d"
DISCOVERY_DECIMALS = 2  # the slider moves in steps of 0.05


def discovery_text(value: float) -> str:
    """A discovery setting as the address and a saved profile write it ("0.3")."""
    return f"{round(float(value), DISCOVERY_DECIMALS):g}"


def read_discovery(value: Any, source: str) -> float:
    """A discovery setting from ``source`` (the link, a file): a number from 0 to 1."""
    text = str(value).strip() if not isinstance(value, bool) else ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = repr(float(value))
    if not _NUMBER.fullmatch(text) or not 0.0 <= float(text) <= 1.0:
        raise ProfileError(
            f"{source}: discovery {_shown(str(value))} is not a number from 0 (popular picks) "
            "to 1 (hidden gems)"
        )
    return round(float(text), DISCOVERY_DECIMALS)
