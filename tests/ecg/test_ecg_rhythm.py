"""Rhythm summary on small synthetic, seeded inputs with known answers."""

import numpy as np

from medmodels.ecg.rhythm import heart_rate_stats, summarise_rhythm

FS = 250.0


def _beats(rr_s, seed=0):
    rng = np.random.default_rng(seed)
    times = np.concatenate([[1.0], 1.0 + np.cumsum(rr_s)]) + rng.uniform(-0.004, 0.004, len(rr_s) + 1)
    return np.rint(times * FS).astype(int)


def test_couplet_and_run():
    labels = list("NNNNVVNNNNNVVVNNNN")
    s = summarise_rhythm(_beats([0.8] * (len(labels) - 1)), labels, FS)
    assert s["v_couplets"] == 1 and s["v_runs"] == 1
    assert s["v_run_list"][0]["beats"] == 3
    assert s["class_counts"]["V"] == 5 and s["class_counts"]["N"] == 13
    assert abs(s["burden_percent"]["V"] - 100 * 5 / 18) < 0.01
    assert abs(s["heart_rate"]["mean_bpm"] - 75.0) < 1.0


def test_bigeminy():
    labels = list("NNN") + list("NV" * 5) + list("NNNN")
    s = summarise_rhythm(_beats([0.9] * (len(labels) - 1), seed=1), labels, FS)
    assert s["ventricular_bigeminy_episodes"] == 1
    assert s["ventricular_bigeminy"][0]["pairs"] == 5
    assert s["v_couplets"] == 0 and s["v_runs"] == 0
    assert s["supraventricular_bigeminy_episodes"] == 0


def test_pause_of_two_and_a_half_seconds():
    rr = [1.0] * 5 + [2.5] + [1.0] * 5
    s = summarise_rhythm(_beats(rr, seed=2), ["N"] * 12, FS)
    assert len(s["pauses"]) == 1
    assert abs(s["pauses"][0]["duration_s"] - 2.5) < 0.02
    assert abs(s["pauses"][0]["start_s"] - 6.0) < 0.02


def test_no_beats_and_one_beat():
    assert summarise_rhythm(np.zeros(0, int), [], FS)["heart_rate"]["mean_bpm"] is None
    one = summarise_rhythm(np.array([100]), ["N"], FS)
    assert one["n_beats"] == 1 and one["pauses"] == []


def test_hr_trend_leaves_out_a_last_fragment_of_a_few_seconds_but_keeps_a_short_record():
    from medmodels.ecg.rhythm import heart_rate_stats

    # 60 bpm for 2 min, then five beats at 120 bpm in the record's last 5 s
    times = np.concatenate([np.arange(0.0, 121.0), 120.0 + 0.5 * np.arange(1, 6)])
    trend = heart_rate_stats(times, duration_s=125.0)["trend"]
    assert [row["start_s"] for row in trend] == [0.0, 60.0]
    assert [row["mean_bpm"] for row in trend] == [60.0, 60.0]
    short = heart_rate_stats(np.arange(0.0, 10.0, 0.8), duration_s=10.0)["trend"]
    assert len(short) == 1 and short[0]["mean_bpm"] == 75.0
    long_tail = heart_rate_stats(np.arange(0.0, 100.0, 1.0), duration_s=100.0)["trend"]  # 40 s last bin stays
    assert [row["start_s"] for row in long_tail] == [0.0, 60.0]


def test_min_and_max_hr_are_8_beat_means_not_a_premature_beats_coupling_interval():
    # bigeminy throughout: coupling 0.5 s, compensatory 1.3 s (beat-to-beat 120 and 46 bpm)
    hr = summarise_rhythm(_beats([0.5, 1.3] * 20, seed=3), ["N", "V"] * 20 + ["N"], FS)["heart_rate"]
    assert 66.0 < hr["min_bpm"] <= hr["max_bpm"] < 67.5  # every 8 intervals average 0.9 s: 66.7 bpm
    slow = heart_rate_stats(np.cumsum([1.0] + [0.8] * 30 + [1.5] * 8 + [0.8] * 30))  # 40 bpm for 8 beats
    assert slow["min_bpm"] == 40.0 and abs(slow["min_at_s"] - (1.0 + 30 * 0.8)) < 1e-6
    assert slow["max_bpm"] == 75.0


def test_patterns_never_span_a_gap_in_the_beats():
    gap = _beats([0.8, 0.8, 60.0, 0.8, 0.8])  # the two V beats 60 s apart
    assert summarise_rhythm(gap, list("NNVVNN"), FS)["v_couplets"] == 0
    split_run = summarise_rhythm(_beats([0.8, 0.8, 0.8, 30.0, 0.8]), list("NNVVVN"), FS)
    assert split_run["v_runs"] == 0 and split_run["v_couplets"] == 1
    labels = list("NV" * 4) + list("NV" * 4)
    rr = [0.9] * 7 + [37.6] + [0.9] * 7  # four pairs, a 37.6 s gap, four pairs
    episodes = summarise_rhythm(_beats(rr), labels, FS)["ventricular_bigeminy"]
    assert [e["pairs"] for e in episodes] == [4, 4]
    assert episodes[0]["end_s"] < episodes[1]["start_s"] - 30


def test_hr_trend_shows_a_gap_where_beats_are_missing_instead_of_a_slow_minute():
    times = np.concatenate([np.arange(0.0, 59.5), np.arange(130.0, 180.0)])  # 60 bpm, nothing from 59 to 130 s
    trend = heart_rate_stats(times, duration_s=180.0)["trend"]
    assert [row["mean_bpm"] for row in trend] == [60.0, None, 60.0]


def test_repeated_beat_times_count_once_and_never_crash():
    assert summarise_rhythm(np.array([100, 100]), ["N", "V"], FS)["heart_rate"]["min_bpm"] is None
    hr = summarise_rhythm(np.array([100, 100, 300]), ["N", "N", "N"], FS)["heart_rate"]
    assert hr["mean_bpm"] == hr["median_bpm"] == hr["min_bpm"] == hr["max_bpm"] == 75.0


def test_burden_is_undefined_without_beats_and_the_summary_carries_its_definitions():
    import json

    empty = summarise_rhythm(np.zeros(0, int), [], FS)
    assert set(empty["burden_percent"].values()) == {None} and empty["longest_pause"] is None
    s = summarise_rhythm(_beats([1.0] * 5 + [2.5] + [1.0] * 5 + [3.1]), ["N"] * 13, FS)
    assert s["longest_pause"]["duration_s"] == max(p["duration_s"] for p in s["pauses"]) and len(s["pauses"]) == 2
    assert {"min_bpm, max_bpm", "v_run", "bigeminy", "pause", "breaks"} <= set(s["definitions"])
    json.dumps(s, allow_nan=False)


def test_record_232_pauses_from_its_reference_beats(mitdb):
    from medmodels.ecg.mitdb import reference_beats

    _, fs, samples, labels = reference_beats("232")
    s = summarise_rhythm(samples, labels, fs)
    gaps = np.diff(np.asarray(samples) / fs)
    assert len(s["pauses"]) == int((gaps > 2.0).sum()) == 116  # sinus bradycardia with long pauses
    assert abs(s["longest_pause"]["duration_s"] - gaps.max()) < 1e-3 and 5.8 < gaps.max() < 5.9
