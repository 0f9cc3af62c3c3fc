"""The hybrid recommender: one object that loads a bundle and answers every request.

For a session taste profile it blends three scores, each first put on a 0-1 scale over the
movies that can be recommended: content (genre TF-IDF cosine), general CF (the mean predicted
rating over all users) and personal CF (the profile folded into the SVD factors). The seed's
blend, content plus general CF, is ``personal_weight=0``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.bundle import Bundle, load_bundle
from recommender.collaborative import CollaborativeModel
from recommender.content import ContentModel, genre_tokens
from recommender.data import MAX_RATING, MIN_RATING
from recommender.history import rating_history
from recommender.popularity import Popularity, popular_sample

Profile = Mapping[int, float | None] | Sequence[int]
WEIGHT_NAMES = ("content_weight", "general_cf_weight", "personal_weight")
PART_COLUMNS = ("content_score", "general_cf_score", "personal_score")
RESULT_COLUMNS = ["movieId", "title", "genres", "year", "score", *PART_COLUMNS, "reason"]


def normalize_text(text: str) -> str:
    """Lower case without accents, for search: "Amélie" and "AMELIE" both become "amelie"."""
    text = str(text)
    if text.isascii():  # most titles: NFKD changes nothing and nothing is combining
        return " ".join(text.casefold().split())
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(stripped.casefold().split())


def _article_first(title: str) -> str:
    """ "matrix, the (1999)" -> "the matrix (1999)", so a search for "the matrix" finds it."""
    if ", " not in title:  # every marker has one; most titles do not
        return title
    for article in ("the", "a", "an", "les", "la", "le", "il", "el", "die", "der", "das"):
        marker = f", {article} ("
        if marker in title:
            head, tail = title.split(marker, 1)
            return f"{article} {head} ({tail}"
    return title


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


def _optional_array(arrays: Mapping[str, np.ndarray], name: str) -> np.ndarray | None:
    """An array older bundles (or other engines) may not have; None when absent."""
    return np.asarray(arrays[name], dtype=np.float32) if name in arrays else None


def blend(parts: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """The hybrid score: the weighted sum of the 0-1 scaled parts (content, general, personal)."""
    return sum(float(w) * part for w, part in zip(weights, parts, strict=True))


@dataclass
class ScoredProfile:
    """A profile's scores over every movie, before the blend (see ``Recommender.score_parts``)."""

    codes: np.ndarray  # the profile's movie codes
    weights: np.ndarray  # how much each profile movie counts (from its rating)
    genre_lists: list[list[str]]  # the genres of each profile movie
    allowed: np.ndarray  # movies that may be recommended (filters passed, not in the profile)
    parts: list[np.ndarray]  # content, general CF, personal CF: each 0-1 over ``allowed``


