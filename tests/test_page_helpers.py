"""The page's pure helpers: the profile in a link, titles, ratings in words."""

from __future__ import annotations

import pytest

from app.display import readable_title
from app.profile_files import MAX_MOVIES, ProfileEntry, ProfileError
from app.profile_link import profile_link, read_link
from app.profile_side import rating_meaning
from app.state import stars_shown

TITLES = {1: "Toy Story (1995)", 858: "Godfather, The (1972)", 2571: "Matrix, The (1999)"}
GENRES = {"Adventure", "Animation", "Children", "Comedy", "Crime", "Drama", "Sci-Fi", "Action"}
OWN = {1: ("Adventure", "Animation", "Comedy"), 858: ("Crime", "Drama"), 2571: ("Action", "Sci-Fi")}


def own(movie_id: int) -> tuple[str, ...]:
    return OWN[movie_id]


def read(text: str):
    return read_link(text, TITLES, GENRES, own)


def test_a_link_says_ids_ratings_and_only_changed_genres() -> None:
    entries = [
        ProfileEntry(858, TITLES[858], 5.0, OWN[858]),
        ProfileEntry(1, TITLES[1], None, OWN[1]),
        ProfileEntry(2571, TITLES[2571], 4.5, ("Sci-Fi",)),
        ProfileEntry(1, TITLES[1], 2.0, ()),  # no genre at all is a choice too
    ]
    assert profile_link(entries[:3], own) == "858:5,1,2571:4.5:Sci-Fi"
    assert profile_link(entries[3:], own) == "1:2:"
    assert profile_link([], own) == ""
    assert read(profile_link(entries[:3], own)).entries == entries[:3]
    assert read("1:2:").entries == [entries[3]]
    assert read("1::Comedy").entries == [ProfileEntry(1, TITLES[1], None, ("Comedy",))]


def test_a_link_is_read_leniently_where_people_type() -> None:
    assert read(" 858 : 5 , 1 ").entries == [
        ProfileEntry(858, TITLES[858], 5.0, OWN[858]),
        ProfileEntry(1, TITLES[1], None, OWN[1]),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the link holds no movies"),
        ("abc", "the link, movie 1: 'abc' is not a movie id"),
        ("858,x1", "movie 2: 'x1' is not a movie id"),
        ("-858", "is not a movie id"),
        ("1" * 30, "is not a movie id"),
        ("858:five", "movie 1: rating 'five' is not a number"),
        ("858:nan", "rating 'nan' is not a number"),
        ("858:1e400", "is not a number"),
        ("858:6", "rating 6 is outside 0.5-5"),
        ("858:0", "rating 0 is outside 0.5-5"),
        ("858:3.3", "not a half-star step"),
        ("858:5:Crime:x", "is not id:rating:genres"),
        ("858,858:4", "movieId 858 appears twice"),
        ("12345", "none of the 1 movies in the link is in this model's catalogue"),
        (",".join(["1"] * (MAX_MOVIES + 1)), "a profile holds at most 500"),
        ("1," * 60_000, "too long for a profile"),
    ],
)
def test_a_bad_link_gets_one_message(text: str, message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        read(text)
    assert message in str(caught.value)


def test_a_stale_link_keeps_what_the_catalogue_has() -> None:
    loaded = read("12345:4,858:5,1:3:Western")
    assert [e.movie_id for e in loaded.entries] == [858, 1]
    assert loaded.warnings == [
        "skipped 1 movie that this model's catalogue does not have (movieIds 12345)",
        "ignored 1 unknown genre: Western",
    ]


def test_readable_titles_and_years() -> None:
    assert readable_title("Matrix, The (1999)") == ("The Matrix", "1999")
    assert readable_title("Babylon 5", 1994) == ("Babylon 5", "1994")  # the year column's
    assert readable_title("The OA", float("nan")) == ("The OA", "")


def test_ratings_in_words_and_stars() -> None:
    assert rating_meaning(None, 2.5) == ":gray[liked, no stars]"
    assert rating_meaning(2.5, 2.5) == ":red[★ 2\\.5 · disliked]"
    assert rating_meaning(1.0, 2.5) == ":red[disliked]"
    assert rating_meaning(4.0, 2.5) == ""  # the stars say it
    assert rating_meaning(3.5, 2.5) == ":gray[★ 3\\.5 · liked]"
    assert rating_meaning(3.0, 3.0) == ":red[disliked]"  # the bundle's neutral rating decides
    assert [stars_shown(r) for r in (None, 0.5, 1.0, 2.5, 5.0)] == [None, 0, 0, 1, 4]


def test_a_part_below_zero_says_a_dislike_pushed_the_movie_down() -> None:
    from app.movie_cards import part_share

    assert part_share("Similar genres", 0.774) == "Similar genres 77%"
    assert part_share("Fans also liked", -0.36) == (
        "Fans also liked: pushed down by a film you disliked"
    )


def test_a_card_leaves_out_the_parts_that_added_nothing() -> None:
    """A film in no series shows no "Series 0%": a part at 0 says nothing to a fan."""
    from app.movie_cards import card_text

    row = {"title": "Heat (1995)", "year": 1995, "genres": "Action|Crime", "reason": "",
           "content_score": 0.5, "series_score": 0.0, "personal_score": -0.2}  # fmt: skip
    parts = {"content": "Similar genres", "series": "Series", "personal": "People like you"}
    text = card_text(row, parts, None, 0)
    assert "Similar genres 50%" in text and "People like you\\: pushed down" in text
    assert "Series" not in text
