"""The hybrid recommender: one object that loads a bundle and answers every request.

For a session taste profile it asks every registered scorer (``recommender.registry``) for a
score of every movie, puts each on a 0-1 scale over the movies that may be recommended and
blends them with a weight per scorer, by name. The shipped scorers are content (genre TF-IDF
cosine), general CF (the mean predicted rating over all users) and personal CF (the profile
folded into the SVD factors); the seed's blend is ``weights={"content": 0.5, "general_cf":
0.5, "personal": 0}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recommender import arguments, steering
from recommender.bundle import Bundle, BundleError, bundle_version, load_bundle
from recommender.calibration import CANDIDATES_PER_RESULT, calibrated
from recommender.data import MAX_RATING, MIN_RATING
from recommender.discovery import Discovery
from recommender.filters import NO_FILTERS, Filters
from recommender.genres import Genres
from recommender.history import rating_history
from recommender.popularity import Popularity, popular_sample
from recommender.reasons import pick_reasons
from recommender.registry import scorer_class
from recommender.scorer import BundleInfo, Request, ScoredProfile, Scorer
from recommender.steering import Steering
from recommender.titles import TitleSearch

Profile = Mapping[int, float | None] | Sequence[int]
MOVIE_COLUMNS = ("movieId", "title", "genres", "year")
MAX_WEIGHT_SUM = 1e38  # weights are relative; a larger sum would overflow the float32 blend
_SCORING = ("scorers",)  # what a request scores with, let go of by Recommender.close


def rescale(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Min-max scale ``values`` to 0-1 over the entries where ``mask`` is set (0 if constant)."""
    if not mask.any():
        return np.zeros_like(values, dtype=np.float32)
    low, high = values[mask].min(), values[mask].max()
    if high <= low:
        return np.zeros_like(values, dtype=np.float32)
    return ((values - low) / (high - low)).astype(np.float32)


def _one_blas_thread() -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


