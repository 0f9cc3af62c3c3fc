"""Profile files and the app's small helpers: round trips and one clear message per bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from app.display import escape_markdown, format_rating, genre_mix, movie_links
from app.profile_files import (
    MAX_UPLOAD_BYTES,
    ProfileEntry,
    ProfileError,
    parse_profile,
    recommend_arguments,
    to_csv,
    to_json,
)

TITLES = {1: "Toy Story (1995)", 2: "Jumanji (1995)", 260: 'Star Wars, "IV" (1977)'}
GENRES = {"Adventure", "Animation", "Children", "Comedy", "Fantasy", "Sci-Fi", "Action"}
ENTRIES = [
    ProfileEntry(1, "Toy Story (1995)", 4.5, ("Animation", "Comedy")),
    ProfileEntry(2, "Jumanji (1995)", None, ()),
    ProfileEntry(260, 'Star Wars, "IV" (1977)', 0.5, ("Sci-Fi",)),
]


def _movie(fields: str) -> str:
    """A JSON profile of movie 1 with ``fields`` written as they are."""
    movie = '{"movieId": 1, ' + fields + "}"
    return '{"format": "movierec-profile", "version": 1, "movies": [' + movie + "]}"


def parse(text: str | bytes, filename: str = "profile.json"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse_profile(data, filename, TITLES, GENRES)


def error_of(text: str | bytes, filename: str = "profile.json") -> str:
    with pytest.raises(ProfileError) as caught:
        parse(text, filename)
    return str(caught.value)


@pytest.mark.parametrize(("write", "name"), [(to_json, "p.json"), (to_csv, "p.csv")])
def test_round_trip_keeps_every_field(write, name) -> None:
    loaded = parse(write(ENTRIES), name)
    assert loaded.entries == ENTRIES
    assert loaded.warnings == []


def test_json_layout_is_documented_and_versioned() -> None:
    document = json.loads(to_json(ENTRIES[:1]))
    assert document == {
        "format": "movierec-profile",
        "version": 1,
        "movies": [
            {
                "movieId": 1,
                "title": "Toy Story (1995)",
                "rating": 4.5,
                "genres": ["Animation", "Comedy"],
            }
        ],
    }


def test_csv_layout_quotes_titles_with_commas() -> None:
    lines = to_csv(ENTRIES).splitlines()
    assert lines[0] == "movieId,title,rating,genres"
    assert lines[1] == "1,Toy Story (1995),4.5,Animation|Comedy"
    assert lines[2] == "2,Jumanji (1995),,"
    assert lines[3] == '260,"Star Wars, ""IV"" (1977)",0.5,Sci-Fi'


def test_catalogue_title_wins_over_the_file() -> None:
    text = "movieId,title\n1,<b>not the real title</b>\n"
    assert parse(text, "p.csv").entries == [ProfileEntry(1, "Toy Story (1995)")]


def test_csv_with_bom_crlf_and_only_ids() -> None:
    data = "\ufeffmovieId\r\n1\r\n2\r\n".encode()
    loaded = parse(data, "P.CSV")
    assert [e.movie_id for e in loaded.entries] == [1, 2]
    assert all(e.rating is None and e.genres == () for e in loaded.entries)


def test_genres_absent_from_the_file_come_from_the_movie() -> None:
    def own_genres(movie_id: int) -> list[str]:
        return {1: ["Animation", "Comedy"], 2: ["Adventure"]}[movie_id]

    csv_text = "movieId,rating\n1,4\n"
    loaded = parse_profile(csv_text.encode(), "p.csv", TITLES, GENRES, own_genres)
    assert loaded.entries[0].genres == ("Animation", "Comedy")
    # An empty genres cell is a choice: no genres.
    csv_text = "movieId,genres\n1,\n"
    loaded = parse_profile(csv_text.encode(), "p.csv", TITLES, GENRES, own_genres)
    assert loaded.entries[0].genres == ()
    document = {"format": "movierec-profile", "version": 1, "movies": [{"movieId": 2}]}
    data = json.dumps(document).encode()
    assert parse_profile(data, "p.json", TITLES, GENRES, own_genres).entries[0].genres == (
        "Adventure",
    )


def test_unknown_movies_and_genres_are_skipped_with_a_warning() -> None:
    text = "movieId,rating,genres\n1,4,Comedy|Western\n99999,3,Drama\n"
    loaded = parse(text, "p.csv")
    assert loaded.entries == [ProfileEntry(1, "Toy Story (1995)", 4.0, ("Comedy",))]
    assert loaded.warnings == [
        "skipped 1 movie that this model's catalogue does not have (movieIds 99999)",
        "ignored 1 unknown genre: Western",
    ]


@pytest.mark.parametrize(
    ("text", "filename", "message"),
    [
        ("{not json", "p.json", "p.json is not valid JSON (line 1, column 2"),
        ('{"movies": []}', "p.json", 'p.json is JSON but not a movie profile: it needs "format"'),
        ("[1, 2]", "p.json", "is JSON but not a movie profile"),
        ('{"format": "movierec-profile", "version": 9, "movies": []}', "p.json", "version 9"),
        ('{"format": "movierec-profile", "version": 1, "movies": {}}', "p.json", "must be a list"),
        ('{"format": "movierec-profile", "version": 1, "movies": []}', "p.json", "lists no movies"),
        (
            '{"format": "movierec-profile", "version": 1, "movies": [5]}',
            "p.json",
            "movie 1: expected",
        ),
        ("", "p.csv", "p.csv is empty"),
        ("  \n", "p.json", "p.json is empty"),
        ("title,rating\nHeat,4\n", "p.csv", "column 'movieId' is missing (found: title, rating)"),
        ("userId,movieId,rating\n1,1,4\n", "ratings.csv", "looks like a ratings file"),
        ("movieId,rating\n1,7\n", "p.csv", "p.csv, row 2: rating 7 is outside 0.5-5"),
        ("movieId,rating\n1,0\n", "p.csv", "row 2: rating 0 is outside 0.5-5"),
        ("movieId,rating\n1,4.3\n", "p.csv", "row 2: rating 4.3 is not a half-star step"),
        ("movieId,rating\n1,great\n", "p.csv", "row 2: rating 'great' is not a number"),
        ("movieId,rating\n1,4\nabc,3\n", "p.csv", "row 3: movieId 'abc' is not a whole number"),
        ("movieId,rating\n,4\n", "p.csv", "row 2: movieId is missing"),
        ("movieId,rating\n-4,4\n", "p.csv", "row 2: movieId -4 must be positive"),
        ("movieId,rating\n1,4,extra\n", "p.csv", "row 2: more cells than the header has columns"),
        ("movieId\n1\n2\n1\n", "p.csv", "movieId 1 appears twice (row 2 and row 4)"),
        ("movieId\n777\n888\n", "p.csv", "none of the 2 movies in p.csv is in this model's"),
        ("movieId\n1\n", "profile.txt", "expected a .json or .csv profile file"),
        # issue 21: NaN was read as "liked, no stars"; a key given twice, the last one silently
        ("movieId,rating\n1,NaN\n", "p.csv", "p.csv, row 2: rating 'NaN' is not a number"),
        ("movieId,rating\n1,inf\n", "p.csv", "p.csv, row 2: rating inf is outside 0.5-5"),
        (_movie('"rating": NaN'), "p.json", "p.json holds NaN, which is not a number in JSON"),
        (_movie('"rating": -Infinity'), "p.json", "p.json holds -Infinity, which is not a"),
        (_movie('"rating": 1e999'), "p.json", "p.json, movie 1: rating inf is outside 0.5-5"),
        (_movie('"rating": 5, "rating": 1'), "p.json", "p.json gives 'rating' twice in one"),
        (
            '{"format": "movierec-profile", "version": 1, "movies": [], "movies": []}',
            "p.json",
            "p.json gives 'movies' twice in one object",
        ),
    ],
)
def test_bad_files_get_one_clear_message(text: str, filename: str, message: str) -> None:
    assert message in error_of(text, filename)


def test_json_field_types_are_checked() -> None:
    def doc(movie: object) -> str:
        return json.dumps({"format": "movierec-profile", "version": 1, "movies": [movie]})

    assert "movie 1: movieId 1.5 is not a whole number" in error_of(doc({"movieId": 1.5}))
    assert "movie 1: movieId True is not a whole number" in error_of(doc({"movieId": True}))
    assert "genres must be a list" in error_of(doc({"movieId": 1, "genres": [1]}))
    assert "rating True is not a number" in error_of(doc({"movieId": 1, "rating": True}))
    loaded = parse(doc({"movieId": "2", "rating": 5, "genres": "Comedy|Fantasy"}))
    assert loaded.entries == [ProfileEntry(2, "Jumanji (1995)", 5.0, ("Comedy", "Fantasy"))]


def test_binary_and_oversized_files_are_refused() -> None:
    assert "is not UTF-8 text" in error_of(b"\xff\xfe\x00\x01binary", "p.csv")
    too_big = b"movieId\n" + b"1\n" * MAX_UPLOAD_BYTES
    assert "a profile file is at most" in error_of(too_big, "p.csv")


def test_recommend_arguments() -> None:
    profile, genres = recommend_arguments(ENTRIES)
    assert profile == {1: 4.5, 2: None, 260: 0.5}
    assert genres == {1: ["Animation", "Comedy"], 2: [], 260: ["Sci-Fi"]}


def test_format_rating() -> None:
    assert format_rating(None) == "no rating"
    assert format_rating(4.0) == "★ 4"
    assert format_rating(3.5) == "★ 3.5"


def test_genre_mix_compares_shares() -> None:
    mix = genre_mix(
        [["Comedy", "Drama"], ["Comedy"]], ["Drama|Horror", "Comedy", "(no genres listed)"]
    )
    assert list(mix.columns) == ["Your profile", "Recommendations"]
    assert mix.loc["Comedy"].tolist() == [100.0, 33.3]
    assert mix.loc["Drama"].tolist() == [50.0, 33.3]
    assert mix.loc["Horror"].tolist() == [0.0, 33.3]
    assert mix.index[0] == "Comedy"  # the profile's most common genre first
    assert genre_mix([], []).empty


def test_movie_links_only_where_ids_exist() -> None:
    movies = pd.DataFrame(
        {
            "movieId": [1, 2],
            "imdbId": pd.array([114709, None], dtype="Int64"),
            "tmdbId": pd.array([862, None], dtype="Int64"),
        }
    )
    links = movie_links(movies)
    assert links.iloc[0].tolist() == [
        "https://movielens.org/movies/1",
        "https://www.imdb.com/title/tt0114709/",
        "https://www.themoviedb.org/movie/862",
    ]
    assert links.iloc[1, 0] == "https://movielens.org/movies/2"
    assert links.iloc[1, 1:].isna().all()  # an empty cell, not a broken link


def test_escape_markdown_shows_text_literally() -> None:
    assert escape_markdown("*batteries not included (1987)") == r"\*batteries not included \(1987\)"
    assert escape_markdown("<b>x</b>") == r"\<b\>x\</b\>"
    assert escape_markdown(":red[alert] $x$") == r"\:red\[alert\] \$x\$"
    assert escape_markdown("Amélie") == "Amélie"
