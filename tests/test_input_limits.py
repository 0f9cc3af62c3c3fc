"""Hostile and odd input: training data in other encodings, ids no number type keeps exact,
genres separated the wrong way, and uploads built to exhaust the parser. Each gets one message a
person can act on (exit 2 for the CLI, ``ProfileError`` for an upload) and nothing else escapes.
"""

from __future__ import annotations

import codecs
import json
import random

import pytest

from app.profile_files import (
    MAX_CELL_CHARS,
    MAX_MOVIES,
    LoadedProfile,
    ProfileEntry,
    ProfileError,
    parse_profile,
    to_csv,
    to_json,
)
from recommender import DataError, Recommender, train
from recommender.data import load_dataset
from tests.conftest import TINY_MOVIES, run_trainer, write_csv

RATINGS = "userId,movieId,rating\n1,1,4.0\n2,2,3.0\n3,1,5.0\n"


def write_bytes(folder, name: str, data: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def data_error(folder) -> str:
    with pytest.raises(DataError) as caught:
        load_dataset(folder)
    return str(caught.value)


# --- encodings -----------------------------------------------------------------------------------


def test_a_latin_1_movies_file_names_the_line_and_the_encoding(tmp_path):
    movies = "movieId,title,genres\n1,Toy Story (1995),Comedy\n2,Amélie (2001),Comedy|Romance\n"
    write_bytes(tmp_path, "movies.csv", movies.encode("latin-1"))
    write_csv(tmp_path, "ratings.csv", RATINGS)
    assert data_error(tmp_path) == (
        "movies.csv: line 3, character 5: not UTF-8 text (byte 0xe9: invalid continuation "
        "byte); it looks like Latin-1 or Windows-1252: save the file as UTF-8 and train again"
    )


def test_a_windows_1252_tags_file_names_its_line(tmp_path):
    write_csv(tmp_path, "movies.csv", TINY_MOVIES)
    write_csv(tmp_path, "ratings.csv", RATINGS)
    tags = "userId,movieId,tag,timestamp\n1,1,pixar,1\n2,2,\u201cscary\u201d,2\n"
    write_bytes(tmp_path, "tags.csv", tags.encode("cp1252"))
    message = data_error(tmp_path)
    assert message.startswith("tags.csv: line 3, character 5: not UTF-8 text (byte 0x93")
    assert "Latin-1 or Windows-1252" in message


@pytest.mark.parametrize("bom", [True, False])
def test_a_utf_16_file_is_named_as_such(tmp_path, bom):
    encoded = TINY_MOVIES.encode("utf-16-le")
    write_bytes(tmp_path, "movies.csv", (codecs.BOM_UTF16_LE if bom else b"") + encoded)
    write_csv(tmp_path, "ratings.csv", RATINGS)
    message = data_error(tmp_path)
    where = "character 1: not UTF-8 text (byte 0xff" if bom else "character 2: not UTF-8 text"
    assert message.startswith(f"movies.csv: line 1, {where}")
    assert "it looks like UTF-16: save the file as UTF-8" in message


def test_the_cli_says_it_in_one_line_without_a_traceback(tmp_path):
    data = tmp_path / "data"
    write_bytes(data, "movies.csv", "movieId,title,genres\n1,Café (2001),Drama\n".encode("cp1252"))
    write_csv(data, "ratings.csv", "userId,movieId,rating\n1,1,4.0\n")
    options = ["--data-dir", str(data), "--artifacts-dir", str(tmp_path / "artifacts")]
    result = run_trainer(*options)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: movies.csv: line 2, character 6: not UTF-8 text (byte 0xe9: invalid continuation "
        "byte); it looks like Latin-1 or Windows-1252: save the file as UTF-8 and train again"
    ]


# --- ids -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        (
            "movies.csv",
            "movieId,title,genres\n1,A,Drama\n9223372036854775808,B,Drama\n",
            "movies.csv: column 'movieId', row 3: '9223372036854775808' is not an id from 1 "
            "to 2^53 - 1 (9007199254740991)",
        ),
        (
            "movies.csv",
            "movieId,title,genres\n1,A,Drama\n9007199254740992,B,Drama\n",
            "row 3: '9007199254740992' is not an id from 1 to 2^53 - 1",
        ),
        (
            "movies.csv",
            "movieId,title,genres\n1,A,Drama\n123456789012345678901234567890,B,Drama\n",
            "row 3: '123456789012345678901234567890' is not an id",
        ),
        ("movies.csv", "movieId,title,genres\n1,A,Drama\n0,B,Drama\n", "row 3: '0' is not an id"),
        (
            "ratings.csv",
            "userId,movieId,rating\n1,1,4.0\n-3,1,4.0\n",
            "ratings.csv: column 'userId', row 3: '-3' is not an id from 1 to 2^53 - 1",
        ),
        (
            "ratings.csv",
            "userId,movieId,rating\n1,1,4.0\n2,-1,4.0\n",
            "ratings.csv: column 'movieId', row 3: '-1' is not an id",
        ),
        (
            "ratings.csv",
            "userId,movieId,rating\n9223372036854775808,1,4.0\n",
            "ratings.csv: column 'userId', row 2: '9223372036854775808' is not an id",
        ),
    ],
)
def test_ids_outside_1_to_2_53_are_refused_not_wrapped(tmp_path, file, text, message):
    write_csv(tmp_path, "movies.csv", "movieId,title,genres\n1,A,Drama\n2,B,Comedy\n")
    write_csv(tmp_path, "ratings.csv", RATINGS)
    write_csv(tmp_path, file, text)
    assert message in data_error(tmp_path)


