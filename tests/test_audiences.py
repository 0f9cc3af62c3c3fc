"""The audiences' overlap that keeps a series' films together, on the real data: the pairs'
shared raters counted in one pass equal the sets', and the bound that spares most names the full
question never falls below the overlap it stands for (else a series would be lost)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recommender import audiences as audiences_module
from recommender.audiences import Audiences
from recommender.data import Dataset, load_dataset

TOY_STORY, TOY_STORY_2, PSYCHO, PSYCHO_1998 = 1, 3114, 1219, 2389


@pytest.fixture(scope="module")
def data(data_dir: Path) -> Dataset:
    return load_dataset(data_dir)


@pytest.fixture(scope="module")
def audiences(data: Dataset) -> Audiences:
    return Audiences(data.ratings)


def _codes(data: Dataset, *movie_ids: int) -> np.ndarray:
    ids = data.movies["movieId"].to_numpy()
    return np.array([int(np.flatnonzero(ids == movie_id)[0]) for movie_id in movie_ids])


def _pairs(data: Dataset, count: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    n = data.ratings.shape[1]
    first, second = rng.integers(0, n, count), rng.integers(0, n, count)
    popular = np.argsort(-np.bincount(data.ratings.indices, minlength=n))[:40]  # big audiences
    return np.concatenate([first, popular[:20]]), np.concatenate([second, popular[20:]])


@pytest.mark.parametrize("entries", [audiences_module.SHARED_ENTRIES, 500])
def test_shared_raters_are_the_sets_intersection(
    data: Dataset, audiences: Audiences, entries: int, monkeypatch: pytest.MonkeyPatch
):
    """In one pass, and in chunks of 500 raters (dozens of them, and a pair larger alone)."""
    monkeypatch.setattr(audiences_module, "SHARED_ENTRIES", entries)
    first, second = _pairs(data, 300)
    by_movie = data.ratings.tocsc()
    raters = [set(by_movie[:, code].indices) for code in range(by_movie.shape[1])]
    expected = [len(raters[a] & raters[b]) for a, b in zip(first, second, strict=True)]
    assert audiences.shared(first, second).tolist() == expected
    assert max(expected) > 50  # the popular pairs share many raters: not all zeros
    assert Audiences(data.ratings).activity.tolist() == np.diff(data.ratings.indptr).tolist()


def test_the_bound_is_never_below_the_overlap(data: Dataset, audiences: Audiences):
    first, second = _pairs(data, 300)
    bound = audiences.may_overlap(first, second)
    for a, b, most in zip(first, second, bound, strict=True):
        overlap = audiences.overlap(np.array([a, b]))
        assert max(overlap[0, 1], overlap[1, 0]) <= most + 1e-12


def test_a_sequels_audience_overlaps_and_a_remakes_less(data: Dataset, audiences: Audiences):
    toy = audiences.overlap(_codes(data, TOY_STORY, TOY_STORY_2))
    psycho = audiences.overlap(_codes(data, PSYCHO, PSYCHO_1998))
    assert toy[1, 0] > 0.5  # most who rated Toy Story 2 rated Toy Story, far above chance
    assert psycho[0, 1] < toy[0, 1]
