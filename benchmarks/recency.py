"""What the recency tilt does to the lists and their accuracy, at one profile size.

    python benchmarks/recency.py --data-dir ../shared/datasets/ml-latest-small
    python benchmarks/recency.py --data-dir ... --validation --strength 0.1 0.2 0.3 0.4

Trains on the evaluation's training users (seed 0: the README's split) and ranks every test
user's new-user profile (5 liked movies by default) as ``recommend`` does (``score_parts``,
``discovery.scored``, ``steering.tilt``, ``rank``: genre calibration included), at the page's
recency stops, for each tilt strength. Prints per setting the mean over users of the median
release year of their top 20, its shift from recency 0, NDCG@20 and its ratio to recency 0's. With
``--validation`` it runs on validation users drawn from the training users only (the split the
tuning uses), which is where the shipped strength (``steering.RECENCY_STRENGTH``) was chosen.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recommender.data import load_dataset
from recommender.evaluation import metrics
from recommender.evaluation.harness import fit_local
from recommender.evaluation.splits import new_user_split, validation_set
from recommender.steering import RECENCY_STRENGTH
from recommender.training import TrainingConfig

SETTINGS = (-1.0, -0.5, 0.0, 0.5, 1.0)  # the page slider's stops


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--profile-size", type=int, default=5)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--strength", type=float, nargs="+", default=[RECENCY_STRENGTH])
    parser.add_argument("--validation", action="store_true", help="validation users, not test")
    parser.add_argument(
        "--added", action="store_true", help="the alternative: add the tilt, not scale by it"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data = load_dataset(args.data_dir)
    if args.validation:
        validation = validation_set(data, args.seed, (args.profile_size,))
        train, cases, users = validation.train, validation.cases[args.profile_size], "validation"
    else:
        split = new_user_split(data, args.profile_size, args.seed)
        train, cases, users = split.train, split.cases, "test"
    rec = fit_local(train, TrainingConfig())
    years = rec.movies["year"].to_numpy(dtype=np.float64, na_value=np.nan)
    weights = rec.default_weights
    scored = [rec.score_parts(case.profile) for case in cases]
    # the bundle's default discovery, as recommend() ranks with no setting given
    found = [rec.discovery.scored(profile, weights, None) for profile in scored]
    print(f"{len(cases)} {users} users, {args.profile_size} movies each, top {args.k}")
    print("strength  recency  median year  shift   NDCG@20  ratio")
    for strength in args.strength:
        rec.steering.strength = strength
        rows = {}
        for recency in SETTINGS:
            medians, ndcgs = [], []
            for case, profile, at in zip(cases, scored, found, strict=True):
                score = at.score
                if args.added:  # score + r * strength * (2p - 1), the tilt tried first
                    lean = recency * strength * (2 * rec.steering.positions - 1)
                    tilted = (score + lean).astype(np.float32)
                else:
                    tilted = rec.steering.tilt(score, recency)
                top = rec.rank(tilted, profile.request, args.k, at.calibration, recency)
                medians.append(np.nanmedian(years[top]))
                ranked = rec.movie_ids[top].tolist()
                ndcgs.append(metrics.ndcg_at_k(ranked, set(case.targets.tolist()), args.k))
            rows[recency] = (float(np.mean(medians)), float(np.mean(ndcgs)))
        year0, ndcg0 = rows[0.0]
        for recency, (year, ndcg) in rows.items():
            print(
                f"{strength:8.2f}  {recency:+7.1f}  {year:11.1f}  {year - year0:+5.1f}"
                f"  {ndcg:8.3f}  {ndcg / ndcg0:5.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
