"""Genre TF-IDF: one token per genre, cosine computed just in time."""

import numpy as np
import pytest

from recommender.content import fit_content, genre_tokens


def test_genres_stay_whole_and_no_genres_gives_no_token():
    assert genre_tokens("Action|Sci-Fi|Film-Noir|Children") == [
        "Action",
        "Sci-Fi",
        "Film-Noir",
        "Children",
    ]
    assert genre_tokens("(no genres listed)") == []
    model = fit_content(["Sci-Fi|Film-Noir", "Children|Sci-Fi", "(no genres listed)"])
    assert model.genres == ["Children", "Film-Noir", "Sci-Fi"]
    assert "sci" not in model.genres and "fi" not in model.genres


def test_idf_and_cosine_by_hand():
    model = fit_content(["A|B", "A", "C"])
    # smooth idf: ln((1+n)/(1+df)) + 1 with n=3: A df=2, B df=1, C df=1
    idf_a, idf_b = np.log(4 / 3) + 1, np.log(4 / 2) + 1
    np.testing.assert_allclose(model.idf, [idf_a, idf_b, idf_b], rtol=1e-6)
    profile = model.profile_vector([["A"]], [1.0])  # a profile of one movie with genre A
    scores = model.scores(profile)
    expected_first = idf_a / np.hypot(idf_a, idf_b)  # cos(A|B, A)
    np.testing.assert_allclose(scores, [expected_first, 1.0, 0.0], rtol=1e-6)


def test_attached_genres_change_the_profile_and_empty_profile_scores_zero():
    model = fit_content(["Comedy|Romance", "Horror", "Comedy"])
    comedy = model.scores(model.profile_vector([["Comedy"]], [1.0]))
    horror = model.scores(model.profile_vector([["Horror"]], [1.0]))
    assert comedy.argmax() == 2 and horror.argmax() == 1
    assert not model.scores(model.profile_vector([], [])).any()


def test_scores_are_one_sparse_product_without_movies_by_movies():
    model = fit_content(["A|B", "B", "C", "A"] * 50)
    profile = model.profile_vector([["A"]], [1.0])
    scores = model.scores(profile)
    assert scores.shape == (200,)
    assert model.matrix.shape == (200, 3)  # movies x genres is all that is stored
    assert scores.max() == pytest.approx(1.0)


def test_the_distinct_genre_mixes_give_the_sparse_products_scores(
    data_dir, monkeypatch: pytest.MonkeyPatch
):
    """A request scores each combination of genres once (the catalogue's movies share a few
    hundred) and hands each movie its combination's score: bit for bit the sparse product's,
    which is still used for a vocabulary too large to hold densely."""
    import pandas as pd

    from recommender import model as model_module

    genres = pd.read_csv(data_dir / "movies.csv")["genres"].tolist()
    model = fit_content(genres)
    rows, movie_row = model._distinct_rows
    assert len(rows) < len(genres) / 10 and len(movie_row) == len(genres)
    monkeypatch.setattr(model_module, "DENSE_GENRE_CELLS", 0)
    sparse_only = fit_content(genres)
    assert sparse_only._distinct_rows is None
    rng = np.random.default_rng(0)
    for _ in range(30):
        picked = rng.choice(len(genres), size=int(rng.integers(1, 12)), replace=False)
        lists = [genre_tokens(genres[code]) for code in picked]
        profile = model.profile_vector(lists, rng.uniform(-1, 1, len(picked)).tolist())
        np.testing.assert_array_equal(model.scores(profile), sparse_only.scores(profile))
