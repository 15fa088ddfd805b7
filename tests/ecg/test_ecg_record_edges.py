"""Beats at a record's start and end: filter transients and QRS complexes cut by the recording's edges."""

import numpy as np
import pytest

from medmodels.ecg import AAMI_CLASSES
from medmodels.ecg.conditioning import EDGE_MIRROR_S, condition_for_analysis, remove_baseline_and_mains
from medmodels.ecg.pipeline import QRS_EDGE_MARGIN_S, analyse_ecg, cut_at_record_edge, label_cut_beats_q
from medmodels.ecg_review import cut_beats_note, picked_beat_caption


def _synthetic_ecg(seconds: float, fs: float, seed: int = 7) -> np.ndarray:
    """Seeded ECG-like signal (mV): narrow QRS spikes and T humps every ~0.8 s, baseline wander, 50 Hz hum, noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fs)) / fs
    x = 0.3 * np.sin(2 * np.pi * 0.25 * t) + 0.05 * np.sin(2 * np.pi * 50 * t) + 0.01 * rng.standard_normal(t.size)
    for r in np.arange(0.3, seconds, 0.8) + rng.uniform(-0.03, 0.03, np.arange(0.3, seconds, 0.8).size):
        x += 1.2 * np.exp(-0.5 * ((t - r) / 0.012) ** 2) + 0.25 * np.exp(-0.5 * ((t - r - 0.25) / 0.05) ** 2)
    return x


def test_mirrored_conditioning_is_pure_and_changes_only_the_ends():
    fs = 360.0
    piece = _synthetic_ecg(10.0, fs)
    before = piece.copy()
    mirrored = condition_for_analysis(piece, fs)
    plain = remove_baseline_and_mains(piece, fs)
    assert np.array_equal(piece, before)
    assert mirrored.shape == piece.shape and mirrored.dtype == np.float64
    # away from the ends both are the same filter; at the ends they differ
    middle = slice(int(2 * EDGE_MIRROR_S * fs), piece.size - int(2 * EDGE_MIRROR_S * fs))
    np.testing.assert_allclose(mirrored[middle], plain[middle], atol=1e-3)
    assert np.abs(mirrored[:int(fs)] - plain[:int(fs)]).max() > 0.01


def test_mirrored_conditioning_of_a_short_record_keeps_its_length():
    x = _synthetic_ecg(2.0, 100.0)  # shorter than two mirror lengths
    y = condition_for_analysis(x, 100.0)
    assert y.shape == x.shape and np.all(np.isfinite(y))


def test_beats_within_the_margin_of_either_end_are_cut():
    fs, n = 200.0, 2000
    margin = QRS_EDGE_MARGIN_S * fs  # 20 samples
    beats = np.array([0, 19, 20, 1000, 1979, 1980, 1999])
    assert cut_at_record_edge(beats, n, fs).tolist() == [True, True, False, False, False, True, True]
    assert margin == 20


def test_cut_beats_become_q_by_rule_for_every_network():
    p = np.array([[0.1, 0.1, 0.7, 0.05, 0.05], [0.9, 0.05, 0.03, 0.01, 0.01]])
    agreeing = np.array([4, 6])
    new_p, new_agreeing = label_cut_beats_q(p, agreeing, np.array([True, False]), 6)
    assert new_p[0].tolist() == [0.0, 0.0, 0.0, 0.0, 1.0] and AAMI_CLASSES[int(new_p[0].argmax())] == "Q"
    assert new_p[1].tolist() == p[1].tolist() and new_agreeing.tolist() == [6, 6]
    assert p[0, 2] == 0.7 and agreeing[0] == 4  # inputs untouched


def test_notes_name_the_cut_beats_and_why_they_have_no_saliency():
    assert cut_beats_note(np.array([5, 500, 995]), np.array([False, False, False]), 100.0) is None
    note = cut_beats_note(np.array([5, 500, 995]), np.array([True, False, True]), 100.0)
    assert note.startswith("Beat 1 (0.05 s) and beat 3 (9.95 s) lie within 0.1 s of the record's start or end")
    assert "labelled Q (unclassifiable) by rule" in note
    assert picked_beat_caption(True, 6, "V1").startswith("No saliency")
    shaded = picked_beat_caption(False, 6, "V1")
    assert "over all 6 networks" in shaded and "lead V1" in shaded
    assert "lead" not in picked_beat_caption(False, 3, None).split("networks of the ensemble")[1]


@pytest.fixture(scope="module")
def record_100(mitdb):
    """MIT-BIH 100 (DS2): MLII and V5 (mV), fs, reference beats and AAMI labels."""
    from medmodels.ecg.mitdb import reference_beats, second_lead

    raw, fs, samples, labels = reference_beats("100")
    return raw, second_lead("100")[0], fs, samples, labels


def test_ten_second_pieces_are_conditioned_as_inside_the_whole_record(record_100):
    # The edge transient, measured against the same samples conditioned with the whole record around them
    # (mean |error| over each piece's first and last second, mV, 179 pieces): plain filtering 0.034, mirrored 0.008.
    raw, _, fs, _, _ = record_100
    whole = remove_baseline_and_mains(raw, fs)
    n, second = int(10 * fs), int(fs)
    plain_error, mirrored_error = [], []
    for start in range(int(5 * fs), raw.size - n, n):
        reference = whole[start:start + n]
        for conditioned, errors in ((remove_baseline_and_mains(raw[start:start + n], fs), plain_error),
                                    (condition_for_analysis(raw[start:start + n], fs), mirrored_error)):
            error = np.abs(conditioned - reference)
            errors.append(np.r_[error[:second], error[-second:]].mean())
    assert np.mean(plain_error) > 0.02
    assert np.mean(mirrored_error) < 0.4 * np.mean(plain_error)


def test_record_100_ends_without_a_false_v_couplet(record_100, two_lead_classifier):
    # Its last beat's R peak lies 9 samples (25 ms) before the record's end; edge-padded, it and the beat before
    # it were called V and made a "V couplet" at 30:04.8. The reference has one V beat in the whole record.
    raw, second, fs, _, labels = record_100
    result = analyse_ecg(raw, fs, two_lead_classifier, second_lead_mv=second, saliency_for_non_normal=True)
    assert result.cut_at_record_edge.tolist() == [False] * (len(result.labels) - 1) + [True]
    assert result.labels[-1] == "Q" and result.labels[-2] == "N"
    assert result.labels.count("V") == int((labels == AAMI_CLASSES.index("V")).sum()) == 1
    assert result.summary["v_couplets"] == 0 and result.summary["beats_cut_at_record_edge"] == 1
    assert len(result.labels) - 1 not in result.saliency_beats.tolist()  # no Grad-CAM of a rule's Q


@pytest.mark.parametrize("record_id", ["100", "117"])
def test_ten_second_pieces_do_not_call_their_edge_beats_ectopic(mitdb, two_lead_classifier, record_id):
    # 10-s uploads (the 12-lead norm): before the mirrored edges and the cut rule, 10 of 356 (100) and 13 of 360
    # (117) normal first and last beats of the 180 pieces were called S, V or F, against 2 and 0 of the
    # 1,875 and 1,169 beats inside them.
    from medmodels.ecg.mitdb import reference_beats, second_lead

    raw, fs, samples, labels = reference_beats(record_id)
    second = second_lead(record_id)[0]
    n = int(10 * fs)
    edge_normal = edge_ectopic = 0
    for start in range(0, raw.size - n + 1, n):
        inside = np.flatnonzero((samples >= start) & (samples < start + n))
        result = analyse_ecg(raw[start:start + n], fs, two_lead_classifier, second_lead_mv=second[start:start + n],
                             beat_samples=samples[inside] - start)
        assert all(result.labels[i] == "Q" for i in np.flatnonzero(result.cut_at_record_edge))
        for i in (0, inside.size - 1):
            if labels[inside[i]] == AAMI_CLASSES.index("N"):
                edge_normal += 1
                edge_ectopic += result.labels[i] in ("S", "V", "F")
    assert edge_normal > 300
    assert edge_ectopic <= 0.005 * edge_normal
