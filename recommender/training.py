"""Training: MovieLens CSVs in, a bundle out. Each stage is timed and reported."""

from __future__ import annotations

import ctypes
import platform
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.artifacts import trainer_lock
from recommender.bundle import SCHEMA_VERSION, Bundle, save_bundle, sha256_of
from recommender.collaborative import effective_factors, fit_svd
from recommender.content import fit_content
from recommender.data import Dataset, find_input_files, load_dataset
from recommender.history import history_arrays
from recommender.model import (  # TrainingConfig: re-exported
    CollaborativeModel,
    Model,
    TrainingConfig,
)
from recommender.popularity import fit_popularity
from recommender.registry import SCORERS
from recommender.scorer import Scorer

Progress = Callable[[str], None]
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
MMAP_THRESHOLD_BYTES = 4 << 20


class TrainingError(RuntimeError):
    """Training produced something that must not be served (say, factors that are not finite)."""


@dataclass
class TrainingSummary:
    """What a training run produced, for the CLI's closing lines."""

    bundle_dir: Path
    counts: dict[str, int]
    bundle_bytes: int
    timings: dict[str, float]
    notes: list[str] = field(default_factory=list)


def default_weights(config: TrainingConfig) -> dict[str, float]:
    """Each registered scorer's weight in the default blend: its own, or the config's."""
    chosen = {scorer.name: float(scorer.default_weight) for scorer in SCORERS}
    unknown = sorted(set(dict(config.weights)) - set(chosen))
    if unknown:
        raise ValueError(f"weights for unknown scorer(s): {', '.join(unknown)}")
    return {**chosen, **{name: float(weight) for name, weight in config.weights}}


@contextmanager
def _stage(name: str, timings: dict[str, float], progress: Progress) -> Iterator[None]:
    progress(f"{name} ...")
    start = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - start, 3)
    progress(f"{name}: done in {timings[name]:.2f} s")


# From this many ratings on, the data-only scorers are built beside the SVD; below it the
# thread's contention for the GIL costs more than it hides (ml-latest-small: SVD 0.3 -> 0.9 s).
BESIDE_SVD_NNZ = 1_000_000


