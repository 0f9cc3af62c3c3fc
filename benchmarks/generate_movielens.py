"""Seeded generator of synthetic MovieLens-format data sets of any size.

Writes ``movies.csv`` (``movieId,title,genres``) and ``ratings.csv``
(``userId,movieId,rating,timestamp``) exactly in the GroupLens layout, with a realistic shape:
Zipf-like movie popularity, log-normal user activity (at least 20 ratings per user), ratings from
a rank-8 latent-factor model plus biases and noise, and genres that correlate with the movie
factors so content-based methods have some signal.

Usage::

    python benchmarks/generate_movielens.py OUT_DIR --users N --movies M --ratings R [--seed S]
    python benchmarks/generate_movielens.py OUT_DIR --preset {small,1m,32m} [--seed S]

The same arguments always produce byte-identical files.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

PRESETS: dict[str, tuple[int, int, int]] = {
    "small": (610, 9_742, 100_836),
    "1m": (6_040, 3_706, 1_000_209),
    "32m": (200_948, 87_585, 32_000_204),
}

GENRES: tuple[str, ...] = (
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
)  # fmt: skip
# Relative genre frequencies, roughly those of MovieLens 32M (Drama and Comedy dominate).
GENRE_WEIGHTS = np.array(
    [0.10, 0.06, 0.04, 0.04, 0.33, 0.07, 0.04, 0.42, 0.04, 0.004, 0.06, 0.005, 0.02,
     0.04, 0.09, 0.04, 0.10, 0.02, 0.01]
)  # fmt: skip
# Mean-rating shift per genre: in MovieLens, horror is rated lower, documentaries and noir higher.
GENRE_BIAS = np.array(
    [-0.05, 0.0, 0.05, -0.1, -0.08, 0.05, 0.2, 0.1, -0.02, 0.25, -0.3, 0.05, 0.0,
     0.05, 0.0, -0.05, -0.03, 0.15, 0.0]
)  # fmt: skip
NO_GENRES = "(no genres listed)"
NO_GENRES_SHARE = 0.02
GENRE_COUNT_PROBS = np.array([0.38, 0.33, 0.19, 0.10])  # P(1..4 genres)
GENRE_FACTOR_STRENGTH = 2.0  # logit shift per unit of factor projection; the genre signal

RANK = 8
GLOBAL_MEAN = 3.6
USER_BIAS_SD = 0.35
MOVIE_BIAS_SD = 0.3
# Each factor entry has this sd so the dot product of two rank-8 vectors has sd ~0.6.
FACTOR_SD = (0.36 / RANK) ** 0.25
NOISE_SD = 0.7
WHOLE_STAR_SHARE = 0.35  # many MovieLens users never use half stars

MIN_RATINGS = 20
ACTIVITY_SIGMA = 1.4  # log-normal sigma: median ~70, mean ~160 ratings per user as in ML-32M
ZIPF_EXPONENT = 1.3
ZIPF_OFFSET = 40.0  # flattens the very top of the popularity curve a little
# Exponential cut-off of the Zipf tail at this popularity rank: the MovieLens 32M tail falls
# faster than a power law (thousands of movies with one or two ratings, some with none), while
# small catalogues such as ML-1M hold only mainstream films and barely feel it.
TAIL_CUTOFF_RANK = 25_000.0

T_START = 789_652_009  # 1995-01-09, the earliest MovieLens timestamp
T_END = 1_697_164_000  # 2023-10-13, the end of MovieLens 32M
SECONDS_PER_YEAR = 31_556_952
YEAR_ZERO_TS = -2_208_988_800  # 1900-01-01

DRAWS_PER_CHUNK = 4_000_000  # bounds per-chunk memory to a few hundred MB
DENSE_FRACTION = 0.25  # users needing more than M/4 draws use a dense Gumbel-top-k instead
HALF_STARS = [f"{x / 2:.1f}" for x in range(1, 11)]

WORDS = [
    "Love", "Night", "Dark", "City", "Last", "Man", "Woman", "Girl", "Boy", "King", "Queen",
    "Dead", "Blood", "Star", "War", "Day", "Time", "Lost", "Secret", "House", "Home", "Summer",
    "Winter", "Fire", "Ice", "Heart", "Dream", "Road", "Story", "Life", "World", "Shadow",
    "River", "Moon", "Sun", "Black", "White", "Red", "Blue", "Golden", "Silent", "Wild",
    "Little", "Big", "Great", "Good", "Bad", "Ghost", "Island", "Mountain", "Sea", "Storm",
    "Angel", "Devil", "Brother", "Sister", "Father", "Mother", "Family", "Friends", "Kiss",
    "Murder", "Mystery", "Legend", "Return", "Rise", "Fall", "Escape", "Hunter", "Killer",
    "Stranger", "Journey", "Empire", "Kingdom", "Planet", "Space", "Robot", "Machine",
    "Dragon", "Wolf", "Tiger", "Horse", "Paradise", "Hell", "Heaven", "Street", "Town",
    "Country", "Garden", "Forest", "Desert", "Train", "Ship", "Bridge", "Song",
    "Dance", "Music", "Game", "Party", "Wedding", "Holiday", "Christmas", "Memory", "Promise",
    "Truth", "Lies", "Revenge", "Justice", "Honor", "Glory", "Crown", "Sword", "Gun", "Money",
    "Diamond", "Gold", "Silver", "Paper", "Glass", "Stone", "Iron", "Steel", "Smoke", "Rain",
    "Snow", "Wind",
]  # fmt: skip
ACCENTED_WORDS = [
    "Amélie", "Café", "Señor", "Noël", "Über", "Déjà", "Crème", "Brûlée", "Mañana", "Fräulein",
    "Smörgåsbord", "Été", "Niño", "Jalapeño", "Naïve", "Fiancée", "Protégé", "Façade",
    "Pokémon", "Müller", "Göteborg", "São", "Zoë", "Björk",
]  # fmt: skip
ARTICLES = ("The", "A", "An")
# P(1..4 words) as a normalised CDF, exactly as Generator.choice builds it.
TITLE_LENGTH_CDF = np.cumsum([0.3, 0.35, 0.25, 0.1])
TITLE_LENGTH_CDF /= TITLE_LENGTH_CDF[-1]


@dataclass
class Movies:
    """Movie side of the model: ids, metadata, latent factors, biases and popularity."""

    ids: np.ndarray  # int64, sorted, with gaps
    titles: list[str]
    genres: list[str]
    release_ts: np.ndarray  # int64 Unix seconds of 1 January of the release year
    factors: np.ndarray  # float32 (M, RANK)
    bias: np.ndarray  # float32 (M,)
    perm: np.ndarray  # popularity rank -> movie index
    popularity: Popularity


@dataclass
class Users:
    """User side of the model: rating counts, factors, biases and rating habits."""

    counts: np.ndarray  # int64 ratings per user
    factors: np.ndarray  # float32 (U, RANK)
    bias: np.ndarray  # float32 (U,)
    whole_stars: np.ndarray  # bool: the user never uses half stars
    start_ts: np.ndarray  # int64 first rating time
    span: np.ndarray  # int64 seconds over which the user rates


# ---------------------------------------------------------------------------- popularity


@dataclass
class Popularity:
    """Sampling weight per popularity rank (descending) and Walker alias table over ranks."""

    weights: np.ndarray  # float64, sums to 1
    prob: np.ndarray  # float64 acceptance probability per slot
    alias: np.ndarray  # int64 fallback rank per slot

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw n ranks with replacement in O(1) each (a CDF search would dominate at 32M)."""
        x = rng.random(n) * len(self.weights)
        slot = x.astype(np.int64)
        # The fractional part is an independent uniform, so one random number per draw suffices.
        return np.where(x - slot < self.prob[slot], slot, self.alias[slot])