def test_the_largest_id_is_kept_exact_from_file_to_recommendation(tmp_path):
    largest = 2**53 - 1
    write_csv(
        tmp_path / "data",
        "movies.csv",
        f"movieId,title,genres\n1,A (2000),Drama\n{largest},B (2001),Drama\n3,C (2002),Comedy\n",
    )
    write_csv(
        tmp_path / "data",
        "ratings.csv",
        f"userId,movieId,rating\n{largest},1,4.0\n{largest},{largest},5.0\n2,3,4.0\n2,1,3.0\n",
    )
    write_csv(tmp_path / "data", "links.csv", "movieId,imdbId,tmdbId\n1,9223372036854775808,-4\n")
    train(tmp_path / "data", tmp_path / "artifacts")
    rec = Recommender.load(tmp_path / "artifacts")
    assert largest in rec.movie_ids.tolist()
    assert rec.user_ids.tolist() == [2, largest]
    assert largest in rec.recommend({3: 5.0}, n=3)["movieId"].tolist()
    assert rec.movies[["imdbId", "tmdbId"]].isna().all().all()  # no link, no crash


# --- genre separators ----------------------------------------------------------------------------


def test_odd_genre_separators_are_named_in_a_note(tmp_path, capsys):
    movies = (
        "movieId,title,genres\n1,Toy Story (1995),Animation|Comedy\n"
        '2,Heat (1995),Action;Crime;Thriller\n3,"Alien (1979)","Horror, Sci-Fi"\n'
    )
    write_csv(tmp_path, "movies.csv", movies)
    write_csv(tmp_path, "ratings.csv", RATINGS)
    notes = load_dataset(tmp_path).notes
    assert notes[0] == (
        "movies.csv: 2 movies have genres separated by ';' or ',' (first: movieId 2, "
        "'Action;Crime;Thriller'); only '|' separates genres, so each such list counts as one "
        "genre: write them as 'Action|Crime|Thriller' and train again"
    )
    write_csv(tmp_path, "movies.csv", TINY_MOVIES)
    assert not any("separated by" in note for note in load_dataset(tmp_path).notes)


# --- uploads -------------------------------------------------------------------------------------

TITLES = {movie_id: f"Movie {movie_id}" for movie_id in range(1, 1001)}
GENRES = {"Comedy", "Drama"}


def upload(data: str | bytes, filename: str = "p.json") -> LoadedProfile:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return parse_profile(raw, filename, TITLES, GENRES)


def refused(data: str | bytes, filename: str = "p.json") -> str:
    with pytest.raises(ProfileError) as caught:
        upload(data, filename)
    message = str(caught.value)
    assert len(message) < 400  # a message a person reads, not a page of echoed input
    return message


def document(movies: list) -> str:
    return json.dumps({"format": "movierec-profile", "version": 1, "movies": movies})


def test_json_nested_200000_deep_is_refused_before_parsing():
    text = "[" * 200_000 + "]" * 200_000  # 0.4 MB, as in the issue
    assert "p.json nests 200,000 levels deep; a profile nests 4 (at most 16)" in refused(text)
    inside = '{"format": "movierec-profile", "version": 1, "movies": [' * 20
    assert "nests" in refused(inside)


