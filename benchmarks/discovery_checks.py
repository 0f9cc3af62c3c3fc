"""What stands between the default discovery and the popular end: on the validation users (train
users only, as ``--tune-discovery``), for each (discovery, calibration strength) pair, the
validation NDCG@20 at 1 / 3 / 5 / 10 movies, the rule's figures at 5 movies, the fan panel's
failed checks and the three leak fans' count (``tests/test_discovery.py``), all on the
validation users' model.

    python benchmarks/discovery_checks.py --data-dir $MOVIEREC_DATA_DIR 0.2:0.06 0.2:0.15

A pair is ``d:strength``; the strength is the list's calibration at that setting (as shipped it
is d x the bundle's calibration, 0.3: 0.2:0.06), so a pair asks what a path that calibrates
sooner would give. ``d:`` alone is the path as shipped. Discovery 0 is never calibrated.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from recommender.data import load_dataset
from recommender.evaluation import metrics, objectives
from recommender.evaluation.fan_checks import run_panel
from recommender.evaluation.harness import Blended, fit_local, rank
from recommender.evaluation.judging import Judge
from recommender.evaluation.splits import validation_set
from recommender.training import TrainingConfig
from tests.test_discovery import FANS, leaked

K = 20


def pairs(texts: list[str], shipped: float) -> list[tuple[float, float]]:
    """(d, calibration strength) of each ``d:strength`` (``d:`` or ``d``: as shipped)."""
    found = []
    for text in texts:
        d, _, strength = text.partition(":")
        found.append((float(d), float(strength) if strength else float(d) * shipped))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("MOVIEREC_DATA_DIR", "data"))
    parser.add_argument("--data-dir", type=Path, default=default)
    parser.add_argument("pairs", nargs="+", help="d:strength, e.g. 0.2:0.15 (d: as shipped)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", metrics.MetricWarning)
    config = TrainingConfig()
    validation = validation_set(load_dataset(args.data_dir), config.seed)
    rec = fit_local(validation.train, config)
    shipped, chosen = rec.discovery.calibration, rec.blend_weights(None)

    def scorer(d: float, strength: float):
        return lambda case, scored: Blended(
            rec.discovery.scored(scored, chosen, d).score, strength if d > 0 else 0.0
        )

    settings = pairs(args.pairs, shipped)
    scorers = {f"{d:g}:{s:g}": scorer(d, s) for d, s in settings}
    judge = Judge.of(rec)
    results = {n: rank(rec, c, scorers, K, judge=judge) for n, c in validation.cases.items()}
    print("| d : strength | NDCG@20 1 / 3 / 5 / 10 | mean | tail | overlap | miscal. | leak "
          f"({', '.join(FANS)}) | panel checks failed |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---|---|")
    for (d, strength), name in zip(settings, scorers, strict=True):
        values = objectives.figures({n: found[name] for n, found in results.items()}, K)
        ndcg = " / ".join(f"{values[f'NDCG@{K} profile {n}']:.3f}" for n in results)
        rec.discovery.default = d  # what recommend() ranks by when no setting is given
        rec.discovery.calibration = strength / d if d > 0 else shipped
        table = run_panel(rec)
        failed = "; ".join(table.loc[table["passed"] == False, "check"]) or "none"  # noqa: E712
        counts = [len(leaked(rec, rec.recommend(p, n=10), o)) for p, o in FANS.values()]
        leaks = ", ".join(map(str, counts))
        print(f"| {name} | {ndcg} | {values['criterion']:.3f} | {values[f'tail NDCG@{K}']:.3f} | "
              f"{values['overlap']:.3f} | {values['miscalibration']:.3f} | {leaks} | {failed} |",
              flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
