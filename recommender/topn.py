"""Each movie's top K neighbours through a compiled top-n sparse product (sparse_dot_topn).

``sparse_dot_topn.sp_matmul_topn(A, B, top_n)`` multiplies two sparse matrices in threads and
keeps only each row's ``top_n`` largest entries: a block of the co-occurrence matrix is never
held whole, and the product itself is several times faster than scipy's (docs/scale.md). It
ranks by the entries of the product, so the similarity must be a product, and the shrunk
cosine co_ij / (n_i^a n_j^(1-a) + s) is not one: its shrinkage s does not factorise.

So the product ranks by a stand-in, co_ij x ``column_scale[j]``, and keeps a few more than K
(``MARGIN``); the exact similarity of each candidate is then computed from its co-occurrence by
the same ``weigh`` as the scipy path, and each row cut to its K best by the same rule
(``block_top_k``: the larger similarity, a tie to the lower column). Whether a row is certainly
right is known: a movie the product left out has a stand-in of at most the row's lowest kept
one, so its similarity is at most that times ``most_over[row]`` (the largest exact / stand-in
over every column). A row whose K-th similarity is above that bound is exact. The other rows
get a second pass of the compiled product with WIDE_MARGIN candidates: most are rows whose K-th
similarity ties with hundreds of others (a popular movie's links to films one person rated, all
co 1 and n 1), a cut no narrow margin can certify. A row still in doubt after that (a stand-in
far from the similarity) is recomputed by the scipy product. The lists are therefore the scipy
path's, row for row (tests/test_neighbours.py compares them on ml-latest-small).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import scipy.sparse as sp

ROWS_PER_BLOCK = 128  # movies per block of the scipy path: its rows are the doubtful, popular ones
MARGIN = 150  # candidates kept beyond K (and the diagonal): few rows then need a second pass
WIDE_MARGIN = 2000  # the second pass's: beyond the ties at the cut (about 300 at 32M)
SAFETY = 1e-6  # relative slack on the bound, for the float32 rounding of the similarities
GROUPS = 16  # groups of rows by popularity in the cosine's stand-in
BOUND_CELLS = 64  # cells of the grid the cosine's bound is taken over
GATHER_SLICE = 1 << 20  # entries per slice of ``gather``: 8 MB of 64-bit indices at a time
TOP_K_CELLS = 1 << 24  # cells of in_top_k's padded grid at a time (64 MB of float32)
SLICE_ENTRIES = 1 << 20  # candidates cut to their top k at a time (``_block_top_k_in_slices``)
TIE_BREAK = 1e-9  # relative: of equal stand-ins, the lower column ranks higher
Weigh = Callable[[sp.csr_matrix, np.ndarray], None]
Result = tuple[np.ndarray, np.ndarray, np.ndarray]  # neighbours per row, columns, similarities


@dataclass(frozen=True)
class StandIn:
    """What the compiled product ranks by: co_ij x ``column_scale[group[i], j]`` (rows in
    groups, each with its own scale: the shrinkage is nearly a constant within a group); and
    ``left_out(rows, lowest)``: the largest similarity a movie the product left out of each
    row can have, given the lowest stand-in the row kept. ``counts``: the co-occurrences are
    whole numbers (unweighted users), recovered exactly."""

    column_scale: np.ndarray  # float64, groups x movies, > 0
    group: np.ndarray  # int per movie (row)
    left_out: Callable[[np.ndarray, np.ndarray], np.ndarray]
    counts: bool = True


def threads() -> int:
    """The threads of the compiled product: one per core, at most 4."""
    return max(1, min(os.cpu_count() or 1, 4))


def product_top_k(
    by_movie: sp.csr_matrix,
    edges: sp.csr_matrix,
    rows: np.ndarray,
    k: int,
    weigh: Weigh,
    stand_in: StandIn,
    margin: int | None = None,
    n_threads: int | None = None,
) -> Result:
    """``block_top_k(by_movie @ edges, rows, k, weigh)``, through the compiled product, up to
    ties at a row's cut (which of two equal similarities is kept): ``by_movie`` is movies
    ``rows`` x users, ``edges`` users x movies (float32). ``margin``: the candidates kept
    beyond k (MARGIN); the rows it cannot certify get a second pass with WIDE_MARGIN, then
    scipy. ``n_threads``: the product's threads (``threads()`` unless given)."""
    margin = MARGIN if margin is None else margin
    n_threads = threads() if n_threads is None else max(1, n_threads)
    pieces, doubts = [], []
    # each group's scale as the values of the edges' own structure (its indices not copied)
    values = np.empty(edges.nnz, dtype=np.float64)
    scaled = sp.csr_matrix((values, edges.indices, edges.indptr), shape=edges.shape, copy=False)
    binary = bool(np.all(edges.data == 1))  # the trainer's edges: one pass saved per group
    for group in np.unique(stand_in.group[rows]):
        at = np.flatnonzero(stand_in.group[rows] == group)
        gather(stand_in.column_scale[group], edges.indices, scaled.data)
        if not binary:
            scaled.data *= edges.data
        piece, doubtful = _group_top_k(
            by_movie[at], scaled, rows[at], k, weigh, stand_in, margin, n_threads
        )
        pieces.append((at[~doubtful], piece))
        doubts.append(at[doubtful])
    del scaled, values  # 200 MB at 32M, not held while the pieces are put in order
    doubt = np.concatenate(doubts)
    if len(doubt) and margin < WIDE_MARGIN:
        wide = product_top_k(
            by_movie[doubt], edges, rows[doubt], k, weigh, stand_in, WIDE_MARGIN, n_threads
        )
        pieces.append((doubt, wide))
    elif len(doubt):
        pieces += _scipy_top_k(by_movie, edges, rows, k, weigh, doubt)
    return _in_order(pieces, len(rows))


