"""How movies are shown: text lists, tables, links and the genre chart.

Titles always reach the page as text (escaped Markdown or table cells), never as HTML.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from app.profile_files import GENRE_SEPARATOR
from recommender import Recommender

MOVIELENS_URL = "https://movielens.org/movies/{}"


IMDB_URL = "https://www.imdb.com/title/tt{:07d}/"


TMDB_URL = "https://www.themoviedb.org/movie/{}"


LINK_SITES = ("MovieLens", "IMDb", "TMDB")  # the columns of movie_links, in this order

VISIBLE_ROWS = 20
TOP_PICKS_AS_TEXT = 5  # the best few as a text list people read first; all of them in the table


SCORE_HELP = {
    "Score": "The blend of the three parts, with your weights",
    "Match": "How strongly the rating model suggests it for them (higher is better; not stars)",
}


def format_rating(rating: float | None) -> str:
    """ "★ 4.5" for a rating, "no rating" for None: the words the app shows."""
    return "no rating" if rating is None else f"★ {rating:g}"


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


def results_table(
    table: pd.DataFrame, score_name: str, parts: Mapping[str, tuple[str, str]] | None = None
) -> None:
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
    # Each part (scorer name -> label, help) under its slider's name, so people see what each
    # slider moves.
    for name, (label, help_text) in (parts or {}).items():
        columns[label] = table[f"{name}_score"]
        config[label] = st.column_config.ProgressColumn(
            min_value=0.0, max_value=1.0, format="%.2f", width="small", help=help_text
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
