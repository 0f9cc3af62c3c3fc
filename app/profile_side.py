"""The visitor's profile beside the lists: its movies and ratings, saving, loading, sharing."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import streamlit as st

from app.cached import listed_for
from app.discovery_setting import saved_settings
from app.display import escape_markdown, format_rating, genre_chart, readable_title
from app.profile_files import MAX_UPLOAD_BYTES, ProfileEntry, counted, to_csv, to_json
from app.profile_link import LINK_PARAMETER
from app.sidebar import Settings
from app.state import (
    clear_profile,
    hidden_ids,
    load_upload,
    rate_movie,
    remove_movie,
    set_genres,
    show_again,
    stars_shown,
)
from recommender import Recommender

PROFILE_SHOWN = 10  # movies listed with their controls before "Show all"


def profile_side(rec: Recommender, key: str, settings: Settings) -> None:
    """The profile's movies (the latest first) and buttons for what is used less:
    saving, loading and sharing, genres, the genre mix (each opens when asked, so the page
    that reruns on every click stays light)."""
    st.subheader("Your profile")
    profile: dict[int, ProfileEntry] = st.session_state.profile
    neutral = float(rec.params["neutral_rating"])
    if not profile:
        st.info(
            "Nothing yet: click a star under a movie you have seen, or press Add.",
            icon=":material/star:",
        )
    else:
        st.caption(
            f"{counted(len(profile), 'movie')}. A movie rated {neutral:g} stars or less counts as "
            "disliked: similar films are pushed down. No stars counts as liked."
        )
        profile_list(rec, profile, neutral)
    hidden: dict[int, str] = st.session_state.hidden
    with st.container(horizontal=True, gap="small"):
        if st.button("Save, load or share", key="show_files", icon=":material/share:"):
            files_dialog(rec, key)
        if hidden and st.button(
            f"Not interested ({len(hidden)})",
            key="show_hidden",
            icon=":material/visibility_off:",
            help="The films you took out of your lists: see them, bring them back",
        ):
            hidden_dialog()
        if profile:
            if st.button("Genre mix", key="show_genre_mix", icon=":material/bar_chart:"):
                genre_mix_dialog(rec, key, settings)
            if st.button("Genres that matter", key="show_genres", icon=":material/label:"):
                genres_dialog(rec)
            st.button(
                "Clear all", key="clear_profile", icon=":material/delete:", on_click=clear_profile
            )


def profile_list(rec: Recommender, profile: dict[int, ProfileEntry], neutral: float) -> None:
    """The profile's movies, the latest added first, each with its stars, genres and remove."""
    entries = list(reversed(profile.values()))
    if len(entries) > PROFILE_SHOWN and not st.toggle(
        f"Show all {len(entries)} movies", key="show_whole_profile"
    ):
        entries = entries[:PROFILE_SHOWN]
    for entry in entries:
        profile_row(rec, entry, neutral)


def profile_row(rec: Recommender, entry: ProfileEntry, neutral: float) -> None:
    """One movie of the profile: title, what its rating means, its stars, remove."""
    name, year = readable_title(entry.title)
    first = f"**{escape_markdown(name)}**" + (f" · {year}" if year else "")
    meaning = rating_meaning(entry.rating, neutral)
    stars = f"stars_profile_{entry.movie_id}"
    st.session_state[stars] = stars_shown(entry.rating)
    with st.container(
        key=f"profile_{entry.movie_id}",
        horizontal=True,
        vertical_alignment="center",
        gap="small",
        wrap=False,  # one line: a long title wraps inside its own space
    ):
        st.markdown(first + (f" · {meaning}" if meaning else ""), width="stretch")
        st.feedback(
            "stars", key=stars, on_change=rate_movie, args=(rec, entry.movie_id, entry.title, stars)
        )
        st.button(
            "",  # the icon alone keeps the row on one line beside the stars
            key=f"remove_{entry.movie_id}",
            icon=":material/close:",
            type="tertiary",
            help="Remove it from your profile",
            on_click=remove_movie,
            args=(entry.movie_id,),
        )


def rating_meaning(rating: float | None, neutral: float) -> str:
    """Words beside a profile movie's stars: a low rating in red ("disliked"), a half star
    the stars cannot show, or "liked" for a movie without stars; nothing the stars say."""
    if rating is None:
        return ":gray[liked, no stars]"
    exact = "" if rating == int(rating) else f"{format_rating(rating)} · "
    if rating <= neutral:
        return f":red[{escape_markdown(exact)}disliked]"
    return f":gray[{escape_markdown(exact)}liked]" if exact else ""


