"""Films a visitor is not interested in, in the link and the saved files (no browser)."""

from __future__ import annotations

import json

import pytest

from app.not_interested import hidden_link, read_hidden_link
from app.profile_files import (
    CSV_COLUMNS,
    ProfileEntry,
    ProfileError,
    parse_profile,
    to_csv,
    to_json,
)

TITLES = {1: "Toy Story (1995)", 1721: "Titanic (1997)", 4896: "Harry Potter (2001)"}
GENRES = frozenset({"Animation", "Comedy", "Drama"})
ENTRIES = [ProfileEntry(1, "Toy Story (1995)", 4.5, ("Animation", "Comedy"))]
HIDDEN = {1721: "Titanic (1997)", 4896: "Harry Potter (2001)"}


@pytest.mark.parametrize(("write", "name"), [(to_json, "p.json"), (to_csv, "p.csv")])
def test_files_keep_the_hidden_films_apart_from_the_ratings(write, name) -> None:
    loaded = parse_profile(write(ENTRIES, HIDDEN).encode(), name, TITLES, GENRES)
    assert loaded.entries == ENTRIES and loaded.hidden == HIDDEN and not loaded.warnings
    # a profile that hides nothing is written exactly as before
    assert parse_profile(write(ENTRIES).encode(), name, TITLES, GENRES).hidden == {}
    only_hidden = parse_profile(write([], HIDDEN).encode(), name, TITLES, GENRES)
    assert only_hidden.entries == [] and only_hidden.hidden == HIDDEN


def test_the_layouts_say_what_is_hidden() -> None:
    assert to_csv(ENTRIES).splitlines()[0] == ",".join(CSV_COLUMNS)
    lines = to_csv(ENTRIES, HIDDEN).splitlines()
    assert lines[0] == "movieId,title,rating,genres,not_interested"
    assert lines[2] == "1721,Titanic (1997),,,yes"
    document = json.loads(to_json(ENTRIES, HIDDEN))
    assert document["not_interested"][0] == {"movieId": 1721, "title": "Titanic (1997)"}
    assert "not_interested" not in json.loads(to_json(ENTRIES))


@pytest.mark.parametrize(
    ("text", "name", "message"),
    [
        ('{"format": "movierec-profile", "version": 1, "movies": [], "not_interested": 5}',
         "p.json", '"not_interested" must be a list of movies'),
        ('{"format": "movierec-profile", "version": 1, "movies": [],'
         ' "not_interested": [{"movieId": "x"}]}', "p.json", "hidden film 1: movieId 'x'"),
        ("movieId,not_interested\n1,\nabc,yes\n", "p.csv", "row 3: movieId 'abc'"),
    ],
)  # fmt: skip
def test_bad_hidden_films_get_one_clear_message(text: str, name: str, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        parse_profile(text.encode(), name, TITLES, GENRES)


def test_unknown_hidden_films_are_skipped_with_a_note() -> None:
    text = "movieId,not_interested\n1,\n99999,yes\n1721,YES\n"
    loaded = parse_profile(text.encode(), "p.csv", TITLES, GENRES)
    assert loaded.hidden == {1721: "Titanic (1997)"}
    assert loaded.warnings == [
        "skipped 1 hidden film that this model's catalogue does not have (movieIds 99999)"
    ]


def test_the_link_holds_the_hidden_films() -> None:
    assert hidden_link(HIDDEN) == "1721,4896" and hidden_link({}) == ""
    assert read_hidden_link("1721, 4896,", TITLES) == (HIDDEN, [])
    with pytest.raises(ProfileError, match="the link, hidden film 2: movieId -3 must be positive"):
        read_hidden_link("1721,-3", TITLES)
    with pytest.raises(ProfileError, match="at most 1,000"):
        read_hidden_link(",".join(["1"] * 1001), TITLES)
