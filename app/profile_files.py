"""Taste profiles as files: what a visitor saves from the app and loads back.

A profile is what a visitor builds in the app: movies, each with an optional star rating
(0.5-5, half stars) and the genres the visitor attached to it. It is saved as JSON or CSV and
loaded back with ``parse_profile``, which checks everything and raises ``ProfileError`` with
one message a person can act on ("row 3: rating 7 is outside 0.5-5"). Nothing here touches
Streamlit, so all of it is unit-tested without a browser.

JSON::

    {"format": "movierec-profile", "version": 1,
     "movies": [{"movieId": 1, "title": "Toy Story (1995)", "rating": 4.5,
                 "genres": ["Animation", "Comedy"]}]}

CSV (genres separated by ``|``; an empty rating means "liked it, no stars")::

    movieId,title,rating,genres
    1,Toy Story (1995),4.5,Animation|Comedy
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

FORMAT_NAME = "movierec-profile"
FORMAT_VERSION = 1
CSV_COLUMNS = ("movieId", "title", "rating", "genres")
MIN_RATING, MAX_RATING = 0.5, 5.0
RATING_CHOICES: tuple[float, ...] = tuple(step / 2 for step in range(1, 11))
# Limits of an upload. Each refuses with a message; none is near what a real profile needs.
MAX_UPLOAD_BYTES = 1 << 20  # 1 MB: a profile of MAX_MOVIES movies takes about 60 KB as JSON
MAX_MOVIES = 500  # a taste profile of a few hundred movies; more costs seconds per rerun
MAX_JSON_DEPTH = 16  # a profile nests 4 deep: document, movies, a movie, its genres
MAX_NUMBER_CHARS = 32  # ids and ratings; a 5,000-digit number is not either
MAX_CELL_CHARS = 1_000  # a title, a rating or a genre list; MovieLens titles stay under 200
MAX_ID = 2**53 - 1  # the largest movieId the trainer takes (recommender.data_messages.MAX_ID)
GENRE_SEPARATOR = "|"


class ProfileError(ValueError):
    """An uploaded profile cannot be used; the message says what is wrong and where."""


@dataclass(frozen=True)
class ProfileEntry:
    """One movie of a taste profile."""

    movie_id: int
    title: str
    rating: float | None = None
    genres: tuple[str, ...] = ()


@dataclass
class LoadedProfile:
    """The result of reading an upload: the usable entries and notes about what was skipped."""

    entries: list[ProfileEntry]
    warnings: list[str] = field(default_factory=list)


# --- ratings ---------------------------------------------------------------------------------


def check_rating(value: Any, where: str) -> float | None:
    """A rating from a file: None when empty, else a half-star step in 0.5-5."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ProfileError(f"{where}: rating {value!r} is not a number")
    try:
        rating = float(value)
    except (TypeError, ValueError):
        shown = shorten(repr(value), 40)
        raise ProfileError(f"{where}: rating {shown} is not a number") from None
    if math.isnan(rating):  # "NaN" is not "no rating": that is an empty cell or null
        raise ProfileError(f"{where}: rating {shorten(repr(value), 40)} is not a number")
    if not MIN_RATING <= rating <= MAX_RATING:
        raise ProfileError(f"{where}: rating {rating:g} is outside {MIN_RATING:g}-{MAX_RATING:g}")
    if rating * 2 != round(rating * 2):
        raise ProfileError(f"{where}: rating {rating:g} is not a half-star step (0.5, 1, ... 5)")
    return rating


# --- writing ---------------------------------------------------------------------------------


