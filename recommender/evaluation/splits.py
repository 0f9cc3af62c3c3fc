"""The protocols' splits: who trains, who is tested, what each test user reveals.

- new user: a test user reveals N movies they liked (rated >= 4); targets: their other likes;
- rated: a test user reveals N movies drawn from all they rated, with the ratings (some low);
  targets: their other likes. "rated, low dropped" is the same profiles without the ratings
  below 3.5: giving the recommender the low ratings must not be worse than hiding them;
- known user: 20% of a test user's ratings are held out; the rest is their profile.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.data import Dataset

RELEVANT_RATING = 4.0  # a rating at or above this marks a movie the user liked

TEST_FRACTION = 0.2  # of users (new-user protocol) and of a test user's ratings (known-user)

VALIDATION_SEED_OFFSET = 1  # the validation split of the train users uses seed + 1

NEW_USER, KNOWN_USER = "new-user", "known-user"
RATED, RATED_DROPPED = "rated", "rated, low dropped"
DROP_BELOW = 3.5  # "rated, low dropped" leaves out the profile ratings below this

TUNE_PROFILE_SIZES = (1, 3, 5, 10)  # the defaults must serve short and long profiles alike


@dataclass(frozen=True)
class Case:
    """One test user's request: what they reveal and what they liked but did not reveal."""

    user_id: int
    profile: dict[int, float]  # movieId -> rating: what the recommender is given
    targets: np.ndarray  # movieIds rated >= RELEVANT_RATING that are not in the profile


@dataclass
class Split:
    """Training data and the test cases of one protocol.

    ``heldout`` (known-user only) is a frame userId, movieId, rating of every held-out rating.
    """

    protocol: str
    train: Dataset
    cases: list[Case]
    profile_size: int | None = None
    heldout: pd.DataFrame | None = None


def split_users(n_users: int, seed: int, fraction: float = TEST_FRACTION) -> tuple:
    """(train rows, test rows), both sorted: a seeded random ``fraction`` of users is test."""
    order = np.random.default_rng(seed).permutation(n_users)
    n_test = max(1, round(fraction * n_users))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def subset_users(data: Dataset, rows: np.ndarray) -> Dataset:
    """The data of some users only (rows sorted, so userIds stay sorted); all movies are kept."""
    return Dataset(data.movies, data.user_ids[rows], data.ratings[rows], [], data.input_files)


def user_row(ratings: sp.csr_matrix, row: int) -> tuple[np.ndarray, np.ndarray]:
    span = slice(ratings.indptr[row], ratings.indptr[row + 1])
    return ratings.indices[span], ratings.data[span]


def new_user_cases(data: Dataset, rows: Iterable[int], profile_size: int, seed: int) -> list[Case]:
    """Cases of the new-user protocol; users with too few liked movies for a target are skipped.

    Each user's profile is drawn with its own seeded generator, so it does not depend on the
    other users or on the order they come in.
    """
    movie_ids = data.movies["movieId"].to_numpy(np.int64)
    cases = []
    for row in rows:
        codes, ratings = user_row(data.ratings, int(row))
        liked = np.flatnonzero(ratings >= RELEVANT_RATING)
        if len(liked) <= profile_size:
            continue
        user_id = int(data.user_ids[row])
        shown = np.random.default_rng([seed, user_id]).choice(liked, profile_size, replace=False)
        profile = {int(movie_ids[codes[i]]): float(ratings[i]) for i in np.sort(shown)}
        targets = movie_ids[codes[np.setdiff1d(liked, shown)]]
        cases.append(Case(user_id, profile, np.sort(targets)))
    return cases


def rated_cases(data: Dataset, rows: Iterable[int], profile_size: int, seed: int) -> list[Case]:
    """Cases of the rated protocol: ``profile_size`` movies drawn from everything the user
    rated, with their ratings; users with no other liked movie to find are skipped."""
    movie_ids = data.movies["movieId"].to_numpy(np.int64)
    cases = []
    for row in rows:
        codes, ratings = user_row(data.ratings, int(row))
        if len(codes) <= profile_size:
            continue
        user_id = int(data.user_ids[row])
        shown = np.random.default_rng([seed, user_id, 1]).choice(len(codes), profile_size, False)
        hidden = np.setdiff1d(np.arange(len(codes)), shown)
        targets = movie_ids[codes[hidden[ratings[hidden] >= RELEVANT_RATING]]]
        if len(targets):
            profile = {int(movie_ids[codes[i]]): float(ratings[i]) for i in np.sort(shown)}
            cases.append(Case(user_id, profile, np.sort(targets)))
    return cases


