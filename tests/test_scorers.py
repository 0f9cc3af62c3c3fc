"""The scorer contract: every registered scorer passes the same known-answer tests, and a new
scorer added to the registry reaches the results, the evaluation and the app with no other edit.

The tiny data set is built so that the right answer is known: two groups of movies, one
(comedies, movies 1-4) liked by every user, the other (horror, movies 5-8) by a few. A visitor who
liked movie 1 must get the other comedies first from any sensible signal: they share its genre,
its audience and its popularity.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Self

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from recommender import Recommender, TrainingConfig, TrainingError, registry, train
from recommender.bundle import expect_array
from recommender.data import load_dataset
from recommender.evaluation import NEW_USER, evaluate, tune
from recommender.evaluation.tuning import blend_grid
from recommender.scorer import BundleInfo, Request, Scorer
from recommender.training import Model, fit, model_arrays
from tests.conftest import write_csv

MAIN = Path(__file__).resolve().parents[1] / "main.py"
COMEDIES, HORROR = [1, 2, 3, 4], [5, 6, 7, 8]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 users: all like the comedies; users 1-3 also like the horror films."""
    folder = tmp_path_factory.mktemp("planted")
    movies = ["movieId,title,genres"]
    movies += [f"{m},Comedy {m} (2000),Comedy" for m in COMEDIES]
    movies += [f"{m},Horror {m} (1980),Horror" for m in HORROR]
    write_csv(folder, "movies.csv", "\n".join(movies) + "\n")
    rows = ["userId,movieId,rating,timestamp"]
    for user in range(1, 13):
        liked = COMEDIES + (HORROR if user <= 3 else [])
        rows += [f"{user},{movie},{4.5 if movie in COMEDIES else 4.0},{user}" for movie in liked]
    write_csv(folder, "ratings.csv", "\n".join(rows) + "\n")
    return folder


@pytest.fixture(scope="module")
def planted_recommender(planted: Path, tmp_path_factory: pytest.TempPathFactory) -> Recommender:
    artifacts = tmp_path_factory.mktemp("planted-artifacts")
    train(planted, artifacts, TrainingConfig(factors=2))
    return Recommender.load(artifacts)


SCORER_NAMES = [scorer.name for scorer in registry.SCORERS]


@pytest.mark.parametrize("name", SCORER_NAMES)
def test_scorer_ranks_the_known_answer_first(planted_recommender: Recommender, name: str):
    result = planted_recommender.recommend({1: 5.0}, n=3, weights=only(planted_recommender, name))
    assert set(result["movieId"]) == {2, 3, 4}, result
    assert 1 not in set(result["movieId"])  # a profile movie never comes back


@pytest.mark.parametrize("name", SCORER_NAMES)
def test_scores_are_finite_for_every_movie(planted_recommender: Recommender, name: str):
    scorer = planted_recommender.scorers[name]
    for profile in ({1: 5.0}, {5: 0.5, 2: None}, {m: 3.0 for m in COMEDIES + HORROR}):
        scores = np.asarray(scorer.scores(planted_recommender.request(profile)))
        assert scores.shape == (len(planted_recommender.movies),)
        assert np.isfinite(scores).all()


@pytest.mark.parametrize("name", SCORER_NAMES)
def test_profile_movies_never_come_back(planted_recommender: Recommender, name: str):
    profile = {1: 5.0, 5: 1.0, 6: None}
    result = planted_recommender.recommend(profile, n=8, weights=only(planted_recommender, name))
    assert len(result) == 5 and not set(profile) & set(result["movieId"])


@pytest.mark.parametrize("name", SCORER_NAMES)
def test_arrays_round_trip_through_a_bundle(
    planted: Path, planted_recommender: Recommender, name: str
):
    config = TrainingConfig(factors=2)
    fresh = registry.scorer_class(name).from_training(fit_planted(planted, config), config)
    loaded = planted_recommender.scorers[name]
    for key, array in fresh.to_arrays().items():
        np.testing.assert_array_equal(loaded.to_arrays()[key], array)
        assert array.dtype.kind in "fiu"  # numbers only: nothing a pickle would be needed for
    request = planted_recommender.request({2: 4.0, 7: None})
    # the bundle keeps the neighbour links and the item factors as float16 (3 digits)
    fresh_scores = fresh.scores(request)
    top = float(np.abs(fresh_scores).max(initial=0.0))
    np.testing.assert_allclose(loaded.scores(request), fresh_scores, rtol=2e-3, atol=2e-3 * top)


