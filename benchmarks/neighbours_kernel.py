"""The neighbour lists two ways on one data set, timed in one process: the compiled top-n
product (``recommender.topn``, what the trainer runs) and scipy's sparse products cut to the
top K afterwards (``top_k_rows`` without a stand-in, the path before issue 20).

    python benchmarks/neighbours_kernel.py DATA_DIR [--skip-scipy]

It prints the time of the per-user cap, of each path and their ratio, how many rows the
compiled path handed to scipy (a cut its bound could not certify), and whether the two lists
are identical. Timings on a shared machine are noisy: compare the ratio within one run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recommender import neighbours, topn
from recommender.data import load_dataset
from recommender.training import TrainingConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--skip-scipy", action="store_true", help="time the compiled path only")
    args = parser.parse_args(argv)
    config = TrainingConfig()
    data = load_dataset(args.data_dir)
    start = time.perf_counter()
    liked = neighbours.linked_ratings(data.ratings, config, data.user_ids)
    print(f"per-user cap ({config.neighbour_user_cap}): {time.perf_counter() - start:.2f} s")
    shrinkage, k = config.neighbour_shrinkage, config.neighbours
    asymmetry = config.neighbour_asymmetry
    handed = []
    exact = topn.block_top_k

    def counting(block, rows, k, weigh):  # a block wider than the candidates came from scipy
        if np.diff(block.indptr).max(initial=0) > k + 1 + topn.MARGIN:
            handed.append(len(rows))
        return exact(block, rows, k, weigh)

    topn.block_top_k = counting
    neighbours.COMPILED_NNZ = 0  # the compiled product at any size
    start = time.perf_counter()
    compiled = neighbours.cosine(liked, shrinkage, k, asymmetry)
    compiled_seconds = time.perf_counter() - start
    topn.block_top_k = exact
    print(f"compiled top-n product: {compiled_seconds:.2f} s ({sum(handed):,} of "
          f"{liked.shape[1]:,} rows handed to scipy)")  # fmt: skip
    if args.skip_scipy:
        return 0
    edges = sp.csr_matrix(liked > 0, dtype=np.float32)
    counts = np.bincount(edges.indices, minlength=edges.shape[1])
    weigh = neighbours.cosine_weigh(counts, shrinkage, asymmetry)
    start = time.perf_counter()
    reference = neighbours.top_k_rows(edges, k, weigh)
    scipy_seconds = time.perf_counter() - start
    same = all(
        np.array_equal(getattr(compiled, name), getattr(reference, name))
        for name in ("indptr", "indices", "data")
    )
    print(f"scipy blocks: {scipy_seconds:.2f} s; scipy / compiled: "
          f"{scipy_seconds / compiled_seconds:.2f}x; identical lists: {same}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
