"""Draw the discovery curve as an SVG (no plotting library needed): docs/evaluation.md shows it.

    python benchmarks/discovery_plot.py evaluation/results.csv --out docs/discovery.svg

Left: NDCG@20 of the default blend at discovery 0, .25, .5, .75 and 1, one line per profile
size (new users with 1, 3, 5, 10 movies), each beside a dashed line at the best tuned anchor's
NDCG@20 for that size. Right, at 5 movies: the tail NDCG@20 and the overlap of two users' lists
along the same steps, beside EASE (lambda 500)'s (dashed): issue 11's yardstick.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from recommender.evaluation.report import discovery_curve

PANEL, HEIGHT, MARGIN, TOP = 400, 380, 55, 40
COLOURS = {1: "#c53030", 3: "#dd6b20", 5: "#2b6cb0", 10: "#2f855a"}
YARDSTICK = "EASE (λ=500)"


def _line(points: list[tuple[float, float]], colour: str, dashed: bool = False) -> str:
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dash = ' stroke-dasharray="5,4"' if dashed else ""
    return f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'


def _panel(
    left: float,
    series: list[tuple[str, str, pd.Series, float | None]],
    title: str,
    default: float | None,
) -> list:
    """One panel: each (label, colour, values by discovery, reference or None) as a line."""
    values = [v for _, _, s, ref in series for v in [*s.tolist(), *([ref] if ref else [])]]
    low, high = min(values), max(values)
    span = (high - low) or 1.0

    def x(d: float) -> float:
        return left + MARGIN + d * (PANEL - MARGIN - 20)

    def y(v: float) -> float:
        return TOP + (high - v) / span * (HEIGHT - TOP - MARGIN)

    parts = [f'<text x="{left + PANEL / 2}" y="22" text-anchor="middle">{title}</text>']
    parts.append(f'<text x="{left + MARGIN - 6}" y="{y(high) + 4:.1f}" text-anchor="end">'
                 f"{high:.3f}</text>")  # fmt: skip
    parts.append(f'<text x="{left + MARGIN - 6}" y="{y(low) + 4:.1f}" text-anchor="end">'
                 f"{low:.3f}</text>")  # fmt: skip
    for d in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<text x="{x(d):.1f}" y="{HEIGHT - MARGIN + 18}" '
                     f'text-anchor="middle">{d:g}</text>')  # fmt: skip
    parts.append(f'<text x="{left + PANEL / 2}" y="{HEIGHT - 12}" text-anchor="middle">'
                 "discovery: popular picks (0) → hidden gems (1)</text>")  # fmt: skip
    if default is not None:
        parts.append(f'<line x1="{x(default):.1f}" y1="{TOP}" x2="{x(default):.1f}" '
                     f'y2="{HEIGHT - MARGIN}" stroke="#333" stroke-dasharray="1,3"/>')  # fmt: skip
        parts.append(f'<text x="{x(default) + 4:.1f}" y="{HEIGHT - MARGIN - 6}" fill="#333">'
                     "the default</text>")  # fmt: skip
    for row, (label, colour, line, reference) in enumerate(series):
        parts.append(_line([(x(d), y(v)) for d, v in line.items()], colour))
        if reference is not None:
            parts.append(_line([(x(0), y(reference)), (x(1), y(reference))], colour, True))
        parts.append(f'<text x="{left + PANEL - 10}" y="{TOP + 14 + 16 * row}" fill="{colour}" '
                     f'text-anchor="end">{label}</text>')  # fmt: skip
    return parts


def svg(
    curve: pd.DataFrame, yardstick: dict[str, float], k: int = 20, default: float | None = None
) -> str:
    """The two panels as SVG text, from ``report.discovery_curve`` rows and EASE (lambda
    500)'s figures at 5 movies."""
    steps = curve[curve["discovery"].notna()]
    anchors = curve[curve["discovery"].isna()].set_index("profile_size")
    ndcg = []
    for size, rows in steps.groupby("profile_size"):
        line = rows.set_index("discovery")[f"NDCG@{k}"]
        reference = float(anchors.at[size, f"NDCG@{k}"]) if size in anchors.index else None
        ndcg.append((f"{size} movie{'s' if size > 1 else ''}", COLOURS.get(size, "#555"), line,
                     reference))  # fmt: skip
    five = steps[steps["profile_size"] == 5].set_index("discovery")
    fans = [
        (f"tail NDCG@{k}", "#6b46c1", five[f"tail NDCG@{k}"], yardstick.get(f"tail NDCG@{k}")),
        ("overlap", "#718096", five["overlap"], yardstick.get("overlap")),
    ]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * PANEL}" height="{HEIGHT}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{2 * PANEL}" height="{HEIGHT}" fill="white"/>',
        *_panel(0, ndcg, f"NDCG@{k} (dashed: the best tuned anchor)", default),
        *_panel(PANEL, fans, f"5 movies (dashed: {YARDSTICK})", default),
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "results", type=Path, help="results.csv of python -m recommender.evaluation"
    )
    parser.add_argument("--out", type=Path, default=Path("docs/discovery.svg"))
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--default", type=float, help="the bundle's default discovery, marked")
    args = parser.parse_args(argv)
    table = pd.read_csv(args.results)
    curve = discovery_curve(table, args.k)
    if curve.empty:
        print("no discovery rows in the results: run the evaluation first", file=sys.stderr)
        return 2
    at_five = table[(table["protocol"] == "new-user") & (table["profile_size"] == 5)]
    ease = at_five[at_five["scorer"] == YARDSTICK]
    columns = [f"tail NDCG@{args.k}", "overlap"]
    yardstick = ease.iloc[0][columns].to_dict() if len(ease) else {}
    args.out.write_text(svg(curve, yardstick, args.k, args.default))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
