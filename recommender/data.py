"""Load and validate MovieLens-format CSV files.

Every problem with the input becomes one :class:`DataError` whose message names the file, the
column and the first offending row, so the training CLI can print one line and exit. Row numbers
are line numbers in the file, as a text editor shows them: the header is row 1, blank lines count.

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

from recommender.csv_rows import check_rows
from recommender.data_messages import (  # re-exported: the Spark engine reads them from here
    MAX_ID,
    MAX_RATING,
    MIN_ID,
    MIN_RATING,
    MISSING_VALUE,
    MOVIES_FILE,
    DataError,
    bad_value,
    check_header,
    dropped_note,
    duplicates_note,
    encoding_error,
    file_not_found,
    id_outside_range,
    no_known_movies,
    no_rows,
    not_a_number,
    odd_genre_separators,
    outside_range,
    unrated_note,
    whole_outside_range,
)
from recommender.ratings_arrow import read_clean_ratings

RATINGS_FILE = "ratings.csv"
LINKS_FILE = "links.csv"
TAGS_FILE = "tags.csv"

MOVIE_COLUMNS = ("movieId", "title", "genres")
RATING_COLUMNS = ("userId", "movieId", "rating")
LINK_COLUMNS = ("movieId", "imdbId", "tmdbId")
TAG_COLUMNS = ("userId", "movieId", "tag")
TEXT_COLUMNS = ("title", "genres", "tag")

NO_GENRES = "(no genres listed)"
TAGS_PER_MOVIE = 3

# A year in parentheses at the end of a title: "(1995)", also "(2006-2007)" for series.
_YEAR_AT_END = re.compile(r"\((\d{4})(?:[-–]\d{0,4})?\)\s*$")


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
    movies = load_catalogue(data_dir)
    separators = odd_genre_separators(movies)
    if separators:
        notes.append(separators)
    user_ids, ratings = load_ratings(data_dir / RATINGS_FILE, movies["movieId"].to_numpy(), notes)
    # a column count by bincount: tocsc() would copy the whole matrix (256 MB at 32M)
    unrated = int((np.bincount(ratings.indices, minlength=ratings.shape[1]) == 0).sum())
    if unrated:
        notes.append(unrated_note(unrated))
    return Dataset(movies, user_ids, ratings, notes, find_input_files(data_dir))


def load_catalogue(data_dir: Path) -> pd.DataFrame:
    """The movie table: movies.csv with links.csv and the top tags of tags.csv when present."""
    movies = load_movies(data_dir / MOVIES_FILE)
    links_path = data_dir / LINKS_FILE
    movies = _attach_links(movies, load_links(links_path) if links_path.is_file() else None)
    tags_path = data_dir / TAGS_FILE
    movies["tags"] = _top_tags(movies, load_tags(tags_path)) if tags_path.is_file() else ""
    return movies


# --- reading one CSV ---------------------------------------------------------------------------


def _read_header(path: Path, required: tuple[str, ...]) -> list[str]:
    """Check that the file exists, is not empty and has the required columns; return the header."""
    if not path.is_file():
        raise file_not_found(path)
    with path.open("rb") as handle:
        return check_header(path.name, handle.readline(), required)


def _read_csv(
    path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Read the required (and present optional) columns as text-free as possible.

    The pyarrow engine reads large files several times faster than the C engine; whatever it
    cannot parse is read again as text so the first bad row can be named.
    """
    names = _read_header(path, required)
    columns = list(required) + [c for c in optional if c in names]
    # Text columns typed as text: left to infer, pyarrow reads a column that is not UTF-8 as
    # bytes, and the error would come later and as a traceback.
    text = {column: str for column in columns if column in TEXT_COLUMNS}
    try:
        frame = pd.read_csv(path, usecols=columns, engine="pyarrow", encoding="utf-8", dtype=text)
    except Exception as error:  # pyarrow raises its own error types; diagnose with pandas
        frame = _read_as_text(path, columns, error)
    if frame.empty:
        raise no_rows(path.name)
    return frame


