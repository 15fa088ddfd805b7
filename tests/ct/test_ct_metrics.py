"""medmodels.ct.metrics: AUC, patient bootstrap intervals, calibration and thresholds on known values."""

from __future__ import annotations

import numpy as np
import pytest

from medmodels.ct.malignancy_eval import report
from medmodels.ct.metrics import (expected_calibration_error, fit_temperature_and_bias, patient_bootstrap_auc,
                                  patient_bootstrap_auc_difference, patient_resamples, roc_auc,
                                  sensitivity_specificity, sigmoid, youden_threshold)


def test_roc_auc_known_values_and_ties_count_half():
    labels = np.array([0, 0, 1, 1])
    assert roc_auc(labels, np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)
    assert roc_auc(labels, np.array([0.1, 0.2, 0.3, 0.4])) == 1.0
    assert roc_auc(labels, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5
    assert np.isnan(roc_auc(np.ones(3), np.arange(3.0)))


def test_patient_resamples_keep_each_patients_rows_together():
    patients = np.array(["a", "a", "b", "c", "c", "c"])
    for rows in patient_resamples(patients, 50, seed=1):
        for patient in ("a", "c"):
            mine = np.flatnonzero(patients == patient)
            # a patient drawn k times contributes all its rows k times
            assert np.isin(rows, mine).sum() % mine.size == 0


@pytest.fixture(scope="module")
def two_scores():
    """60 patients with 2 crops each; score a separates the classes better than score b."""
    rng = np.random.default_rng(0)
    labels = np.repeat(rng.integers(0, 2, 60), 2)
    patients = np.repeat(np.arange(60), 2)
    b = labels * 1.0 + rng.normal(0, 1.0, labels.size)
    a = labels * 3.0 + rng.normal(0, 1.0, labels.size)
    return labels, a, b, patients


def test_bootstrap_interval_brackets_the_estimate(two_scores):
    labels, a, _, patients = two_scores
    lo, hi = patient_bootstrap_auc(labels, a, patients, n_resamples=500, seed=3)
    assert lo < roc_auc(labels, a) < hi
    assert 0.5 < lo and hi <= 1.0


def test_paired_difference_interval(two_scores):
    labels, a, b, patients = two_scores
    lo, hi = patient_bootstrap_auc_difference(labels, a, b, patients, n_resamples=500, seed=3)
    assert 0.0 < lo < roc_auc(labels, a) - roc_auc(labels, b) < hi
    # a score against itself: every paired resample differs by exactly 0
    assert patient_bootstrap_auc_difference(labels, b, b, patients, n_resamples=100) == (0.0, 0.0)
    # swapping the scores mirrors the interval
    mlo, mhi = patient_bootstrap_auc_difference(labels, b, a, patients, n_resamples=500, seed=3)
    assert (mlo, mhi) == pytest.approx((-hi, -lo))


def test_sigmoid_is_finite_for_extreme_logits():
    p = sigmoid(np.array([-1e6, 0.0, 1e6]), temperature=0.5, bias=0.0)
    assert np.all(np.isfinite(p)) and p[1] == 0.5 and p[0] < 1e-20 and p[2] == 1.0


def test_temperature_and_bias_are_recovered():
    rng = np.random.default_rng(1)
    true_logits = rng.normal(0, 2, 20000)
    labels = (rng.random(true_logits.size) < sigmoid(true_logits)).astype(int)
    # a model whose logits are 2x too confident and shifted by 1
    temperature, bias = fit_temperature_and_bias(2.0 * true_logits + 1.0, labels)
    assert temperature == pytest.approx(2.0, rel=0.05)
    assert bias == pytest.approx(1.0, abs=0.1)


def test_ece_known_value_and_perfect_calibration():
    # one bin (0.7-0.8) holding p = 0.75 with 50 % positives: ECE = 0.25
    assert expected_calibration_error(np.full(4, 0.75), np.array([1, 0, 1, 0])) == pytest.approx(0.25)
    assert expected_calibration_error(np.array([0.05, 0.05, 0.95, 0.95]), np.array([0, 0, 1, 1])) == pytest.approx(0.05)
    assert expected_calibration_error(np.zeros(0), np.zeros(0)) == 0.0


def test_threshold_and_operating_point():
    labels = np.array([0, 0, 0, 1, 1, 1])
    p = np.array([0.1, 0.2, 0.6, 0.5, 0.7, 0.9])
    assert sensitivity_specificity(labels, p, 0.5) == (1.0, pytest.approx(2 / 3))
    assert youden_threshold(labels, p) == 0.5  # J = 1 + 2/3 - 1, the best available


def _metrics(split: str, auc: float, difference_ci: tuple[float, float]) -> dict:
    return {"split": split, "patients": 10, "crops_malignant": 5, "crops_benign": 5, "auc": auc,
            "auc_ci95": (auc - 0.05, auc + 0.05), "bootstrap": "patient-level", "diameter_baseline_auc": 0.8,
            "diameter_baseline_auc_ci95": (0.7, 0.9), "auc_minus_diameter_baseline": auc - 0.8,
            "auc_minus_diameter_baseline_ci95": difference_ci, "threshold": 0.3, "sensitivity": 0.8,
            "specificity": 0.7, "temperature": 1.0, "bias": 0.0, "ece": 0.05}


def test_report_judges_only_the_test_split_and_says_when_size_alone_is_as_good():
    validation = report(_metrics("validation", 0.9, (-0.02, 0.01)))
    assert "judged on the test split only" in validation and " met" not in validation
    assert "not shown to rank better than size alone" in validation
    test = report(_metrics("test", 0.8499, (0.001, 0.055)))
    assert "test AUC >= 0.85 NOT met" in test
    assert "size alone" not in test
