"""Movie recommender: build a taste profile and get hybrid recommendations.

    MOVIEREC_ARTIFACTS_DIR=artifacts streamlit run main.py

The page renders what ``recommender.Recommender`` returns; the model logic lives there and the
profile file formats live in ``recommender.profiles``. Titles are always shown as text
(escaped Markdown or table cells), never as HTML.

``streamlit run`` serves ``app`` (the end of this file), which reads the bundle as the server
starts; Streamlit then runs this file as ``__main__`` for every page run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st

from recommender import BundleError, Recommender
from recommender.bundle import MANIFEST, bundle_dir
from recommender.evaluate import ndcg_overview
from recommender.profiles import (
    LINK_SITES,
    MAX_UPLOAD_BYTES,
    RATING_CHOICES,
    ProfileEntry,
    ProfileError,
    escape_markdown,
    format_rating,
    genre_mix,
    movie_links,
    parse_profile,
    recommend_arguments,
    to_csv,
    to_json,
)

if __name__ != "__main__":
    # `streamlit run` also imports this file as a module to find `app` (at the end). The caches
    # below are then made before Streamlit's runtime exists, which it logs as a warning.
    logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)

ARTIFACTS_ENV = "MOVIEREC_ARTIFACTS_DIR"
PROFILE_MODE = "My taste profile"
USER_MODE = "A user from the data set"
WEIGHT_KEYS = {
    "content_weight": "weight_content",
    "general_cf_weight": "weight_general_cf",
    "personal_weight": "weight_personal",
}
NO_MATCH = "No movie matches these filters. Widen the genres or the year range."
SEARCH_RESULTS = 20
TOP_PICKS_AS_TEXT = 5
USER_TOP_RATED = 20
VISIBLE_ROWS = 20
WEIGHT_LABELS = {  # slider label and help; the table's part columns use the same names
    "content_weight": ("Similar genres", "Genre (TF-IDF) similarity to your movies"),
    "general_cf_weight": ("Liked by everyone", "How highly all users would rate it"),
    "personal_weight": ("People like you", "Your profile folded into the rating model"),
}
SCORE_HELP = {
    "Score": "The blend of the three parts, with your weights",
    "Match": "How strongly the rating model suggests it for them (higher is better; not stars)",
}


@dataclass(frozen=True)
class Settings:
    """What the sidebar controls chose for this run."""

    mode: str
    n: int
    weights: dict[str, float]
    include_genres: tuple[str, ...]
    exclude_genres: tuple[str, ...]
    years: tuple[int, int] | None


# --- loading ---------------------------------------------------------------------------------


@st.cache_resource(show_spinner="Loading the model…")
def load_recommender(artifacts_dir: str, bundle_key: str) -> Recommender:
    """The recommender, loaded once per bundle and shared by every visitor."""
    del bundle_key  # only part of the cache key: a retrained or re-evaluated bundle reloads
    return Recommender.load(artifacts_dir)


def bundle_key(artifacts_dir: str) -> str:
    """Which bundle is current and when its manifest last changed ("" if there is none)."""
    try:
        folder = bundle_dir(artifacts_dir)
        return f"{folder.resolve()}@{(folder / MANIFEST).stat().st_mtime_ns}"
    except (BundleError, OSError):
        return ""


def recommender_or_stop(artifacts_dir: str) -> tuple[Recommender, str]:
    """The loaded recommender, or a page that says what is wrong and how to fix it."""
    key = bundle_key(artifacts_dir)
    try:
        return load_recommender(artifacts_dir, key), key
    except BundleError as error:
        message = str(error)
        st.error(
            f"The model could not be loaded: {escape_markdown(message)}", icon=":material/error:"
        )
        command = re.search(r"python train_and_save_model\.py\S*( \S+)*", message)
        st.info(
            "Train a model from MovieLens CSV files (DATA_DIR holds movies.csv and "
            "ratings.csv), then reload this page:"
        )
        st.code(command.group(0) if command else message, language="bash")
        st.caption(
            f"This page reads the model from `{escape_markdown(artifacts_dir)}` "
            f"(set {ARTIFACTS_ENV} to use another folder). "
            "`make run` trains on the default data and starts the app."
        )
        st.stop()
        raise  # st.stop() ends the run; this line only satisfies type checkers


# --- state and callbacks -----------------------------------------------------------------------


def init_state(rec: Recommender) -> None:
    """Create the session's state once; later runs keep what the visitor did."""
    state = st.session_state
    state.setdefault("profile", {})  # movieId -> ProfileEntry, in the order they were added
    state.setdefault("popular_seed", None)  # None: the bundle's reproducible default sample
    state.setdefault("upload_notes", [])  # (kind, text) messages about the last upload
    for name, key in WEIGHT_KEYS.items():
        state.setdefault(key, float(rec.default_weights[name]))


