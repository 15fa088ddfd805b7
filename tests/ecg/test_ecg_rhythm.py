"""Rhythm summary on small synthetic, seeded inputs with known answers."""

import numpy as np

from medmodels.ecg.rhythm import summarise_rhythm

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
