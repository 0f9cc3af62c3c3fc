"""The Spark engine, run for real (local[2]) on the real data: the same bundle, the same messages.

pyspark is an optional dependency, but these tests do not skip without it: CI installs
requirements-spark.txt (and Java 17+), and a missing install must fail loudly.

To keep the module to one Spark training on the real data, the bundle that is checked and served
is the one the evaluation harness trains on its new-user split (80% of the users).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

try:
    import pyspark
except ImportError as error:  # fail, never skip: CI must have installed the Spark engine
    raise ImportError(
        "tests/test_spark.py needs pyspark and Java 17+: pip install -r requirements-spark.txt"
    ) from error

from recommender import DataError, Recommender, TrainingConfig
from recommender.bundle import load_bundle
from recommender.data import load_dataset
from recommender.evaluation import NEW_USER, evaluate, fit_local, new_user_split, trainer_fit
from recommender.spark_engine import spark_session, train_spark
from tests.conftest import REPO, TINY_MOVIES, write_csv
from tests.test_data import BAD_RATINGS, RATINGS_HEADER

TOY_STORY = 1
# pyspark 4.3 warns about pandas 3 on every conversion; the conversions used here are tested
pytestmark = [
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
    pytest.mark.filterwarnings("ignore::recommender.evaluation.metrics.MetricWarning"),
]


@pytest.fixture(scope="module")
def spark():
    """One SparkSession for the module: local[2], 4 shuffle partitions, no UI."""
    session = spark_session("local[2]", shuffle_partitions=4)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def harness(spark, data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The evaluation harness, new-user protocol, default config, both engines on one split.

    The Spark engine's bundle is kept (copied out of the harness's scratch folder) for the
    bundle tests below.
    """
    kept = tmp_path_factory.mktemp("spark-artifacts")

    def train_with_spark(folder: Path, artifacts: Path, config: TrainingConfig):
        summary = train_spark(folder, artifacts, config, spark=spark)
        shutil.copytree(summary.bundle_dir, kept / summary.bundle_dir.name)
        (kept / "CURRENT").write_text(summary.bundle_dir.name + "\n")
        return summary

    data, config = load_dataset(data_dir), TrainingConfig()
    figures = {}
    for name, fit in (("local", fit_local), ("spark", trainer_fit(train_with_spark))):
        result = evaluate(
            data, config, fit=fit, protocols=(NEW_USER,), scorers=["hybrid (default)"]
        )
        figures[name] = result.ndcg("hybrid (default)")
    split = new_user_split(data, 5, 0)
    return {"ndcg": figures, "artifacts": kept, "local": fit_local(split.train, config)}


def _spark_error(spark, folder: Path | str, tmp_path: Path) -> str:
    with pytest.raises(DataError) as caught:
        train_spark(folder, tmp_path / "artifacts", TrainingConfig(factors=2), spark=spark)
    return str(caught.value)


def _local_error(folder: Path) -> str:
    with pytest.raises(DataError) as caught:
        load_dataset(folder)
    return str(caught.value)


# --- the bundle -------------------------------------------------------------------------------


def test_new_user_ndcg_matches_the_local_engine(harness: dict):
    """The evaluation harness on the same split: Spark's NDCG@20 within 0.02 of local's."""
    figures = harness["ndcg"]
    print(f"new-user NDCG@20 (hybrid, default config): {figures}")  # shown with pytest -rP
    assert figures["local"] > 0.2
    assert abs(figures["spark"] - figures["local"]) <= 0.02, figures


def test_spark_bundle_validates_loads_and_serves(harness: dict):
    rec = Recommender.load(harness["artifacts"])  # checks the schema version and every checksum
    manifest = rec.manifest
    assert manifest["engine"] == "spark"
    assert manifest["spark"]["version"] == pyspark.__version__
    assert manifest["spark"]["master"] == "local[2]"
    assert manifest["spark"]["collaborative"] == "IndexedRowMatrix.computeSVD"
    assert manifest["counts"]["users"] == 488  # the train users: 80% of 610
    titles = rec.recommend({TOY_STORY: 5.0}, n=20)["title"].tolist()
    assert "Toy Story 2 (1999)" in titles
    assert not rec.for_user(1, n=10).empty and len(rec.popular(n=15)) == 15


