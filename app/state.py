"""The visitor's session: what it starts with, and the callbacks that change it."""

from __future__ import annotations

import random

import streamlit as st

from app.loading import titles_by_id
from app.profile_files import ProfileEntry, ProfileError, parse_profile
from recommender import Recommender


def weight_key(scorer: str) -> str:
    """The session key of a scorer's weight slider."""
    return f"weight_{scorer}"


def init_state(rec: Recommender) -> None:
    """Create the session's state once; later runs keep what the visitor did."""
    state = st.session_state
    state.setdefault("profile", {})  # movieId -> ProfileEntry, in the order they were added
    state.setdefault("popular_seed", None)  # None: the bundle's reproducible default sample
    state.setdefault("upload_notes", [])  # (kind, text) messages about the last upload
    for name, weight in rec.default_weights.items():
        state.setdefault(weight_key(name), float(weight))


def add_movie(movie_id: int, title: str) -> None:
    """Callback: add the chosen search result with the rating and genres picked for it."""
    state = st.session_state
    genres = tuple(state.get(f"add_genres_{movie_id}", ()))
    rating = state.get(f"add_rating_{movie_id}")
    state.profile[movie_id] = ProfileEntry(movie_id, title, rating, genres)
    state.search_text = ""  # ready for the next title
    state.upload_notes = []


def remove_movie(movie_id: int) -> None:
    """Callback: drop one movie from the profile."""
    st.session_state.profile.pop(movie_id, None)


def clear_profile() -> None:
    """Callback: start over with an empty profile."""
    st.session_state.profile = {}
    st.session_state.upload_notes = []


def new_popular_sample() -> None:
    """Callback: draw another sample of popular picks."""
    st.session_state.popular_seed = random.randrange(1, 1_000_000)


def reset_weights(defaults: dict[str, float]) -> None:
    """Callback: put the blend weights back to the bundle's defaults."""
    for name, weight in defaults.items():
        st.session_state[weight_key(name)] = float(weight)


def load_upload(rec: Recommender, key: str) -> None:
    """Callback: replace the profile with an uploaded one, or explain why it cannot be used.

    A file that fails any check leaves the current profile exactly as it was.
    """
    state = st.session_state
    uploaded = state.get("profile_upload")
    if uploaded is None:
        return
    try:
        loaded = parse_profile(
            uploaded.getvalue(),
            uploaded.name,
            titles_by_id(rec, key),
            frozenset(rec.genres),
            default_genres=rec.movie_genres,
        )
    except ProfileError as error:
        state.upload_notes = [("error", f"Could not load this profile: {error}")]
        return
    state.profile = {entry.movie_id: entry for entry in loaded.entries}
    notes = [("success", f"Loaded {len(loaded.entries)} movie(s) from {uploaded.name}.")]
    state.upload_notes = notes + [("warning", warning) for warning in loaded.warnings]


def pick_random_user(rec: Recommender) -> None:
    """Callback: jump to a random user of the data set."""
    st.session_state.user_id = int(random.choice(rec.user_ids.tolist()))
