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


def test_the_committed_ensemble_is_what_its_card_names(classifier):
    """Every member file the card lists exists with the card's sha256, and each one is loaded."""
    from medmodels.ecg.model import MODEL_DIR, read_card
    from medmodels.model_cards import sha256_of

    weights = read_card(MODEL_DIR)["weights"]
    members = weights["members"]
    assert len(members) >= 2 and members[0] == {"file": weights["file"], "sha256": weights["sha256"], "leads": 1}
    for entry in members:
        assert sha256_of(MODEL_DIR / entry["file"]) == entry["sha256"], entry["file"]
    assert len(classifier.networks) == len(members)
    assert classifier.sha256 == weights["sha256"]
    # The members differ (different seeds), so the ensemble is not one network counted several times.
    first, second = classifier.networks[:2]
    assert not np.array_equal(first.get_layer("logits").get_weights()[0], second.get_layer("logits").get_weights()[0])


def test_a_card_naming_a_missing_member_is_refused(tmp_path):
    import pytest

    from medmodels.ecg.model import classifier_weight_files

    (tmp_path / "ecg_beat_classifier.weights.h5").write_bytes(b"")
    (tmp_path / "ecg_beat_classifier.member3.weights.h5").write_bytes(b"")  # stray: not in the card
    card = {"weights": {"members": [{"file": "ecg_beat_classifier.weights.h5"},
                                    {"file": "ecg_beat_classifier.member1.weights.h5"}]}}
    with pytest.raises(FileNotFoundError, match="member1"):
        classifier_weight_files(tmp_path, card)
    (tmp_path / "ecg_beat_classifier.member1.weights.h5").write_bytes(b"")
    assert [p.name for p in classifier_weight_files(tmp_path, card)] == [
        "ecg_beat_classifier.weights.h5", "ecg_beat_classifier.member1.weights.h5"]


def test_network_agreement_on_119(record_119, classifier):
    """The ensemble's probabilities are predict_proba's; each count is the networks whose own call matches."""
    import dataclasses

    from medmodels.ecg.beats import MODEL_FS
    from medmodels.ecg.conditioning import remove_baseline_and_mains, resample, to_rate

    raw, fs, samples, _ = record_119
    inputs = classifier.inputs(resample(remove_baseline_and_mains(raw, fs), fs, MODEL_FS), to_rate(samples, fs, MODEL_FS))
    p, agreeing = classifier.predict_with_agreement(inputs)
    np.testing.assert_allclose(p, classifier.predict_proba(inputs), atol=1e-7)
    n = len(classifier.networks)
    assert agreeing.dtype == np.int64 and agreeing.min() >= 0 and agreeing.max() == n
    assert 0.8 < (agreeing == n).mean() < 1.0  # the networks mostly agree, but not on every beat of 119
    # Recount by hand from each network alone.
    first_alone = dataclasses.replace(classifier, members=())
    assert ((first_alone.predict_proba(inputs).argmax(axis=1) == p.argmax(axis=1)) <= (agreeing >= 1)).all()
    # Three copies of one network always agree.
    copies = dataclasses.replace(classifier, members=(classifier.keras_model, classifier.keras_model))
    _, unanimous = copies.predict_with_agreement(inputs)
    assert (unanimous == 3).all()


def test_split_beats_of_held_out_record_232_are_right_less_often(classifier):
    """On a DS2 record, beats the networks split on are rarer and less often right than beats they agree on."""
    from medmodels.ecg.mitdb import reference_beats

    raw, fs, samples, labels = reference_beats("232")  # DS2: sinus bradycardia with frequent atrial premature beats
    result = analyse_ecg(raw, fs, classifier)
    matches = match_beats(samples, result.beat_samples, fs)
    found = matches >= 0
    agreeing = result.networks_agreeing[matches[found]]
    right = np.array([result.labels[m] for m in matches[found]]) == np.array(AAMI_CLASSES)[labels[found]]
    split = agreeing < len(classifier.networks)
    assert 0.02 < split.mean() < 0.3
    assert right[split].mean() < right[~split].mean() - 0.1
