"""Fetching ml-latest-small: tested against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import functools
import http.server
import threading
import zipfile
from pathlib import Path

import pytest

from recommender import DataError
from recommender.download import download_movielens
from tests.conftest import TINY_MOVIES, run_trainer


@pytest.fixture
def served(tmp_path):
    """A local HTTP server over tmp_path/www; yields (folder, base URL)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _zip(path: Path, files: dict[str, str]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(f"ml-latest-small/{name}", text)


RATINGS = "userId,movieId,rating,timestamp\n1,1,4.0,1\n1,2,3.0,2\n2,1,5.0,3\n2,3,2.5,4\n"


def test_download_unpacks_a_checked_zip_and_training_goes_on(served, tmp_path):
    www, base = served
    _zip(www / "ml.zip", {"movies.csv": TINY_MOVIES, "ratings.csv": RATINGS, "README.txt": "x"})
    data = tmp_path / "data"
    result = run_trainer(
        "--data-dir", str(data), "--artifacts-dir", str(tmp_path / "artifacts"),
        "--download", "--download-url", f"{base}/ml.zip",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (data / "movies.csv").read_text() == TINY_MOVIES
    assert "trained on 4 ratings from 2 users" in result.stdout


def test_a_zip_without_ratings_or_not_a_zip_is_refused(served, tmp_path):
    www, base = served
    _zip(www / "partial.zip", {"movies.csv": TINY_MOVIES})
    (www / "page.zip").write_text("<html>not a zip</html>")
    with pytest.raises(DataError, match="the zip has no ratings.csv"):
        download_movielens(tmp_path / "data", f"{base}/partial.zip")
    with pytest.raises(DataError, match="did not give a valid zip file"):
        download_movielens(tmp_path / "data", f"{base}/page.zip")
    assert not (tmp_path / "data" / "movies.csv").exists()


def test_no_network_fails_with_one_line_saying_where_to_put_the_files(served, tmp_path):
    _, base = served
    result = run_trainer(
        "--data-dir", str(tmp_path / "data"), "--artifacts-dir", str(tmp_path / "a"),
        "--download", "--download-url", f"{base}/missing.zip",
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot download")
    assert f"unzip it into {tmp_path / 'data'}/ (giving" in lines[0]
    assert "make run DATA_DIR=" in lines[0]