def _read_as_text(path: Path, columns: list[str], error: Exception) -> pd.DataFrame:
    check_rows(path)  # a short or long row, an open quote: pandas would let them through
    try:
        return pd.read_csv(path, usecols=columns, dtype=str, keep_default_na=False, na_values=[""])
    except UnicodeDecodeError:
        raise encoding_error(path) from None
    except pd.errors.ParserError as parse_error:
        match = re.search(r"line (\d+), saw (\d+)", str(parse_error))
        where = f"row {match.group(1)} has {match.group(2)} fields" if match else str(parse_error)
        raise DataError(f"{path.name}: {where}; expected {len(columns)} or more") from None
    except Exception:
        raise DataError(f"{path.name}: cannot be read as CSV ({error})") from None


def _first(mask: pd.Series | np.ndarray) -> int:
    """The position of the first True in ``mask``: the index of the first bad data row."""
    return int(np.flatnonzero(np.asarray(mask))[0])


def file_row(path: Path, index: int) -> int:
    """The line of the file (the header is row 1) that holds data row ``index`` (from 0).

    The CSV readers skip blank lines, so a data row's index alone would name the wrong line
    after one. Only error messages need this, so one pass over the lines is cheap enough.
    """
    remaining = index
    with path.open("rb") as handle:
        handle.readline()  # the header
        for line, text in enumerate(handle, start=2):
            if text.strip():
                if remaining == 0:
                    return line
                remaining -= 1
    return index + 2  # lines the readers split otherwise (say, by a lone "\r"): a best guess


def _numeric_column(
    frame: pd.DataFrame, path: Path, column: str, integer: bool, ids: bool = True
) -> np.ndarray:
    """The column as numbers, or a DataError naming the first value that is not one; an
    ``integer`` column holds ids, whole numbers from 1 to 2^53 - 1 (not ``ids``: any whole
    number within 64 bits, as a timestamp, which may be 0 or before 1970)."""
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce")
    missing = values.isna().to_numpy()
    if missing.any():
        index = _first(missing)
        value = raw.iloc[index]
        blank = pd.isna(value) or str(value).strip() == ""
        problem = MISSING_VALUE if blank else not_a_number(value, integer, ids)
        raise bad_value(path.name, column, file_row(path, index), problem)
    if not integer:
        return values.to_numpy(dtype=np.float64)
    array = values.to_numpy()
    if array.dtype.kind == "O":  # whole numbers beyond 64 bits arrive as Python ints
        array = array.astype(np.float64)
    if array.dtype.kind == "f":
        fractional = np.asarray(array != np.floor(array))
        if fractional.any():
            index = _first(fractional)
            problem = not_a_number(raw.iloc[index], integer=True, ids=ids)
            raise bad_value(path.name, column, file_row(path, index), problem)
    # Compared before the cast: 2^63 would wrap to -2^63 in int64, and above 2^53 a float64
    # (pandas, JSON, the browser) no longer tells neighbouring ids apart.
    low, high = (MIN_ID, MAX_ID) if ids else (-(2**63), 2**63 - 1)
    outside = np.asarray(~((array >= low) & (array <= high)))
    if not ids and array.dtype.kind == "f":  # 2^63 - 1 rounds up to 2^63 as a float64
        outside |= np.asarray(array >= 2.0**63)
    if outside.any():
        index = _first(outside)
        shown = _as_written(raw, path, index)
        problem = id_outside_range(shown) if ids else whole_outside_range(shown)
        raise bad_value(path.name, column, file_row(path, index), problem)
    return array.astype(np.int64)


def _as_written(raw: pd.Series, path: Path, index: int) -> object:
    """A value as the file has it: a huge id parsed as a float is read again as text (once,
    for the message), so 9223372036854775808 is not shown as 9.22337e+18."""
    value = raw.iloc[index]
    if not isinstance(value, float | np.floating):
        return value
    text = pd.read_csv(path, usecols=[raw.name], dtype=str, keep_default_na=False)
    return text[raw.name].iloc[index]


# --- movies, links, tags ------------------------------------------------------------------------


