"""The page's steering, driven headless with AppTest: "Not interested" on the cards (kept in
the address and in saved files, undone from the profile's side) and the recency slider."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.profile_files import to_csv, to_json
from tests.test_app import MAIN, PULP_FICTION, click, listed, rate, start, texts, upload


@pytest.fixture
def app(trained_artifacts: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    return start(trained_artifacts, monkeypatch)


def test_not_interested_takes_a_film_out_for_this_profile(app: AppTest, recommender) -> None:
    rate(app, "picks", PULP_FICTION, 5)
    first, second = listed(app, "recs")[:2]
    click(app, f"hide_recs_{first}")
    assert first not in listed(app, "recs") and len(listed(app, "recs")) == 10
    assert app.query_params["h"] == str(first) and app.query_params["p"] == "296:5"
    assert app.session_state.profile.keys() == {PULP_FICTION}  # not a rating
    rate(app, "recs", second, 4)  # the profile changes: the hidden film stays out
    assert first not in listed(app, "recs")
    expected = recommender.recommend({PULP_FICTION: 5.0, second: 4.0}, 10, exclude=[first])
    assert listed(app, "recs") == expected["movieId"].tolist()
    click(app, f"like_recs_{listed(app, 'recs')[0]}")  # "More like this" leaves it out too
    assert first not in listed(app, "like")
    assert "Not interested (1)" in [b.label for b in app.button]  # where to see and undo it


def test_popular_picks_leave_out_hidden_films(app: AppTest) -> None:
    first = listed(app, "picks")[0]
    click(app, f"hide_picks_{first}")
    assert first not in listed(app, "picks") and len(listed(app, "picks")) == 10
    click(app, "other_picks")
    assert first not in listed(app, "picks")


def test_a_link_keeps_the_hidden_films(trained_artifacts: Path, monkeypatch, recommender) -> None:
    hidden = recommender.recommend({PULP_FICTION: 5.0}, 3)["movieId"].tolist()
    at = start_with(
        trained_artifacts,
        monkeypatch,
        {"p": "296:5", "h": ",".join(map(str, hidden)) + ",99999999"},
    )
    assert not set(hidden) & set(listed(at, "recs"))
    assert list(at.session_state.hidden) == hidden
    assert "skipped 1 hidden film that this model's catalogue does not have" in texts(at)
    bad = start_with(trained_artifacts, monkeypatch, {"p": "296:5", "h": "12,abc"})
    errors = " ".join(e.value for e in bad.error).replace("\\", "")
    assert (
        "hidden films were left out" in errors and "hidden film 2: movieId 'abc' is not" in errors
    )
    assert bad.session_state.hidden == {} and "h" not in bad.query_params


def start_with(artifacts: Path, monkeypatch, params: dict[str, str]) -> AppTest:
    """The app's first run for a visitor opening an address with these parameters."""
    monkeypatch.setenv("MOVIEREC_ARTIFACTS_DIR", str(artifacts))
    monkeypatch.delenv("TMDB_API_KEY", raising=False)
    at = AppTest.from_file(str(MAIN), default_timeout=30)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception
    return at


@pytest.mark.parametrize("write", [to_json, to_csv])
def test_saved_files_keep_the_hidden_films(app: AppTest, write) -> None:
    rate(app, "picks", PULP_FICTION, 5)
    hidden = listed(app, "recs")[:2]
    for movie_id in hidden:
        click(app, f"hide_recs_{movie_id}")
    saved, kept = dict(app.session_state.profile), dict(app.session_state.hidden)
    text = write(saved.values(), kept)
    click(app, "clear_profile")
    assert app.session_state.hidden == {} and "h" not in app.query_params
    name = "mine.json" if write is to_json else "mine.csv"
    upload(app, name, text.encode())
    assert app.session_state.profile == saved and app.session_state.hidden == kept
    assert f"Loaded 1 movie and 2 hidden films from {name}" in app.success[0].value.replace(
        "\\", ""
    )
    assert not set(hidden) & set(listed(app, "recs"))
    assert app.query_params["h"] == ",".join(map(str, hidden))


def test_the_recency_slider_moves_the_years_and_the_address(
    app: AppTest, recommender, trained_artifacts: Path, monkeypatch
) -> None:
    rate(app, "picks", PULP_FICTION, 5)
    slider = app.select_slider(key="recency")
    assert slider.label == "Classics ↔ Recent films" and slider.value == 0.0
    assert "Leans the list towards older or newer films" in texts(app)
    year = recommender.movies.set_index("movieId")["year"]
    years = {}
    for value in (-1.0, 0.0, 1.0):
        app.select_slider(key="recency").set_value(value).run()
        assert not app.exception
        years[value] = year.loc[listed(app, "recs")].mean()
    assert years[-1.0] < years[0.0] < years[1.0]
    assert app.query_params["r"] == "1"
    again = start_with(trained_artifacts, monkeypatch, {"p": "296:5", "r": "1"})  # a reload
    assert again.select_slider(key="recency").value == 1.0
    assert year.loc[listed(again, "recs")].mean() == years[1.0]


def test_a_saved_profile_keeps_both_sliders(app: AppTest) -> None:
    """Discovery and recency travel with a JSON profile; a bad one changes neither slider and
    keeps the profile."""
    rate(app, "picks", PULP_FICTION, 5)
    app.select_slider(key="recency").set_value(0.5).run()
    app.slider(key="discovery").set_value(0.3).run()
    saved = dict(app.session_state.profile)
    text = to_json(saved.values(), {}, {"discovery": 0.3, "recency": 0.5})
    click(app, "clear_profile")
    app.select_slider(key="recency").set_value(-1.0).run()
    app.slider(key="discovery").set_value(0.9).run()
    upload(app, "mine.json", text.encode())
    assert app.session_state.profile == saved
    assert app.select_slider(key="recency").value == 0.5
    assert app.slider(key="discovery").value == pytest.approx(0.3)
    bad = text.replace('"recency": 0.5', '"recency": 0.7')
    upload(app, "bad.json", bad.encode())
    assert '"recency" must be one of -1, -0.5, 0, 0.5, 1' in app.error[0].value.replace("\\", "")
    assert app.session_state.profile == saved and app.slider(key="discovery").value == 0.3
