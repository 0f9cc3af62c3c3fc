"""The Recommender API on a bundle trained from the real MovieLens data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender import Filters, Recommender
from recommender.discovery import GEMS_BETA

TOY_STORY, TOY_STORY_2, MATRIX, HEAT, ALIEN = 1, 3114, 2571, 6, 1214


def test_counts_match_the_data_set(recommender: Recommender, data_dir):
    movies = pd.read_csv(data_dir / "movies.csv")
    ratings = pd.read_csv(data_dir / "ratings.csv")
    counts = recommender.manifest["counts"]
    assert counts["movies"] == len(movies) == len(recommender.movies)
    assert counts["users"] == ratings["userId"].nunique()
    assert counts["ratings"] == len(ratings)
    assert counts["rated_movies"] == ratings["movieId"].nunique()


def test_toy_story_profile_recommends_toy_story_2_and_never_itself(recommender):
    result = recommender.recommend({TOY_STORY: 5.0}, n=20)
    assert TOY_STORY_2 in result["movieId"].tolist()
    assert TOY_STORY not in result["movieId"].tolist()
    columns = ["movieId", "title", "genres", "score", "content_score", "general_cf_score"]
    assert set([*columns, "personal_score", "reason"]) <= set(result.columns)
    assert result["reason"].str.len().gt(0).all()


def test_the_list_is_the_blend_reordered_only_for_the_genre_mix(recommender):
    scored = recommender.score_parts({TOY_STORY: 5.0, ALIEN: 4.0})
    # the score at the bundle's discovery (recommender.discovery), as recommend() ranks it
    found = recommender.discovery.scored(scored, recommender.default_weights, None)
    score = found.score
    plain = recommender.rank(score, scored.request, 20, calibration=0.0)
    assert (np.diff(score[plain]) <= 0).all()  # without calibration: best score first
    shipped = recommender.recommend({TOY_STORY: 5.0, ALIEN: 4.0}, n=20)["movieId"].tolist()
    calibrated = recommender.rank(score, scored.request, 20, found.calibration)
    assert recommender.movie_ids[calibrated].tolist() == shipped
    assert found.calibration > 0 and shipped != recommender.movie_ids[plain].tolist()


def test_profile_movies_are_never_recommended_back(recommender):
    profile = {MATRIX: 5.0, HEAT: None, ALIEN: 4.0, TOY_STORY: 3.0}
    result = recommender.recommend(profile, n=200)
    assert not set(profile) & set(result["movieId"])
    assert len(result) == 200


def test_list_profile_equals_unrated_mapping_and_ties_are_deterministic(recommender):
    as_list = recommender.recommend([MATRIX, HEAT], n=30)
    as_map = recommender.recommend({MATRIX: None, HEAT: None}, n=30)
    pd.testing.assert_frame_equal(as_list, as_map)
    again = recommender.recommend([MATRIX, HEAT], n=30)
    pd.testing.assert_frame_equal(as_list, again)
    # ties (same score) are ordered by movieId
    ties = as_list.groupby("score")["movieId"].apply(lambda ids: ids.is_monotonic_increasing)
    assert ties.all()


def test_reasons_are_plain_words_naming_profile_movies(recommender):
    content_only = recommender.recommend(
        {ALIEN: 5.0},
        n=5,
        weights={"content": 1, "general_cf": 0, "personal": 0, "series": 0, "neighbours": 0},
        discovery=1.0,  # the visitor's blend alone (the popular end blends its own)
    )
    assert content_only["reason"].str.endswith("like Alien (1979)").all()
    assert content_only["reason"].str.contains("Sci-Fi|Horror").all()
    personal_only = recommender.recommend(
        {HEAT: 5.0},
        n=5,
        weights={"content": 0, "general_cf": 0, "personal": 1, "series": 0, "neighbours": 0},
        discovery=1.0,
    )
    assert (personal_only["reason"] == "people who liked Heat (1995) liked it").all()


def test_seed_blend_is_reachable_and_differs_from_the_default(recommender):
    seed_blend = recommender.recommend(
        [TOY_STORY],
        n=20,
        weights={"content": 0.5, "general_cf": 0.5, "personal": 0, "neighbours": 0, "series": 0},
        discovery=1.0,  # the visitor's blend alone, with the hidden-gems end's penalty
    )
    assert (seed_blend["personal_score"] >= 0).all()
    expected = 0.5 * seed_blend["content_score"] + 0.5 * seed_blend["general_cf_score"]
    ratings = recommender.popularity.n_ratings[recommender.codes_of(seed_blend["movieId"])]
    penalty = (1.0 + ratings) ** -GEMS_BETA
    np.testing.assert_allclose(seed_blend["score"], expected * penalty, rtol=1e-4)


def test_attached_genres_steer_the_content_score(recommender):
    content_only = {"content": 1, "general_cf": 0, "personal": 0}
    # discovery 1: the visitor's blend alone (the popular end blends its own fold-in)
    as_is = recommender.recommend({TOY_STORY: 5.0}, n=10, weights=content_only, discovery=1.0)
    horror = recommender.recommend(
        {TOY_STORY: 5.0},
        n=10,
        weights=content_only,
        profile_genres={TOY_STORY: ["Horror"]},
        discovery=1.0,
    )
    assert horror["genres"].str.contains("Horror").all()
    assert not as_is["genres"].str.contains("Horror").any()


def test_filters_limit_genres_and_years(recommender):
    result = recommender.recommend(
        [MATRIX], n=20, filters=Filters(["Comedy"], ["Romance"], (1990, 1999))
    )
    assert len(result) == 20
    assert result["genres"].str.contains("Comedy").all()
    assert not result["genres"].str.contains("Romance").any()
    assert result["year"].between(1990, 1999).all()


def test_unknown_movies_and_bad_ratings_are_named(recommender):
    with pytest.raises(ValueError, match="unknown movieId\\(s\\): 999999999"):
        recommender.recommend({999999999: 4.0, TOY_STORY: 5.0})
    with pytest.raises(ValueError, match="rating of movieId 1 must be 0.5-5"):
        recommender.recommend({TOY_STORY: 9.0})


def test_empty_profile_gives_the_reproducible_cold_start_list(recommender):
    cold = recommender.recommend({}, n=15)
    assert cold["movieId"].tolist() == recommender.popular(15)["movieId"].tolist()
    popular = recommender.popular(15, seed=3)
    assert popular["movieId"].tolist() == recommender.popular(15, seed=3)["movieId"].tolist()
    assert popular["movieId"].tolist() != recommender.popular(15, seed=4)["movieId"].tolist()
    min_votes = recommender.manifest["popularity"]["min_votes"]
    assert (popular["n_ratings"] >= min_votes).all()  # qualified movies only, not random films
    assert popular["score"].is_monotonic_decreasing


def test_for_user_excludes_what_they_rated(recommender):
    user = int(recommender.user_ids[0])
    rated = set(recommender.user_ratings(user)["movieId"])
    result = recommender.for_user(user, n=50)
    assert len(result) == 50 and not rated & set(result["movieId"])
    assert result["score"].is_monotonic_decreasing
    assert result["reason"].str.startswith("people who liked").all()
    with pytest.raises(ValueError, match="unknown userId: -5"):
        recommender.for_user(-5)


def test_search_ignores_case_accents_and_trailing_articles(recommender):
    assert recommender.search("matrix")["title"].iloc[0] == "Matrix, The (1999)"
    assert recommender.search("the MATRIX")["title"].iloc[0] == "Matrix, The (1999)"
    # the title is "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)": accents either way
    for query in ("d'amelie poulain", "D'AMÉLIE", "fabuleux destin"):
        assert recommender.search(query)["movieId"].iloc[0] == 4973, query
    assert recommender.search("").empty
    assert len(recommender.search("the", n=7)) == 7


def test_titles_are_not_keys(recommender):
    emma = recommender.movies[recommender.movies["title"] == "Emma (1996)"]
    assert len(emma) == 2  # two movies share this title; movieId tells them apart
    one, other = emma["movieId"].tolist()
    assert recommender.recommend([one], n=5)["movieId"].tolist() != [other] * 5
