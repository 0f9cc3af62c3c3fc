"""Train the recommender on MovieLens-format CSVs and write the artifact bundle.

python train_and_save_model.py [--data-dir data] [--artifacts-dir artifacts]
                               [--factors 160] [--seed 0] [--variant pure] [--download]
                               [--if-changed]
                               [--engine {local,spark}] [--spark-master local[*]]

With --engine spark the data dir may be any URI Spark reads (hdfs://, s3a://, file://).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from recommender.artifacts import ArtifactsError, trainer_lock
from recommender.data import DataError
from recommender.data_messages import shorten
from recommender.download import (
    GROUPLENS_URL,
    REQUIRED,
    download_movielens,
    has_data,
    locate_data,
    where_data_goes,
)
from recommender.retrain import needs_training
from recommender.training import TrainingConfig, TrainingError, TrainingSummary, train

DEFAULTS = TrainingConfig()
MAX_FACTORS = 10_000  # far beyond any data set's useful k; the SVD takes what the data supports


class OneLineParser(argparse.ArgumentParser):
    """A parser whose every refusal is one line on stderr and exit code 2 (argparse's own
    prints the whole usage first): "error: argument --factors: 0 is not ..."."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see --help)\n")


def folder(text: str) -> Path:
    """A local folder's path: not empty (an empty one would mean the current folder)."""
    if not text.strip() or "\x00" in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not a folder's path")
    return Path(text)


def data_location(text: str) -> Path | str:
    """A local folder as a Path; a URI (hdfs://, s3a://) as given, for the Spark engine."""
    return text if "://" in text else folder(text)


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argument type: a whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{shorten(text, 40)!r} is not a whole number from {low:,} to {high:,}"
            )
        return value

    return parse


def web_address(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"{shorten(text, 60)!r} is not an http(s):// address")
    return text


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=data_location, default=Path("data"), help="folder of the CSVs"
    )
    parser.add_argument("--artifacts-dir", type=folder, default=Path("artifacts"))
    parser.add_argument(
        "--factors",
        type=whole_number(1, MAX_FACTORS),
        default=DEFAULTS.factors,
        help="SVD factors (k)",
    )
    parser.add_argument("--seed", type=whole_number(0, 2**32 - 1), default=DEFAULTS.seed)
    parser.add_argument(
        "--variant", choices=("pure", "centered"), default=DEFAULTS.variant, help="SVD variant"
    )
    parser.add_argument(
        "--download",
        action="store_true",
        help=f"if the data folder has no CSVs, fetch ml-latest-small from {GROUPLENS_URL}",
    )
    parser.add_argument(
        "--download-url", type=web_address, default=GROUPLENS_URL, help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--if-changed",
        action="store_true",
        help="keep the current bundle when it was trained on these very CSVs (size and sha256) "
        "with these parameters; without CSVs, keep it too",
    )
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
        find_data(args)  # before anything is written: a wrong --data-dir leaves no folder behind
        # One trainer per artifacts folder, from before the download to the last file.
        with sigterm_interrupts(), trainer_lock(args.artifacts_dir) as leftovers:
            if leftovers:
                print(f"removed what interrupted trainings left: {', '.join(leftovers)}")
            outcome = run(args, config)
    except (DataError, TrainingError, ArtifactsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        signal_name = "SIGTERM" if isinstance(stop, Terminated) else "Ctrl-C"
        print(
            f"interrupted ({signal_name}): the previous bundle, if any, is unchanged",
            file=sys.stderr,
        )
        return 143 if isinstance(stop, Terminated) else 130
    if not isinstance(outcome, TrainingSummary):
        return outcome
    report(outcome, time.perf_counter() - start)
    return 0


def find_data(args: argparse.Namespace) -> None:
    """Point ``args.data_dir`` at the folder with the CSVs; DataError if they are missing and
    neither --download nor --if-changed (which keeps the bundle without CSVs) is given."""
    if not isinstance(args.data_dir, Path):
        return  # a URI is for the Spark engine to check
    if (found := locate_data(args.data_dir)) != args.data_dir:
        print(f"reading {found}/, the one folder in {args.data_dir}/ with the CSVs")
        args.data_dir = found
    if not (args.download or args.if_changed or has_data(args.data_dir)):
        raise missing_data(args)


def missing_data(args: argparse.Namespace) -> DataError:
    missing = next(n for n in REQUIRED if not (args.data_dir / n).is_file())
    return DataError(
        f"{args.data_dir / missing}: file not found; "
        f"{where_data_goes(args.data_dir, args.download_url)}; or add --download"
    )


def run(args: argparse.Namespace, config: TrainingConfig) -> TrainingSummary | int:
    """Fetch the data if asked, then train with the chosen engine; an exit code instead when
    there is nothing to train (0, with --if-changed) or Spark could not (2, said already)."""
    local = isinstance(args.data_dir, Path)
    if args.if_changed and local:
        needed, reason = needs_training(args.artifacts_dir, args.data_dir, config)
        print(f"{'training' if needed else 'not training'}: {reason}", flush=True)
        if not needed:
            return 0
    if args.download and local and not has_data(args.data_dir):
        print(f"downloading {args.download_url} into {args.data_dir}/ ...", flush=True)
        download_movielens(args.data_dir, args.download_url)
    elif local and not has_data(args.data_dir):
        raise missing_data(args)
    if args.engine == "spark":
        summary = train_on_spark(args, config)
        return 2 if summary is None else summary
    return train(args.data_dir, args.artifacts_dir, config, lambda m: print(m, flush=True))


def train_on_spark(args: argparse.Namespace, config: TrainingConfig) -> TrainingSummary | None:
    """Train with the Spark engine, imported only now: pyspark is an optional dependency.

    Returns None (after one line on stderr) when Spark is not installed or does not start.
    """
    try:
        from recommender.spark import EngineError, train_spark
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
