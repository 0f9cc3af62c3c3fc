"""Titles as people read them and a search that finds the film a visitor means.

The search cases run on the real ml-latest-small catalogue with each movie's real number of
ratings as its popularity: the first result must be the film meant.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender.data import load_movies
from recommender.titles import (
    TitleSearch,
    article_first,
    display_title,
    normalize_text,
    split_title,
    title_years,
)


@pytest.fixture(scope="module")
def catalogue(data_dir: Path) -> pd.DataFrame:
    """movies.csv with each movie's number of ratings, row = movie code."""
    movies = pd.read_csv(data_dir / "movies.csv")
    ratings = pd.read_csv(data_dir / "ratings.csv", usecols=["movieId"])
    counts = ratings["movieId"].value_counts().reindex(movies["movieId"], fill_value=0)
    return movies.assign(n_ratings=counts.to_numpy())


@pytest.fixture(scope="module")
def search(catalogue: pd.DataFrame) -> TitleSearch:
    return TitleSearch(catalogue["title"].tolist(), catalogue["n_ratings"].to_numpy())


def first_found(search: TitleSearch, catalogue: pd.DataFrame, text: str) -> str:
    codes = search.find(text, n=10)
    assert len(codes), f"{text!r} found nothing"
    return catalogue["title"].iloc[codes[0]]


# --- reading titles -----------------------------------------------------------------------------

REAL_TITLES = [
    ("Matrix, The (1999)", "The Matrix", "1999"),
    ("Toy Story (1995)", "Toy Story", "1995"),
    ("Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)",
     "Amelie (Le Fabuleux destin d'Amélie Poulain)", "2001"),
    ("Misérables, Les (1995)", "Les Misérables", "1995"),
    ("Postman, The (Postino, Il) (1994)", "The Postman (Il Postino)", "1994"),
    ("Atalante, L' (1934)", "L'Atalante", "1934"),
    ("Avventura, L' (Adventure, The) (1960)", "L'Avventura (The Adventure)", "1960"),
    ("Boot, Das (Boat, The) (1981)", "Das Boot (The Boat)", "1981"),
    ("Seventh Seal, The (Sjunde inseglet, Det) (1957)",
     "The Seventh Seal (Det Sjunde inseglet)", "1957"),
    ("Vitelloni, I (a.k.a. The Young and the Passionate) (1953)",
     "I Vitelloni (The Young and the Passionate)", "1953"),
    ("Twelve Monkeys (a.k.a. 12 Monkeys) (1995)", "Twelve Monkeys (12 Monkeys)", "1995"),
    ("Seven (a.k.a. Se7en) (1995)", "Seven (Se7en)", "1995"),
    # alternatives the name already says are not repeated
    ("Léon: The Professional (a.k.a. The Professional) (Léon) (1994)",
     "Léon: The Professional", "1994"),
    ("Alien³ (a.k.a. Alien 3) (1992)", "Alien³", "1992"),
    ("Godzilla 1985: The Legend Is Reborn (Gojira) (Godzilla) (Return of Godzilla, The) (1984)",
     "Godzilla 1985: The Legend Is Reborn (Gojira / The Return of Godzilla)", "1984"),
    ("Asterix in America (a.k.a Asterix Conquers America) (Astérix et les Indiens) (1994)",
     "Asterix in America (Asterix Conquers America / Astérix et les Indiens)", "1994"),
    # an article before a subtitle, or at the very end after one
    ("Crow, The: Wicked Prayer (2005)", "The Crow: Wicked Prayer", "2005"),
    ("Lord of the Rings: The Fellowship of the Ring, The (2001)",
     "The Lord of the Rings: The Fellowship of the Ring", "2001"),
    # commas that are no article, parentheses that are the name
    ("Monsters, Inc. (2001)", "Monsters, Inc.", "2001"),
    ("Steamboat Bill, Jr. (1928)", "Steamboat Bill, Jr.", "1928"),
    ("(500) Days of Summer (2009)", "(500) Days of Summer", "2009"),
    ("WALL·E (2008)", "WALL·E", "2008"),
    # no year, a series' years
    ("Babylon 5", "Babylon 5", None),
    ("The OA", "The OA", None),
    ("Death Note: Desu nôto (2006–2007)", "Death Note: Desu nôto", "2006–2007"),
]  # fmt: skip


