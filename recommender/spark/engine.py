"""The Spark engine's stages: from a data folder (any URI Spark reads) to the bundle.

    load movies (driver) -> read, validate, code ratings (1 pass, cached) -> user blocks and
    users/ parts (1 shuffle) -> popularity (1 job) -> content (driver) -> SVD (n_iter + 1
    passes) -> neighbours (2 jobs, 1 shuffle) -> bundle (driver: movie-side arrays; the parts
    are moved in, listed, hashed)

The driver holds movie-sized arrays (movies x (k + 10) or movies x K neighbours, a few at a
time) and one row of
counts per part; nothing of size users or ratings. The bundle is written by
``recommender.training.write_model``, so ``Recommender`` serves it as a local one, reading a
user's row from the part files when ``for_user`` asks (recommender/history.py).
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import SparkSession

from recommender import data as D
from recommender.collaborative import VARIANTS, CollaborativeModel, column_scale_from_counts
from recommender.content import fit_content
from recommender.history import USERS_SECTION
from recommender.neighbours import NeighbourScorer
from recommender.popularity import popularity_from_sums
from recommender.spark.blocks import PART_FOLDER, movie_counts, user_blocks
from recommender.spark.neighbours import neighbours_spark
from recommender.spark.randomized import (
    Factorisation,
    MovieBlocks,
    SvdOptions,
    randomized_svd_spark,
)
from recommender.spark.ratings import load_ratings
from recommender.spark.session import (
    DEFAULT_MASTER,
    EngineError,
    prepare_workers,
    spark_session,
)
from recommender.spark.sources import join_uri, load_catalogue, local_path
from recommender.svd import sketch_width
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

RATINGS_PER_BLOCK = 4_000_000  # per user block (task): its arrays and products fit in memory
N_ITER = 4  # power iterations, as the local engine's fit_svd
ALGORITHM = "randomized SVD (recommender/svd.py), one pass over cached user blocks per product"


@dataclass(frozen=True)
class RatingsOnExecutors:
    """Stands in for the users x movies matrix, which stays on the executors: its shape and
    number of ratings are all the driver keeps (``training.counts_of`` reads these)."""

    shape: tuple[int, int]
    nnz: int


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


def block_count(spark: SparkSession, ratings: int) -> int:
    """User blocks: a multiple of the cores, each of at most RATINGS_PER_BLOCK ratings."""
    cores = max(1, spark.sparkContext.defaultParallelism)
    return cores * max(1, -(-ratings // (cores * RATINGS_PER_BLOCK)))


def fit_spark(
    spark: SparkSession,
    data_dir: str | Path,
    config: TrainingConfig,
    timings: dict[str, float],
    progress: Progress,
    staging: Path,
) -> tuple[Model, dict[str, Any]]:
    """Read, validate and fit on Spark: the ``Model`` the local engine builds (without its
    per-user arrays), and the manifest's ``users`` section for the part files in ``staging``."""
    notes: list[str] = []
    with _stage(spark, "load (movies on the driver)", timings, progress):
        movies, input_files = load_catalogue(spark, data_dir)
    # before any work: the widest the SVD can be (fewer users than factors only narrow it)
    width = sketch_width(config.factors, (2**62, len(movies)))
    check_driver_results(spark, len(movies), width, config.neighbours)
    with _stage(spark, "read, validate and code ratings (Spark, one pass)", timings, progress):
        coded = load_ratings(spark, data_dir, movies["movieId"].to_numpy(), notes)
    try:
        with _stage(spark, "user blocks and users/ parts (Spark)", timings, progress):
            cached, parts = user_blocks(coded.frame, block_count(spark, coded.ratings), staging)
    finally:
        coded.cached.unpersist()
    try:
        model = fit_on_blocks(
            spark, cached.values(), parts, movies, config, notes, timings, progress
        )
    finally:
        cached.unpersist()
    model.data.input_files = input_files
    return model, users_section(parts, model.data.ratings.shape[0], model.data.n_ratings)


