"""Item neighbourhoods: the blockwise top-K equals the brute force, on hand-checkable data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from recommender import neighbours, topn
from recommender.data import Dataset, load_dataset
from recommender.neighbours import (
    at_least,
    at_most_per_user,
    cosine,
    cosine_weigh,
    linked_ratings,
    profile_scores,
    rp3beta,
)
from recommender.training import TrainingConfig


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


@pytest.fixture(scope="module")
def movielens(data_dir: Path) -> Dataset:
    return load_dataset(data_dir)


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several blocks of rows even on a tiny matrix, so that the blocks' seams are tested."""
    monkeypatch.setattr(neighbours, "ROWS_PER_BLOCK", 7)
    monkeypatch.setattr(topn, "ROWS_PER_BLOCK", 7)
    monkeypatch.setattr(topn, "SLICE_ENTRIES", 50)  # the candidates cut a slice at a time
    monkeypatch.setattr(neighbours, "COMPILED_NNZ", 0)  # the compiled product at every size


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


def _scipy_cosine(ratings: sp.csr_matrix, shrinkage: float, k: int, asymmetry: float):
    """The shrunk cosine through scipy's sparse products (no stand-in): the reference."""
    edges = sp.csr_matrix(ratings > 0, dtype=np.float32)
    counts = np.bincount(edges.indices, minlength=edges.shape[1])
    return neighbours.top_k_rows(edges, k, cosine_weigh(counts, shrinkage, asymmetry))


def test_blocks_in_worker_processes_give_the_same_neighbours(monkeypatch: pytest.MonkeyPatch):
    ratings = _random_ratings(users=60, movies=40, seed=3)
    serial = _scipy_cosine(ratings, 2.0, 6, 0.3)
    monkeypatch.setattr(neighbours, "PARALLEL_NNZ", 0)  # every size goes to the process pool
    parallel = _scipy_cosine(ratings, 2.0, 6, 0.3)
    assert (serial != parallel).nnz == 0
    np.testing.assert_array_equal(serial.indptr, parallel.indptr)


