"""Train the recommender on MovieLens-format CSVs and write the artifact bundle.

python train_and_save_model.py [--data-dir data] [--artifacts-dir artifacts]
                               [--factors 64] [--seed 0] [--download]
                               [--engine {local,spark}] [--spark-master local[*]]

With --engine spark the data dir may be any URI Spark reads (hdfs://, s3a://, file://).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from recommender.artifacts import ArtifactsError, trainer_lock
from recommender.data import DataError
from recommender.download import GROUPLENS_URL, REQUIRED, download_movielens, has_data
from recommender.training import TrainingConfig, TrainingSummary, train

DEFAULTS = TrainingConfig()


def data_location(text: str) -> Path | str:
    """A local folder as a Path; a URI (hdfs://, s3a://) as given, for the Spark engine."""
    return text if "://" in text else Path(text)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=data_location, default=Path("data"), help="folder of the CSVs"
    )
    parser.add_argument("--artifacts-dir", type=Path, default=Path("artifacts"))
    parser.add_argument("--factors", type=int, default=DEFAULTS.factors, help="SVD factors (k)")
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed)
    parser.add_argument(
        "--variant", choices=("pure", "centered"), default=DEFAULTS.variant, help="SVD variant"
    )
    parser.add_argument(
        "--download",
        action="store_true",
        help=f"if the data folder has no CSVs, fetch ml-latest-small from {GROUPLENS_URL}",
    )
    parser.add_argument("--download-url", default=GROUPLENS_URL, help=argparse.SUPPRESS)
    parser.add_argument(
        "--engine",
        choices=("local", "spark"),
        default="local",
        help="train on this machine (local) or on Apache Spark (needs requirements-spark.txt)",
    )
    parser.add_argument(
        "--spark-master", default="local[*]", help="Spark master URL for --engine spark"
    )
    return parser.parse_args(argv)


def report(summary: TrainingSummary, seconds: float) -> None:
    counts = summary.counts
    print(
        f"trained on {counts['ratings']:,} ratings from {counts['users']:,} users of "
        f"{counts['movies']:,} movies ({counts['rated_movies']:,} rated, {counts['genres']} "
        f"genres, {counts['factors']} factors) in {seconds:.1f} s"
    )
    for note in summary.notes:
        print(f"note: {note}")
    print(f"bundle: {summary.bundle_dir} ({summary.bundle_bytes / 2**20:.1f} MB)")


class Terminated(KeyboardInterrupt):
    """SIGTERM, what systemd, Docker and Kubernetes stop a program with, raised where the program
    is so that it unwinds like Ctrl-C: the bundle being written is removed, the previous one
    stays current."""


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """While inside, SIGTERM raises ``Terminated`` (in the main thread; elsewhere, unchanged)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = TrainingConfig(factors=args.factors, seed=args.seed, variant=args.variant)
    start = time.perf_counter()
    try:
        # One trainer per artifacts folder, from before the download to the last file.
        with sigterm_interrupts(), trainer_lock(args.artifacts_dir) as leftovers:
            if leftovers:
                print(f"removed what interrupted trainings left: {', '.join(leftovers)}")
            summary = run(args, config)
    except (DataError, ArtifactsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        signal_name = "SIGTERM" if isinstance(stop, Terminated) else "Ctrl-C"
        print(
            f"interrupted ({signal_name}): the previous bundle, if any, is unchanged",
            file=sys.stderr,
        )
        return 143 if isinstance(stop, Terminated) else 130
    if summary is None:
        return 2
    report(summary, time.perf_counter() - start)
    return 0


def run(args: argparse.Namespace, config: TrainingConfig) -> TrainingSummary | None:
    """Fetch the data if asked, then train with the chosen engine (None: Spark failed, said)."""
    local = isinstance(args.data_dir, Path)  # a URI is for the Spark engine to check
    if args.download and local and not has_data(args.data_dir):
        print(f"downloading {args.download_url} into {args.data_dir}/ ...", flush=True)
        download_movielens(args.data_dir, args.download_url)
    elif local and not has_data(args.data_dir):
        missing = next(n for n in REQUIRED if not (args.data_dir / n).is_file())
        raise DataError(
            f"{args.data_dir / missing}: file not found; put the MovieLens CSVs in "
            f"{args.data_dir}/ (from {GROUPLENS_URL}) or add --download to fetch them"
        )
    if args.engine == "spark":
        return train_on_spark(args, config)
    return train(args.data_dir, args.artifacts_dir, config, lambda m: print(m, flush=True))


def train_on_spark(args: argparse.Namespace, config: TrainingConfig) -> TrainingSummary | None:
    """Train with the Spark engine, imported only now: pyspark is an optional dependency.

    Returns None (after one line on stderr) when Spark is not installed or does not start.
    """
    try:
        from recommender.spark_engine import EngineError, train_spark
    except ImportError as error:
        print(
            f"error: --engine spark needs pyspark ({error}); "
            "install it with: pip install -r requirements-spark.txt (and Java 17+)",
            file=sys.stderr,
        )
        return None
    try:
        return train_spark(
            args.data_dir,
            args.artifacts_dir,
            config,
            lambda m: print(m, flush=True),
            master=args.spark_master,
        )
    except EngineError as error:
        print(f"error: {error}", file=sys.stderr)
        return None


if __name__ == "__main__":
    sys.exit(main())
