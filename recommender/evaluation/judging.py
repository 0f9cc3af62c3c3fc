"""Judging one recommended list against one test case: accuracy and what a fan notices.

Per case: Precision, Recall, NDCG and MAP at k; tail NDCG (only the targets outside the
``HEAD`` most-rated training movies); Steck's miscalibration of the list's genre mix against the
profile's; the mean popularity percentile of the list. Per scorer (``summarize`` in the
harness): the mean Jaccard overlap of two users' lists, coverage and novelty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recommender.content import genre_tokens
from recommender.evaluation import metrics
from recommender.evaluation.splits import DROP_BELOW, Case
from recommender.hybrid import Recommender

HEAD = 100  # "the long tail": every movie outside the 100 most-rated training movies


def metric_names(k: int) -> list[str]:
    """The per-case metrics' column names for lists of k."""
    ranking = [f"Precision@{k}", f"Recall@{k}", f"NDCG@{k}", f"MAP@{k}"]
    return [*ranking, f"tail NDCG@{k}", "miscalibration", "popularity percentile"]


@dataclass
class Judge:
    """What judging needs of the trained model: the head, popularity and genres per movie."""

    head: frozenset[int]  # movieIds of the HEAD most-rated training movies
    percentile: np.ndarray  # popularity percentile per movie code (100 = the most rated)
    genre_shares: np.ndarray  # movie codes x genres: each movie spreads 1 over its genres
    code_of: pd.Index  # movieId -> movie code

    @classmethod
    def of(cls, recommender: Recommender) -> Judge:
        counts = np.asarray(recommender.popularity.n_ratings, dtype=np.float64)
        order = np.lexsort((recommender.movie_ids, -counts))
        head = frozenset(recommender.movie_ids[order[:HEAD]].tolist())
        genres = {genre: column for column, genre in enumerate(recommender.genres)}
        shares = np.zeros((len(recommender.movie_ids), len(genres)), dtype=np.float32)
        for code, text in enumerate(recommender.movies["genres"].tolist()):
            columns = [genres[g] for g in genre_tokens(text) if g in genres]
            shares[code, columns] = 1.0 / len(columns) if columns else 0.0
        percentile = metrics.popularity_percentiles(counts)
        return cls(head, percentile, shares, pd.Index(recommender.movie_ids))

    def case_metrics(self, top: np.ndarray, case: Case, k: int) -> dict[str, float]:
        """Every per-case metric of the list ``top`` (movie codes, best first)."""
        ranked = self.code_of[top].tolist()
        relevant = set(case.targets.tolist())
        names = metric_names(k)
        values = [
            metrics.precision_at_k(ranked, relevant, k),
            metrics.recall_at_k(ranked, relevant, k),
            metrics.ndcg_at_k(ranked, relevant, k),
            metrics.average_precision_at_k(ranked, relevant, k),
            metrics.tail_ndcg_at_k(ranked, relevant, self.head, k),
            self.miscalibration(top, case),
            float(np.mean(self.percentile[top])) if len(top) else float("nan"),
        ]
        return dict(zip(names, values, strict=True))

    def miscalibration(self, top: np.ndarray, case: Case) -> float:
        """The list's genre mix against the genre mix of the profile movies the user liked
        (rated at least ``DROP_BELOW``, or not rated)."""
        liked = [m for m, r in case.profile.items() if r is None or r >= DROP_BELOW]
        codes = self.code_of.get_indexer(liked)
        profile = metrics.genre_distribution(self.genre_shares, codes[codes >= 0])
        recommended = metrics.genre_distribution(self.genre_shares, top)
        return metrics.miscalibration(profile, recommended)
