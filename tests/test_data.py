"""Bad input: one clear message naming file, column and row; repairs are reported; nothing lost."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recommender import DataError, Recommender, TrainingConfig, train
from recommender.data import load_dataset
from tests.conftest import TINY_MOVIES, run_trainer, write_csv

RATINGS_HEADER = "userId,movieId,rating,timestamp\n"


def _ratings(folder: Path, body: str, header: str = RATINGS_HEADER) -> None:
    write_csv(folder, "ratings.csv", header + body)


BAD_RATINGS = [
    ("userId,movieId,timestamp\n1,1,5\n", "", "ratings.csv: column 'rating' is missing"),
    (
        "userId;movieId;rating;timestamp\n1;1;4.0;5\n",
        "",
        "ratings.csv: row 1 (header) is 'userId;movieId;rating;timestamp': columns must be "
        "separated by commas",
    ),
    (
        "1,1,4.0,10\n2,2,3.0,11\nabc,3,4.0,12\n",
        RATINGS_HEADER,
        "ratings.csv: column 'userId', row 4: 'abc' is not an integer id",
    ),
    (
        "1,1,4.0,10\n2,x2,3.0,11\n",
        RATINGS_HEADER,
        "ratings.csv: column 'movieId', row 3: 'x2' is not an integer id",
    ),
    (
        "1,1,4.0,10\n1,2,7.0,11\n",
        RATINGS_HEADER,
        "ratings.csv: column 'rating', row 3: 7 is outside 0.5-5",
    ),
    (
        "1,1,4.0,10\n1,2,0,11\n",
        RATINGS_HEADER,
        "ratings.csv: column 'rating', row 3: 0 is outside 0.5-5",
    ),
    (
        "1,1,4.0,10\n1,2,,11\n",
        RATINGS_HEADER,
        "ratings.csv: column 'rating', row 3: the value is missing",
    ),
    (
        "1,1,4.0,10\n1,2,NaN,11\n",
        RATINGS_HEADER,
        "ratings.csv: column 'rating', row 3: the value is missing",
    ),
    (
        "1,1.5,4.0,10\n",
        RATINGS_HEADER,
        "ratings.csv: column 'movieId', row 2: '1.5' is not an integer id",
    ),
    (  # blank lines count: the row is the line of the file a text editor shows
        "1,1,4.0,10\n\n   \n1,2,9.5,11\n",
        RATINGS_HEADER,
        "ratings.csv: column 'rating', row 5: 9.5 is outside 0.5-5",
    ),
    (
        "\r\n1,1,4.0,10\r\n\r\n2,x2,3.0,11\r\n",
        RATINGS_HEADER,
        "ratings.csv: column 'movieId', row 5: 'x2' is not an integer id",
    ),
    (  # a timestamp is a whole number, not an id: its own words
        "1,1,4.0,10\n1,2,3.0,1.5\n",
        RATINGS_HEADER,
        "ratings.csv: column 'timestamp', row 3: '1.5' is not a whole number",
    ),
    (
        "1,1,4.0,10\n1,2,3.0,99999999999999999999\n",
        RATINGS_HEADER,
        "ratings.csv: column 'timestamp', row 3: '99999999999999999999' is not a whole number "
        "within 64 bits",
    ),
    ("", RATINGS_HEADER, "ratings.csv: the file has a header but no rows"),
    ("", "", "ratings.csv: the file is empty"),
    (  # issue 21: an extra field was dropped silently
        "1,1,4.0,10\n1,2,4.0,11,9\n",
        RATINGS_HEADER,
        "ratings.csv: row 3 has 5 fields; the header has 4 (userId,movieId,rating,timestamp)",
    ),
    (  # a short row, after a bad value: the shape of the rows first, wherever the row is
        "1,1,9.0,10\n\n1,2,4.0\n",
        RATINGS_HEADER,
        "ratings.csv: row 4 has 3 fields; the header has 4 (userId,movieId,rating,timestamp)",
    ),
    (  # a 1 MB cell of digits is quoted as the file has it, cut short, not called "inf"
        "1,1,4.0,10\n1,2," + "9" * 2**20 + ",11\n",
        RATINGS_HEADER,
        "ratings.csv: column 'rating', row 3: '" + "9" * 60 + "…' is outside 0.5-5",
    ),
]


@pytest.mark.parametrize("user", [7, 2**53 - 1])  # an int32 id (the fast reader) and a larger one
def test_timestamps_at_or_before_1970_are_kept(tmp_path, user):
    """A timestamp is any whole number within 64 bits, 0 and negative ones too (a film rated
    before 1970 in a converted data set): the duplicate with the later one wins."""
    write_csv(tmp_path, "movies.csv", TINY_MOVIES)
    body = f"{user},1,2.0,0\n{user},1,4.5,-5\n{user},2,3.0,-9223372036854775808\n"
    write_csv(tmp_path, "ratings.csv", RATINGS_HEADER + body)
    data = load_dataset(tmp_path)
    assert data.user_ids.tolist() == [user]
    assert data.ratings.toarray()[0, :2].tolist() == [2.0, 3.0]  # timestamp 0 is later than -5


@pytest.mark.parametrize(("body", "header", "message"), BAD_RATINGS)
def test_bad_ratings_get_one_clear_message(tmp_path, body, header, message):
    write_csv(tmp_path, "movies.csv", TINY_MOVIES)
    if header or body:
        write_csv(tmp_path, "ratings.csv", header + body)
    else:
        write_csv(tmp_path, "ratings.csv", "")
    with pytest.raises(DataError) as caught:
        load_dataset(tmp_path)
    assert str(caught.value).startswith(message)


def test_bad_movies_get_one_clear_message(tmp_path):
    write_csv(tmp_path, "movies.csv", "movieId,title\n1,Heat (1995)\n")
    _ratings(tmp_path, "1,1,4.0,1\n")
    with pytest.raises(DataError, match=r"movies.csv: column 'genres' is missing"):
        load_dataset(tmp_path)
    write_csv(tmp_path, "movies.csv", "movieId,title,genres\n1,Heat (1995),Action\n1,Again,Drama\n")
    with pytest.raises(DataError, match=r"movies.csv: column 'movieId', row 3: movieId 1 appears"):
        load_dataset(tmp_path)
    write_csv(tmp_path, "movies.csv", "movieId,title,genres\n1,Heat (1995),Action\n\n2,,Drama\n")
    with pytest.raises(DataError, match=r"movies.csv: column 'title', row 4: the value is missing"):
        load_dataset(tmp_path)


def test_missing_file_is_named(tmp_path):
    write_csv(tmp_path, "movies.csv", TINY_MOVIES)
    with pytest.raises(DataError, match=r"ratings.csv: file not found"):
        load_dataset(tmp_path)


def test_repairs_are_reported_and_nothing_else_is_lost(tmp_path):
    write_csv(tmp_path, "movies.csv", TINY_MOVIES)
    # user 1 rated movie 2 twice: the later (timestamp 20) rating 2.0 wins; movie 99 is unknown
    _ratings(tmp_path, "1,2,5.0,10\n1,2,2.0,20\n1,1,4.0,5\n2,99,3.0,7\n2,3,4.5,8\n")
    data = load_dataset(tmp_path)
    notes = " ".join(data.notes)
    assert "1 duplicate ratings" in notes and "kept the latest by timestamp" in notes
    assert "dropped 1 ratings of movies not in movies.csv (first: movieId 99)" in notes
    assert "have no ratings" in notes  # unrated movies are kept, and said so
    assert len(data.notes) == len(set(data.notes))  # read again for the times, said once
    assert len(data.movies) == 6 and data.n_ratings == 3
    movie_two = int(np.flatnonzero(data.movies["movieId"] == 2)[0])
    assert data.ratings[0, movie_two] == pytest.approx(2.0)


def test_crlf_utf8_commas_and_quotes_are_read_exactly(tmp_path):
    movies = (
        'movieId,title,genres\r\n1,"Matrix, The (1999)",Action|Sci-Fi\r\n'
        '2,"Amélie (""Le fabuleux destin"") (2001)",Comedy|Romance\r\n'
        "3,Untitled,(no genres listed)\r\n"
    )
    write_csv(tmp_path, "movies.csv", movies)
    write_csv(tmp_path, "ratings.csv", "userId,movieId,rating\r\n1,1,4.0\r\n2,2,3.5\r\n")
    data = load_dataset(tmp_path)
    assert data.movies["title"].tolist() == [
        "Matrix, The (1999)",
        'Amélie ("Le fabuleux destin") (2001)',
        "Untitled",
    ]
    assert data.movies["year"].tolist()[:2] == [1999, 2001]
    assert data.movies["year"].isna().tolist()[2]
    assert data.n_ratings == 2


def test_fewer_users_than_factors_lowers_k_and_says_so(tiny_data, tmp_path):
    summary = train(tiny_data, tmp_path / "artifacts", TrainingConfig(factors=64))
    assert summary.counts["factors"] == 3  # 4 users -> at most 3 factors
    assert any("--factors 64 is more than this data supports" in n for n in summary.notes)
    rec = Recommender.load(tmp_path / "artifacts")
    assert len(rec.recommend({2: 5.0}, n=3)) == 3


def test_cli_exits_2_with_one_line_and_keeps_the_previous_bundle(tiny_data, tmp_path):
    artifacts = tmp_path / "artifacts"
    good = run_trainer("--data-dir", str(tiny_data), "--artifacts-dir", str(artifacts))
    assert good.returncode == 0, good.stderr
    assert "bundle:" in good.stdout and "trained on 12 ratings from 4 users" in good.stdout
    before = (artifacts / "CURRENT").read_text()
    _ratings(tiny_data, "1,1,4.0,10\n1,2,9.5,11\n")
    bad = run_trainer("--data-dir", str(tiny_data), "--artifacts-dir", str(artifacts))
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "error: ratings.csv: column 'rating', row 3: 9.5 is outside 0.5-5"
    ]
    assert "Traceback" not in bad.stderr
    assert (artifacts / "CURRENT").read_text() == before
    Recommender.load(artifacts)  # still loads and verifies


def test_cli_names_a_missing_data_file(tmp_path):
    result = run_trainer("--data-dir", str(tmp_path / "nothing"), "--artifacts-dir", str(tmp_path))
    assert result.returncode == 2
    assert "movies.csv: file not found" in result.stderr
    assert "--download" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_interrupted_save_leaves_the_previous_bundle(tiny_data, tmp_path, monkeypatch):
    artifacts = tmp_path / "artifacts"
    train(tiny_data, artifacts)
    before = (artifacts / "CURRENT").read_text()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("recommender.bundle.np.save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(tiny_data, artifacts)
    assert (artifacts / "CURRENT").read_text() == before
    assert not list(artifacts.glob(".building-*"))
    assert Recommender.load(artifacts).recommend([1], n=2) is not None


# --- malformed rows and cells (issue 21) ----------------------------------------------------


@pytest.mark.parametrize(
    ("movies", "message"),
    [
        (  # the case: the open quote took the movies after it into one title
            'movieId,title,genres\n1,"Toy Story (1995),Comedy\n2,Alien (1979),Horror\n'
            '3,"Heat, The (1995)",Action\n4,Up (2009),Comedy\n',
            'movies.csv: row 2: a quote (") opens and is not closed on its line',
        ),
        (
            'movieId,title,genres\n1,Heat (1995),Action\n\n2,"Alien (1979),Horror\n',
            'movies.csv: row 4: a quote (") opens and is not closed on its line',
        ),
        (
            "movieId,title,genres\n1,Heat (1995),Action,Crime\n",
            "movies.csv: row 2 has 4 fields; the header has 3 (movieId,title,genres)",
        ),
        (
            "movieId,title,genres\n1,Heat (1995),Action\n2,Alien (1979)\n",
            "movies.csv: row 3 has 2 fields; the header has 3 (movieId,title,genres)",
        ),
        (
            "movieId,title,genres\n1,Heat (1995),Action\n2," + "A" * 1001 + ",Drama\n",
            "movies.csv: column 'title', row 3: the value is 1,001 characters long; a title or "
            "a list of genres is at most 1,000",
        ),
        (
            "movieId,title,genres\n1,Heat (1995)," + "|".join(["Action"] * 200) + "\n",
            "movies.csv: column 'genres', row 2: the value is 1,399 characters long",
        ),
        (  # the 10 MB title
            "movieId,title,genres\n1,Heat (1995),Action\n2," + "A" * 10 * 2**20 + ",Drama\n",
            "movies.csv: row 3: a value is over 131,072 characters long; a title or a list of "
            "genres is at most 1,000",
        ),
    ],
)
def test_malformed_movie_rows_are_refused_naming_file_and_line(tmp_path, movies, message):
    write_csv(tmp_path, "movies.csv", movies)
    _ratings(tmp_path, "1,1,4.0,1\n")
    with pytest.raises(DataError) as caught:
        load_dataset(tmp_path)
    assert str(caught.value).startswith(message)


def test_the_title_cap_is_the_profile_files_cap():
    """One cap for a title, in a profile file and in movies.csv (the app may not import the
    trainer's modules, so the two constants are held equal here)."""
    from app.profile_files import MAX_CELL_CHARS
    from recommender.csv_rows import MAX_TEXT_CHARS

    assert MAX_TEXT_CHARS == MAX_CELL_CHARS


def test_a_title_at_the_cap_and_quoted_commas_are_still_read(tmp_path):
    title = "A" * 993 + " (1999)"  # 1,000 characters
    write_csv(tmp_path, "movies.csv", f'movieId,title,genres\n1,"{title}",Drama\n2,"B, The",X\n')
    _ratings(tmp_path, "1,1,4.0,1\n1,2,3.0,2\n")
    assert load_dataset(tmp_path).movies["title"].tolist() == [title, "B, The"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--factors", "0"], "error: argument --factors: '0' is not a whole number from 1 to"),
        (["--factors", "-5"], "error: argument --factors: '-5' is not a whole number from 1"),
        (["--factors", "1e3"], "error: argument --factors: '1e3' is not a whole number"),
        (["--seed", "-1"], "error: argument --seed: '-1' is not a whole number from 0 to"),
        (["--seed", str(2**32)], "error: argument --seed: '4294967296' is not a whole number"),
        (["--variant", "svd"], "error: argument --variant: invalid choice: 'svd'"),
        (["--engine", "gpu"], "error: argument --engine: invalid choice: 'gpu'"),
        (["--data-dir", ""], "error: argument --data-dir: '' is not a folder's path"),
        (["--artifacts-dir", " "], "error: argument --artifacts-dir: ' ' is not a folder's path"),
        (["--download-url", "file:///etc/passwd"], "error: argument --download-url: 'file:///"),
        (["--factors"], "error: argument --factors: expected one argument"),
        (["--bogus"], "error: unrecognized arguments: --bogus"),
    ],
)
def test_every_cli_argument_is_checked_with_one_line_and_exit_2(tmp_path, arguments, message):
    result = run_trainer(*arguments, "--artifacts-dir", str(tmp_path / "a"), timeout=60)
    if arguments[0] == "--artifacts-dir":
        result = run_trainer(*arguments, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "a").exists()  # nothing written
