"""About this model: counts, training, parameters and the offline evaluation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st

from app.display import escape_markdown
from recommender import Recommender


def about_button(rec: Recommender) -> None:
    """A button that opens "About this model"; nothing of it is sent before it is pressed."""
    if st.button("About this model", key="show_about", icon=":material/info:"):
        about_model(rec)


@st.dialog("About this model", width="large")
def about_model(rec: Recommender) -> None:
    """Counts, training time, parameters and (when present) offline evaluation figures."""
    manifest = rec.manifest
    counts = manifest.get("counts", {})
    names = [("Movies", "movies"), ("Users", "users"), ("Ratings", "ratings"), ("Genres", "genres")]
    for column, (label, name) in zip(st.columns(len(names)), names, strict=True):
        column.metric(label, f"{counts.get(name, 0):,}")
    timings = manifest.get("timings_seconds", {})
    total = sum(float(v) for v in timings.values())
    blend = ", ".join(
        f"{rec.scorers[name].label.lower()} {value:g}"
        for name, value in rec.default_weights.items()
    )
    st.markdown(
        f"Trained **{escape_markdown(when(manifest.get('created')))}** in {total:.1f} s. "
        f"Default blend: {escape_markdown(blend)}."
    )
    for note in manifest.get("notes", []):
        st.caption(escape_markdown(str(note)))
    # The app asks the evaluation for its figures itself (the model never imports the
    # evaluation); imported here, as only "About" needs it.
    from recommender.evaluation.report import manifest_overview

    evaluation = manifest.get("evaluation")
    evaluation_summary(evaluation, manifest_overview(evaluation))
    discovery_chart(manifest_overview(evaluation, "discovery"), rec.discovery.default)
    st.markdown("**Parameters**")
    weights = {f"{name}_weight": weight for name, weight in rec.default_weights.items()}
    parameters = {**manifest.get("parameters", {}), **weights}
    st.table(as_table(parameters, "parameter"), hide_index=True)


def evaluation_summary(evaluation: Any, overview: pd.DataFrame | None) -> None:
    """The offline evaluation: NDCG per scorer and profile size when the figures have that
    shape (``python -m recommender.evaluation``), else every figure as written."""
    if not evaluation:
        st.caption("No offline evaluation figures in this bundle yet.")
        return
    st.markdown("**Offline evaluation**")
    if overview is None:
        st.table(as_table(evaluation, "figure"), hide_index=True)
        return
    k = int(evaluation["k"])
    st.caption(
        f"NDCG@{k}: how high the movies a held-out user liked come in the top {k} "
        "(1 is perfect; ± one standard error)."
    )
    st.table(overview.reset_index())
    for protocol, description in (evaluation.get("protocols") or {}).items():
        name = protocol.replace("-", " ").capitalize()  # "new-user" -> "New user"
        st.caption(f"{escape_markdown(name)}: {escape_markdown(description)}")
    if evaluation.get("defaults_chosen_by"):
        st.caption(f"Defaults chosen by {escape_markdown(evaluation['defaults_chosen_by'])}.")


def discovery_chart(curve: pd.DataFrame | None, default: float) -> None:
    """NDCG along the "Popular picks ↔ Hidden gems" slider, per profile size, from the
    offline evaluation (``python -m recommender.evaluation``), when it has the curve."""
    if curve is None or curve.empty or "discovery" not in curve:
        return
    steps = curve[curve["discovery"].notna()]
    ndcg = next(column for column in curve.columns if column.startswith("NDCG@"))
    chart = steps.pivot_table(index="discovery", columns="profile_size", values=ndcg)
    chart.columns = [f"{size} movie{'' if size == 1 else 's'}" for size in chart.columns]
    st.markdown("**Popular picks ↔ Hidden gems**")
    st.caption(
        f"{ndcg} of held-out users' liked movies along the slider (0: popular picks, 1: hidden "
        f"gems), per profile size; the default is {default:g}. Towards hidden gems the lists "
        "find fewer of the films a random user watched next, and more of the films few saw."
    )
    st.line_chart(chart, x_label="discovery", y_label=ndcg)


def when(created: Any) -> str:
    """ "27 Nov 2026, 22:55 UTC" from the manifest's ISO time (as given if it is not one)."""
    try:
        moment = datetime.fromisoformat(str(created)).astimezone(UTC)
    except ValueError:
        return str(created or "at an unknown time")
    return moment.strftime("%d %b %Y, %H:%M UTC")


@st.cache_data(max_entries=16, show_spinner=False)
def as_table(section: Any, label: str) -> pd.DataFrame:
    """A (possibly nested) manifest section as two text columns: name and value."""
    if not isinstance(section, dict):
        return pd.DataFrame({label: [label], "value": [str(section)]})
    flat = pd.json_normalize(section, sep=" / ")
    return pd.DataFrame({label: flat.columns, "value": [str(v) for v in flat.iloc[0]]})
