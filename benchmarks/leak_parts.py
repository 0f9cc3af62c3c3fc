"""Where the blockbusters of other kinds come from: each part of the blend taken out in turn,
on the fans far from them (``tests/test_discovery.py`` defines the profiles, "most-rated" and
"of another kind" before anything was measured).

    python benchmarks/leak_parts.py --artifacts-dir artifacts [--scaled-fold-in]

For each fan it prints how many of the top 10 are most-rated films of another kind, at the
default discovery: as shipped; without each scorer; without the genre calibration; each
scorer alone; at discovery 0 and 1. ``--scaled-fold-in`` multiplies the personal scores by
the SVD's column scale (ratings^alpha), as the fold-in did before the fix.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from recommender import Recommender
from tests.test_discovery import FANS, leaked


def variants(rec: Recommender) -> dict[str, dict]:
    """Name -> (weights, discovery, calibration) of each way the list is made."""
    chosen = {"as shipped": {}}
    chosen.update({f"without {name}": {"weights": {name: 0.0}} for name in rec.scorers})
    chosen["no calibration"] = {"calibration": 0.0}
    for name in rec.scorers:
        alone = {other: float(other == name) for other in rec.scorers}
        chosen[f"{name} alone"] = {"weights": alone}
    chosen["discovery 0"] = {"discovery": 0.0}
    chosen["discovery 1"] = {"discovery": 1.0}
    return chosen


def top_10(rec: Recommender, profile: dict, weights=None, discovery=None, calibration=None):
    """The ten movies shown, as ``recommend`` ranks them (``calibration`` 0: none)."""
    scored = rec.score_parts(profile)
    found = rec.discovery.scored(scored, rec.blend_weights(weights), discovery)
    strength = found.calibration if calibration is None else calibration
    top = rec.rank(found.score, scored.request, 10, strength)
    return rec.movies.iloc[top][["movieId", "title", "genres", "year"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts-dir", type=Path, default=Path("artifacts"))
    parser.add_argument("--scaled-fold-in", action="store_true")
    args = parser.parse_args(argv)
    rec = Recommender.load(args.artifacts_dir)
    if args.scaled_fold_in:
        personal = rec.scorers["personal"]
        scale, scores = personal.cf.item_scale, personal.scores
        personal.scores = lambda request: scores(request) * np.asarray(scale)
    print(f"default discovery {rec.discovery.default:g}; in the top 10, most-rated films of")
    print("another kind (titles where the list is as shipped)")
    print(f"| | {' | '.join(FANS)} |\n|---|" + "---|" * len(FANS))
    for name, options in variants(rec).items():
        cells = []
        for profile, other_kind in FANS.values():
            found = leaked(rec, top_10(rec, profile, **options), other_kind)
            titles = f": {', '.join(found)}" if name == "as shipped" and found else ""
            cells.append(f"{len(found)}{titles}")
        print(f"| {name} | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