def year_bounds(rec: Recommender) -> tuple[int, int]:
    """The first and last release year in the catalogue."""
    years = rec.movies["year"].dropna()
    return (int(years.min()), int(years.max())) if len(years) else (1900, 2030)


def add_movie(movie_id: int, title: str) -> None:
    """Callback: add the chosen search result with the rating and genres picked for it."""
    state = st.session_state
    genres = tuple(state.get(f"add_genres_{movie_id}", ()))
    rating = state.get(f"add_rating_{movie_id}")
    state.profile[movie_id] = ProfileEntry(movie_id, title, rating, genres)
    state.search_text = ""  # ready for the next title
    state.upload_notes = []


def remove_movie(movie_id: int) -> None:
    """Callback: drop one movie from the profile."""
    st.session_state.profile.pop(movie_id, None)


def clear_profile() -> None:
    """Callback: start over with an empty profile."""
    st.session_state.profile = {}
    st.session_state.upload_notes = []


def new_popular_sample() -> None:
    """Callback: draw another sample of popular picks."""
    st.session_state.popular_seed = random.randrange(1, 1_000_000)


def reset_weights(defaults: dict[str, float]) -> None:
    """Callback: put the blend weights back to the bundle's defaults."""
    for name, key in WEIGHT_KEYS.items():
        st.session_state[key] = float(defaults[name])


def load_upload(rec: Recommender) -> None:
    """Callback: replace the profile with an uploaded one, or explain why it cannot be used.

    A file that fails any check leaves the current profile exactly as it was.
    """
    state = st.session_state
    uploaded = state.get("profile_upload")
    if uploaded is None:
        return
    try:
        loaded = parse_profile(
            uploaded.getvalue(),
            uploaded.name,
            titles_by_id(rec),
            frozenset(rec.genres),
            default_genres=rec.movie_genres,
        )
    except ProfileError as error:
        state.upload_notes = [("error", f"Could not load this profile: {error}")]
        return
    state.profile = {entry.movie_id: entry for entry in loaded.entries}
    notes = [("success", f"Loaded {len(loaded.entries)} movie(s) from {uploaded.name}.")]
    state.upload_notes = notes + [("warning", warning) for warning in loaded.warnings]


@st.cache_resource
def titles_by_id(_rec: Recommender) -> dict[int, str]:
    """movieId -> title of the whole catalogue (built once; uploads check against it)."""
    return dict(zip(_rec.movies["movieId"].tolist(), _rec.movies["title"].tolist(), strict=True))


# --- cached model calls ------------------------------------------------------------------------
# The key argument names the bundle; the leading underscore keeps Streamlit from hashing the model.


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
    include_genres: tuple[str, ...],
    exclude_genres: tuple[str, ...],
    years: tuple[int, int] | None,
) -> pd.DataFrame:
    """Recommendations for the profile (popular picks when it is empty), with their links."""
    profile, profile_genres = recommend_arguments(entries)
    table = _rec.recommend(
        profile,
        n,
        **dict(weights),
        profile_genres=profile_genres,
        include_genres=include_genres,
        exclude_genres=exclude_genres,
        years=years,
    )
    return with_links(_rec, table)


@st.cache_data(max_entries=64, show_spinner=False)
def popular_picks(
    _rec: Recommender,
    key: str,
    n: int,
    seed: int | None,
    include_genres: tuple[str, ...],
    exclude_genres: tuple[str, ...],
    years: tuple[int, int] | None,
) -> pd.DataFrame:
    """A sample of well-rated, much-rated movies for a visitor with an empty profile, with
    their links."""
    table = _rec.popular(
        n, seed, include_genres=include_genres, exclude_genres=exclude_genres, years=years
    )
    return with_links(_rec, table)


# --- sidebar -------------------------------------------------------------------------------------


