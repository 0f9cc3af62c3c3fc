"""The visitor's session: what it starts with, and the callbacks that change it.

The profile (movieId -> ``ProfileEntry``, in the order the movies were added) is also kept in
the page's address (``app.profile_link``): a reload or a shared link opens the same profile. So
are the films the visitor is not interested in (``hidden``: movieId -> title,
``app.not_interested``) and the recency slider's position.
"""

from __future__ import annotations

import logging
import math
import random

import streamlit as st

from app.discovery_setting import init_discovery, keep_discovery_address, load_settings
from app.loading import titles_by_id
from app.not_interested import HIDDEN_PARAMETER, hidden_link, read_hidden_link
from app.profile_files import MAX_MOVIES, ProfileEntry, ProfileError, counted, parse_profile
from app.profile_link import LINK_PARAMETER, profile_link, read_link
from recommender import Recommender

log = logging.getLogger(__name__)
FULL = f"Your profile holds at most {MAX_MOVIES:,} movies: remove some to add others."


def weight_key(scorer: str) -> str:
    """The session key of a scorer's weight slider."""
    return f"weight_{scorer}"


def init_state(rec: Recommender, key: str) -> None:
    """Create the session's state once; later runs keep what the visitor did. The first run
    takes the profile from the page's address, if it holds one."""
    state = st.session_state
    state.setdefault("popular_seed", None)  # None: the bundle's reproducible default sample
    state.setdefault("notes", [])  # (kind, text) messages about the last upload or link
    state.setdefault("like_this", None)  # (movieId, title): "More like this" is shown
    for name, weight in rec.default_weights.items():
        state.setdefault(weight_key(name), float(weight))
    if "profile" not in state:
        state.profile = profile_from_address(rec, key)
        state.hidden = hidden_from_address(rec, key)
    state.setdefault("hidden", {})
    init_discovery(rec)


def profile_from_address(rec: Recommender, key: str) -> dict[int, ProfileEntry]:
    """The profile the page's address holds; a bad or stale link leaves a note and a clean
    page."""
    text = st.query_params.get(LINK_PARAMETER)
    if not text:
        return {}
    try:
        loaded = read_link(text, titles_by_id(rec, key), frozenset(rec.genres), own_genres(rec))
    except ProfileError as error:
        del st.query_params[LINK_PARAMETER]
        st.session_state.notes = [("error", f"This link's profile could not be opened: {error}")]
        return {}
    st.session_state.notes = [("warning", warning) for warning in loaded.warnings]
    return {entry.movie_id: entry for entry in loaded.entries}


def hidden_from_address(rec: Recommender, key: str) -> dict[int, str]:
    """The films the page's address hides; a malformed list leaves a note and hides none."""
    text = st.query_params.get(HIDDEN_PARAMETER)
    if not text:
        return {}
    try:
        hidden, notes = read_hidden_link(text, titles_by_id(rec, key))
    except ProfileError as error:
        del st.query_params[HIDDEN_PARAMETER]
        st.session_state.notes.append(("error", f"This link's hidden films were left out: {error}"))
        return {}
    st.session_state.notes += [("warning", note) for note in notes]
    return hidden


def keep_address(rec: Recommender) -> None:
    """Put the profile, the hidden films and the discovery setting in the page's address (or
    take each out when it is empty or the default)."""
    keep_discovery_address(rec)
    links = {
        LINK_PARAMETER: profile_link(st.session_state.profile.values(), own_genres(rec)),
        HIDDEN_PARAMETER: hidden_link(st.session_state.hidden),
    }
    for parameter, link in links.items():
        if st.query_params.get(parameter, "") == link:
            continue
        if link:
            st.query_params[parameter] = link
        else:
            del st.query_params[parameter]


def own_genres(rec: Recommender):
    """movieId -> the movie's own genres among those the model knows."""
    known = frozenset(rec.genres)
    return lambda movie_id: tuple(g for g in rec.movie_genres(movie_id) if g in known)


def stars_shown(rating: float | None) -> int | None:
    """The star widget's value (0 = one star) for a rating: half stars are shown rounded down
    (the exact rating is written beside it); None for no rating."""
    return None if rating is None else max(0, math.floor(rating) - 1)


# --- callbacks ---------------------------------------------------------------------------------


