"""Time the title search of recommender/titles.py beside the Recommender's search, on one bundle.

    python benchmarks/search_latency.py ARTIFACTS_DIR [--queries 200] [--seed 2] [--json PATH]

Both searches get the same queries, on the bundle's titles and numbers of ratings (what the app
will use):

- word starts: what benchmarks/benchmark.py times, the start (3 letters or more) of a word of a
  title drawn by popularity;
- titles typed: the readable names of 20 titles drawn by popularity, typed letter by letter;
- with a typo: the word starts with two neighbouring letters swapped.

Also the time to build the search, its vocabulary, and the typo correction alone over about
131,000 distinct random words: the generator's synthetic titles use about 150 distinct words
(ml-latest-small's 9,742 real titles use 9,159), and the correction is the part that grows
with the vocabulary.
Latencies are p50/p95/p99 in milliseconds (process CPU time beside them: the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

from benchmark import known_movie_odds, latencies_ms, typed_queries  # noqa: E402

from recommender import Recommender  # noqa: E402
from recommender.titles import TitleSearch, Vocabulary, display_title  # noqa: E402


def typed_titles(rec: Recommender, count: int, seed: int) -> list[str]:
    """Every prefix (3 letters or more) of the readable names of ``count`` popular titles."""
    rng = np.random.default_rng(seed)
    titles = rec.movies["title"].to_numpy()
    queries = []
    for code in rng.choice(len(titles), size=count, p=known_movie_odds(rec)):
        name = display_title(str(titles[code])).lower()
        queries += [name[:end] for end in range(3, len(name) + 1)]
    return queries


def with_typo(queries: list[str], seed: int) -> list[str]:
    """Each query with two neighbouring letters swapped (queries of 4 letters or more)."""
    rng = np.random.default_rng(seed)
    swapped = []
    for query in queries:
        if len(query) < 4:
            continue
        at = int(rng.integers(1, len(query) - 2))
        swapped.append(query[:at] + query[at + 1] + query[at] + query[at + 2 :])
    return swapped


def correction_alone(count: int, seed: int) -> dict[str, Any]:
    """Typo correction over a large random vocabulary (words of 2-11 letters)."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words = {"".join(rng.choice(letters, size=int(rng.integers(2, 12)))) for _ in range(count)}
    start = time.perf_counter()
    vocabulary = Vocabulary(words)
    build = time.perf_counter() - start
    picked = rng.choice(vocabulary.words, size=200)
    misspelt = with_typo([str(word) for word in picked if len(word) >= 5], seed)
    return {
        "words": len(vocabulary.words),
        "build_seconds": round(build, 3),
        "nearest": latencies_ms(lambda word: vocabulary.nearest(word, 3), misspelt),
    }


def measure(artifacts: Path, count: int, seed: int) -> dict[str, Any]:
    rec = Recommender.load(artifacts)
    start = time.perf_counter()
    search = TitleSearch(rec.movies["title"].tolist(), rec.movies["n_ratings"].to_numpy())
    build = time.perf_counter() - start
    starts = typed_queries(rec, count, seed)
    kinds = {
        "word starts": starts,
        "titles typed": typed_titles(rec, 20, seed + 1),
        "with a typo": with_typo(starts, seed + 2),
    }
    rec.search("warm up")  # the Recommender builds its search keys on the first search
    result: dict[str, Any] = {
        "artifacts": str(artifacts),
        "movies": len(rec.movies),
        "build_seconds": round(build, 3),
        "vocabulary_words": len(search.vocabulary.words),
        "load_average": os.getloadavg()[0],
    }
    for kind, queries in kinds.items():
        result[kind] = {
            "TitleSearch.find": latencies_ms(lambda q: search.find(q, 20), queries),
            "Recommender.search": latencies_ms(lambda q: rec.search(q, n=20), queries),
        }
    result["typo correction, random vocabulary"] = correction_alone(150_000, seed)
    return result


def render(result: dict[str, Any]) -> str:
    lines = [
        f"{result['artifacts']}: {result['movies']:,} movies, TitleSearch built in "
        f"{result['build_seconds']:.2f} s, {result['vocabulary_words']:,} distinct words, "
        f"load average {result['load_average']:.2f}"
    ]
    for kind in ("word starts", "titles typed", "with a typo"):
        for name, lat in result[kind].items():
            lines.append(
                f"  {kind:<13} {name:<19} p50 {lat['p50_ms']:6.2f}  p95 {lat['p95_ms']:6.2f}  "
                f"p99 {lat['p99_ms']:6.2f} ms  (cpu p99 {lat['cpu_p99_ms']:.2f}; "
                f"{lat['requests']} queries)"
            )
    alone = result["typo correction, random vocabulary"]
    lat = alone["nearest"]
    lines.append(
        f"  typo correction over {alone['words']:,} random words (built in "
        f"{alone['build_seconds']:.2f} s): p50 {lat['p50_ms']:.2f}  p99 {lat['p99_ms']:.2f} ms"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("artifacts_dir", type=Path, help="an artifacts folder with a bundle")
    parser.add_argument("--queries", type=int, default=200, help="word starts typed")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    result = measure(args.artifacts_dir, args.queries, args.seed)
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
