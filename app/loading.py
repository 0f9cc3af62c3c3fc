"""Loading the model once per bundle, and the page shown when there is none."""

from __future__ import annotations

import re

import streamlit as st

from app.display import escape_markdown
from recommender import BundleError, Recommender

ARTIFACTS_ENV = "MOVIEREC_ARTIFACTS_DIR"


@st.cache_resource(show_spinner="Loading the model…")
def load_recommender(artifacts_dir: str, bundle_key: str) -> Recommender:
    """The recommender, loaded once per bundle and shared by every visitor."""
    del bundle_key  # only part of the cache key: a retrained or re-evaluated bundle reloads
    return Recommender.load(artifacts_dir)


def recommender_or_stop(artifacts_dir: str) -> tuple[Recommender, str]:
    """The loaded recommender, or a page that says what is wrong and how to fix it."""
    key = Recommender.current_version(artifacts_dir)
    try:
        return load_recommender(artifacts_dir, key), key
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


@st.cache_resource(max_entries=1)
def titles_by_id(_rec: Recommender, key: str) -> dict[int, str]:
    """movieId -> title of the loaded bundle's catalogue (built once per bundle; uploads are
    checked against it)."""
    return dict(zip(_rec.movies["movieId"].tolist(), _rec.movies["title"].tolist(), strict=True))
