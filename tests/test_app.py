"""The Streamlit app, driven headless with AppTest against a bundle trained from the real data.

Every flow of the app is here: cold start, rating and adding in place (popular picks,
recommendations, search results, a data-set user's lists), removing and clearing, "More like
this", the profile in the page's address (reload, shared, bad and stale links), weights
(including an all-zero blend), filters, a user of the data set (unknown and huge ids), saving
and loading profiles (good and bad files), the profile's size limit, posters, "About this
model", and the pages shown for a missing or broken bundle.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.cached import poster_cache
from app.profile_files import MAX_MOVIES, to_csv, to_json
from recommender.bundle import bundle_dir, update_manifest
from recommender.titles import display_title
from tests import test_posters
from tests.conftest import EVIL, SEARCHES, evil_bundle

MAIN = Path(__file__).resolve().parents[1] / "main.py"
TOY_STORY, TOY_STORY_2, FINDING_NEMO, MATRIX = 1, 3114, 6377, 2571
GODFATHER, GODFATHER_2, PULP_FICTION, WALL_E = 858, 1221, 296, 60069


def start(artifacts: Path, monkeypatch: pytest.MonkeyPatch, link: str | None = None) -> AppTest:
    """The app's first run for a visitor (opening ``?p=link`` when given)."""
    monkeypatch.setenv("MOVIEREC_ARTIFACTS_DIR", str(artifacts))
    monkeypatch.delenv("TMDB_API_KEY", raising=False)
    at = AppTest.from_file(str(MAIN), default_timeout=30)
    if link is not None:
        at.query_params["p"] = link
    at.run()
    assert not at.exception
    return at


