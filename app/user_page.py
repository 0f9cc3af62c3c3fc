"""A user of the data set: what they rated highest and what the model suggests for them.

The user id is typed as text (ids may pass 2^53, beyond what a number box carries exactly);
an id that is not in the data says so and shows nobody else's movies. Every movie shown can be
rated into the visitor's own profile where it stands.
"""

from __future__ import annotations

import streamlit as st

from app.cached import poster_cache
from app.display import escape_markdown, genre_chart, with_details
from app.movie_cards import movie_cards
from app.sidebar import Settings
from app.state import keep_address, pick_random_user
from recommender import Recommender

USER_TOP_RATED = 10


def user_page(rec: Recommender, settings: Settings) -> None:
    """A user of the data set: what they rated highest and what the model suggests for them."""
    st.title("Recommendations for a MovieLens user")
    st.caption(
        "Pick someone from the data set to see how the model treats a known rating history. "
        "Rate any movie here to put it in your own profile."
    )
    low, high = int(rec.user_ids.min()), int(rec.user_ids.max())
    st.session_state.setdefault("user_id", str(low))
    choose, lucky = st.columns([3, 1], vertical_alignment="bottom")
    text = choose.text_input("User id", key="user_id", help=f"A whole number, {low} to {high}")
    lucky.button(
        "Random user",
        key="random_user",
        icon=":material/casino:",
        on_click=pick_random_user,
        args=(rec,),
    )
    user_id = known_user(rec, text, low, high)
    if user_id is not None:
        user_lists(rec, user_id, settings)


def known_user(rec: Recommender, text: str, low: int, high: int) -> int | None:
    """The user the box names, or None after saying plainly why there is none."""
    cleaned = (text or "").strip()
    shown = escape_markdown(cleaned[:40])
    if not cleaned.isascii() or not cleaned.isdigit():
        st.warning(f"“{shown}” is not a user id: ids are whole numbers from {low} to {high}.")
        return None
    user_id = int(cleaned)
    if not low <= user_id <= high or not (rec.user_ids == user_id).any():
        st.warning(
            f"User {shown} is not in the data set: ids run from {low} to {high}, with gaps. "
            "Try another, or press Random user."
        )
        return None
    return user_id


@st.fragment
def user_lists(rec: Recommender, user_id: int, settings: Settings) -> None:
    """What the user rated highest, and the model's recommendations for them.

    A fragment: rating one of their movies into the visitor's profile reruns this part alone.
    """
    keep_address(rec)
    rated = rec.user_ratings(user_id)
    table = with_details(rec, rec.for_user(user_id, settings.n))
    average = rated["rating"].mean()
    st.caption(f"User {user_id} rated {len(rated):,} movies, on average {average:.1f} stars.")
    suggestions, history = st.columns([3, 2], gap="large")
    with suggestions:
        st.subheader(f"Recommended for user {user_id}")
        st.caption("Movies they have not rated, best match to their ratings first.")
        movie_cards(rec, table, "user_recs", posters=poster_cache())
    with history:
        st.subheader("Their top-rated movies")
        top = with_details(rec, rated.head(USER_TOP_RATED).assign(reason=""))
        notes = rated["rating"].head(USER_TOP_RATED).map(lambda r: f"★ {r:g} from them")
        movie_cards(rec, top, "user_top", notes=notes, posters=poster_cache())
        liked = rated[rated["rating"] >= 4.0]["genres"].str.split("|")
        genre_chart(liked.tolist(), table["genres"], "Rated 4+ by them", "Recommendations")