def load_movies(path: Path) -> pd.DataFrame:
    """movies.csv as a table with movieId, title, genres and year; one row per movie."""
    frame = _read_csv(path, MOVIE_COLUMNS)
    check_rows(path, capped=("title", "genres"))  # an open quote pyarrow read as one title
    movie_ids = _numeric_column(frame, path, "movieId", integer=True)
    repeated = pd.Series(movie_ids).duplicated().to_numpy()
    if repeated.any():
        index = _first(repeated)
        problem = f"movieId {movie_ids[index]} appears twice"
        raise bad_value(path.name, "movieId", file_row(path, index), problem)
    titles = frame["title"].astype("string")
    if titles.isna().any():
        row = file_row(path, _first(titles.isna()))
        raise bad_value(path.name, "title", row, MISSING_VALUE)
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
    result = pd.DataFrame({"movieId": _numeric_column(frame, path, "movieId", integer=True)})
    for column in ("imdbId", "tmdbId"):
        values = frame[column] if column in frame else pd.Series(pd.NA, index=frame.index)
        # optional: a value that is not an id (1 to 2^53 - 1) is no link, not an error
        numbers = pd.to_numeric(values, errors="coerce").astype(np.float64)
        usable = (numbers % 1 == 0) & (numbers >= MIN_ID) & (numbers <= MAX_ID)
        result[column] = numbers.where(usable).astype("Int64")
    return result.drop_duplicates("movieId")


def load_tags(path: Path) -> pd.DataFrame:
    """tags.csv: the movieId and tag columns (user and time do not matter here)."""
    frame = _read_csv(path, TAG_COLUMNS)
    movie_ids = _numeric_column(frame, path, "movieId", integer=True)
    return pd.DataFrame({"movieId": movie_ids, "tag": frame["tag"].astype("string")})


def _attach_links(movies: pd.DataFrame, links: pd.DataFrame | None) -> pd.DataFrame:
    if links is None:
        movies["imdbId"] = pd.array([pd.NA] * len(movies), dtype="Int64")
        movies["tmdbId"] = pd.array([pd.NA] * len(movies), dtype="Int64")
        return movies
    return movies.merge(links, on="movieId", how="left")


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
    path: Path, movie_ids: np.ndarray, notes: list[str], with_times: bool = False
) -> tuple[np.ndarray, sp.csr_matrix]:
    """ratings.csv as (sorted userIds, users x movies CSR of float32 ratings).

    Columns of the matrix follow ``movie_ids`` (the order of movies.csv). The matrix is built
    straight from integer codes: no pivot table, nothing users x movies dense. The timestamps
    only settle duplicate ratings, so a clean file's are checked but not kept (``with_times``:
    256 MB at 32M ratings); a file with duplicates is read again with them.
    """
    name = path.name
    fast = read_clean_ratings(path, _read_header(path, RATING_COLUMNS), with_times)
    users, movies, ratings, timestamps = fast if fast is not None else _read_ratings(path)
    movie_codes = _movie_codes(movie_ids, movies)
    before = list(notes)  # the notes as they were, should the file be read again
    known = movie_codes >= 0
    if not known.all():
        unknown = int((~known).sum())
        first = int(movies[~known][0])
        notes.append(dropped_note(unknown, first))
        users, movie_codes, ratings = users[known], movie_codes[known], ratings[known]
        timestamps = None if timestamps is None else timestamps[known]
    del movies, known
    if len(users) == 0:
        raise no_known_movies(name)

    user_codes, user_ids = _user_codes(users)
    del users
    shape = (len(user_ids), len(movie_ids))
    matrix = _sorted_csr(user_codes, movie_codes, ratings, shape)
    if matrix is None and fast is not None and not with_times:  # duplicates: their times
        del user_codes, movie_codes, ratings
        notes[:] = before
        return load_ratings(path, movie_ids, notes, with_times=True)
    if matrix is None:  # duplicates: keep the latest by timestamp (then by row)
        if timestamps is None:
            timestamps = np.arange(len(ratings), dtype=np.int64)  # without times, the later row
        order = np.lexsort((timestamps, movie_codes, user_codes))
        key = user_codes[order].astype(np.int64) * shape[1] + movie_codes[order]
        last = np.r_[key[1:] != key[:-1], True]
        keep = order[last]
        notes.append(duplicates_note(len(ratings) - len(keep)))
        matrix = _csr(user_codes[keep], movie_codes[keep], ratings[keep], shape)
    return np.asarray(user_ids, dtype=np.int64), matrix


