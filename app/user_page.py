"""A user of the data set: what they rated highest and what the model suggests for them."""

from __future__ import annotations

import streamlit as st

from app.display import TOP_PICKS_AS_TEXT, genre_chart, picks_text, results_table, with_links
from app.sidebar import Settings
from app.state import pick_random_user
from recommender import Recommender

USER_TOP_RATED = 20


def user_page(rec: Recommender, settings: Settings) -> None:
    """A user of the data set: what they rated highest and what the model suggests for them."""
    st.title("Recommendations for a MovieLens user")
    st.caption("Pick someone from the data set to see how the model treats a known rating history.")
    low, high = int(rec.user_ids.min()), int(rec.user_ids.max())
    st.session_state.setdefault("user_id", low)
    choose, lucky = st.columns([3, 1], vertical_alignment="bottom")
    user_id = choose.number_input("User id", low, high, step=1, key="user_id")
    lucky.button(
        "Random user",
        key="random_user",
        icon=":material/casino:",
        on_click=pick_random_user,
        args=(rec,),
    )
    if not (rec.user_ids == int(user_id)).any():
        st.warning(f"There is no user {user_id}; ids run from {low} to {high} with gaps.")
        return
    rated = rec.user_ratings(int(user_id))
    table = with_links(rec, rec.for_user(int(user_id), settings.n))
    st.caption(
        f"User {user_id} rated {len(rated):,} movies, on average "
        f"{rated['rating'].mean():.1f} stars."
    )
    history, suggestions = st.columns([2, 3], gap="large")
    with history:
        st.subheader("Their top-rated movies")
        top_rated = rated.head(USER_TOP_RATED).rename(
            columns={"title": "Title", "year": "Year", "rating": "Rating"}
        )
        st.dataframe(
            top_rated[["Title", "Year", "Rating"]],
            hide_index=True,
            column_config={
                "Title": st.column_config.TextColumn(width="medium"),
                "Year": st.column_config.NumberColumn(format="%d", width="small"),
                "Rating": st.column_config.NumberColumn(format="★ %.1f", width="small"),
            },
            width="stretch",
        )
    with suggestions:
        st.subheader(f"Recommended for user {user_id}")
        st.caption("Movies they have not rated, best match to their ratings first.")
        picks_text(table.head(TOP_PICKS_AS_TEXT))
        liked = rated[rated["rating"] >= 4.0]["genres"].str.split("|")
        genre_chart(liked.tolist(), table["genres"], "Rated 4+ by them", "Recommendations")
    st.subheader("All recommendations")
    results_table(table, "Match")
