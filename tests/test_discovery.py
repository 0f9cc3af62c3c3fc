"""Discovery (popular picks <-> hidden gems) and the fans far from the blockbusters, on the real
data's default bundle.

The fan profiles and what they must not get were written down before the leak was measured or
anything was tuned (issue 19):

- **most-rated**: one of the 100 movies with the most ratings in the bundle (ties: the lower
  movieId), the head the evaluation's tail NDCG leaves out (``judging.HEAD``);
- **of another kind**: for the Studio Ghibli fan, a film without the Animation genre; for the
  family evening, a film with neither Animation nor Children; for the Kubrick fan (four films of
  1964-1987), a film released in 1990 or later: the 1990s blockbusters that top every list
  (genres do not tell them apart: Forrest Gump is "Comedy|Drama|Romance|War", as Kubrick's
  war films are War and Drama).

None of a fan's top 10 at the default discovery may be a most-rated film of another kind.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from recommender import Recommender
from recommender.discovery import DISCOVERY_STEPS

MOST_RATED = 100
KUBRICK = {1258: 5.0, 750: 5.0, 1222: 5.0, 2730: 5.0}  # Shining, Strangelove, FMJ, Barry Lyndon
GHIBLI = {5618: 5.0, 5971: 5.0, 3000: 5.0}  # Spirited Away, Totoro, Princess Mononoke
FAMILY = {1: 5.0, 6377: 5.0, 4306: 5.0, 68954: 5.0}  # Toy Story, Finding Nemo, Shrek, Up


def _genres(row: pd.Series) -> set[str]:
    return set(str(row["genres"]).split("|"))


OtherKind = Callable[[pd.Series], bool]
FANS: dict[str, tuple[dict[int, float], OtherKind]] = {
    "Kubrick": (KUBRICK, lambda row: pd.notna(row["year"]) and row["year"] >= 1990),
    "Studio Ghibli": (GHIBLI, lambda row: "Animation" not in _genres(row)),
    "family evening": (FAMILY, lambda row: not _genres(row) & {"Animation", "Children"}),
}


def most_rated(rec: Recommender) -> set[int]:
    """movieIds of the MOST_RATED most-rated movies of the bundle (ties: the lower id)."""
    counts = rec.popularity.n_ratings
    order = np.lexsort((rec.movie_ids, -counts))
    return set(rec.movie_ids[order[:MOST_RATED]].tolist())


def leaked(rec: Recommender, table: pd.DataFrame, other_kind: OtherKind) -> list[str]:
    """Titles in ``table`` that are most-rated films of another kind."""
    head = most_rated(rec)
    return [
        row["title"] for _, row in table.iterrows() if row["movieId"] in head and other_kind(row)
    ]


@pytest.mark.parametrize("fan", FANS)
def test_no_blockbuster_of_another_kind_in_a_fans_top_10(recommender: Recommender, fan: str):
    profile, other_kind = FANS[fan]
    top = recommender.recommend(profile, n=10)
    assert leaked(recommender, top, other_kind) == [], top["title"].tolist()


STEPS = DISCOVERY_STEPS


def _mean_ratings(rec: Recommender, table: pd.DataFrame) -> float:
    codes = rec.codes_of(table["movieId"].tolist())
    return float(np.mean(np.log1p(rec.popularity.n_ratings[codes])))


PROFILES = [{1: None}, GHIBLI, {858: 5.0, 1213: 0.5, 2571: 4.0}, KUBRICK, FAMILY]


def test_each_step_of_discovery_recommends_less_rated_films(recommender: Recommender):
    # per profile, the ends; over the profiles, every step (as the evaluation's curve does:
    # one profile's top 20 may keep its films from one step to the next)
    steps = []
    for profile in PROFILES:
        lists = [recommender.recommend(profile, n=20, discovery=d) for d in STEPS]
        popularity = [_mean_ratings(recommender, table) for table in lists]
        assert popularity[0] > popularity[-1], (profile, popularity)
        assert lists[0]["movieId"].tolist() != lists[-1]["movieId"].tolist()
        steps.append(popularity)
    mean = np.mean(steps, axis=0)
    assert all(a > b for a, b in pairwise(mean)), mean


def test_the_default_discovery_is_the_bundles(recommender: Recommender):
    default = recommender.params["discovery"]
    assert 0 <= default <= 1
    pd.testing.assert_frame_equal(
        recommender.recommend(GHIBLI, n=10), recommender.recommend(GHIBLI, n=10, discovery=default)
    )


def test_the_cold_start_list_follows_discovery(recommender: Recommender):
    popular = [recommender.popular(n=15, seed=None, discovery=d) for d in STEPS]
    ratings = [float(np.mean(np.log1p(table["n_ratings"]))) for table in popular]
    # from the most rated to films fewer people saw (a top 15 may swap two films on the way)
    assert ratings[0] > ratings[2] > ratings[-1], ratings
    assert (
        popular[0]["movieId"].tolist()
        == recommender.popular(n=15, seed=None, discovery=0.0)["movieId"].tolist()
    )


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan"), True, "0.5", [0.5]])
def test_discovery_outside_0_to_1_is_refused(recommender: Recommender, value):
    with pytest.raises(ValueError, match="discovery"):
        recommender.recommend([1], discovery=value)
    with pytest.raises(ValueError, match="discovery"):
        recommender.popular(discovery=value)


def test_a_saved_profile_keeps_the_discovery_setting():
    from app.profile_files import ProfileEntry, parse_profile, to_json

    text = to_json(
        [ProfileEntry(1, "Toy Story (1995)", 4.5, ("Animation",))], settings={"discovery": 0.3}
    )
    loaded = parse_profile(text.encode(), "me.json", {1: "Toy Story (1995)"}, {"Animation"})
    assert loaded.settings == {"discovery": 0.3}
    assert [entry.movie_id for entry in loaded.entries] == [1]


@pytest.mark.parametrize("value", ["0.3", 0.3, "1", 0, "0.25"])
def test_a_discovery_setting_reads_back(value):
    from app.profile_link import discovery_text, read_discovery

    assert read_discovery(discovery_text(read_discovery(value, "the link")), "x") == float(value)


@pytest.mark.parametrize("value", ["1.5", "-0.1", "nan", "half", True, None, "", [0.5]])
def test_a_bad_discovery_setting_is_one_message(value):
    from app.profile_files import ProfileError
    from app.profile_link import read_discovery

    with pytest.raises(ProfileError, match=r"^the link: discovery .* from 0 \(popular picks\)"):
        read_discovery(value, "the link")


def test_about_shows_the_discovery_curve_of_the_evaluation(
    trained_artifacts, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    import shutil

    from recommender.bundle import update_manifest
    from tests.test_app import start

    artifacts = tmp_path / "artifacts"
    shutil.copytree(trained_artifacts, artifacts)
    figures = {"NDCG@20 se": 0.02, "tail NDCG@20": 0.05, "overlap": 0.1}
    rows = [
        {"protocol": "new-user", "profile_size": size, "scorer": f"discovery {d:g}",
         "NDCG@20": 0.4 - 0.1 * d, "popularity percentile": 99 - d, **figures}
        for size in (1, 5) for d in DISCOVERY_STEPS
    ]  # fmt: skip
    update_manifest(artifacts, evaluation={"k": 20, "results": rows})
    at = start(artifacts, monkeypatch)
    at.button(key="show_about").click().run()
    assert not at.exception
    assert any("Popular picks ↔ Hidden gems" in m.value for m in at.markdown)
    assert len(at.get("vega_lite_chart")) == 1  # the line chart of NDCG along the slider
