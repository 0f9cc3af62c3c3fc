"""python -m recommender.evaluation: evaluate, optionally tune first, write the figures."""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import asdict
from pathlib import Path

from recommender.bundle import BundleError, update_manifest
from recommender.data import DataError, load_dataset
from recommender.evaluation import metrics
from recommender.evaluation.report import format_table, manifest_section, write_outputs
from recommender.evaluation.run import evaluate
from recommender.evaluation.tuning import tune, tune_discovery
from recommender.training import TrainingConfig


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m recommender.evaluation", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="folder of the CSVs")
    parser.add_argument(
        "--profile-size", type=int, nargs="+", default=[5], help="movies a new user reveals"
    )
    parser.add_argument("--k", type=int, default=20, help="length of the judged lists")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("evaluation"), help="CSV/JSON folder")
    parser.add_argument(
        "--artifacts-dir", type=Path, help="write the results into this bundle's manifest"
    )
    parser.add_argument(
        "--tune",
        action="store_true",
        help="first choose the defaults on validation users (train users only) and use them",
    )
    parser.add_argument(
        "--tune-discovery",
        action="store_true",
        help="first choose only the default discovery on validation users, and use it",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    try:
        data = load_dataset(args.data_dir)
        config, validation = TrainingConfig(), None
        # a user without a target in the long tail gives NaN tail NDCG, which the means skip
        warnings.simplefilter("ignore", metrics.MetricWarning)
        if args.tune:
            progress("choosing the defaults on validation users ...")
            config, validation = tune(data, k=args.k, seed=args.seed, progress=progress)
            progress(f"chosen: {asdict(config)}")
        elif args.tune_discovery:
            progress("choosing the default discovery on validation users ...")
            config, validation = tune_discovery(data, k=args.k, seed=args.seed, progress=progress)
        result = evaluate(
            data,
            config,
            profile_sizes=args.profile_size,
            k=args.k,
            seed=args.seed,
            progress=progress,
        )
        result.validation = validation
        result.seconds = time.perf_counter() - started
        print(format_table(result))
        for path in write_outputs(result, args.out):
            print(f"wrote {path}")
        if args.artifacts_dir is not None:
            update_manifest(args.artifacts_dir, evaluation=manifest_section(result))
            print(f"wrote the evaluation into the manifest of the bundle in {args.artifacts_dir}")
    except (DataError, BundleError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"evaluation took {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
