"""Shared fixtures: the real MovieLens data and one bundle trained from it per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from recommender import Recommender, TrainingConfig, train

REPO = Path(__file__).resolve().parents[1]
# Without MOVIEREC_DATA_DIR: the development copy beside the repository, else data/.
DEFAULT_DATA = next(
    (
        path
        for path in (REPO.parent / "shared" / "datasets" / "ml-latest-small", REPO / "data")
        if (path / "ratings.csv").is_file()
    ),
    REPO / "data",
)


def run_trainer(
    *args: str, env: dict | None = None, timeout: float = 300, cwd: Path = REPO
) -> subprocess.CompletedProcess:
    """``python train_and_save_model.py *args`` in a fresh process, its output captured."""
    command = [sys.executable, str(REPO / "train_and_save_model.py"), *args]
    return subprocess.run(
        command, capture_output=True, text=True, cwd=cwd, timeout=timeout, env=env
    )


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real data set: $MOVIEREC_DATA_DIR (CI sets it to ml-latest-small)."""
    path = Path(os.environ.get("MOVIEREC_DATA_DIR", DEFAULT_DATA))
    if not (path / "ratings.csv").is_file():
        pytest.fail(f"MOVIEREC_DATA_DIR={path} has no ratings.csv; point it at MovieLens data")
    return path


@pytest.fixture(scope="session")
def trained_artifacts(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An artifacts folder with a bundle trained on the real data with default parameters."""
    artifacts = tmp_path_factory.mktemp("artifacts")
    train(data_dir, artifacts, TrainingConfig())
    return artifacts


@pytest.fixture(scope="session")
def recommender(trained_artifacts: Path) -> Recommender:
    return Recommender.load(trained_artifacts)


def write_csv(folder: Path, name: str, text: str) -> Path:
    """Write a small hand-made CSV (exactly the given text) for a test."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


TINY_MOVIES = (
    "movieId,title,genres\n"
    "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n"
    "2,Alien (1979),Horror|Sci-Fi\n"
    "3,Heat (1995),Action|Crime|Thriller\n"
    '4,"Matrix, The (1999)",Action|Sci-Fi|Thriller\n'
    "5,Amélie (2001),Comedy|Romance\n"
    "6,Unrated Film (2020),(no genres listed)\n"
)


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    """A hand-made MovieLens-format folder: 6 movies (one unrated), 4 users."""
    folder = tmp_path / "tiny"
    write_csv(folder, "movies.csv", TINY_MOVIES)
    rows = [(1, 1, 4.0), (1, 2, 5.0), (1, 4, 4.5), (2, 1, 3.0), (2, 3, 4.0), (2, 4, 5.0)]
    rows += [(3, 2, 2.0), (3, 3, 3.5), (3, 5, 4.0), (4, 1, 5.0), (4, 5, 3.0), (4, 4, 4.0)]
    lines = ["userId,movieId,rating,timestamp"]
    lines += [f"{u},{m},{r},{1000 + i}" for i, (u, m, r) in enumerate(rows)]
    write_csv(folder, "ratings.csv", "\n".join(lines) + "\n")
    return folder


@pytest.fixture
def artifacts(tiny_data: Path, tmp_path: Path) -> Path:
    """An artifacts folder whose current bundle a first, normal training on the tiny data wrote."""
    folder = tmp_path / "artifacts"
    train(tiny_data, folder)
    return folder


def frame_titles(frame: pd.DataFrame) -> list[str]:
    return frame["title"].tolist()


EVIL = "<img src=x onerror=alert(1)> *Bold* ![x](https://example.invalid/x.png) (2001)"


def evil_bundle(folder: Path) -> Path:
    """A bundle whose first movie has HTML and Markdown (an image) in its title."""
    data = folder / "data"
    write_csv(
        data,
        "movies.csv",
        "movieId,title,genres\n"
        f'1,"{EVIL}",Comedy\n'
        "2,Plain Comedy (2002),Comedy\n"
        "3,Another Comedy (2003),Comedy|Drama\n",
    )
    ratings = [(u, m, 3.0 + (u + m) % 3) for u in range(1, 6) for m in (1, 2, 3)]
    lines = ["userId,movieId,rating"] + [f"{u},{m},{r}" for u, m, r in ratings]
    write_csv(data, "ratings.csv", "\n".join(lines) + "\n")
    train(data, folder / "artifacts", TrainingConfig())
    return folder / "artifacts"


# What a visitor types into the app's search box and the film meant (movieIds of
# ml-latest-small): the cases and a few more.
SEARCHES = [
    ("the godfather", 858),
    ("godfather, the", 858),
    ("godfathr", 858),  # a typo
    ("godfather 2", 1221),  # The Godfather: Part II
    ("wall-e", 60069),  # WALL·E
    ("WALL·E", 60069),
    ("the shining", 1258),  # the 1980 film, not the 1997 miniseries
    ("star wars empire", 1196),  # words anywhere: The Empire Strikes Back
    ("amelie fabuleux", 4973),  # across the title and its other name
]