def test_spark_bundle_matches_the_local_one(harness: dict):
    spark_bundle, local_bundle = load_bundle(harness["artifacts"]), harness["local"].bundle
    for key in ("counts", "genres"):
        assert spark_bundle.manifest[key] == local_bundle.manifest[key], key
    for key in ("min_votes", "prior"):
        assert spark_bundle.manifest["popularity"][key] == pytest.approx(
            local_bundle.manifest["popularity"][key], rel=1e-6
        )
    # the harness writes only movies.csv and ratings.csv for a file-based engine: no links, tags
    columns = ["movieId", "title", "genres", "year", "n_ratings"]
    pd.testing.assert_frame_equal(spark_bundle.movies[columns], local_bundle.movies[columns])
    for column in ("mean_rating", "weighted_rating"):
        np.testing.assert_allclose(
            spark_bundle.movies[column], local_bundle.movies[column], rtol=1e-5
        )
    for name in ("user_ids", "seen_indptr", "seen_movies", "seen_ratings", "content.data"):
        np.testing.assert_array_equal(spark_bundle.arrays[name], local_bundle.arrays[name])
    # ARPACK's exact top singular values against randomized SVD's close approximation
    np.testing.assert_allclose(
        spark_bundle.arrays["personal.singular_values"][:10],
        local_bundle.arrays["personal.singular_values"][:10],
        rtol=0.02,
    )


# --- bad input: the local engine's messages -------------------------------------------------


MORE_BAD_RATINGS = [
    ("1,1,4.0,10\n\n1,2,abc,11\n", RATINGS_HEADER),  # a blank line counts: row 4
    ("1,1,4.0,10\n1,2,3.0\n1,3,NaN,12\n", RATINGS_HEADER),  # a short row: read as text
    ("1,1,4.0,10\r\n1,2,4.0,1.5\r\n", RATINGS_HEADER.replace("\n", "\r\n")),  # CRLF, timestamp
    ("1,1,4.0,10\n1,1.5,4.0,11\n2,2,3.0,\n", RATINGS_HEADER),  # fractional id, then missing time
    ('"1","2","4.5","10"\n"1","3","5.5","11"\n', RATINGS_HEADER),  # quoted fields
    ("1,1,4.0\n", "userId;movieId;rating\n"),  # another delimiter
]


@pytest.mark.parametrize(
    ("body", "header"),
    [(body, header) for body, header, _ in BAD_RATINGS] + MORE_BAD_RATINGS,
)
def test_bad_ratings_get_the_local_engines_message(spark, tmp_path: Path, body, header):
    folder = tmp_path / "data"
    write_csv(folder, "movies.csv", TINY_MOVIES)
    write_csv(folder, "ratings.csv", header + body)
    expected = _local_error(folder)
    assert _spark_error(spark, folder, tmp_path) == expected


def test_missing_files_and_bad_movies_get_the_local_engines_message(spark, tmp_path: Path):
    folder = tmp_path / "data"
    write_csv(folder, "movies.csv", TINY_MOVIES)
    assert _spark_error(spark, folder, tmp_path) == _local_error(folder)  # no ratings.csv
    assert "ratings.csv: file not found" in _local_error(folder)
    write_csv(folder, "ratings.csv", RATINGS_HEADER + "1,1,4.0,1\n")
    write_csv(folder, "movies.csv", "movieId,title,genres\n1,Heat (1995),Action\n1,Again,Drama\n")
    assert _spark_error(spark, folder, tmp_path) == _local_error(folder)


