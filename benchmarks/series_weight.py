"""The series scorer's weight, chosen on validation users (train users only) by the rule of
``recommender.evaluation.objectives``, every other default kept as the bundle ships it: the
weight grid is ``WEIGHTS`` (finer than ``SeriesScorer.tuning_weights``, which ``--tune`` tries
beside every other blend), the rest of the blend and the calibration stay.

    python benchmarks/series_weight.py --data-dir $MOVIEREC_DATA_DIR
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recommender.data import load_dataset
from recommender.evaluation import objectives
from recommender.evaluation.harness import fit_local
from recommender.evaluation.splits import validation_set
from recommender.evaluation.tuning import validation_figures, yardstick
from recommender.series import SeriesScorer
from recommender.training import TrainingConfig, default_weights

K = 20
WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("MOVIEREC_DATA_DIR", "data"))
    parser.add_argument("--data-dir", type=Path, default=default)
    args = parser.parse_args(argv)
    config = TrainingConfig()
    validation = validation_set(load_dataset(args.data_dir), config.seed)
    bar = yardstick(validation, K)
    recommender = fit_local(validation.train, config)
    shipped = default_weights(config)
    blends = [tuple({**shipped, SeriesScorer.name: weight}.items()) for weight in WEIGHTS]
    figures = validation_figures(recommender, validation, K, blends, (config.calibration,))
    candidates = [
        (values, dict(blend)[SeriesScorer.name]) for (blend, _), values in figures.items()
    ]
    chosen = objectives.choose(candidates, bar, K)
    print(f"EASE (lambda 500) bar on validation users: {bar}")
    columns = ["criterion", f"tail NDCG@{K}", "overlap", "miscalibration", objectives.SEQUELS]
    print("| series weight | " + " | ".join(columns) + " | shortfall |")
    print("|---:|" + "---:|" * (len(columns) + 1))
    for values, weight in candidates:
        cells = " | ".join(f"{values[c]:.3f}" for c in columns)
        mark = " (chosen)" if weight == chosen else ""
        print(f"| {weight}{mark} | {cells} | {objectives.shortfall(values, bar, K):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