def test_brackets_inside_strings_do_not_count_as_depth():
    title = "[[[[" * 100 + '\\"{{{'
    loaded = upload(document([{"movieId": 1, "title": title, "genres": ["Drama"]}]))
    assert loaded.entries == [ProfileEntry(1, "Movie 1", None, ("Drama",))]


def test_a_5000_digit_number_is_refused():
    digits = "9" * 5_000
    text = '{"format": "movierec-profile", "version": 1, "movies": [{"movieId": ' + digits + "}]}"
    assert "holds a number of 5,000 characters" in refused(text)
    assert "the movieId has 5,000 characters" in refused(f"movieId\n{digits}\n", "p.csv")
    assert "movieId '999" in refused(f"movieId\n{digits[:500]}\n", "p.csv")
    assert "has 500 digits" in refused(f"movieId\n{digits[:500]}\n", "p.csv")
    assert "larger than any movieId" in refused(document([{"movieId": 2**53}]))
    assert "larger than any movieId" in refused(f"movieId\n{2**63}\n", "p.csv")


@pytest.mark.parametrize("text", ["1_000", "١٢", "0x10", "1e3", " 12 34 "])
def test_a_movie_id_is_ascii_digits(text):
    assert "is not a whole number" in refused(f"movieId\n{text}\n", "p.csv")


def test_csv_cells_have_a_size_limit():
    big = "x" * 200_000  # over the csv module's own 128 KB limit
    assert "cannot be read as CSV (field larger than field limit" in refused(
        f'movieId,title\n1,"{big}"\n', "p.csv"
    )
    long = "x" * (MAX_CELL_CHARS + 1)
    assert "p.csv, row 2: the title has 1,001 characters" in refused(
        f"movieId,title\n1,{long}\n", "p.csv"
    )
    assert "the title or a genre has 1,001 characters" in refused(
        document([{"movieId": 1, "genres": [long]}])
    )


def test_an_unterminated_quote_does_not_swallow_the_rows_after_it():
    text = 'movieId,title,rating\n1,"Toy Story,4\n2,Jumanji,5\n3,Heat,3\n'
    message = refused(text, "p.csv")
    assert message.startswith("p.csv, row 2: the quote (\") that opens in column 'title'")
    assert "close the quote or remove it" in message


def test_a_profile_holds_at_most_500_movies():
    assert MAX_MOVIES == 500
    entries = [ProfileEntry(i, f"Movie {i}", 4.0, ("Drama",)) for i in range(1, 502)]
    assert "p.json lists 501 movies; a profile holds at most 500" in refused(to_json(entries))
    assert "p.csv lists more than 500 movies" in refused(to_csv(entries), "p.csv")
    assert len(upload(to_json(entries[:500])).entries) == 500


def test_long_unknown_genres_are_cut_short_in_the_warning():
    genres = [f"{'g' * 500}{i}" for i in range(50)]
    loaded = upload(document([{"movieId": 1, "genres": genres}]))
    assert len(loaded.warnings[0]) < 400 and "and 45 more" in loaded.warnings[0]


def test_nothing_but_profile_error_escapes_mutated_uploads():
    """Seeded random damage to valid JSON and CSV profiles: each either loads or is refused."""
    entries = [ProfileEntry(i, f'Title "{i}", (19{i:02d})', 4.5, ("Drama",)) for i in range(1, 30)]
    seeds = {"p.json": to_json(entries), "p.csv": to_csv(entries)}
    pieces = ["[", "]", "{", "}", '"', ",", "\n", "\r", ":", "9" * 50, "\x00", "\\", "NaN", "-1"]
    generator = random.Random(20261201)
    outcomes = {"loaded": 0, "refused": 0}
    for _ in range(3_000):
        name = generator.choice(list(seeds))
        text = list(seeds[name])
        for _ in range(generator.randint(1, 6)):
            spot = generator.randrange(len(text))
            action = generator.random()
            if action < 0.4:
                text[spot] = generator.choice(pieces)
            elif action < 0.7:
                text.insert(spot, generator.choice(pieces))
            else:
                del text[spot]
        data = "".join(text).encode("utf-8", errors="surrogatepass")
        if generator.random() < 0.1:
            data = data[: generator.randrange(len(data))] + bytes([generator.randrange(256)])
        try:
            upload(data, name)
            outcomes["loaded"] += 1
        except ProfileError as error:
            assert len(str(error)) < 400
            outcomes["refused"] += 1
    assert outcomes["loaded"] > 100 and outcomes["refused"] > 100  # both paths were exercised
