"""Posters: fetched once from a TMDB-format API and kept on disk; never blocking; no key, no fetch.

A local HTTP server (http.server in a thread) answers as TMDB does: /3/movie/{id} gives JSON
with poster_path, /t/p/w185{poster_path} gives the image.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import pytest
from PIL import Image

from app.posters import PosterCache

KEY = "test-key-not-a-real-one"
MATRIX, NO_POSTER, ABSENT, BROKEN, SLOW, ODD_PATH, NOT_IMAGE = 603, 1, 2, 3, 4, 5, 6


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (2, 3), (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()


POSTER = jpeg()


class FakeTmdb(BaseHTTPRequestHandler):
    """Answers in TMDB's format; records every request it gets."""

    requests: ClassVar[list[tuple[str, dict]]] = []
    slow_seconds = 1.0

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        # the list of the server that accepted the request: a fetch a past test left running
        # in the background lands in that test's list, not in the next one's
        self.server.requests.append((url.path, query))
        if url.path.startswith("/3/movie/"):
            self.movie(int(url.path.rsplit("/", 1)[1]), query)
        elif url.path == "/t/p/w185/matrix.jpg":
            self.answer(200, POSTER, "image/jpeg")
        elif url.path == "/t/p/w185/text.jpg":
            self.answer(200, b"<html>not an image</html>", "image/jpeg")
        else:
            self.answer(404, b"{}", "application/json")

    def movie(self, movie: int, query: dict) -> None:
        if query.get("api_key") != [KEY]:
            self.answer(401, b'{"status_code": 7}', "application/json")
            return
        if movie == SLOW:
            time.sleep(self.slow_seconds)
        if movie == BROKEN:
            self.answer(500, b"Internal Server Error", "text/plain")
            return
        paths = {MATRIX: "/matrix.jpg", NO_POSTER: None, ODD_PATH: "/../../etc/passwd",
                 NOT_IMAGE: "/text.jpg", SLOW: "/matrix.jpg"}  # fmt: skip
        answer = {"id": movie, "title": "A movie"}
        if movie != ABSENT:
            answer["poster_path"] = paths.get(movie)
        self.answer(200, json.dumps(answer).encode(), "application/json")

    def answer(self, status: int, body: bytes, kind: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout test)

    def log_message(self, *args: object) -> None:  # keep the test output clean
        pass


@pytest.fixture
def tmdb() -> Iterator[str]:
    """The base URL of a local TMDB-format server."""
    FakeTmdb.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeTmdb)
    server.requests = FakeTmdb.requests
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def cache_for(base: str, folder: Path, key: str | None = KEY, **options: float) -> PosterCache:
    """A cache set up from the environment, as the app makes it, against the local server."""
    environ = {"MOVIEREC_TMDB_API_URL": f"{base}/3", "MOVIEREC_TMDB_IMAGE_URL": f"{base}/t/p/w185"}
    if key is not None:
        environ["TMDB_API_KEY"] = key
    return PosterCache.from_environment(folder, environ, **options)


def fetched(cache: PosterCache, movie: int) -> Path | None:
    """Ask, let the background fetch finish, ask again."""
    cache.poster(movie)
    cache.wait(timeout=30)
    return cache.poster(movie)


def test_a_poster_is_fetched_once_and_then_read_from_disk(tmdb: str, tmp_path: Path) -> None:
    cache = cache_for(tmdb, tmp_path)
    assert cache.poster(MATRIX) is None  # not on disk yet: the page goes on without it
    cache.wait(timeout=30)
    path = cache.poster(MATRIX)
    assert path == tmp_path / f"{MATRIX}.jpg"
    assert path.read_bytes() == POSTER
    assert json.loads((tmp_path / f"{MATRIX}.json").read_text()) == {"poster_path": "/matrix.jpg"}
    assert [p for p, _ in FakeTmdb.requests] == [f"/3/movie/{MATRIX}", "/t/p/w185/matrix.jpg"]
    # the key goes to the API only, never to the image host, and never to disk
    assert FakeTmdb.requests[0][1] == {"api_key": [KEY]}
    assert FakeTmdb.requests[1][1] == {}
    assert not any(KEY.encode() in f.read_bytes() for f in tmp_path.iterdir())
    # asked again, and by a new process's cache on the same folder: no request
    assert cache.poster(MATRIX) == path
    assert cache_for(tmdb, tmp_path).poster(MATRIX) == path
    assert len(FakeTmdb.requests) == 2


