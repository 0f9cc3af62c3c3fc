"""A small, fast movie recommender: popularity, genre content, SVD and their hybrid.

from recommender import Recommender
rec = Recommender.load("artifacts")
rec.recommend({1: 5.0, 2571: None}, n=10)
"""

from recommender.bundle import BundleError
from recommender.data import DataError
from recommender.filters import Filters
from recommender.hybrid import Recommender
from recommender.titles import display_title, title_years
from recommender.training import TrainingConfig, TrainingError, train

__all__ = [
    "BundleError",
    "DataError",
    "Filters",
    "Recommender",
    "TrainingConfig",
    "TrainingError",
    "display_title",
    "title_years",
    "train",
]