def test_a_remote_uri_gets_the_same_messages(spark, tmp_path: Path):
    """Through file:// the movie side is copied by Spark and the ratings read by Spark."""
    folder = tmp_path / "data"
    write_csv(folder, "movies.csv", TINY_MOVIES)
    write_csv(folder, "ratings.csv", RATINGS_HEADER + "1,1,4.0,10\n1,2,9.5,11\n")
    assert _spark_error(spark, f"file://{folder}", tmp_path) == _local_error(folder)
    write_csv(folder, "movies.csv", "movieId,title\n1,Heat (1995)\n")
    assert _spark_error(spark, f"file://{folder}", tmp_path) == _local_error(folder)


def test_repairs_are_the_local_engines(spark, tmp_path: Path):
    """Duplicates (the latest wins), unknown movies and unrated movies: same data, same notes."""
    folder = tmp_path / "data"
    write_csv(folder, "movies.csv", TINY_MOVIES)
    body = "1,2,5.0,10\n1,2,2.0,20\n1,1,4.0,5\n2,99,3.0,7\n2,3,4.5,8\n3,4,3.0,9\n3,4,4.0,9\n"
    write_csv(folder, "ratings.csv", RATINGS_HEADER + body)
    summary = train_spark(folder, tmp_path / "artifacts", TrainingConfig(factors=2), spark=spark)
    local = load_dataset(folder)
    assert set(local.notes) <= set(summary.notes)
    bundle = load_bundle(tmp_path / "artifacts")
    np.testing.assert_array_equal(bundle.arrays["user_ids"], local.user_ids)
    np.testing.assert_array_equal(bundle.arrays["seen_ratings"], local.ratings.data)
    np.testing.assert_array_equal(bundle.arrays["seen_movies"], local.ratings.indices)


def test_parquet_ratings_train_and_name_the_bad_row(spark, tmp_path: Path):
    folder = tmp_path / "data"
    write_csv(folder, "movies.csv", TINY_MOVIES)
    ratings = pd.DataFrame(
        {"userId": [1, 1, 2, 2, 3], "movieId": [1, 2, 1, 3, 4], "rating": [4.0, 5.0, 3.0, 4.0, 2.5]}
    )
    ratings.to_parquet(folder / "ratings.parquet", index=False)
    summary = train_spark(folder, tmp_path / "artifacts", TrainingConfig(factors=2), spark=spark)
    assert summary.counts["ratings"] == 5 and summary.counts["users"] == 3
    ratings.loc[3, "rating"] = 6.0  # the 4th record: row 5 as if the header were row 1
    ratings.to_parquet(folder / "ratings.parquet", index=False)
    message = _spark_error(spark, folder, tmp_path)
    assert message == "ratings.csv: column 'rating', row 5: 6 is outside 0.5-5"


# --- the command line ---------------------------------------------------------------------------


def test_cli_spark_engine_exits_2_with_the_local_message(tiny_data: Path, tmp_path: Path):
    """The CLI's --engine spark path in a fresh process (one JVM start: the good path of the
    same code is what every test above trains through)."""
    artifacts = tmp_path / "artifacts"
    write_csv(tiny_data, "ratings.csv", RATINGS_HEADER + "1,1,4.0,10\n1,2,9.5,11\n")
    command = [sys.executable, str(REPO / "train_and_save_model.py"), "--engine", "spark"]
    command += ["--spark-master", "local[1]", "--data-dir", str(tiny_data)]
    command += ["--artifacts-dir", str(artifacts)]
    bad = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert bad.returncode == 2
    assert "starting Spark (local[1])" in bad.stdout
    assert "load (movies on the driver): done in" in bad.stdout  # stages are logged
    errors = [line for line in bad.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: ratings.csv: column 'rating', row 3: 9.5 is outside 0.5-5"]
    assert bad.stderr.rstrip().endswith(errors[0])  # the last line, after the JVM's start-up
    assert "Traceback" not in bad.stderr
    assert not artifacts.exists() or not list(artifacts.glob("bundle-*"))