def _alias_table(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vose's alias method; a plain Python loop is fast enough for ~10^5 movies."""
    m = len(weights)
    prob = (weights * m).tolist()
    alias = list(range(m))
    small = [i for i, p in enumerate(prob) if p < 1.0]
    large = [i for i, p in enumerate(prob) if p >= 1.0]
    while small and large:
        s, g = small.pop(), large[-1]
        alias[s] = g
        prob[g] -= 1.0 - prob[s]
        if prob[g] < 1.0:
            small.append(large.pop())
    for i in small + large:  # leftovers are 1 up to round-off
        prob[i] = 1.0
    return np.array(prob), np.array(alias, dtype=np.int64)


def make_popularity(m: int, offset: float = ZIPF_OFFSET) -> Popularity:
    """Zipf weights with an exponential tail cut-off, by popularity rank."""
    weights = _zipf_weights(m, offset)
    return Popularity(weights, *_alias_table(weights))


def _zipf_weights(m: int, offset: float) -> np.ndarray:
    rank = np.arange(m, dtype=np.float64)
    weights = (rank + offset) ** -ZIPF_EXPONENT * np.exp(-rank / TAIL_CUTOFF_RANK)
    return weights / weights.sum()


def head_offset(m: int, user_counts: np.ndarray, share: float) -> float:
    """The Zipf offset that makes the most-rated movie rated by about ``share`` of the users
    (``--head-share``; ML-32M's most-rated film has about half of them): a smaller offset
    sharpens the head. A user who rates n movies misses the top one with (1 - w_0)^n (draws
    without replacement make it a little likelier still)."""
    counts = user_counts.astype(np.float64)

    def rated_by(offset: float) -> float:
        top = _zipf_weights(m, offset)[0]
        return float(np.mean(1 - (1 - top) ** counts))

    lo, hi = 1e-3, 1e4  # rated_by falls as the offset grows
    for _ in range(60):
        mid = (lo * hi) ** 0.5
        lo, hi = (mid, hi) if rated_by(mid) > share else (lo, mid)
    return (lo * hi) ** 0.5


# ---------------------------------------------------------------------------- movies


def _movie_ids(rng: np.random.Generator, m: int) -> np.ndarray:
    """Increasing ids starting at 1 with occasional gaps, as in real MovieLens."""
    steps = np.ones(m, dtype=np.int64)
    gap = rng.random(m) < 0.1
    steps[gap] += rng.geometric(0.3, size=int(gap.sum()))
    steps[0] = 1
    return np.cumsum(steps)


def _release_years(rng: np.random.Generator, m: int) -> np.ndarray:
    """Release years skewed towards recent decades, 1902..2023."""
    years = 2023 - np.floor(rng.exponential(18.0, size=m)).astype(np.int64)
    return np.clip(years, 1902, 2023)


def _title_words(rng: np.random.Generator, n: int, accented: bool) -> list[str]:
    """Pick n title words; optionally swap one for a word with non-ASCII accents."""
    words = [WORDS[i] for i in rng.integers(0, len(WORDS), size=n)]
    if accented:
        words[int(rng.integers(0, n))] = ACCENTED_WORDS[int(rng.integers(0, len(ACCENTED_WORDS)))]
    return words


def _title(rng: np.random.Generator, kind: int, year: int) -> str:
    """One MovieLens-style title; `kind` selects the quirk (comma, quotes, accents, a.k.a.)."""
    # Same draw as rng.choice(4, p=...) but without its per-call overhead (~20x faster).
    n = int(TITLE_LENGTH_CDF.searchsorted(rng.random(), side="right")) + 1
    words = _title_words(rng, n, accented=kind == 4)
    base = " ".join(words)
    if kind == 1:  # MovieLens moves leading articles to the end: "Godfather, The"
        base = f"{base}, {ARTICLES[int(rng.integers(0, 3))]}"
    elif kind == 2:
        base = f"{words[0]}, {' '.join(_title_words(rng, n, False))}"
    elif kind == 3:
        base = f'{base} "{_title_words(rng, 1, False)[0]}"'
    elif kind == 5:
        base = f"{base} (a.k.a. {' '.join(_title_words(rng, n, False))})"
    return f"{base} ({year})"


def _titles(rng: np.random.Generator, years: np.ndarray) -> list[str]:
    """Titles for all movies; a few of each quirk are forced so even tiny sets exercise CSV
    quoting and UTF-8."""
    m = len(years)
    # kinds: 0 plain, 1 trailing article, 2 comma, 3 quotes, 4 accented, 5 a.k.a.
    kinds = rng.choice(6, size=m, p=[0.83, 0.08, 0.02, 0.02, 0.03, 0.02])
    if m >= 15:
        forced = rng.choice(m, size=15, replace=False)
        kinds[forced] = np.repeat([1, 2, 3, 4, 5], 3)
    return [_title(rng, k, y) for k, y in zip(kinds.tolist(), years.tolist(), strict=True)]


def _genres(rng: np.random.Generator, factors: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Pick 1-4 genres per movie, tilted by the movie's latent factors.

    Each genre owns a random direction in factor space; projecting the movie factors onto it
    shifts the genre's logit, so genre membership carries information about taste. Sampling
    without replacement uses the Gumbel-top-k trick. Returns strings and a (M, 19) indicator.
    """
    m = factors.shape[0]
    directions = rng.standard_normal((len(GENRES), RANK))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    logits = np.log(GENRE_WEIGHTS) + GENRE_FACTOR_STRENGTH * (factors / FACTOR_SD) @ directions.T
    keys = logits + rng.gumbel(size=logits.shape)
    order = np.argsort(-keys, axis=1)
    n_genres = rng.choice(4, size=m, p=GENRE_COUNT_PROBS) + 1
    member = np.zeros(keys.shape, dtype=bool)
    for j in range(4):
        rows = np.nonzero(n_genres > j)[0]
        member[rows, order[rows, j]] = True
    member[rng.random(m) < NO_GENRES_SHARE] = False
    # MovieLens lists genres alphabetically, which GENRES already is.
    strings = [
        "|".join(g for g, f in zip(GENRES, row, strict=True) if f) or NO_GENRES for row in member
    ]
    return strings, member


def make_movies(rng: np.random.Generator, m: int, offset: float = ZIPF_OFFSET) -> Movies:
    """Build the movie table and the movie side of the rating model."""
    ids = _movie_ids(rng, m)
    years = _release_years(rng, m)
    titles = _titles(rng, years)
    factors = (rng.standard_normal((m, RANK)) * FACTOR_SD).astype(np.float32)
    genres, member = _genres(rng, factors)
    perm = rng.permutation(m)
    popularity = make_popularity(m, offset)
    # Popular movies are rated a little higher in MovieLens; tie bias to log popularity.
    # Centre on the rating-weighted mean so the global mean stays put at any catalogue size.
    w = popularity.weights
    log_w = np.log(w)
    centred = log_w - w @ log_w
    pop_z = np.empty(m)
    pop_z[perm] = centred / (np.sqrt(w @ centred**2) or 1.0)
    n_genres = np.maximum(member.sum(axis=1), 1)
    bias = MOVIE_BIAS_SD * rng.standard_normal(m) + 0.1 * pop_z + member @ GENRE_BIAS / n_genres
    release_ts = YEAR_ZERO_TS + (years - 1900) * SECONDS_PER_YEAR
    return Movies(
        ids, titles, genres, release_ts, factors, bias.astype(np.float32), perm, popularity
    )


# ---------------------------------------------------------------------------- users


def _activity(rng: np.random.Generator, users: int, movies: int, ratings: int) -> np.ndarray:
    """Ratings per user: 20 + scaled log-normal, clipped to the catalogue, summing to ~ratings.

    The scale is found by bisection because clipping heavy users to `movies` removes mass.
    """
    floor = min(MIN_RATINGS, movies)
    raw = rng.lognormal(0.0, ACTIVITY_SIGMA, size=users)
    jitter = rng.random(users)  # stochastic rounding keeps the total unbiased

    def counts(scale: float) -> np.ndarray:
        return np.minimum(np.floor(floor + scale * raw + jitter), movies).astype(np.int64)

    if ratings <= floor * users:
        return counts(0.0)
    lo, hi = 0.0, float(ratings) / raw.sum() * 2 + 1.0
    while counts(hi).sum() < ratings and hi < 1e12:
        hi *= 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if counts(mid).sum() < ratings else (lo, mid)
    return counts(hi)


def make_users(rng: np.random.Generator, users: int, movies: int, ratings: int) -> Users:
    """Build the user side of the rating model."""
    counts = _activity(rng, users, movies, ratings)
    factors = (rng.standard_normal((users, RANK)) * FACTOR_SD).astype(np.float32)
    bias = (USER_BIAS_SD * rng.standard_normal(users)).astype(np.float32)
    whole = rng.random(users) < WHOLE_STAR_SHARE
    start = rng.integers(T_START, T_END, size=users)
    # Most users rate everything in a day or two; a few keep rating for years.
    span = np.exp(rng.normal(np.log(2 * 86_400), 2.5, size=users))
    span = np.minimum(span, T_END - start).astype(np.int64) + 1
    return Users(counts, factors, bias, whole, start, span)


# ---------------------------------------------------------------------------- sampling


def _draws_needed(weights: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Expected number of with-replacement draws that yield k distinct movies.

    E[distinct after N draws] = sum_i 1 - (1 - w_i)^N, tabulated on a log grid and inverted.
    """
    m = len(weights)
    grid = np.unique(np.geomspace(1, 64 * m, 96).astype(np.int64)).astype(np.float64)
    log1m = np.log1p(-weights)
    distinct = np.array([np.sum(-np.expm1(n * log1m)) for n in grid])
    # Beyond the grid the with-replacement route is hopeless; signal it with +inf.
    return np.where(k <= distinct[-1], np.interp(k, distinct, grid), np.inf)


def _first_distinct(
    local_user: np.ndarray, ranks: np.ndarray, need: np.ndarray, m: int
) -> tuple[np.ndarray, np.ndarray]:
    """Keep each user's first `need` distinct draws, in draw order.

    Taking the first k distinct items of a weighted with-replacement stream is exactly
    successive weighted sampling without replacement, so no bias is introduced.
    Returns (keys = local_user * m + rank, ok-mask of users that got enough).
    """
    key = local_user * m + ranks
    _, first = np.unique(key, return_index=True)
    first.sort()
    owner = local_user[first]
    starts = np.searchsorted(owner, np.arange(len(need)))
    rank_in_user = np.arange(len(first)) - starts[owner]
    keep = rank_in_user < need[owner]
    ok = np.bincount(owner, minlength=len(need)) >= need
    return key[first[keep]], ok


def _sample_sparse(
    rng: np.random.Generator, need: np.ndarray, draws: np.ndarray, pop: Popularity
) -> np.ndarray:
    """Sample without replacement for light users; retry short users with twice the draws."""
    m = len(pop.weights)
    out = []
    todo = np.arange(len(need))
    draws = draws.copy()
    while len(todo):
        n = draws[todo]
        local = np.repeat(np.arange(len(todo), dtype=np.int64), n)
        ranks = pop.sample(rng, int(n.sum()))
        keys, ok = _first_distinct(local, ranks, need[todo], m)
        owner = keys // m
        good = ok[owner]
        out.append(todo[owner[good]] * m + keys[good] % m)
        todo = todo[~ok]
        draws[todo] *= 2
    return np.concatenate(out) if out else np.empty(0, dtype=np.int64)


def _sample_dense(rng: np.random.Generator, need: np.ndarray, pop: Popularity) -> np.ndarray:
    """Gumbel-top-k over the whole catalogue for heavy users (few, so a loop is fine)."""
    m = len(pop.weights)
    log_w = np.log(pop.weights)
    out = []
    for i, k in enumerate(need):
        # A user who rates everything needs no sampling (argpartition needs k < m).
        top = np.arange(m) if k >= m else np.argpartition(-(log_w + rng.gumbel(size=m)), k - 1)[:k]
        out.append(i * m + top)
    return np.concatenate(out) if out else np.empty(0, dtype=np.int64)


def sample_chunk(
    rng: np.random.Generator, need: np.ndarray, draws: np.ndarray, pop: Popularity
) -> tuple[np.ndarray, np.ndarray]:
    """Pick the movies (as popularity ranks) rated by a chunk of users.

    Light users sample with replacement and dedup; heavy users, for whom that would need too
    many draws, use a dense Gumbel-top-k. Returns (local user index, popularity rank), unsorted.
    """
    m = len(pop.weights)
    dense = draws > DENSE_FRACTION * m
    light, heavy = np.flatnonzero(~dense), np.flatnonzero(dense)
    light_keys = _sample_sparse(rng, need[light], np.ceil(draws[light]).astype(np.int64), pop)
    heavy_keys = _sample_dense(rng, need[heavy], pop)
    # Both samplers number users within their own subset; map back to chunk positions.
    owner = np.concatenate([light[light_keys // m], heavy[heavy_keys // m]])
    return owner, np.concatenate([light_keys % m, heavy_keys % m])


# ---------------------------------------------------------------------------- ratings


def _rating_codes(
    movies: Movies, users: Users, user: np.ndarray, movie: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Low-rank model + biases + noise, rounded to half (or whole) stars; returns codes 0..9."""
    dot = np.einsum("ij,ij->i", users.factors[user], movies.factors[movie])
    score = GLOBAL_MEAN + users.bias[user] + movies.bias[movie] + dot
    score = score + NOISE_SD * rng.standard_normal(len(user), dtype=np.float32)
    half = np.clip(np.rint(score * 2), 1, 10)
    whole = np.clip(np.rint(score), 1, 5) * 2
    return (np.where(users.whole_stars[user], whole, half) - 1).astype(np.int8)


def _timestamps(
    movies: Movies, users: Users, user: np.ndarray, movie: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Rating times inside each user's active window, never before the movie's release."""
    ts = users.start_ts[user] + (rng.random(len(user)) * users.span[user]).astype(np.int64)
    release = movies.release_ts[movie]
    early = ts < release
    # Nobody can rate a film before it exists; move such ratings into the post-release period.
    late = release[early] + rng.random(int(early.sum())) * (T_END - release[early])
    ts[early] = late.astype(np.int64)
    return ts


def _chunks(cost: np.ndarray) -> list[tuple[int, int]]:
    """Split users into contiguous ranges costing roughly DRAWS_PER_CHUNK draws each."""
    group = (np.cumsum(cost) - cost) // DRAWS_PER_CHUNK
    bounds = [0, *(np.flatnonzero(np.diff(group)) + 1).tolist(), len(cost)]
    return list(itertools.pairwise(bounds))


def _ratings_table(
    first_user: int, local: np.ndarray, movie_idx: np.ndarray, codes: np.ndarray, ts: np.ndarray,
    movie_ids: np.ndarray,
) -> pa.Table:  # fmt: skip
    """Arrow table for one chunk; ratings go through a dictionary so they print as '4.0'."""
    return pa.table(
        {
            "userId": pa.array(local + first_user + 1),
            "movieId": pa.array(movie_ids[movie_idx]),
            "rating": pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(HALF_STARS)),
            "timestamp": pa.array(ts),
        }
    )


def write_ratings(
    path: Path, movies: Movies, users: Users, seed_seq: np.random.SeedSequence
) -> tuple[int, int]:
    """Generate and write ratings.csv chunk by chunk; returns (rows, distinct rated movies)."""
    m = len(movies.ids)
    draws = _draws_needed(movies.popularity.weights, users.counts.astype(np.float64))
    # 10% slack plus a constant keeps most users from needing a second round.
    draws = np.where(np.isfinite(draws), draws * 1.1 + 10, np.inf)
    chunks = _chunks(np.minimum(draws, 4 * m))
    options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
    total = 0
    rated = np.zeros(m, dtype=bool)
    with open(path, "wb") as f:
        f.write(b"userId,movieId,rating,timestamp\n")
        for (lo, hi), ss in zip(chunks, seed_seq.spawn(len(chunks)), strict=True):
            rng = np.random.default_rng(ss)
            local, ranks = sample_chunk(rng, users.counts[lo:hi], draws[lo:hi], movies.popularity)
            # Sorting by (user, movie index) gives MovieLens's (userId, movieId) row order.
            key = np.sort(local * m + movies.perm[ranks])
            local, movie = key // m, key % m
            user = local + lo
            codes = _rating_codes(movies, users, user, movie, rng)
            ts = _timestamps(movies, users, user, movie, rng)
            pa_csv.write_csv(_ratings_table(lo, local, movie, codes, ts, movies.ids), f, options)
            total += len(key)
            rated[movie] = True
    return total, int(rated.sum())


def write_movies(path: Path, movies: pd.DataFrame) -> None:
    """Write movies.csv with minimal CSV quoting, UTF-8 and '\\n' line endings."""
    movies.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


# ---------------------------------------------------------------------------- entry points


def generate(
    out_dir: str | Path,
    users: int,
    movies: int,
    ratings: int,
    seed: int = 0,
    head_share: float | None = None,
) -> dict:
    """Generate movies.csv and ratings.csv in `out_dir`; returns the actual counts.
    ``head_share``: the share of users who rate the most-rated movie (default: the Zipf
    curve's own, about a tenth at the 32m preset)."""
    if users < 1 or movies < 1 or ratings < 0:
        raise ValueError("users and movies must be >= 1 and ratings >= 0")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    movie_ss, user_ss, rating_ss = np.random.SeedSequence(seed).spawn(3)
    user_model = make_users(np.random.default_rng(user_ss), users, movies, ratings)
    offset = (
        ZIPF_OFFSET if head_share is None else head_offset(movies, user_model.counts, head_share)
    )
    movie_model = make_movies(np.random.default_rng(movie_ss), movies, offset)
    table = pd.DataFrame(
        {"movieId": movie_model.ids, "title": movie_model.titles, "genres": movie_model.genres}
    )
    write_movies(out / "movies.csv", table)
    n_ratings, n_rated = write_ratings(out / "ratings.csv", movie_model, user_model, rating_ss)
    return {"users": users, "movies": movies, "ratings": n_ratings, "rated_movies": n_rated}


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line arguments; a preset fills in users, movies and ratings."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("out_dir", type=Path)
    p.add_argument("--preset", choices=sorted(PRESETS))
    p.add_argument("--users", type=int)
    p.add_argument("--movies", type=int)
    p.add_argument("--ratings", type=int, help="target total; the actual count may differ")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--head-share",
        type=float,
        help="share of users who rate the most-rated movie (0-1; ML-32M: about 0.5)",
    )
    args = p.parse_args(argv)
    if args.head_share is not None and not 0 < args.head_share < 1:
        p.error("--head-share must be between 0 and 1")
    if args.preset:
        preset = PRESETS[args.preset]
        args.users = args.users or preset[0]
        args.movies = args.movies or preset[1]
        args.ratings = args.ratings or preset[2]
    if None in (args.users, args.movies, args.ratings):
        p.error("give --preset or all of --users, --movies, --ratings")
    return args


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: generate, then print the actual counts and elapsed time."""
    args = _parse_args(argv)
    start = time.perf_counter()
    counts = generate(
        args.out_dir, args.users, args.movies, args.ratings, args.seed, args.head_share
    )
    elapsed = time.perf_counter() - start
    print(
        f"wrote {args.out_dir}: {counts['users']:,} users, {counts['movies']:,} movies, "
        f"{counts['ratings']:,} ratings ({counts['rated_movies']:,} movies rated) "
        f"in {elapsed:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
