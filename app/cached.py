"""The model calls the page makes, cached per bundle.

The ``key`` argument names the bundle (``Recommender.current_version``); the leading
underscore keeps Streamlit from hashing the model itself.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.display import with_links
from app.profile_files import ProfileEntry, recommend_arguments
from recommender import Filters, Recommender

SEARCH_RESULTS = 20


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
) -> pd.DataFrame:
    """Recommendations for the profile (popular picks when it is empty), with their links."""
    profile, profile_genres = recommend_arguments(entries)
    table = _rec.recommend(
        profile, n, weights=dict(weights), filters=filters, profile_genres=profile_genres
    )
    return with_links(_rec, table)


@st.cache_data(max_entries=64, show_spinner=False)
def popular_picks(
    _rec: Recommender,
    key: str,
    n: int,
    seed: int | None,
    filters: Filters,
) -> pd.DataFrame:
    """A sample of well-rated, much-rated movies for a visitor with an empty profile, with
    their links."""
    table = _rec.popular(n, seed, filters=filters)
    return with_links(_rec, table)
