"""A panel of fan checks: profiles on MovieLens whose right answers any film fan knows.

NDCG rewards blockbusters; these ask what a person at the page notices. They were written down
before the defaults were tuned (docs/evaluation.md), and the tests and the README run the same
panel:

    python -m recommender.evaluation.fan_checks --artifacts-dir artifacts

Each check names its movies by movieId (ml-latest-small and the full MovieLens sets share them);
a check whose movies the catalogue lacks is skipped, not failed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recommender.hybrid import Recommender
from recommender.titles import quoted_title

TOY_STORY, TOY_STORY_2, FINDING_NEMO, SHREK, UP = 1, 3114, 6377, 4306, 68954
PULP_FICTION, FIGHT_CLUB = 296, 2959
SHINING, ALIEN, HALLOWEEN = 1258, 1214, 1982
GODFATHER, GODFATHER_2, GOODFELLAS = 858, 1221, 1213
FELLOWSHIP, TWO_TOWERS, RETURN_OF_THE_KING = 4993, 5952, 7153
STAR_WARS_4, STAR_WARS_5, STAR_WARS_6 = 260, 1196, 1210
BACK_TO_THE_FUTURE, BACK_TO_THE_FUTURE_2, BACK_TO_THE_FUTURE_3 = 1270, 2011, 2012
BLADE_RUNNER = 541


@dataclass(frozen=True)
class Verdict:
    passed: bool
    detail: str  # what was seen, in words


@dataclass(frozen=True)
class FanCheck:
    """One profile and what a fan expects of its recommendations."""

    name: str
    expectation: str
    movies: tuple[int, ...]  # every movieId the check needs
    judge: Callable[[Recommender], Verdict]


def _top(rec: Recommender, profile: dict[int, float | None], n: int = 10) -> pd.DataFrame:
    return rec.recommend(profile, n=n)


def _rank_of(table: pd.DataFrame, movie_id: int) -> int | None:
    ids = table["movieId"].tolist()
    return ids.index(movie_id) + 1 if movie_id in ids else None


def _share_with_genres(table: pd.DataFrame, genres: set[str]) -> int:
    return int(sum(bool(genres & set(g.split("|"))) for g in table["genres"]))


def sequels_near_the_top(first: int, sequels: Sequence[int], within: int) -> Callable:
    def judge(rec: Recommender) -> Verdict:
        table = _top(rec, {first: None}, n=within)
        ranks = {movie: _rank_of(table, movie) for movie in sequels}
        seen = ", ".join(f"{rec.movies['title'].iat[rec.codes_of([m])[0]]}: {r or '-'}"
                         for m, r in ranks.items())  # fmt: skip
        return Verdict(all(ranks.values()), f"ranks {seen}")

    return judge


def mostly_genres(
    profile: dict[int, float | None], genres: set[str], at_least: int, never: Sequence[int] = ()
) -> Callable:
    def judge(rec: Recommender) -> Verdict:
        top10 = _top(rec, profile)
        share = _share_with_genres(top10, genres)
        unwanted = [m for m in never if _rank_of(_top(rec, profile, n=20), m)]
        detail = f"{share} of the top 10 are {' or '.join(sorted(genres))}"
        if never:
            detail += f"; unwanted in the top 20: {unwanted or 'none'}"
        return Verdict(share >= at_least and not unwanted, detail)

    return judge


def loved_beside_disliked(rec: Recommender) -> Verdict:
    top10 = _top(rec, {GODFATHER: 5.0, GOODFELLAS: 0.5})
    share = _share_with_genres(top10, {"Crime", "Drama"})
    rank = _rank_of(top10, GODFATHER_2)
    detail = f"{share} of the top 10 are Crime or Drama; Part II at {rank or 'not in the top 10'}"
    return Verdict(share >= 7 and rank is not None, detail)


def dislike_pushes_its_kind_away(rec: Recommender) -> Verdict:
    """Goodfellas' own audience favourites sink when it is disliked; the rest stays."""
    loved = _top(rec, {GODFATHER: 5.0}, n=100)
    with_dislike = _top(rec, {GODFATHER: 5.0, GOODFELLAS: 0.5}, n=100)
    its_kind = [m for m in _top(rec, {GOODFELLAS: 5.0})["movieId"] if m != GODFATHER]

    def mean_rank(table: pd.DataFrame) -> float:
        return sum(_rank_of(table, m) or 101 for m in its_kind) / len(its_kind)

    kept = len(set(loved["movieId"][:10]) & set(with_dislike["movieId"][:10]))
    before, after = mean_rank(loved), mean_rank(with_dislike)
    detail = f"its kind's mean rank {before:.1f} -> {after:.1f}; {kept} of the top 10 kept"
    return Verdict(after > before and kept >= 6, detail)


