"""Series from the titles and the audiences, on the real data (ml-latest-small) and on titles
written out: the rule finds franchises in MovieLens' title forms, keeps remakes and homonyms
out, orders the films, and the scorer brings the next one first and takes a disliked series
down."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recommender import Recommender
from recommender.bundle import BundleError
from recommender.data import Dataset, load_dataset
from recommender.scorer import BundleInfo
from recommender.series import SeriesScorer, find_series, numbered, series_keys, series_name

TOY_STORY, TOY_STORY_2, TOY_STORY_3 = 1, 3114, 78499
BACK_TO_THE_FUTURE, PART_II, PART_III = 1270, 2011, 2012
BLADE_RUNNER, STAR_WARS_4, STAR_WARS_5, STAR_WARS_6 = 541, 260, 1196, 1210
PSYCHO, PSYCHO_1998, ROCKY_HORROR, ALIEN, ALIENS = 1219, 2389, 2657, 1214, 1200


@pytest.fixture(scope="module")
def data(data_dir: Path) -> Dataset:
    return load_dataset(data_dir)


@pytest.fixture(scope="module")
def series_of(data: Dataset) -> dict[int, list[str]]:
    """movieId -> the titles of its series, in order."""
    titles = data.movies["title"].astype(str).tolist()
    ids = data.movies["movieId"].tolist()
    found = find_series(titles, data.movies["year"].astype("float").tolist(), data.ratings)
    return {ids[code]: [titles[c] for c in members] for members in found for code in members}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("toy story 2", ("toy story", 2)),
        ("godfather: part ii", ("godfather", 2)),
        ("star wars: episode v - the empire strikes back", ("star wars", 5)),
        ("back to the future part iii", ("back to the future", 3)),
        ("friday the 13th part vi: jason lives", ("friday the 13th", 6)),
        ("john wick: chapter two", ("john wick", 2)),
        ("toy story", None),
        ("friday the 13th", None),  # a number inside a word is no sequel's
        ("rocky balboa", None),
    ],
)
def test_a_sequels_number_is_read_in_every_form(name: str, expected):
    assert numbered(name) == expected


def test_titles_name_their_series_in_movielens_forms():
    titles = [
        "Godfather, The (1972)",
        "Godfather: Part II, The (1974)",
        "Harry Potter and the Sorcerer's Stone (a.k.a. Harry Potter and the Philosopher's Stone) "
        "(2001)",
        "Harry Potter and the Deathly Hallows: Part 1 (2010)",
        "Alien (1979)",
        "Aliens (1986)",
        "Alien³ (a.k.a. Alien 3) (1992)",
        "Heat (1995)",
    ]
    keys = series_keys(titles)
    assert [key.stem if key else None for key in keys] == [
        "godfather", "godfather", "harry potter", "harry potter", "alien", "alien", "alien", None
    ]  # fmt: skip
    assert keys[1].number == 2 and keys[6].number == 3
    assert keys[3].number is None  # Part 1 of Deathly Hallows, not of Harry Potter: by year
    assert series_name(titles[:2]) == "The Godfather"
    assert series_name(titles[2:4]) == "Harry Potter"


def test_the_audiences_keep_remakes_and_homonyms_out(series_of: dict[int, list[str]]):
    assert series_of[PSYCHO] == ["Psycho (1960)", "Psycho II (1983)", "Psycho III (1986)"]
    assert PSYCHO_1998 not in series_of  # the remake: the same name, the 1960 film's audience
    assert ROCKY_HORROR not in series_of  # "Rocky ..." by its first word only
    assert series_of[ALIEN][:2] == ["Alien (1979)", "Aliens (1986)"]  # a plural of the name


def test_series_are_ordered_by_number_else_year(series_of: dict[int, list[str]]):
    episodes = [t for t in series_of[STAR_WARS_4] if "Episode" in t]
    assert [t.split(" - ")[0] for t in episodes] == [
        f"Star Wars: Episode {n}" for n in ("I", "II", "III", "IV", "V", "VI", "VII")
    ]
    assert series_of[TOY_STORY] == ["Toy Story (1995)", "Toy Story 2 (1999)", "Toy Story 3 (2010)"]
    assert len(series_of[4896]) == 8 and series_of[4896][-1].endswith("Part 2 (2011)")  # Potter


def _ids(rec: Recommender, profile: dict, n: int = 10) -> list[int]:
    return rec.recommend(profile, n=n)["movieId"].tolist()


def test_a_loved_film_brings_the_next_one_first(recommender: Recommender):
    result = recommender.recommend({TOY_STORY: None}, n=10)
    assert result["movieId"].iloc[0] == TOY_STORY_2
    assert result["reason"].iloc[0] == "next in the Toy Story series"
    top = _ids(recommender, {BACK_TO_THE_FUTURE: None}, 5)
    assert top[0] == PART_II and PART_III in top
    both = _ids(recommender, {TOY_STORY: 5.0, TOY_STORY_2: 5.0}, 3)
    assert TOY_STORY_3 in both  # the next unseen one
    star_wars = _ids(recommender, {STAR_WARS_4: None}, 20)
    assert star_wars.index(STAR_WARS_5) < star_wars.index(
        STAR_WARS_6
    )  # the next, not the one after


def test_a_disliked_film_takes_its_series_down(recommender: Recommender):
    result = recommender.recommend({BLADE_RUNNER: 5.0, STAR_WARS_4: 1.0}, n=10)
    assert not result["title"].str.startswith("Star Wars").any(), result["title"].tolist()
    assert result["genres"].str.contains("Sci-Fi").sum() >= 6
    alone = _ids(recommender, {BLADE_RUNNER: 5.0}, 20)
    assert {STAR_WARS_5, STAR_WARS_6} & set(alone)  # it was the dislike that took them out


def test_the_series_arrays_are_small_and_checked_on_load(recommender: Recommender):
    scorer = recommender.scorers["series"]
    arrays = scorer.to_arrays()
    assert {array.dtype for array in arrays.values()} == {np.dtype(np.int32)}
    assert sum(array.nbytes for array in arrays.values()) < 8 * len(recommender.movies)
    info = BundleInfo({}, recommender.params, tuple(recommender.genres), recommender.movies)
    for broken in (
        {**arrays, "members": arrays["members"] + len(recommender.movies)},  # no such movie
        {**arrays, "starts": arrays["starts"][:-1]},  # the last series cut
        {"members": arrays["members"]},
    ):
        with pytest.raises(BundleError):
            SeriesScorer.from_arrays(broken, info)


def test_without_the_ratings_titles_alone_keep_numbered_and_named_films():
    """The Spark engine keeps the ratings on its executors: the series then come from the
    titles' strongest evidence alone (a number, the series' very name)."""
    titles = ["Toy Story (1995)", "Toy Story 2 (1999)", "Alien (1979)", "Alien Nation (1988)"]
    found = find_series(titles, [1995, 1999, 1979, 1988], None)
    assert [members.tolist() for members in found] == [[0, 1]]


def test_a_series_whose_name_starts_with_an_article_reads_as_people_say_it(recommender) -> None:
    godfather = 858
    result = recommender.recommend({godfather: 5.0}, n=5)
    assert result["reason"].iloc[0] == "next in the Godfather series"
