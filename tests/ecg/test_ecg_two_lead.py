"""The two-lead classifier: second-lead choice, its inputs, the fallback to one lead, and its results on MIT-BIH."""

import json

import numpy as np
import pytest

from medmodels.ecg import AAMI_CLASSES
from medmodels.ecg.beats import DEFAULT_SPEC, TWO_LEAD_SPEC, BeatSpec, extract_windows, morphology_channels
from medmodels.ecg.model import beat_inputs
from medmodels.ecg.pipeline import NO_SECOND_LEAD, second_lead_for, second_lead_problem
from medmodels.ecg.reading import choose_second_lead, precordial_name
from medmodels.errors import InputError

TWELVE = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


@pytest.mark.parametrize("name, expected", [("V1", "V1"), ("v5", "V5"), ("Lead V2", "V2"), ("ECG V6", "V6"),
                                            ("MLII", None), ("aVF", None), ("V7", None), ("ECG1", None)])
def test_precordial_lead_names(name, expected):
    assert precordial_name(name) == expected


def test_second_lead_is_v1_first_then_the_other_precordial_leads():
    assert choose_second_lead(("MLII", "V1"), 0) == 1
    assert choose_second_lead(("V5", "MLII"), 1) == 0  # MIT-BIH 114 stores V5 first
    assert choose_second_lead(TWELVE, 1) == 6  # V1 of a 12-lead record beside lead II
    assert choose_second_lead(TWELVE, 6) == 7  # V1 analysed: V2 is the second lead
    assert choose_second_lead(("MLII", "V1"), 1) is None  # the only precordial lead is the analysed one
    assert choose_second_lead(("I", "II", "III"), 1) is None  # limb leads only: single-lead classifier
    assert choose_second_lead(TWELVE, 1, "v4") == 9


def test_a_requested_second_lead_that_cannot_serve_is_refused_with_the_choices():
    with pytest.raises(InputError, match=r"'aVF' cannot be used.*\(V1, V2, V3, V4, V5, V6\)"):
        choose_second_lead(TWELVE, 1, "aVF")
    with pytest.raises(InputError, match="none in this record"):
        choose_second_lead(("I", "II"), 1, "V1")


def _synthetic_leads(seconds=20.0, fs=360.0, seed=3):
    """Two leads (n, 2) mV with a 1 mV spike every 0.8 s, and the beats' samples at the model rate."""
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    x = rng.normal(0.0, 0.01, size=(n, 2))
    beats = np.arange(int(0.5 * fs), n - int(0.5 * fs), int(0.8 * fs))
    x[beats, 0] += 1.0
    x[beats, 1] -= 0.6
    return x, fs, beats


def test_two_lead_inputs_append_the_second_leads_morphology():
    x, _, beats = _synthetic_leads()
    single = beat_inputs(x[:, 0], beats, DEFAULT_SPEC)
    both = beat_inputs(x[:, 0], beats, TWO_LEAD_SPEC, x[:, 1])
    assert both["waveform"].shape == (beats.size, TWO_LEAD_SPEC.length, 4)
    np.testing.assert_array_equal(both["waveform"][..., :2], single["waveform"])
    np.testing.assert_array_equal(both["waveform"][..., 2:],
                                  morphology_channels(extract_windows(x[:, 1], beats, TWO_LEAD_SPEC)))
    np.testing.assert_array_equal(both["rr"], single["rr"])  # timing comes from the analysed lead only
    with pytest.raises(ValueError, match="needs a second lead"):
        beat_inputs(x[:, 0], beats, TWO_LEAD_SPEC)
    with pytest.raises(ValueError, match="needs no second lead"):
        beat_inputs(x[:, 0], beats, DEFAULT_SPEC, x[:, 1])


def test_spec_round_trips_through_the_card_and_old_cards_mean_one_lead():
    assert BeatSpec.from_card(TWO_LEAD_SPEC.to_card()) == TWO_LEAD_SPEC
    assert BeatSpec.from_card({"before_samples": 72}).leads == 1
    with pytest.raises(ValueError, match="1 or 2"):
        BeatSpec(leads=3)


def test_a_flat_or_missing_second_lead_falls_back_to_one_lead_with_a_note():
    x, _, _ = _synthetic_leads()
    assert second_lead_problem(x[:, 1]) is None
    flat = x.copy()
    flat[:, 1] = 0.003
    assert "looks flat" in second_lead_problem(flat[:, 1])
    gaps = x.copy()
    gaps[: int(0.6 * len(x)), 1] = np.nan
    assert "missing" in second_lead_problem(gaps[:, 1])
    names = ("MLII", "V1")
    assert second_lead_for(x, names, 0) == (1, None)
    assert second_lead_for(x, names, 0, NO_SECOND_LEAD) == (None, None)
    column, note = second_lead_for(flat, names, 0)
    assert column is None
    assert note.startswith("Second lead V1 not used (it looks flat") and "single-lead classifier" in note


