"""Item neighbourhoods: the blockwise top-K equals the brute force, on hand-checkable data."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender import neighbours
from recommender.neighbours import at_least, at_most_per_user, cosine, profile_scores, rp3beta


def _random_ratings(users: int = 40, movies: int = 30, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    dense = np.where(rng.random((users, movies)) < 0.3, rng.integers(1, 11, (users, movies)), 0)
    return sp.csr_matrix(dense.astype(np.float32) / 2)  # half stars 0.5-5


def _top_k_dense(full: np.ndarray, k: int) -> np.ndarray:
    """The brute force: each row's k largest positive entries, the diagonal left out."""
    full = full.copy()
    np.fill_diagonal(full, 0.0)
    kept = np.zeros_like(full)
    for row in range(len(full)):
        best = np.argsort(-full[row], kind="stable")[:k]
        best = best[full[row, best] > 0]
        kept[row, best] = full[row, best]
    return kept


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several blocks of rows even on a tiny matrix, so that the blocks' seams are tested."""
    monkeypatch.setattr(neighbours, "ROWS_PER_BLOCK", 7)


def test_cosine_equals_the_brute_force():
    ratings = _random_ratings()
    x = (ratings.toarray() > 0).astype(np.float64)
    co = x.T @ x
    n = x.sum(axis=0)
    shrinkage, asymmetry = 3.0, 0.3
    full = co / (n[:, None] ** asymmetry * n[None, :] ** (1 - asymmetry) + shrinkage)
    got = cosine(ratings, shrinkage, 5, asymmetry).toarray()
    np.testing.assert_allclose(got, _top_k_dense(full, 5), rtol=1e-5)


def test_rp3beta_equals_the_brute_force():
    ratings = _random_ratings(seed=1)
    x = (ratings.toarray() > 0).astype(np.float64)
    p_ui = x / x.sum(axis=1, keepdims=True)  # user -> movie
    p_iu = (x / x.sum(axis=0, keepdims=True)).T  # movie -> user
    alpha, beta = 0.8, 0.4
    walk = (p_iu**alpha) @ (p_ui**alpha) / x.sum(axis=0)[None, :] ** beta
    got = rp3beta(ratings, alpha, beta, 6).toarray()
    np.testing.assert_allclose(got, _top_k_dense(walk, 6), rtol=1e-5)


def test_every_row_keeps_at_most_k_sorted_neighbours_and_never_itself():
    similar = cosine(_random_ratings(seed=2), 1.0, 4)
    assert similar.dtype == np.float32
    for row in range(similar.shape[0]):
        columns = similar.indices[similar.indptr[row] : similar.indptr[row + 1]]
        assert len(columns) <= 4 and row not in columns
        assert list(columns) == sorted(columns)


def test_liked_edges_and_the_per_user_cap():
    ratings = sp.csr_matrix(np.array([[5.0, 3.5, 4.0, 1.0], [4.5, 0, 0, 4.0]]))
    np.testing.assert_array_equal(at_least(ratings, 4.0).toarray() > 0, ratings.toarray() >= 4)
    capped = at_most_per_user(ratings, 2, seed=0)
    np.testing.assert_array_equal(np.diff(capped.indptr), [2, 2])  # the heavy user is sampled
    assert set(zip(*capped.nonzero(), strict=True)) <= set(zip(*ratings.nonzero(), strict=True))
    np.testing.assert_array_equal(at_most_per_user(ratings, 2, 0).toarray(), capped.toarray())


def test_profile_scores_sum_the_profile_rows():
    matrix = sp.csr_matrix(np.array([[0, 1, 2], [3, 0, 0], [0, 5, 0]], dtype=np.float32))
    scores = profile_scores(matrix, np.array([0, 2]), np.array([1.0, -0.5], np.float32))
    np.testing.assert_allclose(scores, [0.0, 1.0 - 2.5, 2.0])


def test_blocks_in_worker_processes_give_the_same_neighbours(monkeypatch: pytest.MonkeyPatch):
    ratings = _random_ratings(users=60, movies=40, seed=3)
    serial = cosine(ratings, 2.0, 6, 0.3)
    monkeypatch.setattr(neighbours, "PARALLEL_NNZ", 0)  # every size goes to the process pool
    parallel = cosine(ratings, 2.0, 6, 0.3)
    assert (serial != parallel).nnz == 0
    np.testing.assert_array_equal(serial.indptr, parallel.indptr)
