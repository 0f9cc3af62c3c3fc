"""Scale properties, measured in bytes, not seconds (issue 6; docs/scale.md).

- The bundle grows as movies * k plus a few bytes per user and per rating: never users * movies
  (no users x k factors either: a user of the data set is folded in from their ratings).
- Loading memory-maps what can be mapped, and a request allocates nothing proportional to the
  number of users (recommend() is O(movies * k)).

The data sets come from benchmarks/generate_movielens.py, small enough to train in a second.
"""

from __future__ import annotations

import tracemalloc
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from benchmarks import generate_movielens as generator
from recommender import Recommender, TrainingConfig, train
from recommender.bundle import MANIFEST, MOVIES_TABLE, bundle_dir

K = 8  # factors: small, so that k is not confused with any other dimension below
NEIGHBOURS = 10  # links kept per movie: small beside these catalogues of 300-1,200 movies
NPY_HEADER = 128  # bytes of a .npy header for these shapes (numpy pads it to 64-byte blocks)

# Bytes the bundle spends per unit of each dimension (docs/scale.md has the table).
PER_FACTOR_ROW = 2  # float16: personal.item_factors is movies x k
PER_USER = 8 + 8  # user_ids (int64), seen_indptr (int64: one page of movie codes here)
PER_MOVIE = 4 + 4 + 4 + 4  # content.indptr, neighbours.indptr (int32); general_cf.scores and
# personal.item_scale (float32)
PER_NEIGHBOUR = 2 + 4  # neighbours.data (float16), neighbours.indices (int32): at most K per movie
PER_GENRE_ENTRY = 4 + 4  # content.data (float32), content.indices (int32)


