"""How movies are shown: titles, ratings, links and the genre chart.

Titles always reach the page as text (escaped Markdown or table cells), never as HTML.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from app.profile_files import GENRE_SEPARATOR
from recommender import Recommender, display_title, title_years

MOVIELENS_URL = "https://movielens.org/movies/{}"


IMDB_URL = "https://www.imdb.com/title/tt{:07d}/"


TMDB_URL = "https://www.themoviedb.org/movie/{}"


LINK_SITES = ("MovieLens", "IMDb", "TMDB")  # the columns of movie_links, in this order


def format_rating(rating: float | None) -> str:
    """ "★ 4.5" for a rating, "no rating" for None: the words the app shows."""
    return "no rating" if rating is None else f"★ {rating:g}"


def readable_title(title: str, year: Any = None) -> tuple[str, str]:
    """("The Matrix", "1999") from "Matrix, The (1999)": the name as people write it and its
    year once (the title's own, else ``year``; "" when neither is known)."""
    years = title_years(title)
    if years is None and year is not None and not pd.isna(year):
        years = str(int(year))
    return display_title(title), years or ""


def genre_mix(
    profile_genres: Iterable[Sequence[str]], recommended_genres: Iterable[str]
) -> pd.DataFrame:
    """Share of movies carrying each genre, in the profile and in the recommendations.

    ``profile_genres`` holds one genre list per profile movie; ``recommended_genres`` holds
    one MovieLens "A|B|C" string per recommendation. Rows are genres (most common in the
    profile first); each column is the percentage of its movies that have the genre.
    """
    profile_lists = [list(g) for g in profile_genres]
    recommended_lists = [
        [g for g in str(text).split(GENRE_SEPARATOR) if g and g != "(no genres listed)"]
        for text in recommended_genres
    ]
    shares = [_genre_shares(profile_lists), _genre_shares(recommended_lists)]
    mine, theirs = shares

    def order(genre: str) -> tuple[float, float, str]:
        return (-mine.get(genre, 0.0), -theirs.get(genre, 0.0), genre)

    genres = sorted(set(mine) | set(theirs), key=order)
    return pd.DataFrame(
        {
            "Your profile": [mine.get(g, 0.0) for g in genres],
            "Recommendations": [theirs.get(g, 0.0) for g in genres],
        },
        index=pd.Index(genres, name="genre", dtype=object),
    )


def _genre_shares(lists: Sequence[Sequence[str]]) -> dict[str, float]:
    counts = Counter(g for genres in lists for g in set(genres))
    return {g: round(100.0 * c / len(lists), 1) for g, c in counts.items()}


def movie_links(movies: pd.DataFrame) -> pd.DataFrame:
    """MovieLens, IMDb and TMDB page addresses for rows with movieId, imdbId, tmdbId.

    A missing id gives an empty cell (missing value) rather than a broken link.
    """
    addresses = (
        [MOVIELENS_URL.format(int(i)) for i in movies["movieId"]],
        [_link(IMDB_URL, i) for i in movies["imdbId"]],
        [_link(TMDB_URL, i) for i in movies["tmdbId"]],
    )
    return pd.DataFrame(dict(zip(LINK_SITES, addresses, strict=True)), index=movies.index)


def _link(template: str, movie_id: Any) -> str | None:
    if movie_id is None or pd.isna(movie_id):
        return None
    return template.format(int(movie_id))


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&])")


def escape_markdown(text: str) -> str:
    """``text`` with every Markdown character backslash-escaped, so it shows literally.

    Titles come from data files; in ``st.markdown`` a title like "*batteries not included"
    would turn italic and "<b>x</b>" would be markup. Escaped, both show as typed.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def with_details(rec: Recommender, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with what a movie's card shows besides its row: the MovieLens, IMDb and TMDB
    addresses, the TMDB id (for its poster) and its most used tags."""
    codes = rec.codes_of(table["movieId"])
    details = rec.movies.iloc[codes][["movieId", "imdbId", "tmdbId", "tags"]]
    links = movie_links(details.reset_index(drop=True))
    extra = details[["tmdbId", "tags"]].reset_index(drop=True)
    return pd.concat([table.reset_index(drop=True), links, extra], axis=1)


def genre_chart(
    profile_genres: Sequence[Sequence[str]],
    recommended: pd.Series,
    left: str,
    right: str,
    heading: bool = True,
) -> None:
    """Side-by-side bars: the share of movies with each genre, on both sides."""
    mix = genre_mix(profile_genres, recommended).rename(
        columns={"Your profile": left, "Recommendations": right}
    )
    if mix.empty:
        return
    if heading:
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
