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
#: Min/max heart rate are means over this many consecutive RR intervals, as Holter reports
#: average them: beat-to-beat extremes would report a premature beat's coupling interval.
HR_EXTREMES_INTERVALS = 8
#: V runs at or above this rate lie in the ventricular-tachycardia range, slower ones in the
#: idioventricular range (accelerated idioventricular rhythm is below it).
VT_RATE_BPM = 100.0

#: What each figure of the summary means; it travels with the summary (page, CLI JSON).
DEFINITIONS = {
    "times": "seconds from the start of the record",
    "mean_bpm": "beats per minute over the span from the first to the last detected beat",
    "median_bpm": "median of the beat-to-beat rates",
    "min_bpm, max_bpm": f"lowest and highest mean rate over {HR_EXTREMES_INTERVALS} consecutive RR intervals "
                        "(beats of every class, pauses included); min_at_s, max_at_s: where that stretch starts",
    "trend": f"per {TREND_BIN_S:.0f} s from the start: 60 / mean of the RR intervals with both beats in the bin; "
             "null where fewer than 2 (a gap in the beats)",
    "burden_percent": "share of all detected beats, Q included; null without beats",
    "v_couplet": "exactly 2 consecutive V beats",
    "v_run": f"3 or more consecutive V beats; rate_bpm = 60 x (beats - 1) / duration_s; at or above "
             f"{VT_RATE_BPM:.0f} bpm the ventricular-tachycardia range, below it the idioventricular range",
    "bigeminy": f"{BIGEMINY_MIN_PAIRS} or more consecutive pairs of a normal beat followed by an ectopic one (V, or S "
                "for supraventricular); the episode ends at the first beat that breaks the alternation",
    "pause": f"an RR interval over {PAUSE_THRESHOLD_S:.1f} s between consecutive detected beats of any class; "
             "start_s: the beat before it",
    "breaks": f"couplets, runs and bigeminy never span an RR interval over {PAUSE_THRESHOLD_S:.1f} s "
              "(a pause, or beats the detector missed)",
}


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of each run of True in a 1-D boolean array."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(m.astype(np.int8)))
    return [(int(a), int(b - a)) for a, b in zip(edges[::2], edges[1::2])]


def _linked(t: np.ndarray) -> np.ndarray:
    """(n-1,) bool: beat i and beat i+1 are close enough (no pause between them) to belong to one pattern."""
    return np.diff(t) <= PAUSE_THRESHOLD_S


def _unbroken_runs(mask: np.ndarray, t: np.ndarray) -> list[tuple[int, int]]:
    """Like :func:`_runs`, each run cut where two consecutive beats are more than a pause apart."""
    linked = _linked(t)
    pieces = []
    for start, length in _runs(mask):
        cuts = [start] + [i + 1 for i in range(start, start + length - 1) if not linked[i]] + [start + length]
        pieces += [(a, b - a) for a, b in zip(cuts[:-1], cuts[1:])]
    return pieces


def heart_rate_stats(beat_times_s: np.ndarray, duration_s: float | None = None) -> dict:
    """Mean/median/min/max heart rate (bpm) and a per-minute trend (see :data:`DEFINITIONS`).

    ``beat_times_s``: (n,) seconds; a repeated time is counted once (it is one beat).
    Returns ``None`` figures when fewer than two distinct beat times.
    """
    t = np.unique(np.asarray(beat_times_s, dtype=np.float64))
    if t.size < 2:
        return {"mean_bpm": None, "median_bpm": None, "min_bpm": None, "min_at_s": None,
                "max_bpm": None, "max_at_s": None, "trend": []}
    rr = np.diff(t)
    k = min(HR_EXTREMES_INTERVALS, rr.size)
    averaged = 60.0 * k / np.convolve(rr, np.ones(k), mode="valid")  # [i]: the k intervals from beat i
    lowest, highest = int(np.argmin(averaged)), int(np.argmax(averaged))
    return {
        # Mean rate as beats per time (not the mean of instantaneous rates, which is biased upward).
        "mean_bpm": round(float(60.0 * rr.size / (t[-1] - t[0])), 1),
        "median_bpm": round(float(np.median(60.0 / rr)), 1),
        "min_bpm": round(float(averaged[lowest]), 1),
        "min_at_s": round(float(t[lowest]), 3),
        "max_bpm": round(float(averaged[highest]), 1),
        "max_at_s": round(float(t[highest]), 3),
        "trend": _trend(t, duration_s),
    }


