"""Steck's calibrated lists, by hand: the genre mix follows the profile's as strength grows."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.calibration import calibrated, genre_shares, profile_mix

# movies 0-3 are genre A only, 4-7 genre B only, 8 is A and B
MEMBERSHIP = sp.csr_matrix(
    np.array([[1, 0]] * 4 + [[0, 1]] * 4 + [[1, 1]], dtype=np.float32), dtype=np.float32
)
# the B films score a little higher than the A films
SCORE = np.array([0.70, 0.69, 0.68, 0.67, 0.80, 0.79, 0.78, 0.77, 0.5])
CANDIDATES = np.argsort(-SCORE, kind="stable")


def test_shares_spread_one_over_each_movies_genres():
    shares = genre_shares(MEMBERSHIP).toarray()
    np.testing.assert_allclose(shares[0], [1, 0])
    np.testing.assert_allclose(shares[8], [0.5, 0.5])
    mix = profile_mix(genre_shares(MEMBERSHIP), np.array([0, 8]), np.array([1.0, 1.0]))
    np.testing.assert_allclose(mix, [0.75, 0.25])


def test_no_strength_is_the_plain_ranking():
    shares, target = genre_shares(MEMBERSHIP), np.array([1.0, 0.0])
    np.testing.assert_array_equal(
        calibrated(SCORE, CANDIDATES, shares, target, 4, 0.0), [4, 5, 6, 7]
    )


def test_an_all_a_profile_gets_a_films_first_when_calibrated():
    shares, target = genre_shares(MEMBERSHIP), np.array([1.0, 0.0])
    chosen = calibrated(SCORE, CANDIDATES, shares, target, 4, 0.5)
    assert set(chosen.tolist()) == {0, 1, 2, 3}  # the genre mix wins over 0.1 of score
    assert chosen.tolist() == [0, 1, 2, 3]  # and among them, the better score first


def test_a_mixed_profile_gets_a_mixed_list():
    shares, target = genre_shares(MEMBERSHIP), np.array([0.5, 0.5])
    chosen = calibrated(SCORE, CANDIDATES, shares, target, 4, 0.5).tolist()
    assert set(chosen) & {0, 1, 2, 3} and set(chosen) & {4, 5, 6, 7}  # some of each
    assert chosen[0] == 8  # the one film with exactly the profile's mix comes first