def a_lone_dislike_is_not_a_like(rec: Recommender) -> Verdict:
    disliked = _top(rec, {GOODFELLAS: 0.5})
    liked = _top(rec, {GOODFELLAS: 5.0})
    title = quoted_title(rec.movies["title"].iat[rec.codes_of([GOODFELLAS])[0]])
    credits = int(disliked["reason"].str.contains(title, regex=False).sum())
    same = len(set(disliked["movieId"]) & set(liked["movieId"]))
    detail = f"{credits} reasons credit it; {same} of 10 shared with loving it"
    return Verdict(credits == 0 and same <= 3, detail)


def a_disliked_series_goes_down(rec: Recommender) -> Verdict:
    """Star Wars disliked beside Blade Runner loved: the whole series leaves, the taste stays."""
    top10 = _top(rec, {BLADE_RUNNER: 5.0, STAR_WARS_4: 1.0})
    star_wars = int(top10["title"].str.startswith("Star Wars").sum())
    share = _share_with_genres(top10, {"Sci-Fi"})
    detail = f"{star_wars} Star Wars films and {share} Sci-Fi in the top 10"
    return Verdict(star_wars == 0 and share >= 6, detail)


def the_next_one_first(first: int, following: int, then: int, within: int) -> Callable:
    def judge(rec: Recommender) -> Verdict:
        table = _top(rec, {first: None}, n=within)
        ranks = [_rank_of(table, following), _rank_of(table, then)]
        detail = f"the next at {ranks[0] or '-'}, the one after at {ranks[1] or '-'}"
        return Verdict(ranks[0] == 1 and ranks[1] is not None, detail)

    return judge


def three_stars_is_a_mild_like(rec: Recommender) -> Verdict:
    rank = _rank_of(_top(rec, {TOY_STORY: 3.0}, n=20), TOY_STORY_2)
    return Verdict(rank is not None, f"Toy Story 2 at {rank or 'not in the top 20'}")