@pytest.mark.parametrize(("title", "shown", "years"), REAL_TITLES)
def test_a_real_title_reads_as_people_write_it(
    catalogue: pd.DataFrame, title: str, shown: str, years: str | None
) -> None:
    assert title in set(catalogue["title"]), "each case is a title of ml-latest-small"
    assert display_title(title) == shown
    assert title_years(title) == years


def test_series_years_and_spacing() -> None:
    assert title_years("Show (2006-2007)") == "2006–2007"  # one dash style on the page
    assert title_years("Show (2016-)") == "2016–"  # still running
    assert display_title("  Matrix,   The   (1999) ") == "The Matrix"
    assert split_title("Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)").alternatives == (
        "Le Fabuleux destin d'Amélie Poulain",
    )
    assert article_first("Godfather, The") == "The Godfather"
    assert display_title("(1999)") == "(1999)"  # nothing but a year: shown as it is


def test_every_real_title_reads_well(data_dir: Path, catalogue: pd.DataFrame) -> None:
    """Across all 9,742 titles: never empty, never a trailing article or year, and the year
    agrees with the one the data loader reads for the bundle."""
    years = load_movies(data_dir / "movies.csv")["year"]
    for title, year in zip(catalogue["title"], years, strict=True):
        shown = display_title(title)
        assert shown and shown == shown.strip(), title
        assert not shown.endswith((", The", ", A", ", An", ", Le", ", La", ", Les")), title
        assert not re.search(r"\(\d{4}[-–]?\d{0,4}\)$", shown), title
        found = title_years(title)
        assert (found is None) == pd.isna(year), title
        if found is not None:
            assert int(found[:4]) == year, title


def test_normalize_text_drops_case_and_accents() -> None:
    assert normalize_text("Amélie") == normalize_text("AMELIE") == "amelie"
    assert normalize_text("  Léon:  The   Professional ") == "leon: the professional"


# --- finding ------------------------------------------------------------------------------------

# What a visitor types and the film meant (the cases and a few more).
SEARCH_CASES = [
    ("the godfather", "Godfather, The (1972)"),  # not The Godfather Trilogy, 2 ratings
    ("godfather, the", "Godfather, The (1972)"),
    ("Godfather", "Godfather, The (1972)"),
    ("godfathr", "Godfather, The (1972)"),  # a typo
    ("the shining", "Shining, The (1980)"),  # not the 1997 miniseries, 1 rating
    ("wall-e", "WALL·E (2008)"),
    ("WALL·E", "WALL·E (2008)"),
    ("walle", "WALL·E (2008)"),
    ("matrix", "Matrix, The (1999)"),
    ("amelie", "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)"),
    ("Amélie", "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)"),
    ("fabuleux destin", "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)"),
    ("toy st", "Toy Story (1995)"),  # as the visitor types
    ("toys", "Toys (1992)"),  # a whole word is not the start of "toy story"
    ("shawshenk", "Shawshank Redemption, The (1994)"),
    ("alein", "Alien (1979)"),
    ("12 monkeys", "Twelve Monkeys (a.k.a. 12 Monkeys) (1995)"),
    ("se7en", "Seven (a.k.a. Se7en) (1995)"),
    ("schindlers list", "Schindler's List (1993)"),
    ("fellas", "Goodfellas (1990)"),  # inside a word
    ("lord of the rings", "Lord of the Rings: The Fellowship of the Ring, The (2001)"),
    ("star wars", "Star Wars: Episode IV - A New Hope (1977)"),
    ("die har", "Die Hard (1988)"),
    ("them", "Them! (1954)"),  # not "The M..."
    ("e.t.", "E.T. the Extra-Terrestrial (1982)"),  # not "Eternal Sunshine..."
    ("LEON", "Léon: The Professional (a.k.a. The Professional) (Léon) (1994)"),
    # every word somewhere, in any order, across the main and the other names
    ("star wars empire", "Star Wars: Episode V - The Empire Strikes Back (1980)"),
    ("wars star", "Star Wars: Episode IV - A New Hope (1977)"),
    ("amelie fabuleux", "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)"),
    ("lord rings return", "Lord of the Rings: The Return of the King, The (2003)"),
    ("indiana jones crusade", "Indiana Jones and the Last Crusade (1989)"),
    # numbers and roman numerals meet
    ("godfather 2", "Godfather: Part II, The (1974)"),
    ("godfather 3", "Godfather: Part III, The (1990)"),
    ("godfathr 2", "Godfather: Part II, The (1974)"),
    ("rocky 2", "Rocky II (1979)"),
    ("star wars 5", "Star Wars: Episode V - The Empire Strikes Back (1980)"),
    ("shrek ii", "Shrek 2 (2004)"),
    ("alien iii", "Alien³ (a.k.a. Alien 3) (1992)"),
]


