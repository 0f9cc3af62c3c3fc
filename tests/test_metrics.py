"""The ranking and rating metrics against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recommender.evaluation import metrics
from recommender.evaluation.metrics import MetricWarning

LOG3 = math.log2(3)


def test_precision_counts_hits_in_the_first_k_over_k() -> None:
    assert metrics.precision_at_k([1, 2, 3, 4], {2, 4}, 4) == 0.5
    assert metrics.precision_at_k([1, 2, 3, 4], {2, 4}, 2) == 0.5
    assert metrics.precision_at_k([1, 2, 3, 4], {2, 4}, 1) == 0.0


def test_a_list_shorter_than_k_is_not_padded() -> None:
    assert metrics.precision_at_k([7], {7}, 5) == pytest.approx(0.2)
    assert metrics.ndcg_at_k([7], {7}, 5) == pytest.approx(1.0)


def test_fewer_targets_than_k() -> None:
    ranked, relevant = [5, 1, 6, 7, 8], {1}
    assert metrics.precision_at_k(ranked, relevant, 5) == pytest.approx(0.2)
    assert metrics.recall_at_k(ranked, relevant, 5) == pytest.approx(1.0)
    assert metrics.ndcg_at_k(ranked, relevant, 5) == pytest.approx(1 / LOG3)  # hit at rank 2
    assert metrics.average_precision_at_k(ranked, relevant, 5) == pytest.approx(0.5)


def test_more_targets_than_k_a_perfect_list_scores_one() -> None:
    ranked, relevant = [1, 2], {1, 2, 3}
    assert metrics.recall_at_k(ranked, relevant, 2) == pytest.approx(1.0)
    assert metrics.ndcg_at_k(ranked, relevant, 2) == pytest.approx(1.0)
    assert metrics.average_precision_at_k(ranked, relevant, 2) == pytest.approx(1.0)


def test_ndcg_by_hand() -> None:
    # hits at ranks 1 and 3: DCG = 1 + 1/log2(4) = 1.5; ideal: 1 + 1/log2(3)
    assert metrics.ndcg_at_k(["a", "b", "c"], {"a", "c"}, 3) == pytest.approx(1.5 / (1 + 1 / LOG3))


def test_average_precision_by_hand() -> None:
    # hits at ranks 2 and 4: precisions 1/2 and 2/4, over min(2 targets, k)
    assert metrics.average_precision_at_k([9, 1, 8, 2], {1, 2}, 4) == pytest.approx(0.5)
    assert metrics.average_precision_at_k([1, 9, 2, 8], {1, 2}, 4) == pytest.approx((1 + 2 / 3) / 2)


def test_no_hits_is_zero_not_nan() -> None:
    assert metrics.ndcg_at_k([1, 2], {3}, 2) == 0.0
    assert metrics.average_precision_at_k([1, 2], {3}, 2) == 0.0


@pytest.mark.parametrize(
    "metric",
    [
        metrics.precision_at_k,
        metrics.recall_at_k,
        metrics.ndcg_at_k,
        metrics.average_precision_at_k,
    ],
)
def test_no_targets_gives_nan_with_a_warning(metric) -> None:
    with pytest.warns(MetricWarning, match="no targets"):
        assert math.isnan(metric([1, 2, 3], set(), 3))


def test_k_below_one_is_an_error() -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        metrics.ndcg_at_k([1], {1}, 0)


def test_coverage_counts_distinct_items_over_the_catalogue() -> None:
    assert metrics.catalogue_coverage([[1, 2], [2, 3]], 10) == pytest.approx(0.3)
    assert metrics.catalogue_coverage([], 10) == 0.0


def test_popularity_ranks_share_ties() -> None:
    ranks = metrics.popularity_ranks(np.array([5, 10, 5, 1]))
    np.testing.assert_allclose(ranks, [2.5, 1.0, 2.5, 4.0])


def test_novelty_is_the_mean_popularity_rank_of_what_is_shown() -> None:
    ranks = np.array([1.0, 2.0, 3.0, 4.0])
    assert metrics.mean_popularity_rank([[0, 3], [3]], ranks) == pytest.approx(3.0)
    assert math.isnan(metrics.mean_popularity_rank([], ranks))


def test_rmse_and_mae_by_hand() -> None:
    predicted, actual = np.array([3.0, 4.0, 5.0]), np.array([4.0, 4.0, 3.0])
    assert metrics.rmse(predicted, actual) == pytest.approx(math.sqrt(5 / 3))
    assert metrics.mae(predicted, actual) == pytest.approx(1.0)
    assert math.isnan(metrics.rmse(np.array([]), np.array([])))


def test_tail_ndcg_counts_only_targets_outside_the_head():
    head = {1, 2}
    # targets 1 (head) and 7 (tail); the list finds 7 at rank 2: 1/log2(3) over the ideal 1
    assert metrics.tail_ndcg_at_k([1, 7, 3], {1, 7}, head, 3) == pytest.approx(1 / np.log2(3))
    with pytest.warns(MetricWarning):
        assert np.isnan(metrics.tail_ndcg_at_k([1, 2], {1, 2}, head, 2))  # no tail target


def test_jaccard_overlap_of_every_pair_of_lists():
    # {1,2} & {2,3}: 1/3; {1,2} & {4,5}: 0; {2,3} & {4,5}: 0 -> mean 1/9
    assert metrics.jaccard_overlap([[1, 2], [2, 3], [4, 5]]) == pytest.approx(1 / 9)
    assert metrics.jaccard_overlap([[1, 2], [2, 1]]) == 1.0
    assert np.isnan(metrics.jaccard_overlap([[1, 2]]))


def test_miscalibration_is_steck_kl_with_a_little_of_the_profile_mixed_in():
    shares = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    profile = metrics.genre_distribution(shares, [0, 1])  # (0.75, 0.25, 0)
    np.testing.assert_allclose(profile, [0.75, 0.25, 0.0])
    assert metrics.miscalibration(profile, profile) == pytest.approx(0.0, abs=1e-12)
    listed = metrics.genre_distribution(shares, [2])  # all genre 3
    q = 0.99 * listed + 0.01 * profile
    expected = 0.75 * np.log(0.75 / q[0]) + 0.25 * np.log(0.25 / q[1])
    assert metrics.miscalibration(profile, listed) == pytest.approx(expected)
    assert np.isnan(metrics.miscalibration(np.zeros(3), listed))  # a profile without genres


def test_popularity_percentiles_put_the_most_rated_at_100():
    np.testing.assert_allclose(metrics.popularity_percentiles(np.array([10, 0, 5])), [100, 0, 50])