def fit_on_blocks(
    spark: SparkSession,
    blocks: Any,
    parts: list[dict[str, Any]],
    movies: pd.DataFrame,
    config: TrainingConfig,
    notes: list[str],
    timings: dict[str, float],
    progress: Progress,
) -> Model:
    """Popularity, content and the SVD, once the ratings are cached user blocks."""
    n_movies = len(movies)
    users, ratings = sum(p["users"] for p in parts), sum(p["ratings"] for p in parts)
    if duplicates := sum(part["duplicates"] for part in parts):
        notes.append(D.duplicates_note(duplicates))
    layout = MovieBlocks.for_sums(n_movies, 2, spark.sparkContext.defaultParallelism)
    with _stage(spark, "popularity (Spark)", timings, progress):
        counts = movie_counts(blocks, n_movies, layout.rows, layout.count)
        votes = np.rint(counts[:, 0]).astype(np.int64)
        popularity = popularity_from_sums(votes, counts[:, 1], config.popularity_quantile)
    if (unrated := int((votes == 0).sum())) > 0:
        notes.append(D.unrated_note(unrated))
    with _stage(spark, "content", timings, progress):
        content = fit_content(movies["genres"].tolist())
    k = choose_factors(config.factors, (users, n_movies), notes)
    mean_offset = sum(part["mean_sum"] for part in parts) / users  # of the "centered" means
    stage = f"SVD (k={k}, {config.variant}, Spark, {N_ITER + 1} passes)"
    with _stage(spark, stage, timings, progress):
        svd = fit_svd_spark(spark, blocks, (users, n_movies), votes, k, config, progress)
        cf = with_mean_user(svd, config, mean_offset)
    with _stage(spark, "neighbours (Spark)", timings, progress):
        cores = spark.sparkContext.defaultParallelism
        similar = neighbours_spark(blocks, n_movies, config, cores)
        neighbours = NeighbourScorer.from_similar(similar, movies, config)
    matrix = RatingsOnExecutors((users, n_movies), ratings)
    data = D.Dataset(movies, np.empty(0, np.int64), matrix, notes)
    return Model(data, popularity, content, cf, {NeighbourScorer.name: neighbours})


def fit_svd_spark(
    spark: SparkSession,
    blocks: Any,
    shape: tuple[int, int],
    votes: np.ndarray,
    k: int,
    config: TrainingConfig,
    progress: Progress,
) -> tuple[Factorisation, np.ndarray | None]:
    """The local engine's SVD (variant, column normalisation, seed) over the cached blocks,
    and the column normalisation d it used."""
    if config.variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}; got {config.variant!r}")
    width = sketch_width(k, shape)
    scale = column_scale_from_counts(votes, config.item_norm_exponent)
    cores = spark.sparkContext.defaultParallelism
    options = SvdOptions(
        k=k,
        seed=config.seed,
        n_iter=N_ITER,
        centered=config.variant == "centered",
        item_scale=scale,
        movie_blocks=MovieBlocks.for_sums(shape[1], width, cores),
        report=progress,
    )
    return randomized_svd_spark(blocks, shape, width, votes, options), scale


def with_mean_user(
    svd: tuple[Factorisation, np.ndarray | None], config: TrainingConfig, mean_offset: float
) -> CollaborativeModel:
    """The bundle's factors. Nothing serves from U (``for_user`` folds a user's ratings in);
    the general CF score needs only the mean user, so that is all the driver has: one row of
    user factors and one mean (the mean of the users' means for "centered", else 0)."""
    factors, scale = svd
    cf = CollaborativeModel(
        item_factors=factors.item_factors,
        singular_values=factors.singular_values,
        user_factors=factors.mean_user[None, :],
        user_means=np.array([mean_offset if config.variant == "centered" else 0.0], np.float32),
        variant=config.variant,
        item_scale=scale,
    )
    return with_fold_in_settings(cf, config)


