"""What the Recommender knows of genres: each movie's genres, the filters, the genre mixes
and the attributes the list is calibrated on (``recommender.calibration``: genres, decades).

Built lazily from the movie table's genres column ("Sci-Fi|Thriller"), one token per genre,
checked against the bundle's vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender import arguments, calibration
from recommender.calibration import genre_shares
from recommender.content import genre_tokens
from recommender.filters import Filters, genre_lists
from recommender.scorer import Request


class Genres:
    """The genres of every movie (index = movie code) over a vocabulary."""

    def __init__(self, movies: pd.DataFrame, vocabulary: Sequence[str]):
        self.movies = movies
        self.vocabulary = list(vocabulary)

    @cached_property
    def of_movie(self) -> list[tuple[str, ...]]:
        """Each movie's genres as tokens ("Sci-Fi" stays whole)."""
        return [tuple(genre_tokens(text)) for text in self.movies["genres"].tolist()]

    @cached_property
    def membership(self) -> sp.csc_matrix:
        """Which movie has which genre (movies x genres, by column)."""
        column_of = {genre: column for column, genre in enumerate(self.vocabulary)}
        rows, columns = [], []
        for code, genres in enumerate(self.of_movie):
            for genre in genres:
                if genre in column_of:
                    rows.append(code)
                    columns.append(column_of[genre])
        shape = (len(self.movies), len(self.vocabulary))
        return sp.csc_matrix((np.ones(len(rows), bool), (rows, columns)), shape=shape)

    @cached_property
    def shares(self) -> sp.csr_matrix:
        """Each movie's genre mix: 1 spread evenly over its genres."""
        return genre_shares(self.membership)

    @cached_property
    def decades(self) -> sp.csr_matrix:
        """Each movie's decade (``calibration.decade_shares``)."""
        year = self.movies["year"].to_numpy(dtype=np.float64, na_value=np.nan)
        return calibration.decade_shares(year)

    @cached_property
    def attributes(self) -> sp.csr_matrix:
        """Each movie's calibration attributes (``calibration.attributes``)."""
        return calibration.attributes(self.shares, self.membership, self.decades)

    def target(self, request: Request, recency: float = 0.0) -> np.ndarray:
        """What a request's list is calibrated to (``calibration.target``): the liked
        profile movies' genre mix; with two or more liked movies (a taste, not one film's
        labels: Back to the Future alone keeps Part III of 1990), the genres they all have
        (with the genres the visitor gave them) and the mix of their decades, leant by
        ``recency`` (``calibration.leaned``)."""
        liked = np.flatnonzero(request.weights > 0)
        tokens = [set(request.genres[i]) for i in liked]
        everyone = set.intersection(*tokens) if len(tokens) >= 2 else set()
        shared = np.array([genre in everyone for genre in self.vocabulary], bool)
        weights = request.weights[liked].astype(np.float64) * (len(liked) >= 2)
        decades = weights @ self.decades[request.codes[liked]].toarray()
        decades = calibration.leaned(decades, recency)
        return calibration.target(self.profile_mix(request), shared, decades)

    def profile_mix(self, request: Request) -> np.ndarray:
        """The genre mix of the liked profile movies, with the genres the visitor gave them."""
        column = {genre: index for index, genre in enumerate(self.vocabulary)}
        mix = np.zeros(len(self.vocabulary))
        for genres, weight in zip(request.genres, request.weights, strict=True):
            known = [column[g] for g in genres if g in column]
            if weight > 0 and known:
                mix[known] += weight / len(known)
        return mix / mix.sum() if mix.sum() > 0 else mix

    def allowed(self, filters: Filters) -> np.ndarray:
        """The movies that pass ``filters``; ValueError for a genre the vocabulary lacks."""
        if not isinstance(filters, Filters):
            raise ValueError(f"filters must be a Filters, got {filters!r}")
        self.check(filters.genres)
        allowed = np.ones(len(self.movies), bool)
        if filters.include_genres:
            allowed &= self._any_of(filters.include_genres)
        if filters.exclude_genres:
            allowed &= ~self._any_of(filters.exclude_genres)
        if filters.years is not None:
            year = self.movies["year"].to_numpy(dtype=np.float64, na_value=np.nan)
            allowed &= (year >= filters.years[0]) & (year <= filters.years[1])
        return allowed

    def check(self, names: Sequence[str]) -> None:
        """ValueError naming the first genre name the vocabulary lacks (and a near miss)."""
        for name in names:
            if name not in self.vocabulary:
                close = [g for g in self.vocabulary if g.casefold() == name.casefold()]
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                known = ", ".join(self.vocabulary)
                raise ValueError(f"unknown genre {name!r}{hint}; known: {known}")

    def attached(self, value: Any, codes: np.ndarray, ids: np.ndarray) -> dict[int, tuple]:
        """The genres a visitor attached to profile movies (``profile_genres``: movieId ->
        genre names), checked as filters are (``check``: "did you mean"); ``codes`` and
        ``ids`` are the profile's movie codes and movieIds. ValueError for a movie not in the
        profile: its genres would be ignored without a word."""
        checked = {}
        for key, names in genre_lists(value, "profile_genres").items():
            movie_id = arguments.movie_id(key)
            where = np.flatnonzero(ids == movie_id)
            if len(where) == 0:
                raise ValueError(
                    f"profile_genres: movieId {movie_id} is not in the profile; genres can be "
                    "attached to profile movies only"
                )
            own = self.of_movie[int(codes[where[0]])]  # its own genres are always known
            try:
                self.check([name for name in names if name not in own])
            except ValueError as error:
                raise ValueError(f"profile_genres of movieId {movie_id}: {error}") from None
            checked[movie_id] = names
        return checked

    def _any_of(self, genres: Sequence[str]) -> np.ndarray:
        columns = [self.vocabulary.index(g) for g in genres]
        return np.asarray(self.membership[:, columns].getnnz(axis=1) > 0).ravel()
