"""The main page: find and rate movies, see recommendations, keep the profile beside them.

Search and the movie lists come first (on a phone, right below the search box); the profile
sits beside them on a wide screen and below them on a narrow one.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.cached import listed_for, popular_picks, poster_cache, search
from app.display import escape_markdown, readable_title, with_details
from app.movie_cards import movie_cards
from app.profile_files import ProfileEntry
from app.profile_side import profile_side
from app.sidebar import Settings
from app.state import hidden_ids, keep_address, new_popular_sample, own_genres, show_more_like
from recommender import Recommender

NO_MATCH = "No movie matches these filters. Widen the genres or the year range."
SEARCH_SHOWN = 6  # search results shown as cards; the best match comes first


def profile_page(rec: Recommender, key: str, settings: Settings) -> None:
    """Find and rate movies and see recommendations; the profile beside them."""
    st.title("What should I watch next?")
    st.caption(
        "Rate movies you have seen, one click on a star (or press Add), and the "
        "recommendations follow. Your profile is kept in this page's address: reload it, "
        "bookmark it or share it."
    )
    lists_and_profile(rec, key, settings)


@st.fragment
def lists_and_profile(rec: Recommender, key: str, settings: Settings) -> None:
    """Search, the movie lists and the profile: the part of the page a rating changes.

    A fragment: a click here (a star, Add, Remove, a search) reruns this part alone, not the
    sidebar and the heading, so the page answers sooner. The address follows the profile.
    """
    keep_address(rec)
    for kind, text in st.session_state.notes:  # what a link or an upload did: first on a phone
        getattr(st, kind)(escape_markdown(text))
    lists, side = st.columns([3, 2], gap="large")
    with lists:
        search_section(rec, key)
        like_this = st.session_state.like_this
        if like_this is not None:
            more_like_section(rec, key, settings, like_this)
        elif st.session_state.profile:
            recommendations_section(rec, key, settings)
        else:
            popular_section(rec, key, settings)
    with side:
        profile_side(rec, key, settings)


def search_section(rec: Recommender, key: str) -> None:
    """The search box; its best matches as cards while there is text in it."""
    text = st.text_input(
        "Find a movie",
        key="search_text",
        placeholder="Type a title: the godfather, wall-e, amélie…",
        type="search",
        live=True,
    )
    if not (text or "").strip():
        return
    matches = search(rec, key, text)
    if matches.empty:
        st.caption(f"No title matches “{escape_markdown(text)}”. Try fewer or other words.")
        return
    shown = with_details(rec, matches.head(SEARCH_SHOWN)).assign(reason=popularity_words)
    movie_cards(rec, shown, "search", posters=poster_cache())
    st.divider()


def popularity_words(table) -> list[str]:
    """ "1,234 ratings" for each row: how well known a search result is."""
    return [f"{int(votes):,} ratings" for votes in table["n_ratings"]]


def recommendations_section(rec: Recommender, key: str, settings: Settings) -> None:
    """The recommendations for the profile, as cards with their match and its parts."""
    entries = tuple(st.session_state.profile.values())
    st.subheader("Recommended for you")
    table = listed_for(rec, key, entries, settings, hidden_ids())
    st.caption(
        f"For your {len(entries)}-movie profile, best first: how well each fits, with genres "
        "and decades like yours. Rate the ones you have seen to sharpen the list; “Not "
        "interested” takes one out."
    )
    show_ranked(rec, table, "recs", settings)


def more_like_section(
    rec: Recommender, key: str, settings: Settings, like_this: tuple[int, str]
) -> None:
    """Movies like one movie alone (the profile is unchanged), and a way back."""
    movie_id, title = like_this
    name = escape_markdown(readable_title(title)[0])
    st.subheader(f"More like {name}")
    back = "your recommendations" if st.session_state.profile else "popular picks"
    st.button(
        f"Back to {back}", key="back", icon=":material/arrow_back:", on_click=show_more_like,
        args=(None,),
    )  # fmt: skip
    entries = (ProfileEntry(movie_id, title, None, own_genres(rec)(movie_id)),)
    table = listed_for(rec, key, entries, settings, hidden_ids())
    st.caption(f"Movies like {name} alone, with your blend and filters.")
    show_ranked(rec, table, "like", settings)


def show_ranked(rec: Recommender, table: pd.DataFrame, context: str, settings: Settings) -> None:
    """Recommendations as cards, in the list's order: the parts in words, the reason."""
    if settings.blend_note:
        st.info(settings.blend_note, icon=":material/tune:")
    if table.empty:
        st.warning(NO_MATCH)
        return
    weights = dict(settings.weight_items)
    # the parts that count in the blend (a part at weight 0 says nothing about it)
    labels = {name: scorer.label for name, scorer in rec.scorers.items() if weights.get(name)}
    movie_cards(rec, table, context, parts=labels, posters=poster_cache())


def popular_section(rec: Recommender, key: str, settings: Settings) -> None:
    """Popular picks for a visitor with an empty profile, and a button to draw others."""
    st.subheader("Popular picks")
    st.caption("Well-rated movies many people have seen. Rate the ones you know to start.")
    seed = st.session_state.popular_seed
    table = popular_picks(
        rec, key, settings.n, seed, settings.filters, hidden_ids(), settings.discovery
    )
    st.button(
        "Show other picks", key="other_picks", icon=":material/casino:", on_click=new_popular_sample
    )
    if table.empty:
        st.warning(NO_MATCH)
        return
    movie_cards(rec, table, "picks", posters=poster_cache())
