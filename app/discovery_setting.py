"""The "Popular picks ↔ Hidden gems" slider (``Recommender.recommend(discovery=...)``): its
words on the page, and where it is kept — the page's address (``?d=0.3``, beside the profile's
``?p=``) and a saved JSON profile's "settings"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from app.profile_files import ProfileError
from app.profile_link import DISCOVERY_PARAMETER, discovery_text, read_discovery
from app.recency import RECENCY_KEY, RECENCY_WORDS
from recommender import Recommender

DISCOVERY_KEY = "discovery"  # the slider's session key, and its name in a saved profile
LABEL = "Popular picks ↔ Hidden gems"
EXPLAINED = (
    "Left: what most people with your taste watch next (well-known films). Right: hidden "
    "gems, films fewer people have seen that still fit your taste. It moves your "
    "recommendations and the popular picks alike."
)


def init_discovery(rec: Recommender) -> None:
    """The slider's first value: the address's, else the model's default."""
    if DISCOVERY_KEY in st.session_state:
        return
    st.session_state[DISCOVERY_KEY] = rec.discovery.default
    text = st.query_params.get(DISCOVERY_PARAMETER)
    if text is None:
        return
    try:
        st.session_state[DISCOVERY_KEY] = read_discovery(text, "the link")
    except ProfileError as error:
        del st.query_params[DISCOVERY_PARAMETER]
        note = ("warning", f"{error}; the model's default is used")
        st.session_state.setdefault("notes", []).append(note)


def discovery_slider(disabled: bool) -> float:
    """The slider and the words that say what it does; its value."""
    st.subheader("Discovery")
    value = st.slider(
        LABEL, 0.0, 1.0, step=0.05, key=DISCOVERY_KEY, disabled=disabled, help=EXPLAINED
    )
    st.caption(EXPLAINED)
    return float(value)


def keep_discovery_address(rec: Recommender) -> None:
    """Put the slider's value in the address when it is not the model's default."""
    value = st.session_state.get(DISCOVERY_KEY, rec.discovery.default)
    text = discovery_text(value)
    if text == discovery_text(rec.discovery.default):
        if DISCOVERY_PARAMETER in st.query_params:
            del st.query_params[DISCOVERY_PARAMETER]
    elif st.query_params.get(DISCOVERY_PARAMETER) != text:
        st.query_params[DISCOVERY_PARAMETER] = text


def saved_settings() -> dict[str, Any]:
    """What a saved profile keeps of the sliders: discovery, and recency when it leans."""
    kept: dict[str, Any] = {}
    value = st.session_state.get(DISCOVERY_KEY)
    if value is not None:
        kept[DISCOVERY_KEY] = float(discovery_text(value))
    if st.session_state.get(RECENCY_KEY):
        kept[RECENCY_KEY] = float(st.session_state[RECENCY_KEY])
    return kept


def load_settings(settings: Mapping[str, Any], filename: str) -> None:
    """Set the sliders from a loaded profile's settings; a bad value raises ProfileError and
    changes neither."""
    chosen = {}
    if DISCOVERY_KEY in settings:
        chosen[DISCOVERY_KEY] = read_discovery(settings[DISCOVERY_KEY], filename)
    if RECENCY_KEY in settings:
        chosen[RECENCY_KEY] = read_recency(settings[RECENCY_KEY], filename)
    st.session_state.update(chosen)


def read_recency(value: Any, filename: str) -> float:
    """A saved recency: one of the slider's stops (-1, -0.5, 0, 0.5, 1)."""
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is None or float(number) not in RECENCY_WORDS:
        stops = ", ".join(f"{stop:g}" for stop in RECENCY_WORDS)
        raise ProfileError(f'{filename}: "recency" must be one of {stops}, got {value!r}')
    return float(number)
