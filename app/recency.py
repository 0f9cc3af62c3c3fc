"""The sidebar's "Classics ↔ Recent films" slider, kept in the page's address (``?r=0.5``).

It tilts the recommendations by release year (``Recommender.recommend(..., recency=r)``): a
lean, not a cut, so a strong match of any year still shows; the "Released between" filter is
the cut.
"""

from __future__ import annotations

import streamlit as st

RECENCY_PARAMETER = "r"
RECENCY_KEY = "recency"  # the slider's session key
# The slider's stops and the words it shows: a new visitor reads what a position does.
RECENCY_WORDS = {
    -1.0: "Classics first",
    -0.5: "Lean to older films",
    0.0: "Any year",
    0.5: "Lean to newer films",
    1.0: "Recent films first",
}
RECENCY_HELP = (
    "Leans your recommendations towards older or newer films. A strong match from any year "
    "still shows; to keep only some years, use “Released between” under Filters."
)


def recency_from_address() -> float:
    """The slider's position the page's address holds (0, "any year", if none or unknown)."""
    text = st.query_params.get(RECENCY_PARAMETER, "")
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if value not in RECENCY_WORDS:
        value = 0.0
        st.query_params.pop(RECENCY_PARAMETER, None)
    return value


def recency_control(disabled: bool) -> float:
    """The slider, its words and its place in the address; the chosen recency (-1 to 1)."""
    if RECENCY_KEY not in st.session_state:  # a session's first run: the address decides
        st.session_state[RECENCY_KEY] = recency_from_address()
    value = float(
        st.select_slider(
            "Classics ↔ Recent films",
            options=list(RECENCY_WORDS),
            format_func=RECENCY_WORDS.__getitem__,
            key=RECENCY_KEY,
            help=RECENCY_HELP,
            disabled=disabled,
        )
    )
    st.caption(
        "Leans the list towards older or newer films, without hiding the rest. Popular picks "
        "(an empty profile) stay as they are."
    )
    if value and st.query_params.get(RECENCY_PARAMETER) != f"{value:g}":
        st.query_params[RECENCY_PARAMETER] = f"{value:g}"
    elif not value and RECENCY_PARAMETER in st.query_params:
        del st.query_params[RECENCY_PARAMETER]
    return value