def _spy_on_scipy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many rows each call of the exact scipy path got (recorded as it runs)."""
    calls: list[int] = []
    exact = topn._scipy_top_k

    def spied(*args):
        calls.append(len(args[-1]))
        return exact(*args)

    monkeypatch.setattr(topn, "_scipy_top_k", spied)
    return calls


def _ties_at_the_cut(seed: int = 5) -> sp.csr_matrix:
    """Many films one person rated: a popular film's links to them all tie (co 1, n 1) at
    its cut (the heavier head's 32M data has about 300 such ties on some rows)."""
    rng = np.random.default_rng(seed)
    popular = (rng.random((60, 20)) < 0.5).astype(np.float32)  # 20 films many people rated
    popular[:, 0] = 1  # film 0: everybody
    loners = np.eye(60, dtype=np.float32)  # 60 films, each rated by one person
    return sp.csr_matrix(np.hstack([popular, loners]))


def _assert_same_lists(got: sp.csr_matrix, reference: sp.csr_matrix) -> None:
    np.testing.assert_array_equal(got.indptr, reference.indptr)
    np.testing.assert_array_equal(got.indices, reference.indices)
    np.testing.assert_array_equal(got.data, reference.data)


def test_the_compiled_product_falls_back_to_scipy_where_its_cut_is_in_doubt(
    monkeypatch: pytest.MonkeyPatch,
):
    """No candidate beyond K in either pass, and one group of rows (its stand-in exact for the
    most rated film only): the other rows whose cut ties cannot be certified and go to the
    scipy path, and the lists are still the scipy path's, row for row."""
    monkeypatch.setattr(topn, "GROUPS", 1)
    monkeypatch.setattr(topn, "MARGIN", 0)
    monkeypatch.setattr(topn, "WIDE_MARGIN", 0)
    scipy_rows = _spy_on_scipy(monkeypatch)
    ratings = _ties_at_the_cut()
    _assert_same_lists(cosine(ratings, 0.5, 25, 0.3), _scipy_cosine(ratings, 0.5, 25, 0.3))
    assert sum(scipy_rows) > 0


def test_a_tie_at_the_cut_is_settled_by_the_wide_pass_not_scipy(monkeypatch: pytest.MonkeyPatch):
    """The first pass's few candidates cannot certify a cut among the ties; the second pass,
    with more candidates than ties, can: no row needs the scipy product, and the lists are the
    scipy path's (a tie goes to the lower column)."""
    monkeypatch.setattr(topn, "GROUPS", 1)
    monkeypatch.setattr(topn, "MARGIN", 2)
    scipy_rows = _spy_on_scipy(monkeypatch)
    ratings = _ties_at_the_cut()
    got = cosine(ratings, 0.5, 25, 0.3)
    assert scipy_rows == []
    _assert_same_lists(got, _scipy_cosine(ratings, 0.5, 25, 0.3))
    assert (got[0].indices >= 20).sum() > 0  # film 0's cut is among the tied loners


def _differ_beyond_ties(new: sp.csr_matrix, old: sp.csr_matrix, rtol: float) -> list[int]:
    """The rows whose neighbours differ other than by which of the similarities tied (within
    ``rtol``) with the row's last one is kept."""
    rows = []
    for row in range(old.shape[0]):
        a, b = slice(*new.indptr[row : row + 2]), slice(*old.indptr[row : row + 2])
        new_values, old_values = new.data[a], old.data[b]
        if len(new_values) != len(old_values):
            rows.append(row)
            continue
        if not np.allclose(np.sort(new_values), np.sort(old_values), rtol=rtol, atol=0):
            rows.append(row)
            continue
        above = old_values.min(initial=np.inf) * (1 + rtol)
        if set(new.indices[a][new_values > above]) != set(old.indices[b][old_values > above]):
            rows.append(row)
    return rows


def test_the_trainers_neighbours_are_the_scipy_paths_on_movielens(movielens):
    """The shrunk cosine the trainer keeps, on ml-latest-small: the compiled product's lists
    are the scipy path's exactly (the co-occurrences are whole numbers, the similarity the same
    float32 arithmetic, a tie broken the same way)."""
    config = TrainingConfig()
    liked = linked_ratings(movielens.ratings, config, movielens.user_ids)
    args = (config.neighbour_shrinkage, config.neighbours, config.neighbour_asymmetry)
    new, old = cosine(liked, *args), _scipy_cosine(liked, *args)
    np.testing.assert_array_equal(new.indptr, old.indptr)
    np.testing.assert_array_equal(new.indices, old.indices)
    np.testing.assert_array_equal(new.data, old.data)


def test_rp3beta_is_the_scipy_paths_up_to_ties_on_movielens(movielens):
    """RP3beta's walk weights are not whole numbers: its similarities may differ in the last
    float32 bit from scipy's, so of two that tie within 1e-6 at a row's cut either may be kept;
    every other neighbour is the same."""
    new = rp3beta(movielens.ratings, 0.8, 0.4, 100)
    edges = sp.csr_matrix(movielens.ratings > 0, dtype=np.float32)
    users = np.maximum(np.diff(edges.indptr), 1).astype(np.float32)
    movies = np.maximum(np.bincount(edges.indices, minlength=edges.shape[1]), 1)
    from_movie, into_movie = movies.astype(np.float32) ** -0.8, movies.astype(np.float32) ** -0.4

    def weigh(block: sp.csr_matrix, rows: np.ndarray) -> None:
        block.data *= from_movie[rows] * into_movie[block.indices]

    old = neighbours.top_k_rows(edges, 100, weigh, users ** np.float32(-0.8))  # scipy's path
    assert _differ_beyond_ties(new, old, rtol=1e-6) == []


def test_the_last_step_keeps_each_rows_k_best_ties_to_the_lower_column():
    # every engine's last step, against a row-by-row sort on blocks full of ties and zeros
    from recommender.topn import block_top_k

    rng = np.random.default_rng(3)
    for _ in range(100):
        n, m, k = int(rng.integers(1, 40)), int(rng.integers(2, 60)), int(rng.integers(0, 9))
        block = sp.random(n, m, density=rng.random(), format="csr", random_state=rng)
        block.data = rng.integers(0, 4, block.nnz).astype(np.float32)
        rows = rng.integers(0, m, n)
        counts, columns, values = block_top_k(block.copy(), rows, k, lambda b, r: None)
        start = 0
        for r in range(n):
            row = block.getrow(r)
            entries = [(-v, c) for c, v in zip(row.indices, row.data, strict=True) if c != rows[r]]
            best = sorted((c, -v) for v, c in sorted(entries)[:k] if v < 0)
            got = list(
                zip(
                    columns[start : start + counts[r]],
                    values[start : start + counts[r]],
                    strict=True,
                )
            )
            assert got == best, (r, k)
            start += counts[r]
