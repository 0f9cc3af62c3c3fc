"""The visitor's steering through the API: films excluded ("Not interested") never come back,
and recency tilts the list by release year without cutting it (recommender.steering)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender import Filters, Recommender

ALIEN, BLADE_RUNNER, TERMINATOR, STAR_WARS = 1214, 541, 1240, 260
FAN = {ALIEN: 5.0, BLADE_RUNNER: 5.0, TERMINATOR: 4.0, STAR_WARS: 4.5, 1200: 4.0}


def test_excluded_films_never_come_back_from_recommend(recommender: Recommender) -> None:
    first = recommender.recommend(FAN, 20)
    hidden = first["movieId"].head(10).tolist()
    again = recommender.recommend(FAN, 20, exclude=hidden)
    assert not set(hidden) & set(again["movieId"])
    assert len(again) == 20
    # not a dislike: the films like the hidden ones stay (the genre mix may reorder them)
    kept = [m for m in first["movieId"] if m not in hidden]
    assert len(set(kept) & set(again["movieId"])) >= 8
    # however deep one digs, with filters and "more like this" (a one-movie profile) too
    deep = recommender.recommend(FAN, 500, exclude=hidden, filters=Filters(("Sci-Fi",)))
    assert not set(hidden) & set(deep["movieId"])
    like = recommender.recommend([ALIEN], 20)["movieId"].head(5).tolist()
    assert not set(like) & set(recommender.recommend([ALIEN], 20, exclude=like)["movieId"])


def test_excluded_films_never_come_back_from_popular_and_for_user(recommender) -> None:
    picks = recommender.popular(15)["movieId"].tolist()
    for seed in (None, 1, 2, 3):
        assert not set(picks) & set(recommender.popular(15, seed, exclude=picks)["movieId"])
    cold = recommender.recommend({}, 15, exclude=picks)  # an empty profile: the cold start
    assert len(cold) == 15 and not set(picks) & set(cold["movieId"])
    mine = recommender.for_user(1, 20)["movieId"].tolist()
    assert not set(mine) & set(recommender.for_user(1, 100, exclude=mine)["movieId"])


def test_exclude_is_checked_like_other_movie_ids(recommender: Recommender) -> None:
    for bad, message in [
        ([999_999_999], "exclude: unknown movieId"),
        ([ALIEN, True], "exclude: movieId must be a whole number, got True"),
        ([1.5], "exclude: movieId must be a whole number, got 1.5"),
        (["1214"], "exclude: movieId must be a whole number"),
        ("1214", "exclude must be a list of movieIds"),
        (1214, "exclude must be a list of movieIds"),
        ([2**70], "exclude: unknown movieId"),
    ]:
        with pytest.raises(ValueError, match=message):
            recommender.recommend(FAN, 5, exclude=bad)
        with pytest.raises(ValueError, match=message):
            recommender.popular(5, exclude=bad)
        with pytest.raises(ValueError, match=message):
            recommender.for_user(1, 5, exclude=bad)
    # what a caller may naturally pass: a NumPy array, a pandas column, a set, 1.0 for 1
    for given in (np.array([ALIEN]), pd.Series([ALIEN]), {ALIEN}, [float(ALIEN)]):
        assert ALIEN not in recommender.recommend([BLADE_RUNNER], 50, exclude=given)["movieId"]


def test_recency_tilts_the_years_of_the_list(recommender: Recommender) -> None:
    years = {
        r: recommender.recommend(FAN, 20, recency=r)["year"].median() for r in (-1, -0.5, 0, 1)
    }
    assert years[-1] <= years[-0.5] <= years[0] < years[1]
    assert years[-1] < years[0]
    default = recommender.recommend(FAN, 20)
    pd.testing.assert_frame_equal(default, recommender.recommend(FAN, 20, recency=0))
    # a tilt, not a cut: the list keeps films from the other end
    recent = recommender.recommend(FAN, 20, recency=1)
    assert recent["year"].min() < 1990


def test_recency_is_checked(recommender: Recommender) -> None:
    for bad in (1.5, -2, float("nan"), float("inf"), True, "1", None):
        with pytest.raises(ValueError, match="recency must be"):
            recommender.recommend(FAN, 5, recency=bad)
