"""The Streamlit app, driven headless with AppTest against a bundle trained from the real data.

Every flow of the app is here: cold start, building a profile (add, remove, clear), weights,
filters, a user of the data set, saving and loading profiles (good and bad files), "About this
model", and the pages shown for a missing or broken bundle.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app.display import escape_markdown
from app.profile_files import to_csv, to_json
from recommender import TrainingConfig, train
from recommender.bundle import bundle_dir, update_manifest
from tests.conftest import write_csv

MAIN = Path(__file__).resolve().parents[1] / "main.py"
TOY_STORY, TOY_STORY_2, FINDING_NEMO = 1, 3114, 6377


def start(artifacts: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The app's first run for a visitor, reading the bundle in ``artifacts``."""
    monkeypatch.setenv("MOVIEREC_ARTIFACTS_DIR", str(artifacts))
    at = AppTest.from_file(str(MAIN), default_timeout=30)
    at.run()
    assert not at.exception
    return at


@pytest.fixture
def app(trained_artifacts: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    return start(trained_artifacts, monkeypatch)


def add(at: AppTest, text: str, movie_id: int, rating=None, genres=None) -> AppTest:
    """Search, pick ``movie_id`` from the results, optionally rate it and set genres, add it."""
    at.text_input(key="search_text").input(text).run()
    at.selectbox(key="search_choice").select(movie_id).run()
    if rating is not None:
        at.select_slider(key=f"add_rating_{movie_id}").set_value(rating)
    if genres is not None:
        at.multiselect(key=f"add_genres_{movie_id}").set_value(genres)
    at.button(key="add_movie").click().run()
    assert not at.exception
    return at


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    """The first table on the page (interactive or static) that has ``column``."""
    frames = (element.value for element in [*at.dataframe, *at.table])
    return next(frame for frame in frames if column in frame.columns)


def results(at: AppTest) -> pd.DataFrame:
    """The table of recommendations (or popular picks) as the page shows it."""
    return table_with(at, "MovieLens")


PICK_LINE = re.compile(r"^\d+\\\. \*\*(?P<title>.+)\*\* · (?P<genres>.*?) — (?P<rest>.*)$")


def picks(at: AppTest) -> pd.DataFrame:
    """The numbered text list of picks (all popular picks, or the top recommendations).

    One row per line: the title and genres as the visitor reads them (Markdown unescaped),
    the rest of the line (reason and links) as written.
    """
    listing = next(m.value for m in at.markdown if m.value.startswith("1\\. **"))
    rows = [PICK_LINE.match(line).groupdict() for line in listing.split("  \n")]
    frame = pd.DataFrame(rows)
    for column in ("title", "genres"):
        frame[column] = frame[column].str.replace(r"\\(.)", r"\1", regex=True)
    return frame


def texts(at: AppTest) -> str:
    """All Markdown, captions and subheaders of the page, to look for words people read."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    return "\n".join(parts + [h.value for h in at.subheader])


def test_cold_start_shows_popular_picks_and_draws_another_sample(app: AppTest, recommender) -> None:
    assert [h.value for h in app.subheader][:2] == ["Your taste profile", "Popular picks"]
    assert not app.dataframe  # a text list: the first page loads no data grid
    first = picks(app)
    assert len(first) == 20
    # What Recommender.popular returns, in its order (best weighted rating first), each line
    # with its reason and a link to the movie's MovieLens page.
    expected = recommender.popular(20)
    assert first["title"].tolist() == expected["title"].tolist()
    assert first["rest"].str.contains(r"average from [\d,]+ ratings").all()
    for movie_id, rest in zip(expected["movieId"], first["rest"], strict=True):
        assert f"(https://movielens.org/movies/{movie_id})" in rest
    assert app.session_state.profile == {}

    app.button(key="other_picks").click().run()
    assert not app.exception
    second = picks(app)
    assert len(second) == 20
    assert set(second["title"]) != set(first["title"])


def test_add_rate_and_remove_movies(app: AppTest) -> None:
    # Genres are pre-filled from the movie and can be edited before adding.
    app.text_input(key="search_text").input("toy story").run()
    assert app.selectbox(key="search_choice").value == TOY_STORY  # best known match first
    assert app.multiselect(key=f"add_genres_{TOY_STORY}").value == [
        "Adventure", "Animation", "Children", "Comedy", "Fantasy"
    ]  # fmt: skip
    add(app, "toy story", TOY_STORY, rating=4.5)
    entry = app.session_state.profile[TOY_STORY]
    assert (entry.title, entry.rating) == ("Toy Story (1995)", 4.5)
    assert entry.genres == ("Adventure", "Animation", "Children", "Comedy", "Fantasy")
    assert app.text_input(key="search_text").value == ""  # ready for the next movie
    assert "Recommended for you" in [h.value for h in app.subheader]

    table = results(app)
    assert "Toy Story 2 (1999)" in set(table["Title"])
    assert "Toy Story (1995)" not in set(table["Title"])  # never recommended back
    assert {"Score", "Similar genres", "Liked by everyone", "People like you", "Why"} <= set(table)
    toy_story_2 = table[table["Title"] == "Toy Story 2 (1999)"].iloc[0]
    assert toy_story_2["Year"] == 1999
    assert "Animation" in toy_story_2["Genres"]
    assert toy_story_2["Why"]
    assert toy_story_2["MovieLens"] == "https://movielens.org/movies/3114"
    assert toy_story_2["IMDb"] == "https://www.imdb.com/title/tt0120363/"
    assert toy_story_2["TMDB"] == "https://www.themoviedb.org/movie/863"
    # The top five are also written out as text, in the table's order, with their reasons.
    top = picks(app)
    assert top["title"].tolist() == table["Title"].head(5).tolist()
    for why, rest in zip(table["Why"], top["rest"], strict=False):
        assert rest.startswith(escape_markdown(why) + " · [MovieLens](")
    assert "1 movie(s) in your profile" in texts(app)
    assert "Genre mix" in [h.value for h in app.subheader]

    add(app, "nemo", FINDING_NEMO, rating=None, genres=["Animation"])
    assert list(app.session_state.profile) == [TOY_STORY, FINDING_NEMO]
    assert app.session_state.profile[FINDING_NEMO].genres == ("Animation",)
    assert app.session_state.profile[FINDING_NEMO].rating is None
    assert "Finding Nemo (2003)" not in set(results(app)["Title"])
    # The search leaves out what is already in the profile.
    app.text_input(key="search_text").input("toy story").run()
    options = app.selectbox(key="search_choice").options
    assert any(o.startswith("Toy Story 2 (1999)") for o in options)
    assert not any(o.startswith("Toy Story (1995)") for o in options)

    app.button(key=f"remove_{TOY_STORY}").click().run()
    assert list(app.session_state.profile) == [FINDING_NEMO]
    assert "1 movie(s) in your profile" in texts(app)

    app.button(key="clear_profile").click().run()
    assert app.session_state.profile == {}
    assert "Popular picks" in [h.value for h in app.subheader]


def test_search_without_match_says_so(app: AppTest) -> None:
    app.text_input(key="search_text").input("zzzz no such film").run()
    assert not app.exception
    assert not app.selectbox
    assert "No title contains" in texts(app)


def test_weights_change_the_blend_and_reset(app: AppTest) -> None:
    add(app, "toy story", TOY_STORY)
    default = results(app)
    defaults = {s.key: s.value for s in app.sidebar.slider if s.key.startswith("weight_")}
    assert defaults["weight_personal"] > 0

    for key in defaults:  # every other part of the blend at 0
        app.slider(key=key).set_value(0.0)
    app.slider(key="weight_content").set_value(1.0).run()
    genre_only = results(app)
    assert not genre_only["Title"].equals(default["Title"])
    # Content alone: the score is the genre part.
    assert (genre_only["Score"] - genre_only["Similar genres"]).abs().max() < 1e-5

    app.button(key="reset_weights").click().run()
    assert {s.key: s.value for s in app.sidebar.slider if s.key.startswith("weight_")} == defaults
    assert results(app)["Title"].equals(default["Title"])


def test_genre_and_year_filters(app: AppTest) -> None:
    add(app, "toy story", TOY_STORY)
    app.multiselect(key="include_genres").set_value(["Comedy"])
    app.multiselect(key="exclude_genres").set_value(["Animation"])
    app.slider(key="years").set_value((1990, 1999)).run()
    assert not app.exception
    table = results(app)
    assert len(table) == 20
    assert table["Genres"].str.contains("Comedy").all()
    assert not table["Genres"].str.contains("Animation").any()
    assert table["Year"].between(1990, 1999).all()

    app.slider(key="n_results").set_value(10).run()
    assert len(results(app)) == 10

    # Filters narrow the popular picks too.
    app.button(key="clear_profile").click().run()
    popular = picks(app)
    assert popular["genres"].str.contains("Comedy").all()
    assert not popular["genres"].str.contains("Animation").any()

    app.multiselect(key="include_genres").set_value(["Film-Noir"])
    app.slider(key="years").set_value((2015, 2018)).run()
    assert not app.exception
    assert any("No movie matches these filters" in w.value for w in app.warning)


def test_existing_user_mode(app: AppTest, recommender) -> None:
    app.radio(key="mode").set_value("A user from the data set").run()
    assert not app.exception
    app.number_input(key="user_id").set_value(1).run()
    assert not app.exception
    top_rated = table_with(app, "Rating")
    assert top_rated["Rating"].iloc[0] == 5.0
    assert top_rated["Title"].iloc[0] == recommender.user_ratings(1)["title"].iloc[0]
    table = results(app)
    assert len(table) == 20
    rated = set(recommender.user_ratings(1)["title"])
    assert not rated & set(table["Title"])  # leaves out what they rated
    assert table["Match"].is_monotonic_decreasing  # best match first, a score and not stars
    assert "Recommended for user 1" in [h.value for h in app.subheader]
    assert "User 1 rated 232 movies" in texts(app)

    app.button(key="random_user").click().run()
    assert not app.exception
    assert app.session_state.user_id in set(recommender.user_ids.tolist())


def test_download_then_upload_restores_the_profile(app: AppTest) -> None:
    add(app, "toy story", TOY_STORY, rating=5.0)
    add(app, "nemo", FINDING_NEMO, genres=["Animation"])
    saved = dict(app.session_state.profile)
    assert [b.label for b in app.get("download_button")] == ["Download JSON", "Download CSV"]
    for name, text in [
        ("mine.json", to_json(saved.values())),
        ("mine.csv", to_csv(saved.values())),
    ]:
        app.button(key="clear_profile").click().run()
        app.file_uploader(key="profile_upload").upload(name, text.encode()).run()
        assert not app.exception
        assert app.session_state.profile == saved
        assert f"Loaded 2 movie(s) from {name}" in app.success[0].value.replace("\\", "")
        assert "Toy Story 2 (1999)" in set(results(app)["Title"])
        app.file_uploader(key="profile_upload").clear().run()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.json", b'{"format": "movierec-profile", "movies": [', "is not valid JSON"),
        ("ratings.csv", b"userId,movieId,rating,timestamp\n1,1,4.0,964982703\n", "ratings file"),
        ("other.json", b'{"name": "something else"}', "not a movie profile"),
        ("bad.csv", b"movieId,rating\n1,9\n", "row 2: rating 9 is outside 0.5-5"),
        ("foreign.csv", b"movieId\n999999999\n", "none of the 1 movies"),
    ],
)
def test_bad_upload_explains_and_keeps_the_profile(
    app: AppTest, name: str, content: bytes, message: str
) -> None:
    add(app, "toy story", TOY_STORY)
    before = dict(app.session_state.profile)
    app.file_uploader(key="profile_upload").upload(name, content).run()
    assert not app.exception
    assert app.session_state.profile == before
    errors = [e.value for e in app.error]
    assert len(errors) == 1 and "Could not load this profile" in errors[0]
    assert message in errors[0].replace("\\", "")  # the page shows it Markdown-escaped


def test_about_this_model_shows_counts_parameters_and_evaluation(
    trained_artifacts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifacts = tmp_path / "artifacts"
    shutil.copytree(trained_artifacts, artifacts)
    at = start(artifacts, monkeypatch)
    assert not at.metric  # shown on request only
    at.button(key="show_about").click().run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Movies": "9,742", "Users": "610", "Ratings": "100,836", "Genres": "19"}
    assert "No offline evaluation figures" in texts(at)
    parameters = table_with(at, "parameter")
    assert "personal_weight" in set(parameters["parameter"])

    # Evaluation figures written into the manifest later appear without restarting the app.
    update_manifest(artifacts, evaluation={"hybrid": {"ndcg@10": 0.123}, "split": "leave-last"})
    at = start(artifacts, monkeypatch)
    at.button(key="show_about").click().run()
    evaluation = table_with(at, "figure")
    assert dict(zip(evaluation["figure"], evaluation["value"], strict=True)) == {
        "split": "leave-last",
        "hybrid / ndcg@10": "0.123",
    }

    # The figures of `python -m recommender.evaluation` show as NDCG per scorer and profile size.
    rows = [
        {"protocol": "new-user", "profile_size": 5, "scorer": s, "NDCG@20": v, "NDCG@20 se": 0.02}
        for s, v in [("popularity", 0.285), ("hybrid (default)", 0.392)]
    ]
    protocols = {"new-user": "a test user reveals 5 movies"}
    update_manifest(artifacts, evaluation={"k": 20, "results": rows, "protocols": protocols})
    at = start(artifacts, monkeypatch)
    at.button(key="show_about").click().run()
    overview = table_with(at, "scorer")
    assert overview.to_dict(orient="list") == {
        "scorer": ["popularity", "hybrid (default)"],
        "new user, 5 movies": ["0.285 ± 0.020", "0.392 ± 0.020"],
    }
    assert "New user: a test user reveals 5 movies" in texts(at)


def test_missing_bundle_says_how_to_fix_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = start(tmp_path / "nowhere", monkeypatch)
    assert "no model bundle" in at.error[0].value
    assert at.code[0].value.startswith("python train_and_save_model.py --data-dir")
    assert str(tmp_path / "nowhere") in at.code[0].value
    assert not at.text_input  # the page stopped before the app


def test_broken_bundle_says_how_to_fix_it(
    trained_artifacts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifacts = tmp_path / "artifacts"
    shutil.copytree(trained_artifacts, artifacts)
    (bundle_dir(artifacts) / "personal.item_factors.npy").write_bytes(b"not the real factors")
    at = start(artifacts, monkeypatch)
    assert "corrupted" in at.error[0].value
    assert "train_and_save_model.py" in at.code[0].value
    assert not at.text_input


def test_titles_are_text_not_html(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A title with HTML and Markdown in it shows literally and never as markup."""
    evil = "<img src=x onerror=alert(1)> *Bold* [link](http://x) (2001)"
    data = tmp_path / "data"
    write_csv(
        data,
        "movies.csv",
        "movieId,title,genres\n"
        f'1,"{evil}",Comedy\n'
        "2,Plain Comedy (2002),Comedy\n"
        "3,Another Comedy (2003),Comedy|Drama\n",
    )
    ratings = [(u, m, 3.0 + (u + m) % 3) for u in range(1, 6) for m in (1, 2, 3)]
    lines = ["userId,movieId,rating"] + [f"{u},{m},{r}" for u, m, r in ratings]
    write_csv(data, "ratings.csv", "\n".join(lines) + "\n")
    train(data, tmp_path / "artifacts", TrainingConfig())

    at = start(tmp_path / "artifacts", monkeypatch)
    add(at, "img src", 1)
    assert at.session_state.profile[1].title == evil
    assert not [m for m in at.markdown if m.proto.allow_html]
    assert not at.get("html")
    shown = "\n".join(m.value for m in at.markdown)
    assert "<img" not in shown.replace("\\<img", "")  # every "<" is escaped
    assert "\\<img src=x onerror=alert\\(1\\)\\> \\*Bold\\*" in shown
