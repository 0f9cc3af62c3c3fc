"""The same commands work on another MovieLens-format data set: the project's generator's output."""

from __future__ import annotations

from benchmarks.generate_movielens import generate
from recommender import Recommender
from tests.conftest import run_trainer


def test_train_and_serve_a_generated_data_set(tmp_path):
    data = tmp_path / "generated"
    counts = generate(data, users=300, movies=800, ratings=20_000, seed=5)
    result = run_trainer("--data-dir", str(data), "--artifacts-dir", str(tmp_path / "artifacts"))
    assert result.returncode == 0, result.stderr
    assert f"from {counts['users']:,} users of {counts['movies']:,} movies" in result.stdout
    rec = Recommender.load(tmp_path / "artifacts")
    assert rec.manifest["counts"]["ratings"] == counts["ratings"]
    liked = rec.popular(5)["movieId"].tolist()
    picks = rec.recommend(dict.fromkeys(liked, 5.0), n=10)
    assert len(picks) == 10 and not set(liked) & set(picks["movieId"])
    user = int(rec.user_ids[-1])
    assert not set(rec.user_ratings(user)["movieId"]) & set(rec.for_user(user, n=10)["movieId"])
    title = rec.movies["title"].iat[0]
    assert title in rec.search(title.split(" (")[0])["title"].tolist()
