"""The no-regular-beats check: windows, the two indices, spans, and what it flags on MIT-BIH."""

import numpy as np
import pytest

from medmodels.ecg.qrs import detect_qrs
from medmodels.ecg.quality import (
    flagged_spans, in_flagged_window, no_regular_beats_summary, no_regular_beats_windows,
    window_bounds, window_kurtosis, window_template_correlation,
)

FS = 360.0


def _sinus(seconds: float, bpm: float = 72.0) -> tuple[np.ndarray, np.ndarray]:
    """Narrow Gaussian 'QRS' spikes (1 mV) on a flat baseline, and their sample positions."""
    t = np.arange(int(seconds * FS)) / FS
    peaks_s = np.arange(0.4, seconds - 0.2, 60.0 / bpm)
    return sum(np.exp(-((t - p) / 0.012) ** 2) for p in peaks_s), np.round(peaks_s * FS).astype(np.int64)


def test_windows_cover_the_record_and_a_short_tail_joins_the_last():
    bounds = window_bounds(int(34 * FS), FS)
    assert bounds[0, 0] == 0 and bounds[-1, 1] == int(34 * FS)
    assert np.array_equal(bounds[1:, 0], bounds[:-1, 1])
    assert len(bounds) == 3 and bounds[-1, 1] - bounds[-1, 0] == int(14 * FS)  # 4 s tail joined
    assert len(window_bounds(int(36 * FS), FS)) == 4  # a 6 s tail is its own window
    assert len(window_bounds(int(3 * FS), FS)) == 1  # a short record is one window


def test_regular_beats_pass_and_noise_is_flagged():
    sinus, peaks = _sinus(30)
    assert window_kurtosis(sinus, FS).min() > 5
    assert window_template_correlation(sinus, peaks, FS).min() > 0.95
    assert not no_regular_beats_windows(sinus, peaks, FS).any()

    noise = np.random.default_rng(1).normal(0.0, 1.0, int(30 * FS))
    assert no_regular_beats_windows(noise, detect_qrs(noise, FS), FS).all()


def test_the_flag_is_both_indices_failing_though_templates_are_formed_only_where_kurtosis_fails():
    # Windows: a regular sine (no spikes, repeating "beats"), spiky sinus, noise, noise with sinus spikes.
    sinus, _ = _sinus(10)
    t = np.arange(int(10 * FS)) / FS
    noise = np.random.default_rng(2).normal(0.0, 1.0, (2, t.size))
    x = np.concatenate([np.sin(2 * np.pi * 4.0 * t), sinus, noise[0], noise[1] * 0.05 + sinus])
    beats = detect_qrs(x, FS)
    kurtosis, correlation = window_kurtosis(x, FS), window_template_correlation(x, beats, FS)
    expected = (kurtosis <= 5.0) & (correlation < 0.66)
    assert expected.tolist() == [False, False, True, False]
    assert kurtosis[0] <= 5.0 and correlation[0] >= 0.66  # the sine fails the kurtosis index only
    assert np.array_equal(no_regular_beats_windows(x, beats, FS), expected)
    some = np.array([True, False, True, False])
    partial = window_template_correlation(x, beats, FS, windows=some)
    assert np.array_equal(partial[some], correlation[some]) and np.isnan(partial[~some]).all()


def test_a_perfectly_regular_sine_is_not_flagged_a_known_limit():
    # Ventricular flutter looks like a sine. A perfectly regular one has no spikes (kurtosis 1.5) but its
    # "beats" repeat exactly, so the template index passes it: the page says no warning does not rule
    # flutter out, and on MIT-BIH the check flagged 8 of 28 VT/flutter windows.
    t = np.arange(int(30 * FS)) / FS
    sine = np.sin(2 * np.pi * 4.0 * t)
    assert window_kurtosis(sine, FS).max() < 2
    assert not no_regular_beats_windows(sine, detect_qrs(sine, FS), FS).any()


def test_kurtosis_is_pearsons_per_window():
    from scipy import stats

    x = np.random.default_rng(3).standard_t(5, int(30 * FS))
    expected = [stats.kurtosis(x[a:b], fisher=False) for a, b in window_bounds(x.size, FS)]
    assert window_kurtosis(x, FS) == pytest.approx(expected)


def test_flat_window_and_too_few_beats_give_numbers_not_nan():
    flat = np.zeros(int(20 * FS))
    assert np.array_equal(window_kurtosis(flat, FS), [0.0, 0.0])
    assert np.array_equal(window_template_correlation(flat, np.array([100, 900]), FS), [0.0, 0.0])


def test_spans_merge_adjacent_windows_and_beats_map_to_their_window():
    n = int(50 * FS)
    flags = np.array([True, True, False, True, False])
    assert flagged_spans(flags, n, FS) == [{"start_s": 0.0, "end_s": 20.0}, {"start_s": 30.0, "end_s": 40.0}]
    beats = np.round(np.array([1.0, 15.0, 25.0, 35.0, 49.0]) * FS).astype(np.int64)
    assert in_flagged_window(beats, flags, n, FS).tolist() == [True, True, False, True, False]
    summary = no_regular_beats_summary(flags, n, FS)
    assert summary["no_regular_beats_percent"] == 60.0 and len(summary["no_regular_beats_spans"]) == 2


def test_on_mitdb_it_flags_ventricular_flutter_of_207_and_nothing_in_100(mitdb):
    from medmodels.ecg.evaluate import evaluate_detector

    check = evaluate_detector(["207", "100"])["no_regular_beats_check"]
    assert check["ventricular_tachyarrhythmia_windows_flagged"] >= 5  # 207's flutter episodes
    assert check["flagged"]["windows"] <= 12  # 8 of 11 windows on all 48 records were VT/VFL
    assert check["flagged"]["Se"] < check["rest"]["Se"]  # where it flags, detection is measurably worse


def test_card_holds_the_measured_check(mitdb):
    from medmodels.ecg.model import read_card

    check = read_card()["metrics"]["test_metrics"]["qrs_detection_all_48_records_lead0"]["no_regular_beats_check"]
    assert check["flagged"]["windows"] + check["rest"]["windows"] > 8000  # 48 half-hour records in 10 s windows
    assert check["ventricular_tachyarrhythmia_windows_flagged"] <= check["ventricular_tachyarrhythmia_windows"]


@pytest.mark.parametrize("bpm", [40.0, 150.0])
def test_regular_rhythm_at_any_rate_passes(bpm):
    sinus, peaks = _sinus(30, bpm)
    assert not no_regular_beats_windows(sinus, peaks, FS).any()


def test_annotated_flutter_and_noise_are_read_from_the_reference(mitdb):
    from medmodels.ecg.mitdb import annotated_noise, annotated_rhythm

    n = 650000
    flutter = annotated_rhythm("207", n, ("(VFL",))
    assert flutter[int(45 * 360)] and not flutter[int(30 * 360)]  # 207: flutter from 40.8 s to 51.1 s, bigeminy before
    assert 0.05 < flutter.mean() < 0.15
    assert not annotated_rhythm("100", n, ("(VT", "(VFL")).any()
    noise = annotated_noise("105", n)
    assert 0.1 < noise.mean() < 0.2  # 105: the noisiest record, about 14 % of lead 0
