"""What the best blend for each profile size would give up, on validation users only.

Fits the default model on the validation split (train users only, as ``--tune`` does), scores
every blend of the tuning grid at calibration 0 and 0.3, and prints, for profiles of 1, 3, 5
and 10 movies: the default blend, the best blend that meets every bar of the rule
(``recommender.evaluation.objectives``), the best that keeps the sequel bar alone, the best with
no bar at all, and the best anchor tuned on the same users. It answers issue 11's question:
could other weights, or weights that depend on the profile's size, reach the anchors' NDCG
without losing what a fan notices?

``--anchor-parts`` offers the tuned EASE and RP3beta to the blend as two more scorers (on a
coarser grid, ``ANCHOR_PART_LEVELS``): if even the anchors themselves, blended with ours, cannot
meet the bars at the anchors' NDCG, no new scorer of their kind will.

    python benchmarks/size_tradeoff.py ../shared/datasets/ml-latest-small [--anchor-parts]
                                       [--csv out.csv]
"""

from __future__ import annotations

import argparse
import sys
from itertools import product
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recommender.data import load_dataset
from recommender.evaluation import objectives
from recommender.evaluation.anchors import ANCHORS
from recommender.evaluation.harness import fit_local, product_parts, with_models
from recommender.evaluation.splits import TUNE_PROFILE_SIZES, Validation, validation_set
from recommender.evaluation.tuning import (
    Blend,
    blend_grid,
    tune_anchors,
    validation_figures,
    yardstick,
)
from recommender.training import TrainingConfig, default_weights

K = 20
ANCHOR_PARTS = ("EASE", "RP3beta")
ANCHOR_PART_LEVELS = {  # general CF, popularity under another name, is left out
    "personal": (0.0, 0.2, 0.4, 0.6),
    "neighbours": (0.0, 0.1, 0.2, 0.3),
    "content": (0.0, 0.1, 0.2),
    "EASE": (0.0, 0.2, 0.4, 0.6),
    "RP3beta": (0.0, 0.2, 0.4, 0.6),
}
SHOWN = [objectives.SEQUELS, f"tail NDCG@{K}", "overlap", "miscalibration"]  # beside NDCG


def anchor_blends() -> list[Blend]:
    """Every blend of ANCHOR_PART_LEVELS but the empty one."""
    names = list(ANCHOR_PART_LEVELS)
    combos = product(*ANCHOR_PART_LEVELS.values())
    return [tuple(zip(names, combo, strict=True)) for combo in combos if sum(combo) > 0]


def blend_table(
    validation: Validation, anchors: pd.DataFrame, anchor_parts: bool
) -> tuple[pd.DataFrame, objectives.Yardstick]:
    """Every blend's validation figures, whether it meets the bars, and the bars."""
    bar = yardstick(validation, K)
    config = TrainingConfig()
    recommender = fit_local(validation.train, config)
    blends, parts = blend_grid(), product_parts
    if anchor_parts:
        fitted = {
            anchor.name: anchor.fit(validation.train.ratings, anchors.loc[anchor.name, "params"])
            for anchor in ANCHORS
            if anchor.name in ANCHOR_PARTS
        }
        blends, parts = anchor_blends(), with_models(fitted)
    figures = validation_figures(recommender, validation, K, blends, (0.0, 0.3), parts)
    default = dict(default_weights(config))
    rows = []
    for (blend, calibration), values in figures.items():
        weights = {name: weight for name, weight in blend if weight}
        rows.append({
            "blend": f"{weights}, calibration {calibration}", **values,
            "every bar": objectives.shortfall(values, bar, K) == 0,
            "default": weights == {n: w for n, w in default.items() if w}
            and calibration == config.calibration,
        })  # fmt: skip
    return pd.DataFrame(rows), bar


def anchor_table(validation: Validation) -> pd.DataFrame:
    """Each anchor tuned on the validation users, with its validation NDCG per size."""
    rows = [
        {"anchor": anchor.name, "params": params, **values}
        for anchor, (params, values) in zip(
            ANCHORS, tune_anchors(validation, ANCHORS, K), strict=True
        )
    ]
    return pd.DataFrame(rows).set_index("anchor", drop=False)


def best_rows(table: pd.DataFrame, anchors: pd.DataFrame, sequels: float) -> pd.DataFrame:
    """Per profile size: the default, the best blend under each set of bars, the best anchor."""
    chosen = []
    for size in TUNE_PROFILE_SIZES:
        column = f"NDCG@{K} profile {size}"
        groups = {
            "default": table[table["default"]],
            "best meeting every bar": table[table["every bar"]],
            "best keeping the sequel bar": table[table[objectives.SEQUELS] >= sequels],
            "best with no bar": table,
        }
        for name, rows in groups.items():
            if len(rows):
                best = rows.loc[rows[column].idxmax()]
                chosen.append({"movies": size, "which": name, "NDCG": best[column],
                               "blend": best["blend"], **best[SHOWN]})  # fmt: skip
        anchor = anchors.loc[anchors[column].idxmax()]
        chosen.append({"movies": size, "which": "best anchor", "NDCG": anchor[column],
                       "blend": f"{anchor['anchor']} {anchor['params']}"})  # fmt: skip
    return pd.DataFrame(chosen)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--anchor-parts", action="store_true", help="EASE, RP3beta as parts")
    parser.add_argument("--csv", type=Path, help="also write every blend's figures here")
    args = parser.parse_args()
    validation = validation_set(load_dataset(args.data_dir), 0)
    anchors = anchor_table(validation)
    table, bar = blend_table(validation, anchors, args.anchor_parts)
    if args.csv:
        table.to_csv(args.csv, index=False)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_colwidth", 110)
    print(f"{len(table)} blends, {int(table['every bar'].sum())} meet every bar; {bar}\n")
    print(best_rows(table, anchors, bar.sequels).round(3).fillna("").to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
