"""Where the input files are, and the movie side: small, validated on the driver.

The movie-side files (movies, links, tags: a few MB) are read on the driver by
``recommender.data`` itself, so they get exactly the local engine's checks. A local folder is
read in place; from another file system (hdfs://, s3a://, file://) they are first copied byte
for byte by Spark into a temporary folder, and a Parquet movie table is written there as CSV.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from pyspark.sql import SparkSession

from recommender import data as D

MOVIE_SIDE_FILES = (D.MOVIES_FILE, D.LINKS_FILE, D.TAGS_FILE)


def join_uri(base: str | Path, name: str) -> str:
    """``base/name`` for a local path or any URI (hdfs://, s3a://, file://)."""
    return f"{str(base).rstrip('/')}/{name}"


def local_path(uri: str | Path) -> Path | None:
    """The local folder ``uri`` names, or None for a URI with a scheme (hdfs://, s3a://, also
    file://, which goes through Spark's file systems like any other)."""
    return None if "://" in str(uri) else Path(uri)


def exists(spark: SparkSession, uri: str) -> bool:
    """Whether ``uri`` exists, asked of the Hadoop file system Spark itself uses."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return bool(path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).exists(path))


def ratings_source(spark: SparkSession, data_dir: str | Path) -> tuple[str, str]:
    """(uri, format) of the ratings: ratings.csv, else ratings.parquet (a file or a folder)."""
    csv = join_uri(data_dir, D.RATINGS_FILE)
    if exists(spark, csv):
        return csv, "csv"
    parquet = join_uri(data_dir, "ratings.parquet")
    if exists(spark, parquet):
        return parquet, "parquet"
    raise D.file_not_found(csv)


def load_catalogue(spark: SparkSession, data_dir: str | Path) -> tuple[pd.DataFrame, list[Path]]:
    """The validated movie table, and the local input files (for the manifest's fingerprints)."""
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
    if exists(spark, csv):
        content = spark.read.format("binaryFile").load(csv).select("content").head()
        target.write_bytes(bytes(content[0]))
    elif exists(spark, parquet):
        spark.read.parquet(parquet).toPandas().to_csv(target, index=False)
