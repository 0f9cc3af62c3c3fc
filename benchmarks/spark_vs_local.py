"""Spark engine against the local engine: the same CLI on the same data, time and peak memory.

    python benchmarks/spark_vs_local.py DATA_DIR [DATA_DIR ...] [--master local[2]]
                                        [--repeat 1] [--json PATH] [--quality]

Each run is the user's command, ``train_and_save_model.py --engine ENGINE``, in a fresh process,
timed end to end (interpreter, imports, Spark's JVM start, training, bundle). Peak memory is the
highest sum of the resident set sizes of the whole process tree: the Python driver, Spark's JVM
(driver and executors: one JVM in local mode) and the Python workers Spark starts, sampled every
50 ms from /proc. ``--quality`` also runs the evaluation harness (new-user NDCG@20, the same
split) on both engines. A table is printed and everything is written as JSON (default
``benchmarks/results/spark_vs_local.json``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "spark_vs_local.json"
MB = 2**20
PAGE = os.sysconf("SC_PAGE_SIZE")


# --- memory of a process tree -------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    """Every process's children, from /proc/*/stat (the 4th field is the parent)."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # the process ended meanwhile
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry))
    return tree


def tree_rss_bytes(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants."""
    tree, total, stack = _children(), 0, [root]
    while stack:
        pid = stack.pop()
        with contextlib.suppress(OSError):  # the process ended meanwhile
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        stack.extend(tree.get(pid, []))
    return total


def run_measured(command: list[str], interval: float = 0.05) -> dict[str, Any]:
    """Run ``command``; its wall time, exit code, output and the peak RSS of its process tree."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_bytes(process.pid))
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak / MB, 1),
        "returncode": process.returncode,
        "stdout": stdout,
        "stderr": stderr,
    }


# --- one data set -------------------------------------------------------------------------------


def train_command(engine: str, data_dir: Path, artifacts: Path, master: str) -> list[str]:
    command = [sys.executable, str(REPO / "train_and_save_model.py"), "--engine", engine]
    command += ["--data-dir", str(data_dir), "--artifacts-dir", str(artifacts)]
    return command + (["--spark-master", master] if engine == "spark" else [])


def stage_seconds(stdout: str) -> dict[str, float]:
    """The per-stage timings the training log prints ("NAME: done in 1.23 s ...")."""
    stages = {}
    for line in stdout.splitlines():
        if ": done in " in line:
            name, rest = line.split(": done in ", 1)
            stages[name] = float(rest.split()[0])
    return stages


def measure_engine(engine: str, data_dir: Path, master: str, repeat: int) -> dict[str, Any]:
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="movierec-bench-") as scratch:
            run = run_measured(train_command(engine, data_dir, Path(scratch), master))
        if run["returncode"] != 0:
            raise SystemExit(f"{engine} training failed:\n{run['stderr'][-2000:]}")
        run["stages"] = stage_seconds(run.pop("stdout"))
        run.pop("stderr")
        runs.append(run)
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs),
        "runs": runs,
    }


def measure_quality(data_dir: Path, master: str) -> dict[str, float]:
    """New-user NDCG@20 of the default hybrid, both engines on the same split (the harness)."""
    from recommender.data import load_dataset
    from recommender.evaluation import NEW_USER, evaluate, fit_local, metrics, trainer_fit
    from recommender.spark_engine import spark_session, train_spark
    from recommender.training import TrainingConfig

    data, config = load_dataset(data_dir), TrainingConfig()
    spark = spark_session(master)
    fits = {
        "local": fit_local,
        "spark": trainer_fit(lambda folder, out, cfg: train_spark(folder, out, cfg, spark=spark)),
    }
    figures = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", metrics.MetricWarning)
            for name, fit in fits.items():
                result = evaluate(
                    data, config, fit=fit, protocols=(NEW_USER,), scorers=["hybrid (default)"]
                )
                figures[name] = round(result.ndcg("hybrid (default)"), 4)
    finally:
        spark.stop()
    return figures


def count_ratings(data_dir: Path) -> int:
    with (data_dir / "ratings.csv").open("rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b"")) - 1


# --- output -------------------------------------------------------------------------------------


def table(results: list[dict[str, Any]]) -> str:
    header = (
        f"{'data':<22} {'ratings':>10} {'local s':>8} {'spark s':>8} {'time x':>7} "
        f"{'local MB':>9} {'spark MB':>9} {'mem x':>6}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        local, spark = r["local"], r["spark"]
        lines.append(
            f"{r['name']:<22} {r['ratings']:>10,} {local['seconds']:>8.1f} "
            f"{spark['seconds']:>8.1f} {r['time_ratio']:>7.1f} {local['peak_rss_mb']:>9.0f} "
            f"{spark['peak_rss_mb']:>9.0f} {r['memory_ratio']:>6.1f}"
        )
        if "ndcg_at_20" in r:
            lines.append(f"{'':<22} new-user NDCG@20: {r['ndcg_at_20']}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dirs", type=Path, nargs="+", help="MovieLens-format folders")
    parser.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    parser.add_argument("--repeat", type=int, default=1, help="runs per engine (median)")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write the figures")
    parser.add_argument("--quality", action="store_true", help="also compare new-user NDCG@20")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = []
    for data_dir in args.data_dirs:
        result: dict[str, Any] = {"name": data_dir.name, "data_dir": str(data_dir)}
        result["ratings"] = count_ratings(data_dir)
        for engine in ("local", "spark"):
            print(f"{data_dir.name}: training with the {engine} engine ...", file=sys.stderr)
            result[engine] = measure_engine(engine, data_dir, args.master, args.repeat)
        result["time_ratio"] = round(result["spark"]["seconds"] / result["local"]["seconds"], 2)
        result["memory_ratio"] = round(
            result["spark"]["peak_rss_mb"] / result["local"]["peak_rss_mb"], 2
        )
        if args.quality:
            print(f"{data_dir.name}: new-user NDCG@20 of both engines ...", file=sys.stderr)
            result["ndcg_at_20"] = measure_quality(data_dir, args.master)
        results.append(result)
    report = {
        "command": " ".join([Path(sys.argv[0]).as_posix(), *(argv or sys.argv[1:])]),
        "master": args.master,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "results": results,
    }
    print(table(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
