"""Movie posters from TMDB, fetched by the server in the background and kept on disk.

With a TMDB API key in the environment (``TMDB_API_KEY``), ``PosterCache.poster(tmdb_id)``
returns the poster's local file when it is on disk; otherwise it returns None at once and a
background thread asks TMDB for the movie's ``poster_path`` (``/3/movie/{tmdbId}``) and then
fetches the image, each once, with a short timeout. The page shows the local file, so a
visitor's browser never asks any host but the app's own. Without a key nothing is fetched and
every call returns None: the page is complete without posters.

Settings (environment): ``TMDB_API_KEY`` (a v3 API key, or a v4 read access token),
``MOVIEREC_TMDB_API_URL`` and ``MOVIEREC_TMDB_IMAGE_URL`` (TMDB's by default; the tests point
them at a local server).

On disk, per movie: ``{tmdbId}.json`` holds the poster path TMDB gave (or null: no poster) and
``{tmdbId}.jpg`` (or .png, .webp) the image. Neither holds the key.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from pathlib import Path

TMDB_API_URL = "https://api.themoviedb.org/3"
TMDB_IMAGE_URL = "https://image.tmdb.org/t/p/w185"  # 185 px wide: a list's thumbnail
TIMEOUT_SECONDS = 3.0
RETRY_AFTER_SECONDS = 300.0  # after a failure (timeout, server error), ask again this late
MAX_IMAGE_BYTES = 2 * 2**20  # a w185 poster is about 15 KB
# What TMDB's poster_path looks like; anything else is not fetched ("/../x", "http://...").
_POSTER_PATH = re.compile(r"/[A-Za-z0-9_-]+\.(jpg|jpeg|png|webp)")
_IMAGE_STARTS = {"jpg": b"\xff\xd8\xff", "png": b"\x89PNG\r\n\x1a\n", "webp": b"RIFF"}

log = logging.getLogger(__name__)


class PosterCache:
    """Posters of movies by TMDB id, on disk in ``folder``; fetched in the background."""

    def __init__(
        self,
        folder: str | Path,
        api_key: str | None,
        api_url: str = TMDB_API_URL,
        image_url: str = TMDB_IMAGE_URL,
        timeout: float = TIMEOUT_SECONDS,
        retry_after: float = RETRY_AFTER_SECONDS,
    ) -> None:
        self.folder = Path(folder)
        self._api_key = api_key or None
        self._api_url = api_url.rstrip("/")
        self._image_url = image_url.rstrip("/")
        self._timeout = timeout
        self._retry_after = retry_after
        self._lock = threading.Lock()
        self._pending: dict[int, Future] = {}
        self._failed: dict[int, float] = {}  # tmdbId -> when the last attempt failed
        self._workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="posters")

    @classmethod
    def from_environment(
        cls,
        folder: str | Path,
        environ: Mapping[str, str] = os.environ,
        timeout: float = TIMEOUT_SECONDS,
        retry_after: float = RETRY_AFTER_SECONDS,
    ) -> PosterCache:
        """A cache configured by TMDB_API_KEY, MOVIEREC_TMDB_API_URL, MOVIEREC_TMDB_IMAGE_URL."""
        return cls(
            folder,
            environ.get("TMDB_API_KEY", "").strip() or None,
            environ.get("MOVIEREC_TMDB_API_URL", TMDB_API_URL),
            environ.get("MOVIEREC_TMDB_IMAGE_URL", TMDB_IMAGE_URL),
            timeout,
            retry_after,
        )

    @property
    def enabled(self) -> bool:
        """True when a key is set, so posters may be fetched."""
        return self._api_key is not None

    def poster(self, tmdb_id: int | None) -> Path | None:
        """The local poster file of a movie, or None (then, with a key, it is fetched in the
        background for a later call). Never blocks on the network and never raises."""
        movie = _movie_id(tmdb_id)
        if movie is None or not self.enabled:
            return None
        image = self._cached_image(movie)
        if image is not None:
            return image
        with self._lock:
            failed_at = self._failed.get(movie)
            recent_failure = (
                failed_at is not None and time.monotonic() - failed_at < self._retry_after
            )
            if movie in self._pending or recent_failure or self._has_no_poster(movie):
                return None
            self._pending[movie] = self._workers.submit(self._fetch, movie)
        return None

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the fetches scheduled so far (for tests and scripts; the page never waits)."""
        with self._lock:
            pending = list(self._pending.values())
        wait_for(pending, timeout=timeout)

    def close(self) -> None:
        """Stop the background threads after the fetches under way."""
        self._workers.shutdown(wait=True, cancel_futures=True)

    # --- the background work -------------------------------------------------------------------

    def _fetch(self, movie: int) -> None:
        try:
            path = self._poster_path(movie)
            if path is not None:
                self._download(movie, path)
        except (urllib.error.URLError, OSError, ValueError) as error:
            # the message names the movie, never the URL: a v3 key is part of the URL
            reason = getattr(error, "reason", None) or error.__class__.__name__
            log.warning("poster of TMDB movie %d not fetched: %s", movie, reason)
            with self._lock:
                self._failed[movie] = time.monotonic()
        finally:
            with self._lock:
                self._pending.pop(movie, None)

    def _poster_path(self, movie: int) -> str | None:
        """The movie's poster path, from disk or (once) from the API; None: it has none."""
        record = self.folder / f"{movie}.json"
        known = _read_record(record)
        if known is not None:
            return known["poster_path"]
        answer = json.loads(self._get(f"{self._api_url}/movie/{movie}", 1 << 20))
        path = _usable_path(answer.get("poster_path") if isinstance(answer, dict) else None)
        _write_atomically(record, json.dumps({"poster_path": path}).encode())
        return path

    def _download(self, movie: int, path: str) -> None:
        kind = _POSTER_PATH.fullmatch(path).group(1).replace("jpeg", "jpg")
        image = self._get(f"{self._image_url}{path}", MAX_IMAGE_BYTES, send_key=False)
        if not image.startswith(_IMAGE_STARTS[kind]):
            raise ValueError(f"the image at {path} is not a {kind} file")
        _write_atomically(self.folder / f"{movie}.{kind}", image)

    def _get(self, url: str, limit: int, send_key: bool = True) -> bytes:
        headers = {"Accept": "application/json" if send_key else "image/*"}
        if send_key and "." in self._api_key:  # a v4 token (a JWT) goes in a header
            headers["Authorization"] = f"Bearer {self._api_key}"
        elif send_key:
            url = f"{url}?{urllib.parse.urlencode({'api_key': self._api_key})}"
        request = urllib.request.Request(url, headers=headers)
        with urllib.request.urlopen(request, timeout=self._timeout) as response:
            body = response.read(limit + 1)
        if len(body) > limit:
            raise ValueError(f"answer larger than {limit} bytes")
        return body

    # --- the disk ------------------------------------------------------------------------------

    def _cached_image(self, movie: int) -> Path | None:
        for kind in _IMAGE_STARTS:
            image = self.folder / f"{movie}.{kind}"
            if image.is_file():
                return image
        return None

    def _has_no_poster(self, movie: int) -> bool:
        """TMDB said the movie has no poster (cached): ask no more."""
        known = _read_record(self.folder / f"{movie}.json")
        return known is not None and known["poster_path"] is None


def _read_record(record: Path) -> dict[str, str | None] | None:
    """A cached API answer, or None when there is none (or it is unreadable: ask again)."""
    try:
        answer = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(answer, dict) or "poster_path" not in answer:
        return None
    return {"poster_path": _usable_path(answer["poster_path"])}


def _usable_path(path: object) -> str | None:
    """TMDB's poster path when it looks like one ("/abc.jpg"); None for none or anything else
    ("/../x", "http://elsewhere/x.jpg"), which is never fetched."""
    return path if isinstance(path, str) and _POSTER_PATH.fullmatch(path) else None


def _movie_id(tmdb_id: object) -> int | None:
    """A positive integer id, or None for a missing one (None, NaN, pandas' NA)."""
    try:
        movie = int(tmdb_id)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return movie if movie > 0 else None


def _write_atomically(target: Path, data: bytes) -> None:
    """Write beside the target, then rename: a reader never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{threading.get_ident()}.partial")
    partial.write_bytes(data)
    partial.replace(target)
