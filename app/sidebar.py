"""The sidebar: mode, number of results, blend weights and filters."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app.discovery_setting import discovery_slider
from app.recency import recency_control
from app.state import reset_weights, weight_key
from recommender import Filters, Recommender

PROFILE_MODE = "My taste profile"


USER_MODE = "A user from the data set"


ALL_ZERO = (
    "All blend weights are at 0, so nothing would rank the movies: the list uses the default "
    "blend until you raise one."
)


@dataclass(frozen=True)
class Settings:
    """What the sidebar controls chose for this run."""

    mode: str
    n: int
    weights: dict[str, float]  # the blend the lists use
    filters: Filters
    blend_note: str | None = None  # said on the page when the blend is not the sliders'
    recency: float = 0.0  # -1 classics ... 1 recent films (app.recency)
    discovery: float | None = None  # popular picks (0) to hidden gems (1); None: the model's

    @property
    def weight_items(self) -> tuple[tuple[str, float], ...]:
        """The weights as a hashable, ordered key for the caches."""
        return tuple(sorted(self.weights.items()))


def sidebar(rec: Recommender) -> Settings:
    """The controls: mode, number of results, blend weights and filters."""
    with st.sidebar:
        st.header("Settings")
        mode = st.radio("Recommend for", [PROFILE_MODE, USER_MODE], key="mode")
        n = st.slider("Number of results", 5, 50, 10, step=5, key="n_results")
        # Shown (greyed out) in both modes so the visitor's choices survive a switch of mode:
        # Streamlit forgets the state of widgets that a run does not draw.
        for_profile = mode == PROFILE_MODE
        if not for_profile:
            st.caption("A data-set user's recommendations come from collaborative filtering "
                       "alone; the blend and filters below apply to your own profile.")  # fmt: skip
        recency = recency_control(disabled=not for_profile)  # before the blend: used more
        discovery = discovery_slider(disabled=not for_profile)
        weights = weight_controls(rec, disabled=not for_profile)
        note = None
        if not any(weights.values()):  # the model refuses an all-zero blend; say what is shown
            st.warning(ALL_ZERO, icon=":material/tune:")
            weights, note = dict(rec.default_weights), ALL_ZERO
        filters = filter_controls(rec, disabled=not for_profile)
    return Settings(mode, n, weights, filters, note, recency, discovery)


def weight_controls(rec: Recommender, disabled: bool) -> dict[str, float]:
    """A slider per scorer of the blend; their defaults come from the bundle."""
    st.subheader("Blend")
    st.caption(
        "How much each signal counts in the ranking (each card shows its parts, 0-100%). "
        "It is your blend at “Hidden gems”; towards “Popular picks” what most people watch "
        "takes over."
    )
    weights = {}
    for name, scorer in rec.scorers.items():
        weights[name] = st.slider(
            scorer.label,
            0.0,
            1.0,
            step=0.05,
            key=weight_key(name),
            help=scorer.help,
            disabled=disabled,
        )
    st.button(
        "Reset weights",
        key="reset_weights",
        on_click=reset_weights,
        args=(rec.default_weights,),
        disabled=disabled,
    )
    return weights


def filter_controls(rec: Recommender, disabled: bool) -> Filters:
    """Genres to include or exclude and a year range."""
    st.subheader("Filters")
    include = st.multiselect(
        "Only these genres",
        rec.genres,
        key="include_genres",
        placeholder="Any genre",
        disabled=disabled,
    )
    exclude = st.multiselect(
        "Never these genres",
        rec.genres,
        key="exclude_genres",
        placeholder="None excluded",
        disabled=disabled,
    )
    low, high = year_bounds(rec)
    years = st.slider("Released between", low, high, (low, high), key="years", disabled=disabled)
    # The full range means "no year filter", so movies without a known year stay in.
    chosen = None if tuple(years) == (low, high) else (int(years[0]), int(years[1]))
    return Filters(tuple(include), tuple(exclude), chosen)


def year_bounds(rec: Recommender) -> tuple[int, int]:
    """The first and last release year in the catalogue."""
    years = rec.movies["year"].dropna()
    return (int(years.min()), int(years.max())) if len(years) else (1900, 2030)
