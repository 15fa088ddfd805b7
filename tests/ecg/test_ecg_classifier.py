"""The committed classifier on record 119 (ventricular bigeminy) and its outputs."""

import numpy as np

from medmodels.ecg import AAMI_CLASSES
from medmodels.ecg.agreement import match_beats
from medmodels.ecg.pipeline import analyse_ecg


def test_record_119_v_beats_found(record_119, classifier):
    raw, fs, samples, labels = record_119
    v_index = AAMI_CLASSES.index("V")
    result = analyse_ecg(raw, fs, classifier)
    matches = match_beats(samples, result.beat_samples, fs)
    is_v = labels == v_index
    found = matches[is_v] >= 0
    assert is_v.sum() > 400
    assert found.mean() >= 0.99  # the detector finds the V beats
    predicted = np.array([result.labels[m] for m in matches[is_v][found]])
    assert (predicted == "V").mean() >= 0.8  # and most are labelled V
    assert result.summary["ventricular_bigeminy_episodes"] >= 1


def test_probabilities_are_calibrated_distributions(record_119, classifier):
    raw, fs, _, _ = record_119
    result = analyse_ecg(raw[: int(60 * fs)], fs, classifier)
    p = result.probabilities
    assert p.shape == (len(result.labels), 5)
    assert np.all(np.isfinite(p)) and np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert result.beat_samples.dtype == np.int64
    assert classifier.temperature > 0


def test_flat_record_gives_empty_result(classifier):
    result = analyse_ecg(np.zeros(2500), 250.0, classifier, saliency_for_non_normal=True)
    assert result.beat_samples.size == 0 and result.labels == []
    assert result.probabilities.shape == (0, 5)
    assert result.summary["n_beats"] == 0 and result.summary["pauses"] == []


def test_input_signal_not_modified(record_119, classifier):
    raw, fs, _, _ = record_119
    segment = raw[: int(20 * fs)].copy()
    before = segment.copy()
    analyse_ecg(segment, fs, classifier, saliency_for_non_normal=True)
    assert np.array_equal(segment, before)