@pytest.mark.parametrize(("text", "meant"), SEARCH_CASES)
def test_search_finds_the_film_meant_first(
    search: TitleSearch, catalogue: pd.DataFrame, text: str, meant: str
) -> None:
    assert first_found(search, catalogue, text) == meant


def test_the_obscure_namesake_comes_after_the_famous_film(
    search: TitleSearch, catalogue: pd.DataFrame
) -> None:
    titles = [catalogue["title"].iloc[c] for c in search.find("the shining", n=5)]
    assert titles.index("The Shining (1997)") > titles.index("Shining, The (1980)")
    titles = [catalogue["title"].iloc[c] for c in search.find("the godfather", n=5)]
    assert titles[:3] == [
        "Godfather, The (1972)",
        "Godfather: Part II, The (1974)",
        "Godfather: Part III, The (1990)",
    ]
    assert "The Godfather Trilogy: 1972-1990 (1992)" in titles


def test_scores_are_best_first_and_n_is_kept(search: TitleSearch) -> None:
    codes, scores = search.find_with_scores("star", n=7)
    assert len(codes) == len(scores) == 7
    assert len(set(codes.tolist())) == 7
    assert np.all(np.diff(scores) <= 0)
    assert len(search.find("a", n=50)) == 50


@pytest.mark.parametrize("text", ["", "   ", "?!", "·", "(-)"])
def test_a_query_without_letters_finds_nothing(search: TitleSearch, text: str) -> None:
    assert search.find(text).size == 0


def test_nothing_like_the_query_finds_nothing(search: TitleSearch) -> None:
    assert search.find("qqqqxzzzvvv").size == 0


# --- on a hand-made catalogue -------------------------------------------------------------------

HAND_MADE = [
    "Star (2001)",  # 0: the whole name, nobody saw it
    "Star Wars (1977)",  # 1: starts with it, everybody saw it
    "Lone Star (1996)",  # 2: a later word
    "Starman (1984)",  # 3
    "Dark Star (1974)",  # 4: equal popularity to Lone Star, a higher code
]


def test_relevance_and_popularity_decide_together() -> None:
    search = TitleSearch(HAND_MADE, np.array([1, 5000, 40, 300, 40]))
    # well-known prefixes first, then the exact name, then later words (a tie: lower code)
    assert search.find("star").tolist() == [1, 3, 0, 2, 4]
    assert search.find("star wars").tolist() == [1]
    assert search.find("lone").tolist() == [2]
    # an exact match wins when the longer title is no better known
    flat = TitleSearch(HAND_MADE, np.full(5, 10))
    assert flat.find("star")[0] == 0


def test_words_in_order_rank_above_words_anywhere() -> None:
    titles = [
        "Empire of the Sun (1987)",  # 0: both words, apart and reversed
        "Sun Empire (2000)",  # 1: one after the other
        "Empire (2002)",  # 2: only one of them
    ]
    search = TitleSearch(titles, np.full(3, 10))
    assert search.find("sun empire").tolist() == [1, 0]  # a tie on popularity
    assert search.find("empire sun").tolist() == [0, 1]
    # the words may sit in different names of one movie
    named = TitleSearch(["Heat (Chaleur) (1995)", "Chaleur (2001)"], np.array([10, 10]))
    assert named.find("heat chaleur").tolist() == [0]


def test_numbers_match_whole_words_either_way() -> None:
    titles = ["Part II (1990)", "Part III (1991)", "Part 2 (1992)", "Part 2000 (1993)"]
    search = TitleSearch(titles, np.full(4, 10))
    assert sorted(search.find("part 2").tolist()[:2]) == [0, 2]  # "ii" is not "iii"
    assert sorted(search.find("2 part").tolist()) == [0, 2]  # not "iii", not "2000"
    assert sorted(search.find("ii part").tolist()) == [0, 2]


def test_popularity_must_match_the_titles() -> None:
    with pytest.raises(ValueError, match="3 values for 5 titles"):
        TitleSearch(HAND_MADE, np.ones(3))


def test_an_empty_catalogue_finds_nothing() -> None:
    assert TitleSearch([], np.array([])).find("star").size == 0
