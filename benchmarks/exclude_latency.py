"""What 1,000 excluded movieIds ("Not interested") add to a request.

    python benchmarks/exclude_latency.py --artifacts-dir artifacts --requests 300

Times ``recommend`` on random 1-20-movie profiles, each request twice in alternating order:
with no exclusions and with ``--excluded`` random movieIds (plain ints, as the page passes
them), and ``popular`` and ``for_user`` the same way. Prints the median of each and of the
paired differences: alternating the pairs keeps a busy machine's drift out of the difference.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recommender import Recommender


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def paired(
    plain: Callable[[int], object], excluded: Callable[[int], object], requests: int
) -> tuple[float, float, float]:
    """(median ms without, median ms with, median paired difference ms)."""
    without, with_, extra = [], [], []
    for i in range(requests):
        if i % 2:
            b, a = timed(lambda i=i: excluded(i)), timed(lambda i=i: plain(i))
        else:
            a, b = timed(lambda i=i: plain(i)), timed(lambda i=i: excluded(i))
        without.append(a)
        with_.append(b)
        extra.append(b - a)
    return float(np.median(without)), float(np.median(with_)), float(np.median(extra))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts-dir", type=Path, default=Path("artifacts"))
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--excluded", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rec = Recommender.load(args.artifacts_dir)
    rng = np.random.default_rng(args.seed)
    ids = rec.movie_ids
    profiles = [
        {int(m): 4.0 for m in rng.choice(ids, size=rng.integers(1, 21), replace=False)}
        for _ in range(args.requests)
    ]
    hidden = [
        [int(m) for m in rng.choice(ids, size=args.excluded, replace=False)]
        for _ in range(args.requests)
    ]
    users = rng.choice(rec.user_ids, size=args.requests)
    for i in range(5):  # warm the caches and the allocator
        rec.recommend(profiles[i], 20, exclude=hidden[i])
    calls = {
        "recommend": (
            lambda i: rec.recommend(profiles[i], 20),
            lambda i: rec.recommend(profiles[i], 20, exclude=hidden[i]),
        ),
        "popular": (lambda i: rec.popular(15), lambda i: rec.popular(15, exclude=hidden[i])),
        "for_user": (
            lambda i: rec.for_user(int(users[i]), 20),
            lambda i: rec.for_user(int(users[i]), 20, exclude=hidden[i]),
        ),
    }
    print(f"{len(ids):,} movies, {args.excluded:,} excluded ids, {args.requests} requests each")
    print("call       median ms  with exclude  added (median of pairs)")
    for name, (plain, excluded) in calls.items():
        without, with_, extra = paired(plain, excluded, args.requests)
        print(f"{name:10} {without:9.2f}  {with_:12.2f}  {extra:+.2f} ms")
    alone = [timed(lambda i=i: rec.steering.leave_out(np.ones(len(ids), bool), hidden[i]))
             for i in range(args.requests)]  # fmt: skip
    print(f"the exclusion step alone (check the ids, mask them): {np.median(alone):.2f} ms median,"
          f" {np.percentile(alone, 99):.2f} ms p99")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