class Recommender:
    """Recommendations from a trained bundle; see ``Recommender.load``."""

    def __init__(self, bundle: Bundle):
        self.bundle = bundle
        self.manifest: dict[str, Any] = bundle.manifest
        self.movies: pd.DataFrame = bundle.movies
        self.params: dict[str, Any] = bundle.manifest["parameters"]
        self.movie_ids: np.ndarray = self.movies["movieId"].to_numpy(np.int64)
        self._code_of = pd.Index(self.movie_ids)
        self.genres: list[str] = list(self.manifest["genres"])
        self.genre_index = Genres(self.movies, self.genres)
        self.steering = Steering(self.codes_of, self.movies["year"])  # exclude, recency
        arrays = bundle.arrays
        self.history = rating_history(bundle)  # what each user of the data set rated
        self.popularity = Popularity(
            n_ratings=self.movies["n_ratings"].to_numpy(),
            mean_rating=self.movies["mean_rating"].to_numpy(),
            score=self.movies["weighted_rating"].to_numpy(),
            min_votes=float(self.manifest["popularity"]["min_votes"]),
            prior=float(self.manifest["popularity"]["prior"]),
        )
        self.default_weights: dict[str, float] = {
            str(name): float(weight) for name, weight in self.manifest["weights"].items()
        }
        info = BundleInfo(
            self.manifest.get("counts", {}), self.params, tuple(self.genres), self.movies
        )
        self.scorers: dict[str, Scorer] = {
            name: _load_scorer(name, arrays, info) for name in self.default_weights
        }

    @classmethod
    def load(cls, artifacts_dir: str | Path = "artifacts", verify: bool = True) -> Recommender:
        """Load the current bundle in ``artifacts_dir``; raises ``BundleError`` if unusable.

        This is how a serving process starts, so it also holds BLAS to one thread: a request
        is a few matrix-vector products, on which BLAS threads mostly wait for each other (on a
        busy 2-core machine they made recommend() three times slower; docs/scale.md).
        """
        _one_blas_thread()
        return cls(load_bundle(artifacts_dir, verify=verify))

    @staticmethod
    def current_version(artifacts_dir: str | Path) -> str:
        """Which bundle is current in ``artifacts_dir`` and when its manifest last changed
        ("" when there is none): a key that changes whenever ``load`` would load another
        model or other figures."""
        return bundle_version(artifacts_dir)

    def close(self) -> None:
        """Let go of the bundle's arrays (their maps and open files go once no request holds a
        slice of them) and caches, when a newer bundle replaced this model. The catalogue stays
        (movies, genres, user ids) for pages still showing it; scoring raises ``BundleError``."""
        self.history = self.history.closed()  # no mapped or open file of the bundle stays
        self.bundle.arrays.clear()
        for name in (*_SCORING, "title_search", "_table_columns"):
            self.__dict__.pop(name, None)

    def __getattr__(self, name: str) -> Any:  # only reached for what close() let go
        if name in _SCORING:
            raise BundleError("this model was closed (a newer bundle replaced it); load it again")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # --- ids and profiles ------------------------------------------------------------------

    def codes_of(self, movie_ids: Iterable[int]) -> np.ndarray:
        """Movie codes (rows of the bundle) of movieIds; ValueError naming any unknown ones."""
        ids = arguments.movie_ids(movie_ids)
        codes = self._code_of.get_indexer(ids)
        if (codes < 0).any():
            unknown = ", ".join(str(i) for i in ids[codes < 0][:10])
            raise ValueError(f"unknown movieId(s): {unknown}")
        return codes

    def rating_weights(self, ratings: np.ndarray) -> np.ndarray:
        """How much each profile movie counts: a like (above the neutral rating) from just
        above 0 to 1 at 5 stars; a dislike (at or below it) from just below 0 to -1 at half a
        star; no rating (NaN) is a like of 1. Scorers fold in likes only; a dislike only
        pushes its own neighbours down (``recommender.scorer``)."""
        neutral = float(self.params["neutral_rating"])
        ratings = np.asarray(ratings, np.float32)
        like = (ratings - neutral) / (MAX_RATING - neutral)
        dislike = (ratings - neutral) / max(neutral - MIN_RATING, 1e-6) - 1e-3
        weights = np.where(ratings > neutral, like, np.maximum(dislike, -1.0))
        return np.where(np.isnan(ratings), 1.0, weights).astype(np.float32)

    def movie_genres(self, movie_id: int) -> list[str]:
        """The genres of one movie, as tokens ("Sci-Fi" stays whole)."""
        return list(self.genre_index.of_movie[int(self.codes_of([movie_id])[0])])

    def request(
        self,
        profile: Profile,
        filters: Filters = NO_FILTERS,
        profile_genres: Mapping[int, Sequence[str]] | None = None,
        exclude: Iterable[int] | None = None,
    ) -> Request:
        """What every scorer is asked for a profile: its movies, ratings, their weights and
        genres, and the movies that may be recommended (filters passed, not in the profile,
        not excluded)."""
        codes, ratings = self._profile(profile)
        allowed = self.steering.leave_out(self.genre_index.allowed(filters), exclude)
        allowed[codes] = False
        attached = self.genre_index.attached(profile_genres, codes, self.movie_ids[codes])
        genres = tuple(
            tuple(attached.get(int(self.movie_ids[code]), self.genre_index.of_movie[code]))
            for code in codes
        )
        return Request(codes, ratings, self.rating_weights(ratings), genres, allowed)

    def _profile(self, profile: Profile) -> tuple[np.ndarray, np.ndarray]:
        """(movie codes, ratings with NaN for "no rating") of a profile."""
        if isinstance(profile, str | bytes) or not isinstance(profile, Iterable):
            raise ValueError(
                f"profile must map movieIds to ratings or list movieIds, got {profile!r}"
            )
        items = (
            list(profile.items()) if isinstance(profile, Mapping) else [(m, None) for m in profile]
        )
        codes = self.codes_of(movie_id for movie_id, _ in items)
        if len(set(codes.tolist())) < len(codes):
            raise ValueError("profile lists a movieId twice")
        ratings = np.array([arguments.rating(m, r) for m, r in items], dtype=np.float32)
        return codes, ratings

    # --- requests ----------------------------------------------------------------------------

    def recommend(
        self,
        profile: Profile,
        n: int = 20,
        *,
        weights: Mapping[str, float] | None = None,
        filters: Filters = NO_FILTERS,
        profile_genres: Mapping[int, Sequence[str]] | None = None,
        exclude: Iterable[int] | None = None,
        recency: float = 0.0,
        discovery: float | None = None,
    ) -> pd.DataFrame:
        """Recommendations for a taste profile, best first.

        ``profile`` maps movieId to the visitor's rating (0.5-5) or None ("liked it"), or is a
        list of movieIds. ``weights`` maps scorer names (``scorers``) to their weight in the
        blend; the ones not given keep the bundle's defaults. ``filters`` narrows what may be
        recommended; ``profile_genres`` overrides the genres of profile movies (the genres the
        visitor attached). Profile movies are never returned, nor the movieIds in ``exclude``.
        ``discovery`` runs from 0 (what most people with this taste watch next) to 1 (hidden
        gems that fit it); None: the bundle's default (``recommender.discovery``). ``recency``
        tilts the ranking by release year, -1 (classics) to 1 (recent films), 0 no preference
        (``recommender.steering``). An empty profile gives the cold-start list. The result has
        movieId, title, genres, year, score, one ``<scorer>_score`` column per scorer (0-1)
        and a reason in words.
        """
        n = arguments.count(n)
        chosen = self.blend_weights(weights)
        self.discovery.setting(discovery)  # refused before any work
        recency = steering.recency(recency)
        scored = self.score_parts(profile, filters, profile_genres, exclude)
        if len(scored.request) == 0:
            return self._cold_start(n, scored.allowed, discovery=discovery)
        found = self.discovery.scored(scored, chosen, discovery)
        score = self.steering.tilt(found.score, recency)
        top = self.rank(score, scored.request, n, found.calibration, recency)
        result = self._table(top, score, scored.parts)
        result["reason"] = self._reasons(top, scored, chosen)
        return result

    def score_parts(
        self,
        profile: Profile,
        filters: Filters = NO_FILTERS,
        profile_genres: Mapping[int, Sequence[str]] | None = None,
        exclude: Iterable[int] | None = None,
    ) -> ScoredProfile:
        """Every scorer's scores of every movie for a profile, each put on 0-1 over what is
        allowed.

        ``recommend`` blends these; the evaluation calls this and ``blend`` directly so that it
        measures exactly what ships while trying several weights on one computation.
        """
        request = self.request(profile, filters, profile_genres, exclude)
        if len(request) == 0:
            return ScoredProfile(request, {})
        parts = {
            name: _on_unit_scale(scorer, scorer.scores(request), request.allowed)
            for name, scorer in self.scorers.items()
        }
        return ScoredProfile(request, parts)

    def blend_weights(self, weights: Mapping[str, float] | None = None) -> dict[str, float]:
        """The bundle's default weights with ``weights`` in their place; each checked."""
        if weights is None:
            return dict(self.default_weights)
        if not isinstance(weights, Mapping):
            raise ValueError(f"weights must map scorer names to numbers, got {weights!r}")
        unknown = sorted(set(weights) - set(self.scorers))
        if unknown:
            known = ", ".join(self.scorers)
            raise ValueError(
                f"weights: unknown scorer(s) {', '.join(map(str, unknown))}; known: {known}"
            )
        chosen = {
            **self.default_weights,
            **{name: arguments.weight(name, w) for name, w in weights.items()},
        }
        if not any(chosen.values()):
            raise ValueError("weights: at least one weight must be above 0")
        if sum(chosen.values()) > MAX_WEIGHT_SUM:
            raise ValueError(f"weights: their sum must be at most {MAX_WEIGHT_SUM:.0e}: scale them")
        return chosen

    def popular(
        self,
        n: int = 15,
        seed: int | None = None,
        *,
        filters: Filters = NO_FILTERS,
        exclude: Iterable[int] | None = None,
        discovery: float | None = None,
    ) -> pd.DataFrame:
        """The cold-start list: a reproducible sample of top weighted-rating movies.

        ``seed`` None uses the bundle's seed; another seed draws another sample. ``filters``
        narrows the picks as it narrows recommendations (say, to 1990s comedies); the movieIds
        in ``exclude`` are never picked; ``discovery`` (0-1, None: the bundle's) moves them
        towards films fewer people saw.
        """
        seed = None if seed is None else arguments.count(seed, "seed")
        allowed = self.steering.leave_out(self.genre_index.allowed(filters), exclude)
        return self._cold_start(arguments.count(n), allowed, seed, discovery)

    def for_user(
        self, user_id: int, n: int = 20, *, exclude: Iterable[int] | None = None
    ) -> pd.DataFrame:
        """CF recommendations for a user of the data set, leaving out what they rated and the
        movieIds in ``exclude``."""
        request = self._user_request(user_id)
        self.steering.leave_out(request.allowed, exclude)
        personal = self.scorers["personal"]
        score = personal.scores(request)
        top = self.top(score, request.allowed, arguments.count(n))
        result = self._table(top, score, {})
        result["reason"] = personal.reasons(top, request)
        return result

    def user_scores(self, user_id: int) -> np.ndarray:
        """What ``for_user`` ranks by, for every movie: the user's own ratings folded into the
        factors, exactly as a visitor's profile is. It ranks held-out movies better than the
        user's stored factors did (NDCG@20 0.33 against 0.29: docs/evaluation.md)."""
        return self.scorers["personal"].scores(self._user_request(user_id))

    def _user_request(self, user_id: int) -> Request:
        rated, ratings = self._user_row(user_id)
        allowed = np.ones(len(self.movies), bool)
        allowed[rated] = False
        genres = tuple(self.genre_index.of_movie[code] for code in rated)
        return Request(rated, ratings, self.rating_weights(ratings), genres, allowed)

    def _user_row(self, user_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(movie codes, ratings) of what a user of the data set rated."""
        return self.history.row(arguments.user_id(user_id))

    @property
    def user_ids(self) -> np.ndarray:
        """The sorted userIds of the data set (int64)."""
        return self.history.user_ids

    def user_ratings(self, user_id: int) -> pd.DataFrame:
        """What a user of the data set rated, highest first."""
        codes, ratings = self._user_row(user_id)
        order = np.lexsort((self.movie_ids[codes], -ratings))
        table = self.movies.iloc[codes[order]][list(MOVIE_COLUMNS)]
        return table.assign(rating=ratings[order]).reset_index(drop=True)

    def search(self, text: str, n: int = 20) -> pd.DataFrame:
        """Movies whose title matches ``text``, the film most people mean first: case,
        accents, articles and punctuation do not matter, a typo is forgiven, a title can be
        typed from the start of any of its words (``recommender.titles.TitleSearch``)."""
        if not isinstance(text, str):
            raise ValueError(f"search text must be a string, got {text!r}")
        codes = self.title_search.find(text, arguments.count(n))
        return self.movies.iloc[codes][[*MOVIE_COLUMNS, "n_ratings"]].reset_index(drop=True)

    def rank(
        self,
        score: np.ndarray,
        request: Request,
        n: int,
        calibration: float | None = None,
        recency: float = 0.0,
    ) -> np.ndarray:
        """The n movies to show for a request, best first: the best by ``score``, their genre
        mix and decades drawn towards those of the liked profile movies
        (``recommender.calibration``; ``calibration`` None: the bundle's strength, 0: the plain
        top n). A visitor who leans the list by year (``recency``, -1 to 1) leans the
        decades it is drawn to as well (``calibration.leaned``)."""
        strength = float(
            self.params.get("calibration", 0.0) if calibration is None else calibration
        )
        if strength <= 0:
            return self.top(score, request.allowed, n)
        pool = self.top(score, request.allowed, max(CANDIDATES_PER_RESULT * n, 100))
        genres = self.genre_index
        target = genres.target(request, float(recency))
        return calibrated(score, pool, genres.attributes, target, n, strength)

    def top(self, score: np.ndarray, allowed: np.ndarray, n: int) -> np.ndarray:
        """Codes of the n best allowed movies by ``score``; ties go to the lower movieId."""
        candidates = np.flatnonzero(allowed)
        if len(candidates) > n > 0:
            values = score[candidates]
            threshold = np.partition(values, len(values) - n)[len(values) - n]
            candidates = candidates[values >= threshold]  # keeps every tie at the boundary
        order = np.lexsort((self.movie_ids[candidates], -score[candidates]))
        return candidates[order][: max(n, 0)]

    # --- helpers -------------------------------------------------------------------------------

    @cached_property
    def discovery(self) -> Discovery:
        """The discovery path: the default setting and what each setting ranks by."""
        return Discovery(self.popularity, self.params)

    @cached_property
    def title_search(self) -> TitleSearch:
        """The title index, built on the first search: a Recommender that never searches (the
        evaluation, a benchmark) does not pay for it (0.8 s at MovieLens-32M); the app's
        server builds it before its first visitor."""
        return TitleSearch(self.movies["title"].tolist(), self.popularity.n_ratings)

    @cached_property
    def _table_columns(self) -> dict[str, Any]:
        """The movie columns of result tables, as arrays: indexing these costs microseconds
        where ``movies.iloc[top][columns]`` costs milliseconds per request."""
        return {name: self.movies[name].array for name in MOVIE_COLUMNS}

    def _table(
        self, top: np.ndarray, score: np.ndarray, parts: Mapping[str, np.ndarray]
    ) -> pd.DataFrame:
        # One DataFrame from arrays: adding columns one by one costs a millisecond each.
        columns = {name: array[top] for name, array in self._table_columns.items()}
        columns["score"] = score[top].astype(np.float32)
        for name, part in parts.items():
            columns[f"{name}_score"] = part[top]
        return pd.DataFrame(columns)

    def _cold_start(
        self, n: int, allowed: np.ndarray, seed: int | None = None, discovery: float | None = None
    ) -> pd.DataFrame:
        seed = int(self.params["seed"]) if seed is None else seed
        pool_size = int(self.params["popular_pool"])
        top = popular_sample(self.discovery.cold_start(discovery), n, seed, pool_size, allowed)
        table = self._table(top, self.popularity.score, {})
        table["n_ratings"] = self.popularity.n_ratings[top]
        table["mean_rating"] = self.popularity.mean_rating[top]
        table["reason"] = [
            f"popular: {mean:.1f} average from {votes:,} ratings"
            for mean, votes in zip(table["mean_rating"], table["n_ratings"], strict=True)
        ]
        return table

    def _reasons(
        self, top: np.ndarray, scored: ScoredProfile, weights: Mapping[str, float]
    ) -> list[str]:
        """A reason per result from the scorer that contributed most to its score, unless the
        list already gave that reason or the scorer has nothing honest to say: then the next one
        explains it (``recommender.reasons``)."""
        said = {name: scorer.reasons(top, scored.request) for name, scorer in self.scorers.items()}
        parts = {name: weights.get(name, 0.0) * scored.parts[name][top] for name in self.scorers}
        first = [n for n, s in self.scorers.items() if s.reason_first and weights.get(n, 0.0) > 0]
        return pick_reasons(said, parts, first)


def _on_unit_scale(scorer: Scorer, scores: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """A scorer's scores on 0-1: as they are for a scorer whose scores mean something there
    (``unit_range``; below 0 for a movie a dislike pushes away), else stretched over the
    movies that may be recommended."""
    scores = np.asarray(scores)
    if scorer.unit_range:
        return np.clip(scores, -1.0, 1.0).astype(np.float32)
    return rescale(scores, allowed)


def _load_scorer(name: str, arrays: Mapping[str, np.ndarray], info: BundleInfo) -> Scorer:
    """The scorer ``name`` from its arrays (files ``<name>.<array>.npy`` in the bundle)."""
    try:
        scorer = scorer_class(name)
    except KeyError:
        raise BundleError(
            f"the bundle uses a scorer this program does not know: {name!r}; retrain it"
        ) from None
    prefix = f"{name}."
    own = {key[len(prefix) :]: array for key, array in arrays.items() if key.startswith(prefix)}
    return scorer.from_arrays(own, info)
