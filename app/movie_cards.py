"""Movies as cards a visitor acts on where they stand: rate with stars, add, "More like this",
"Not interested".

Every list of the page (search results, popular picks, recommendations, a data-set user's
movies) shows its movies this way. One click on a star rates the movie into the profile; "Add"
puts it in as liked without stars; "More like this" lists the movies like it; "Not interested"
(on the lists the visitor is offered: popular picks, recommendations, "More like this") takes
the film out of them for this profile. A movie already in the profile shows its stars and a
remove button instead. Titles, genres, tags and reasons
are escaped Markdown: text, never markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from app.display import LINK_SITES, escape_markdown, readable_title
from app.posters import PosterCache
from app.profile_files import ProfileEntry
from app.state import (
    add_movie,
    hide_movie,
    rate_movie,
    remove_movie,
    show_more_like,
    stars_shown,
)
from recommender import Recommender

POSTER_WIDTH = 56  # px: a thumbnail before the text, small enough for a phone
OFFERED = ("picks", "recs", "like")  # the lists whose cards have "Not interested"


def movie_cards(
    rec: Recommender,
    table: pd.DataFrame,
    context: str,
    *,
    parts: Mapping[str, str] | None = None,
    notes: pd.Series | None = None,
    posters: PosterCache | None = None,
) -> None:
    """A card per row of ``table`` (from ``display.with_details``), in its order.

    ``context`` keeps the widget keys of two lists apart ("search", "picks", ...); ``parts``
    maps scorer names to the labels of the parts shown on each card; ``notes`` adds a line per
    movie ("★ 5 from them").
    """
    profile: dict[int, ProfileEntry] = st.session_state.profile
    for position, row in enumerate(table.to_dict(orient="records")):
        movie_id = int(row["movieId"])
        lines = card_text(row, parts, notes, position)
        entry = profile.get(movie_id)
        title = str(row["title"])
        # Each element costs time in the browser on every rerun: no more than these.
        with st.container(key=f"{context}_{movie_id}", gap="xxsmall"):
            if posters is not None and posters.enabled:
                with st.container(horizontal=True, gap="small", wrap=False):
                    image = posters.poster(row.get("tmdbId"))
                    if image is not None:
                        st.image(str(image), width=POSTER_WIDTH)
                    st.markdown(lines, width="stretch")
            else:
                st.markdown(lines)
            with st.container(horizontal=True, vertical_alignment="center", gap="small"):
                card_actions(rec, movie_id, title, context, entry)


def card_text(
    row: Mapping[str, Any],
    parts: Mapping[str, str] | None,
    notes: pd.Series | None,
    position: int,
) -> str:
    """The card's Markdown: title and year, genres and tags, the parts, reason and links.

    No "% match": the list is ranked by the blend and then by genres and decades like the
    profile's (and the recency lean), so a percentage of the blend alone would run out of order
    down the list (71%, 75%, 73%), and the calibrated order has no number of its own per film (a
    film's place depends on the films above it). The order is the ranking; the parts say why.
    """
    name, year = readable_title(str(row["title"]), row.get("year"))
    first = f"**{escape_markdown(name)}**" + (f" · {year}" if year else "")
    genres = str(row.get("genres") or "").replace("|", ", ").replace("(no genres listed)", "")
    about = [escape_markdown(genres)] if genres else []
    tags = str(row.get("tags") or "").replace("|", ", ")
    if tags:
        about.append(f"tagged {escape_markdown(tags)}")
    lines = [first]
    if notes is not None:
        lines.append(escape_markdown(str(notes.iloc[position])))
    if about:
        lines.append(f":gray[{' · '.join(about)}]")
    if parts:
        # a part that added nothing (a film in no series, no genre shared) says nothing
        shares = [
            part_share(label, float(row[f"{name}_score"]))
            for name, label in parts.items()
            if float(row[f"{name}_score"]) != 0
        ]
        lines.append(f":gray[{escape_markdown(' · '.join(shares))}]")
    sites = [f"[{site}]({row[site]})" for site in LINK_SITES if isinstance(row.get(site), str)]
    reason = escape_markdown(str(row.get("reason") or ""))
    lines.append(" · ".join([part for part in (reason, *sites) if part]))
    return "  \n".join(lines)


def part_share(label: str, value: float) -> str:
    """ "Similar genres 77%"; a part below 0 is a film the visitor disliked pushing this one
    down, which people read better in words than as a negative percentage."""
    if value < 0:
        return f"{label}: pushed down by a film you disliked"
    return f"{label} {round(100 * value)}%"


def card_actions(
    rec: Recommender, movie_id: int, title: str, context: str, entry: ProfileEntry | None
) -> None:
    """Stars that rate the movie in one click; add (or remove); "More like this"; "Not
    interested" on the lists the visitor is offered."""
    stars = f"stars_{context}_{movie_id}"
    st.session_state[stars] = stars_shown(entry.rating if entry else None)
    st.feedback("stars", key=stars, on_change=rate_movie, args=(rec, movie_id, title, stars))
    if entry is None:
        st.button(
            "Add",
            key=f"add_{context}_{movie_id}",
            icon=":material/add:",
            on_click=add_movie,
            args=(rec, movie_id, title),
        )
    else:
        st.button(
            "Remove",
            key=f"remove_{context}_{movie_id}",
            icon=":material/close:",
            on_click=remove_movie,
            args=(movie_id,),
        )
    st.button(
        "More like this",
        key=f"like_{context}_{movie_id}",
        icon=":material/auto_awesome:",
        type="tertiary",
        on_click=show_more_like,
        args=(movie_id, title),
    )
    if context in OFFERED:
        st.button(
            "Not interested",
            key=f"hide_{context}_{movie_id}",
            icon=":material/visibility_off:",
            type="tertiary",
            help="Take it out of your lists for this profile (it is not a rating)",
            on_click=hide_movie,
            args=(movie_id, title),
        )