def _read_ratings(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """(userIds, movieIds, ratings, timestamps or None) with every value checked.

    The slow path: any problem becomes a DataError naming the file, column and first bad row.
    """
    frame = _read_csv(path, RATING_COLUMNS, ("timestamp",))
    users = _numeric_column(frame, path, "userId", integer=True)
    movies = _numeric_column(frame, path, "movieId", integer=True)
    ratings = _numeric_column(frame, path, "rating", integer=False)
    outside = (ratings < MIN_RATING) | (ratings > MAX_RATING)
    if outside.any():
        index = _first(outside)
        problem = outside_range(ratings[index], _as_written(frame["rating"], path, index))
        raise bad_value(path.name, "rating", file_row(path, index), problem)
    timestamps = (
        _numeric_column(frame, path, "timestamp", integer=True, ids=False)
        if "timestamp" in frame
        else None
    )
    return users, movies, ratings, timestamps


# A lookup table indexed by id is the fastest way to map ids to codes (one gather, no hashing);
# it is used while the ids are small enough for the table to be a few tens of MB at most.
MAX_LOOKUP_ID = 1 << 24


def _movie_codes(movie_ids: np.ndarray, movies: np.ndarray) -> np.ndarray:
    """The code (index in ``movie_ids``) of each rated movieId, -1 for one not in movies.csv."""
    movie_ids = np.asarray(movie_ids)
    if len(movie_ids) and movie_ids.min() >= 0 and movie_ids.max() < MAX_LOOKUP_ID:
        table = np.full(int(movie_ids.max()) + 1, -1, dtype=np.int32)
        table[movie_ids] = np.arange(len(movie_ids), dtype=np.int32)
        inside = (movies >= 0) & (movies < len(table))
        if inside.all():
            return table[movies]
        return np.where(inside, table[np.clip(movies, 0, len(table) - 1)], -1).astype(np.int32)
    return pd.Index(movie_ids).get_indexer(movies).astype(np.int32)


def _user_codes(users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(code of each rating's user, sorted distinct userIds): pd.factorize(sort=True), faster."""
    low, high = int(users.min()), int(users.max())
    if low < 0 or high >= MAX_LOOKUP_ID:
        codes, uniques = pd.factorize(users, sort=True)
        return codes.astype(np.int32), np.asarray(uniques)
    present = np.zeros(high + 1, dtype=bool)
    present[users] = True
    code_of = np.cumsum(present, dtype=np.int32) - 1
    return code_of[users], np.flatnonzero(present)


def _sorted_csr(
    user_codes: np.ndarray, movie_codes: np.ndarray, ratings: np.ndarray, shape: tuple[int, int]
) -> sp.csr_matrix | None:
    """The CSR matrix built in place from the codes, or None when a (user, movie) pair repeats.

    MovieLens files are sorted by user and then movie, so usually the arrays already are the
    CSR arrays: nothing is copied and nothing is sorted. Otherwise the ratings are sorted by
    (user, movie) once. int32 indices keep the matrix at 8 bytes per rating.
    """
    key = user_codes.astype(np.int64) * shape[1] + movie_codes
    if not (key[1:] > key[:-1]).all():
        order = np.argsort(key, kind="stable")
        key = key[order]
        if not (key[1:] > key[:-1]).all():
            return None
        user_codes, movie_codes, ratings = user_codes[order], movie_codes[order], ratings[order]
    del key
    counts = np.bincount(user_codes, minlength=shape[0])
    index_type = np.int32 if len(ratings) < np.iinfo(np.int32).max else np.int64
    indptr = np.zeros(shape[0] + 1, dtype=index_type)
    np.cumsum(counts, out=indptr[1:])
    matrix = sp.csr_matrix(
        (
            ratings.astype(np.float32, copy=False),
            movie_codes.astype(index_type, copy=False),
            indptr,
        ),
        shape=shape,
        copy=False,
    )
    matrix.has_canonical_format = True  # sorted, no duplicates: nothing to sort or sum later
    return matrix


def _csr(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]):
    matrix = sp.csr_matrix(
        (values.astype(np.float32), (rows.astype(np.int32), cols.astype(np.int32))), shape=shape
    )
    matrix.sum_duplicates()
    return matrix
