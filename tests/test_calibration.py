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


def test_a_genre_every_liked_film_shares_counts_beside_the_mix():
    # a profile of A+B films: the mix is half A, half B, so the genre mix alone takes the
    # higher-scored B films; every liked film also has A, and the shared-genre part keeps A
    from recommender.calibration import attributes, decade_shares, target

    shares = genre_shares(MEMBERSHIP)
    years = np.full(9, 2000.0)
    columns = attributes(shares, MEMBERSHIP, decade_shares(years))
    mix = np.array([0.5, 0.5])
    no_era = np.zeros(1)
    plain = target(mix, np.array([False, False]), no_era)
    shared = target(mix, np.array([True, True]), no_era)
    assert set(calibrated(SCORE, CANDIDATES, columns, plain, 4, 0.3).tolist()) & {4, 5, 6, 7}
    assert calibrated(SCORE, CANDIDATES, columns, shared, 4, 0.3).tolist()[0] == 8


def test_the_decades_of_the_liked_films_pull_the_list_to_them():
    from recommender.calibration import attributes, decade_shares, target

    years = np.array([1960.0, 1965, 1968, 1969, 1995, 1996, 1997, 1998, np.nan])
    decades = decade_shares(years)
    assert decades.shape == (9, 4)  # the 1960s to the 1990s; no year, no decade
    assert decades[8].nnz == 0 and decades[0, 0] == 1 and decades[4, 3] == 1
    columns = attributes(genre_shares(MEMBERSHIP), MEMBERSHIP, decades)
    sixties, nineties = (np.eye(4)[i] * 2 for i in (0, 3))  # two liked films of one decade
    mix, none = np.array([0.5, 0.5]), np.array([False, False])
    for era, films in ((sixties, {0, 1, 2, 3}), (nineties, {4, 5, 6, 7})):
        chosen = set(calibrated(SCORE, CANDIDATES, columns, target(mix, none, era), 4, 0.3))
        assert len(chosen & films) >= 3, chosen  # without the decades: 8, 4, 0, 5


def test_a_visitor_leaning_by_year_leans_the_decades_too():
    from recommender.calibration import LEAN, leaned

    mix = np.array([0.0, 1.0, 0.0])
    np.testing.assert_allclose(leaned(mix, 0.0), mix)
    np.testing.assert_allclose(leaned(mix, -1.0), [LEAN, 1 - LEAN, 0])  # one decade earlier
    np.testing.assert_allclose(leaned(mix, 0.5), [0, 1 - LEAN / 2, LEAN / 2])
    np.testing.assert_allclose(leaned(np.array([1.0, 0, 0]), -1.0), [1, 0, 0])  # the first stays
