"""The main page: build a taste profile on the left, recommendations on the right."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.cached import popular_picks, recommendations, search
from app.display import (
    TOP_PICKS_AS_TEXT,
    escape_markdown,
    format_rating,
    genre_chart,
    picks_text,
    results_table,
)
from app.profile_files import MAX_UPLOAD_BYTES, RATING_CHOICES, ProfileEntry, to_csv, to_json
from app.sidebar import Settings
from app.state import add_movie, clear_profile, load_upload, new_popular_sample, remove_movie
from recommender import Filters, Recommender

NO_MATCH = "No movie matches these filters. Widen the genres or the year range."


def profile_page(rec: Recommender, key: str, settings: Settings) -> None:
    """Build a taste profile on the left, see recommendations on the right."""
    st.title("What should I watch next?")
    st.caption(
        "Add a few movies you like, rate them if you want, and the recommendations follow. "
        "Nothing leaves your browser session unless you download it."
    )
    left, right = st.columns([2, 3], gap="large")
    with left:
        profile_builder(rec, key)
        profile_list()
        save_and_load(rec, key)
    show_recommendations(rec, key, settings, right)


def profile_builder(rec: Recommender, key: str) -> None:
    """Search the catalogue, pick a movie, rate it, adjust its genres, add it."""
    st.subheader("Your taste profile")
    text = st.text_input(
        "Find a movie", key="search_text", placeholder="Type part of a title, e.g. toy story"
    )
    if not text.strip():
        return
    matches = search(rec, key, text)
    matches = matches[~matches["movieId"].isin(st.session_state.profile)]
    if matches.empty:
        st.caption(f"No title contains “{escape_markdown(text)}” (or it is already added).")
        return
    labels = {
        int(row.movieId): f"{row.title} · {int(row.n_ratings):,} ratings"
        for row in matches.itertuples()
    }
    movie_id = st.selectbox(
        "Pick the movie", list(labels), format_func=labels.__getitem__, key="search_choice"
    )
    if movie_id is None:
        return
    title = str(matches.loc[matches["movieId"] == movie_id, "title"].iat[0])
    rating_column, genre_column = st.columns([2, 3])
    with rating_column:
        st.select_slider(
            "Your rating (optional)",
            options=[None, *RATING_CHOICES],
            value=None,
            format_func=format_rating,
            key=f"add_rating_{movie_id}",
        )
    with genre_column:
        st.multiselect(
            "Genres that matter to you",
            rec.genres,
            default=[g for g in rec.movie_genres(movie_id) if g in rec.genres],
            key=f"add_genres_{movie_id}",
            help="Pre-filled from the movie. Remove the ones that are not why you like it.",
        )
    st.button(
        "Add to profile",
        key="add_movie",
        type="primary",
        icon=":material/add:",
        on_click=add_movie,
        args=(movie_id, title),
    )


def profile_list() -> None:
    """The movies in the profile, each with a remove button; and a button to clear them all."""
    profile: dict[int, ProfileEntry] = st.session_state.profile
    if not profile:
        st.info(
            "Your profile is empty. Search for a movie you like and add it.",
            icon=":material/search:",
        )
        return
    st.markdown(f"**{len(profile)} movie(s) in your profile**")
    for entry in list(profile.values()):
        text_column, button_column = st.columns([6, 1], vertical_alignment="center")
        genres = ", ".join(entry.genres) or "no genres"
        text_column.markdown(
            f"{escape_markdown(entry.title)}  \n"
            f":gray[{escape_markdown(format_rating(entry.rating))} · {escape_markdown(genres)}]"
        )
        button_column.button(
            "✕",
            key=f"remove_{entry.movie_id}",
            help=f"Remove {entry.title}",
            on_click=remove_movie,
            args=(entry.movie_id,),
        )
    st.button("Clear all", key="clear_profile", icon=":material/delete:", on_click=clear_profile)


def save_and_load(rec: Recommender, key: str) -> None:
    """Download the profile as JSON or CSV; upload one saved earlier."""
    for kind, text in st.session_state.upload_notes:
        getattr(st, kind)(escape_markdown(text))
    entries = list(st.session_state.profile.values())
    with st.expander("Save or load your profile", expanded=False):
        formats = [("JSON", to_json, "application/json"), ("CSV", to_csv, "text/csv")]
        for column, (name, write, mime) in zip(st.columns(2), formats, strict=True):
            column.download_button(
                f"Download {name}",
                write(entries),
                file_name=f"movie-profile.{name.lower()}",
                mime=mime,
                key=f"download_{name.lower()}",
                on_click="ignore",
                disabled=not entries,
            )
        st.file_uploader(
            "Load a saved profile (replaces the current one)",
            type=["json", "csv"],
            max_upload_size=MAX_UPLOAD_BYTES >> 20,  # in MB; a profile is far smaller
            key="profile_upload",
            on_change=load_upload,
            args=(rec, key),
        )


def show_recommendations(rec: Recommender, key: str, settings: Settings, right: Any) -> None:
    """Popular picks for an empty profile, else the hybrid recommendations and the genre chart.

    The headline, the top picks and the chart go in the ``right`` column; the full table with
    scores and links spans the page below, where its columns have room.
    """
    entries = tuple(st.session_state.profile.values())
    if not entries:
        with right:
            popular_section(rec, key, settings.n, settings.filters)
        return
    weights = tuple(sorted(settings.weights.items()))
    table = recommendations(rec, key, entries, settings.n, weights, settings.filters)
    with right:
        st.subheader("Recommended for you")
        st.caption(f"{len(table)} movies for your {len(entries)}-movie profile, best first.")
        if table.empty:
            st.warning(NO_MATCH)
            return
        picks_text(table.head(TOP_PICKS_AS_TEXT))
        genre_chart(
            [entry.genres for entry in entries], table["genres"], "Your profile", "Recommendations"
        )
    st.subheader("All recommendations")
    parts = {name: (scorer.label, scorer.help) for name, scorer in rec.scorers.items()}
    results_table(table, "Score", parts)


def popular_section(rec: Recommender, key: str, n: int, filters: Filters) -> None:
    """Popular picks for a visitor with an empty profile, and a button to draw others.

    A text list rather than a data grid: the grid's scripts would make the first page, the one
    every new visitor waits for, about 0.3 s slower.
    """
    st.subheader("Popular picks")
    st.caption("Well-rated movies many people have seen: a good place to start.")
    table = popular_picks(rec, key, n, st.session_state.popular_seed, filters)
    st.button(
        "Show other picks", key="other_picks", icon=":material/casino:", on_click=new_popular_sample
    )
    if table.empty:
        st.warning(NO_MATCH)
        return
    picks_text(table)
