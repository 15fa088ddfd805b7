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


def test_atrial_fibrillation_is_reported_and_gets_no_s_labels(classifier):
    from medmodels.ecg.mitdb import reference_beats

    raw, fs, _, _ = reference_beats("203")  # DS1, mostly atrial fibrillation and flutter
    result = analyse_ecg(raw[: int(600 * fs)], fs, classifier)
    assert result.summary["irregular_rhythm_percent"] > 80
    assert result.labels.count("S") <= 0.02 * len(result.labels)


def test_sinus_rhythm_with_atrial_premature_beats_is_not_called_irregular(classifier):
    from medmodels.ecg.mitdb import reference_beats

    raw, fs, samples, labels = reference_beats("220")  # DS1: sinus rhythm, 94 atrial premature beats
    result = analyse_ecg(raw, fs, classifier)
    assert result.summary["irregular_rhythm_percent"] < 5
    matches = match_beats(samples, result.beat_samples, fs)
    is_s = (labels == AAMI_CLASSES.index("S")) & (matches >= 0)
    predicted = np.array([result.labels[m] for m in matches[is_s]])
    assert (predicted == "S").mean() >= 0.6  # a training record: a floor, not a generalisation claim
