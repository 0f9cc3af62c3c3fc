"""Honest reasons and ratings that mean what people mean, on the real data's default bundle.

A reason names a profile movie the visitor liked and that really pulls the result up; it never
credits a disliked movie; "similar genres" is high only where genres are shared; a dislike
pushes its own kind down and never turns the list upside down.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from recommender import Recommender
from recommender.evaluation.fan_checks import PANEL, run_panel
from recommender.titles import quoted_title

GODFATHER, GODFATHER_2, GOODFELLAS, TOY_STORY, ALIEN, HEAT = 858, 1221, 1213, 1, 1214, 6
PROFILES = [
    {GODFATHER: 5.0, GOODFELLAS: 0.5},
    {TOY_STORY: 5.0, ALIEN: 4.0, HEAT: 1.5},
    {ALIEN: None},
    {GOODFELLAS: 1.0},
    {TOY_STORY: 3.0, 2571: 4.5, 1258: 2.0, 4993: None},
]


def _title(rec: Recommender, movie_id: int) -> str:
    """The title as a reason quotes it ("The Godfather (1972)")."""
    return quoted_title(str(rec.movies["title"].iat[rec.codes_of([movie_id])[0]]))


def _genres(rec: Recommender, movie_id: int) -> set[str]:
    return set(rec.movie_genres(movie_id))


@pytest.mark.parametrize("profile", PROFILES)
def test_reasons_name_only_liked_profile_movies(recommender: Recommender, profile):
    result = recommender.recommend(profile, n=30)
    liked = {m for m, r in profile.items() if r is None or r > recommender.params["neutral_rating"]}
    for reason in result["reason"]:
        named = [m for m in profile if _title(recommender, m) in reason]
        assert set(named) <= liked, (reason, profile)
        assert reason, "every result has a reason"


@pytest.mark.parametrize("profile", PROFILES)
def test_genre_reasons_and_scores_follow_shared_genres(recommender: Recommender, profile):
    liked = [m for m, r in profile.items() if r is None or r > recommender.params["neutral_rating"]]
    liked_genres = set().union(*(_genres(recommender, m) for m in liked)) if liked else set()
    result = recommender.recommend(profile, n=50)
    for row in result.itertuples():
        shared = _genres(recommender, row.movieId) & liked_genres
        if not shared:
            assert row.content_score == 0.0, row.title  # nothing shared: no genre score
        match = re.fullmatch(r"(.+) like (.+)", row.reason)
        if match and "liked" not in row.reason:
            named = [m for m in liked if _title(recommender, m) == match.group(2)]
            assert named, row.reason
            claimed = set(match.group(1).split(", "))
            assert claimed <= _genres(recommender, row.movieId) & _genres(recommender, named[0])


# at the popular end too: its parts follow likes only, and what a dislike pushes down keeps the
# visitor's share there (recommender.discovery); at 1 the push takes most of the list with it
@pytest.mark.parametrize("discovery", [None, 0.0, 0.25])
def test_a_dislike_pushes_its_own_neighbours_down_and_keeps_the_rest(
    recommender: Recommender, discovery: float | None
):
    loved = recommender.recommend({GODFATHER: 5.0}, n=200, discovery=discovery)
    both = recommender.recommend({GODFATHER: 5.0, GOODFELLAS: 0.5}, n=200, discovery=discovery)
    score = dict(zip(both["movieId"], both["score"], strict=True))
    before = dict(zip(loved["movieId"], loved["score"], strict=True))
    its_kind = recommender.recommend({GOODFELLAS: 5.0}, n=10, discovery=discovery)
    its_kind = its_kind["movieId"].tolist()
    sunk = [m for m in its_kind if m in before and m != GODFATHER]
    ranks_before = [loved["movieId"].tolist().index(m) for m in sunk]
    ranks_after = [both["movieId"].tolist().index(m) if m in score else 200 for m in sunk]
    assert np.mean(ranks_after) > np.mean(ranks_before)
    assert GODFATHER_2 in both["movieId"].head(10).tolist()  # the loved film's world stays
    kept = set(loved["movieId"].head(10)) & set(both["movieId"].head(10))
    assert len(kept) >= 6


def test_three_stars_is_a_mild_like_and_no_rating_a_full_one(recommender: Recommender):
    neutral = recommender.params["neutral_rating"]
    assert neutral < 3.0  # chosen on the rated validation profiles (docs/evaluation.md)
    weights = recommender.rating_weights(np.array([np.nan, 5.0, 4.0, 3.0, neutral, 0.5]))
    assert weights[0] == weights[1] == 1.0
    assert 0 < weights[3] < weights[2] < weights[1]  # 3 stars: a like, a mild one
    assert weights[4] < 0 and weights[5] == -1.0  # at or below neutral: a dislike


# The panel's checks the default does not pass, each with the reason (README, "Fan checks").
# The test fails when another check fails, and when one of these starts to pass (then it comes
# off this list): a shortfall is shown, never hidden.
KNOWN_SHORTFALLS: dict[str, str] = {}  # the family evening came off: 10 of 10 since the
# list is calibrated on the genres every liked film shares (recommender.calibration)


def test_the_fan_checks_pass_but_the_known_shortfalls(recommender: Recommender):
    table = run_panel(recommender)
    assert len(table) == len(PANEL) and table["passed"].notna().all()
    failed = set(table.loc[~table["passed"].astype(bool), "check"])
    assert failed == set(KNOWN_SHORTFALLS), table[["check", "seen"]].to_string()
