"""What the best blend for each profile size would give up, on validation users only.

Fits the default model on the validation split (train users only, as ``--tune`` does), scores
every blend of the tuning grid at calibration 0 and 0.3, and prints, for profiles of 1, 3 and 5
movies: the default blend, the best blend that keeps the sequel bar (EASE at lambda 500 on the
same users), and the best blend with no bar at all. It answers one question of issue 11: could
weights that depend on the profile's size reach the anchors' NDCG without losing the sequel?

    python benchmarks/size_tradeoff.py ../shared/datasets/ml-latest-small [--csv out.csv]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recommender.data import load_dataset
from recommender.evaluation.harness import fit_local
from recommender.evaluation.objectives import SEQUELS
from recommender.evaluation.splits import validation_set
from recommender.evaluation.tuning import blend_grid, validation_figures, yardstick
from recommender.training import TrainingConfig, default_weights

SIZES = (1, 3, 5)
SHOWN = [f"NDCG@20 profile {size}" for size in (1, 3, 5, 10)]
SHOWN += [SEQUELS, "tail NDCG@20", "overlap", "miscalibration"]


def blend_table(data_dir: Path) -> tuple[pd.DataFrame, float]:
    """Every blend's validation figures, and the sequel bar."""
    data = load_dataset(data_dir)
    validation = validation_set(data, 0)
    bar = yardstick(validation, 20)
    config = TrainingConfig()
    recommender = fit_local(validation.train, config)
    figures = validation_figures(recommender, validation, 20, blend_grid(), (0.0, 0.3))
    rows = [
        {"blend": str(dict(blend)), "calibration": calibration, **values,
         "default": dict(blend) == default_weights(config) and calibration == config.calibration}
        for (blend, calibration), values in figures.items()
    ]  # fmt: skip
    return pd.DataFrame(rows), bar.sequels


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--csv", type=Path, help="also write every blend's figures here")
    args = parser.parse_args()
    table, sequel_bar = blend_table(args.data_dir)
    if args.csv:
        table.to_csv(args.csv, index=False)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_colwidth", 90)
    keeping = table[table[SEQUELS] >= sequel_bar]
    print(f"{len(table)} blends; the sequel bar (EASE, lambda 500): {sequel_bar:.3f}\n")
    print("the default:\n" + table[table["default"]][["blend", *SHOWN]].to_string(index=False))
    for size in SIZES:
        column = f"NDCG@20 profile {size}"
        for name, rows in (("keeping the sequel bar", keeping), ("with no bar", table)):
            best = rows.sort_values(column, ascending=False).head(1)
            print(f"\nbest at {size} movies, {name}:")
            print(best[["blend", "calibration", *SHOWN]].to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