def sidebar(rec: Recommender) -> Settings:
    """The controls: mode, number of results, blend weights and filters."""
    with st.sidebar:
        st.header("Settings")
        mode = st.radio("Recommend for", [PROFILE_MODE, USER_MODE], key="mode")
        n = st.slider("Number of results", 5, 50, 20, step=5, key="n_results")
        # Shown (greyed out) in both modes so the visitor's choices survive a switch of mode:
        # Streamlit forgets the state of widgets that a run does not draw.
        for_profile = mode == PROFILE_MODE
        if not for_profile:
            st.caption("A data-set user's recommendations come from collaborative filtering "
                       "alone; the blend and filters below apply to your own profile.")  # fmt: skip
        weights = weight_controls(rec.default_weights, disabled=not for_profile)
        include, exclude, years = filter_controls(rec, disabled=not for_profile)
    return Settings(mode, n, weights, include, exclude, years)


def weight_controls(defaults: dict[str, float], disabled: bool) -> dict[str, float]:
    """Three sliders for the blend; their defaults come from the bundle."""
    st.subheader("Blend")
    st.caption(
        "How much each signal counts. With “People like you” at 0 you get the classic mix of "
        "genre match and crowd favourites."
    )
    weights = {}
    for name, key in WEIGHT_KEYS.items():
        label, help_text = WEIGHT_LABELS[name]
        weights[name] = st.slider(
            label, 0.0, 1.0, step=0.05, key=key, help=help_text, disabled=disabled
        )
    st.button(
        "Reset weights",
        key="reset_weights",
        on_click=reset_weights,
        args=(defaults,),
        disabled=disabled,
    )
    return weights


def filter_controls(
    rec: Recommender, disabled: bool
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[int, int] | None]:
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
    return tuple(include), tuple(exclude), chosen


# --- profile mode ------------------------------------------------------------------------------


def profile_page(rec: Recommender, key: str, settings: Settings) -> None:
    """Build a taste profile on the left, see recommendations on the right."""
    st.title("What should I watch next?")
    st.caption(
        "Add a few movies you like, rate them if you want, and the recommendations follow. "
        "Nothing leaves your browser session unless you download it."
    )
    left, right = st.columns([2, 3], gap="large")
    with left:
        profile_builder(rec, key)
        profile_list()
        save_and_load(rec)
    show_recommendations(rec, key, settings, right)


def profile_builder(rec: Recommender, key: str) -> None:
    """Search the catalogue, pick a movie, rate it, adjust its genres, add it."""
    st.subheader("Your taste profile")
    text = st.text_input(
        "Find a movie", key="search_text", placeholder="Type part of a title, e.g. toy story"
    )
    if not text.strip():
        return
    matches = search(rec, key, text)
    matches = matches[~matches["movieId"].isin(st.session_state.profile)]
    if matches.empty:
        st.caption(f"No title contains “{escape_markdown(text)}” (or it is already added).")
        return
    labels = {
        int(row.movieId): f"{row.title} · {int(row.n_ratings):,} ratings"
        for row in matches.itertuples()
    }
    movie_id = st.selectbox(
        "Pick the movie", list(labels), format_func=labels.__getitem__, key="search_choice"
    )
    if movie_id is None:
        return
    title = str(matches.loc[matches["movieId"] == movie_id, "title"].iat[0])
    rating_column, genre_column = st.columns([2, 3])
    with rating_column:
        st.select_slider(
            "Your rating (optional)",
            options=[None, *RATING_CHOICES],
            value=None,
            format_func=format_rating,
            key=f"add_rating_{movie_id}",
        )
    with genre_column:
        st.multiselect(
            "Genres that matter to you",
            rec.genres,
            default=[g for g in rec.movie_genres(movie_id) if g in rec.genres],
            key=f"add_genres_{movie_id}",
            help="Pre-filled from the movie. Remove the ones that are not why you like it.",
        )
    st.button(
        "Add to profile",
        key="add_movie",
        type="primary",
        icon=":material/add:",
        on_click=add_movie,
        args=(movie_id, title),
    )


