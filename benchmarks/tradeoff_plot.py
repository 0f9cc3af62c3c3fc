"""Draw the accuracy / long-tail trade-off of the tuning's candidates as an SVG (no plotting
library needed): docs/evaluation.md shows it.

    python benchmarks/tradeoff_plot.py evaluation/validation.csv --out docs/tradeoff.svg

Each grey dot is one candidate of the tuning's blend stage (neighbours' settings x blend
weights x calibration) on the validation users: x = tail NDCG@20 at 5 movies, y = the mean
NDCG@20 over profiles of 1, 3, 5 and 10 movies. Blue dots meet every bar of the rule
(``recommender/evaluation/objectives.py``); the red ring is the chosen default; the dashed line
is the tail bar (0.7 x EASE at lambda 500 on the same users).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from recommender.evaluation.objectives import TAIL_AT_LEAST

WIDTH, HEIGHT, MARGIN = 720, 460, 60


def _scale(values: pd.Series, low: float, high: float, size: float, flip: bool) -> pd.Series:
    lo, hi = float(values.min()), float(values.max())
    span = (hi - lo) or 1.0
    scaled = (values - lo) / span * (size - low - high)
    return (size - high - scaled) if flip else (low + scaled)


def svg(candidates: pd.DataFrame, chosen: pd.Series, tail_bar: float) -> str:
    """The scatter plot as SVG text."""
    x_all = pd.concat([candidates["tail NDCG@20"], pd.Series([tail_bar])])
    xs = _scale(x_all, MARGIN, 20, WIDTH, flip=False)
    ys = _scale(candidates["criterion"], 20, MARGIN, HEIGHT, flip=True)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        'font-family="sans-serif" font-size="13">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
    ]
    bar_x = xs.iloc[-1]
    parts.append(
        f'<line x1="{bar_x:.1f}" y1="20" x2="{bar_x:.1f}" y2="{HEIGHT - MARGIN}" '
        'stroke="#888" stroke-dasharray="5,4"/>'
    )
    for (_, row), x, y in zip(candidates.iterrows(), xs.iloc[:-1], ys, strict=True):
        colour = "#2b6cb0" if row["meets the rule's bars"] else "#bbb"
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>')
    at = candidates.index.get_loc(chosen.name)
    parts.append(
        f'<circle cx="{xs.iloc[at]:.1f}" cy="{ys.iloc[at]:.1f}" r="7" fill="none" '
        'stroke="#c53030" stroke-width="2"/>'
    )
    low_x, high_x = candidates["tail NDCG@20"].min(), candidates["tail NDCG@20"].max()
    low_y, high_y = candidates["criterion"].min(), candidates["criterion"].max()
    parts += [
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 15}" text-anchor="middle">tail NDCG@20 at 5 '
        f"movies ({low_x:.3f} to {high_x:.3f}): the films few others saw</text>",
        f'<text x="18" y="{HEIGHT / 2}" text-anchor="middle" transform="rotate(-90 18 '
        f'{HEIGHT / 2})">mean NDCG@20, 1-10 movies ({low_y:.3f} to {high_y:.3f})</text>',
        f'<text x="{bar_x + 6:.1f}" y="34" fill="#555">tail bar: 0.7 x EASE (λ=500)</text>',
        f'<text x="70" y="{HEIGHT - MARGIN - 30}" fill="#2b6cb0">● meets every bar</text>',
        f'<text x="70" y="{HEIGHT - MARGIN - 12}" fill="#c53030">○ the chosen default</text>',
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("validation", type=Path, help="validation.csv of an --tune run")
    parser.add_argument("--out", type=Path, default=Path("docs/tradeoff.svg"))
    args = parser.parse_args(argv)
    table = pd.read_csv(args.validation)
    blends = table[table["stage"] == "blend"].reset_index(drop=True)
    blends["meets the rule's bars"] = blends["shortfall"] <= 0
    chosen = blends.loc[blends["chosen"].astype(bool)].iloc[0]
    args.out.write_text(svg(blends, chosen, TAIL_AT_LEAST * float(chosen["bar tail"])))
    meeting = int(blends["meets the rule's bars"].sum())
    print(f"wrote {args.out}: {len(blends)} candidates, {meeting} meet every bar")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
