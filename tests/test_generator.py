"""Tests for benchmarks/generate_movielens.py on small real files in a temporary directory."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks import generate_movielens as gen

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "generate_movielens.py"
USERS, MOVIES, RATINGS, SEED = 300, 2_000, 15_000, 3
HALF_STARS = {f"{x / 2:.1f}" for x in range(1, 11)}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """One generated data set shared by the read-only tests."""
    out = tmp_path_factory.mktemp("ml")
    return out, gen.generate(out, USERS, MOVIES, RATINGS, seed=SEED)


@pytest.fixture(scope="module")
def ratings(dataset: tuple[Path, dict]) -> pd.DataFrame:
    """ratings.csv with every column read as text, to check the exact formatting too."""
    return pd.read_csv(dataset[0] / "ratings.csv", dtype=str)


@pytest.fixture(scope="module")
def movies(dataset: tuple[Path, dict]) -> pd.DataFrame:
    """movies.csv as pandas reads it by default."""
    return pd.read_csv(dataset[0] / "movies.csv", dtype={"title": str, "genres": str})


def test_headers_are_exact(dataset: tuple[Path, dict]) -> None:
    out, _ = dataset
    assert (out / "movies.csv").read_bytes().split(b"\n", 1)[0] == b"movieId,title,genres"
    first = (out / "ratings.csv").read_bytes().split(b"\n", 1)[0]
    assert first == b"userId,movieId,rating,timestamp"


def test_counts_match_files_and_target(dataset: tuple[Path, dict], ratings: pd.DataFrame) -> None:
    _, counts = dataset
    assert counts["ratings"] == len(ratings)
    assert counts["users"] == USERS and counts["movies"] == MOVIES
    assert counts["rated_movies"] == ratings["movieId"].nunique()
    assert abs(len(ratings) - RATINGS) <= 0.02 * RATINGS


def test_ratings_are_half_stars(ratings: pd.DataFrame) -> None:
    # Checking the text, not parsed floats, pins the MovieLens spelling "4.0" rather than "4".
    assert set(ratings["rating"]) <= HALF_STARS
    values = ratings["rating"].astype(float)
    assert values.min() >= 0.5 and values.max() <= 5.0


def test_no_duplicate_pairs(ratings: pd.DataFrame) -> None:
    assert not ratings.duplicated(["userId", "movieId"]).any()


def test_rows_sorted_by_user_then_movie(ratings: pd.DataFrame) -> None:
    keys = ratings[["userId", "movieId"]].astype(np.int64)
    assert keys.equals(keys.sort_values(["userId", "movieId"]).reset_index(drop=True))


def test_every_rated_movie_exists(ratings: pd.DataFrame, movies: pd.DataFrame) -> None:
    assert set(ratings["movieId"].astype(np.int64)) <= set(movies["movieId"])


def test_every_user_has_at_least_20_ratings(ratings: pd.DataFrame) -> None:
    per_user = ratings["userId"].astype(np.int64).value_counts()
    assert sorted(per_user.index) == list(range(1, USERS + 1))
    assert per_user.min() >= 20


def test_timestamps_are_unix_seconds(ratings: pd.DataFrame) -> None:
    assert ratings["timestamp"].str.fullmatch(r"\d+").all()
    ts = ratings["timestamp"].astype(np.int64)
    assert ts.min() >= gen.T_START and ts.max() <= gen.T_END


def test_movie_ids_positive_increasing_with_gaps(movies: pd.DataFrame) -> None:
    ids = movies["movieId"].to_numpy()
    assert ids[0] >= 1 and (np.diff(ids) > 0).all()
    assert ids[-1] > len(ids)  # some ids are skipped, as in real MovieLens


def test_popularity_is_skewed(ratings: pd.DataFrame) -> None:
    per_movie = ratings["movieId"].value_counts()  # sorted, most rated first
    top_share = per_movie.iloc[: MOVIES // 10].sum() / len(ratings)
    assert top_share > 0.35


def test_genres_are_movielens_genres(movies: pd.DataFrame) -> None:
    lists = movies["genres"].str.split("|")
    assert all(1 <= len(g) <= 4 for g in lists)
    flat = lists.explode()
    assert set(flat) <= set(gen.GENRES) | {gen.NO_GENRES}
    assert all(g == sorted(g) for g in lists)  # MovieLens order is alphabetical
    assert set(flat.value_counts().index[:2]) == {"Drama", "Comedy"}


def test_genres_correlate_with_factors() -> None:
    # Drama members must sit measurably apart in factor space, or genres carry no taste signal.
    m = gen.make_movies(np.random.default_rng(0), 3000)
    drama = np.array(["Drama" in g.split("|") for g in m.genres])
    gap = m.factors[drama].mean(axis=0) - m.factors[~drama].mean(axis=0)
    assert np.linalg.norm(gap) / gen.FACTOR_SD > 0.3


def test_titles_round_trip_through_pandas(dataset: tuple[Path, dict], movies: pd.DataFrame) -> None:
    path = dataset[0] / "movies.csv"
    with open(path, encoding="utf-8", newline="") as f:
        expected = [row["title"] for row in csv.DictReader(f)]
    assert movies["title"].tolist() == expected
    titles = movies["title"]
    assert titles.str.contains(",").any() and titles.str.contains('"').any()
    assert titles.map(lambda t: not t.isascii()).any()
    assert titles.str.contains(r" \(\d{4}\)$").all()
    # Writing what pandas read reproduces the file byte for byte, so nothing was mangled.
    again = path.parent / "movies_again.csv"
    gen.write_movies(again, movies)
    assert again.read_bytes() == path.read_bytes()


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    args = (60, 120, 3_000)
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        gen.generate(tmp_path / name, *args, seed=seed)
    for file in ("movies.csv", "ratings.csv"):
        a, b, c = ((tmp_path / n / file).read_bytes() for n in "abc")
        assert a == b
        assert a != c


def test_tiny_catalogue_clips_users_to_all_movies(tmp_path: Path) -> None:
    # Fewer movies than the 20-rating floor: everyone rates everything (the dense path).
    counts = gen.generate(tmp_path, users=5, movies=10, ratings=1_000, seed=1)
    assert counts["ratings"] == 50
    r = pd.read_csv(tmp_path / "ratings.csv")
    assert (r.groupby("userId").size() == 10).all()


def test_alias_sampler_matches_weights() -> None:
    pop = gen.make_popularity(50)
    ranks = pop.sample(np.random.default_rng(0), 400_000)
    freq = np.bincount(ranks, minlength=50) / len(ranks)
    assert np.abs(freq - pop.weights).max() < 0.003
    assert abs(pop.weights.sum() - 1) < 1e-12


def test_cli_prints_actual_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [str(tmp_path), "--users", "30", "--movies", "80", "--ratings", "1500", "--seed", "2"]
    assert gen.main(argv) == 0
    out = capsys.readouterr().out
    n = len(pd.read_csv(tmp_path / "ratings.csv"))
    assert re.search(rf"\b{n:,} ratings\b", out)
    assert "30 users" in out and "80 movies" in out
