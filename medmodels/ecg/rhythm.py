"""Rhythm summary from classified beats: heart rate, class burden, ectopy patterns, pauses.

Pure functions of beat times and labels; the output is a JSON-ready dict.
"""

from __future__ import annotations

import numpy as np

from medmodels.ecg import AAMI_CLASSES

PAUSE_THRESHOLD_S = 2.0
#: A bigeminy episode needs at least this many consecutive normal–ectopic pairs.
BIGEMINY_MIN_PAIRS = 3
TREND_BIN_S = 60.0


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of each run of True in a 1-D boolean array."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(m.astype(np.int8)))
    return [(int(a), int(b - a)) for a, b in zip(edges[::2], edges[1::2])]


def heart_rate_stats(beat_times_s: np.ndarray, duration_s: float | None = None) -> dict:
    """Mean/median/min/max heart rate (bpm) from RR intervals and a per-minute trend.

    The trend leaves out a final part-bin shorter than half a bin (e.g. the last 5.6 s of a
    30 min 05.6 s record) unless it is the only one.

    ``beat_times_s``: (n,) seconds, ascending.  Min/max use the 5th/95th
    percentile of instantaneous rate so single missed or extra beats do not
    dominate.  Returns ``None`` figures when fewer than two beats.
    """
    t = np.asarray(beat_times_s, dtype=np.float64)
    if t.size < 2:
        return {"mean_bpm": None, "median_bpm": None, "min_bpm": None, "max_bpm": None, "trend": []}
    rr = np.diff(t)
    rr = rr[rr > 0]
    rate = 60.0 / rr
    span = t[-1] - t[0]
    trend = []
    end = duration_s if duration_s is not None else t[-1]
    for start in np.arange(0.0, max(end, 1e-9), TREND_BIN_S):
        if trend and end - start < TREND_BIN_S / 2:
            break  # a last fragment of a few seconds would stand as a full bin on the plot, from a handful of beats
        in_bin = (t[1:] >= start) & (t[1:] < start + TREND_BIN_S)
        if in_bin.sum() >= 2:
            trend.append({"start_s": float(start), "mean_bpm": round(float(60.0 / np.mean(np.diff(t)[in_bin])), 1)})
    return {
        # Mean rate as beats per time (not the mean of instantaneous rates, which is biased upward).
        "mean_bpm": round(float(60.0 * (t.size - 1) / span), 1) if span > 0 else None,
        "median_bpm": round(float(np.median(rate)), 1),
        "min_bpm": round(float(np.percentile(rate, 5)), 1),
        "max_bpm": round(float(np.percentile(rate, 95)), 1),
        "trend": trend,
    }


def ventricular_runs(labels: list[str], beat_times_s: np.ndarray) -> dict:
    """Couplets (exactly two consecutive V) and runs (≥ 3 consecutive V) with their start times."""
    t = np.asarray(beat_times_s, dtype=np.float64)
    runs = _runs(np.array([lab == "V" for lab in labels], dtype=bool))
    couplets = [{"start_s": round(float(t[s]), 3)} for s, n in runs if n == 2]
    longer = [{"start_s": round(float(t[s]), 3), "beats": n,
               "rate_bpm": round(float(60.0 * (n - 1) / (t[s + n - 1] - t[s])), 1) if t[s + n - 1] > t[s] else None}
              for s, n in runs if n >= 3]
    return {"v_couplets": len(couplets), "v_couplet_list": couplets,
            "v_runs": len(longer), "v_run_list": longer}


def bigeminy_episodes(labels: list[str], beat_times_s: np.ndarray, ectopic: str = "V") -> list[dict]:
    """Episodes of ≥ BIGEMINY_MIN_PAIRS consecutive (N, ectopic) pairs: start time and pair count."""
    t = np.asarray(beat_times_s, dtype=np.float64)
    lab = list(labels)
    n = len(lab)
    # pair_at[i]: beats i, i+1 form a normal–ectopic pair.
    pair_at = np.array([lab[i] == "N" and lab[i + 1] == ectopic for i in range(n - 1)], dtype=bool)
    episodes = []
    i = 0
    while i < n - 1:
        if not pair_at[i]:
            i += 1
            continue
        pairs, j = 0, i
        while j < n - 1 and pair_at[j]:
            pairs += 1
            j += 2
        if pairs >= BIGEMINY_MIN_PAIRS:
            episodes.append({"start_s": round(float(t[i]), 3), "pairs": pairs,
                             "end_s": round(float(t[min(j - 1, n - 1)]), 3)})
            i = j
        else:
            i += 1
    return episodes


def pauses(beat_times_s: np.ndarray, threshold_s: float = PAUSE_THRESHOLD_S) -> list[dict]:
    """RR intervals longer than ``threshold_s``: start time and duration (s)."""
    t = np.asarray(beat_times_s, dtype=np.float64)
    if t.size < 2:
        return []
    rr = np.diff(t)
    return [{"start_s": round(float(t[i]), 3), "duration_s": round(float(rr[i]), 3)}
            for i in np.flatnonzero(rr > threshold_s)]


def summarise_rhythm(beat_samples: np.ndarray, labels: list[str], fs: float,
                     duration_s: float | None = None) -> dict:
    """Summary of a classified record.

    ``beat_samples`` (n,) int at ``fs`` Hz; ``labels`` n strings from N,S,V,F,Q.
    Returns heart-rate statistics and trend, class counts and burden (% of
    beats), V couplets and runs, ventricular and supraventricular bigeminy,
    and pauses > 2 s.
    """
    t = np.asarray(beat_samples, dtype=np.float64) / float(fs)
    labels = [str(x) for x in labels]
    if len(labels) != t.size:
        raise ValueError("One label per beat is required.")
    counts = {c: int(sum(1 for x in labels if x == c)) for c in AAMI_CLASSES}
    total = max(len(labels), 1)
    v_bigeminy = bigeminy_episodes(labels, t, "V")
    s_bigeminy = bigeminy_episodes(labels, t, "S")
    return {
        "n_beats": len(labels),
        "duration_s": None if duration_s is None else round(float(duration_s), 3),
        "heart_rate": heart_rate_stats(t, duration_s),
        "class_counts": counts,
        "burden_percent": {c: round(100.0 * n / total, 2) for c, n in counts.items()},
        **ventricular_runs(labels, t),
        "ventricular_bigeminy_episodes": len(v_bigeminy),
        "ventricular_bigeminy": v_bigeminy,
        "supraventricular_bigeminy_episodes": len(s_bigeminy),
        "supraventricular_bigeminy": s_bigeminy,
        "pauses": pauses(t),
    }