def test_each_classifier_refuses_the_other_lead_count(two_lead_classifier, classifier):
    from medmodels.ecg.pipeline import analyse_ecg

    x, fs, _ = _synthetic_leads()
    with pytest.raises(ValueError, match="reads two leads"):
        analyse_ecg(x[:, 0], fs, two_lead_classifier)
    with pytest.raises(ValueError, match="reads one lead"):
        analyse_ecg(x[:, 0], fs, classifier, second_lead_mv=x[:, 1])
    assert analyse_ecg(x[:, 0], fs, second_lead_mv=x[:, 1]).leads == 2  # no model given: chosen by the leads


def test_two_lead_card_names_its_weights_input_and_held_out_figures(two_lead_classifier):
    from medmodels.ecg.model import TWO_LEAD_MODEL_DIR, read_card
    from medmodels.model_cards import sha256_of

    card = read_card(TWO_LEAD_MODEL_DIR)
    assert card["input"]["leads"] == 2 and len(card["input"]["channels"]) == 4
    assert card["training"]["command"] == "python -m medmodels.train ecg --leads 2"
    for member in card["weights"]["members"]:
        assert sha256_of(TWO_LEAD_MODEL_DIR / member["file"]) == member["sha256"]
    assert two_lead_classifier.sha256 == card["weights"]["sha256"] and len(two_lead_classifier.networks) == 6
    assert [m["leads"] for m in card["weights"]["members"]] == [2, 2, 2, 1, 1, 1]
    test = card["metrics"]["test_metrics"]
    assert "with the second lead" in test["split"]
    assert set(test["own_detector"]) >= set(AAMI_CLASSES)


def test_record_119_v_beats_found_with_two_leads(mitdb, record_119, two_lead_classifier):
    from medmodels.ecg.mitdb import second_lead
    from medmodels.ecg.pipeline import analyse_ecg

    raw, fs, samples, labels = record_119
    v1, _, name = second_lead("119")
    assert name == "V1"
    result = analyse_ecg(raw, fs, two_lead_classifier, second_lead_mv=v1, beat_samples=samples)
    predicted = np.array([AAMI_CLASSES.index(c) for c in result.labels])
    is_v = labels == AAMI_CLASSES.index("V")
    assert result.leads == 2 and result.inputs["waveform"].shape[2] == 4
    assert np.mean(predicted[is_v] == AAMI_CLASSES.index("V")) >= 0.95  # 444 reference V beats
    assert np.mean(labels[predicted == AAMI_CLASSES.index("V")] == AAMI_CLASSES.index("V")) >= 0.95


def test_cli_uses_the_second_lead_unless_told_not_to(mitdb, two_lead_classifier, classifier, tmp_path):
    from medmodels.ecg.cli import main

    assert main(["ecg", str(mitdb / "119"), "--json", str(tmp_path / "two")]) == 0
    two = json.loads((tmp_path / "two" / "119.json").read_text())
    assert (two["lead"], two["second_lead"]) == ("MLII", "V1")
    assert two["model"]["name"] == "ecg-beat-classifier-two-lead" and two["model"]["leads"] == 2
    assert main(["ecg", str(mitdb / "119"), "--json", str(tmp_path / "one"), "--second-lead", "none"]) == 0
    one = json.loads((tmp_path / "one" / "119.json").read_text())
    assert one["second_lead"] is None and one["model"] == {"name": "ecg-beat-classifier", "sha256": classifier.sha256,
                                                            "networks": 3, "leads": 1}
    assert [b["sample"] for b in one["beats"]] == [b["sample"] for b in two["beats"]]  # same detector, same lead


def test_the_two_lead_classifiers_single_lead_networks_are_the_single_lead_classifiers(two_lead_classifier,
                                                                                       classifier):
    """Training is seeded and deterministic: the two-lead folder's single-lead networks have exactly the
    single-lead classifier's weights (the files' bytes may differ: HDF5 metadata), and they read the analysed
    lead's channels of the two-lead input."""
    from medmodels.ecg.model import input_channels

    assert [input_channels(n) for n in two_lead_classifier.networks] == [4, 4, 4, 2, 2, 2]
    for ours, theirs in zip(two_lead_classifier.networks[3:], classifier.networks, strict=True):
        assert all(np.array_equal(a, b) for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True))
    x, _, beats = _synthetic_leads(seed=11)
    both = two_lead_classifier.inputs(x[:, 0], beats, x[:, 1])
    alone = classifier.inputs(x[:, 0], beats)
    np.testing.assert_allclose(two_lead_classifier.member_logits(both)[3:], classifier.member_logits(alone),
                               rtol=1e-5, atol=1e-5)


