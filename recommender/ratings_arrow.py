"""The fast path of reading ratings.csv: pyarrow straight into compact numpy arrays.

``recommender.data`` tries it first and falls back to its checked reader (which names the
file, column and row of the first problem) whenever this returns None.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from recommender.data_messages import MAX_RATING, MIN_ID, MIN_RATING


def read_clean_ratings(
    path: Path, names: list[str], with_times: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None] | None:
    """The fast path: ratings.csv (its header's ``names``) parsed straight into compact arrays,
    or None.

    pyarrow parses the four columns as int32 ids, float64 ratings (so 5.0000001 is still out of
    range) and int64 timestamps (checked, and kept only ``with_times``), in parallel, with no
    pandas frame and no text columns. Anything unusual (a value that does not parse, a missing
    value, a rating out of range, ids beyond int32 or below 1, no rows) returns None: the
    checked reader then reads the file again and names the first problem exactly as it always
    has. A clean 32M-row file takes seconds instead of a minute, and a third of the memory.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    types = {"userId": pa.int32(), "movieId": pa.int32(), "rating": pa.float64()}
    if "timestamp" in names:
        types["timestamp"] = pa.int64()
    options = pa_csv.ConvertOptions(column_types=types, include_columns=list(types))
    try:
        table = pa_csv.read_csv(path, convert_options=options)
    except (pa.ArrowException, OSError, ValueError):
        return None
    if table.num_rows == 0:
        return None
    arrays: dict[str, np.ndarray] = {}
    for column in types:  # one column at a time, freeing each from the table as it is copied
        chunked = table.column(column)
        if chunked.null_count:
            return None
        if column != "timestamp" or with_times:
            arrays[column] = to_numpy(chunked)
        table = table.drop_columns([column])
        del chunked
        # Arrow's allocator keeps freed memory for reuse, which numpy cannot use: give it back,
        # or the 768 MB table of a 32M-row file stays resident beside its copy.
        pa.default_memory_pool().release_unused()
    del table
    ratings = arrays["rating"]
    if not ((ratings >= MIN_RATING) & (ratings <= MAX_RATING)).all():  # NaN is caught here too
        return None
    if arrays["userId"].min() < MIN_ID or arrays["movieId"].min() < MIN_ID:  # int32: max is fine
        return None
    ratings = ratings.astype(np.float32)
    return arrays["userId"], arrays["movieId"], ratings, arrays.get("timestamp")


def to_numpy(chunked: Any) -> np.ndarray:
    """A pyarrow ChunkedArray (no nulls) copied into memory numpy owns.

    ChunkedArray.to_numpy() would concatenate into Arrow's memory pool, which keeps what is
    freed later: at 32M ratings that is hundreds of MB that stay resident for the whole run.
    """
    out = np.empty(len(chunked), dtype=chunked.type.to_pandas_dtype())
    start = 0
    for chunk in chunked.chunks:
        out[start : start + len(chunk)] = chunk.to_numpy(zero_copy_only=True)
        start += len(chunk)
    return out
