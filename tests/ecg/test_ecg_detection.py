"""QRS detection on real MIT-BIH records and at other sampling rates."""

import numpy as np
import pytest

from medmodels.ecg.agreement import match_beats
from medmodels.ecg.conditioning import resample, to_rate
from medmodels.ecg.mitdb import QRS_SYMBOLS
from medmodels.ecg.qrs import detect_qrs
from medmodels.ecg.reading import read_record
from medmodels.errors import InputError


def _reference(record):
    keep = [i for i, s in enumerate(record.ann_symbol) if s in QRS_SYMBOLS]
    return record.ann_sample[keep]


@pytest.mark.parametrize("record_id", ["100", "119"])
def test_detected_beat_count_within_half_percent(mitdb, record_id):
    record = read_record(mitdb / record_id)
    reference = _reference(record)
    detected = detect_qrs(record.signal[:, 0], record.fs)
    assert abs(detected.size - reference.size) <= 0.005 * reference.size
    matched = (match_beats(reference, detected, record.fs) >= 0).mean()
    assert matched >= 0.995


@pytest.mark.parametrize("fs_new", [100.0, 128.0, 500.0, 1000.0])
def test_any_rate_returns_samples_in_input_rate(mitdb, fs_new):
    record = read_record(mitdb / "100")
    five_minutes = int(300 * record.fs)
    x = record.signal[:five_minutes, 0].astype(np.float64)
    reference = _reference(record)
    reference = reference[reference < five_minutes - int(record.fs)]
    detected = detect_qrs(resample(x, record.fs, fs_new), fs_new)
    back = to_rate(detected, fs_new, record.fs)
    matches = match_beats(reference, back, record.fs)
    assert (matches >= 0).mean() >= 0.995
    assert back.size <= reference.size * 1.005 + 2


def test_input_not_modified_and_bad_rate_rejected():
    rng = np.random.default_rng(0)
    x = rng.normal(size=5000)
    copy = x.copy()
    detect_qrs(x, 250.0)
    assert np.array_equal(x, copy)
    with pytest.raises(InputError):
        detect_qrs(x, 50.0)
    with pytest.raises(InputError):
        detect_qrs(x[:100], 250.0)


def test_flat_signal_gives_no_beats():
    assert detect_qrs(np.zeros(3000), 250.0).size == 0


@pytest.mark.parametrize("lead", [
    np.zeros(3600),                                            # disconnected, digitised as zeros
    np.full(3600, 2.0),                                        # lead-off held at a constant offset
    np.random.default_rng(0).normal(0.0, 0.001, 3600),         # 1 µV amplifier noise only
])
def test_flat_or_microvolt_lead_has_no_beats(lead):
    # Relative thresholds alone would find "beats" at any scale; the absolute QRS floor must stop that.
    assert detect_qrs(lead, 360.0).size == 0


def test_small_but_real_qrs_is_still_detected():
    fs = 360.0
    t = np.arange(int(10 * fs)) / fs
    beats_s = np.arange(0.5, 9.6, 0.8)
    lead = sum(0.15 * np.exp(-((t - b) / 0.012) ** 2) for b in beats_s)  # 0.15 mV QRS: low voltage, not flat
    detected = detect_qrs(lead, fs)
    assert abs(detected.size - beats_s.size) <= 1
