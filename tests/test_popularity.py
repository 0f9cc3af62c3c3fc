"""Weighted-rating popularity on hand-made data with hand-computed expectations."""

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.popularity import fit_popularity, popular_sample, weighted_rating


def test_weighted_rating_matches_the_imdb_formula_by_hand():
    # v=10, R=4, m=10, C=3: 10/20*4 + 10/20*3 = 3.5; v=30, R=5: 30/40*5 + 10/40*3 = 4.5
    result = weighted_rating(np.array([10, 30, 0]), np.array([4.0, 5.0, np.nan]), 10, 3.0)
    np.testing.assert_allclose(result, [3.5, 4.5, 3.0])


def _matrix(rows):
    users, movies, ratings = zip(*rows, strict=True)
    return sp.csr_matrix((ratings, (users, movies)), shape=(max(users) + 1, 4), dtype=np.float32)


def test_fit_uses_the_vote_quantile_and_the_mean_of_movie_means():
    # movie 0: 3 votes mean 4; movie 1: 1 vote of 5; movie 2: 2 votes mean 2; movie 3: unrated
    ratings = _matrix([(0, 0, 4), (1, 0, 5), (2, 0, 3), (0, 1, 5), (0, 2, 1), (1, 2, 3)])
    popularity = fit_popularity(ratings, quantile=0.5)
    assert popularity.min_votes == 2.0  # median of [3, 1, 2]
    assert popularity.prior == pytest.approx((4 + 5 + 2) / 3)
    np.testing.assert_array_equal(popularity.n_ratings, [3, 1, 2, 0])
    c = (4 + 5 + 2) / 3
    expected_0 = 3 / 5 * 4 + 2 / 5 * c
    assert popularity.score[0] == pytest.approx(expected_0, rel=1e-6)
    assert popularity.score[3] == pytest.approx(c, rel=1e-6)  # unrated: the prior
    # qualified: v >= m, so movies 0 and 2 only, best first
    assert popularity.qualified.tolist() == [0, 2]


def test_popular_sample_is_reproducible_in_popularity_order_and_only_from_the_pool():
    rng = np.random.default_rng(1)
    users = rng.integers(0, 200, 4000)
    movies = rng.zipf(1.5, 4000) % 300
    ratings = sp.csr_matrix(
        (rng.integers(1, 11, 4000) / 2, (users, movies)), shape=(200, 300), dtype=np.float32
    )
    popularity = fit_popularity(ratings)
    first = popular_sample(popularity, 10, seed=7, pool_size=30)
    assert first.tolist() == popular_sample(popularity, 10, seed=7, pool_size=30).tolist()
    assert first.tolist() != popular_sample(popularity, 10, seed=8, pool_size=30).tolist()
    assert set(first) <= set(popularity.qualified[:30])
    assert np.all(np.diff(popularity.score[first]) <= 0)  # shown in popularity order
    assert (popularity.n_ratings[first] >= popularity.min_votes).all()


def test_quantile_outside_range_is_refused():
    with pytest.raises(ValueError, match="quantile"):
        fit_popularity(_matrix([(0, 0, 4)]), quantile=1.5)