def test_inputs_for_gives_each_network_its_channels_without_copying(two_lead_classifier):
    from medmodels.ecg.model import inputs_for

    x, _, beats = _synthetic_leads(seed=12)
    both = two_lead_classifier.inputs(x[:, 0], beats, x[:, 1])
    first, last = two_lead_classifier.networks[0], two_lead_classifier.networks[-1]
    assert inputs_for(first, both) is both
    cut = inputs_for(last, both)
    assert cut["waveform"].shape[-1] == 2 and np.shares_memory(cut["waveform"], both["waveform"])
    assert cut["rr"] is both["rr"] and both["waveform"].shape[-1] == 4  # the caller's dict is unchanged


def test_the_analysis_keeps_the_second_leads_beat_windows_for_review(two_lead_classifier, classifier):
    from medmodels.ecg.pipeline import analyse_ecg

    x, fs, beats = _synthetic_leads()
    both = analyse_ecg(x[:, 0], fs, two_lead_classifier, second_lead_mv=x[:, 1], beat_samples=beats)
    r_peak = int(round(both.window_before_s * both.model_fs))
    assert both.second_windows_mv.shape == both.windows_mv.shape == (beats.size, TWO_LEAD_SPEC.length)
    # the spike is upright in the analysed lead and inverted in the second, at the same instant of each window
    assert (both.windows_mv[:, r_peak] > 0.1).all() and (both.second_windows_mv[:, r_peak] < -0.05).all()
    assert np.abs(both.second_windows_mv).argmax(axis=1).tolist() == [r_peak] * beats.size
    assert analyse_ecg(x[:, 0], fs, classifier, beat_samples=beats).second_windows_mv is None


def test_sessions_analysing_at_once_on_the_shared_classifier_get_what_each_would_alone(mitdb, two_lead_classifier):
    """Streamlit serves each session in its own thread, all sharing the one cached classifier.

    Four threads that switch often analyse parts of six records (each twice) with
    Grad-CAM; every result must equal the same analysis run alone.  Shared state
    written during a call (a buffer, a cache filled mid-call) would mix them up.
    """
    from concurrency import map_in_threads_switching_often
    from medmodels.ecg.pipeline import analyse_ecg
    from medmodels.ecg.reading import read_record

    parts = []
    for name, minutes in (("119", 3), ("208", 4), ("232", 2), ("105", 5), ("200", 3), ("213", 2)):
        record = read_record(mitdb / name)
        n = int(minutes * 60 * record.fs)
        parts.append((record.signal[:n, 0], record.signal[:n, 1], record.fs))

    def analyse(part):
        result = analyse_ecg(part[0], part[2], two_lead_classifier, second_lead_mv=part[1],
                             saliency_for_non_normal=True)
        return result.beat_samples, result.probabilities, result.saliency

    together = map_in_threads_switching_often(analyse, parts * 2)
    alone = [analyse(part) for part in parts * 2]
    assert sum(len(a[2]) for a in alone) > 200  # non-N beats were explained, not only classified
    for (beats_t, p_t, cam_t), (beats_a, p_a, cam_a) in zip(together, alone):
        np.testing.assert_array_equal(beats_t, beats_a)
        # Tolerances far below any mix-up, in case a thread-count-dependent reduction order ever changes the last bit.
        np.testing.assert_allclose(p_t, p_a, rtol=0, atol=1e-6)
        np.testing.assert_allclose(cam_t, cam_a, rtol=0, atol=1e-5)


def test_networks_side_by_side_give_exactly_what_they_give_one_by_one(mitdb, two_lead_classifier, monkeypatch):
    """The six networks run in the shared pool (medmodels.parallel); logits, agreement and Grad-CAM on a real
    record equal the same networks called one after another, to the bit."""
    from medmodels.ecg import model, saliency
    from medmodels.ecg.pipeline import analyse_ecg
    from medmodels.ecg.reading import read_record

    record = read_record(mitdb / "119")
    signal = record.signal[:20 * 360 * 60]  # 20 minutes: a few hundred non-N beats
    side_by_side = analyse_ecg(signal[:, 0], record.fs, two_lead_classifier, second_lead_mv=signal[:, 1],
                               saliency_for_non_normal=True)
    one_by_one = lambda fn, items: [fn(item) for item in items]  # noqa: E731
    monkeypatch.setattr(model, "map_side_by_side", one_by_one)
    monkeypatch.setattr(saliency, "map_side_by_side", one_by_one)
    serial = analyse_ecg(signal[:, 0], record.fs, two_lead_classifier, second_lead_mv=signal[:, 1],
                         saliency_for_non_normal=True)
    assert side_by_side.saliency.shape[0] > 200
    np.testing.assert_array_equal(side_by_side.probabilities, serial.probabilities)
    np.testing.assert_array_equal(side_by_side.networks_agreeing, serial.networks_agreeing)
    np.testing.assert_array_equal(side_by_side.saliency, serial.saliency)
