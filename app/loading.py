"""Loading the model once per bundle, one bundle at a time, and the page shown when there is
none.

A server runs for months while its bundle is retrained and re-evaluated: each change loads a new
``Recommender`` and the one it replaced is closed (its arrays' memory maps and open files let
go, so a pruned bundle's disk space is freed) together with everything the page cached from it.
It is closed once the page runs that were handed it have ended, so a run in progress is never
cut short.

A new bundle that fails to load (a flipped byte, a missing file, CURRENT naming `../etc` or a
link) is not an outage: the page keeps serving the model it has, says in one line which bundle
failed, why, and that the previous one is still served, and tries again when CURRENT or the
bundle's manifest changes again. Only a server that never loaded a model shows the error page.
"""

from __future__ import annotations

import os
import re
import threading
import weakref
from pathlib import Path

import streamlit as st

from app.display import escape_markdown
from recommender import BundleError, Recommender

ARTIFACTS_ENV = "MOVIEREC_ARTIFACTS_DIR"


# The page runs handed each bundle's model, by the thread Streamlit runs them in (a script
# runner's thread, which ends when its runs do), noted before the model is looked up: a replaced
# model is closed once they have ended.
_RUNS: dict[str, weakref.WeakSet[threading.Thread]] = {}
_KEYS: weakref.WeakKeyDictionary[Recommender, str] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
# Per artifacts folder: the model last loaded and its key (served while a newer bundle fails),
# and the last failed attempt (what it was tried on, the error), not retried until that changes.
_SERVED: dict[str, tuple[Recommender, str]] = {}
_FAILED: dict[str, tuple[str, str]] = {}


def _release(replaced: Recommender) -> None:
    """Called by the cache when a newer bundle's model took ``replaced``'s place: drop what the
    page cached from it, and close it once the page runs using it have ended."""
    st.cache_data.clear()  # every data cache of the page holds results of the old bundle
    titles_by_id.clear()
    with _LOCK:
        for folder in [f for f, (served, _) in _SERVED.items() if served is replaced]:
            del _SERVED[folder]
        runs = list(_RUNS.pop(_KEYS.pop(replaced, None), ()))
        for key in [key for key, threads in _RUNS.items() if not threads]:
            del _RUNS[key]  # bundles whose runs have all ended (or that failed to load)
    running = [run for run in runs if run.is_alive() and run is not threading.current_thread()]
    if not running:
        replaced.close()
        return
    threading.Thread(
        target=_close_after, args=(replaced, running), name="close-replaced-model", daemon=True
    ).start()


def _close_after(replaced: Recommender, runs: list[threading.Thread]) -> None:
    for run in runs:
        run.join()
    replaced.close()


@st.cache_resource(show_spinner="Loading the model…", max_entries=1, on_release=_release)
def load_recommender(artifacts_dir: str, bundle_key: str) -> Recommender:
    """The recommender of the current bundle, loaded once and shared by every visitor; loading
    another bundle's closes this one (``_release``)."""
    rec = Recommender.load(artifacts_dir)
    with _LOCK:
        _KEYS[rec] = bundle_key
        _SERVED[artifacts_dir] = (rec, bundle_key)
        _FAILED.pop(artifacts_dir, None)
    return rec


def _attempt(artifacts_dir: str, key: str) -> str:
    """What a load is tried on: the bundle's key and CURRENT's identity (a rewrite of CURRENT
    replaces the file; a key alone is "" for every CURRENT that names no bundle)."""
    try:
        status = os.lstat(Path(artifacts_dir, "CURRENT"))
        return f"{key}|{status.st_ino}:{status.st_mtime_ns}:{status.st_size}"
    except OSError:
        return f"{key}|no CURRENT"


def _load_or_keep(artifacts_dir: str, key: str) -> tuple[Recommender, str, str | None]:
    """(model, its key, why a newer bundle is not served or None). ``BundleError`` only when
    there is no model to keep serving."""
    attempt = _attempt(artifacts_dir, key)
    with _LOCK:
        served = _SERVED.get(artifacts_dir)
        failed = _FAILED.get(artifacts_dir)
    if served is not None and served[1] != key and failed is not None and failed[0] == attempt:
        return served[0], served[1], failed[1]  # this very bundle failed already
    try:
        return load_recommender(artifacts_dir, key), key, None
    except BundleError as error:
        if served is None:
            raise
        with _LOCK:
            _FAILED[artifacts_dir] = (attempt, str(error))
        return served[0], served[1], str(error)


def recommender_or_stop(artifacts_dir: str) -> tuple[Recommender, str]:
    """The loaded recommender, or a page that says what is wrong and how to fix it."""
    key = Recommender.current_version(artifacts_dir)
    with _LOCK:
        _RUNS.setdefault(key, weakref.WeakSet()).add(threading.current_thread())
        served = _SERVED.get(artifacts_dir)
        if served is not None:  # this run may be handed the served model: it stays open
            _RUNS.setdefault(served[1], weakref.WeakSet()).add(threading.current_thread())
    try:
        rec, served_key, problem = _load_or_keep(artifacts_dir, key)
    except BundleError as error:
        message = str(error)
        st.error(
            f"The model could not be loaded: {escape_markdown(message)}", icon=":material/error:"
        )
        command = re.search(r"python train_and_save_model\.py\S*( \S+)*", message)
        st.info(
            "Train a model from MovieLens CSV files (DATA_DIR holds movies.csv and "
            "ratings.csv), then reload this page:"
        )
        st.code(command.group(0) if command else message, language="bash")
        st.caption(
            f"This page reads the model from `{escape_markdown(artifacts_dir)}` "
            f"(set {ARTIFACTS_ENV} to use another folder). "
            "`make run` trains on the default data and starts the app."
        )
        st.stop()
        raise  # st.stop() ends the run; this line only satisfies type checkers
    if problem is not None:  # one line: what failed and why (the fix is for the operator)
        name = rec.bundle.path.name if rec.bundle.path is not None else "in memory"
        reason = re.sub(r"; retrain( with)?: .*$", "", problem)
        st.warning(
            f"A new model bundle could not be loaded ({escape_markdown(reason)}); this page "
            f"still serves the previous one, {escape_markdown(name)}.",
            icon=":material/warning:",
        )
    return rec, served_key


@st.cache_resource(max_entries=1)
def titles_by_id(_rec: Recommender, key: str) -> dict[int, str]:
    """movieId -> title of the loaded bundle's catalogue (built once per bundle, dropped with
    it; uploads are checked against it)."""
    return dict(zip(_rec.movies["movieId"].tolist(), _rec.movies["title"].tolist(), strict=True))