def give_back_large_arrays() -> bool:
    """Ask glibc to take every block of 4 MB or more straight from the system and hand it
    back when freed. By default glibc raises that threshold to the largest block freed so far
    (up to 32 MB), after which the training's many mid-sized arrays stay in its heap once
    freed: 250 MB more resident at MovieLens-32M, all of it added to the peak
    (benchmarks/benchmark.py). False where the C library has no mallopt (not glibc)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return False
    return bool(mallopt(ctypes.c_int(M_MMAP_THRESHOLD), ctypes.c_int(MMAP_THRESHOLD_BYTES)))


def fit(data: Dataset, config: TrainingConfig, timings: dict, progress: Progress) -> Model:
    """Fit collaborative, popularity and content models on validated data; the scorers that
    need only the data (``Scorer.from_data``) are built in a thread beside the SVD."""
    k = choose_factors(config.factors, data.ratings.shape, data.notes)
    with ThreadPoolExecutor(max_workers=1) as beside:
        beside_svd = data.ratings.nnz >= BESIDE_SVD_NNZ
        early = beside.submit(scorers_from_data, data, config) if beside_svd else None
        with _stage(f"SVD (k={k}, {config.variant})", timings, progress):
            cf = fit_svd(
                data.ratings,
                k,
                config.variant,
                config.seed,
                config.shrinkage,
                item_norm_exponent=config.item_norm_exponent,
            )
            cf = with_fold_in_settings(cf, config)
            check_finite(cf)
        # after the SVD: a Python-heavy stage beside the data-only scorers would slow both
        with _stage("scorers from the data (beside the SVD)", timings, progress):
            scorers = early.result() if early else scorers_from_data(data, config)
    with _stage("popularity", timings, progress):
        popularity = fit_popularity(data.ratings, config.popularity_quantile)
    with _stage("content", timings, progress):
        content = fit_content(data.movies["genres"].tolist())
    return Model(data, popularity, content, cf, scorers)


def scorers_from_data(data: Dataset, config: TrainingConfig) -> dict[str, Scorer]:
    """The registered scorers that are built from the data alone, by name."""
    built = {scorer.name: scorer.from_data(data, config) for scorer in SCORERS}
    return {name: scorer for name, scorer in built.items() if scorer is not None}


def check_finite(cf: CollaborativeModel) -> None:
    """Stop before a bundle with NaN or infinite factors is written: it would serve garbage."""
    for name in ("item_factors", "singular_values", "user_factors"):
        values = getattr(cf, name)
        if values is not None and not np.isfinite(values).all():
            raise TrainingError(
                f"the SVD gave {name} that are not finite numbers; nothing was written "
                "(check the ratings for extreme values, or try another --factors or --seed)"
            )


def with_fold_in_settings(cf: CollaborativeModel, config: TrainingConfig) -> CollaborativeModel:
    """The factors with the configured fold-in shrinkage: every engine's factors go through
    here, so a new fold-in setting is added in one place."""
    return replace(cf, shrinkage=config.shrinkage, shrinkage_decay=config.shrinkage_decay)


def choose_factors(factors: int, shape: tuple[int, int], notes: list[str]) -> int:
    """The factors the data supports; a note says so when that is fewer than asked."""
    k = effective_factors(factors, shape)
    if k < factors:
        notes.append(
            f"--factors {factors} is more than this data supports "
            f"({shape[0]} users, {shape[1]} movies): using {k}"
        )
    return k


def train(
    data_dir: str | Path,
    artifacts_dir: str | Path,
    config: TrainingConfig | None = None,
    progress: Progress = lambda message: None,
) -> TrainingSummary:
    """Load, validate and fit; write a bundle atomically. Raises DataError on bad input, and
    ArtifactsError when another training holds the folder or it cannot be written."""
    config = config or TrainingConfig()
    timings: dict[str, float] = {}
    give_back_large_arrays()
    # The manifest's sha256 of the inputs (an 877 MB ratings.csv at MovieLens-32M: seconds) is
    # computed in a thread while the data loads and the models fit, not after them. The lock
    # (one trainer per artifacts folder, and a write probe) is taken before any of the work.
    with trainer_lock(artifacts_dir), ThreadPoolExecutor(max_workers=1) as background:
        inputs = background.submit(input_fingerprints, find_input_files(Path(data_dir)))
        background.submit(import_content_fitter)
        with _stage("load", timings, progress):
            data = load_dataset(data_dir)
        model = fit(data, config, timings, progress)
        with _stage("scorers (neighbours, general CF)", timings, progress):
            arrays = model_arrays(model, config)
        with _stage("save", timings, progress):
            fingerprints = inputs.result()
            folder = write_model(
                model, config, artifacts_dir, timings, inputs=fingerprints, arrays=arrays
            )
    size = sum(path.stat().st_size for path in folder.iterdir())
    return TrainingSummary(folder, counts_of(model), size, timings, data.notes)


def import_content_fitter() -> None:
    """Import scikit-learn's TF-IDF vectoriser (``fit_content``'s) ahead, in the background
    while the data loads: the import is 0.6 s, most of the content stage on ml-latest-small."""
    import sklearn.feature_extraction.text  # noqa: F401


def counts_of(model: Model) -> dict[str, int]:
    ratings = model.data.ratings
    return {
        "users": int(ratings.shape[0]),
        "movies": int(ratings.shape[1]),
        "rated_movies": int((model.popularity.n_ratings > 0).sum()),
        "ratings": int(ratings.nnz),
        "genres": len(model.content.genres),
        "factors": model.cf.k,
    }


def movie_table(model: Model) -> pd.DataFrame:
    """The bundle's movie table: the catalogue plus popularity statistics."""
    table = model.data.movies.copy()
    table["n_ratings"] = model.popularity.n_ratings
    table["mean_rating"] = model.popularity.mean_rating
    table["weighted_rating"] = model.popularity.score
    return table