def profile_list() -> None:
    """The movies in the profile, each with a remove button; and a button to clear them all."""
    profile: dict[int, ProfileEntry] = st.session_state.profile
    if not profile:
        st.info(
            "Your profile is empty. Search for a movie you like and add it.",
            icon=":material/search:",
        )
        return
    st.markdown(f"**{len(profile)} movie(s) in your profile**")
    for entry in list(profile.values()):
        text_column, button_column = st.columns([6, 1], vertical_alignment="center")
        genres = ", ".join(entry.genres) or "no genres"
        text_column.markdown(
            f"{escape_markdown(entry.title)}  \n"
            f":gray[{escape_markdown(format_rating(entry.rating))} · {escape_markdown(genres)}]"
        )
        button_column.button(
            "✕",
            key=f"remove_{entry.movie_id}",
            help=f"Remove {entry.title}",
            on_click=remove_movie,
            args=(entry.movie_id,),
        )
    st.button("Clear all", key="clear_profile", icon=":material/delete:", on_click=clear_profile)


def save_and_load(rec: Recommender) -> None:
    """Download the profile as JSON or CSV; upload one saved earlier."""
    for kind, text in st.session_state.upload_notes:
        getattr(st, kind)(escape_markdown(text))
    entries = list(st.session_state.profile.values())
    with st.expander("Save or load your profile", expanded=False):
        formats = [("JSON", to_json, "application/json"), ("CSV", to_csv, "text/csv")]
        for column, (name, write, mime) in zip(st.columns(2), formats, strict=True):
            column.download_button(
                f"Download {name}",
                write(entries),
                file_name=f"movie-profile.{name.lower()}",
                mime=mime,
                key=f"download_{name.lower()}",
                on_click="ignore",
                disabled=not entries,
            )
        st.file_uploader(
            "Load a saved profile (replaces the current one)",
            type=["json", "csv"],
            max_upload_size=MAX_UPLOAD_BYTES >> 20,  # in MB; a profile is far smaller
            key="profile_upload",
            on_change=load_upload,
            args=(rec,),
        )


def show_recommendations(rec: Recommender, key: str, settings: Settings, right: Any) -> None:
    """Popular picks for an empty profile, else the hybrid recommendations and the genre chart.

    The headline, the top picks and the chart go in the ``right`` column; the full table with
    scores and links spans the page below, where its columns have room.
    """
    entries = tuple(st.session_state.profile.values())
    filters = (settings.include_genres, settings.exclude_genres, settings.years)
    if not entries:
        with right:
            popular_section(rec, key, settings.n, filters)
        return
    weights = tuple(sorted(settings.weights.items()))
    table = recommendations(rec, key, entries, settings.n, weights, *filters)
    with right:
        st.subheader("Recommended for you")
        st.caption(f"{len(table)} movies for your {len(entries)}-movie profile, best first.")
        if table.empty:
            st.warning(NO_MATCH)
            return
        picks_text(table.head(TOP_PICKS_AS_TEXT))
        genre_chart(
            [entry.genres for entry in entries], table["genres"], "Your profile", "Recommendations"
        )
    st.subheader("All recommendations")
    results_table(table, "Score", with_parts=True)


def popular_section(rec: Recommender, key: str, n: int, filters: tuple) -> None:
    """Popular picks for a visitor with an empty profile, and a button to draw others.

    A text list rather than a data grid: the grid's scripts would make the first page, the one
    every new visitor waits for, about 0.3 s slower.
    """
    st.subheader("Popular picks")
    st.caption("Well-rated movies many people have seen: a good place to start.")
    table = popular_picks(rec, key, n, st.session_state.popular_seed, *filters)
    st.button(
        "Show other picks", key="other_picks", icon=":material/casino:", on_click=new_popular_sample
    )
    if table.empty:
        st.warning(NO_MATCH)
        return
    picks_text(table)


def picks_text(table: pd.DataFrame) -> None:
    """Movies as a numbered text list with genres, the reason and links to their pages.

    Text people read at a glance (and screen readers read out); titles are escaped Markdown.
    """
    lines = []
    pages = table[list(LINK_SITES)].to_dict(orient="records")
    for rank, (row, links) in enumerate(zip(table.itertuples(), pages, strict=True), start=1):
        sites = [f"[{site}]({url})" for site, url in links.items() if isinstance(url, str)]
        genres = escape_markdown(row.genres.replace("|", ", "))
        lines.append(
            f"{rank}\\. **{escape_markdown(row.title)}** · {genres} — "
            + " · ".join([escape_markdown(row.reason), *sites])
        )
    st.container(key="top_picks").markdown("  \n".join(lines))


