"""What bad input is called: ``DataError`` and the one-line messages both engines give.

``recommender.data`` (the local engine) and ``recommender.spark`` build every message
about the input files from these helpers, so the two engines say exactly the same thing for
the same problem. ``recommender.data`` re-exports them all.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import pandas as pd

MOVIES_FILE = "movies.csv"
MIN_RATING, MAX_RATING = 0.5, 5.0
MISSING_VALUE = "the value is missing"
MIN_ID = 1
# The largest id kept exact everywhere: a float64 (pandas, JSON) and a JavaScript number (the
# app's browser side) hold every whole number up to 2^53 - 1 exactly, and nothing larger.
MAX_ID = 2**53 - 1
GENRE_SEPARATOR = "|"
ODD_GENRE_SEPARATORS = (";", ",")


class DataError(ValueError):
    """The input data cannot be used; the message says which file, column and row."""


def file_not_found(path: object) -> DataError:
    return DataError(f"{path}: file not found")


def no_rows(file: str) -> DataError:
    return DataError(f"{file}: the file has a header but no rows")


def bad_value(file: str, column: str, row: int, problem: str) -> DataError:
    """One bad value: the file, the column, the row (the header is row 1) and what is wrong."""
    return DataError(f"{file}: column {column!r}, row {row}: {problem}")


def wrong_field_count(file: str, row: int, fields: int, header: list[str]) -> DataError:
    """A row with more or fewer fields than the header (pandas would fill or drop them)."""
    names = ",".join(name.strip() for name in header)
    return DataError(
        f"{file}: row {row} has {fields} fields; the header has {len(header)} ({names})"
    )


def not_a_number(value: object, integer: bool, ids: bool = True) -> str:
    """The problem with a value that is not a number (``integer``: not a whole one; ``ids``:
    the column holds ids, not, say, timestamps)."""
    what = ("an integer id" if ids else "a whole number") if integer else "a number"
    return f"{_shown(value)} is not {what}"


def id_outside_range(value: object) -> str:
    """The problem with an id below 1 or above 2^53 - 1 (larger ones cannot be kept exact)."""
    return f"{_shown(value)} is not an id from {MIN_ID} to 2^53 - 1 ({MAX_ID})"


def whole_outside_range(value: object) -> str:
    """The problem with a whole number (a timestamp) that does not fit in 64 bits."""
    return f"{_shown(value)} is not a whole number within 64 bits"


def outside_range(rating: float, written: str | None = None) -> str:
    """The problem with a rating outside the scale: as a number, or, when it is too large for
    one (a 1 MB cell of digits reads as infinity), as the file ``written`` it, cut short."""
    shown = f"{rating:g}" if np.isfinite(rating) or written is None else _shown(written)
    return f"{shown} is outside {MIN_RATING:g}-{MAX_RATING:g}"


def no_known_movies(file: str) -> DataError:
    return DataError(f"{file}: none of the ratings is of a movie listed in {MOVIES_FILE}")


def not_utf8(file: str, line: int, text: bytes, error: UnicodeDecodeError) -> DataError:
    """A line that is not UTF-8: where, which byte, and what the file probably is instead.

    ``text`` is the raw line and ``error`` what decoding it as UTF-8 raised.
    """
    character = len(text[: error.start].decode("utf-8", errors="replace")) + 1
    byte = text[error.start] if error.start < len(text) else 0
    return DataError(
        f"{file}: line {line}, character {character}: not UTF-8 text (byte 0x{byte:02x}: "
        f"{error.reason}); {_encoding_guess(text)}save the file as UTF-8 and train again"
    )


def _encoding_guess(text: bytes) -> str:
    if text.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in text:
        return "it looks like UTF-16: "
    try:
        text.decode("cp1252")
    except UnicodeDecodeError:
        return ""
    return "it looks like Latin-1 or Windows-1252: "


def unrated_note(count: int) -> str:
    return f"{count:,} movies have no ratings; content and popularity still serve them"


def dropped_note(count: int, first: int) -> str:
    return f"dropped {count:,} ratings of movies not in {MOVIES_FILE} (first: movieId {first})"


def duplicates_note(count: int) -> str:
    return (
        f"{count:,} duplicate ratings of the same movie by the same user: "
        "kept the latest by timestamp"
    )


def genre_separator_note(count: int, separators: list[str], movie_id: int, genres: str) -> str:
    """Genres separated by ';' or ',' instead of '|': each such list counts as one genre."""
    shown = " or ".join(repr(separator) for separator in separators)
    return (
        f"{MOVIES_FILE}: {count:,} movies have genres separated by {shown} (first: movieId "
        f"{movie_id}, {_shown(genres)}); only {GENRE_SEPARATOR!r} separates genres, so each such "
        f"list counts as one genre: write them as "
        f"{_shown(_with_bars(genres, separators))} and train again"
    )


def _with_bars(genres: str, separators: list[str]) -> str:
    for separator in separators:
        genres = genres.replace(separator, GENRE_SEPARATOR)
    return GENRE_SEPARATOR.join(part.strip() for part in genres.split(GENRE_SEPARATOR))


def encoding_error(path: Path) -> DataError:
    """The message for a file that is not UTF-8: its first line that does not decode."""
    with path.open("rb") as handle:
        for line, text in enumerate(handle, start=1):
            try:
                text.decode("utf-8")
            except UnicodeDecodeError as error:
                return not_utf8(path.name, line, text, error)
    return DataError(f"{path.name}: not UTF-8 text; save the file as UTF-8 and train again")


def odd_genre_separators(movies: pd.DataFrame) -> str | None:
    """A note when genres are separated by ';' or ',' rather than '|' (None when they are not):
    training goes on, but each such list counts as one genre, so the operator should know."""
    genres = movies["genres"].astype(str)
    odd = {sep: genres.str.contains(sep, regex=False) for sep in ODD_GENRE_SEPARATORS}
    found = [sep for sep, mask in odd.items() if mask.any()]
    if not found:
        return None
    either = np.logical_or.reduce([odd[sep].to_numpy() for sep in found])
    first = int(np.flatnonzero(either)[0])
    return genre_separator_note(
        int(either.sum()), found, int(movies["movieId"].iloc[first]), genres.iloc[first]
    )


def check_header(file: str, first_line: bytes, required: tuple[str, ...]) -> list[str]:
    """The column names of a header line, or a DataError: empty, not UTF-8, another delimiter,
    a missing column."""
    if not first_line.strip():
        raise DataError(f"{file}: the file is empty (expected a header {','.join(required)})")
    try:
        header = first_line.decode("utf-8-sig").strip()
        if "\x00" in header:  # valid UTF-8, but no CSV holds it: UTF-16 without a BOM
            start = first_line.index(b"\x00")
            raise UnicodeDecodeError("utf-8", first_line, start, start + 1, "a NUL byte")
    except UnicodeDecodeError as error:
        raise not_utf8(file, 1, first_line, error) from None
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


def _shown(value: object) -> str:
    """A value as the file shows it: 1.5, not np.float64(1.5); long text cut short."""
    if isinstance(value, float | np.floating):
        return f"'{value:g}'"
    return repr(shorten(str(value)))


def shorten(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters (with "…"): a message quotes a value, not a page."""
    return text if len(text) <= limit else text[:limit] + "…"
