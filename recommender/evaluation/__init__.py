"""Offline evaluation: does the hybrid help a new user, and which defaults are best?

    python -m recommender.evaluation --data-dir DIR [--profile-size 5 ...] [--k 20] [--seed 0]
                                   [--out evaluation] [--artifacts-dir DIR] [--tune]

Two protocols (docs/evaluation.md):

- new user: users are split 80/20 (seeded); the models are trained on the train users only; each
  test user reveals ``profile_size`` movies they rated >= 4, with those ratings, and their other
  movies rated >= 4 are the targets; every movie outside the profile is ranked.
- known user: 20% of each test user's ratings are held out and the models are trained on
  everything else; the profile is what the user rated, the targets are the held-out ratings >= 4,
  and the held-out ratings also measure rating predictions (RMSE, MAE).

The project's scorers are measured through the product's own code: a ``Recommender`` built from
the fitted model (``training.in_memory_bundle``) and its ``score_parts``/``blend``/``top``, the
path ``recommend`` takes. Another engine is measured the same way by passing ``fit``.
The defaults are chosen by ``tune`` on a second split of the train users only, never on the
test users.

Modules: ``splits`` (who trains, who is tested), ``baselines`` (EASE, bias), ``anchors`` (the
tuned baselines), ``harness`` (ranking through the product's code), ``judging`` (the per-case
metrics), ``metrics`` (pure metric functions), ``run`` (the whole evaluation), ``tuning``
(choosing the defaults), ``report`` (text, Markdown, files, the manifest section),
``fan_checks`` (the panel of fan checks) and ``__main__`` (the command line).
"""

from recommender.evaluation.anchors import ANCHORS, EASE_500, Anchor
from recommender.evaluation.baselines import Ease, bias_baseline
from recommender.evaluation.harness import (
    DEFAULT,
    Scores,
    fit_local,
    for_user_scorer,
    harness_scorers,
    in_recommender_order,
    product_blends,
    product_scorers,
    rank,
    summarize,
    trainer_fit,
    write_movielens,
)
from recommender.evaluation.report import markdown_summary, ndcg_overview
from recommender.evaluation.run import PROTOCOLS, EvaluationResult, evaluate, rating_errors
from recommender.evaluation.splits import (
    KNOWN_USER,
    NEW_USER,
    RATED,
    RATED_DROPPED,
    Case,
    Split,
    known_user_split,
    new_user_split,
    rated_cases,
    rated_split,
    split_users,
    subset_users,
    user_row,
    validation_set,
    without_low_ratings,
)
from recommender.evaluation.tuning import blend_grid, tune

__all__ = [
    "ANCHORS",
    "DEFAULT",
    "EASE_500",
    "KNOWN_USER",
    "NEW_USER",
    "PROTOCOLS",
    "RATED",
    "RATED_DROPPED",
    "Anchor",
    "Case",
    "Ease",
    "EvaluationResult",
    "Scores",
    "Split",
    "bias_baseline",
    "blend_grid",
    "evaluate",
    "fit_local",
    "for_user_scorer",
    "harness_scorers",
    "in_recommender_order",
    "known_user_split",
    "markdown_summary",
    "ndcg_overview",
    "new_user_split",
    "product_blends",
    "product_scorers",
    "rank",
    "rated_cases",
    "rated_split",
    "rating_errors",
    "split_users",
    "subset_users",
    "summarize",
    "trainer_fit",
    "tune",
    "user_row",
    "validation_set",
    "without_low_ratings",
    "write_movielens",
]
