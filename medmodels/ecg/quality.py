"""Stretches of a lead without regular beats: noise, artefact, or a ventricular tachyarrhythmia.

A window is flagged when two published signal-quality indices both fail:
- kurtosis SQI (Li, Mark & Clifford 2008): a normal ECG is mostly baseline with
  brief, tall QRS spikes, so its amplitude distribution is peaked, kurtosis
  above 5 (Clifford et al. 2012); Gaussian noise has 3, a sine wave 1.5;
- template SQI (Orphanidou et al. 2015): the detected beats of the window
  correlate with their median shape above 0.66.
Each alone fails on real arrhythmia records: kurtosis flags paced and wide-QRS
morphologies (a clean 1 kHz PTB recording scores 3.3), the template flags
frequent, varied ectopy.  Both together flag what has neither spikes nor
repeating beats.  On MIT-BIH that is ventricular flutter and tachycardia as
well as noise, so the page says "look at the strip", never "noise, ignore".
The thresholds are the published ones, not fitted here; ``evaluate ecg``
measures what the flag finds and writes it into the model card.
"""

from __future__ import annotations

import numpy as np

#: Window length (s) of the check.
QUALITY_WINDOW_S = 10.0
#: A window whose Pearson kurtosis is at most this has no clear QRS spikes.
MAX_FLAGGED_KURTOSIS = 5.0
#: A window whose beats correlate with their median shape below this has no repeating beat.
MIN_TEMPLATE_CORRELATION = 0.66
#: Half-width (s) of the QRS-centred segment compared with the template.
TEMPLATE_HALF_WIDTH_S = 0.1
#: Fewer detected beats than this in a window: no template can be formed, the window fails that index.
MIN_BEATS_FOR_TEMPLATE = 3


def window_bounds(n_samples: int, fs: float) -> np.ndarray:
    """Start/stop sample of each window, shape (k, 2), covering ``[0, n_samples)``.

    Consecutive windows of ``QUALITY_WINDOW_S``; a last part-window shorter than
    half a window joins the one before, so no verdict rests on a few seconds.
    """
    length = max(int(round(QUALITY_WINDOW_S * fs)), 1)
    starts = np.arange(0, max(n_samples, 1), length)
    if starts.size > 1 and n_samples - starts[-1] < length / 2:
        starts = starts[:-1]
    stops = np.append(starts[1:], n_samples)
    return np.stack([starts, stops], axis=1)


def window_kurtosis(conditioned_mv: np.ndarray, fs: float) -> np.ndarray:
    """Pearson kurtosis (normal = 3) of each window, shape (k,).

    ``conditioned_mv``: (n,) a baseline-free lead in mV (e.g. from
    ``remove_baseline_and_mains``); not modified.  A flat window gets 0 instead of NaN.
    """
    x = np.asarray(conditioned_mv, dtype=np.float64)
    values = []
    for start, stop in window_bounds(x.size, fs):
        deviation = x[start:stop] - x[start:stop].mean()
        variance = float(np.mean(deviation * deviation))
        flat = deviation.size < 4 or variance <= 1e-24 * max(1.0, float(np.abs(x[start:stop]).max())) ** 2
        # Pearson kurtosis m4 / m2², as scipy.stats.kurtosis(fisher=False), without its per-call overhead
        # (squaring twice: ``** 4`` goes through the general power function, several times slower).
        squared = deviation * deviation
        values.append(0.0 if flat else float(np.mean(squared * squared)) / variance ** 2)
    return np.asarray(values, dtype=np.float64)


def window_template_correlation(conditioned_mv: np.ndarray, beat_samples: np.ndarray, fs: float,
                                windows: np.ndarray | None = None) -> np.ndarray:
    """Median correlation of each window's beats with their median shape, shape (k,); 0 with too few beats.

    ``beat_samples``: detected R peaks (samples at ``fs``).  Each beat is the
    ±``TEMPLATE_HALF_WIDTH_S`` segment around its peak, mean removed.
    ``windows``: bool (k,), compute only these windows (the others are NaN);
    default all.
    """
    x = np.asarray(conditioned_mv, dtype=np.float64)
    half = int(round(TEMPLATE_HALF_WIDTH_S * fs))
    beats = np.asarray(beat_samples, dtype=np.int64)
    beats = beats[(beats >= half) & (beats < x.size - half)]
    offsets = np.arange(-half, half + 1)
    bounds = window_bounds(x.size, fs)
    wanted = np.ones(len(bounds), dtype=bool) if windows is None else np.asarray(windows, dtype=bool)
    values = []
    for (start, stop), needed in zip(bounds, wanted):
        if not needed:
            values.append(np.nan)
            continue
        inside = beats[(beats >= start) & (beats < stop)]
        if inside.size < MIN_BEATS_FOR_TEMPLATE:
            values.append(0.0)
            continue
        segments = x[inside[:, None] + offsets[None, :]]
        segments = segments - segments.mean(axis=1, keepdims=True)
        template = np.median(segments, axis=0)
        template = template - template.mean()
        norms = np.linalg.norm(segments, axis=1) * np.linalg.norm(template)
        correlations = np.divide(segments @ template, norms, out=np.zeros(len(segments)), where=norms > 0)
        values.append(float(np.median(correlations)))
    return np.asarray(values, dtype=np.float64)


def no_regular_beats_windows(conditioned_mv: np.ndarray, beat_samples: np.ndarray, fs: float) -> np.ndarray:
    """Whether each window (see :func:`window_bounds`) has neither QRS spikes nor repeating beats, bool (k,)."""
    flags = window_kurtosis(conditioned_mv, fs) <= MAX_FLAGGED_KURTOSIS
    # Beat templates only where the kurtosis fails (most windows pass it): the flag needs both to fail.
    if flags.any():
        correlation = window_template_correlation(conditioned_mv, beat_samples, fs, windows=flags)
        flags[flags] = correlation[flags] < MIN_TEMPLATE_CORRELATION
    return flags


def in_flagged_window(samples: np.ndarray, flags: np.ndarray, n_samples: int, fs: float) -> np.ndarray:
    """For each sample index (e.g. a beat), whether it lies in a flagged window; bool, same shape."""
    bounds = window_bounds(n_samples, fs)
    index = np.searchsorted(bounds[:, 0], np.asarray(samples, dtype=np.int64), side="right") - 1
    return np.asarray(flags, dtype=bool)[np.clip(index, 0, len(bounds) - 1)]


def flagged_spans(flags: np.ndarray, n_samples: int, fs: float) -> list[dict]:
    """Flagged stretches as ``[{"start_s", "end_s"}]``, adjacent windows merged, in seconds."""
    spans: list[dict] = []
    for (start, stop), flagged in zip(window_bounds(n_samples, fs), np.asarray(flags, dtype=bool)):
        if not flagged:
            continue
        if spans and spans[-1]["end_s"] == round(start / fs, 2):
            spans[-1]["end_s"] = round(stop / fs, 2)
        else:
            spans.append({"start_s": round(start / fs, 2), "end_s": round(stop / fs, 2)})
    return spans


def no_regular_beats_summary(flags: np.ndarray, n_samples: int, fs: float) -> dict:
    """Summary fields: share of the record flagged (%) and the flagged stretches (s)."""
    lengths = np.diff(window_bounds(n_samples, fs), axis=1)[:, 0]
    flagged = float(lengths[np.asarray(flags, dtype=bool)].sum())
    return {"no_regular_beats_percent": round(100.0 * flagged / max(n_samples, 1), 1),
            "no_regular_beats_spans": flagged_spans(flags, n_samples, fs)}
