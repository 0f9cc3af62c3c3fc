"""A small, fast movie recommender: popularity, genre content, SVD and their hybrid.

from recommender import Recommender
rec = Recommender.load("artifacts")
rec.recommend({1: 5.0, 2571: None}, n=10)
"""

from recommender.bundle import BundleError
from recommender.data import DataError
from recommender.hybrid import Recommender
from recommender.training import TrainingConfig, train

__all__ = ["BundleError", "DataError", "Recommender", "TrainingConfig", "train"]