def model_arrays(model: Model, config: TrainingConfig) -> dict[str, np.ndarray]:
    """Every array of the bundle, by file name (without .npy): what each user rated, and
    each registered scorer's own arrays as ``<scorer>.<array>``.

    What each user rated only when the ratings are on this machine: the Spark engine's
    executors write it as Parquet part files instead (``recommender.history`` reads both).
    """
    seen = model.data.ratings
    arrays = {}
    if sp.issparse(seen):
        arrays = history_arrays(model.data.user_ids, seen)
    for scorer in SCORERS:
        built = model.scorers.get(scorer.name) or scorer.from_training(model, config)
        for key, array in built.to_arrays().items():
            if array.dtype.kind == "f" and not np.isfinite(array).all():
                raise TrainingError(f"scorer {scorer.name}: {key} holds values that are not finite")
            arrays[f"{scorer.name}.{key}"] = array
    return arrays


def write_model(
    model: Model,
    config: TrainingConfig,
    artifacts_dir: str | Path,
    timings: dict[str, float],
    manifest_extra: dict[str, Any] | None = None,
    inputs: list[dict[str, Any]] | None = None,
    extra_files: Path | None = None,
    arrays: dict[str, np.ndarray] | None = None,
) -> Path:
    """Write the bundle for a fitted model (atomically) and return its directory.

    ``manifest_extra`` adds or replaces manifest sections (the Spark engine records its engine,
    Spark version and master there). ``inputs`` are the input fingerprints when they were
    computed already (``train`` hashes them while it fits); ``arrays`` the scorers' arrays when
    they were (``model_arrays``; ``train`` times them as a stage of their own). ``extra_files``
    is a folder of files written elsewhere (the Spark engine's ``users/`` parts), moved into
    the bundle.
    """
    manifest = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "engine": "local",
        "libraries": library_versions(),
        "inputs": inputs if inputs is not None else input_fingerprints(model.data.input_files),
        **model_sections(model, config),
        "notes": model.data.notes,
        "timings_seconds": timings,
        **(manifest_extra or {}),
    }
    return save_bundle(
        artifacts_dir,
        movie_table(model),
        arrays if arrays is not None else model_arrays(model, config),
        manifest,
        extra_files,
    )


def model_sections(model: Model, config: TrainingConfig) -> dict[str, Any]:
    """The manifest sections a ``Recommender`` reads, as both bundle writers write them."""
    return {
        "parameters": {**asdict(config), "factors": model.cf.k},
        "weights": default_weights(config),
        "counts": counts_of(model),
        "genres": model.content.genres,
        "popularity": {"min_votes": model.popularity.min_votes, "prior": model.popularity.prior},
    }


def library_versions() -> dict[str, str]:
    names = ("numpy", "pandas", "scipy", "scikit-learn", "pyarrow")
    return {"python": platform.python_version(), **{name: version(name) for name in names}}


def input_fingerprints(paths: list[Path]) -> list[dict[str, Any]]:
    return [
        {"file": path.name, "bytes": path.stat().st_size, "sha256": sha256_of(path)}
        for path in paths
    ]


def in_memory_bundle(model: Model, config: TrainingConfig) -> Bundle:
    """The bundle ``write_model`` would write, kept in memory (``path`` is None).

    The evaluation builds its ``Recommender`` from this, so what it measures is what ships; the
    manifest holds the sections the ``Recommender`` reads, as ``write_model`` writes them.
    """
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "engine": "local (in memory)",
        **model_sections(model, config),
        "notes": list(model.data.notes),
    }
    arrays = model_arrays(model, config)
    return Bundle(None, manifest, movie_table(model), arrays)  # type: ignore[arg-type]
