"""The evaluation harness: splits, reference models, the product path, and a real ordering."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recommender import Recommender, TrainingConfig, train
from recommender import evaluation as ev
from recommender.data import Dataset, load_dataset
from recommender.evaluation import objectives
from recommender.evaluation.__main__ import main as evaluation_cli
from recommender.evaluation.harness import blend_scorer, with_models

SEED = 0


@pytest.fixture(scope="module")
def data(data_dir: Path) -> Dataset:
    return load_dataset(data_dir)


@pytest.fixture(scope="module")
def new_user(data: Dataset) -> ev.Split:
    return ev.new_user_split(data, 5, SEED)


@pytest.fixture(scope="module")
def new_user_recommender(new_user: ev.Split) -> Recommender:
    return ev.fit_local(new_user.train, TrainingConfig())


def test_new_user_split_keeps_test_users_out_of_training(data: Dataset, new_user: ev.Split):
    test_ids = {case.user_id for case in new_user.cases}
    assert test_ids and test_ids.isdisjoint(new_user.train.user_ids.tolist())
    assert len(new_user.train.user_ids) == round(0.8 * len(data.user_ids))
    assert new_user.train.ratings.shape[1] == data.ratings.shape[1]  # the whole catalogue


def test_new_user_cases_reveal_liked_movies_and_target_the_other_liked_ones(
    data: Dataset, new_user: ev.Split
):
    row_of = {int(user): row for row, user in enumerate(data.user_ids)}
    movie_ids = data.movies["movieId"].to_numpy()
    for case in new_user.cases[:20]:
        codes, ratings = ev.user_row(data.ratings, row_of[case.user_id])
        liked = set(movie_ids[codes[ratings >= 4.0]].tolist())
        assert len(case.profile) == 5
        assert set(case.profile) <= liked and all(r >= 4.0 for r in case.profile.values())
        assert set(case.targets.tolist()) == liked - set(case.profile)


def test_splits_are_reproducible(data: Dataset, new_user: ev.Split):
    again = ev.new_user_split(data, 5, SEED)
    assert [c.profile for c in again.cases] == [c.profile for c in new_user.cases]
    other = ev.new_user_split(data, 5, SEED + 1)
    assert {c.user_id for c in other.cases} != {c.user_id for c in new_user.cases}


def test_known_user_split_holds_out_a_fifth_of_each_test_users_ratings(data: Dataset):
    split = ev.known_user_split(data, SEED)
    assert split.train.ratings.nnz + len(split.heldout) == data.ratings.nnz
    _, test_rows = ev.split_users(len(data.user_ids), SEED)
    counts = np.diff(data.ratings.indptr)[test_rows]
    assert len(split.heldout) == sum(max(1, round(0.2 * n)) for n in counts)
    for case in split.cases[:20]:
        assert set(case.targets.tolist()).isdisjoint(case.profile)


def test_the_harness_ranks_exactly_what_recommend_returns(
    new_user: ev.Split, new_user_recommender: Recommender
):
    scorers = ev.product_scorers(new_user_recommender)
    cases = new_user.cases[:5]
    results = ev.rank(new_user_recommender, cases, {"hybrid": scorers["hybrid (default)"]}, 20)
    for case, top in zip(cases, results["hybrid"].lists, strict=True):
        shipped = new_user_recommender.recommend(case.profile, n=20)["movieId"].tolist()
        assert new_user_recommender.movie_ids[top].tolist() == shipped


def test_an_anchor_offered_as_a_part_ranks_as_the_anchor_alone(
    new_user: ev.Split, new_user_recommender: Recommender
):
    """``with_models``: weight on the model's part alone gives the model's own top 20; the
    model is asked once per profile, however many blends use it."""
    ease = ev.Ease(new_user.train.ratings, 500.0)
    asked: list[int] = []

    def model(codes: np.ndarray) -> np.ndarray:
        asked.append(len(codes))
        return ease.scores(codes)

    parts = with_models({"EASE": model})
    scorers = {
        "part": blend_scorer(new_user_recommender, {"EASE": 1.0}, 0.0, parts),
        "mixed": blend_scorer(new_user_recommender, {"EASE": 0.5, "personal": 0.5}, 0.0, parts),
        "anchor": lambda case, scored: ease.scores(scored.request.codes),
    }
    cases = new_user.cases[:5]
    results = ev.rank(new_user_recommender, cases, scorers, 20)
    for part, anchor in zip(results["part"].lists, results["anchor"].lists, strict=True):
        assert part.tolist() == anchor.tolist()
    assert results["mixed"].lists[0].tolist() != results["part"].lists[0].tolist()
    assert asked == [5] * len(cases)


def test_for_user_scorer_ranks_what_for_user_returns(data: Dataset):
    small = ev.subset_users(data, np.arange(60))
    split = ev.known_user_split(small, SEED)
    recommender = ev.fit_local(split.train, TrainingConfig(factors=16))
    case = split.cases[0]
    results = ev.rank(recommender, [case], {"cf": ev.for_user_scorer(recommender)}, 10)
    shipped = recommender.for_user(case.user_id, n=10)["movieId"].tolist()
    assert recommender.movie_ids[results["cf"].lists[0]].tolist() == shipped


def test_ties_go_to_the_lower_movie_id(tiny_data: Path):
    recommender = ev.fit_local(load_dataset(tiny_data), TrainingConfig(factors=2))
    case = ev.Case(1, {1: 5.0}, np.array([2]))
    flat = {"flat": lambda case, scored: np.zeros(len(recommender.movie_ids))}
    top = ev.rank(recommender, [case], flat, 3)["flat"].lists[0]
    assert recommender.movie_ids[top].tolist() == [2, 3, 4]


def test_ease_through_the_users_matrix_equals_the_closed_form():
    rng = np.random.default_rng(0)
    ratings = sp.csr_matrix((rng.random((6, 9)) < 0.4) * 4.0)
    lam = 2.0
    x = (ratings.toarray() > 0).astype(np.float64)
    p = np.linalg.inv(x.T @ x + lam * np.eye(9))
    b = np.eye(9) - p / np.diag(p)  # B = I - P diag(1/diag(P))
    np.fill_diagonal(b, 0.0)  # the closed form's diagonal is zero
    liked = np.array([0, 3])
    expected = b[liked].sum(axis=0)
    np.testing.assert_allclose(ev.Ease(ratings, lam).scores(liked), expected, atol=1e-9)
    primal = ev.Ease(ratings[:, :5].tocsr(), lam)  # fewer movies than users: the primal form
    x5 = x[:, :5]
    p5 = np.linalg.inv(x5.T @ x5 + lam * np.eye(5))
    b5 = np.eye(5) - p5 / np.diag(p5)
    np.testing.assert_allclose(primal.scores(np.array([1])), b5[1], atol=1e-9)


@pytest.mark.parametrize("anchor", [*ev.ANCHORS, ev.EASE_500], ids=lambda a: a.name)
def test_every_anchor_finds_the_planted_answer(anchor: ev.Anchor):
    """Users 0-9 like movies 0-3, users 10-12 movies 4-7: a fan of movie 0 wants 1, 2, 3."""
    rows = [(u, m) for u in range(10) for m in range(4)] + [
        (u, m) for u in range(10, 13) for m in range(4, 8)
    ]
    users, movies = zip(*rows, strict=True)
    ratings = sp.csr_matrix((np.full(len(rows), 4.5), (users, movies)), shape=(13, 8))
    params = anchor.grid[0]
    if "factors" in params:  # the planted structure has rank 2: more factors recover noise
        params = {**params, "factors": 2}
    scores = anchor.fit(ratings, params)(np.array([0]))
    if anchor.name.startswith("popularity"):  # not personal: the most liked movies first
        assert set(np.argsort(-scores, kind="stable")[:4]) == {0, 1, 2, 3}
    else:
        assert set(np.argsort(-np.where(np.arange(8) == 0, -np.inf, scores))[:3]) == {1, 2, 3}


def test_rated_cases_reveal_any_ratings_and_target_the_other_likes(data: Dataset):
    rows = np.arange(40)
    cases = ev.rated_cases(data, rows, 5, SEED)
    row_of = {int(user): row for row, user in enumerate(data.user_ids)}
    movie_ids = data.movies["movieId"].to_numpy()
    low = 0
    for case in cases:
        codes, ratings = ev.user_row(data.ratings, row_of[case.user_id])
        rated = dict(zip(movie_ids[codes].tolist(), ratings.tolist(), strict=True))
        assert len(case.profile) == 5 and all(rated[m] == r for m, r in case.profile.items())
        liked = {m for m, r in rated.items() if r >= 4.0} - set(case.profile)
        assert set(case.targets.tolist()) == liked
        low += sum(r < 3.5 for r in case.profile.values())
    assert low > 0  # some revealed ratings are low: that is the point of the protocol
    dropped = ev.without_low_ratings(cases)
    assert all(r >= 3.5 for case in dropped for r in case.profile.values())
    assert [c.targets.tolist() for c in dropped] == [c.targets.tolist() for c in cases]


def test_the_rule_chooses_ndcg_among_the_blends_that_meet_the_bars():
    bar = objectives.Yardstick(tail=0.1, overlap=0.1, miscalibration=0.6)

    def figures(ndcg, tail, overlap, miscalibration):
        return {
            "criterion": ndcg,
            "tail NDCG@20": tail,
            "overlap": overlap,
            "miscalibration": miscalibration,
        }

    candidates = [
        (figures(0.45, 0.02, 0.30, 0.70), "blockbusters"),  # best NDCG, misses every bar
        (figures(0.40, 0.08, 0.15, 0.55), "fair"),
        (figures(0.398, 0.09, 0.12, 0.50), "fair, longer tail"),  # a tie on NDCG: tail wins
        (figures(0.30, 0.20, 0.05, 0.40), "obscure"),
    ]
    assert objectives.choose(candidates, bar, 20) == "fair, longer tail"
    assert objectives.choose(candidates[:1], bar, 20) == "blockbusters"  # the least miss


def test_the_rating_rule_keeps_dislikes_only_where_they_cost_nothing():
    def rated(with5, dropped5, with10, dropped10):
        return {
            "NDCG@20 rated 5": with5,
            "NDCG@20 dropped 5": dropped5,
            "NDCG@20 rated 10": with10,
            "NDCG@20 dropped 10": dropped10,
        }

    candidates = [
        (rated(0.36, 0.35, 0.40, 0.39), 0.0, "no dislikes"),
        (rated(0.358, 0.35, 0.399, 0.39), 0.5, "dislikes"),  # a tie: the stronger dislike
        (rated(0.37, 0.38, 0.40, 0.39), 1.0, "worse than dropping"),
    ]
    assert objectives.choose_rating_rule(candidates, 20) == "dislikes"
    assert objectives.choose_rating_rule(candidates[2:], 20) == "worse than dropping"


def test_default_hybrid_beats_popularity_for_new_users(data: Dataset):
    result = ev.evaluate(
        data,
        profile_sizes=(5,),
        protocols=(ev.NEW_USER,),
        scorers=("popularity", "seed blend", "hybrid (default)"),
    )
    table = result.table
    assert set(table["scorer"]) == {"popularity", "seed blend", "hybrid (default)"}
    assert (table["users"] > 100).all()
    for column in ("Precision@20", "Recall@20", "NDCG@20", "MAP@20", "coverage"):
        assert table[column].between(0, 1).all()
    hybrid, popularity = result.ndcg("hybrid (default)"), result.ndcg("popularity")
    assert hybrid > popularity and hybrid > result.ndcg("seed blend")
    assert hybrid >= 0.36


def test_bias_baseline_predicts_held_out_ratings_better_than_the_mean(data: Dataset):
    split = ev.known_user_split(data, SEED)
    recommender = ev.fit_local(split.train, TrainingConfig(factors=8))
    errors = ev.rating_errors(recommender, split).set_index("predictor")
    assert errors.loc["bias baseline", "RMSE"] < errors.loc["global mean", "RMSE"]
    assert (errors["ratings"] == len(split.heldout)).all()


def test_another_engine_is_evaluated_through_its_files(data: Dataset):
    """What the Spark engine test does: ``trainer_fit`` around train(data, artifacts, config)."""
    small = ev.subset_users(data, np.arange(0, len(data.user_ids), 3))
    options = {
        "profile_sizes": (5,),
        "protocols": (ev.NEW_USER,),
        "scorers": ("hybrid (default)",),
    }
    config = TrainingConfig(factors=32)
    in_memory = ev.evaluate(small, config, **options)
    from_files = ev.evaluate(small, config, fit=ev.trainer_fit(train), **options)
    assert from_files.ndcg() == pytest.approx(in_memory.ndcg(), abs=1e-6)


def test_cli_writes_tables_and_the_manifest_section(tiny_data: Path, tmp_path: Path, capsys):
    artifacts = tmp_path / "artifacts"
    train(tiny_data, artifacts, TrainingConfig(factors=2))
    out = tmp_path / "out"
    argv = ["--data-dir", str(tiny_data), "--profile-size", "1", "--out", str(out)]
    assert evaluation_cli([*argv, "--artifacts-dir", str(artifacts)]) == 0
    printed = capsys.readouterr().out
    assert "hybrid (default)" in printed and "bias baseline" in printed
    assert {p.name for p in out.iterdir()} >= {"results.csv", "ratings.csv", "evaluation.json"}
    manifest = json.loads(next(artifacts.glob("bundle-*/manifest.json")).read_text())
    assert manifest["evaluation"]["k"] == 20
    assert {row["scorer"] for row in manifest["evaluation"]["results"]} >= {"popularity"}
    assert Recommender.load(artifacts).manifest["evaluation"]["seed"] == 0


def test_cli_names_a_missing_data_folder(tmp_path: Path, capsys):
    assert evaluation_cli(["--data-dir", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err


def test_reference_scores_follow_another_engines_movie_order():
    split_order = np.array([10, 20, 30])
    other_engine = SimpleNamespace(movie_ids=np.array([30, 10, 20]))

    def by_split_code(codes: np.ndarray) -> np.ndarray:  # liked movie 20 (split code 1)
        assert codes.tolist() == [1]
        return np.array([0.1, 0.0, 0.9])  # scores of movies 10, 20, 30

    score = ev.in_recommender_order(by_split_code, other_engine, split_order)
    np.testing.assert_allclose(score(np.array([2])), [0.9, 0.1, 0.0])  # movies 30, 10, 20


def test_ndcg_overview_has_one_column_per_profile_size_then_known_users():
    rows = [
        ("new-user", 3, "hybrid (default)", 0.4, 0.02),
        ("new-user", 1, "hybrid (default)", 0.3, 0.01),
        ("new-user", 1, "popularity", 0.25, float("nan")),
        ("known-user", 0, "hybrid (default)", 0.2, 0.015),
    ]
    table = pd.DataFrame(
        rows, columns=["protocol", "profile_size", "scorer", "NDCG@20", "NDCG@20 se"]
    )
    overview = ev.ndcg_overview(table, 20)
    assert overview.columns.tolist() == ["new user, 1 movie", "new user, 3 movies", "known user"]
    assert overview.loc["hybrid (default)"].tolist() == [
        "0.300 ± 0.010",
        "0.400 ± 0.020",
        "0.200 ± 0.015",
    ]
    assert overview.loc["popularity"].tolist() == ["0.250", "", ""]  # no error bar, no row