def test_many_calls_before_the_fetch_ends_make_one_fetch(tmdb: str, tmp_path: Path) -> None:
    cache = cache_for(tmdb, tmp_path)
    for _ in range(20):
        cache.poster(MATRIX)
    cache.wait(timeout=30)
    assert cache.poster(MATRIX) is not None
    assert len(FakeTmdb.requests) == 2


def test_a_cached_path_is_not_asked_again(tmdb: str, tmp_path: Path) -> None:
    """The image failed once but the path is known: only the image is fetched."""
    (tmp_path / f"{MATRIX}.json").write_text('{"poster_path": "/matrix.jpg"}')
    assert fetched(cache_for(tmdb, tmp_path), MATRIX) == tmp_path / f"{MATRIX}.jpg"
    assert [p for p, _ in FakeTmdb.requests] == ["/t/p/w185/matrix.jpg"]


@pytest.mark.parametrize("movie", [NO_POSTER, ABSENT, ODD_PATH])
def test_a_movie_without_a_usable_poster_path_is_asked_once(
    tmdb: str, tmp_path: Path, movie: int
) -> None:
    cache = cache_for(tmdb, tmp_path)
    assert fetched(cache, movie) is None
    assert json.loads((tmp_path / f"{movie}.json").read_text()) == {"poster_path": None}
    assert cache.poster(movie) is None
    cache.wait(timeout=30)
    assert cache_for(tmdb, tmp_path).poster(movie) is None
    assert [p for p, _ in FakeTmdb.requests] == [f"/3/movie/{movie}"]  # no image request


def test_a_server_error_caches_nothing_and_is_retried_later(tmdb: str, tmp_path: Path) -> None:
    cache = cache_for(tmdb, tmp_path)
    assert fetched(cache, BROKEN) is None
    assert list(tmp_path.iterdir()) == []
    cache.poster(BROKEN)  # just failed: not asked again at once
    cache.wait(timeout=30)
    assert len(FakeTmdb.requests) == 1
    later = cache_for(tmdb, tmp_path, retry_after=0.0)
    assert later.poster(BROKEN) is None  # asked again: not cached, so fetched anew
    later.wait(timeout=30)
    assert len(FakeTmdb.requests) == 2  # (a second ask would fetch again at once: retry_after 0)


def test_a_slow_server_times_out_without_blocking(tmdb: str, tmp_path: Path) -> None:
    cache = cache_for(tmdb, tmp_path, timeout=0.2)
    assert cache.poster(SLOW) is None  # returns at once: the fetch runs in the background
    cache.wait(timeout=30)
    assert cache.poster(SLOW) is None
    assert list(tmp_path.iterdir()) == []  # nothing cached: a later visit may succeed
    assert [p for p, _ in FakeTmdb.requests] == [f"/3/movie/{SLOW}"]


def test_an_answer_that_is_no_image_is_not_kept(tmdb: str, tmp_path: Path) -> None:
    assert fetched(cache_for(tmdb, tmp_path), NOT_IMAGE) is None
    assert not (tmp_path / f"{NOT_IMAGE}.jpg").exists()


@pytest.mark.parametrize("key", [None, "", "   "])
def test_without_a_key_nothing_is_fetched(tmdb: str, tmp_path: Path, key: str | None) -> None:
    cache = cache_for(tmdb, tmp_path, key=key)
    assert not cache.enabled
    assert cache.poster(MATRIX) is None
    cache.wait(timeout=30)
    assert cache.poster(MATRIX) is None
    assert FakeTmdb.requests == []
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("movie", [None, float("nan"), 0, -5, "abc"])
def test_a_missing_tmdb_id_gives_none(tmdb: str, tmp_path: Path, movie: object) -> None:
    cache = cache_for(tmdb, tmp_path)
    assert cache.poster(movie) is None  # type: ignore[arg-type]
    cache.wait(timeout=30)
    assert FakeTmdb.requests == []


def test_a_v4_token_goes_in_a_header(tmdb: str, tmp_path: Path) -> None:
    """A read access token (a JWT, with dots) is sent as a Bearer header, not in the URL."""
    seen: list[str | None] = []
    original = FakeTmdb.movie

    def movie(handler: FakeTmdb, number: int, query: dict) -> None:
        seen.append(handler.headers.get("Authorization"))
        original(handler, number, {"api_key": [KEY]})

    FakeTmdb.movie = movie  # type: ignore[method-assign]
    try:
        assert fetched(cache_for(tmdb, tmp_path, key="eyJhbGc.payload.sig"), MATRIX) is not None
    finally:
        FakeTmdb.movie = original  # type: ignore[method-assign]
    assert seen == ["Bearer eyJhbGc.payload.sig"]
    assert FakeTmdb.requests[0][1] == {}
