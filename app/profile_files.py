"""Taste profiles as files: what a visitor saves from the app and loads back.

A profile is what a visitor builds in the app: movies, each with an optional star rating
(0.5-5, half stars) and the genres the visitor attached to it. It is saved as JSON or CSV and
loaded back with ``parse_profile``, which checks everything and raises ``ProfileError`` with
one message a person can act on ("row 3: rating 7 is outside 0.5-5"). Nothing here touches
Streamlit, so all of it is unit-tested without a browser.

JSON::

    {"format": "movierec-profile", "version": 1, "settings": {"discovery": 0.3},
     "movies": [{"movieId": 1, "title": "Toy Story (1995)", "rating": 4.5,
                 "genres": ["Animation", "Comedy"]}]}

("settings" is optional: the page's controls, e.g. the "Popular picks ↔ Hidden gems" slider.)

CSV (genres separated by ``|``; an empty rating means "liked it, no stars")::

    movieId,title,rating,genres
    1,Toy Story (1995),4.5,Animation|Comedy

Films the visitor is not interested in (``app.not_interested``) come along: a JSON
``"not_interested": [{"movieId": 1721, "title": "Titanic (1997)"}]``, CSV rows with ``yes`` in a
``not_interested`` column (written only when some film is hidden). They are not ratings.
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

from app.profile_json import (  # re-exported: the page and the tests read them from here
    MAX_NUMBER_CHARS,
    ProfileError,
    shorten,
    strict_json,
)

FORMAT_NAME = "movierec-profile"
FORMAT_VERSION = 1
CSV_COLUMNS = ("movieId", "title", "rating", "genres")
MIN_RATING, MAX_RATING = 0.5, 5.0
RATING_CHOICES: tuple[float, ...] = tuple(step / 2 for step in range(1, 11))
# Limits of an upload. Each refuses with a message; none is near what a real profile needs.
MAX_UPLOAD_BYTES = 1 << 20  # 1 MB: a profile of MAX_MOVIES movies takes about 60 KB as JSON
MAX_MOVIES = 500  # a taste profile of a few hundred movies; more costs seconds per rerun
MAX_CELL_CHARS = 1_000  # a title, a rating or a genre list; MovieLens titles stay under 200
MAX_ID = 2**53 - 1  # the largest movieId the trainer takes (recommender.data_messages.MAX_ID)
GENRE_SEPARATOR = "|"
HIDDEN_KEY = "not_interested"  # the JSON key and CSV column of the films the visitor hid
MAX_HIDDEN = 1_000  # films hidden one click at a time; 1,000 cost a request under 1 ms


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
    hidden: dict[int, str] = field(default_factory=dict)  # not interested: movieId -> title
    # the page's settings a JSON profile keeps ("discovery": 0-1), checked by the page
    settings: dict[str, Any] = field(default_factory=dict)


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


def to_json(
    entries: Iterable[ProfileEntry],
    hidden: Mapping[int, str] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> str:
    """The profile (and the films hidden from it) as JSON that ``parse_profile`` reads back;
    ``settings`` (the page's, e.g. {"discovery": 0.3}) are kept beside the movies."""
    movies = [
        {"movieId": e.movie_id, "title": e.title, "rating": e.rating, "genres": list(e.genres)}
        for e in entries
    ]
    document: dict[str, Any] = {"format": FORMAT_NAME, "version": FORMAT_VERSION}
    if settings:
        document["settings"] = dict(settings)
    document["movies"] = movies
    if hidden:
        document[HIDDEN_KEY] = [{"movieId": m, "title": title} for m, title in hidden.items()]
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def to_csv(entries: Iterable[ProfileEntry], hidden: Mapping[int, str] | None = None) -> str:
    """The profile as CSV (one movie a row, then the hidden films) that ``parse_profile``
    reads back."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    extra = [HIDDEN_KEY] if hidden else []
    writer.writerow([*CSV_COLUMNS, *extra])
    blank = [""] * len(extra)
    for e in entries:
        rating = "" if e.rating is None else f"{e.rating:g}"
        writer.writerow([e.movie_id, e.title, rating, GENRE_SEPARATOR.join(e.genres), *blank])
    for movie_id, title in (hidden or {}).items():
        writer.writerow([movie_id, title, "", "", "yes"])
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
    settings: dict[str, Any] = {}
    if suffix == "json":
        rows = _json_rows(text, filename, settings)
    elif suffix == "csv":
        rows = _csv_rows(text, filename)
    else:
        raise ProfileError(f"{filename}: expected a .json or .csv profile file")
    loaded = _entries(rows, titles, known_genres, filename, default_genres)
    loaded.settings = settings
    return loaded


def _decode(data: bytes, filename: str) -> str:
    try:
        return data.decode("utf-8-sig")  # -sig: spreadsheet programs often add a BOM
    except UnicodeDecodeError as error:
        raise ProfileError(
            f"{filename} is not UTF-8 text (byte {error.start}); save it as UTF-8 and try again"
        ) from None


def _json_rows(
    text: str, filename: str, settings: dict[str, Any] | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """(where, row) pairs from a JSON profile; its "settings" object goes into ``settings``."""
    document = strict_json(text, filename)
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
    kept = document.get("settings", {})
    if not isinstance(kept, dict):
        raise ProfileError(f'{filename}: "settings" must be an object, like {{"discovery": 0.5}}')
    if settings is not None:
        settings.update(kept)
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
    hidden = document.get(HIDDEN_KEY, [])
    if not isinstance(hidden, list) or not all(isinstance(film, dict) for film in hidden):
        raise ProfileError(f'{filename}: "{HIDDEN_KEY}" must be a list of movies (with a movieId)')
    rows += [(f"hidden film {n}", {**film, HIDDEN_KEY: "yes"}) for n, film in enumerate(hidden, 1)]
    return rows


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
    hidden, hidden_notes = hidden_films(
        [(where, row.get("movieId")) for where, row in rows if _is_hidden(row)], titles, filename
    )
    rows = [(where, row) for where, row in rows if not _is_hidden(row)]
    if not rows and not hidden:
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
    if not entries and rows:
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
    return LoadedProfile(list(entries.values()), warnings + hidden_notes, hidden)


def _is_hidden(row: Mapping[str, Any]) -> bool:
    """Whether a row is a film the visitor hid ("yes" in its not_interested cell)."""
    return str(row.get(HIDDEN_KEY) or "").strip().lower() == "yes"


def hidden_films(
    rows: Sequence[tuple[str, Any]], titles: Mapping[int, str], source: str
) -> tuple[dict[int, str], list[str]]:
    """(movieId -> title, notes) of the hidden films among ``(where, movieId)`` pairs read from
    ``source``: each id checked as a profile's are; those the catalogue lacks skipped."""
    if len(rows) > MAX_HIDDEN:
        raise ProfileError(f"{source} hides {len(rows):,} films; at most {MAX_HIDDEN:,}")
    hidden, unknown = {}, []
    for where, value in rows:
        movie_id = _movie_id(value, f"{source}, {where}")
        if movie_id in titles:
            hidden[movie_id] = str(titles[movie_id])
        else:
            unknown.append(movie_id)
    if not unknown:
        return hidden, []
    return hidden, [
        f"skipped {counted(len(unknown), 'hidden film')} that this model's catalogue does not "
        f"have (movieIds {_first_few(unknown)})"
    ]


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
