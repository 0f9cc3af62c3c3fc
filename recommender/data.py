"""Load and validate MovieLens-format CSV files.

Every problem with the input becomes one :class:`DataError` whose message names the file, the
column and the first offending row, so the training CLI can print one line and exit. Row numbers
are line numbers in the file: the header is row 1, the first data row is row 2.

Repairs that lose nothing a user would miss are made and reported in :attr:`Dataset.notes`
instead of failing: duplicate ratings (the latest by timestamp wins), ratings of movies that
movies.csv does not list (dropped), fewer users or movies than factors (handled by the trainer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

MOVIES_FILE = "movies.csv"
RATINGS_FILE = "ratings.csv"
LINKS_FILE = "links.csv"
TAGS_FILE = "tags.csv"

MOVIE_COLUMNS = ("movieId", "title", "genres")
RATING_COLUMNS = ("userId", "movieId", "rating")
LINK_COLUMNS = ("movieId", "imdbId", "tmdbId")
TAG_COLUMNS = ("userId", "movieId", "tag")

MIN_RATING, MAX_RATING = 0.5, 5.0
NO_GENRES = "(no genres listed)"
TAGS_PER_MOVIE = 3

# A year in parentheses at the end of a title: "(1995)", also "(2006-2007)" for series.
_YEAR_AT_END = re.compile(r"\((\d{4})(?:[-–]\d{0,4})?\)\s*$")


class DataError(ValueError):
    """The input data cannot be used; the message says which file, column and row."""


@dataclass
class Dataset:
    """Validated training data.

    ``movies`` has one row per movie (the row index is the movie's code everywhere else) with
    columns movieId, title, genres, year, imdbId, tmdbId, tags. ``ratings`` is a users x movies
    CSR matrix of float32 ratings whose row ``u`` belongs to ``user_ids[u]``.
    """

    movies: pd.DataFrame
    user_ids: np.ndarray
    ratings: sp.csr_matrix
    notes: list[str] = field(default_factory=list)
    input_files: list[Path] = field(default_factory=list)

    @property
    def n_ratings(self) -> int:
        return int(self.ratings.nnz)


def find_input_files(data_dir: Path) -> list[Path]:
    """The MovieLens files present in ``data_dir``, required ones first."""
    names = (MOVIES_FILE, RATINGS_FILE, LINKS_FILE, TAGS_FILE)
    return [data_dir / name for name in names if (data_dir / name).is_file()]


def load_dataset(data_dir: str | Path) -> Dataset:
    """Read and validate movies.csv and ratings.csv (plus links.csv and tags.csv when present)."""
    data_dir = Path(data_dir)
    notes: list[str] = []
    movies = load_movies(data_dir / MOVIES_FILE)
    links_path = data_dir / LINKS_FILE
    movies = _attach_links(movies, load_links(links_path) if links_path.is_file() else None)
    tags_path = data_dir / TAGS_FILE
    movies["tags"] = _top_tags(movies, load_tags(tags_path)) if tags_path.is_file() else ""
    user_ids, ratings = load_ratings(data_dir / RATINGS_FILE, movies["movieId"].to_numpy(), notes)
    unrated = int((np.diff(ratings.tocsc().indptr) == 0).sum())
    if unrated:
        notes.append(f"{unrated:,} movies have no ratings; content and popularity still serve them")
    return Dataset(movies, user_ids, ratings, notes, find_input_files(data_dir))


# --- reading one CSV ---------------------------------------------------------------------------


def _read_header(path: Path, required: tuple[str, ...]) -> list[str]:
    """Check that the file exists, is not empty and has the required columns; return the header."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    with path.open("rb") as handle:
        first_line = handle.readline()
    if not first_line.strip():
        raise DataError(f"{path.name}: the file is empty (expected a header {','.join(required)})")
    header = first_line.decode("utf-8-sig", errors="replace").strip()
    names = [name.strip().strip('"') for name in header.split(",")]
    missing = [column for column in required if column not in names]
    if missing:
        if len(names) == 1 and any(sep in header for sep in (";", "\t", "|")):
            raise DataError(
                f"{path.name}: row 1 (header) is {header!r}: columns must be separated by commas "
                f"(expected {','.join(required)})"
            )
        raise DataError(
            f"{path.name}: column {missing[0]!r} is missing (row 1, the header, is {header!r})"
        )
    return names


def _read_csv(
    path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Read the required (and present optional) columns as text-free as possible.

    The pyarrow engine reads large files several times faster than the C engine; whatever it
    cannot parse is read again as text so the first bad row can be named.
    """
    names = _read_header(path, required)
    columns = list(required) + [c for c in optional if c in names]
    try:
        frame = pd.read_csv(path, usecols=columns, engine="pyarrow", encoding="utf-8")
    except Exception as error:  # pyarrow raises its own error types; diagnose with pandas
        frame = _read_as_text(path, columns, error)
    if frame.empty:
        raise DataError(f"{path.name}: the file has a header but no rows")
    return frame


def _read_as_text(path: Path, columns: list[str], error: Exception) -> pd.DataFrame:
    try:
        return pd.read_csv(path, usecols=columns, dtype=str, keep_default_na=False, na_values=[""])
    except UnicodeDecodeError as decode_error:
        raise DataError(f"{path.name}: not UTF-8 text ({decode_error.reason})") from None
    except pd.errors.ParserError as parse_error:
        match = re.search(r"line (\d+), saw (\d+)", str(parse_error))
        where = f"row {match.group(1)} has {match.group(2)} fields" if match else str(parse_error)
        raise DataError(f"{path.name}: {where}; expected {len(columns)} or more") from None
    except Exception:
        raise DataError(f"{path.name}: cannot be read as CSV ({error})") from None


def _shown(value: object) -> str:
    """A value as the file shows it: 1.5, not np.float64(1.5)."""
    return f"'{value:g}'" if isinstance(value, float | np.floating) else repr(str(value))


def _first_bad_row(mask: pd.Series | np.ndarray) -> int:
    """The file row (header is row 1) of the first True in ``mask``."""
    return int(np.flatnonzero(np.asarray(mask))[0]) + 2


def _numeric_column(frame: pd.DataFrame, file: str, column: str, integer: bool) -> np.ndarray:
    """The column as numbers, or a DataError naming the first value that is not one."""
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce")
    missing = values.isna().to_numpy()
    if missing.any():
        row = _first_bad_row(missing)
        value = raw.iloc[row - 2]
        if pd.isna(value) or str(value).strip() == "":
            raise DataError(f"{file}: column {column!r}, row {row}: the value is missing")
        kind = "an integer id" if integer else "a number"
        raise DataError(f"{file}: column {column!r}, row {row}: {_shown(value)} is not {kind}")
    array = values.to_numpy(dtype=np.float64) if not integer else values.to_numpy()
    if integer:
        fractional = np.asarray(array != np.floor(array))
        if fractional.any():
            row = _first_bad_row(fractional)
            raise DataError(
                f"{file}: column {column!r}, row {row}: {_shown(raw.iloc[row - 2])} is not an "
                "integer id"
            )
        return array.astype(np.int64)
    return array


# --- movies, links, tags ------------------------------------------------------------------------


def load_movies(path: Path) -> pd.DataFrame:
    """movies.csv as a table with movieId, title, genres and year; one row per movie."""
    frame = _read_csv(path, MOVIE_COLUMNS)
    movie_ids = _numeric_column(frame, path.name, "movieId", integer=True)
    repeated = pd.Series(movie_ids).duplicated().to_numpy()
    if repeated.any():
        row = _first_bad_row(repeated)
        raise DataError(
            f"{path.name}: column 'movieId', row {row}: movieId {movie_ids[row - 2]} appears twice"
        )
    titles = frame["title"].astype("string")
    if titles.isna().any():
        row = _first_bad_row(titles.isna())
        raise DataError(f"{path.name}: column 'title', row {row}: the value is missing")
    genres = frame["genres"].astype("string").fillna(NO_GENRES).str.strip()
    genres = genres.mask(genres == "", NO_GENRES)
    titles = titles.str.strip()
    year = titles.str.extract(_YEAR_AT_END, expand=False).astype("Int64").astype("Int16")
    return pd.DataFrame(
        {
            "movieId": movie_ids,
            "title": titles.astype(str),
            "genres": genres.astype(str),
            "year": year,
        }
    )


def load_links(path: Path) -> pd.DataFrame:
    """links.csv: movieId with its IMDb and TMDB ids (either may be missing)."""
    frame = _read_csv(path, ("movieId",), ("imdbId", "tmdbId"))
    result = pd.DataFrame({"movieId": _numeric_column(frame, path.name, "movieId", integer=True)})
    for column in ("imdbId", "tmdbId"):
        values = frame[column] if column in frame else pd.Series(pd.NA, index=frame.index)
        numbers = pd.to_numeric(values, errors="coerce")
        result[column] = numbers.where(numbers % 1 == 0).astype("Int64")
    return result.drop_duplicates("movieId")


def load_tags(path: Path) -> pd.DataFrame:
    """tags.csv: the movieId and tag columns (user and time do not matter here)."""
    frame = _read_csv(path, TAG_COLUMNS)
    movie_ids = _numeric_column(frame, path.name, "movieId", integer=True)
    return pd.DataFrame({"movieId": movie_ids, "tag": frame["tag"].astype("string")})


def _attach_links(movies: pd.DataFrame, links: pd.DataFrame | None) -> pd.DataFrame:
    if links is None:
        movies["imdbId"] = pd.array([pd.NA] * len(movies), dtype="Int64")
        movies["tmdbId"] = pd.array([pd.NA] * len(movies), dtype="Int64")
        return movies
    merged = movies.merge(links, on="movieId", how="left")
    return merged


def _top_tags(movies: pd.DataFrame, tags: pd.DataFrame) -> pd.Series:
    """The most used tags of each movie, joined by '|' ("" when a movie has none)."""
    tags = tags.dropna(subset=["tag"])
    tags = tags.assign(tag=tags["tag"].str.strip().str.lower())
    tags = tags[tags["tag"] != ""]
    counts = tags.groupby(["movieId", "tag"]).size().rename("count").reset_index()
    counts = counts.sort_values(["movieId", "count", "tag"], ascending=[True, False, True])
    top = counts.groupby("movieId").head(TAGS_PER_MOVIE).groupby("movieId")["tag"].agg("|".join)
    return movies["movieId"].map(top).fillna("").astype(str)


# --- ratings ------------------------------------------------------------------------------------


def load_ratings(
    path: Path, movie_ids: np.ndarray, notes: list[str]
) -> tuple[np.ndarray, sp.csr_matrix]:
    """ratings.csv as (sorted userIds, users x movies CSR of float32 ratings).

    Columns of the matrix follow ``movie_ids`` (the order of movies.csv). The matrix is built
    straight from integer codes: no pivot table, nothing users x movies dense.
    """
    frame = _read_csv(path, RATING_COLUMNS, ("timestamp",))
    name = path.name
    users = _numeric_column(frame, name, "userId", integer=True)
    movies = _numeric_column(frame, name, "movieId", integer=True)
    ratings = _numeric_column(frame, name, "rating", integer=False)
    outside = (ratings < MIN_RATING) | (ratings > MAX_RATING)
    if outside.any():
        row = _first_bad_row(outside)
        raise DataError(
            f"{name}: column 'rating', row {row}: {ratings[row - 2]:g} is outside "
            f"{MIN_RATING:g}-{MAX_RATING:g}"
        )
    timestamps = (
        _numeric_column(frame, name, "timestamp", integer=True)
        if "timestamp" in frame
        else np.arange(len(frame), dtype=np.int64)  # without times, the later row wins
    )
    del frame

    movie_codes = pd.Index(movie_ids).get_indexer(movies).astype(np.int32)
    known = movie_codes >= 0
    if not known.all():
        unknown = int((~known).sum())
        first = int(movies[~known][0])
        notes.append(
            f"dropped {unknown:,} ratings of movies not in movies.csv (first: movieId {first})"
        )
        users, movie_codes = users[known], movie_codes[known]
        ratings, timestamps = ratings[known], timestamps[known]
    if len(users) == 0:
        raise DataError(f"{name}: none of the ratings is of a movie listed in movies.csv")

    user_codes, user_ids = pd.factorize(users, sort=True)
    shape = (len(user_ids), len(movie_ids))
    matrix = _csr(user_codes, movie_codes, ratings, shape)
    if matrix.nnz < len(ratings):  # duplicates were summed: rebuild keeping the latest
        order = np.lexsort((timestamps, movie_codes, user_codes))
        key = user_codes[order].astype(np.int64) * shape[1] + movie_codes[order]
        last = np.r_[key[1:] != key[:-1], True]
        keep = order[last]
        notes.append(
            f"{len(ratings) - len(keep):,} duplicate ratings of the same movie by the same user: "
            "kept the latest by timestamp"
        )
        matrix = _csr(user_codes[keep], movie_codes[keep], ratings[keep], shape)
    return np.asarray(user_ids, dtype=np.int64), matrix


def _csr(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]):
    matrix = sp.csr_matrix(
        (values.astype(np.float32), (rows.astype(np.int32), cols.astype(np.int32))), shape=shape
    )
    matrix.sum_duplicates()
    return matrix