@st.dialog("Genres that matter to you", on_dismiss="rerun")
def genres_dialog(rec: Recommender) -> None:
    """Pick a profile movie and the genres that matter to you in it (its own by default):
    similar genres then count only those."""
    profile: dict[int, ProfileEntry] = st.session_state.profile
    names = {movie_id: readable_title(e.title)[0] for movie_id, e in profile.items()}
    movie_id = st.selectbox(
        "Movie", list(reversed(names)), format_func=names.__getitem__, key="genres_movie"
    )
    if movie_id is None:
        return
    widget = f"genres_{movie_id}"
    st.session_state[widget] = list(profile[movie_id].genres)
    st.multiselect(
        "Its genres that matter to you",
        rec.genres,
        key=widget,
        on_change=set_genres,
        args=(movie_id, widget),
        help="Remove the ones that are not why you like it: similar genres count only these.",
    )
    st.caption("Recommendations use your choice when you close this window.")


@st.dialog("Films you are not interested in", on_dismiss="rerun")
def hidden_dialog() -> None:
    """The hidden films, each with a button that brings it back to the lists."""
    hidden: dict[int, str] = st.session_state.hidden
    st.caption(
        "They stay out of your lists for this profile (and its link and saved files). Hiding a "
        "film is not a rating: rate it if you want the films like it pushed down too."
    )
    for movie_id, title in reversed(list(hidden.items())):  # the latest hidden first
        name, year = readable_title(title)
        with st.container(key=f"hidden_{movie_id}", horizontal=True, vertical_alignment="center"):
            st.markdown(f"**{escape_markdown(name)}**" + (f" · {year}" if year else ""))
            st.button(
                "Show again", key=f"unhide_{movie_id}", icon=":material/visibility:",
                on_click=show_again, args=(movie_id,),
            )  # fmt: skip
    if not hidden:
        st.info("None now: every film may be recommended again.", icon=":material/visibility:")
    elif len(hidden) > 1:
        st.button("Show them all again", key="unhide_all", on_click=show_again, args=(None,))


@st.dialog("Genre mix", width="large")
def genre_mix_dialog(rec: Recommender, key: str, settings: Settings) -> None:
    """The share of movies with each genre: the profile next to the recommendations."""
    entries = tuple(st.session_state.profile.values())
    table = listed_for(rec, key, entries, settings, hidden_ids())
    profile_genres = [entry.genres for entry in entries]
    genre_chart(profile_genres, table["genres"], "Your profile", "Recommendations", heading=False)


@st.dialog("Save, load or share your profile")
def files_dialog(rec: Recommender, key: str) -> None:
    """The link that opens this profile; download it as JSON or CSV; upload one saved earlier."""
    share_link()
    entries = list(st.session_state.profile.values())
    hidden = st.session_state.hidden
    json_profile = lambda entries, hidden: to_json(entries, hidden, saved_settings())  # noqa: E731
    formats = [("JSON", json_profile, "application/json"), ("CSV", to_csv, "text/csv")]
    for column, (name, write, mime) in zip(st.columns(2), formats, strict=True):
        column.download_button(
            f"Download {name}",
            write(entries, hidden),
            file_name=f"movie-profile.{name.lower()}",
            mime=mime,
            key=f"download_{name.lower()}",
            on_click="ignore",
            disabled=not (entries or hidden),
        )
    st.file_uploader(
        "Load a saved profile (replaces the current one)",
        type=["json", "csv"],
        max_upload_size=MAX_UPLOAD_BYTES >> 20,  # in MB; a profile is far smaller
        key="profile_upload",
        on_change=load_upload,
        args=(rec, key),
    )
    if st.session_state.get("profile_upload") is not None:
        st.rerun()  # the page shows what the upload did (or why it was refused)


def share_link() -> None:
    """The page's address with the profile in it, ready to copy."""
    link = st.query_params.get(LINK_PARAMETER)
    page = urlsplit(st.context.url or "")
    if not link or not page.netloc:
        return
    address = f"{page.scheme}://{page.netloc}{page.path}?{LINK_PARAMETER}={quote(link, safe=':,|')}"
    st.markdown("**Share or bookmark**: this address opens the same profile.")
    st.code(address, language=None, wrap_lines=True)
