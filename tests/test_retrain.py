"""`make run` offline and after a data change: the zip's own layout, where the files go, and
retraining only when the CSVs (or the parameters) changed (train_and_save_model.py --if-changed).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import train_and_save_model
from recommender.bundle import CURRENT
from recommender.retrain import needs_training
from recommender.training import TrainingConfig
from tests.conftest import run_trainer

REPO = Path(__file__).resolve().parents[1]


def train(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str]:
    """Run the CLI in this process; its exit code and all it printed."""
    code = train_and_save_model.main(list(args))
    out, err = capsys.readouterr()
    return code, out + err


def current(artifacts: Path) -> str:
    return (artifacts / CURRENT).read_text().strip()


# --- the zip's own layout and the message without data ------------------------------------------


def test_the_zips_own_folder_is_read_as_it_is(tiny_data: Path, tmp_path: Path, capsys) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copytree(tiny_data, data / "ml-latest-small")  # what unzipping into data/ gives
    (data / "notes").mkdir()  # another folder without CSVs does not get in the way
    code, out = train(capsys, "--data-dir", str(data), "--artifacts-dir", str(tmp_path / "a"))
    assert code == 0, out
    assert f"reading {data / 'ml-latest-small'}/" in out
    assert "trained on 12 ratings from 4 users" in out


def test_two_data_sets_in_the_folder_ask_which_one(tiny_data: Path, tmp_path: Path, capsys):
    data = tmp_path / "data"
    for name in ("ml-latest-small", "ml-32m"):
        shutil.copytree(tiny_data, data / name)
    code, out = train(capsys, "--data-dir", str(data), "--artifacts-dir", str(tmp_path / "a"))
    assert code == 2
    assert out.count("\n") == 1
    assert "holds several data sets (ml-32m/, ml-latest-small/)" in out
    assert f"DATA_DIR={data / 'ml-32m'}" in out
    assert not (tmp_path / "a").exists()


def test_without_data_the_message_says_where_the_files_go(tmp_path: Path) -> None:
    """In a subprocess, as make runs it: one line with the exact paths and DATA_DIR=."""
    data = tmp_path / "data"
    data.mkdir()
    result = run_trainer("--data-dir", str(data), "--artifacts-dir", str(tmp_path / "a"))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {data / 'movies.csv'}: file not found")
    assert f"unzip it into {data}/ (giving {data}/ml-latest-small/movies.csv" in line
    assert f"put movies.csv and ratings.csv straight into {data}/" in line
    assert "make run DATA_DIR=" in line


# --- --if-changed --------------------------------------------------------------------------------


@pytest.fixture
def trained(tiny_data: Path, tmp_path: Path, capsys) -> tuple[Path, Path]:
    """(data folder, artifacts folder) after a first `--if-changed` run, which trains."""
    artifacts = tmp_path / "artifacts"
    code, out = train(capsys, "--data-dir", str(tiny_data), "--artifacts-dir", str(artifacts),
                      "--if-changed")  # fmt: skip
    assert code == 0, out
    assert "training: no model bundle in" in out
    return tiny_data, artifacts


def again(capsys, data: Path, artifacts: Path, *more: str) -> str:
    code, out = train(capsys, "--data-dir", str(data), "--artifacts-dir", str(artifacts),
                      "--if-changed", *more)  # fmt: skip
    assert code == 0, out
    return out


def test_the_same_files_keep_the_bundle(trained: tuple[Path, Path], capsys) -> None:
    data, artifacts = trained
    before = current(artifacts)
    out = again(capsys, data, artifacts)
    assert out.startswith("not training: the bundle was trained on these files")
    assert current(artifacts) == before
    # asking for more factors than 4 users allow gives the same bundle: not a change either
    assert again(capsys, data, artifacts, "--factors", "500").startswith("not training")


def test_an_edited_csv_of_the_same_size_retrains(trained: tuple[Path, Path], capsys) -> None:
    data, artifacts = trained
    before = current(artifacts)
    ratings = data / "ratings.csv"
    text = ratings.read_text()
    edited = text.replace("1,1,4.0,", "1,1,3.0,", 1)
    assert edited != text and len(edited) == len(text)  # only the sha256 can tell
    ratings.write_text(edited)
    out = again(capsys, data, artifacts)
    assert "training: ratings.csv changed in" in out
    assert current(artifacts) != before
    assert again(capsys, data, artifacts).startswith("not training")


def test_an_added_csv_or_other_parameters_retrain(trained: tuple[Path, Path], capsys) -> None:
    data, artifacts = trained
    (data / "tags.csv").write_text("userId,movieId,tag,timestamp\n1,1,pixar,5\n")
    assert "training: tags.csv added" in again(capsys, data, artifacts)
    out = again(capsys, data, artifacts, "--seed", "7")
    assert "training: other parameters than the bundle's (seed 7 (bundle: 0))" in out
    assert again(capsys, data, artifacts, "--seed", "7").startswith("not training")


def test_without_csvs_the_bundle_is_kept(trained: tuple[Path, Path], tmp_path: Path, capsys):
    """Offline with an emptied data folder, make run still serves the bundle it has."""
    _, artifacts = trained
    before = current(artifacts)
    empty = tmp_path / "empty"
    empty.mkdir()
    out = again(capsys, empty, artifacts, "--download", "--download-url", "http://127.0.0.1:9/x")
    assert out.startswith(f"not training: {empty}/ has no CSVs; keeping the bundle trained on")
    assert "downloading" not in out
    assert current(artifacts) == before


def test_a_bundle_of_another_schema_is_retrained(trained: tuple[Path, Path]) -> None:
    data, artifacts = trained
    manifest = artifacts / current(artifacts) / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"schema_version": ', '"schema_version": 9'))
    needed, reason = needs_training(artifacts, data, TrainingConfig())
    assert needed and "schema version" in reason


def test_make_run_trains_only_when_the_data_changed() -> None:
    """The Makefile's run target goes through --if-changed (and still downloads when needed)."""
    makefile = (REPO / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "train_and_save_model.py" in run and "--if-changed" in run and "--download" in run