@pytest.fixture
def app(trained_artifacts: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    return start(trained_artifacts, monkeypatch)


def listed(at: AppTest, context: str) -> list[int]:
    """The movieIds of a list's cards, in order ("picks", "recs", "search", "like",
    "user_recs", "user_top", "profile")."""
    prefix = f"stars_{context}_"
    return [int(w.key[len(prefix) :]) for w in at.get("feedback") if w.key.startswith(prefix)]


def rate(at: AppTest, context: str, movie_id: int, stars: int) -> AppTest:
    """Click the ``stars``-th star under a movie of a list."""
    widget = next(w for w in at.get("feedback") if w.key == f"stars_{context}_{movie_id}")
    widget.set_value(stars - 1).run()  # the widget counts from 0
    assert not at.exception
    return at


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception
    return at


def search(at: AppTest, text: str) -> list[int]:
    at.text_input(key="search_text").input(text).run()
    assert not at.exception
    return listed(at, "search")


def profile(at: AppTest) -> dict[int, float | None]:
    return {movie_id: entry.rating for movie_id, entry in at.session_state.profile.items()}


def texts(at: AppTest) -> str:
    """All Markdown, captions, subheaders and messages of the page, unescaped."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [h.value for h in at.subheader] + [e.value for e in [*at.warning, *at.info]]
    return re.sub(r"\\(.)", r"\1", "\n".join(parts))


def card(at: AppTest, title: str) -> str:
    """The text of the card whose first line starts with **title** (unescaped)."""
    found = [m.value for m in at.markdown if re.sub(r"\\(.)", r"\1", m.value).startswith(title)]
    assert found, f"no card for {title}"
    return re.sub(r"\\(.)", r"\1", found[0])


# --- first page, rating and adding in place ------------------------------------------------------


def test_cold_start_shows_popular_picks_as_cards(app: AppTest, recommender) -> None:
    assert [h.value for h in app.subheader][:2] == ["Popular picks", "Your profile"]
    assert not app.dataframe  # cards, no data grid
    expected = recommender.popular(10)
    assert listed(app, "picks") == expected["movieId"].tolist()
    # readable titles with the year once, genres, tags, the reason and links
    pulp = card(app, "**Pulp Fiction** · 1994")
    assert "Comedy, Crime, Drama, Thriller · tagged" in pulp
    assert "popular: 4.2 average from 307 ratings" in pulp
    assert "(https://movielens.org/movies/296)" in pulp and "(https://www.imdb.com/title/" in pulp
    assert "**The Prestige** · 2006" in texts(app)  # not "Prestige, The (2006)"
    assert app.session_state.profile == {}
    assert "p" not in app.query_params

    click(app, "other_picks")
    assert set(listed(app, "picks")) != set(expected["movieId"])


def test_rate_and_add_from_the_popular_picks(app: AppTest) -> None:
    assert PULP_FICTION in listed(app, "picks")
    rate(app, "picks", PULP_FICTION, 5)
    assert profile(app) == {PULP_FICTION: 5.0}
    assert app.query_params["p"] == "296:5"
    # the list became recommendations, without the rated movie, each with its match
    assert "Recommended for you" in [h.value for h in app.subheader]
    recommended = listed(app, "recs")
    assert len(recommended) == 10 and PULP_FICTION not in recommended
    assert listed(app, "profile") == [PULP_FICTION]
    assert app.get("feedback")[-1].value == 4  # the profile's stars show the rating

    click(app, "clear_profile")
    click(app, f"add_picks_{WALL_E}")  # "Add": liked, without stars
    assert profile(app) == {WALL_E: None}
    assert app.query_params["p"] == "60069"
    assert "liked, no stars" in texts(app)


def test_rate_add_and_remove_from_the_recommendations(app: AppTest, recommender) -> None:
    rate(app, "picks", PULP_FICTION, 5)
    first, second = listed(app, "recs")[:2]
    rate(app, "recs", first, 2)  # a low rating: disliked, in red, and said what it does
    assert profile(app) == {PULP_FICTION: 5.0, first: 2.0}
    assert first not in listed(app, "recs")
    assert ":red[disliked]" in "\n".join(m.value for m in app.markdown)
    neutral = recommender.params["neutral_rating"]
    assert f"rated {neutral:g} stars or less counts as disliked: similar films are pushed" in (
        texts(app)
    )
    click(app, f"add_recs_{second}")
    assert profile(app)[second] is None
    assert listed(app, "profile") == [second, first, PULP_FICTION]  # the latest first
    rate(app, "profile", first, 4)  # change a rating in the profile
    assert profile(app)[first] == 4.0

    click(app, f"remove_{first}")
    assert list(profile(app)) == [PULP_FICTION, second]
    assert app.query_params["p"] == f"296:5,{second}"
    click(app, "clear_profile")
    assert profile(app) == {} and "p" not in app.query_params
    assert "Popular picks" in [h.value for h in app.subheader]


def test_cards_show_the_parts_in_words_and_no_match_out_of_order(app: AppTest, recommender):
    """The list is ranked by the blend and the genre mix: a "% match" of the blend alone ran
    out of order down it (71%, 75%, 73%), so the cards show the parts and no match."""
    rate(app, "picks", PULP_FICTION, 5)
    top = listed(app, "recs")[0]
    shown = card(
        app, f"**{display_title(recommender.movies.set_index('movieId').loc[top, 'title'])}**"
    )
    assert "% match" not in texts(app)
    weights = recommender.default_weights
    row = recommender.recommend({PULP_FICTION: 5.0}, 10).set_index("movieId").loc[top]
    counted = {
        s.label: name
        for name, s in recommender.scorers.items()
        if weights[name] > 0 and row[f"{name}_score"] != 0  # a part at 0 says nothing
    }
    parts = re.findall(rf"({'|'.join(counted)}) (\d+)%", shown)
    assert len(parts) == len(counted) > 0  # the parts that count, in words
    unweighted = [s.label for name, s in recommender.scorers.items() if weights[name] == 0]
    assert not [label for label in unweighted if label in shown]


def test_more_like_this_starts_from_one_movie(app: AppTest, recommender) -> None:
    click(app, f"like_picks_{PULP_FICTION}")
    assert "More like Pulp Fiction" in [h.value for h in app.subheader]
    expected = recommender.recommend({PULP_FICTION: None}, 10)["movieId"].tolist()
    assert listed(app, "like") == expected
    assert app.session_state.profile == {}  # the profile is unchanged
    rate(app, "like", expected[0], 5)
    assert profile(app) == {expected[0]: 5.0}
    click(app, "back")
    assert "Recommended for you" in [h.value for h in app.subheader]


def test_genres_that_matter_and_the_genre_mix_open_on_request(app: AppTest) -> None:
    rate(app, "picks", PULP_FICTION, 5)
    assert not app.get("vega_lite_chart")  # nothing of the dialogs is sent before it is asked
    assert f"genres_{PULP_FICTION}" not in [m.key for m in app.multiselect]
    click(app, "show_genres")
    assert app.selectbox(key="genres_movie").value == PULP_FICTION
    app.multiselect(key=f"genres_{PULP_FICTION}").set_value(["Crime"]).run()
    assert not app.exception
    assert app.session_state.profile[PULP_FICTION].genres == ("Crime",)
    assert app.query_params["p"] == "296:5:Crime"  # the link keeps the choice
    click(app, "show_genre_mix")
    assert len(app.get("vega_lite_chart")) == 1


# --- search --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "meant"), SEARCHES)
def test_search_shows_the_film_meant_first(app: AppTest, text: str, meant: int) -> None:
    assert search(app, text)[0] == meant


def test_rate_from_search_results_and_see_it_there(app: AppTest) -> None:
    found = search(app, "toy story")
    assert found[:3] == [TOY_STORY, TOY_STORY_2, 78499]
    rate(app, "search", TOY_STORY, 4)
    assert profile(app) == {TOY_STORY: 4.0}
    assert app.text_input(key="search_text").value == "toy story"  # rate the next one
    assert listed(app, "search")[0] == TOY_STORY  # still listed, with its stars and Remove
    assert next(w for w in app.get("feedback") if w.key == f"stars_search_{TOY_STORY}").value == 3
    assert app.button(key=f"remove_search_{TOY_STORY}")
    click(app, f"add_search_{TOY_STORY_2}")
    assert profile(app) == {TOY_STORY: 4.0, TOY_STORY_2: None}
    assert TOY_STORY_2 not in listed(app, "recs")


def test_search_without_match_says_so(app: AppTest) -> None:
    assert search(app, "zzzz no such film") == []
    assert "No title matches “zzzz no such film”" in texts(app)


# --- the profile in the address ------------------------------------------------------------------


def test_a_link_opens_its_profile(trained_artifacts: Path, monkeypatch) -> None:
    at = start(trained_artifacts, monkeypatch, link="858:5,1221,2571:1.5:Sci-Fi")
    entries = at.session_state.profile
    assert profile(at) == {GODFATHER: 5.0, GODFATHER_2: None, MATRIX: 1.5}
    assert entries[MATRIX].genres == ("Sci-Fi",)  # genres the visitor chose travel too
    assert entries[GODFATHER].genres == ("Crime", "Drama")  # else the movie's own
    assert "Recommended for you" in [h.value for h in at.subheader]
    assert ":red[★ 1.5 · disliked]" in texts(at)  # at or below the bundle's neutral rating
    # reasons quote the profile's titles as people write them
    assert "liked The Godfather (1972)" in texts(at) and "Godfather, The" not in texts(at)
    assert at.query_params["p"] == "858:5,1221,2571:1.5:Sci-Fi"  # written back unchanged


@pytest.mark.parametrize(
    ("link", "message"),
    [
        ("abc", "'abc' is not a movie id"),
        ("858:9", "movie 1: rating 9 is outside 0.5-5"),
        ("858:4.2", "not a half-star step"),
        ("858,858", "movieId 858 appears twice"),
        ("1:2:3:4", "is not id:rating:genres"),
        ("99999999", "none of the 1 movies in the link is in this model's catalogue"),
        (",".join(str(i) for i in range(1, MAX_MOVIES + 2)), "at most 500"),
    ],
)
def test_a_bad_link_gives_a_message_and_a_clean_page(
    trained_artifacts: Path, monkeypatch, link: str, message: str
) -> None:
    at = start(trained_artifacts, monkeypatch, link=link)
    assert at.session_state.profile == {}
    errors = [re.sub(r"\\(.)", r"\1", e.value) for e in at.error]
    assert len(errors) == 1 and "This link's profile could not be opened" in errors[0]
    assert message in errors[0]
    assert "p" not in at.query_params  # a clean page
    assert "Popular picks" in [h.value for h in at.subheader]


def test_a_stale_link_keeps_what_it_can(trained_artifacts: Path, monkeypatch) -> None:
    at = start(trained_artifacts, monkeypatch, link="99999999:4,858:5,1:3:NoSuchGenre")
    assert profile(at) == {GODFATHER: 5.0, TOY_STORY: 3.0}
    shown = texts(at)
    assert "skipped 1 movie that this model's catalogue does not have (movieIds 99999999)" in (
        shown
    )
    assert "ignored 1 unknown genre: NoSuchGenre" in shown
    assert at.query_params["p"] == "858:5,1:3:"


def test_the_profile_is_capped(trained_artifacts: Path, monkeypatch, recommender) -> None:
    ids = recommender.movies["movieId"].head(MAX_MOVIES + 1).tolist()
    at = start(trained_artifacts, monkeypatch, link=",".join(map(str, ids[:MAX_MOVIES])))
    assert len(at.session_state.profile) == MAX_MOVIES
    assert len(listed(at, "profile")) == 10  # the latest ten, the rest on request
    at.toggle(key="show_whole_profile").set_value(True).run()
    assert len(listed(at, "profile")) == MAX_MOVIES
    search(at, recommender.movies.set_index("movieId").loc[ids[-1], "title"][:-7])
    click(at, f"add_search_{ids[-1]}")
    assert len(at.session_state.profile) == MAX_MOVIES
    assert "Your profile holds at most 500 movies" in texts(at)


# --- settings ------------------------------------------------------------------------------------


def test_weights_change_the_blend_and_an_all_zero_blend_says_what_it_shows(app: AppTest) -> None:
    rate(app, "picks", PULP_FICTION, 5)
    default = listed(app, "recs")
    defaults = {s.key: s.value for s in app.sidebar.slider if s.key.startswith("weight_")}
    assert defaults["weight_personal"] > 0

    for key in defaults:  # every other part of the blend at 0
        app.slider(key=key).set_value(0.0)
    app.slider(key="weight_content").set_value(1.0).run()
    genre_only = listed(app, "recs")
    assert genre_only != default

    app.slider(key="weight_content").set_value(0.0).run()
    assert not app.exception
    assert any("All blend weights are at 0" in w.value for w in app.sidebar.warning)
    assert any("All blend weights are at 0" in i.value for i in app.main.info)
    assert listed(app, "recs") == default  # the default blend, as the note says

    click(app, "reset_weights")
    assert {s.key: s.value for s in app.sidebar.slider if s.key.startswith("weight_")} == defaults
    assert listed(app, "recs") == default


def test_genre_and_year_filters(app: AppTest, recommender) -> None:
    rate(app, "picks", PULP_FICTION, 5)
    app.multiselect(key="include_genres").set_value(["Comedy"])
    app.multiselect(key="exclude_genres").set_value(["Animation"])
    app.slider(key="years").set_value((1990, 1999)).run()
    assert not app.exception
    movies = recommender.movies.set_index("movieId")
    shown = movies.loc[listed(app, "recs")]
    assert len(shown) == 10
    assert shown["genres"].str.contains("Comedy").all()
    assert not shown["genres"].str.contains("Animation").any()
    assert shown["year"].between(1990, 1999).all()

    app.slider(key="n_results").set_value(5).run()
    assert len(listed(app, "recs")) == 5

    click(app, "clear_profile")  # filters narrow the popular picks too
    popular = movies.loc[listed(app, "picks")]
    assert popular["genres"].str.contains("Comedy").all()

    app.multiselect(key="include_genres").set_value(["Film-Noir"])
    app.slider(key="years").set_value((2015, 2018)).run()
    assert not app.exception
    assert any("No movie matches these filters" in w.value for w in app.warning)


# --- a user of the data set ----------------------------------------------------------------------


def user_mode(at: AppTest, user_id: str) -> AppTest:
    at.radio(key="mode").set_value("A user from the data set").run()
    at.text_input(key="user_id").input(user_id).run()
    assert not at.exception
    return at


def test_existing_user_mode(app: AppTest, recommender) -> None:
    user_mode(app, "1")
    top_rated = listed(app, "user_top")
    assert top_rated == recommender.user_ratings(1)["movieId"].head(10).tolist()
    assert "★ 5 from them" in texts(app)
    suggested = listed(app, "user_recs")
    assert suggested == recommender.for_user(1, 10)["movieId"].tolist()
    assert not set(recommender.user_ratings(1)["movieId"]) & set(suggested)
    assert "Recommended for user 1" in [h.value for h in app.subheader]
    assert "User 1 rated 232 movies" in texts(app)
    # their movies go into the visitor's own profile in one click
    rate(app, "user_recs", suggested[0], 5)
    assert profile(app) == {suggested[0]: 5.0}
    assert app.query_params["p"] == f"{suggested[0]}:5"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("5000", "User 5000 is not in the data set: ids run from 1 to 610"),
        ("0", "User 0 is not in the data set"),
        (str(2**53 + 1), f"User {2**53 + 1} is not in the data set"),
        (str(2**70), f"User {2**70} is not in the data set"),
        ("abc", "“abc” is not a user id: ids are whole numbers from 1 to 610"),
        ("-3", "“-3” is not a user id"),
    ],
)
def test_an_unknown_user_is_said_plainly(app: AppTest, typed: str, message: str) -> None:
    user_mode(app, "414")
    assert "Recommended for user 414" in [h.value for h in app.subheader]
    user_mode(app, typed)
    assert len(app.warning) == 1 and message in texts(app)
    assert not listed(app, "user_recs") and not listed(app, "user_top")  # nobody else's movies
    assert not [h for h in app.subheader if "414" in h.value]


def test_random_user_and_the_box_agree(app: AppTest, recommender) -> None:
    user_mode(app, "5000")
    click(app, "random_user")
    shown = app.text_input(key="user_id").value
    assert int(shown) in set(recommender.user_ids.tolist())
    assert f"Recommended for user {shown}" in [h.value for h in app.subheader]
    assert not app.warning


# --- saving and loading --------------------------------------------------------------------------


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    click(at, "show_files")
    at.file_uploader(key="profile_upload").upload(name, content).run()
    assert not at.exception
    return at


def test_download_then_upload_restores_the_profile(app: AppTest) -> None:
    rate(app, "picks", PULP_FICTION, 5)
    click(app, f"add_recs_{listed(app, 'recs')[0]}")
    saved = dict(app.session_state.profile)
    click(app, "show_files")
    assert [b.label for b in app.get("download_button")] == ["Download JSON", "Download CSV"]
    for name, text in [
        ("mine.json", to_json(saved.values())),
        ("mine.csv", to_csv(saved.values())),
    ]:
        click(app, "clear_profile")
        upload(app, name, text.encode())
        assert app.session_state.profile == saved
        assert f"Loaded 2 movies from {name}" in app.success[0].value.replace("\\", "")


DEEP_JSON = b'{"format": "movierec-profile", "version": 1, "movies": ' + b"[" * 200_000
PROFILE_OF_ONE = (
    b'{"format": "movierec-profile", "version": 1, "movies": [{"movieId": 1, "rating": 4.5}]}'
)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.json", b'{"format": "movierec-profile", "movies": [', "is not valid JSON"),
        ("ratings.csv", b"userId,movieId,rating,timestamp\n1,1,4.0,964982703\n", "ratings file"),
        ("other.json", b'{"name": "something else"}', "not a movie profile"),
        ("bad.csv", b"movieId,rating\n1,9\n", "row 2: rating 9 is outside 0.5-5"),
        ("foreign.csv", b"movieId\n999999999\n", "none of the 1 movies"),
        ("deep.json", DEEP_JSON, "Could not load this profile"),
        ("huge.csv", b"movieId\n" + b"9" * 5000 + b"\n", "Could not load this profile"),
        ("wide.csv", b"movieId,title\n1," + b"x" * 200_000 + b"\n", "Could not load this profile"),
        ("nan.json", PROFILE_OF_ONE.replace(b"4.5", b"NaN"), "nan.json holds NaN"),
        ("nan.csv", b"movieId,rating\n1,nan\n", "row 2: rating 'nan' is not a number"),
        ("twice.json", PROFILE_OF_ONE.replace(b'"rating"', b'"rating": 1, "rating"'), "twice"),
    ],
)
def test_bad_upload_explains_and_keeps_the_profile(
    app: AppTest, name: str, content: bytes, message: str
) -> None:
    rate(app, "picks", PULP_FICTION, 5)
    before = dict(app.session_state.profile)
    upload(app, name, content)
    assert app.session_state.profile == before
    errors = [e.value for e in app.error]
    assert len(errors) == 1 and "Could not load this profile" in errors[0]
    assert message in errors[0].replace("\\", "")  # the page shows it Markdown-escaped
    assert listed(app, "recs")  # the page still works


# --- about, missing and broken bundles, posters --------------------------------------------------


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
    parameters = next(t.value for t in at.table if "parameter" in t.value.columns)
    assert "personal_weight" in set(parameters["parameter"])

    # Evaluation figures written into the manifest later appear without restarting the app.
    rows = [
        {"protocol": "new-user", "profile_size": 5, "scorer": s, "NDCG@20": v, "NDCG@20 se": 0.02}
        for s, v in [("popularity", 0.285), ("hybrid (default)", 0.392)]
    ]
    protocols = {"new-user": "a test user reveals 5 movies"}
    update_manifest(artifacts, evaluation={"k": 20, "results": rows, "protocols": protocols})
    at = start(artifacts, monkeypatch)
    at.button(key="show_about").click().run()
    overview = next(t.value for t in at.table if "scorer" in t.value.columns)
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


def test_titles_are_text_not_html_or_markdown(tmp_path: Path, monkeypatch) -> None:
    """A title with HTML and Markdown in it shows literally, never as markup, in every list,
    label and tooltip."""
    at = start(evil_bundle(tmp_path), monkeypatch)
    assert search(at, "img src")[0] == 1
    rate(at, "search", 1, 5)
    click(at, "like_search_1")
    assert at.session_state.profile[1].title == EVIL
    assert listed(at, "profile") == [1] and listed(at, "search") == [1]
    assert not [m for m in at.markdown if m.proto.allow_html]
    assert not at.get("html")
    every_text = [m.value for m in [*at.markdown, *at.caption, *at.subheader]]
    every_text += [w.help or "" for w in [*at.button, *at.text_input]]
    shown = "\n".join(every_text)
    assert "<img" not in shown.replace("\\<img", "")  # every "<" is escaped
    assert "![x]" not in shown and "\\!\\[x\\]" in shown  # no image: the "!" is escaped
    assert "More like \\<img src=x onerror=alert\\(1\\)\\>" in shown


tmdb = test_posters.tmdb  # a local server that answers in TMDB's format


def test_posters_show_when_a_key_is_set(
    trained_artifacts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tmdb: str
) -> None:
    monkeypatch.setenv("MOVIEREC_TMDB_API_URL", f"{tmdb}/3")
    monkeypatch.setenv("MOVIEREC_TMDB_IMAGE_URL", f"{tmdb}/t/p/w185")
    monkeypatch.setenv("MOVIEREC_POSTER_DIR", str(tmp_path / "posters"))
    at = start(trained_artifacts, monkeypatch, link="2571:5")
    assert search(at, "matrix")[0] == MATRIX  # TMDB 603, which the local server knows
    assert not at.image  # without a key: no poster, nothing asked for
    assert not test_posters.FakeTmdb.requests

    monkeypatch.setenv("TMDB_API_KEY", test_posters.KEY)
    at = AppTest.from_file(str(MAIN), default_timeout=30)
    at.query_params["p"] = "2571:5"
    at.run()
    assert search(at, "matrix")[0] == MATRIX
    assert not at.image  # not on disk yet: the page does not wait for it
    poster_cache().wait(timeout=30)
    search(at, "the matrix")
    assert len(at.image) == 1  # from the file on disk, served by the app itself
    assert (tmp_path / "posters" / "603.jpg").read_bytes() == test_posters.POSTER