def rating_bytes(ratings: int) -> int:
    """seen_movies (uint16) and seen_ratings (two half stars a byte)."""
    return 2 * ratings + -(-ratings // 2)


def _trained(folder: Path, users: int, movies: int, ratings: int, factors: int = K) -> Path:
    """Generate a data set of this shape, train on it and return the artifacts folder."""
    generator.generate(folder / "data", users, movies, ratings, seed=1)
    train(
        folder / "data",
        folder / "artifacts",
        TrainingConfig(factors=factors, neighbours=NEIGHBOURS),
    )
    return folder / "artifacts"


def expected_array_bytes(manifest: dict, genre_entries: int, neighbour_entries: int) -> int:
    """The formula: what the bundle's arrays take for the counts in its manifest."""
    counts = manifest["counts"]
    users, movies, k = counts["users"], counts["movies"], counts["factors"]
    return (
        PER_FACTOR_ROW * movies * k
        + 4 * k  # singular values
        + PER_USER * users
        + 8  # the extra entry of seen_indptr
        + PER_MOVIE * movies
        + 4
        + 4  # the extra entries of content.indptr and neighbours.indptr
        + PER_NEIGHBOUR * neighbour_entries
        + rating_bytes(counts["ratings"])
        + PER_GENRE_ENTRY * genre_entries
        + 4 * counts["genres"]  # content.idf
    )


SHAPES = [  # users x movies grows 16 times over these; the bundle does not
    (200, 300, 6_000),
    (800, 300, 24_000),
    (200, 1_200, 6_000),
    (800, 1_200, 24_000),
]


@pytest.mark.parametrize(("users", "movies", "ratings"), SHAPES)
def test_bundle_bytes_follow_the_formula(tmp_path, users, movies, ratings):
    folder = bundle_dir(_trained(tmp_path, users, movies, ratings))
    rec = Recommender.load(folder)
    arrays = {path.name: path.stat().st_size for path in folder.glob("*.npy")}
    genre_entries = int(rec.scorers["content"].model.matrix.nnz)
    neighbour_entries = int(rec.scorers["neighbours"].similar.nnz)
    assert neighbour_entries <= movies * rec.params["neighbours"]  # K per movie at most
    expected = expected_array_bytes(rec.manifest, genre_entries, neighbour_entries)
    headers = NPY_HEADER * len(arrays)
    assert sum(arrays.values()) == pytest.approx(expected + headers, abs=64 * len(arrays))
    # The movie table and the manifest: a few dozen bytes per movie, nothing per user.
    rest = (folder / MOVIES_TABLE).stat().st_size + (folder / MANIFEST).stat().st_size
    assert rest < 200 * movies + 64_000
    dense = 4 * users * movies  # what one float32 users x movies matrix would take
    assert sum(arrays.values()) < dense / 2  # at 200 x 300 the ratings alone fill 10% of it


def test_doubling_users_adds_their_ids_and_ratings_and_no_more_than_k_links(tmp_path):
    small = bundle_dir(_trained(tmp_path / "a", 400, 500, 12_000))
    large = bundle_dir(_trained(tmp_path / "b", 800, 500, 24_000))
    sizes = [sum(p.stat().st_size for p in b.glob("*.npy")) for b in (small, large)]
    recs = [Recommender.load(b, verify=False) for b in (small, large)]
    counts = [rec.manifest["counts"] for rec in recs]
    added_users = counts[1]["users"] - counts[0]["users"]
    links = [int(rec.scorers["neighbours"].similar.nnz) for rec in recs]
    expected = PER_USER * added_users
    expected += rating_bytes(counts[1]["ratings"]) - rating_bytes(counts[0]["ratings"])
    expected += PER_NEIGHBOUR * (links[1] - links[0])  # more co-ratings: more of the K links
    assert sizes[1] - sizes[0] == expected  # same movies, same genres: nothing else changes
    assert max(links) <= counts[0]["movies"] * recs[0].params["neighbours"]


def _mapped(array: np.ndarray) -> bool:
    """Whether the array's memory belongs to a memory-mapped file (through its .base chain)."""
    while array is not None:
        if isinstance(array, np.memmap):
            return True
        array = array.base if isinstance(array.base, np.ndarray) else None
    return False


def test_users_sized_arrays_are_memory_mapped_not_copied(tmp_path):
    rec = Recommender.load(_trained(tmp_path, 400, 300, 12_000))
    # (the item factors, movies-sized, are stored as float16 and served as a float32 copy)
    assert _mapped(rec.user_ids)
    assert _mapped(rec.history.movies) and _mapped(rec.history.ratings)  # no copy of the ratings


def _peak_bytes(call) -> int:
    """The most memory Python and numpy held at once during ``call()`` (tracemalloc)."""
    call()  # warm caches (e.g. lazily built columns) so that only the request is measured
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_request_allocates_nothing_users_sized(tmp_path):
    few = Recommender.load(_trained(tmp_path / "few", 200, 300, 6_000), verify=False)
    many = Recommender.load(_trained(tmp_path / "many", 16_000, 300, 480_000), verify=False)
    profile = {int(i): 4.5 for i in few.movie_ids[:10]}
    user = int(few.user_ids[0])
    for request in (
        lambda rec: rec.recommend(profile, n=20),
        lambda rec: rec.recommend(list(profile)[:1], n=20),
        lambda rec: rec.for_user(user, n=20),
    ):
        small, large = _peak_bytes(partial(request, few)), _peak_bytes(partial(request, many))
        # 80 times the users, the same movies: the request's memory must not follow the users
        assert large < 1.25 * small + 16_000, (small, large)
        assert large < 8 * len(many.user_ids)  # less than one float64 per user


def _resident_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's /proc")
def test_the_trainer_hands_freed_arrays_back_to_the_system():
    # glibc would keep a freed 24 MB array in its heap once it has seen a larger one freed;
    # the trainer asks it to return every block of 4 MB or more (its peak at 32M: docs/scale.md)
    from recommender.training import give_back_large_arrays

    assert give_back_large_arrays()
    np.ones(30 << 17)  # 30 MB, freed at once: by default this raises glibc's threshold
    block = np.ones(24 << 17)
    before = _resident_mb()
    del block
    assert before - _resident_mb() > 20
