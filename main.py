"""Movie recommender: build a taste profile and get hybrid recommendations.

    MOVIEREC_ARTIFACTS_DIR=artifacts streamlit run main.py

The page renders what ``recommender.Recommender`` returns; its sections live in the ``app``
package (see ``app/__init__.py``). Titles are always shown as text (escaped Markdown or table
cells), never as HTML.

``streamlit run`` serves ``app`` (the end of this file), which reads the bundle as the server
starts; Streamlit then runs this file as ``__main__`` for every page run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import streamlit as st

from app.about import about_button
from app.loading import ARTIFACTS_ENV, load_recommender, recommender_or_stop
from app.profile_page import profile_page
from app.sessions import reap_closed_sessions
from app.sidebar import USER_MODE, sidebar
from app.state import init_state
from app.user_page import user_page
from recommender import BundleError, Recommender

ICON = Path(__file__).resolve().parent / "app" / "icon.png"

if __name__ != "__main__":
    # `streamlit run` also imports this file as a module to find `app` (at the end). The caches
    # of the app package are then made before Streamlit's runtime exists, which it logs as a
    # warning.
    logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)


def main() -> None:
    """One run of the page."""
    # The icon is a file served by the app itself: a Material icon name would make the browser
    # fetch it from Google's font host.
    st.set_page_config(page_title="Movie recommender", page_icon=str(ICON), layout="wide")
    artifacts_dir = os.environ.get(ARTIFACTS_ENV, "artifacts")
    rec, key = recommender_or_stop(artifacts_dir)
    init_state(rec, key)
    with st.sidebar:
        about_button(rec)  # first: people look for what this is before they tune it
    settings = sidebar(rec)
    if settings.mode == USER_MODE:
        user_page(rec, settings)
    else:
        profile_page(rec, key, settings)


@contextlib.asynccontextmanager
async def warm_up(app: Any) -> AsyncIterator[None]:
    """Read the bundle when the server starts, so the first visitor does not wait for it.

    By then importing this file has imported pandas, pyarrow and the model code (about 0.6 s
    that the first visitor's page would otherwise spend); loading the bundle here fills the
    page's own cache (``app.loading``), so the first page finds the model loaded, and builds the
    title search (0.8 s for 87,585 titles), so the first search does not wait for it. A missing
    or broken bundle is left for the page to explain. While the server runs, closed tabs'
    sessions are shut down once expired, letting go of their files (``app.sessions``).
    """
    del app
    artifacts_dir = os.environ.get(ARTIFACTS_ENV, "artifacts")
    with contextlib.suppress(BundleError):
        rec = load_recommender(artifacts_dir, Recommender.current_version(artifacts_dir))
        rec.search("a", n=1)
    reaper = asyncio.create_task(reap_closed_sessions())
    try:
        yield
    finally:
        reaper.cancel()


if __name__ == "__main__":  # a run of the page by Streamlit's script runner (or AppTest)
    main()
else:  # `streamlit run main.py` imports this file and serves `app`, warming up first
    app = st.App(__file__, lifespan=warm_up)