def without_low_ratings(cases: Sequence[Case], below: float = DROP_BELOW) -> list[Case]:
    """The same cases with the profile ratings below ``below`` left out (a profile may end
    up empty: the recommender then gives its cold-start list)."""
    return [
        Case(case.user_id, {m: r for m, r in case.profile.items() if r >= below}, case.targets)
        for case in cases
    ]


def rated_split(data: Dataset, profile_size: int, seed: int, drop_low: bool = False) -> Split:
    """The rated protocol on the new-user protocol's users (the same training data)."""
    train_rows, test_rows = split_users(len(data.user_ids), seed)
    cases = rated_cases(data, test_rows, profile_size, seed)
    if drop_low:
        cases = without_low_ratings(cases)
    protocol = RATED_DROPPED if drop_low else RATED
    return Split(protocol, subset_users(data, train_rows), cases, profile_size)


def new_user_split(data: Dataset, profile_size: int, seed: int) -> Split:
    """Train on 80% of the users; each of the others reveals ``profile_size`` liked movies."""
    train_rows, test_rows = split_users(len(data.user_ids), seed)
    cases = new_user_cases(data, test_rows, profile_size, seed)
    return Split(NEW_USER, subset_users(data, train_rows), cases, profile_size)


def known_user_split(data: Dataset, seed: int) -> Split:
    """Hold out 20% of each test user's ratings (at least one); train on all the rest."""
    _, test_rows = split_users(len(data.user_ids), seed)
    movie_ids = data.movies["movieId"].to_numpy(np.int64)
    keep = np.ones(data.ratings.nnz, bool)
    cases, heldout = [], []
    for row in test_rows:
        start, end = data.ratings.indptr[row], data.ratings.indptr[row + 1]
        user_id = int(data.user_ids[row])
        n_out = max(1, round(TEST_FRACTION * (end - start)))
        out = start + np.random.default_rng([seed, user_id]).choice(end - start, n_out, False)
        keep[out] = False
        span = np.arange(start, end)
        kept = span[keep[start:end]]
        codes, ratings = data.ratings.indices, data.ratings.data
        profile = {int(movie_ids[codes[i]]): float(ratings[i]) for i in kept}
        targets = np.sort(movie_ids[codes[out][ratings[out] >= RELEVANT_RATING]])
        if len(targets):
            cases.append(Case(user_id, profile, targets))
        heldout.append(pd.DataFrame({"userId": user_id, "movieId": movie_ids[codes[out]]}))
        heldout[-1]["rating"] = ratings[out]
    train = data.ratings.copy()
    train.data = np.where(keep, train.data, 0).astype(train.data.dtype)
    train.eliminate_zeros()  # ratings are >= 0.5, so only the held-out entries are zero
    trained = Dataset(data.movies, data.user_ids, train, [], data.input_files)
    return Split(KNOWN_USER, trained, cases, None, pd.concat(heldout, ignore_index=True))


@dataclass
class Validation:
    """The protocols inside the train users: one training set, cases per profile size."""

    train: Dataset
    cases: dict[int, list[Case]]  # new user
    rated: dict[int, list[Case]]  # rated (the "low dropped" variant: ``without_low_ratings``)


def validation_set(
    data: Dataset, seed: int, profile_sizes: Sequence[int] = TUNE_PROFILE_SIZES
) -> Validation:
    """The train users of the test split, split 80/20 again (seed + 1): never a test user."""
    train_rows, _ = split_users(len(data.user_ids), seed)
    train_users = subset_users(data, train_rows)
    fit_rows, validation_rows = split_users(len(train_rows), seed + VALIDATION_SEED_OFFSET)
    seed += VALIDATION_SEED_OFFSET
    users = (train_users, validation_rows)
    cases = {size: new_user_cases(*users, size, seed) for size in profile_sizes}
    rated = {size: rated_cases(*users, size, seed) for size in profile_sizes}
    return Validation(subset_users(train_users, fit_rows), cases, rated)