def check_driver_results(spark: SparkSession, n_movies: int, width: int, k: int = 0) -> None:
    """EngineError (one line) when a movie-sized result cannot reach the driver: an SVD pass
    (movies x ``width``), or the neighbours (movies x ``k``)."""
    limit = spark.sparkContext.getConf().get("spark.driver.maxResultSize", "1g")
    jvm = spark.sparkContext._jvm
    allowed = int(jvm.org.apache.spark.network.util.JavaUtils.byteStringAsBytes(limit))
    if allowed <= 0:  # 0: no limit
        return
    fix = f"more than spark.driver.maxResultSize={limit}: raise it, e.g. in spark-defaults.conf"
    needed = n_movies * width * 4 + (width + 1) * width * 8  # A^T Y, the Gram, the sums
    if allowed < needed:
        raise EngineError(
            f"each SVD pass brings {needed / 2**20:.1f} MB to the driver ({n_movies:,} movies x "
            f"{width} float32), {fix}"
        )
    needed = n_movies * (k * 8 + 8)  # a column and a similarity per neighbour, a count per movie
    if allowed < needed:
        raise EngineError(
            f"the neighbours bring {needed / 2**20:.1f} MB to the driver ({n_movies:,} movies x "
            f"{k} neighbours), {fix}"
        )


def users_section(parts: list[dict[str, Any]], users: int, ratings: int) -> dict[str, Any]:
    """The manifest's list of the part files: each one's userId range and counts."""
    keys = ("file", "first_user", "last_user", "users", "ratings", "movies")
    listed = [{key: part[key] for key in keys} for part in parts]
    return {"layout": "parquet", "count": users, "ratings": ratings, "parts": listed}


def train_spark(
    data_dir: str | Path,
    artifacts_dir: str | Path,
    config: TrainingConfig | None = None,
    progress: Progress = lambda message: None,
    master: str = DEFAULT_MASTER,
    spark: SparkSession | None = None,
) -> TrainingSummary:
    """Train on Spark and write the bundle atomically. Raises DataError on bad input.

    A given ``spark`` session is used and left running; otherwise one is started on ``master``
    and stopped at the end. The executors write the users/ part files into a folder inside
    ``artifacts_dir``, so on a cluster that folder must be on storage they and the driver share.
    """
    config = config or TrainingConfig()
    timings: dict[str, float] = {}
    artifacts = Path(artifacts_dir).resolve()
    owned = spark is None
    if spark is None:
        progress(f"starting Spark ({master}) ...")
        start = time.perf_counter()
        spark = spark_session(master)
        timings["start Spark"] = round(time.perf_counter() - start, 3)
    else:
        prepare_workers(spark)
    staging = artifacts / f".spark-{uuid.uuid4().hex[:8]}"
    try:
        model, users = fit_spark(spark, data_dir, config, timings, progress, staging)
        with _stage(spark, "save", timings, progress):
            extra = _manifest_extra(spark, data_dir, users)
            folder = write_model(
                model, config, artifacts, timings, extra, extra_files=staging / PART_FOLDER
            )
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if owned:
            spark.stop()
    size = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
    return TrainingSummary(folder, counts_of(model), size, timings, model.data.notes)


def _manifest_extra(spark: SparkSession, data_dir: str | Path, users: dict) -> dict:
    touched = sum(part["movies"] for part in users["parts"])
    extra: dict[str, Any] = {
        "engine": "spark",
        "spark": {
            "version": spark.version,
            "master": spark.sparkContext.master,
            "collaborative": ALGORITHM,
            "passes": N_ITER + 1,
            "user_blocks": len(users["parts"]),
            "touched_movie_rows": touched,  # sum over blocks of the movies each one rated
            "data": str(data_dir),
        },
        USERS_SECTION: users,
    }
    if local_path(data_dir) is None:  # no local files to fingerprint: record where they were
        extra["inputs"] = [{"file": join_uri(data_dir, D.RATINGS_FILE)}]
    return extra
