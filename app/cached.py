"""The model calls the page makes, cached per bundle.

The ``key`` argument names the bundle (``Recommender.current_version``); the leading
underscore keeps Streamlit from hashing the model itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from app.display import with_details
from app.posters import PosterCache
from app.profile_files import ProfileEntry, recommend_arguments
from recommender import Filters, Recommender

if TYPE_CHECKING:
    from app.sidebar import Settings

SEARCH_RESULTS = 20
POSTER_DIR_ENV = "MOVIEREC_POSTER_DIR"
POSTER_SETTINGS = ("TMDB_API_KEY", "MOVIEREC_TMDB_API_URL", "MOVIEREC_TMDB_IMAGE_URL")


def poster_cache() -> PosterCache:
    """Posters on disk, fetched in the background when TMDB_API_KEY is set (else none): in
    $MOVIEREC_POSTER_DIR, or the user's cache folder. One per setting, shared by visitors."""
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = os.environ.get(POSTER_DIR_ENV) or str(cache_home / "movierec" / "posters")
    settings = {name: os.environ.get(name, "") for name in POSTER_SETTINGS}
    return posters_in(folder, tuple(sorted(settings.items())))


@st.cache_resource(max_entries=4)
def posters_in(folder: str, settings: tuple[tuple[str, str], ...]) -> PosterCache:
    """The poster cache for a folder and the environment's TMDB settings."""
    return PosterCache.from_environment(folder, {k: v for k, v in settings if v})


@st.cache_data(max_entries=256, show_spinner=False)
def search(_rec: Recommender, key: str, text: str) -> pd.DataFrame:
    """Catalogue titles containing ``text``, best known first."""
    return _rec.search(text, n=SEARCH_RESULTS)


@st.cache_data(max_entries=64, show_spinner=False)
def recommendations(
    _rec: Recommender,
    key: str,
    entries: tuple[ProfileEntry, ...],
    n: int,
    weights: tuple[tuple[str, float], ...],
    filters: Filters,
    hidden: tuple[int, ...] = (),
    recency: float = 0.0,
    discovery: float | None = None,
) -> pd.DataFrame:
    """Recommendations for the profile (popular picks when it is empty), with their links and
    tags; never a ``hidden`` film; tilted by ``recency``; ``discovery`` as the sidebar's slider."""
    profile, profile_genres = recommend_arguments(entries)
    table = _rec.recommend(
        profile,
        n,
        weights=dict(weights),
        filters=filters,
        profile_genres=profile_genres,
        exclude=hidden,
        recency=recency,
        discovery=discovery,
    )
    return with_details(_rec, table)


def listed_for(
    rec: Recommender,
    key: str,
    entries: tuple[ProfileEntry, ...],
    settings: Settings,
    hidden: tuple[int, ...] = (),
) -> pd.DataFrame:
    """``recommendations`` for ``entries`` with the sidebar's settings, ``hidden`` left out."""
    return recommendations(
        rec, key, entries, settings.n, settings.weight_items, settings.filters, hidden,
        settings.recency, settings.discovery,
    )  # fmt: skip


@st.cache_data(max_entries=64, show_spinner=False)
def popular_picks(
    _rec: Recommender,
    key: str,
    n: int,
    seed: int | None,
    filters: Filters,
    hidden: tuple[int, ...] = (),
    discovery: float | None = None,
) -> pd.DataFrame:
    """A sample of well-rated, much-rated movies for a visitor with an empty profile, with
    their links and tags; never a ``hidden`` film; ``discovery`` as the sidebar's slider."""
    table = _rec.popular(n, seed, filters=filters, exclude=hidden, discovery=discovery)
    return with_details(_rec, table)