def with_links(rec: Recommender, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the MovieLens, IMDb and TMDB addresses of its movies as three columns."""
    ids = rec.movies.iloc[rec.codes_of(table["movieId"])][["movieId", "imdbId", "tmdbId"]]
    links = movie_links(ids.reset_index(drop=True))
    return pd.concat([table.reset_index(drop=True), links], axis=1)


PARTS = [  # the same names as the weight sliders, so people see what each slider moves
    ("content_score", WEIGHT_LABELS["content_weight"][0]),
    ("general_cf_score", WEIGHT_LABELS["general_cf_weight"][0]),
    ("personal_score", WEIGHT_LABELS["personal_weight"][0]),
]


def results_table(table: pd.DataFrame, score_name: str, with_parts: bool = False) -> None:
    """All results (from ``with_links``) with their scores, reasons and links."""
    columns: dict[str, Any] = {
        "Title": table["title"],
        "Year": table["year"],
        "Genres": table["genres"].str.replace("|", ", ", regex=False),
        score_name: table["score"],
    }
    config: dict[str, Any] = {
        "Title": st.column_config.TextColumn(width="medium"),
        "Genres": st.column_config.TextColumn(width="medium"),
        "Year": st.column_config.NumberColumn(format="%d", width="small"),
        score_name: st.column_config.NumberColumn(format="%.2f", help=SCORE_HELP.get(score_name)),
        "Why": st.column_config.TextColumn(width="medium"),
    }
    columns["Why"] = table["reason"]  # next to the score: what people read first
    if with_parts:
        for column, label in PARTS:
            columns[label] = table[column]
            config[label] = st.column_config.ProgressColumn(
                min_value=0.0, max_value=1.0, format="%.2f", width="small"
            )
    for site in LINK_SITES:
        columns[site] = table[site]
        config[site] = st.column_config.LinkColumn(display_text=site, width="small")
    # One constructor call: adding columns one by one to a frame costs ~10 ms each in pandas 3.
    shown = pd.DataFrame(columns)
    rows_shown = min(len(shown), VISIBLE_ROWS)
    st.dataframe(
        shown,
        hide_index=True,
        column_config=config,
        width="stretch",
        height=(rows_shown + 1) * 35 + 3,  # the table's row height: show them without scrolling
    )


def genre_chart(
    profile_genres: Sequence[Sequence[str]], recommended: pd.Series, left: str, right: str
) -> None:
    """Side-by-side bars: the share of movies with each genre, on both sides."""
    mix = genre_mix(profile_genres, recommended).rename(
        columns={"Your profile": left, "Recommendations": right}
    )
    if mix.empty:
        return
    st.subheader("Genre mix")
    st.caption(f"Share of movies with each genre: {left.lower()} next to {right.lower()}.")
    long = mix.reset_index().melt(id_vars="genre", var_name="movies", value_name="percent")
    st.vega_lite_chart(long, genre_chart_spec(list(mix.index), [left, right]), height=320)


def genre_chart_spec(genres: list[str], series: list[str]) -> dict[str, Any]:
    """Grouped bars, genre on x, one bar per series; a plain Vega-Lite spec.

    Written by hand rather than through ``st.bar_chart``: building it via Altair costs about
    50 ms of schema validation on every rerun, a sixth of the re-render budget.
    """
    return {
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "x": {"field": "genre", "type": "nominal", "sort": genres, "title": None,
                  "axis": {"labelAngle": -45, "labelOverlap": False}},
            "xOffset": {"field": "movies", "sort": series},
            "y": {"field": "percent", "type": "quantitative", "title": "% of movies"},
            "color": {"field": "movies", "type": "nominal", "sort": series, "title": None,
                      "legend": {"orient": "top"}},
        },
    }  # fmt: skip


# --- existing-user mode --------------------------------------------------------------------------


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


def pick_random_user(rec: Recommender) -> None:
    """Callback: jump to a random user of the data set."""
    st.session_state.user_id = int(random.choice(rec.user_ids.tolist()))


# --- about ----------------------------------------------------------------------------------------


def about_button(rec: Recommender) -> None:
    """A button that opens "About this model"; nothing of it is sent before it is pressed."""
    if st.button("About this model", key="show_about", icon=":material/info:"):
        about_model(rec)


@st.dialog("About this model", width="large")
def about_model(rec: Recommender) -> None:
    """Counts, training time, parameters and (when present) offline evaluation figures."""
    manifest = rec.manifest
    counts = manifest.get("counts", {})
    names = [("Movies", "movies"), ("Users", "users"), ("Ratings", "ratings"), ("Genres", "genres")]
    for column, (label, name) in zip(st.columns(len(names)), names, strict=True):
        column.metric(label, f"{counts.get(name, 0):,}")
    timings = manifest.get("timings_seconds", {})
    total = sum(float(v) for v in timings.values())
    blend = ", ".join(
        f"{WEIGHT_LABELS[name][0].lower()} {value:g}" for name, value in rec.default_weights.items()
    )
    st.markdown(
        f"Trained **{escape_markdown(when(manifest.get('created')))}** in {total:.1f} s. "
        f"Default blend: {escape_markdown(blend)}."
    )
    for note in manifest.get("notes", []):
        st.caption(escape_markdown(str(note)))
    evaluation_summary(manifest.get("evaluation"))
    st.markdown("**Parameters**")
    st.table(as_table(manifest.get("parameters", {}), "parameter"), hide_index=True)


def evaluation_summary(evaluation: Any) -> None:
    """The offline evaluation: NDCG per scorer and profile size when the figures have that
    shape (``python -m recommender.evaluate``), else every figure as written."""
    if not evaluation:
        st.caption("No offline evaluation figures in this bundle yet.")
        return
    st.markdown("**Offline evaluation**")
    results = evaluation.get("results") if isinstance(evaluation, dict) else None
    try:
        k = int(evaluation["k"])
        overview = ndcg_overview(pd.DataFrame(results), k)
    except (KeyError, TypeError, ValueError):
        st.table(as_table(evaluation, "figure"), hide_index=True)
        return
    st.caption(
        f"NDCG@{k}: how high the movies a held-out user liked come in the top {k} "
        "(1 is perfect; ± one standard error)."
    )
    st.table(overview.reset_index())
    for protocol, description in (evaluation.get("protocols") or {}).items():
        name = protocol.replace("-", " ").capitalize()  # "new-user" -> "New user"
        st.caption(f"{escape_markdown(name)}: {escape_markdown(description)}")
    if evaluation.get("defaults_chosen_by"):
        st.caption(f"Defaults chosen by {escape_markdown(evaluation['defaults_chosen_by'])}.")


def when(created: Any) -> str:
    """ "27 Nov 2026, 22:55 UTC" from the manifest's ISO time (as given if it is not one)."""
    try:
        moment = datetime.fromisoformat(str(created)).astimezone(UTC)
    except ValueError:
        return str(created or "at an unknown time")
    return moment.strftime("%d %b %Y, %H:%M UTC")


@st.cache_data(max_entries=16, show_spinner=False)
def as_table(section: Any, label: str) -> pd.DataFrame:
    """A (possibly nested) manifest section as two text columns: name and value."""
    if not isinstance(section, dict):
        return pd.DataFrame({label: [label], "value": [str(section)]})
    flat = pd.json_normalize(section, sep=" / ")
    return pd.DataFrame({label: flat.columns, "value": [str(v) for v in flat.iloc[0]]})


# --- the page ------------------------------------------------------------------------------------


def main() -> None:
    """One run of the page."""
    st.set_page_config(page_title="Movie recommender", page_icon=":material/movie:", layout="wide")
    artifacts_dir = os.environ.get(ARTIFACTS_ENV, "artifacts")
    rec, key = recommender_or_stop(artifacts_dir)
    init_state(rec)
    with st.sidebar:
        about_button(rec)  # first: people look for what this is before they tune it
    settings = sidebar(rec)
    if settings.mode == USER_MODE:
        user_page(rec, settings)
    else:
        profile_page(rec, key, settings)


@contextlib.asynccontextmanager
async def warm_up(app: Any) -> AsyncIterator[None]:
    """Read the bundle when the server starts, so the first visitor does not wait for it.

    By then importing this file has imported pandas, pyarrow and the model code (about 0.6 s
    that the first visitor's page would otherwise spend); reading the bundle once brings its
    files into memory. A missing or broken bundle is left for the page to explain.
    """
    del app
    with contextlib.suppress(BundleError):
        Recommender.load(os.environ.get(ARTIFACTS_ENV, "artifacts"))
    yield


if __name__ == "__main__":  # a run of the page by Streamlit's script runner (or AppTest)
    main()
else:  # `streamlit run main.py` imports this file and serves `app`, warming up first
    app = st.App(__file__, lifespan=warm_up)
