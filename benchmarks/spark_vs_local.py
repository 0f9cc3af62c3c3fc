"""Spark engine against the local engine: the same CLI on the same data, time, memory, Spark work.

    python benchmarks/spark_vs_local.py DATA_DIR [DATA_DIR ...] [--master local[2]]
                                        [--repeat 1] [--json PATH] [--quality]
    python benchmarks/spark_vs_local.py --plan benchmarks/results/spark_vs_local.json

Each run is the user's command, ``train_and_save_model.py --engine ENGINE``, in a fresh process,
timed end to end (interpreter, imports, Spark's JVM start, training, bundle). Peak memory is the
highest resident set size, sampled every 50 ms from /proc, of the whole process tree and of its
parts: the Python driver (where the movie-side arrays are), Spark's JVM (driver and executor: one
JVM in local mode) and the Python workers Spark starts. CPU time is summed over the same
processes: on a shared machine it varies far less than wall time.

Spark runs with its event log on (a spark-defaults.conf in a temporary SPARK_CONF_DIR), and the
log is read back for each stage of the training and each SVD pass: Spark jobs, shuffle bytes
written, bytes of task results sent to the driver, and executor time. The training log's own
lines give each stage's time and each pass's broadcast and driver-bound bytes.

``--quality`` also runs the evaluation harness (new-user NDCG@20 of the default hybrid, the same
split) on both engines. A table is printed and everything is written as JSON (default
``benchmarks/results/spark_vs_local.json``); the load average is recorded beside each run.

``--plan`` trains nothing: from the costs the largest data set measured (bytes per rating
shuffled and written, bytes per touched movie row in a pass, bytes sent to the driver) it works
out passes, driver memory and shuffle volume at MovieLens-32M and at 1B ratings (docs/spark.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script: the recommender and benchmarks packages
RESULTS = REPO / "benchmarks" / "results" / "spark_vs_local.json"
MB = 2**20
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")
SVD_STAGE = "SVD ("
BLOCKS_STAGE = "user blocks"
NEIGHBOURS_STAGE = "neighbours"


# --- memory of a process tree -------------------------------------------------------------------


def _processes() -> dict[int, tuple[int, str, float]]:
    """Every process's (parent, command name, CPU seconds so far), from /proc/*/stat."""
    table: dict[int, tuple[int, str, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # the process ended meanwhile
            continue
        head, tail = stat.rsplit(")", 1)
        fields = tail.split()
        cpu = (int(fields[11]) + int(fields[12])) / TICKS
        table[int(entry)] = (int(fields[1]), head.split("(", 1)[1], cpu)
    return table


def tree_usage(root: int) -> dict[int, tuple[str, int, float]]:
    """(kind, resident bytes, CPU seconds) of ``root`` ("driver") and each of its descendants
    ("jvm" for Spark's JVM, "workers" for the rest: Spark's Python workers)."""
    table = _processes()
    children: dict[int, list[int]] = defaultdict(list)
    for pid, (parent, _, _) in table.items():
        children[parent].append(pid)
    usage = {}
    stack = [root]
    while stack:
        pid = stack.pop()
        with contextlib.suppress(OSError, KeyError):  # the process ended meanwhile
            kind = "driver" if pid == root else "jvm" if table[pid][1] == "java" else "workers"
            resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
            usage[pid] = (kind, resident, table[pid][2])
        stack.extend(children.get(pid, []))
    return usage


def run_measured(command: list[str], env: dict[str, str], interval: float = 0.05) -> dict:
    """Run ``command``: its wall time, exit code, output and the peak RSS of its process tree."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    peaks = {"total": 0, "driver": 0, "jvm": 0, "workers": 0}
    cpu: dict[int, tuple[str, float]] = {}  # the last CPU seconds seen of each process
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            sizes = {"driver": 0, "jvm": 0, "workers": 0}
            for pid, (kind, resident, seconds) in tree_usage(process.pid).items():
                sizes[kind] += resident
                cpu[pid] = (kind, seconds)
            sizes["total"] = sum(sizes.values())
            for kind, size in sizes.items():
                peaks[kind] = max(peaks[kind], size)
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    cpu_by_kind: dict[str, float] = defaultdict(float)
    for kind, used in cpu.values():
        cpu_by_kind[kind] += used
    return {
        "seconds": round(seconds, 2),
        # CPU time depends far less than wall time on what else the machine runs
        "cpu_seconds": round(sum(cpu_by_kind.values()), 1),
        "cpu_seconds_by_process": {kind: round(used, 1) for kind, used in cpu_by_kind.items()},
        "peak_rss_mb": round(peaks.pop("total") / MB, 1),
        "peak_rss_mb_by_process": {kind: round(size / MB, 1) for kind, size in peaks.items()},
        "returncode": process.returncode,
        "stdout": stdout,
        "stderr": stderr,
    }


# --- what the training log and Spark's event log say ------------------------------------------


def stage_seconds(stdout: str) -> dict[str, dict[str, float]]:
    """Each stage's time and Spark jobs from the log ("NAME: done in 1.23 s (5 Spark jobs)")."""
    stages = {}
    for line in stdout.splitlines():
        if ": done in " in line:
            name, rest = line.split(": done in ", 1)
            jobs = re.search(r"\((\d+) Spark jobs\)", rest)
            stages[name] = {"seconds": float(rest.split()[0])}
            if jobs:
                stages[name]["jobs"] = int(jobs.group(1))
    return stages


PASS_LINE = re.compile(
    r"SVD pass (\d+)/\d+: ([\d.]+) s, broadcast ([\d.]+) MB, to the driver ([\d.]+) MB"
)


def pass_lines(stdout: str) -> list[dict[str, float]]:
    """The training log's line for each SVD pass: time, broadcast and driver-bound MB."""
    keys = ("pass", "seconds", "broadcast_mb", "to_driver_mb")
    return [
        dict(zip(keys, map(float, match.groups()), strict=True))
        for match in map(PASS_LINE.search, stdout.splitlines())
        if match
    ]


def event_log_costs(folder: Path) -> dict[str, dict[str, dict[str, float]]]:
    """Per job group (training stage) and per job description (SVD pass): Spark jobs, shuffle
    bytes written, task result bytes, executor run and CPU seconds, from the event log."""
    events = [
        json.loads(line) for path in folder.rglob("*") if path.is_file() for line in path.open()
    ]
    job_keys: dict[int, tuple[str, str]] = {}
    stage_job: dict[int, int] = {}
    for event in events:
        if event["Event"] == "SparkListenerJobStart":
            properties = event.get("Properties", {})
            group = properties.get("spark.jobGroup.id") or ""
            job_keys[event["Job ID"]] = (group, properties.get("spark.job.description") or "")
            for stage in event["Stage IDs"]:
                stage_job.setdefault(stage, event["Job ID"])
    costs: dict[str, dict[str, dict[str, float]]] = {"stages": {}, "passes": {}}
    for job, (group, description) in job_keys.items():  # a pass is described "SVD pass i/n"
        job_keys[job] = (group, description if description.startswith("SVD pass") else "")
        for key, name in (("stages", group), ("passes", job_keys[job][1])):
            if name:
                costs[key].setdefault(name, defaultdict(float))["jobs"] += 1
    for event in events:
        if event["Event"] != "SparkListenerTaskEnd" or event["Stage ID"] not in stage_job:
            continue
        group, description = job_keys[stage_job[event["Stage ID"]]]
        metrics = event.get("Task Metrics") or {}
        shuffle = (metrics.get("Shuffle Write Metrics") or {}).get("Shuffle Bytes Written", 0)
        for key, name in (("stages", group), ("passes", description)):
            if name:
                cost = costs[key][name]
                cost["shuffle_mb"] += shuffle / MB
                cost["result_mb"] += metrics.get("Result Size", 0) / MB
                cost["executor_seconds"] += metrics.get("Executor Run Time", 0) / 1000
                cost["executor_cpu_seconds"] += metrics.get("Executor CPU Time", 0) / 1e9
    return {
        key: {name: {k: round(v, 2) for k, v in cost.items()} for name, cost in table.items()}
        for key, table in costs.items()
    }


def spark_conf_dir(folder: Path, events: Path) -> Path:
    """A SPARK_CONF_DIR whose spark-defaults.conf turns the (plain JSON) event log on."""
    folder.mkdir()
    (folder / "spark-defaults.conf").write_text(
        "spark.eventLog.enabled true\n"
        f"spark.eventLog.dir file://{events}\n"
        "spark.eventLog.compress false\n"
        "spark.eventLog.rolling.enabled false\n"
    )
    return folder


# --- one data set -------------------------------------------------------------------------------


def train_command(engine: str, data_dir: Path, artifacts: Path, master: str) -> list[str]:
    command = [sys.executable, str(REPO / "train_and_save_model.py"), "--engine", engine]
    command += ["--data-dir", str(data_dir), "--artifacts-dir", str(artifacts)]
    return command + (["--spark-master", master] if engine == "spark" else [])


def measure_run(engine: str, data_dir: Path, master: str) -> dict[str, Any]:
    """One training in a fresh process, with Spark's event log read back for a Spark run."""
    with tempfile.TemporaryDirectory(prefix="movierec-bench-") as scratch:
        scratch_dir = Path(scratch)
        env = dict(os.environ)
        if engine == "spark":
            (scratch_dir / "events").mkdir()
            conf = spark_conf_dir(scratch_dir / "conf", scratch_dir / "events")
            env["SPARK_CONF_DIR"] = str(conf)
        load = os.getloadavg()[0]
        run = run_measured(train_command(engine, data_dir, scratch_dir / "out", master), env)
        if run["returncode"] != 0:
            raise SystemExit(f"{engine} training failed:\n{run['stderr'][-2000:]}")
        run["load_average_before"] = round(load, 2)
        run["load_average_after"] = round(os.getloadavg()[0], 2)
        stdout = run.pop("stdout")
        run.pop("stderr")
        run["stages"] = stage_seconds(stdout)
        if engine == "spark":
            run["passes"] = pass_lines(stdout)
            run["spark"] = event_log_costs(scratch_dir / "events")
            run["bundle"] = bundle_sizes(scratch_dir / "out")
    return run


def bundle_sizes(artifacts: Path) -> dict[str, Any]:
    """Bytes of the bundle and of its users/ part files, and the manifest's counts."""
    folder = artifacts / (artifacts / "CURRENT").read_text().strip()
    manifest = json.loads((folder / "manifest.json").read_text())
    parts = [
        entry["bytes"] for name, entry in manifest["files"].items() if name.startswith("users/")
    ]
    return {
        "bytes": sum(entry["bytes"] for entry in manifest["files"].values()),
        "user_part_bytes": sum(parts),
        "user_parts": len(parts),
        "touched_movie_rows": manifest["spark"]["touched_movie_rows"],
        "counts": manifest["counts"],
    }


def measure_engine(engine: str, data_dir: Path, master: str, repeat: int) -> dict[str, Any]:
    runs = [measure_run(engine, data_dir, master) for _ in range(repeat)]
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
        "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs),
        "runs": runs,
    }


def measure_quality(data_dir: Path, master: str) -> dict[str, float]:
    """New-user NDCG@20 of the default hybrid, both engines on the same split (the harness)."""
    from recommender.data import load_dataset
    from recommender.evaluation import NEW_USER, evaluate, fit_local, metrics, trainer_fit
    from recommender.spark import spark_session, train_spark
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


# --- at sizes not measured here: worked out from the measured costs ------------------------------

SCENARIOS = {  # name: (users, movies, ratings, cores of the cluster)
    "MovieLens-32M": (200_948, 87_585, 32_000_204, 2),
    "1B ratings": (50_000_000, 2_000_000, 1_000_000_000, 200),
}
RATINGS_PER_BLOCK = 4_000_000  # recommender/spark/engine.py


def measured_costs(result: dict[str, Any]) -> dict[str, float]:
    """Per-unit costs of the largest measured Spark run: bytes per rating shuffled into the user
    blocks and written as part files, bytes per touched movie row shuffled in a pass, bytes per
    movie and column sent to the driver in a pass."""
    run = result["spark"]["runs"][0]
    counts, bundle, stages = run["bundle"]["counts"], run["bundle"], run["spark"]["stages"]
    width = counts["factors"] + 10
    blocks = next(cost for name, cost in stages.items() if name.startswith(BLOCKS_STAGE))
    passes = list(run["spark"]["passes"].values())
    return {
        "width": width,
        "ratings_shuffle_bytes": blocks["shuffle_mb"] * MB / counts["ratings"],
        "part_bytes": bundle["user_part_bytes"] / counts["ratings"],
        "pass_shuffle_bytes_per_row": statistics.median(p["shuffle_mb"] for p in passes)
        * MB
        / (bundle["touched_movie_rows"] * width),
        "pass_driver_bytes": statistics.median(p["result_mb"] for p in passes)
        * MB
        / (counts["movies"] * width),
    }


def driver_memory(results: dict[str, Any]) -> tuple[float, float]:
    """(bytes per movie-side value, bytes with none): the least-squares line through the Python
    driver's median peak RSS of each measured data set against its movies x (k + 10)."""
    values, peaks = [], []
    for result in results["results"]:
        runs = result["spark"]["runs"]
        counts = runs[0]["bundle"]["counts"]
        values.append(counts["movies"] * (counts["factors"] + 10))
        peaks.append(statistics.median(r["peak_rss_mb_by_process"]["driver"] for r in runs) * MB)
    slope, intercept = np.polyfit(values, peaks, 1)
    return float(slope), float(intercept)


def touched_movies(movies: int, ratings_per_block: float) -> float:
    """Expected movies one block of ratings touches under the generator's popularity curve."""
    from benchmarks.generate_movielens import make_popularity

    weights = make_popularity(movies).weights
    return float(np.sum(-np.expm1(ratings_per_block * np.log1p(-weights))))


def plan(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Passes, driver memory and shuffle volume at each of SCENARIOS, per ``measured_costs``."""
    largest = max(results["results"], key=lambda r: r["ratings"])
    unit = measured_costs(largest)
    per_value, baseline = driver_memory(results)
    rows = []
    for name, (users, movies, ratings, cores) in SCENARIOS.items():
        blocks = cores * -(-ratings // (cores * RATINGS_PER_BLOCK))
        touched = touched_movies(movies, ratings / blocks)
        side = movies * unit["width"]  # movie-side values of one pass
        rows.append(
            {
                "data": name,
                "users": users,
                "movies": movies,
                "ratings": ratings,
                "user_blocks": blocks,
                "ratings_shuffle_gb": ratings * unit["ratings_shuffle_bytes"] / 2**30,
                "users_parts_gb": ratings * unit["part_bytes"] / 2**30,
                "touched_per_block": touched,
                "pass_shuffle_gb": blocks
                * touched
                * unit["width"]
                * unit["pass_shuffle_bytes_per_row"]
                / 2**30,
                "pass_shuffle_bound_gb": blocks * side * unit["pass_shuffle_bytes_per_row"] / 2**30,
                "pass_to_driver_gb": side * unit["pass_driver_bytes"] / 2**30,
                "pass_broadcast_gb": side * 4 / 2**30,
                "driver_python_gb": (baseline + side * per_value) / 2**30,
                "driver_bytes_per_value": per_value,
            }
        )
    return rows


# --- output -------------------------------------------------------------------------------------


def svd_work(run: dict[str, Any]) -> dict[str, float]:
    """Seconds and Spark jobs of the SVD stage, of the user blocks built for it and of the
    neighbours."""
    kinds = {"svd": SVD_STAGE, "blocks": BLOCKS_STAGE, "neighbours": NEIGHBOURS_STAGE}
    work = {f"{kind}_{unit}": 0 for kind in kinds for unit in ("seconds", "jobs")}
    for name, stage in run["stages"].items():
        for kind, prefix in kinds.items():
            if name.startswith(prefix):
                work[f"{kind}_seconds"] += stage["seconds"]
                work[f"{kind}_jobs"] += stage.get("jobs", 0)
    return work


def table(results: list[dict[str, Any]]) -> str:
    header = (
        f"{'data':<16} {'ratings':>10} {'local s':>8} {'cpu s':>6} {'spark s':>8} {'cpu s':>6} "
        f"{'local MB':>9} {'spark MB':>9} {'SVD s':>6} {'SVD jobs':>8} {'blocks s':>8} "
        f"{'blocks jobs':>11} {'nbrs s':>6} {'nbrs jobs':>9}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        local, spark = r["local"], r["spark"]
        work = svd_work(spark["runs"][0])
        lines.append(
            f"{r['name']:<16} {r['ratings']:>10,} {local['seconds']:>8.1f} "
            f"{local['cpu_seconds']:>6.0f} {spark['seconds']:>8.1f} {spark['cpu_seconds']:>6.0f} "
            f"{local['peak_rss_mb']:>9.0f} {spark['peak_rss_mb']:>9.0f} "
            f"{work['svd_seconds']:>6.1f} {work['svd_jobs']:>8} {work['blocks_seconds']:>8.1f} "
            f"{work['blocks_jobs']:>11} {work['neighbours_seconds']:>6.1f} "
            f"{work['neighbours_jobs']:>9}"
        )
        if "ndcg_at_20" in r:
            lines.append(f"{'':<16} new-user NDCG@20: {r['ndcg_at_20']}")
    return "\n".join(lines)


def plan_table(rows: list[dict[str, Any]]) -> str:
    """The plan as the markdown table docs/spark.md shows."""
    lines = [
        "| data | user blocks | movies a block touches | ratings shuffled once | users/ parts "
        "| per SVD pass: shuffle (bound) | to the driver | broadcast | driver (Python) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['data']} | {r['user_blocks']:,} | {r['touched_per_block']:,.0f} "
            f"| {r['ratings_shuffle_gb']:,.1f} GB | {r['users_parts_gb']:,.1f} GB "
            f"| {r['pass_shuffle_gb']:,.1f} GB ({r['pass_shuffle_bound_gb']:,.0f} GB) "
            f"| {r['pass_to_driver_gb']:,.2f} GB | {r['pass_broadcast_gb']:,.2f} GB "
            f"| {r['driver_python_gb']:,.1f} GB |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dirs", type=Path, nargs="*", help="MovieLens-format folders")
    parser.add_argument(
        "--plan",
        type=Path,
        help="print passes, driver memory and shuffle volume at MovieLens-32M and 1B ratings "
        "from the costs measured in this JSON (no training)",
    )
    parser.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    parser.add_argument("--repeat", type=int, default=1, help="runs per engine (median)")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write the figures")
    parser.add_argument("--quality", action="store_true", help="also compare new-user NDCG@20")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.plan:
        print(plan_table(plan(json.loads(args.plan.read_text()))))
        return 0
    results = []
    for data_dir in args.data_dirs:
        result: dict[str, Any] = {"name": data_dir.name, "data_dir": str(data_dir)}
        result["ratings"] = count_ratings(data_dir)
        for engine in ("local", "spark"):
            print(f"{data_dir.name}: training with the {engine} engine ...", file=sys.stderr)
            result[engine] = measure_engine(engine, data_dir, args.master, args.repeat)
        result["time_ratio"] = round(result["spark"]["seconds"] / result["local"]["seconds"], 2)
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