def add_movie(rec: Recommender, movie_id: int, title: str, rating: float | None = None) -> None:
    """Callback: add a movie to the profile (or change its rating when it is there)."""
    profile: dict[int, ProfileEntry] = st.session_state.profile
    entry = profile.get(movie_id)
    if entry is not None:
        profile[movie_id] = ProfileEntry(movie_id, entry.title, rating, entry.genres)
        return
    if len(profile) >= MAX_MOVIES:
        st.session_state.notes = [("warning", FULL)]
        return
    profile[movie_id] = ProfileEntry(movie_id, title, rating, own_genres(rec)(movie_id))
    st.session_state.notes = []


def rate_movie(rec: Recommender, movie_id: int, title: str, widget: str) -> None:
    """Callback of a star widget: rate the movie (adding it), or keep it without stars when
    the stars are cleared."""
    stars = st.session_state.get(widget)
    add_movie(rec, movie_id, title, None if stars is None else float(stars + 1))


def set_genres(movie_id: int, widget: str) -> None:
    """Callback: the genres that matter to the visitor for one profile movie."""
    entry = st.session_state.profile.get(movie_id)
    if entry is not None:
        genres = tuple(st.session_state.get(widget, ()))
        st.session_state.profile[movie_id] = ProfileEntry(
            movie_id, entry.title, entry.rating, genres
        )


def remove_movie(movie_id: int) -> None:
    """Callback: drop one movie from the profile."""
    st.session_state.profile.pop(movie_id, None)


def clear_profile() -> None:
    """Callback: start over with an empty profile (and no film hidden)."""
    st.session_state.profile = {}
    st.session_state.hidden = {}
    st.session_state.notes = []
    st.session_state.like_this = None


def hidden_ids() -> tuple[int, ...]:
    """The hidden films' movieIds, as the lists' caches key on them."""
    return tuple(st.session_state.hidden)


def hide_movie(movie_id: int, title: str) -> None:
    """Callback of "Not interested": the film leaves the lists for this profile. Not a
    dislike: its rating, if the visitor gave one, stays as it is."""
    st.session_state.hidden[movie_id] = title


def show_again(movie_id: int | None = None) -> None:
    """Callback: a hidden film may be recommended again (None: every hidden film)."""
    if movie_id is None:
        st.session_state.hidden = {}
    else:
        st.session_state.hidden.pop(movie_id, None)


def show_more_like(movie_id: int | None, title: str = "") -> None:
    """Callback: show movies like one movie (None: back to the recommendations)."""
    st.session_state.like_this = None if movie_id is None else (movie_id, title)


def new_popular_sample() -> None:
    """Callback: draw another sample of popular picks."""
    st.session_state.popular_seed = random.randrange(1, 1_000_000)


def reset_weights(defaults: dict[str, float]) -> None:
    """Callback: put the blend weights back to the bundle's defaults."""
    for name, weight in defaults.items():
        st.session_state[weight_key(name)] = float(weight)


def load_upload(rec: Recommender, key: str) -> None:
    """Callback: replace the profile with an uploaded one, or explain why it cannot be used.

    A file that fails for any reason (a check of ``parse_profile``, or anything it did not
    foresee) leaves the current profile exactly as it was and says so in one message.
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
            default_genres=own_genres(rec),
        )
        load_settings(loaded.settings, uploaded.name)
    except ProfileError as error:
        state.notes = [("error", f"Could not load this profile: {error}")]
        return
    except Exception as error:
        log.warning("profile upload %r failed", uploaded.name, exc_info=True)
        state.notes = [
            ("error", f"Could not load this profile: {uploaded.name} could not be read "
                      f"({type(error).__name__}); your profile is unchanged")
        ]  # fmt: skip
        return
    state.profile = {entry.movie_id: entry for entry in loaded.entries}
    state.hidden = dict(loaded.hidden)
    hidden = f" and {counted(len(loaded.hidden), 'hidden film')}" if loaded.hidden else ""
    loaded_what = f"{counted(len(loaded.entries), 'movie')}{hidden}"
    notes = [("success", f"Loaded {loaded_what} from {uploaded.name}.")]
    state.notes = notes + [("warning", warning) for warning in loaded.warnings]


def pick_random_user(rec: Recommender) -> None:
    """Callback: jump to a random user of the data set (the box shows their id)."""
    st.session_state.user_id = str(int(rec.user_ids[random.randrange(len(rec.user_ids))]))
