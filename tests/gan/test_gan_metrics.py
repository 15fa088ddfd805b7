"""FID, precision/recall and memorisation on constructed cases with known answers."""

import numpy as np
import pytest

from medmodels.gan import metrics


def test_frechet_distance_of_shifted_gaussians_is_the_squared_shift():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((20000, 4))
    b = rng.standard_normal((20000, 4)) + np.array([2.0, 0, 0, 0])
    assert metrics.frechet_distance(a, b) == pytest.approx(4.0, abs=0.15)
    assert metrics.frechet_distance(a, rng.standard_normal((20000, 4))) < 0.02


def test_frechet_distance_sees_a_scale_change():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((20000, 3))
    b = 2.0 * rng.standard_normal((20000, 3))
    # Σ = I vs 4I: tr(I + 4I − 2·2I) = 3 per dimension … = 1 × 3
    assert metrics.frechet_distance(a, b) == pytest.approx(3.0, abs=0.15)


def test_split_half_floor_is_small_for_one_distribution():
    x = np.random.default_rng(2).standard_normal((4000, 4))
    assert 0.0 <= metrics.split_half_floor(x) < 0.05


def test_precision_recall_same_distribution_high_disjoint_zero_and_mode_collapse_low_recall():
    rng = np.random.default_rng(3)
    real = rng.standard_normal((600, 2))
    p, r = metrics.precision_recall(real, rng.standard_normal((600, 2)))
    assert p > 0.85 and r > 0.85
    p, r = metrics.precision_recall(real, rng.standard_normal((600, 2)) + 50.0)
    assert p == 0.0 and r == 0.0
    collapsed = 0.05 * rng.standard_normal((600, 2))  # all samples near one mode: realistic but not diverse
    p, r = metrics.precision_recall(real, collapsed)
    assert p > 0.9 and r < 0.3


def test_memorisation_flags_an_exact_copy_of_a_training_sample():
    rng = np.random.default_rng(4)
    training = rng.standard_normal((2000, 8))
    held_out = rng.standard_normal((500, 8))
    fresh = rng.standard_normal((199, 8))
    synthetic = np.concatenate([fresh, training[17:18]])
    result = metrics.memorisation(synthetic, held_out, training)
    assert result["flagged"][-1]  # the copy
    assert result["fraction"] < 0.05  # fresh draws land near the 1 % expected by construction
    assert metrics.memorisation(training[:50], held_out, training)["fraction"] == 1.0


def test_within_training_reference_separates_copies_from_new_draws_of_the_same_patients():
    # Held-out samples from shifted "other patients" make every same-patient draw look memorised;
    # the leave-one-out reference inside the training data does not, and still catches copies.
    rng = np.random.default_rng(5)
    training = rng.standard_normal((3000, 6))
    other_patients = rng.standard_normal((500, 6)) + 2.0
    fresh = rng.standard_normal((400, 6))
    assert metrics.memorisation(fresh, other_patients, training)["fraction"] > 0.5
    within = metrics.memorisation_within_training(fresh, training, np.arange(1000))
    assert within["fraction"] < 0.04 and within["expected"] == 0.01
    copies = training[:40] + 1e-6
    assert metrics.memorisation_within_training(copies, training, np.arange(1000))["fraction"] == 1.0


def test_nearest_other_distances_exclude_the_sample_itself():
    training = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])
    assert metrics.nearest_other_distances(training, np.array([0, 1, 2])).tolist() == [1.0, pytest.approx(18 ** 0.5), 1.0]


def test_excess_over_chance_is_the_one_sided_binomial_tail():
    # P(X >= 1) for X ~ Bin(2, 0.5) = 3/4; P(X >= 0) = 1
    assert metrics.excess_over_chance(1, 2, 0.5) == pytest.approx(0.75)
    assert metrics.excess_over_chance(0, 297, 0.01) == 1.0
    assert metrics.excess_over_chance(10, 100, 0.01) < 1e-4
