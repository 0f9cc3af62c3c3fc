"""The series the trainer finds in a MovieLens folder, largest first, each film in order: the
table docs/evaluation.md's hand check of the series rule was read from.

    python benchmarks/series_table.py --data-dir $MOVIEREC_DATA_DIR [--top 50] [--markdown]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recommender.data import load_dataset
from recommender.series import find_series, series_name
from recommender.titles import quoted_title


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("MOVIEREC_DATA_DIR", "data"))
    )
    parser.add_argument("--top", type=int, default=50)
    parser.add_argument("--markdown", action="store_true", help="one table row per series")
    args = parser.parse_args(argv)
    data = load_dataset(args.data_dir)
    titles = data.movies["title"].astype(str).tolist()
    years = data.movies["year"].astype("float").tolist()
    found = find_series(titles, years, data.ratings)
    found.sort(key=lambda members: (-len(members), series_name([titles[c] for c in members])))
    films = sum(len(members) for members in found)
    print(f"{len(found)} series, {films} films; the {min(args.top, len(found))} largest:\n")
    if args.markdown:
        print("| # | series | films, in order |\n|---|---|---|")
    for rank, members in enumerate(found[: args.top], start=1):
        name = series_name([titles[c] for c in members])
        shown = [quoted_title(titles[c]) for c in members]
        if args.markdown:
            print(f"| {rank} | {name} | {'; '.join(shown)} |")
        else:
            print(f"{rank:2d}. {name} ({len(members)})")
            for position, title in enumerate(shown, start=1):
                print(f"      {position}. {title}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