def _scipy_top_k(
    by_movie: sp.csr_matrix,
    edges: sp.csr_matrix,
    rows: np.ndarray,
    k: int,
    weigh: Weigh,
    at: np.ndarray,
) -> list[tuple[np.ndarray, Result]]:
    """(positions, their rows' result) of the rows at positions ``at``, by scipy's product
    ROWS_PER_BLOCK rows at a time: the exact path, for rows no stand-in certified."""
    pieces = []
    for chunk in np.array_split(at, max(1, -(-len(at) // ROWS_PER_BLOCK))):
        pieces.append((chunk, block_top_k(by_movie[chunk] @ edges, rows[chunk], k, weigh)))
    return pieces


def gather(table: np.ndarray, indices: np.ndarray, out: np.ndarray) -> None:
    """out[:] = table[indices], a slice at a time: ``np.take`` on the whole would first copy
    32-bit indices to 64-bit ones and buffer its output (400 MB at 32M, and 7x slower)."""
    for start in range(0, len(indices), GATHER_SLICE):
        end = start + GATHER_SLICE
        np.take(table, indices[start:end], out=out[start:end], mode="clip")  # valid columns


def _group_top_k(
    by_movie: sp.csr_matrix,
    scaled: sp.csr_matrix,
    rows: np.ndarray,
    k: int,
    weigh: Weigh,
    stand_in: StandIn,
    margin: int,
    n_threads: int,
) -> tuple[Result, np.ndarray]:
    """The result of the rows of one group that the bound certifies (the product's candidates
    hold their top k), and which rows it does not (to be computed again)."""
    n_top = k + 1 + margin  # + 1: the diagonal is among the candidates and left out
    found = _top_n_product(sp.csr_matrix(by_movie, dtype=np.float64), scaled, n_top, n_threads)
    scale = stand_in.column_scale[stand_in.group[rows[0]]]
    found.sort_indices()
    kept = np.diff(found.indptr)
    lowest = _row_reduce(np.minimum, found.data, found.indptr, np.inf)
    found.data /= scale[found.indices]
    if stand_in.counts:
        found.data = np.rint(found.data)
    result = _block_top_k_in_slices(found, rows, k, weigh)
    del found
    kth = _row_reduce(np.minimum, result[2], _indptr(result[0]), 0.0)
    bound = stand_in.left_out(rows, lowest) * (1 - SAFETY)
    # a row is right when what the product left out is at most its k-th similarity: then a
    # left-out movie could only tie with the k-th
    doubtful = (kept >= n_top) & ~((result[0] >= k) & (kth >= bound))
    return _rows_of(result, ~doubtful), doubtful


def _top_n_product(
    left: sp.csr_matrix, right: sp.csr_matrix, n_top: int, n_threads: int
) -> sp.csr_matrix:
    """Each row of ``left @ right`` cut to its ``n_top`` largest entries, in threads. Both
    float64 with 32-bit indices: straight to the compiled kernel (``sparse_dot_topn.unchecked``)
    whose checked entry point copies the right side's indices on every call (103 MB at 32M,
    sixteen times a training, on top of the peak); anything else through the checked one."""
    from sparse_dot_topn import sp_matmul_topn, unchecked  # training only

    arrays = (left.indptr, left.indices, right.indptr, right.indices)
    if all(array.dtype == np.int32 for array in arrays) and left.nnz and right.nnz:
        return unchecked.sp_matmul_topn_mt(left, right, n_top, False, 0.0, n_threads)
    return sp_matmul_topn(left, right, top_n=n_top, n_threads=n_threads)


def _block_top_k_in_slices(block: sp.csr_matrix, rows: np.ndarray, k: int, weigh: Weigh) -> Result:
    """``block_top_k`` SLICE_ENTRIES entries at a time: its temporaries, several times the
    block's size, were the training's peak at 32M (the 32,000 least rated films' candidates)."""
    cuts = np.searchsorted(block.indptr, np.arange(SLICE_ENTRIES, block.nnz, SLICE_ENTRIES))
    bounds = [0, *sorted(set(cuts.tolist()) - {0, len(rows)}), len(rows)]
    parts = [
        block_top_k(block[start:end], rows[start:end], k, weigh) for start, end in pairwise(bounds)
    ]
    return tuple(np.concatenate(arrays) for arrays in zip(*parts, strict=True))  # type: ignore[return-value]


def block_top_k(
    block: sp.csr_matrix,
    rows: np.ndarray,
    k: int,
    weigh: Weigh,
) -> Result:
    """(neighbours per row, their columns, their similarities) of a block of co-occurrence
    rows (row r of ``block`` is movie ``rows[r]``): weighed, the diagonal left out, each row
    cut to its ``k`` largest positive entries, columns sorted. Every engine's last step."""
    block = sp.csr_matrix(block, dtype=np.float32)  # weighed in place: a fresh product
    block.sum_duplicates()
    row_of = np.repeat(rows, np.diff(block.indptr))
    weigh(block, row_of)
    block.data[block.indices == row_of] = 0.0  # a movie is not its own neighbour
    # sum_duplicates left each row's entries in column order, which in_top_k's ties rely on
    keep = (block.data > 0) & in_top_k(block.data, block.indptr, k)
    rows_of = np.repeat(np.arange(len(rows)), np.diff(block.indptr))
    counts = np.bincount(rows_of[keep], minlength=len(rows)).astype(np.int64)
    return counts, block.indices[keep].astype(np.int32), block.data[keep].astype(np.float32)


def in_top_k(data: np.ndarray, indptr: np.ndarray, k: int) -> np.ndarray:
    """Whether each entry of a CSR is among the ``k`` largest of its row; a tie at the cut
    goes to the entries first in the row (the lower columns, rows in column order), so the
    same ratings always give the same neighbours. A row of at most k entries keeps them all;
    the longer ones are cut together, each through a padded grid (TOP_K_CELLS cells at a time)
    of rows of about its length: one grid as wide as the longest row made every short row pay
    for it (ml-latest-small's neighbours took 3.6 s that way, 1.1 s this way)."""
    if k <= 0:
        return np.zeros(len(data), dtype=bool)
    lengths = np.diff(indptr)
    keep = np.repeat(lengths <= k, lengths)
    long_rows = np.flatnonzero(lengths > k)
    if len(long_rows) == 0:
        return keep
    octave = np.log2(lengths[long_rows]).astype(np.int64)  # widths within 2x of each other
    order = np.argsort(octave, kind="stable")
    long_rows, octave = long_rows[order], octave[order]
    for rows in np.split(long_rows, np.flatnonzero(np.diff(octave)) + 1):
        step = max(1, TOP_K_CELLS // int(lengths[rows].max()))
        for first in range(0, len(rows), step):
            part = rows[first : first + step]
            at = ranges(indptr[part], lengths[part])
            keep[at] = _in_top_k_of(data[at], lengths[part], k)
    return keep


def _in_top_k_of(values: np.ndarray, lengths: np.ndarray, k: int) -> np.ndarray:
    """``in_top_k`` of rows of more than k entries, given one after the other (k >= 1)."""
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    row = np.repeat(np.arange(len(lengths)), lengths)
    column = np.arange(len(values)) - np.repeat(starts, lengths)
    width = int(lengths.max(initial=0))
    grid = np.full((len(lengths), width), -np.inf, dtype=values.dtype)
    grid[row, column] = values
    cut = np.partition(grid, width - k, axis=1)[:, width - k][row]
    above, tied = values > cut, values == cut
    tied_so_far = np.concatenate([[0], np.cumsum(tied)])
    tied_rank = tied_so_far[1:] - np.repeat(tied_so_far[starts], lengths)
    room = k - np.bincount(row[above], minlength=len(lengths))
    return above | (tied & (tied_rank <= room[row]))


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions start, start + 1, ..., start + length - 1 of every range, one after the
    other."""
    lengths = np.asarray(lengths, dtype=np.int64)
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(np.asarray(starts, dtype=np.int64) - offsets, lengths) + np.arange(
        lengths.sum()
    )


def tie_broken(scale: np.ndarray) -> np.ndarray:
    """Column scales a hair larger for a lower column: of two equal stand-ins the product
    then keeps the lower column, as ``block_top_k`` breaks a tie."""
    n = scale.shape[-1]
    return scale * (1 + TIE_BREAK * (n - np.arange(n)) / max(n, 1))


def cosine_stand_in(counts: np.ndarray, shrinkage: float, asymmetry: float) -> StandIn:
    """The stand-in of co_ij / (n_i^a n_j^(1-a) + s) (``neighbours.cosine_weigh``): rows in
    GROUPS by n_i^a, each ranking by co_ij / (n_j^(1-a) + c) with c = s / (its largest n_i^a),
    exact for a row with n_i^a = s / c (``_cosine_left_out`` bounds what it left out)."""
    counts = np.asarray(counts, dtype=np.float64)
    source, target = counts**asymmetry, counts ** (1 - asymmetry)
    rated = counts > 0
    if not rated.any():
        return StandIn(np.ones((1, len(counts))), np.zeros(len(counts), int), lambda r, low: low)
    # groups evenly spaced in log n_i^a, so that c is within a fixed ratio of every row's s / n_i^a
    cuts = np.geomspace(source[rated].min(), source[rated].max() * (1 + 1e-9), GROUPS + 1)[1:-1]
    group = np.searchsorted(cuts, source)
    # c = s / (the group's largest n_i^a): exact / stand-in then grows with t for every row of
    # the group, so what the product leaves out (stand-in below the cut) is below the cut too,
    # up to the small growth between the k-th neighbour's t and the largest
    largest = [source[group == g].max(initial=1.0) for g in range(GROUPS)]
    c = shrinkage / np.maximum(np.array(largest), 1e-9)
    with np.errstate(divide="ignore"):  # an unrated movie (t = 0, no shrinkage) has no links
        column_scale = tie_broken(1.0 / (target[None, :] + c[:, None]))
    # the targets t = n_j^(1-a) of the rated movies, cut into cells of a log grid
    grid = np.geomspace(target[rated].min(), target[rated].max() * (1 + 1e-9), BOUND_CELLS + 1)

    def left_out(rows: np.ndarray, lowest: np.ndarray) -> np.ndarray:
        return _cosine_left_out(
            rows, lowest, counts, source, c[group[rows]], grid, shrinkage, asymmetry
        )

    return StandIn(column_scale, group, left_out)


def _cosine_left_out(
    rows: np.ndarray,
    lowest: np.ndarray,
    counts: np.ndarray,
    source: np.ndarray,
    c: np.ndarray,
    grid: np.ndarray,
    shrinkage: float,
    asymmetry: float,
) -> np.ndarray:
    """The largest co / (n_i^a t + s) of a movie j left out of row i (t = n_j^(1-a)): its
    stand-in co / (t + c) is at most the row's lowest kept, so co <= lowest (t + c); and co
    <= n_j = t^(1 / (1-a)), co <= n_i. Over each cell of a grid over t, each of the three is
    monotone in t, so its largest is at an end of the cell; the smallest of the three bounds
    the cell."""
    low, high = grid[None, :-1], grid[None, 1:]
    a, lowest, c = source[rows, None], lowest[:, None], c[:, None]
    shrink = shrinkage + 1e-9
    by_stand_in = np.maximum(
        lowest * (low + c) / (a * low + shrink), lowest * (high + c) / (a * high + shrink)
    )
    by_raters_of_j = high ** (1 / (1 - asymmetry)) / (a * high + shrink)
    by_raters_of_i = counts[rows, None] / (a * low + shrink)
    return np.minimum(np.minimum(by_stand_in, by_raters_of_j), by_raters_of_i).max(axis=1)


def _row_reduce(ufunc: np.ufunc, data: np.ndarray, indptr: np.ndarray, empty: float) -> np.ndarray:
    """ufunc over each row's values (``empty`` for a row without any)."""
    out = np.full(len(indptr) - 1, empty, dtype=np.float64)
    full = np.flatnonzero(np.diff(indptr) > 0)
    if len(full):
        out[full] = ufunc.reduceat(data.astype(np.float64), indptr[full])
    return out


def _indptr(counts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])


def _rows_of(result: Result, keep: np.ndarray) -> Result:
    """The rows of ``result`` where ``keep`` is True."""
    counts, columns, values = result
    entries = np.repeat(keep, counts)
    return counts[keep], columns[entries], values[entries]


def _in_order(pieces: list[tuple[np.ndarray, Result]], n_rows: int) -> Result:
    """One result of ``n_rows`` rows from pieces (their rows' positions, their result) that
    hold every row once: each row's columns stay sorted (a stable sort by row)."""
    rows = np.concatenate([np.repeat(at, result[0]) for at, result in pieces])
    columns = np.concatenate([result[1] for _, result in pieces])
    values = np.concatenate([result[2] for _, result in pieces])
    order = np.argsort(rows, kind="stable")
    counts = np.bincount(rows, minlength=n_rows).astype(np.int64)
    return counts, columns[order].astype(np.int32), values[order].astype(np.float32)