def to_json(entries: Iterable[ProfileEntry]) -> str:
    """The profile as a JSON document that ``parse_profile`` reads back."""
    movies = [
        {"movieId": e.movie_id, "title": e.title, "rating": e.rating, "genres": list(e.genres)}
        for e in entries
    ]
    document = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "movies": movies}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def to_csv(entries: Iterable[ProfileEntry]) -> str:
    """The profile as CSV (one movie a row) that ``parse_profile`` reads back."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        rating = "" if e.rating is None else f"{e.rating:g}"
        writer.writerow([e.movie_id, e.title, rating, GENRE_SEPARATOR.join(e.genres)])
    return buffer.getvalue()


# --- reading ---------------------------------------------------------------------------------


def parse_profile(
    data: bytes,
    filename: str,
    titles: Mapping[int, str],
    known_genres: Collection[str],
    default_genres: Callable[[int], Sequence[str]] | None = None,
) -> LoadedProfile:
    """Read an uploaded profile (JSON or CSV, chosen by the file name) and check it.

    ``titles`` maps every movieId of the loaded model to its title: the title in the file is
    only a note for people, the catalogue's title is kept. A movie whose genres the file does
    not give at all (no genres column or key; an empty one means "none") gets
    ``default_genres(movieId)``, the movie's own. Movies the catalogue lacks and genres the
    model does not know are skipped with a warning; a file with no usable movie, or anything
    malformed, raises ``ProfileError``.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise ProfileError(
            f"{filename} is {len(data):,} bytes; a profile file is at most {MAX_UPLOAD_BYTES:,}"
        )
    text = _decode(data, filename)
    if not text.strip():
        raise ProfileError(f"{filename} is empty")
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix == "json":
        rows = _json_rows(text, filename)
    elif suffix == "csv":
        rows = _csv_rows(text, filename)
    else:
        raise ProfileError(f"{filename}: expected a .json or .csv profile file")
    return _entries(rows, titles, known_genres, filename, default_genres)


def _decode(data: bytes, filename: str) -> str:
    try:
        return data.decode("utf-8-sig")  # -sig: spreadsheet programs often add a BOM
    except UnicodeDecodeError as error:
        raise ProfileError(
            f"{filename} is not UTF-8 text (byte {error.start}); save it as UTF-8 and try again"
        ) from None


