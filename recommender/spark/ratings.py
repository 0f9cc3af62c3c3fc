"""The ratings on Spark: read once, validated, coded by movie, cached.

One pass over the file parses every line into typed columns, flags the lines that break any rule
of the local engine, attaches the movie codes (a broadcast join with the movie table) and caches
the result; the same pass aggregates what the driver needs to know (rows, bad rows, ratings of
unknown movies). Only when a line is bad is the file read again, to find which rule fails first
and on which line, with the local engine's message. Duplicates are removed later, in each user
range's block (``recommender.spark.blocks``), where all of a user's ratings meet.

Ids are parsed as 64-bit integers straight from the text (never through a double), so userIds
above 2^53 stay distinct. Row numbers in messages follow the local engine: they are the file's
line numbers (the header is row 1, blank lines count). A Parquet file has no header line; its
first record is row 2, as if it were a CSV.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from functools import reduce
from pathlib import Path

import numpy as np
import pandas as pd
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from recommender import data as D
from recommender.data_messages import wrong_field_count
from recommender.spark.sources import ratings_source

# What pandas (and so the local engine's pyarrow reader) reads as a missing value.
NA_STRINGS = sorted(
    {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN"}
    | {"<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
)


@dataclass
class RatingsInput:
    """The ratings as string columns, one row per non-blank line, in file order.

    ``lines`` has every line with ``_id`` (increasing in file order within a file), ``_file``
    and ``_block`` (the split a line was read from): enough to turn a row back into its line
    number when one is bad. ``rows`` is ``lines`` without the header and the blank lines (the
    local engine's readers skip them), with one string column per header name.
    """

    file: str  # the name messages use: ratings.csv
    lines: DataFrame
    rows: DataFrame
    columns: list[str]  # the header
    header_rows: int  # 1 for CSV (the header is row 1), 0 for Parquet


@dataclass
class CodedRatings:
    """The valid ratings of known movies, cached on the executors (duplicates still in).

    ``frame`` has user (long), movie_code (int), rating (float), time (long: the timestamp,
    else the row) and _id (long, increasing in file order): the latest duplicate is the last
    by (time, _id).
    """

    frame: DataFrame
    ratings: int  # rows of known movies, duplicates included
    n_movies: int
    cached: DataFrame  # what to unpersist when done


def read_ratings(spark: SparkSession, uri: str, fmt: str) -> RatingsInput:
    """The ratings as strings with their positions; the header checked as the local engine does."""
    file = D.RATINGS_FILE
    if fmt == "parquet":
        frame = spark.read.parquet(uri)
        header = ",".join(frame.columns).encode()
        columns = D.check_header(file, header, D.RATING_COLUMNS)
        lines = _positioned(frame.select([F.col(c).cast("string").alias(c) for c in columns]))
        return RatingsInput(file, lines, lines, columns, header_rows=0)
    text = spark.read.text(uri)
    first = text.limit(1).collect()
    columns = D.check_header(file, first[0][0].encode() if first else b"", D.RATING_COLUMNS)
    lines = _positioned(text)
    # the header is the first line of the file's first split (each part file has one)
    is_header = (F.col("_block") == 0) & (F.col("value") == first[0][0])
    blank = F.trim(F.col("value"), F.lit(" \t\f\x0b")) == ""  # pandas, pyarrow skip these
    fields = F.split(F.col("value"), ",", -1)
    rows = lines.where(~is_header & ~blank).select(
        "_id",
        "_file",
        "_block",
        F.size(fields).alias("_fields"),
        *[_unquoted(F.get(fields, index)).alias(name) for index, name in enumerate(columns)],
    )
    return RatingsInput(file, lines, rows, columns, header_rows=1)


def _positioned(frame: DataFrame) -> DataFrame:
    return frame.select(
        "*",
        F.monotonically_increasing_id().alias("_id"),
        F.input_file_name().alias("_file"),
        F.input_file_block_start().alias("_block"),
    )


def _unquoted(field: Column) -> Column:
    """A CSV field without its surrounding quotes ("4.0" -> 4.0), as pyarrow reads it; the
    regular expression runs only on a field that has a quote."""
    quoted = F.regexp_replace(field, r'^\s*"(.*)"\s*$', "$1")
    return F.when(field.contains('"'), quoted).otherwise(field)


# --- the local engine's rules -------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One rule of the local engine, in the order it applies them."""

    name: str  # key of the aggregate
    column: str
    integer: bool
    kind: str  # "value" (missing or not a number), "integer" (fractional), "id_range", "range"
    ids: bool = True  # an integer column of ids (1 to 2^53 - 1), else any 64-bit whole number


def checks_for(columns: list[str]) -> list[Check]:
    """The local engine's checks, in its order: each column missing/not a number, then its
    fractional ids; the rating range before the timestamp."""
    plan = [("userId", True, True), ("movieId", True, True), ("rating", False, False)]
    if "timestamp" in columns:
        plan.append(("timestamp", True, False))
    checks = []
    for column, integer, ids in plan:
        checks.append(Check(f"{column}_value", column, integer, "value", ids))
        if integer:
            checks.append(Check(f"{column}_integer", column, integer, "integer", ids))
            checks.append(Check(f"{column}_id_range", column, integer, "id_range", ids))
        if column == "rating":
            checks.append(Check("rating_range", column, integer, "range"))
    return checks


def _flags(value: Column, na_strings: list[str]) -> dict[str, Column]:
    """missing / not a number / number, for one string column."""
    trimmed = F.trim(value)
    missing = value.isNull() | (trimmed == "") | trimmed.isin(na_strings)
    number = trimmed.try_cast("double")
    not_number = ~missing & (number.isNull() | F.isnan(number))
    return {"missing": missing, "not_number": not_number, "number": number}


def _check_flag(check: Check, na_strings: list[str]) -> Column:
    flags = _flags(F.col(check.column), na_strings)
    valid = ~flags["missing"] & ~flags["not_number"]
    number = flags["number"]
    if check.kind == "value":
        return ~valid
    if check.kind == "integer":  # fractional
        return valid & _finite(number) & (number % 1.0 != 0)
    if check.kind == "id_range":  # a whole number, but not an id (or beyond 64 bits)
        value = _integer(F.col(check.column))[0]
        whole = valid & (~_finite(number) | (number % 1.0 == 0))
        if not check.ids:
            return whole & value.isNull()
        return whole & (value.isNull() | (value < D.MIN_ID) | (value > D.MAX_ID))
    return valid & ((number < D.MIN_RATING) | (number > D.MAX_RATING))


def _finite(number: Column) -> Column:
    return F.abs(number) < F.lit(float("inf"))


def _integer(value: Column, ids: bool = True) -> tuple[Column, Column]:
    """(the 64-bit integer in a text, whether the text breaks a rule of ``_check_flag``).

    The text is parsed as an integer, exactly (9007199254740993 stays itself, never through a
    double); only what does not parse so ("12.0", "1e3", "abc", "NA") is parsed as a number,
    and it is bad unless it is a whole number within 64 bits.
    """
    trimmed = F.trim(value)
    integer = trimmed.try_cast("long")
    number = trimmed.try_cast("double")
    whole = number.try_cast("long")
    fine = ~F.isnan(number) & (number % 1.0 == 0) & whole.isNotNull()
    bad = F.when(integer.isNull(), ~F.coalesce(fine, F.lit(False))).otherwise(F.lit(False))
    value = F.coalesce(integer, F.when(fine, whole))
    if not ids:
        return value, bad
    outside = F.coalesce((value < D.MIN_ID) | (value > D.MAX_ID), F.lit(False))
    return value, bad | outside


def _rating(value: Column) -> tuple[Column, Column]:
    """(the rating, whether it breaks a rule: missing, not a number, outside 0.5-5)."""
    number = F.trim(value).try_cast("double")
    inside = ~F.isnan(number) & (number >= D.MIN_RATING) & (number <= D.MAX_RATING)
    return number.cast("float"), ~F.coalesce(inside, F.lit(False))


# --- one pass: parse, flag, code, cache ---------------------------------------------------------


def load_ratings(
    spark: SparkSession, data_dir: str | Path, movie_ids: np.ndarray, notes: list[str]
) -> CodedRatings:
    """Read, validate and code the ratings of ``data_dir`` (ratings.csv or ratings.parquet).

    Raises the local engine's DataError for the first bad row; adds its notes to ``notes``.
    """
    source = read_ratings(spark, *ratings_source(spark, data_dir))
    movies = spark.createDataFrame(
        pd.DataFrame(
            {"movie": movie_ids.astype(np.int64), "movie_code": np.arange(len(movie_ids))}
        ).astype({"movie_code": np.int32})
    )
    coded = parsed_ratings(source).join(F.broadcast(movies), "movie", "left")
    coded = coded.persist(StorageLevel.MEMORY_AND_DISK)
    known = F.col("movie_code").isNotNull()
    summary = coded.agg(
        F.count(F.lit(1)).alias("rows"),
        F.max(F.col("bad").cast("int")).alias("bad"),
        F.count(F.when(known, F.lit(1))).alias("known"),
        F.min_by(F.col("movie"), F.when(~known, F.col("_id"))).alias("first_dropped"),
    ).collect()[0]
    try:
        _raise_for_bad_input(source, summary)
    except D.DataError:
        coded.unpersist()
        raise
    if summary["rows"] > summary["known"]:
        dropped = int(summary["rows"] - summary["known"])
        notes.append(D.dropped_note(dropped, int(summary["first_dropped"])))
    columns = ("user", "movie_code", "rating", "time", "_id")
    frame = coded.where(known).select(*columns)
    return CodedRatings(frame, int(summary["known"]), len(movie_ids), coded)


def _raise_for_bad_input(source: RatingsInput, summary: dict) -> None:
    if summary["rows"] == 0:
        raise D.no_rows(source.file)
    if summary["bad"]:
        validate_ratings(source)  # reads the file again: it raises the first bad row's error
        raise D.DataError(f"{source.file}: a row breaks a rule the checks cannot name")
    if summary["known"] == 0:
        raise D.no_known_movies(source.file)


def parsed_ratings(source: RatingsInput) -> DataFrame:
    """user, movie (long), rating (float), time (long: the timestamp, else the row), _id, and
    bad: whether any rule of the local engine fails on the row (which one is found later:
    ``validate_ratings`` applies the rules one by one).

    The typed values and their flags come from the same parse, so a clean line costs three
    integer parses and one number parse.
    """
    user, movie = _integer(F.col("userId")), _integer(F.col("movieId"))
    rating = _rating(F.col("rating"))
    if "timestamp" in source.columns:
        time = _integer(F.col("timestamp"), ids=False)
    else:  # the later row wins
        time = F.col("_id"), F.lit(False)
    flags = [user[1], movie[1], rating[1], time[1]]
    if source.header_rows:  # a row of more or fewer fields than the header is refused
        flags.append(F.col("_fields") != len(source.columns))
    return source.rows.select(
        user[0].alias("user"),
        movie[0].alias("movie"),
        rating[0].alias("rating"),
        time[0].alias("time"),
        "_id",
        reduce(operator.or_, flags).alias("bad"),
    )


# --- a bad file: which rule, which line ---------------------------------------------------------


def validate_ratings(source: RatingsInput) -> None:
    """Raise the local engine's DataError for the first bad row, in one aggregate pass.

    pyarrow (the local engine's reader) treats pandas' NA strings as missing. A row with
    another number of fields than the header is refused first, wherever it is, as the local
    engine's ``recommender.csv_rows`` refuses it.
    """
    checks = checks_for(source.columns)
    aggregates = [F.count(F.lit(1)).alias("rows")]
    if source.header_rows:
        ragged = F.col("_fields") != len(source.columns)
        aggregates.append(F.min(F.when(ragged, F.col("_id"))).alias("ragged"))
    for check in checks:
        first = F.min(F.when(_check_flag(check, NA_STRINGS), F.col("_id")))
        aggregates.append(first.alias(check.name))
    summary = source.rows.agg(*aggregates).collect()[0].asDict()
    if summary["rows"] == 0:
        raise D.no_rows(source.file)
    if summary.get("ragged") is not None:
        raise _ragged_row_error(source, summary["ragged"])
    for check in checks:
        if summary[check.name] is not None:
            raise _bad_row_error(source, check, summary[check.name], NA_STRINGS)


def _ragged_row_error(source: RatingsInput, row_id: int) -> D.DataError:
    found = source.rows.where(F.col("_id") == row_id).select("_fields", "_file", "_block")
    fields, file, block = found.collect()[0]
    row = _row_number(source, row_id, file, block)
    return wrong_field_count(source.file, row, int(fields), list(source.columns))


def _bad_row_error(
    source: RatingsInput, check: Check, row_id: int, na_strings: list[str]
) -> D.DataError:
    """The local engine's message for the row ``row_id`` (only this row is collected)."""
    found = source.rows.where(F.col("_id") == row_id).select(check.column, "_file", "_block")
    raw, file, block = found.collect()[0]
    row = _row_number(source, row_id, file, block)
    trimmed = "" if raw is None else raw.strip()
    if check.kind == "value" and (raw is None or trimmed in na_strings):
        return D.bad_value(source.file, check.column, row, D.MISSING_VALUE)
    if check.kind == "range":
        problem = D.outside_range(float(trimmed), trimmed)
        return D.bad_value(source.file, check.column, row, problem)
    if check.kind == "id_range":  # the value as the file writes it (a double would round it)
        problem = D.id_outside_range(trimmed) if check.ids else D.whole_outside_range(trimmed)
        return D.bad_value(source.file, check.column, row, problem)
    # pyarrow reads an all-numeric column as numbers, so a fractional id is shown as one
    shown = raw if check.kind == "value" else float(trimmed)
    problem = D.not_a_number(shown, check.integer, check.ids)
    return D.bad_value(source.file, check.column, row, problem)


def _row_number(source: RatingsInput, row_id: int, file: str, block: int) -> int:
    """The row number of one line: the lines of the file's earlier splits plus its place in its
    own split (ids are consecutive within a split)."""
    splits = (
        source.lines.where(F.col("_file") == file)
        .groupBy("_block")
        .agg(F.count(F.lit(1)).alias("lines"), F.min("_id").alias("first"))
        .collect()
    )
    before = sum(split["lines"] for split in splits if split["_block"] < block)
    first = next(split["first"] for split in splits if split["_block"] == block)
    return before + (row_id - first) + 1 + (1 - source.header_rows)