class Recommender:
    """Recommendations from a trained bundle; see ``Recommender.load``."""

    def __init__(self, bundle: Bundle):
        self.bundle = bundle
        self.manifest: dict[str, Any] = bundle.manifest
        self.movies: pd.DataFrame = bundle.movies
        arrays, params = bundle.arrays, bundle.manifest["parameters"]
        self.params: dict[str, Any] = params
        self.movie_ids: np.ndarray = self.movies["movieId"].to_numpy(np.int64)
        self._code_of = pd.Index(self.movie_ids)
        self.history = rating_history(bundle)  # what each user of the data set rated
        self.genres: list[str] = list(self.manifest["genres"])
        content = sp.csr_matrix(
            (arrays["content_data"], arrays["content_indices"], arrays["content_indptr"]),
            shape=(len(self.movies), len(self.genres)),
        )
        self.content = ContentModel(content, self.genres, np.asarray(arrays["genre_idf"]))
        self._genre_columns = content.tocsc()
        self.cf = CollaborativeModel(
            item_factors=arrays["item_factors"],
            singular_values=np.asarray(arrays["singular_values"]),
            user_factors=_optional_array(arrays, "user_factors"),  # no Spark bundle has them
            user_means=_optional_array(arrays, "user_means"),
            variant=params["variant"],
            shrinkage=float(params["shrinkage"]),
            item_scale=_optional_array(arrays, "item_scale"),
            shrinkage_decay=float(params.get("shrinkage_decay", 0.0)),
        )
        self.popularity = Popularity(
            n_ratings=self.movies["n_ratings"].to_numpy(),
            mean_rating=self.movies["mean_rating"].to_numpy(),
            score=self.movies["weighted_rating"].to_numpy(),
            min_votes=float(self.manifest["popularity"]["min_votes"]),
            prior=float(self.manifest["popularity"]["prior"]),
        )
        self._general = np.asarray(arrays["general_cf"], dtype=np.float32)
        self.default_weights: dict[str, float] = {
            name: float(params[name]) for name in WEIGHT_NAMES
        }

    @cached_property
    def _search_keys(self) -> pd.Series:
        """Normalised titles, built on the first search: a Recommender that never searches
        (the evaluation, a benchmark) does not pay for 87,585 titles at MovieLens-32M."""
        titles = self.movies["title"].map(normalize_text)
        return titles.str.cat(titles.map(_article_first), sep=" | ")

    @cached_property
    def _table_columns(self) -> dict[str, Any]:
        """The movie columns of result tables, as arrays: indexing these costs microseconds
        where ``movies.iloc[top][columns]`` costs milliseconds per request."""
        return {name: self.movies[name].array for name in ("movieId", "title", "genres", "year")}

    @cached_property
    def _titles(self) -> np.ndarray:
        return self.movies["title"].to_numpy()

    @classmethod
    def load(cls, artifacts_dir: str | Path = "artifacts", verify: bool = True) -> Recommender:
        """Load the current bundle in ``artifacts_dir``; raises ``BundleError`` if unusable.

        This is how a serving process starts, so it also holds BLAS to one thread: a request
        is a few matrix-vector products, on which BLAS threads mostly wait for each other (on a
        busy 2-core machine they made recommend() three times slower; docs/scale.md).
        """
        _one_blas_thread()
        return cls(load_bundle(artifacts_dir, verify=verify))

    # --- ids and profiles ------------------------------------------------------------------

    def codes_of(self, movie_ids: Iterable[int]) -> np.ndarray:
        """Movie codes (rows of the bundle) of movieIds; ValueError naming any unknown ones."""
        ids = np.asarray(list(movie_ids), dtype=np.int64)
        codes = self._code_of.get_indexer(ids)
        if (codes < 0).any():
            unknown = ", ".join(str(i) for i in ids[codes < 0][:10])
            raise ValueError(f"unknown movieId(s): {unknown}")
        return codes

    def _profile(self, profile: Profile) -> tuple[np.ndarray, np.ndarray]:
        """(movie codes, weights) of a profile; see ``rating_weights``."""
        items = (
            list(profile.items()) if isinstance(profile, Mapping) else [(m, None) for m in profile]
        )
        codes = self.codes_of(int(movie_id) for movie_id, _ in items)
        ratings = np.array(
            [np.nan if rating is None else float(rating) for _, rating in items], dtype=np.float32
        )
        outside = ~np.isnan(ratings) & ((ratings < MIN_RATING) | (ratings > MAX_RATING))
        if outside.any():
            movie_id, rating = items[int(np.flatnonzero(outside)[0])]
            raise ValueError(f"rating of movieId {movie_id} must be 0.5-5, got {rating}")
        return codes, self.rating_weights(ratings)

    def rating_weights(self, ratings: np.ndarray) -> np.ndarray:
        """How much each rated movie counts: 1 at 5 stars, 0 at the neutral rating, negative
        below it (a disliked movie pushes its neighbours down); NaN (no rating) counts as 1."""
        neutral = float(self.params["neutral_rating"])
        weights = (np.asarray(ratings, np.float32) - neutral) / (MAX_RATING - neutral)
        return np.where(np.isnan(weights), 1.0, weights).astype(np.float32)

    def movie_genres(self, movie_id: int) -> list[str]:
        """The genres of one movie, as tokens ("Sci-Fi" stays whole)."""
        code = int(self.codes_of([movie_id])[0])
        return genre_tokens(self.movies["genres"].iat[code])

    # --- requests ----------------------------------------------------------------------------

    def recommend(
        self,
        profile: Profile,
        n: int = 20,
        *,
        content_weight: float | None = None,
        general_cf_weight: float | None = None,
        personal_weight: float | None = None,
        profile_genres: Mapping[int, Sequence[str]] | None = None,
        include_genres: Sequence[str] = (),
        exclude_genres: Sequence[str] = (),
        years: tuple[int, int] | None = None,
    ) -> pd.DataFrame:
        """Recommendations for a taste profile, best first.

        ``profile`` maps movieId to the visitor's rating (0.5-5) or None ("liked it"), or is a
        list of movieIds. ``profile_genres`` overrides the genres of profile movies (the genres
        the visitor attached). Weights default to the bundle's. The filters keep movies with any
        of ``include_genres``, none of ``exclude_genres`` and a year within ``years``. Profile
        movies are never returned. An empty profile gives the cold-start list.
        """
        allowed = self._filter_mask(include_genres, exclude_genres, years)
        scored = self.score_parts(profile, allowed, profile_genres)
        if len(scored.codes) == 0:
            return self._cold_start(n, allowed)
        chosen = self._weights(content_weight, general_cf_weight, personal_weight)
        score = blend(scored.parts, chosen)
        top = self._top(score, scored.allowed, n)
        result = self._table(top, score, scored.parts)
        result["reason"] = self._reasons(
            top, scored.parts, chosen, scored.codes, scored.weights, scored.genre_lists
        )
        return result

    def score_parts(
        self,
        profile: Profile,
        allowed: np.ndarray | None = None,
        profile_genres: Mapping[int, Sequence[str]] | None = None,
    ) -> ScoredProfile:
        """The three scores of every movie for a profile, each put on 0-1 over what is allowed.

        ``recommend`` blends these; the evaluation calls this and ``blend`` directly so that it
        measures exactly what ships while trying several weights on one computation.
        """
        codes, weights = self._profile(profile)
        allowed = np.ones(len(self.movies), bool) if allowed is None else allowed.copy()
        allowed[codes] = False
        genre_lists = self._profile_genre_lists(codes, profile_genres)
        if len(codes) == 0:
            return ScoredProfile(codes, weights, genre_lists, allowed, [])
        raw = (
            self.content.scores(self.content.profile_vector(genre_lists, weights)),
            self._general,
            self.cf.personal_scores(codes, weights),
        )
        parts = [rescale(part, allowed) for part in raw]
        return ScoredProfile(codes, weights, genre_lists, allowed, parts)

    def popular(
        self,
        n: int = 15,
        seed: int | None = None,
        *,
        include_genres: Sequence[str] = (),
        exclude_genres: Sequence[str] = (),
        years: tuple[int, int] | None = None,
    ) -> pd.DataFrame:
        """The cold-start list: a reproducible sample of top weighted-rating movies.

        ``seed`` None uses the bundle's seed; another seed draws another sample. The filters
        are ``recommend``'s, so a visitor can narrow the picks (say, to 1990s comedies).
        """
        allowed = self._filter_mask(include_genres, exclude_genres, years)
        return self._cold_start(n, allowed, seed)

    def for_user(self, user_id: int, n: int = 20) -> pd.DataFrame:
        """CF recommendations for a user of the data set, leaving out what they rated."""
        rated, ratings = self._user_row(user_id)
        score = self.user_scores(user_id)
        allowed = np.ones(len(self.movies), bool)
        allowed[rated] = False
        top = self._top(score, allowed, n)
        result = self._table(top, score, [])
        weights = self.rating_weights(ratings)
        result["reason"] = [self._personal_reason(code, rated, weights) for code in top]
        return result

    def user_scores(self, user_id: int) -> np.ndarray:
        """What ``for_user`` ranks by, for every movie: the user's own ratings folded into the
        factors, exactly as a visitor's profile is. It ranks held-out movies better than the
        user's stored factors do (NDCG@20 0.33 against 0.29: docs/evaluation.md)."""
        rated, ratings = self._user_row(user_id)
        return self.cf.personal_scores(rated, self.rating_weights(ratings))

    def _user_row(self, user_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(movie codes, ratings) of what a user of the data set rated."""
        return self.history.row(user_id)

    @property
    def user_ids(self) -> np.ndarray:
        """The sorted userIds of the data set (int64)."""
        return self.history.user_ids

    def user_ratings(self, user_id: int) -> pd.DataFrame:
        """What a user of the data set rated, highest first."""
        codes, ratings = self._user_row(user_id)
        order = np.lexsort((self.movie_ids[codes], -ratings))
        table = self.movies.iloc[codes[order]][["movieId", "title", "genres", "year"]]
        return table.assign(rating=ratings[order]).reset_index(drop=True)

    def search(self, text: str, n: int = 20) -> pd.DataFrame:
        """Movies whose title contains ``text``, ignoring case and accents; best known first."""
        query = normalize_text(text)
        if not query:
            return self.movies.iloc[[]][["movieId", "title", "genres", "year"]]
        hits = np.flatnonzero(self._search_keys.str.contains(query, regex=False).to_numpy())
        starts = self._search_keys.iloc[hits].str.startswith(query).to_numpy()
        order = np.lexsort((self.movie_ids[hits], -self.popularity.n_ratings[hits], ~starts))
        table = self.movies.iloc[hits[order][:n]]
        return table[["movieId", "title", "genres", "year", "n_ratings"]].reset_index(drop=True)

    # --- helpers -------------------------------------------------------------------------------

    def _weights(self, *given: float | None) -> tuple[float, ...]:
        return tuple(
            self.default_weights[name] if value is None else float(value)
            for name, value in zip(WEIGHT_NAMES, given, strict=True)
        )

    def _profile_genre_lists(
        self, codes: np.ndarray, profile_genres: Mapping[int, Sequence[str]] | None
    ) -> list[list[str]]:
        attached = dict(profile_genres or {})
        return [
            list(attached.get(int(self.movie_ids[code]), self.content.movie_genres(code)))
            for code in codes
        ]

    def _filter_mask(
        self,
        include_genres: Sequence[str],
        exclude_genres: Sequence[str],
        years: tuple[int, int] | None,
    ) -> np.ndarray:
        allowed = np.ones(len(self.movies), bool)
        if include_genres:
            allowed &= self._has_any_genre(include_genres)
        if exclude_genres:
            allowed &= ~self._has_any_genre(exclude_genres)
        if years is not None:
            year = self.movies["year"].to_numpy(dtype=np.float64, na_value=np.nan)
            allowed &= (year >= years[0]) & (year <= years[1])
        return allowed

    def _has_any_genre(self, genres: Sequence[str]) -> np.ndarray:
        columns = [self.genres.index(g) for g in genres if g in self.genres]
        if not columns:
            return np.zeros(len(self.movies), bool)
        return np.asarray(self._genre_columns[:, columns].getnnz(axis=1) > 0).ravel()

    def _top(self, score: np.ndarray, allowed: np.ndarray, n: int) -> np.ndarray:
        """Codes of the n best allowed movies; ties go to the lower movieId."""
        candidates = np.flatnonzero(allowed)
        if len(candidates) > n > 0:
            values = score[candidates]
            threshold = np.partition(values, len(values) - n)[len(values) - n]
            candidates = candidates[values >= threshold]  # keeps every tie at the boundary
        order = np.lexsort((self.movie_ids[candidates], -score[candidates]))
        return candidates[order][: max(n, 0)]

    def _table(self, top: np.ndarray, score: np.ndarray, parts: list[np.ndarray]) -> pd.DataFrame:
        # One DataFrame from arrays: adding columns one by one costs a millisecond each.
        columns = {name: array[top] for name, array in self._table_columns.items()}
        columns["score"] = score[top].astype(np.float32)
        for column, part in zip(PART_COLUMNS, parts, strict=False):
            columns[column] = part[top]
        return pd.DataFrame(columns)

    def _cold_start(self, n: int, allowed: np.ndarray, seed: int | None = None) -> pd.DataFrame:
        seed = int(self.params["seed"]) if seed is None else seed
        pool_size = int(self.params["popular_pool"])
        top = popular_sample(self.popularity, n, seed, pool_size, allowed)
        table = self._table(top, self.popularity.score, [])
        table["n_ratings"] = self.popularity.n_ratings[top]
        table["mean_rating"] = self.popularity.mean_rating[top]
        table["reason"] = [
            f"popular: {mean:.1f} average from {votes:,} ratings"
            for mean, votes in zip(table["mean_rating"], table["n_ratings"], strict=True)
        ]
        return table

    def _reasons(
        self,
        top: np.ndarray,
        scaled: list[np.ndarray],
        weights: tuple[float, ...],
        codes: np.ndarray,
        profile_weights: np.ndarray,
        genre_lists: list[list[str]],
    ) -> list[str]:
        """A short reason per result, from the part that contributed most to its score."""
        profile_vectors = np.array([self.content.vectorize(g) for g in genre_lists])
        similarity = (self.content.matrix[top] @ profile_vectors.T) * profile_weights
        reasons = []
        for row, code in enumerate(top):
            contributions = [w * part[code] for w, part in zip(weights, scaled, strict=True)]
            strongest = int(np.argmax(contributions))
            if strongest == 0 and similarity[row].max() > 0:
                best = int(np.argmax(similarity[row]))
                shared = [g for g in self.content.movie_genres(code) if g in genre_lists[best]]
                reasons.append(f"{', '.join(shared)} like {self._title(codes[best])}")
            elif strongest == 2:
                reasons.append(self._personal_reason(code, codes, profile_weights))
            else:
                votes = int(self.popularity.n_ratings[code])
                mean = float(self.popularity.mean_rating[code])
                reasons.append(f"widely liked: {mean:.1f} average from {votes:,} ratings")
        return reasons

    def _personal_reason(self, code: int, liked: np.ndarray, weights: np.ndarray) -> str:
        """ "people who liked X liked it", X the liked movie closest in the factor space."""
        factors = self.cf.item_factors
        if self.cf.item_scale is not None:  # the fold-in divides each rating by the movie's d
            weights = weights / self.cf.item_scale[liked]
        shrunk = factors[liked] * self.cf.fold_in_weights_for(len(liked))
        closeness = shrunk @ factors[code] * weights
        return f"people who liked {self._title(liked[int(np.argmax(closeness))])} liked it"

    def _title(self, code: int) -> str:
        return str(self._titles[int(code)])