def _json_document(text: str, filename: str) -> Any:
    """A profile's JSON, parsed strictly: not too deep, no huge numbers, no NaN or Infinity
    (Python writes them, JSON has none), no key twice in one object (the last would win)."""
    depth = _json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise ProfileError(
            f"{filename} nests {depth:,} levels deep; a profile nests 4 (at most "
            f"{MAX_JSON_DEPTH}): download a profile from this app to see the layout"
        )

    def number(text: str) -> int | float:
        if len(text) > MAX_NUMBER_CHARS:
            raise ProfileError(
                f"{filename} holds a number of {len(text):,} characters ({shorten(text, 20)}); "
                f"a profile's numbers are ids and ratings, at most {MAX_NUMBER_CHARS} characters"
            )
        return float(text) if any(c in text for c in ".eE") else int(text)

    def constant(name: str) -> float:  # NaN, Infinity: not JSON, though Python writes them
        raise ProfileError(f"{filename} holds {name}, which is not a number in JSON")

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        document: dict[str, Any] = {}
        for key, value in pairs:
            if key in document:  # json.loads would keep the last one without a word
                raise ProfileError(f"{filename} gives {shorten(repr(key), 40)} twice in one object")
            document[key] = value
        return document

    try:
        document = json.loads(
            text,
            parse_int=number,
            parse_float=number,
            parse_constant=constant,
            object_pairs_hook=unique,
        )
    except json.JSONDecodeError as error:
        raise ProfileError(
            f"{filename} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except RecursionError:  # the depth check above should make this unreachable
        raise ProfileError(f"{filename} nests too deep for a profile") from None
    return document


def _json_rows(text: str, filename: str) -> list[tuple[str, dict[str, Any]]]:
    """(where, row) pairs from a JSON profile."""
    document = _json_document(text, filename)
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise ProfileError(
            f'{filename} is JSON but not a movie profile: it needs "format": "{FORMAT_NAME}" '
            "(download a profile from this app to see the layout)"
        )
    version = document.get("version")
    if version != FORMAT_VERSION:
        raise ProfileError(
            f"{filename} is profile version {version!r}; this app reads version {FORMAT_VERSION}"
        )
    movies = document.get("movies")
    if not isinstance(movies, list):
        raise ProfileError(f'{filename}: "movies" must be a list of movies')
    if len(movies) > MAX_MOVIES:
        raise too_many_movies(filename, f"{len(movies):,}")
    rows = []
    for number, movie in enumerate(movies, start=1):
        where = f"movie {number}"
        if not isinstance(movie, dict):
            raise ProfileError(f"{filename}, {where}: expected an object with a movieId")
        texts = [movie.get("title"), movie.get("genres")]
        texts += movie["genres"] if isinstance(movie.get("genres"), list) else []
        for text in texts:
            if isinstance(text, str):
                _check_cell(f"{filename}, {where}", "title or a genre", text)
        rows.append((where, movie))
    return rows


def _json_depth(text: str) -> int:
    """How deep the brackets of a JSON text nest, outside its strings (without parsing it:
    a 0.4 MB document 200,000 levels deep would exhaust the parser's recursion)."""
    outside_strings = _JSON_STRING.sub("", text).encode("utf-8")
    codes = np.frombuffer(outside_strings, dtype=np.uint8)
    steps = np.isin(codes, _OPENING).astype(np.int64) - np.isin(codes, _CLOSING)
    return int(np.cumsum(steps).max(initial=0))


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_OPENING = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSING = np.frombuffer(b"]}", dtype=np.uint8)


def _csv_rows(text: str, filename: str) -> list[tuple[str, dict[str, Any]]]:
    """(where, row) pairs from a CSV profile; row numbers count the header as row 1."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        columns = [c.strip() for c in reader.fieldnames or []]
        _check_columns(columns, filename)
        reader.fieldnames = columns
        rows = []
        for number, row in enumerate(reader, start=2):
            if len(rows) == MAX_MOVIES:
                raise too_many_movies(filename, f"more than {MAX_MOVIES:,}")
            rows.append((f"row {number}", _csv_row(row, f"{filename}, row {number}")))
    except csv.Error as error:  # e.g. a cell over the csv module's 128 KB limit
        raise ProfileError(
            f"{filename}, line {reader.line_num}: cannot be read as CSV ({error}); a profile's "
            f"cells are at most {MAX_CELL_CHARS:,} characters"
        ) from None
    return rows


def _check_columns(columns: list[str], filename: str) -> None:
    if "movieId" not in columns:
        found = shorten(", ".join(columns)) or "none"
        raise ProfileError(
            f"{filename}: column 'movieId' is missing (found: {found}); "
            f"a profile CSV has the columns {', '.join(CSV_COLUMNS)}"
        )
    if "userId" in columns:
        raise ProfileError(
            f"{filename} has a userId column: it looks like a ratings file, not a profile; "
            f"a profile CSV has the columns {', '.join(CSV_COLUMNS)}"
        )


def _csv_row(row: dict[str | None, Any], where: str) -> dict[str, Any]:
    """One CSV row with its cells checked and stripped, genres split into a list."""
    if None in row:  # more cells than columns
        raise ProfileError(f"{where}: more cells than the header has columns")
    for column, value in row.items():
        if value and ("\n" in value or "\r" in value):  # no title or genre spans lines
            raise ProfileError(
                f'{where}: the quote (") that opens in column {column!r} is never closed, so '
                "it takes in the rows after it; close the quote or remove it"
            )
        _check_cell(where, str(column), value or "")
    cleaned = {str(key): (value or "").strip() for key, value in row.items()}
    if "genres" in cleaned:
        genres = cleaned["genres"]
        cleaned["genres"] = [g.strip() for g in genres.split(GENRE_SEPARATOR) if g.strip()]
    return cleaned


def _check_cell(where: str, column: str, text: str) -> None:
    if len(text) > MAX_CELL_CHARS:
        raise ProfileError(
            f"{where}: the {column} has {len(text):,} characters; a profile's cells are at "
            f"most {MAX_CELL_CHARS:,} (a title, a rating, a list of genres)"
        )


def too_many_movies(filename: str, count: str) -> ProfileError:
    return ProfileError(
        f"{filename} lists {count} movies; a profile holds at most {MAX_MOVIES:,}: keep the "
        "ones that say most about your taste"
    )


def check_rows(
    rows: Sequence[tuple[str, Mapping[str, Any]]],
    titles: Mapping[int, str],
    known_genres: Collection[str],
    source: str,
    default_genres: Callable[[int], Sequence[str]] | None = None,
) -> LoadedProfile:
    """A profile from rows read elsewhere (a link): ``(where, {movieId, rating[, genres]})``,
    checked as a file's rows are; messages name ``source``."""
    return _entries(rows, titles, known_genres, source, default_genres)


def _entries(
    rows: Sequence[tuple[str, Mapping[str, Any]]],
    titles: Mapping[int, str],
    known_genres: Collection[str],
    filename: str,
    default_genres: Callable[[int], Sequence[str]] | None,
) -> LoadedProfile:
    if not rows:
        raise ProfileError(f"{filename} lists no movies")
    if len(rows) > MAX_MOVIES:
        raise too_many_movies(filename, f"{len(rows):,}")
    entries: dict[int, ProfileEntry] = {}
    first_seen: dict[int, str] = {}
    unknown_movies: list[int] = []
    unknown_genres: set[str] = set()
    for where, row in rows:
        movie_id = _movie_id(row.get("movieId"), f"{filename}, {where}")
        if movie_id in first_seen:
            raise ProfileError(
                f"{filename}: movieId {movie_id} appears twice ({first_seen[movie_id]} and {where})"
            )
        first_seen[movie_id] = where
        rating = check_rating(row.get("rating"), f"{filename}, {where}")
        genres = _genres(row.get("genres"), f"{filename}, {where}")
        if movie_id not in titles:
            unknown_movies.append(movie_id)
            continue
        if "genres" not in row and default_genres is not None:
            genres = list(default_genres(movie_id))
        unknown_genres.update(g for g in genres if g not in known_genres)
        kept = tuple(g for g in genres if g in known_genres)
        entries[movie_id] = ProfileEntry(movie_id, str(titles[movie_id]), rating, kept)
    if not entries:
        raise ProfileError(
            f"none of the {len(rows)} movies in {filename} is in this model's catalogue "
            f"(movieIds {_first_few(unknown_movies)}); was it saved from another data set?"
        )
    warnings = []
    if unknown_movies:
        warnings.append(
            f"skipped {counted(len(unknown_movies), 'movie')} that this model's catalogue does not "
            f"have (movieIds {_first_few(unknown_movies)})"
        )
    if unknown_genres:
        names = [shorten(name, 40) for name in sorted(unknown_genres)]
        warnings.append(f"ignored {counted(len(names), 'unknown genre')}: {_first_few(names)}")
    return LoadedProfile(list(entries.values()), warnings)


def _movie_id(value: Any, where: str) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ProfileError(f"{where}: movieId is missing")
    shown = shorten(repr(value), 40)
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ProfileError(f"{where}: movieId {shown} is not a whole number")
    if isinstance(value, str) and not _WHOLE_NUMBER.fullmatch(value.strip()):
        raise ProfileError(f"{where}: movieId {shown} is not a whole number")
    if isinstance(value, str) and len(value.strip()) > MAX_NUMBER_CHARS:
        raise ProfileError(
            f"{where}: movieId {shown} has {len(value.strip()):,} digits; "
            "it is larger than any movieId (at most 2^53 - 1)"
        )
    try:
        movie_id = int(value.strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError, OverflowError):
        raise ProfileError(f"{where}: movieId {shown} is not a whole number") from None
    if movie_id <= 0:
        raise ProfileError(f"{where}: movieId {movie_id} must be positive")
    if movie_id > MAX_ID:
        raise ProfileError(
            f"{where}: movieId {movie_id} is larger than any movieId (at most 2^53 - 1)"
        )
    return movie_id


_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")  # ASCII digits: int() would take "1_000" and "١٢"


def _genres(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):  # JSON written by hand: "Comedy|Drama" is accepted too
        return [g.strip() for g in value.split(GENRE_SEPARATOR) if g.strip()]
    if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
        raise ProfileError(f"{where}: genres must be a list of genre names")
    return [g.strip() for g in value if g.strip()]


def shorten(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters (with "…"): a message quotes a value, not a page."""
    return text if len(text) <= limit else text[:limit] + "…"


def counted(count: int, noun: str) -> str:
    """ "1 movie", "2 movies": a count in words people read."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _first_few(ids: Sequence[int | str], limit: int = 5) -> str:
    shown = ", ".join(str(i) for i in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


# --- what the recommender is given -----------------------------------------------------------


def recommend_arguments(
    entries: Iterable[ProfileEntry],
) -> tuple[dict[int, float | None], dict[int, list[str]]]:
    """``(profile, profile_genres)`` for ``Recommender.recommend`` from profile entries."""
    entries = list(entries)
    profile = {e.movie_id: e.rating for e in entries}
    return profile, {e.movie_id: list(e.genres) for e in entries}
