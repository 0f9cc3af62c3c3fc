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
from typing import Any

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
    movies = load_catalogue(data_dir)
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


# --- messages (shared with the Spark engine, so both engines say exactly the same) -------------

MISSING_VALUE = "the value is missing"


def file_not_found(path: object) -> DataError:
    return DataError(f"{path}: file not found")


def no_rows(file: str) -> DataError:
    return DataError(f"{file}: the file has a header but no rows")


def bad_value(file: str, column: str, row: int, problem: str) -> DataError:
    """One bad value: the file, the column, the row (the header is row 1) and what is wrong."""
    return DataError(f"{file}: column {column!r}, row {row}: {problem}")


def not_a_number(value: object, integer: bool) -> str:
    return f"{_shown(value)} is not {'an integer id' if integer else 'a number'}"


def outside_range(rating: float) -> str:
    return f"{rating:g} is outside {MIN_RATING:g}-{MAX_RATING:g}"


def no_known_movies(file: str) -> DataError:
    return DataError(f"{file}: none of the ratings is of a movie listed in {MOVIES_FILE}")


def unrated_note(count: int) -> str:
    return f"{count:,} movies have no ratings; content and popularity still serve them"


def dropped_note(count: int, first: int) -> str:
    return f"dropped {count:,} ratings of movies not in movies.csv (first: movieId {first})"


def duplicates_note(count: int) -> str:
    return (
        f"{count:,} duplicate ratings of the same movie by the same user: "
        "kept the latest by timestamp"
    )


# --- reading one CSV ---------------------------------------------------------------------------


def _read_header(path: Path, required: tuple[str, ...]) -> list[str]:
    """Check that the file exists, is not empty and has the required columns; return the header."""
    if not path.is_file():
        raise file_not_found(path)
    with path.open("rb") as handle:
        return check_header(path.name, handle.readline(), required)


def check_header(file: str, first_line: bytes, required: tuple[str, ...]) -> list[str]:
    """The column names of a header line, or a DataError: empty, another delimiter, missing."""
    if not first_line.strip():
        raise DataError(f"{file}: the file is empty (expected a header {','.join(required)})")
    header = first_line.decode("utf-8-sig", errors="replace").strip()
    names = [name.strip().strip('"') for name in header.split(",")]
    missing = [column for column in required if column not in names]
    if missing:
        if len(names) == 1 and any(sep in header for sep in (";", "\t", "|")):
            raise DataError(
                f"{file}: row 1 (header) is {header!r}: columns must be separated by commas "
                f"(expected {','.join(required)})"
            )
        raise DataError(
            f"{file}: column {missing[0]!r} is missing (row 1, the header, is {header!r})"
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
        raise no_rows(path.name)
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


def _numeric_column(frame: pd.DataFrame, path: Path, column: str, integer: bool) -> np.ndarray:
    """The column as numbers, or a DataError naming the first value that is not one."""
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce")
    missing = values.isna().to_numpy()
    if missing.any():
        index = _first(missing)
        value = raw.iloc[index]
        blank = pd.isna(value) or str(value).strip() == ""
        problem = MISSING_VALUE if blank else not_a_number(value, integer)
        raise bad_value(path.name, column, file_row(path, index), problem)
    array = values.to_numpy(dtype=np.float64) if not integer else values.to_numpy()
    if integer:
        fractional = np.asarray(array != np.floor(array))
        if fractional.any():
            index = _first(fractional)
            problem = not_a_number(raw.iloc[index], integer=True)
            raise bad_value(path.name, column, file_row(path, index), problem)
        return array.astype(np.int64)
    return array


# --- movies, links, tags ------------------------------------------------------------------------


def load_movies(path: Path) -> pd.DataFrame:
    """movies.csv as a table with movieId, title, genres and year; one row per movie."""
    frame = _read_csv(path, MOVIE_COLUMNS)
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
        numbers = pd.to_numeric(values, errors="coerce")
        result[column] = numbers.where(numbers % 1 == 0).astype("Int64")
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
    name = path.name
    fast = _read_clean_ratings(path)
    users, movies, ratings, timestamps = fast if fast is not None else _read_ratings(path)
    movie_codes = _movie_codes(movie_ids, movies)
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
        raise bad_value(path.name, "rating", file_row(path, index), outside_range(ratings[index]))
    timestamps = (
        _numeric_column(frame, path, "timestamp", integer=True) if "timestamp" in frame else None
    )
    return users, movies, ratings, timestamps


def _read_clean_ratings(
    path: Path,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None] | None:
    """The fast path: ratings.csv parsed straight into compact arrays, or None.

    pyarrow parses the four columns as int32 ids, float64 ratings (so 5.0000001 is still out of
    range) and int64 timestamps, in parallel, with no pandas frame and no text columns. Anything
    unusual (a value that does not parse, a missing value, a rating out of range, ids beyond
    int32, no rows) returns None: the checked reader then reads the file again and names the
    first problem exactly as it always has. A clean 32M-row file takes seconds instead of a
    minute, and a third of the memory.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    names = _read_header(path, RATING_COLUMNS)  # header problems are reported from here
    types = {"userId": pa.int32(), "movieId": pa.int32(), "rating": pa.float64()}
    if "timestamp" in names:
        types["timestamp"] = pa.int64()
    options = pa_csv.ConvertOptions(column_types=types, include_columns=list(types))
    try:
        table = pa_csv.read_csv(path, convert_options=options)
    except (pa.ArrowException, OSError, ValueError):
        return None
    if table.num_rows == 0:
        return None
    arrays: dict[str, np.ndarray] = {}
    for column in types:  # one column at a time, freeing each from the table as it is copied
        chunked = table.column(column)
        if chunked.null_count:
            return None
        arrays[column] = _to_numpy(chunked)
        table = table.drop_columns([column])
        del chunked
        # Arrow's allocator keeps freed memory for reuse, which numpy cannot use: give it back,
        # or the 768 MB table of a 32M-row file stays resident beside its copy.
        pa.default_memory_pool().release_unused()
    del table
    ratings = arrays["rating"]
    if not ((ratings >= MIN_RATING) & (ratings <= MAX_RATING)).all():  # NaN is caught here too
        return None
    ratings = ratings.astype(np.float32)
    return arrays["userId"], arrays["movieId"], ratings, arrays.get("timestamp")


def _to_numpy(chunked: Any) -> np.ndarray:
    """A pyarrow ChunkedArray (no nulls) copied into memory numpy owns.

    ChunkedArray.to_numpy() would concatenate into Arrow's memory pool, which keeps what is
    freed later: at 32M ratings that is hundreds of MB that stay resident for the whole run.
    """
    out = np.empty(len(chunked), dtype=chunked.type.to_pandas_dtype())
    start = 0
    for chunk in chunked.chunks:
        out[start : start + len(chunk)] = chunk.to_numpy(zero_copy_only=True)
        start += len(chunk)
    return out


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
