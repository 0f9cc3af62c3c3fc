"""Train on Apache Spark into the same bundle as the local engine.

    python train_and_save_model.py --engine spark [--spark-master URL] --data-dir URI

The ratings never come to the driver as text: they are read (CSV or Parquet, from any URI Spark
reads), validated with DataFrame operations under the local engine's rules and messages, and
aggregated with Spark SQL. The collaborative factors are computed distributed: a truncated SVD of
the users x movies matrix with MLlib's ``IndexedRowMatrix.computeSVD`` (the default; the same
PureSVD as the local engine) or MLlib ALS. Only what the bundle holds comes back to the driver:
movie-side tables, per-movie statistics, factors, user ids and the seen ratings. The movie-side
files are movies-sized; they are read and validated on the driver by ``recommender.data`` itself,
and the genre TF-IDF is fitted there by ``recommender.content``. The bundle is written by
``recommender.training.write_model``, so ``Recommender`` serves it unchanged.

Row numbers in messages follow the local engine: they are the file's line numbers (the header is
row 1, blank lines count). A Parquet file has no header line; its first record is row 2, as if it
were a CSV.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from recommender import data as D
from recommender.collaborative import VARIANTS, CollaborativeModel, column_scale
from recommender.content import fit_content
from recommender.popularity import popularity_from_sums
from recommender.training import (
    Model,
    Progress,
    TrainingConfig,
    TrainingSummary,
    choose_factors,
    counts_of,
    with_fold_in_settings,
    write_model,
)

ALGORITHMS = ("svd", "als")
DEFAULT_MASTER = "local[*]"
# What pandas (and so the local engine's pyarrow reader) reads as a missing value.
NA_STRINGS = sorted(
    {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN"}
    | {"<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
)
MOVIE_SIDE_FILES = (D.MOVIES_FILE, D.LINKS_FILE, D.TAGS_FILE)
QUIET_LOG_CONFIG = Path(__file__).with_name("spark-log4j2.properties")


# pyspark 4.3 warns about pandas 3 on every conversion; the conversions used here are tested.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")


class EngineError(RuntimeError):
    """Spark cannot run (no Java, a bad master URL): one line for the CLI."""


# --- the session -------------------------------------------------------------------------------


def spark_session(
    master: str = DEFAULT_MASTER, shuffle_partitions: int | None = None, **conf: str
) -> SparkSession:
    """A SparkSession for training; the UI is off and Arrow moves the collected tables.

    On a local master, shuffles use few partitions (Spark's 200 suit a cluster, not 2 cores).
    """
    builder = (
        SparkSession.builder.master(master)
        .appName("movierec-train")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")  # the log reports stages instead
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # the driver JVM logs errors only: the training log reports the stages itself
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={QUIET_LOG_CONFIG}")
    )
    if master.startswith("local"):
        if shuffle_partitions is None:
            shuffle_partitions = 8
        if "PYSPARK_PYTHON" not in os.environ:  # workers run this interpreter (numpy, pyspark)
            builder = builder.config("spark.pyspark.python", sys.executable)
    if shuffle_partitions is not None:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as error:  # py4j/JVM start-up errors: usually no Java 17+
        raise EngineError(f"Spark did not start ({error}); Spark needs Java 17 or newer") from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark


# --- where the files are -----------------------------------------------------------------------


def join_uri(base: str | Path, name: str) -> str:
    """``base/name`` for a local path or any URI (hdfs://, s3a://, file://)."""
    return f"{str(base).rstrip('/')}/{name}"


def local_path(uri: str | Path) -> Path | None:
    """The local folder ``uri`` names, or None for a URI with a scheme (hdfs://, s3a://, also
    file://, which goes through Spark's file systems like any other)."""
    return None if "://" in str(uri) else Path(uri)


def _exists(spark: SparkSession, uri: str) -> bool:
    """Whether ``uri`` exists, asked of the Hadoop file system Spark itself uses."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return bool(path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).exists(path))


def _ratings_source(spark: SparkSession, data_dir: str | Path) -> tuple[str, str]:
    """(uri, format) of the ratings: ratings.csv, else ratings.parquet (a file or a folder)."""
    csv = join_uri(data_dir, D.RATINGS_FILE)
    if _exists(spark, csv):
        return csv, "csv"
    parquet = join_uri(data_dir, "ratings.parquet")
    if _exists(spark, parquet):
        return parquet, "parquet"
    raise D.file_not_found(csv)


# --- the movie side: small, validated on the driver by recommender.data ------------------------


def load_catalogue(spark: SparkSession, data_dir: str | Path) -> tuple[pd.DataFrame, list[Path]]:
    """The validated movie table, and the local input files (for the manifest's fingerprints).

    A local folder is read in place. From another file system the movie-side files (a few MB)
    are copied byte for byte into a temporary folder first, so ``recommender.data`` validates
    them exactly as the local engine does. A Parquet movie table is written there as CSV.
    """
    folder = local_path(data_dir)
    if folder is not None:
        if not (folder / D.MOVIES_FILE).is_file() and (folder / "movies.parquet").exists():
            folder = None  # Parquet movie table: go through Spark like a remote folder
        else:
            return D.load_catalogue(folder), D.find_input_files(folder)
    with tempfile.TemporaryDirectory(prefix="movierec-spark-") as temporary:
        copy = Path(temporary)
        for name in MOVIE_SIDE_FILES:
            _copy_to_driver(spark, data_dir, name, copy / name)
        if not (copy / D.MOVIES_FILE).is_file():
            raise D.file_not_found(join_uri(data_dir, D.MOVIES_FILE))
        return D.load_catalogue(copy), []


def _copy_to_driver(spark: SparkSession, data_dir: str | Path, name: str, target: Path) -> None:
    csv = join_uri(data_dir, name)
    parquet = join_uri(data_dir, name.replace(".csv", ".parquet"))
    if _exists(spark, csv):
        content = spark.read.format("binaryFile").load(csv).select("content").head()
        target.write_bytes(bytes(content[0]))
    elif _exists(spark, parquet):
        spark.read.parquet(parquet).toPandas().to_csv(target, index=False)


# --- the ratings: read and validate with DataFrame operations ----------------------------------


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
    blank = F.col("value").rlike(r"^\s*$")  # pandas and pyarrow skip these lines
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
    """A CSV field without its surrounding quotes ("4.0" -> 4.0), as pyarrow reads it."""
    return F.regexp_replace(field, r'^\s*"(.*)"\s*$', "$1")


@dataclass(frozen=True)
class Check:
    """One rule of the local engine, in the order it applies them."""

    name: str  # key of the aggregate
    column: str
    integer: bool
    kind: str  # "value" (missing or not a number), "integer" (fractional id) or "range"


def checks_for(columns: list[str]) -> list[Check]:
    """The local engine's checks, in its order: each column missing/not a number, then its
    fractional ids; the rating range before the timestamp."""
    plan = [("userId", True), ("movieId", True), ("rating", False)]
    if "timestamp" in columns:
        plan.append(("timestamp", True))
    checks = []
    for column, integer in plan:
        checks.append(Check(f"{column}_value", column, integer, "value"))
        if integer:
            checks.append(Check(f"{column}_integer", column, integer, "integer"))
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
    if check.kind == "value":
        return ~valid
    if check.kind == "integer":
        return valid & (flags["number"] != F.floor(flags["number"]))
    number = flags["number"]
    return valid & ((number < D.MIN_RATING) | (number > D.MAX_RATING))


def validate_ratings(source: RatingsInput) -> None:
    """Raise the local engine's DataError for the first bad row, in one aggregate pass.

    pyarrow (the local engine's reader) treats pandas' NA strings as missing; when a row has
    another number of fields than the header, pyarrow fails and the local engine reads the file
    as text, where only an empty field is missing and "NaN" is not a number. Which rows are bad
    is the same in both readings; only the message of the first one differs.
    """
    checks = checks_for(source.columns)
    aggregates = [F.count(F.lit(1)).alias("rows")]
    if source.header_rows:
        ragged = F.col("_fields") != len(source.columns)
        aggregates.append(F.max(ragged.cast("int")).alias("ragged"))
    for check in checks:
        first = F.min(F.when(_check_flag(check, NA_STRINGS), F.col("_id")))
        aggregates.append(first.alias(check.name))
    summary = source.rows.agg(*aggregates).collect()[0].asDict()
    if summary["rows"] == 0:
        raise D.no_rows(source.file)
    text_mode = bool(summary.get("ragged"))
    na_strings = [""] if text_mode else NA_STRINGS
    for check in checks:
        if summary[check.name] is not None:
            raise _bad_row_error(source, check, summary[check.name], na_strings, text_mode)


def _bad_row_error(
    source: RatingsInput, check: Check, row_id: int, na_strings: list[str], text_mode: bool
) -> D.DataError:
    """The local engine's message for the row ``row_id`` (only this row is collected)."""
    found = source.rows.where(F.col("_id") == row_id).select(check.column, "_file", "_block")
    raw, file, block = found.collect()[0]
    row = _row_number(source, row_id, file, block)
    trimmed = "" if raw is None else raw.strip()
    if check.kind == "value" and (raw is None or trimmed in na_strings):
        return D.bad_value(source.file, check.column, row, D.MISSING_VALUE)
    if check.kind == "range":
        return D.bad_value(source.file, check.column, row, D.outside_range(float(trimmed)))
    # pyarrow reads an all-numeric column as numbers, so a fractional id is shown as one
    shown = raw if check.kind == "value" or text_mode else float(trimmed)
    return D.bad_value(source.file, check.column, row, D.not_a_number(shown, check.integer))


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


def load_ratings(
    spark: SparkSession, data_dir: str | Path, movie_ids: np.ndarray, notes: list[str]
) -> CodedRatings:
    """Read, validate and code the ratings of ``data_dir`` (ratings.csv or ratings.parquet)."""
    source = read_ratings(spark, *_ratings_source(spark, data_dir))
    validate_ratings(source)
    return code_ratings(spark, typed_ratings(source), movie_ids, source.file, notes)


def typed_ratings(source: RatingsInput) -> DataFrame:
    """user, movie, rating, time (the row order when there is no timestamp column) and _id."""
    number = {c: _flags(F.col(c), []).get("number") for c in source.columns}
    time_column = (
        number["timestamp"].cast("long") if "timestamp" in source.columns else F.col("_id")
    )
    return source.rows.select(
        number["userId"].cast("long").alias("user"),
        number["movieId"].cast("long").alias("movie"),
        number["rating"].cast("float").alias("rating"),
        time_column.alias("time"),
        "_id",
    )


# --- from validated ratings to coded ratings ----------------------------------------------------


@dataclass
class CodedRatings:
    """Deduplicated ratings keyed by user and movie codes (the bundle's row indexes)."""

    frame: DataFrame  # user_code int, movie_code int, rating float
    user_ids: np.ndarray  # sorted; index = user code
    n_movies: int


def code_ratings(
    spark: SparkSession, ratings: DataFrame, movie_ids: np.ndarray, file: str, notes: list[str]
) -> CodedRatings:
    """Drop ratings of unknown movies and duplicates (the latest wins), as the local engine does
    and with its notes; number users in sorted order."""
    movies = spark.createDataFrame(
        pd.DataFrame({"movie": movie_ids.astype(np.int64), "movie_code": np.arange(len(movie_ids))})
    )
    joined = ratings.join(F.broadcast(movies), "movie", "left")
    latest = F.max_by("rating", F.struct("time", "_id"))  # ties in time: the later row wins
    grouped = joined.groupBy("user", "movie", "movie_code").agg(
        latest.alias("rating"), F.count(F.lit(1)).alias("copies"), F.min("_id").alias("first")
    )
    grouped = grouped.persist()
    known, unknown = F.col("movie_code").isNotNull(), F.col("movie_code").isNull()
    summary = grouped.agg(
        F.sum(F.when(unknown, F.col("copies"))).alias("dropped"),
        F.min_by(F.col("movie"), F.when(unknown, F.col("first"))).alias("first_dropped"),
        F.sum(F.when(known, F.col("copies") - 1)).alias("duplicates"),
        F.count(F.when(known, F.lit(1))).alias("pairs"),
    ).collect()[0]
    if summary["dropped"]:
        notes.append(D.dropped_note(int(summary["dropped"]), int(summary["first_dropped"])))
    if not summary["pairs"]:
        raise D.no_known_movies(file)
    if summary["duplicates"]:
        notes.append(D.duplicates_note(int(summary["duplicates"])))
    pairs = grouped.where(known)
    user_ids = np.sort(pairs.select("user").distinct().toPandas()["user"].to_numpy(dtype=np.int64))
    users = spark.createDataFrame(
        pd.DataFrame({"user": user_ids, "user_code": np.arange(len(user_ids), dtype=np.int32)})
    )
    coded = pairs.join(F.broadcast(users), "user").select(
        F.col("user_code").cast("int"), F.col("movie_code").cast("int"), "rating"
    )
    coded = coded.persist()
    coded.count()  # materialised before the grouped ratings it comes from are let go
    grouped.unpersist()
    return CodedRatings(coded, user_ids, len(movie_ids))


def collect_seen(coded: CodedRatings) -> Any:
    """The users x movies CSR of seen ratings the bundle holds (for ``for_user``)."""
    table = coded.frame.toPandas()
    shape = (len(coded.user_ids), coded.n_movies)
    rows, cols = table["user_code"].to_numpy(), table["movie_code"].to_numpy()
    return D._csr(rows, cols, table["rating"].to_numpy(np.float32), shape)


def movie_sums(coded: CodedRatings) -> tuple[np.ndarray, np.ndarray]:
    """(votes, sum of ratings) per movie code, with Spark SQL aggregates."""
    coded.frame.createOrReplaceTempView("coded_ratings")
    spark = coded.frame.sparkSession
    stats = spark.sql(
        "SELECT movie_code, COUNT(*) AS votes, SUM(CAST(rating AS DOUBLE)) AS total "
        "FROM coded_ratings GROUP BY movie_code"
    ).toPandas()
    votes = np.zeros(coded.n_movies, dtype=np.int64)
    sums = np.zeros(coded.n_movies, dtype=np.float64)
    votes[stats["movie_code"].to_numpy()] = stats["votes"].to_numpy()
    sums[stats["movie_code"].to_numpy()] = stats["total"].to_numpy()
    return votes, sums


# --- collaborative factors, distributed ---------------------------------------------------------


def _centered(coded: CodedRatings, variant: str) -> tuple[DataFrame, np.ndarray]:
    """The ratings the factorisation sees and the per-user means it removed (see
    ``collaborative.prepare_matrix``)."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}; got {variant!r}")
    means = np.zeros(len(coded.user_ids), dtype=np.float32)
    if variant == "pure":
        return coded.frame, means
    by_user = coded.frame.groupBy("user_code").agg(F.avg("rating").alias("mean"))
    table = by_user.toPandas()
    means[table["user_code"].to_numpy()] = table["mean"].to_numpy(np.float32)
    frame = coded.frame.join(by_user, "user_code").select(
        "user_code", "movie_code", (F.col("rating") - F.col("mean")).alias("rating")
    )
    return frame, means


def fit_svd_spark(
    coded: CodedRatings,
    k: int,
    variant: str = "pure",
    shrinkage: float = 0.0,
    item_scale: np.ndarray | None = None,
) -> CollaborativeModel:
    """Truncated SVD with MLlib ``IndexedRowMatrix.computeSVD`` (ARPACK over distributed
    products): item factors V and singular values s to the driver, U * s collected by user.

    ``item_scale`` is the column normalisation d of ``collaborative.column_scale`` (None: none);
    each rating is divided by its movie's d before the factorisation, as the local engine does.
    """
    from pyspark.mllib.linalg import Vectors
    from pyspark.mllib.linalg.distributed import IndexedRow, IndexedRowMatrix

    frame, means = _centered(coded, variant)
    n_movies = coded.n_movies
    scale = np.ones(n_movies) if item_scale is None else np.asarray(item_scale, np.float64)
    by_user = frame.groupBy("user_code").agg(
        F.sort_array(F.collect_list(F.struct("movie_code", "rating"))).alias("items")
    )

    def to_row(row: Any) -> Any:  # runs on the executors: closes over n_movies and scale only
        codes = [item[0] for item in row["items"]]
        values = [float(item[1]) / scale[item[0]] for item in row["items"]]
        vector = Vectors.sparse(n_movies, codes, values)
        return IndexedRow(row["user_code"], vector)

    matrix = IndexedRowMatrix(by_user.rdd.map(to_row), len(coded.user_ids), n_movies)
    # ARPACK multiplies by the matrix once per iteration (a Spark job each): cache the rows
    # in the JVM, or every iteration would redo the shuffle and the Python conversion.
    rows = matrix._java_matrix_wrapper._java_model.rows().cache()
    rows.count()
    svd = matrix.computeSVD(k, computeU=True)
    s = np.asarray(svd.s.toArray(), dtype=np.float64)
    item_factors = np.asarray(svd.V.toArray(), dtype=np.float32)
    user_factors = np.zeros((len(coded.user_ids), len(s)), dtype=np.float32)
    for index, vector in svd.U.rows.map(lambda r: (r.index, r.vector.toArray())).collect():
        user_factors[index] = vector * s
    rows.unpersist(False)
    return CollaborativeModel(
        item_factors=np.ascontiguousarray(item_factors),
        singular_values=s.astype(np.float32),
        user_factors=user_factors,
        user_means=means,
        variant=variant,
        shrinkage=float(shrinkage),
        item_scale=item_scale,
    )


def fit_als_spark(
    coded: CodedRatings,
    k: int,
    seed: int = 0,
    implicit: bool = True,
    reg: float = 0.1,
    alpha: float = 1.0,
    iterations: int = 10,
) -> CollaborativeModel:
    """MLlib ALS, reshaped into the SVD fields ``Recommender`` serves.

    ALS gives users X and items Y with R ~ X Y^T. With the thin SVD Y = Q S W^T (movies x k, on
    the driver) the bundle keeps item factors Q (orthonormal, as SVD's V), singular values S
    and user factors X W S: user_factors @ item_factors.T is exactly X Y^T, and a fold-in projects
    a profile onto the span of Y as PureSVD's projects onto the span of V.
    """
    from pyspark.ml.recommendation import ALS

    als = ALS(
        rank=k,
        maxIter=iterations,
        regParam=reg,
        implicitPrefs=implicit,
        alpha=alpha,
        userCol="user_code",
        itemCol="movie_code",
        ratingCol="rating",
        seed=seed,
    )
    fitted = als.fit(coded.frame)
    users = _factor_table(fitted.userFactors, len(coded.user_ids), k)
    items = _factor_table(fitted.itemFactors, coded.n_movies, k)
    q, s, wt = np.linalg.svd(items.astype(np.float64), full_matrices=False)
    return CollaborativeModel(
        item_factors=np.ascontiguousarray(q, dtype=np.float32),
        singular_values=s.astype(np.float32),
        user_factors=np.ascontiguousarray((users @ wt.T) * s, dtype=np.float32),
        user_means=np.zeros(len(coded.user_ids), dtype=np.float32),
        variant="pure",
    )


def _factor_table(factors: DataFrame, rows: int, k: int) -> np.ndarray:
    table = factors.toPandas()
    matrix = np.zeros((rows, k), dtype=np.float64)  # rows ALS never saw keep zero factors
    if len(table):
        matrix[table["id"].to_numpy()] = np.stack(table["features"].to_numpy())
    return matrix


# --- training ----------------------------------------------------------------------------------


@contextmanager
def _stage(
    spark: SparkSession, name: str, timings: dict[str, float], progress: Progress
) -> Iterator[None]:
    """Time a stage as the local engine does, and count the Spark jobs it ran."""
    context = spark.sparkContext
    context.setJobGroup(name, name)
    progress(f"{name} ...")
    start = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - start, 3)
    jobs = len(context.statusTracker().getJobIdsForGroup(name))
    progress(f"{name}: done in {timings[name]:.2f} s ({jobs} Spark jobs)")
    context.setJobGroup("", "")


def fit_spark(
    spark: SparkSession,
    data_dir: str | Path,
    config: TrainingConfig,
    timings: dict[str, float],
    progress: Progress,
    algorithm: str = "svd",
) -> Model:
    """Read, validate and fit on Spark; return the same ``Model`` the local engine builds."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}; got {algorithm!r}")
    notes: list[str] = []
    with _stage(spark, "load (movies on the driver)", timings, progress):
        movies, input_files = load_catalogue(spark, data_dir)
    with _stage(spark, "load and validate ratings (Spark)", timings, progress):
        coded = load_ratings(spark, data_dir, movies["movieId"].to_numpy(), notes)
    with _stage(spark, "popularity (Spark SQL)", timings, progress):
        votes, sums = movie_sums(coded)
        popularity = popularity_from_sums(votes, sums, config.popularity_quantile)
    if (unrated := int((votes == 0).sum())) > 0:
        notes.append(D.unrated_note(unrated))
    with _stage(spark, "content", timings, progress):
        content = fit_content(movies["genres"].tolist())
    with _stage(spark, "collect seen ratings", timings, progress):
        seen = collect_seen(coded)
    k = choose_factors(config.factors, seen.shape, notes)
    label = "computeSVD" if algorithm == "svd" else "ALS"
    with _stage(spark, f"SVD (k={k}, {config.variant}, Spark {label})", timings, progress):
        if algorithm == "svd":
            scale = column_scale(seen, config.item_norm_exponent)
            cf = fit_svd_spark(coded, k, config.variant, config.shrinkage, scale)
        else:
            cf = fit_als_spark(coded, k, config.seed)
        cf = with_fold_in_settings(cf, config)
    coded.frame.unpersist()
    data = D.Dataset(movies, coded.user_ids, seen, notes, input_files)
    return Model(data, popularity, content, cf)


def train_spark(
    data_dir: str | Path,
    artifacts_dir: str | Path,
    config: TrainingConfig | None = None,
    progress: Progress = lambda message: None,
    master: str = DEFAULT_MASTER,
    spark: SparkSession | None = None,
    algorithm: str = "svd",
) -> TrainingSummary:
    """Train on Spark and write the bundle atomically. Raises DataError on bad input.

    A given ``spark`` session is used and left running; otherwise one is started on ``master``
    and stopped at the end.
    """
    config = config or TrainingConfig()
    timings: dict[str, float] = {}
    owned = spark is None
    if spark is None:
        progress(f"starting Spark ({master}) ...")
        start = time.perf_counter()
        spark = spark_session(master)
        timings["start Spark"] = round(time.perf_counter() - start, 3)
    try:
        model = fit_spark(spark, data_dir, config, timings, progress, algorithm)
        with _stage(spark, "save", timings, progress):
            folder = write_model(
                model, config, artifacts_dir, timings, _manifest_extra(spark, data_dir, algorithm)
            )
    finally:
        if owned:
            spark.stop()
    size = sum(path.stat().st_size for path in folder.iterdir())
    return TrainingSummary(folder, counts_of(model), size, timings, model.data.notes)


def _manifest_extra(spark: SparkSession, data_dir: str | Path, algorithm: str) -> dict:
    extra: dict[str, Any] = {
        "engine": "spark",
        "spark": {
            "version": spark.version,
            "master": spark.sparkContext.master,
            "collaborative": "IndexedRowMatrix.computeSVD" if algorithm == "svd" else "ALS",
            "data": str(data_dir),
        },
    }
    if local_path(data_dir) is None:  # no local files to fingerprint: record where they were
        extra["inputs"] = [{"file": join_uri(data_dir, D.RATINGS_FILE)}]
    return extra
