"""The evaluation's figures as text, Markdown, files and the bundle manifest's section."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recommender.evaluation.anchors import ANCHORS, EASE_500
from recommender.evaluation.run import EvaluationResult
from recommender.evaluation.splits import KNOWN_USER, NEW_USER, RATED, RATED_DROPPED


def format_table(result: EvaluationResult) -> str:
    """The overviews (``markdown_summary``'s tables) and the paired differences as text for
    the terminal; every figure of every scorer is in results.csv."""
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        text = markdown_summary(result)
        if not result.ratings.empty:
            ratings = result.ratings.to_string(index=False, float_format=lambda v: f"{v:.4f}")
            text += "\n\nrating predictions on held-out ratings (known-user protocol):\n" + ratings
        if result.paired is not None and not result.paired.empty:
            paired = result.paired.to_string(index=False, float_format=lambda v: f"{v:.4f}")
            text += "\n\npaired differences over the same users:\n" + paired
    return text


def manifest_overview(evaluation: Any, view: str = "ndcg") -> pd.DataFrame | None:
    """NDCG@k per scorer (rows) and profile size (columns), from the offline evaluation a
    manifest records (its "evaluation" section; ``view="discovery"``: the discovery curve, one
    row per step and size); None when there is none, or not in that shape."""
    shown = discovery_curve if view == "discovery" else ndcg_overview
    try:
        return shown(pd.DataFrame(evaluation["results"]), int(evaluation["k"]))
    except (KeyError, TypeError, ValueError):
        return None


def ndcg_overview(table: pd.DataFrame, k: int) -> pd.DataFrame:
    """NDCG@k (± its standard error) per scorer: one column per profile size, then known users.

    ``table`` holds the rows of ``EvaluationResult.table`` (or the manifest's "results").
    """
    columns = [
        (
            f"new user, {size} movie{'' if size == 1 else 's'}",
            (table["protocol"] == NEW_USER) & (table["profile_size"] == size),
        )
        for size in sorted(table.loc[table["protocol"] == NEW_USER, "profile_size"].unique())
    ]
    if (table["protocol"] == KNOWN_USER).any():
        columns.append(("known user", table["protocol"] == KNOWN_USER))
    overview = pd.DataFrame(index=pd.Index(list(dict.fromkeys(table["scorer"])), name="scorer"))
    for name, mask in columns:
        rows = table[mask].drop_duplicates("scorer").set_index("scorer")
        overview[name] = [_cell(rows.loc[s], k) if s in rows.index else "" for s in overview.index]
    return overview


FAN_COLUMNS = (
    "tail NDCG@{k}",
    "overlap",
    "miscalibration",
    "popularity percentile",
    "sequel hit rate@5",
)


def fan_overview(table: pd.DataFrame, k: int, size: int = 5) -> pd.DataFrame:
    """What a fan notices, per scorer, for new users with ``size`` movies: NDCG@k, tail
    NDCG@k, the overlap of two users' lists, miscalibration, mean popularity percentile."""
    rows = table[(table["protocol"] == NEW_USER) & (table["profile_size"] == size)]
    columns = [f"NDCG@{k}", *(name.format(k=k) for name in FAN_COLUMNS)]
    columns = [column for column in columns if column in rows]
    return rows.drop_duplicates("scorer").set_index("scorer")[columns]


def rated_overview(table: pd.DataFrame, k: int) -> pd.DataFrame:
    """NDCG@k per scorer of rated profiles, with the ratings and with the low ones dropped."""
    columns = {}
    for protocol, label in ((RATED, "with ratings"), (RATED_DROPPED, "low dropped")):
        for size in sorted(table.loc[table["protocol"] == protocol, "profile_size"].unique()):
            rows = table[(table["protocol"] == protocol) & (table["profile_size"] == size)]
            columns[(size, label)] = rows.drop_duplicates("scorer").set_index("scorer")[f"NDCG@{k}"]
    overview = pd.DataFrame(dict(sorted(columns.items())))
    overview.columns = [f"{size} movies, {label}" for size, label in overview.columns]
    return overview


DISCOVERY_ROW = re.compile(r"discovery (\d+(?:\.\d+)?)")
CURVE_COLUMNS = ("NDCG@{k}", "tail NDCG@{k}", "overlap", "popularity percentile")
ANCHOR_NAMES = frozenset(anchor.name for anchor in [*ANCHORS, EASE_500])


def discovery_curve(table: pd.DataFrame, k: int) -> pd.DataFrame:
    """The default blend along discovery (rows "discovery d" of a new-user table) and, per
    profile size, the tuned anchor with the best NDCG@k: one row per (row, profile size) with
    NDCG@k, tail NDCG@k, overlap and the mean popularity percentile of the top k."""
    rows = table[table["protocol"] == NEW_USER]
    columns = [name.format(k=k) for name in CURVE_COLUMNS]
    curve = []
    for size, at_size in rows.groupby("profile_size"):
        for _, row in at_size.iterrows():
            found = DISCOVERY_ROW.fullmatch(str(row["scorer"]))
            if found:
                curve.append({"row": row["scorer"], "discovery": float(found.group(1)),
                              "profile_size": size, **row[columns].to_dict()})  # fmt: skip
        anchors = at_size[at_size["scorer"].isin(ANCHOR_NAMES) & at_size[f"NDCG@{k}"].notna()]
        if len(anchors):
            best = anchors.loc[anchors[f"NDCG@{k}"].idxmax()]
            curve.append({"row": f"best tuned anchor: {best['scorer']}", "discovery": np.nan,
                          "profile_size": size, **best[columns].to_dict()})  # fmt: skip
    return pd.DataFrame(curve)


def curve_overview(table: pd.DataFrame, k: int) -> pd.DataFrame:
    """``discovery_curve`` as one row per discovery step: each figure at 1 / 3 / 5 / 10 movies;
    the last row names the best anchor at each size."""
    curve = discovery_curve(table, k)
    if curve.empty:
        return curve
    anchors = curve["row"].str.startswith("best tuned anchor: ")
    names = curve.loc[anchors, "row"].str.removeprefix("best tuned anchor: ")
    curve.loc[anchors, "row"] = "best tuned anchor"
    sizes = sorted(curve["profile_size"].unique())
    overview = {}
    for name in (column.format(k=k) for column in CURVE_COLUMNS):
        wide = curve.pivot_table(index="row", columns="profile_size", values=name, sort=False)
        digits = 1 if name == "popularity percentile" else 3
        overview[f"{name}, {' / '.join(map(str, sizes))} movies"] = [
            " / ".join(f"{wide.at[row, size]:.{digits}f}" for size in sizes) for row in wide.index
        ]
    result = pd.DataFrame(overview, index=wide.index).astype(object)  # text cells, even if none
    result.loc["best tuned anchor (by NDCG)"] = [" / ".join(names)] + [""] * (result.shape[1] - 1)
    return result


def _markdown(frame: pd.DataFrame, corner: str, cell=lambda v: f"{v:.3f}") -> list[str]:
    lines = [f"| {corner} | " + " | ".join(map(str, frame.columns)) + " |"]
    lines.append("|---|" + "---:|" * len(frame.columns))
    lines += [
        f"| {name} | " + " | ".join(v if isinstance(v, str) else cell(v) for v in row) + " |"
        for name, row in frame.iterrows()
    ]
    return lines


def markdown_summary(result: EvaluationResult) -> str:
    """README-ready tables: NDCG@k per scorer for every profile size and the known users;
    what a fan notices at 5 movies; rated profiles with and without their low ratings."""
    k = result.settings["k"]
    lines = _markdown(ndcg_overview(result.table, k), f"NDCG@{k}")
    fans = fan_overview(result.table, k)
    if not fans.empty:
        lines += ["", *_markdown(fans, "new user, 5 movies")]
    curve = curve_overview(result.table, k)
    if not curve.empty:
        lines += ["", *_markdown(curve, "the default blend along discovery")]
    rated = rated_overview(result.table, k)
    if not rated.empty:
        lines += ["", *_markdown(rated, f"rated profiles, NDCG@{k}")]
    if not result.ratings.empty:
        lines += ["", "| rating prediction (held-out) | RMSE | MAE |", "|---|---:|---:|"]
        lines += [
            f"| {row.predictor} | {row.RMSE:.3f} | {row.MAE:.3f} |"
            for row in result.ratings.itertuples()
        ]
    return "\n".join(lines) + "\n"


def _cell(row: pd.Series, k: int) -> str:
    value, error = row[f"NDCG@{k}"], row[f"NDCG@{k} se"]
    return f"{value:.3f}" if not np.isfinite(error) else f"{value:.3f} ± {error:.3f}"


def write_outputs(result: EvaluationResult, out: Path) -> list[Path]:
    """results.csv, ratings.csv, results.md, validation.csv (tuned) and evaluation.json."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "results.csv", out / "ratings.csv", out / "evaluation.json"]
    written.append(out / "results.md")
    written[-1].write_text(markdown_summary(result))
    result.table.to_csv(written[0], index=False)
    result.ratings.to_csv(written[1], index=False)
    if result.validation is not None:
        written.append(out / "validation.csv")
        result.validation.to_csv(written[-1], index=False)
    written[2].write_text(json.dumps(manifest_section(result), indent=2, default=_plain))
    return written


def manifest_section(result: EvaluationResult) -> dict[str, Any]:
    """The "evaluation" section of the bundle manifest: settings, chosen values, test figures."""
    section = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "protocols": {
            NEW_USER: "80/20 user split; a test user reveals profile_size movies rated >= 4; "
            "targets are their other movies rated >= 4; every movie outside the profile ranked",
            KNOWN_USER: "20% of each test user's ratings held out; targets are those rated >= 4",
        },
        **result.settings,
        "defaults_chosen_by": "python -m recommender.evaluate --tune: validation users drawn "
        "from the train users only; figures in docs/evaluation.md",
        "seconds": round(result.seconds, 1),
        "results": result.table.to_dict(orient="records"),
        "rating_predictions": result.ratings.to_dict(orient="records"),
        "paired_differences": (
            [] if result.paired is None else result.paired.to_dict(orient="records")
        ),
    }
    if result.validation is not None:
        section["validation"] = result.validation.to_dict(orient="records")
    return section


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
