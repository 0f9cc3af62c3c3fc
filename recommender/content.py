"""Content similarity: TF-IDF over genres, one token per genre.

The default scikit-learn tokenizer splits "Sci-Fi" into "sci" and "fi" and "Film-Noir" into
"film" and "noir"; here a genre is exactly one token and "(no genres listed)" is none. Cosine
scores are computed when asked, as one sparse product of a profile vector with the movies x
genres matrix: there is never a movies x movies similarity matrix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Self

import numpy as np
import scipy.sparse as sp

from recommender.bundle import csr_arrays, expect_array, expect_csr
from recommender.data import NO_GENRES
from recommender.model import ContentModel, Model, TrainingConfig
from recommender.scorer import BundleInfo, Request, Scorer
from recommender.titles import quoted_title


def genre_tokens(genres: str) -> list[str]:
    """The genres of a MovieLens genres field, each one token: "Sci-Fi|Film-Noir" -> 2 tokens."""
    tokens = (token.strip() for token in str(genres).split("|"))
    return [token for token in tokens if token and token != NO_GENRES]


def fit_content(genres: Sequence[str]) -> ContentModel:
    """Fit TF-IDF over the genres field of every movie (one string per movie)."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # training only: slow import

    vectorizer = TfidfVectorizer(
        tokenizer=genre_tokens, lowercase=False, token_pattern=None, dtype=np.float32
    )
    if not any(genre_tokens(value) for value in genres):  # no genre at all: an empty model
        return ContentModel(
            sp.csr_matrix((len(genres), 0), dtype=np.float32), [], np.zeros(0, np.float32)
        )
    matrix = vectorizer.fit_transform(genres).tocsr()
    matrix.sort_indices()
    vocabulary = vectorizer.get_feature_names_out().tolist()
    return ContentModel(matrix, vocabulary, vectorizer.idf_.astype(np.float32))


class ContentScorer(Scorer):
    """Genre similarity: the cosine of each movie's genres to the profile's weighted genres."""

    name = "content"
    label = "Similar genres"
    help = "How close its genres are to the genres of your movies"
    default_weight = 0.2
    unit_range = True  # a cosine: 1 = the same genres, 0 = none shared

    def __init__(self, model: ContentModel, titles: np.ndarray):
        self.model = model
        self.titles = titles

    @classmethod
    def from_training(cls, model: Model, config: TrainingConfig) -> Self:
        return cls(model.content, model.data.movies["title"].to_numpy())

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], info: BundleInfo) -> Self:
        movies, genres = len(info.movies), len(info.genres)
        matrix = expect_csr(arrays, (movies, genres))
        idf = np.asarray(expect_array(arrays, "idf", (genres,), "f"))
        model = ContentModel(matrix, list(info.genres), idf)
        model.scores(np.ones(genres))  # its distinct rows found at load, not in a first request
        return cls(model, info.movies["title"].to_numpy())

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {**csr_arrays(self.model.matrix), "idf": self.model.idf.astype(np.float32)}

    def scores(self, request: Request) -> np.ndarray:
        vector = self.model.profile_vector(request.genres, request.liked_weights)
        return np.clip(self.model.scores(vector), 0.0, 1.0)

    def reasons(self, codes: np.ndarray, request: Request) -> list[str | None]:
        """ "Sci-Fi, Thriller like Alien (1979)": the genres shared with the profile movie
        whose genres pull the result up most."""
        vectors = np.array([self.model.vectorize(genres) for genres in request.genres])
        similarity = (self.model.matrix[codes] @ vectors.T) * request.liked_weights
        reasons: list[str | None] = []
        for row, code in enumerate(codes):
            if len(request) == 0 or similarity[row].max() <= 0:
                reasons.append(None)
                continue
            best = int(np.argmax(similarity[row]))
            shared = [g for g in self.model.movie_genres(code) if g in request.genres[best]]
            liked = quoted_title(self.titles[request.codes[best]])
            reasons.append(f"{', '.join(shared)} like {liked}")
        return reasons
