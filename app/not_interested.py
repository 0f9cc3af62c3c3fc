"""Films a visitor is not interested in, in the page's address: ``?p=858:5&h=1721,4896``.

A hidden film leaves every list of the page (``Recommender.recommend(..., exclude=...)``) and
does not come back for this profile. It is not a dislike: it moves no other film (a rating
does that). It travels with the profile: in the link (here) and in saved files
(``app.profile_files``: a JSON ``"not_interested"`` list, CSV rows marked ``yes`` in a
``not_interested`` column), each checked as strictly as the profile. Nothing here touches
Streamlit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from app.profile_files import MAX_HIDDEN, ProfileError, hidden_films

HIDDEN_PARAMETER = "h"  # the query parameter that holds the hidden films
SOURCE = "the link"


def hidden_link(hidden: Iterable[int]) -> str:
    """The hidden films as the value of the ``h`` parameter ("" when none)."""
    return ",".join(str(int(movie_id)) for movie_id in hidden)


def read_hidden_link(text: str, titles: Mapping[int, str]) -> tuple[dict[int, str], list[str]]:
    """(movieId -> title of the hidden films, notes) a link's ``h`` parameter holds;
    ``ProfileError`` if it is malformed."""
    text = str(text).strip()
    if len(text) > MAX_HIDDEN * 20:
        raise ProfileError(f"{SOURCE} hides too many films (at most {MAX_HIDDEN:,})")
    items = [item.strip() for item in text.split(",") if item.strip()]
    rows = [(f"hidden film {number}", item) for number, item in enumerate(items, start=1)]
    return hidden_films(rows, titles, SOURCE)
