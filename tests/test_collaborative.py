"""SVD factors: predictions on demand, the general CF score and fold-in."""

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.collaborative import effective_factors, fit_svd


def _planted(users=60, movies=40, rank=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((users, rank)) @ rng.random((rank, movies)) * 2  # exact rank 3


def test_fold_in_recovers_a_planted_low_rank_structure():
    full = _planted()
    train, new_user = full[:-1], full[-1]
    model = fit_svd(sp.csr_matrix(train), k=3, seed=0)
    observed = np.arange(0, 40, 2)  # the new user revealed half of the movies
    scores = model.personal_scores(observed, new_user[observed])
    # a zero-filled half row projected on V is not a least-squares fit, so the recovery is
    # approximate; a random model would correlate about 0 with the hidden truth
    hidden = np.setdiff1d(np.arange(40), observed)
    correlation = np.corrcoef(scores[hidden], new_user[hidden])[0, 1]
    assert correlation > 0.8
    everything = model.personal_scores(np.arange(40), new_user)
    np.testing.assert_allclose(everything, new_user, rtol=1e-3, atol=1e-3)  # exact in the span


def test_predictions_and_general_score_match_brute_force():
    full = _planted(seed=2)
    model = fit_svd(sp.csr_matrix(full), k=3, seed=0)
    predicted = model.predict(np.arange(full.shape[0]))
    np.testing.assert_allclose(predicted, full, atol=1e-3)
    np.testing.assert_allclose(model.general_scores(), predicted.mean(axis=0), rtol=1e-4)
    assert model.item_factors.dtype == np.float32 and model.user_factors.dtype == np.float32


def test_centered_variant_adds_the_user_mean_back():
    ratings = sp.csr_matrix(np.array([[5, 4, 0], [1, 0, 2], [0, 3, 3], [4, 4, 5]], float))
    model = fit_svd(ratings, k=2, variant="centered", seed=0)
    np.testing.assert_allclose(model.user_means, [4.5, 1.5, 3.0, 13 / 3], rtol=1e-6)
    with pytest.raises(ValueError, match="variant"):
        fit_svd(ratings, k=2, variant="dense")


def test_shrinkage_keeps_strong_factors_and_damps_weak_ones():
    model = fit_svd(sp.csr_matrix(_planted()), k=3, seed=0, shrinkage=100.0)
    weights = model.fold_in_weights
    s2 = model.singular_values.astype(float) ** 2
    # shrinkage is relative to the largest squared singular value
    np.testing.assert_allclose(weights, s2 / (s2 + 100.0 * s2.max()), rtol=1e-6)
    assert weights[0] > weights[-1]


def test_factors_are_capped_by_the_data_shape():
    assert effective_factors(64, (5, 1000)) == 4
    assert effective_factors(10, (100, 100)) == 10
    with pytest.raises(ValueError):
        effective_factors(0, (10, 10))


def test_longer_profiles_are_shrunk_less():
    model = fit_svd(sp.csr_matrix(_planted()), k=3, seed=0, shrinkage=1.0)
    decaying = dataclasses.replace(model, shrinkage_decay=1.0)
    s2 = model.singular_values.astype(float) ** 2
    expected = s2 / (s2 + 1.0 * s2.max() / 4)  # four movies: shrinkage / 4
    np.testing.assert_allclose(decaying.fold_in_weights_for(4), expected, rtol=1e-6)
    np.testing.assert_allclose(model.fold_in_weights_for(4), model.fold_in_weights, rtol=1e-6)


def test_column_normalisation_is_undone_when_scoring():
    dense = _planted()
    dense[:20, :10] = 0.0  # the first 10 movies have 40 ratings, the others 60
    ratings = sp.csr_matrix(dense)
    scaled = fit_svd(ratings, k=39, seed=0, item_norm_exponent=0.5, n_iter=8)
    counts = np.diff(ratings.tocsc().indptr)
    np.testing.assert_allclose(scaled.item_scale, counts**0.5, rtol=1e-6)
    # with (almost) every factor kept, the predictions are the ratings it was given
    np.testing.assert_allclose(scaled.predict(np.arange(60)), dense, atol=0.05)