def _trend(t: np.ndarray, duration_s: float | None) -> list[dict]:
    """Mean rate per TREND_BIN_S from the record start; ``None`` for a bin with under two RR intervals.

    Only intervals with both beats inside a bin count, so a gap in the beats shows as a gap on the
    plot instead of a slow rate charged to the minute where the beats resume. A final part-bin
    shorter than half a bin (e.g. the last 5.6 s of a 30 min 05.6 s record) is left out unless it
    is the only one: from a handful of beats it would stand on the plot as a full minute.
    """
    rr = np.diff(t)
    end = duration_s if duration_s is not None else t[-1]
    trend = []
    for start in np.arange(0.0, max(end, 1e-9), TREND_BIN_S):
        if trend and end - start < TREND_BIN_S / 2:
            break
        inside = (t[:-1] >= start) & (t[1:] < start + TREND_BIN_S)
        mean_bpm = round(float(60.0 / np.mean(rr[inside])), 1) if inside.sum() >= 2 else None
        trend.append({"start_s": float(start), "mean_bpm": mean_bpm})
    return trend


def ventricular_runs(labels: list[str], beat_times_s: np.ndarray) -> dict:
    """Couplets (exactly two consecutive V) and runs (≥ 3 consecutive V), never across a pause."""
    t = np.asarray(beat_times_s, dtype=np.float64)
    runs = _unbroken_runs(np.array([lab == "V" for lab in labels], dtype=bool), t)
    couplets = [{"start_s": round(float(t[s]), 3)} for s, n in runs if n == 2]
    longer = [_v_run(t, s, n) for s, n in runs if n >= 3]
    return {"v_couplets": len(couplets), "v_couplet_list": couplets,
            "v_runs": len(longer), "v_run_list": longer}


def _v_run(t: np.ndarray, start: int, beats: int) -> dict:
    duration = float(t[start + beats - 1] - t[start])
    return {"start_s": round(float(t[start]), 3), "end_s": round(float(t[start + beats - 1]), 3),
            "duration_s": round(duration, 3), "beats": beats,
            "rate_bpm": round(60.0 * (beats - 1) / duration, 1) if duration > 0 else None}


def bigeminy_episodes(labels: list[str], beat_times_s: np.ndarray, ectopic: str = "V") -> list[dict]:
    """Episodes of ≥ BIGEMINY_MIN_PAIRS consecutive (N, ectopic) pairs, never across a pause:
    start and end time and pair count."""
    t = np.asarray(beat_times_s, dtype=np.float64)
    lab = list(labels)
    n = len(lab)
    linked = _linked(t)
    # pair_at[i]: beats i, i+1 form a normal–ectopic pair.
    pair_at = np.array([lab[i] == "N" and lab[i + 1] == ectopic and linked[i] for i in range(n - 1)], dtype=bool)
    episodes = []
    i = 0
    while i < n - 1:
        if not pair_at[i]:
            i += 1
            continue
        pairs, j = 1, i + 2
        while j < n - 1 and pair_at[j] and linked[j - 1]:
            pairs += 1
            j += 2
        if pairs >= BIGEMINY_MIN_PAIRS:
            episodes.append({"start_s": round(float(t[i]), 3), "pairs": pairs,
                             "end_s": round(float(t[j - 1]), 3)})
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
    pauses > 2 s and the longest, and the definitions of all of them.
    """
    t = np.asarray(beat_samples, dtype=np.float64) / float(fs)
    labels = [str(x) for x in labels]
    if len(labels) != t.size:
        raise ValueError("One label per beat is required.")
    counts = {c: int(sum(1 for x in labels if x == c)) for c in AAMI_CLASSES}
    v_bigeminy = bigeminy_episodes(labels, t, "V")
    s_bigeminy = bigeminy_episodes(labels, t, "S")
    found_pauses = pauses(t)
    return {
        "definitions": DEFINITIONS,
        "n_beats": len(labels),
        "duration_s": None if duration_s is None else round(float(duration_s), 3),
        "heart_rate": heart_rate_stats(t, duration_s),
        "class_counts": counts,
        "burden_percent": {c: round(100.0 * n / len(labels), 2) if labels else None for c, n in counts.items()},
        **ventricular_runs(labels, t),
        "ventricular_bigeminy_episodes": len(v_bigeminy),
        "ventricular_bigeminy": v_bigeminy,
        "supraventricular_bigeminy_episodes": len(s_bigeminy),
        "supraventricular_bigeminy": s_bigeminy,
        "pauses": found_pauses,
        "longest_pause": max(found_pauses, key=lambda p: p["duration_s"]) if found_pauses else None,
    }
