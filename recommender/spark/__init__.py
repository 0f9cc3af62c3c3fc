"""Train on Apache Spark into the same bundle as the local engine (docs/spark.md).

    python train_and_save_model.py --engine spark [--spark-master URL] --data-dir URI

- ``session``: start Spark; an unreachable master or missing Hadoop configuration in one line.
- ``sources``: where the files are; the movie side, validated on the driver by recommender.data.
- ``ratings``: the ratings read once, validated with the local engine's messages, coded, cached.
- ``blocks``: the rating matrix as cached blocks of user ranges; the bundle's users/ part files.
- ``randomized``: the randomized SVD of recommender/svd.py, one pass per product.
- ``neighbours``: the item-kNN of recommender/neighbours.py on a grid of movie blocks.
- ``engine``: the stages, from a data folder to the bundle.
"""

from recommender.spark.engine import fit_spark, train_spark
from recommender.spark.session import DEFAULT_MASTER, EngineError, spark_session

__all__ = ["DEFAULT_MASTER", "EngineError", "fit_spark", "spark_session", "train_spark"]
