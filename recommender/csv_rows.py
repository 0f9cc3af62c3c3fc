"""The shape of a CSV's rows, checked strictly where the fast readers are lenient.

pandas fills a short row with missing values and, reading some columns only, drops a long row's
extra fields; an unterminated quote makes a reader take the rows after it into one field (ten
movies in one 453-character title). These checks name the file and the line instead. They read
the file with Python's csv module, so the trainer runs them where the fast readers cannot vouch
for the file: always for movies.csv (a catalogue: 87,585 rows at MovieLens-32M), and for the
ratings, links and tags only once a fast reader has found something unusual in them.
"""

from __future__ import annotations

import csv
from pathlib import Path

from recommender.data_messages import DataError, bad_value, encoding_error, wrong_field_count

# The longest title or genre list the trainer takes: the same cap as a profile file's cells
# (app.profile_files.MAX_CELL_CHARS; tests/test_data.py checks that they agree). MovieLens
# titles stay under 200 characters.
MAX_TEXT_CHARS = 1_000


def check_rows(path: Path, capped: tuple[str, ...] = ()) -> None:
    """``DataError`` naming the line of the first row with another number of fields than the
    header, with a quote that opens and is not closed on its line, or with a value in a
    ``capped`` column longer than ``MAX_TEXT_CHARS``. Blank lines are skipped, as the readers
    skip them."""
    line = 1  # the header's
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = csv.reader(handle)
            header = next(rows, [])
            limits = [MAX_TEXT_CHARS if name.strip() in capped else None for name in header]
            for row in rows:
                start, line = line + 1, rows.line_num
                if any(cell.strip() for cell in row):  # not a blank line
                    _check_row(path.name, start, line, row, header, limits)
    except UnicodeDecodeError:
        raise encoding_error(path) from None
    except csv.Error as error:  # a NUL byte, or a field longer than csv reads
        if "field limit" in str(error):
            raise DataError(
                f"{path.name}: row {line + 1}: a value is over {csv.field_size_limit():,} "
                f"characters long; a title or a list of genres is at most {MAX_TEXT_CHARS:,}"
            ) from None
        raise DataError(f"{path.name}: row {line + 1}: {error}") from None


def _check_row(
    file: str, start: int, end: int, row: list[str], header: list[str], limits: list
) -> None:
    if end > start or any("\n" in cell or "\r" in cell for cell in row):
        raise DataError(
            f'{file}: row {start}: a quote (") opens and is not closed on its line, so it '
            "takes in the rows after it; close the quote or remove it"
        )
    if len(row) != len(header):
        raise wrong_field_count(file, start, len(row), header)
    for name, limit, cell in zip(header, limits, row, strict=True):
        if limit is not None and len(cell) > limit:
            problem = (
                f"the value is {len(cell):,} characters long; a title or a list of genres is "
                f"at most {limit:,}"
            )
            raise bad_value(file, name.strip(), start, problem)