PANEL: list[FanCheck] = [
    FanCheck(
        "Toy Story alone",
        "Toy Story 2 in the top 5",
        (TOY_STORY, TOY_STORY_2),
        sequels_near_the_top(TOY_STORY, [TOY_STORY_2], 5),
    ),
    FanCheck(
        "The Fellowship of the Ring alone",
        "both sequels in the top 5",
        (FELLOWSHIP, TWO_TOWERS, RETURN_OF_THE_KING),
        sequels_near_the_top(FELLOWSHIP, [TWO_TOWERS, RETURN_OF_THE_KING], 5),
    ),
    FanCheck(
        "Star Wars (1977) alone",
        "Episodes V and VI in the top 5",
        (STAR_WARS_4, STAR_WARS_5, STAR_WARS_6),
        sequels_near_the_top(STAR_WARS_4, [STAR_WARS_5, STAR_WARS_6], 5),
    ),
    FanCheck(
        "Back to the Future alone",
        "Part II in the top 10",
        (BACK_TO_THE_FUTURE, BACK_TO_THE_FUTURE_2),
        sequels_near_the_top(BACK_TO_THE_FUTURE, [BACK_TO_THE_FUTURE_2], 10),
    ),
    FanCheck(
        "A family evening: Toy Story, Finding Nemo, Shrek, Up (5 stars each)",
        "at least 7 of the top 10 are Animation or Children; no Pulp Fiction or Fight Club "
        "in the top 20",
        (TOY_STORY, FINDING_NEMO, SHREK, UP, PULP_FICTION, FIGHT_CLUB),
        mostly_genres(
            {TOY_STORY: 5.0, FINDING_NEMO: 5.0, SHREK: 5.0, UP: 5.0},
            {"Animation", "Children"},
            7,
            never=(PULP_FICTION, FIGHT_CLUB),
        ),
    ),
    FanCheck(
        "A horror fan: The Shining, Alien, Halloween (5 stars each)",
        "at least 6 of the top 10 are Horror",
        (SHINING, ALIEN, HALLOWEEN),
        mostly_genres({SHINING: 5.0, ALIEN: 5.0, HALLOWEEN: 5.0}, {"Horror"}, 6),
    ),
    FanCheck(
        "The Godfather 5 stars, Goodfellas half a star",
        "at least 7 of the top 10 are Crime or Drama, The Godfather: Part II among them",
        (GODFATHER, GOODFELLAS, GODFATHER_2),
        loved_beside_disliked,
    ),
    FanCheck(
        "Goodfellas disliked beside The Godfather, against The Godfather alone",
        "the films Goodfellas' fans favour sink; at least 6 of the top 10 stay",
        (GODFATHER, GOODFELLAS),
        dislike_pushes_its_kind_away,
    ),
    FanCheck(
        "Only Goodfellas, half a star",
        "no reason credits Goodfellas; at most 3 of the top 10 shared with loving it",
        (GOODFELLAS,),
        a_lone_dislike_is_not_a_like,
    ),
    FanCheck(
        "Back to the Future alone: the series in order",
        "Part II first, Part III in the top 5",
        (BACK_TO_THE_FUTURE, BACK_TO_THE_FUTURE_2, BACK_TO_THE_FUTURE_3),
        the_next_one_first(BACK_TO_THE_FUTURE, BACK_TO_THE_FUTURE_2, BACK_TO_THE_FUTURE_3, 5),
    ),
    FanCheck(
        "Blade Runner 5 stars, Star Wars (1977) 1 star",
        "no Star Wars film in the top 10; at least 6 of them Sci-Fi",
        (BLADE_RUNNER, STAR_WARS_4),
        a_disliked_series_goes_down,
    ),
    FanCheck(
        "Toy Story at 3 stars",
        "a mild like: Toy Story 2 in the top 20",
        (TOY_STORY, TOY_STORY_2),
        three_stars_is_a_mild_like,
    ),
]


def run_panel(rec: Recommender) -> pd.DataFrame:
    """Every check of the panel on ``rec``: name, expectation, passed (None: skipped), seen."""
    known = set(rec.movie_ids.tolist())
    rows = []
    for check in PANEL:
        if not set(check.movies) <= known:
            rows.append((check.name, check.expectation, None, "skipped: movies not in catalogue"))
            continue
        verdict = check.judge(rec)
        rows.append((check.name, check.expectation, verdict.passed, verdict.detail))
    return pd.DataFrame(rows, columns=["check", "expected", "passed", "seen"])


def markdown(table: pd.DataFrame) -> str:
    marks = {True: "yes", False: "**no**", None: "skipped"}
    lines = ["| fan check | expected | passed | seen |", "|---|---|---|---|"]
    lines += [
        f"| {row.check} | {row.expected} | {marks[row.passed]} | {row.seen} |"
        for row in table.itertuples()
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m recommender.evaluation.fan_checks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--artifacts-dir", type=Path, default=Path("artifacts"))
    args = parser.parse_args(argv)
    table = run_panel(Recommender.load(args.artifacts_dir))
    print(markdown(table))
    return 0 if table["passed"].dropna().all() else 1


if __name__ == "__main__":
    sys.exit(main())
