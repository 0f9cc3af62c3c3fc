"""The scorers the hybrid blends, in the order the app and the tables show them.

Adding a scorer: write a ``recommender.scorer.Scorer`` subclass and add it here. The trainer
writes its arrays, the ``Recommender`` loads and blends it by name, the app shows a slider for
it and the evaluation measures it alone and in the blend: nothing else needs an edit.
"""

from __future__ import annotations

from recommender.collaborative import GeneralCFScorer, PersonalScorer
from recommender.content import ContentScorer
from recommender.neighbours import NeighbourScorer
from recommender.scorer import Scorer
from recommender.series import SeriesScorer

SCORERS: list[type[Scorer]] = [
    ContentScorer,
    GeneralCFScorer,
    NeighbourScorer,
    SeriesScorer,
    PersonalScorer,
]


def scorer_class(name: str) -> type[Scorer]:
    """The registered scorer called ``name``; KeyError when there is none."""
    for scorer in SCORERS:
        if scorer.name == name:
            return scorer
    raise KeyError(name)