def only(rec: Recommender, name: str) -> dict[str, float]:
    return {other: float(other == name) for other in rec.scorers}


def fit_planted(folder: Path, config: TrainingConfig) -> Model:
    return fit(load_dataset(folder), config, {}, lambda message: None)


# --- a new scorer is one class and one registry line -----------------------------------------


class FewRatings(Scorer):
    """A toy: prefers movies with few ratings (a long-tail signal), explains itself in words."""

    name = "few_ratings"
    label = "Hidden gems"
    help = "Movies few people have rated"
    default_weight = 0.1

    def __init__(self, rarity: np.ndarray):
        self.rarity = rarity

    @classmethod
    def from_training(cls, model: Model, config: TrainingConfig) -> Self:
        counts = model.popularity.n_ratings.astype(np.float32)
        return cls(1.0 / (1.0 + counts))

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], info: BundleInfo) -> Self:
        return cls(expect_array(arrays, "rarity", (len(info.movies),), "f"))

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"rarity": self.rarity}

    def scores(self, request: Request) -> np.ndarray:
        return self.rarity

    def reasons(self, codes: np.ndarray, request: Request) -> list[str | None]:
        return ["few people have seen it"] * len(codes)


@pytest.fixture
def with_toy_scorer() -> Iterator[type[Scorer]]:
    registry.SCORERS.append(FewRatings)
    try:
        yield FewRatings
    finally:
        registry.SCORERS.remove(FewRatings)


def test_a_registered_scorer_reaches_results_evaluation_and_app(
    with_toy_scorer, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    artifacts = tmp_path / "artifacts"
    train(data_dir, artifacts, TrainingConfig(factors=8))
    rec = Recommender.load(artifacts)
    assert rec.default_weights["few_ratings"] == 0.1  # the manifest's default blend
    # discovery 1: the visitor's blend alone (the popular end blends its own fold-in)
    result = rec.recommend({1: 5.0}, n=10, weights={"few_ratings": 5.0}, discovery=1.0)
    assert "few_ratings_score" in result.columns
    assert (result["reason"] == "few people have seen it").all()  # it dominates this blend

    data = load_dataset(data_dir)
    table = evaluate(
        data,
        TrainingConfig(factors=8),
        profile_sizes=(1,),
        protocols=(NEW_USER,),
        scorers=["few_ratings", "hybrid (default)"],
    ).table
    assert set(table["scorer"]) == {"few_ratings", "hybrid (default)"}
    assert any(dict(blend)["few_ratings"] > 0 for blend in blend_grid())

    monkeypatch.setenv("MOVIEREC_ARTIFACTS_DIR", str(artifacts))
    at = AppTest.from_file(str(MAIN), default_timeout=30).run()
    assert not at.exception
    slider = at.slider(key="weight_few_ratings")
    assert slider.label == "Hidden gems" and slider.value == 0.1


def test_the_tuning_grid_comes_from_the_registry(with_toy_scorer):
    grid = [dict(blend) for blend in blend_grid()]
    assert all(set(blend) == {s.name for s in registry.SCORERS} for blend in grid)
    assert all(abs(sum(blend.values()) - 1.0) < 1e-9 for blend in grid)  # personal: the rest
    assert {blend["few_ratings"] for blend in grid} == set(FewRatings.tuning_weights)
    assert callable(tune)


class Broken(FewRatings):
    name = "broken"

    @classmethod
    def from_training(cls, model: Model, config: TrainingConfig) -> Self:
        return cls(np.full(len(model.data.movies), np.nan, dtype=np.float32))


def test_training_refuses_to_write_values_that_are_not_finite(planted: Path):
    config = TrainingConfig(factors=2)
    model = fit_planted(planted, config)
    registry.SCORERS.append(Broken)
    try:
        with pytest.raises(TrainingError, match="scorer broken: rarity holds values"):
            model_arrays(model, config)
    finally:
        registry.SCORERS.remove(Broken)
