"""What each user rated, in both layouts: the local engine's CSR arrays and Spark's part files.

The part files are written here with pyarrow in the layout recommender/history.py documents (the
Spark engine writes them on its executors; tests/test_spark.py checks that path end to end).
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp

from recommender.bundle import BundleError
from recommender.history import PAGE, CsrHistory, PartitionedHistory, history_arrays

BIG = 2**53  # a double cannot tell BIG from BIG + 1
USERS = np.array([3, 5, 8, 13, BIG, BIG + 1, 2**63 - 1], dtype=np.int64)


@pytest.fixture
def ratings() -> sp.csr_matrix:
    """users x 6 movies; every user has a row, user 13 a long one."""
    rng = np.random.default_rng(0)
    dense = np.where(rng.random((len(USERS), 6)) < 0.5, rng.integers(1, 11, (len(USERS), 6)) / 2, 0)
    dense[:, 0] = 4.5  # no empty row
    dense[3] = [5.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    return sp.csr_matrix(dense.astype(np.float32))


def _csr_history(ratings: sp.csr_matrix) -> CsrHistory:
    return CsrHistory(history_arrays(USERS, ratings))


def test_the_compact_history_gives_back_every_row_of_a_catalogue_of_several_pages():
    """Movie codes past 65,536 (a second and third page of uint16 codes), rows of odd and even
    lengths (two ratings share a byte), every half star: each row comes back exactly."""
    rng = np.random.default_rng(1)
    movies = 2 * PAGE + 500
    rows = [np.sort(rng.choice(movies, size, replace=False)) for size in (1, 2, 7, 0, 30, 3, 1)]
    rows[2][-1] = movies - 1  # the last code of the last page
    values = [rng.integers(1, 11, len(row)) / 2 for row in rows]
    matrix = sp.csr_matrix(
        (np.concatenate(values), np.concatenate(rows), np.cumsum([0, *map(len, rows)])),
        shape=(len(USERS), movies),
        dtype=np.float32,
    )
    arrays = history_arrays(USERS, matrix)
    assert arrays["seen_movies"].dtype == np.uint16 and arrays["seen_ratings"].dtype == np.uint8
    assert arrays["seen_ratings"].nbytes == -(-matrix.nnz // 2)
    history = CsrHistory(arrays)
    for user, row, rated in zip(USERS, rows, values, strict=True):
        if len(row) == 0:
            continue
        codes, ratings = history.row(int(user))
        np.testing.assert_array_equal(codes, row)
        np.testing.assert_array_equal(ratings, rated.astype(np.float32))


def _parts(folder: Path, ratings: sp.csr_matrix, cuts: list[int]) -> PartitionedHistory:
    """Part files holding the user rows [cuts[i], cuts[i+1]); row groups of 3 ratings."""
    parts = []
    for number, (start, end) in enumerate(pairwise(cuts)):
        block = ratings[start:end]
        users = np.repeat(USERS[start:end], np.diff(block.indptr))
        table = pa.table(
            [
                pa.array(users, pa.int64()),
                pa.array(block.indices, pa.int32()),
                pa.array(block.data),
            ],
            names=["userId", "movie_code", "rating"],
        )
        name = f"users/part-{number:05d}.parquet"
        (folder / "users").mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / name, row_group_size=3)
        first, last = int(USERS[start]), int(USERS[end - 1])
        parts.append({"file": name, "first_user": first, "last_user": last, "users": end - start})
    return PartitionedHistory(folder, {"count": len(USERS), "parts": parts[::-1]})


def test_both_layouts_hold_the_same_rows(ratings, tmp_path: Path):
    csr, parts = _csr_history(ratings), _parts(tmp_path, ratings, [0, 3, 5, len(USERS)])
    np.testing.assert_array_equal(parts.user_ids, csr.user_ids)
    assert len(parts) == len(csr) == len(USERS)
    for row, user in enumerate(USERS):
        for history in (csr, parts):
            codes, values = history.row(int(user))
            assert codes.dtype == np.int32 and values.dtype == np.float32
            np.testing.assert_array_equal(codes, ratings[row].indices)
            np.testing.assert_array_equal(values, ratings[row].data)
        assert int(user) in csr and int(user) in parts


@pytest.mark.parametrize("user", [0, 4, 14, BIG - 1, BIG + 2, 2**62])
def test_an_unknown_user_is_named(ratings, tmp_path: Path, user: int):
    """Between two users, before the first part, inside a part's range, after the last."""
    for history in (_csr_history(ratings), _parts(tmp_path, ratings, [0, 3, 5, len(USERS)])):
        assert user not in history
        with pytest.raises(ValueError, match=f"unknown userId: {user}"):
            history.row(user)


def test_a_row_is_read_from_the_part_that_holds_it(ratings, tmp_path: Path):
    parts = _parts(tmp_path, ratings, [0, 3, 5, len(USERS)])
    (tmp_path / "users" / "part-00000.parquet").unlink()
    (tmp_path / "users" / "part-00002.parquet").unlink()
    for row in (3, 4):
        np.testing.assert_array_equal(parts.row(int(USERS[row]))[0], ratings[row].indices)


def test_a_part_of_one_user_spanning_row_groups(ratings, tmp_path: Path):
    """User 13 has 6 ratings: two row groups of 3, both read."""
    parts = _parts(tmp_path, ratings, [0, len(USERS)])
    np.testing.assert_array_equal(parts.row(13)[1], [5.0, 0.5, 1.0, 1.5, 2.0, 2.5])


def test_a_closed_history_keeps_the_user_ids_and_reads_no_row(ratings, tmp_path: Path):
    """Recommender.close: no part file stays open; the userIds are read only if asked for."""
    parts = _parts(tmp_path, ratings, [0, 3, 5, len(USERS)])
    parts.row(13)
    assert parts._files  # the part that holds user 13 is open
    closed = parts.closed()
    assert parts._files == {}
    np.testing.assert_array_equal(closed.user_ids, USERS)
    np.testing.assert_array_equal(_csr_history(ratings).closed().user_ids, USERS)
    with pytest.raises(BundleError, match="closed"):
        closed.row(13)
