"""QRS detection: a Pan–Tompkins-style detector with vectorised front end.

The band-pass, derivative, squaring and moving-window integration run as
whole-array NumPy/SciPy operations; only the adaptive-threshold decision runs
as a Python loop, and it visits candidate peaks (a few thousand per half hour),
not samples.  Every duration is in seconds, so any rate 100 Hz–1 kHz works.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

from medmodels.ecg.conditioning import check_signal


@dataclass(frozen=True)
class DetectorSettings:
    """Tunable constants of :func:`detect_qrs` (seconds, hertz, fractions)."""

    band_hz: tuple[float, float] = (5.0, 18.0)
    integration_s: float = 0.10
    refractory_s: float = 0.20
    t_wave_window_s: float = 0.36
    t_wave_slope_fraction: float = 0.5
    threshold_fraction: float = 0.25
    searchback_rr_factor: float = 1.5
    searchback_threshold_factor: float = 0.4
    learning_s: float = 8.0
    locate_half_width_s: float = 0.08
    #: Smallest QRS-band peak-to-peak (mV) a candidate may have. The thresholds
    #: above are relative, so without an absolute floor a flat (lead-off) or
    #: microvolt-noise lead yields "beats" at any scale.  0.02 mV is four ADC
    #: steps of MIT-BIH; 8 of its 109,966 annotated beats (0.007 %, in dropouts
    #: of records 116 and 208) fall below it on lead 0.
    min_qrs_band_mv: float = 0.02


def energy_envelope(x: np.ndarray, fs: float, settings: DetectorSettings) -> tuple[np.ndarray, np.ndarray]:
    """Band-pass the signal and return ``(bandpassed, integrated_energy)``, both shape (n,).

    Energy is the moving average of the squared derivative of the QRS band, a
    centred window so that envelope peaks sit at the QRS centre (zero phase).
    """
    high = min(settings.band_hz[1], 0.45 * fs)
    sos = sps.butter(3, [settings.band_hz[0], high], btype="bandpass", fs=fs, output="sos")
    bandpassed = sps.sosfiltfilt(sos, x)
    slope = np.gradient(bandpassed) * fs
    width = max(3, int(round(settings.integration_s * fs)))
    kernel = np.ones(width) / width
    envelope = np.convolve(slope * slope, kernel, mode="same")
    return bandpassed, envelope


def _best_in_gap(lo_pos: float, hi_pos: float, positions: np.ndarray, heights: np.ndarray,
                 minimum_height: float) -> int | None:
    """Index of the tallest candidate strictly inside (lo_pos, hi_pos) above a height, else None."""
    lo = int(np.searchsorted(positions, lo_pos, side="right"))
    hi = int(np.searchsorted(positions, hi_pos, side="left"))
    if hi <= lo:
        return None
    best = lo + int(np.argmax(heights[lo:hi]))
    return best if heights[best] > minimum_height else None


def _accept_beats(positions: np.ndarray, heights: np.ndarray, slopes: np.ndarray,
                  fs: float, settings: DetectorSettings, end_pos: int | None = None) -> np.ndarray:
    """Adaptive signal/noise-level thresholding with T-wave rejection and search-back.

    ``positions``, ``heights`` and ``slopes`` describe candidate envelope peaks
    (sample index ascending, envelope height, maximum QRS-band slope).
    Returns the indices (into the candidate arrays) of accepted beats, ascending.
    """
    n = positions.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    learn = positions < positions[0] + settings.learning_s * fs
    signal_level = float(np.percentile(heights[learn], 90))
    noise_level = 0.5 * float(np.percentile(heights[learn], 30))
    refractory = settings.refractory_s * fs
    t_window = settings.t_wave_window_s * fs
    # The loop reads one candidate at a time: Python numbers, not NumPy scalars, whose
    # arithmetic costs several times more (same values, so the same decisions).
    position_at, height_at, slope_at = positions.tolist(), heights.tolist(), slopes.tolist()
    fraction, slope_fraction = settings.threshold_fraction, settings.t_wave_slope_fraction
    searchback_rr, searchback_height = settings.searchback_rr_factor, settings.searchback_threshold_factor
    accepted: list[int] = []
    rr_history: list[float] = []
    last_slope = 0.0
    next_candidate = 0
    while next_candidate < n:
        i = next_candidate
        next_candidate += 1
        threshold = noise_level + fraction * (signal_level - noise_level)
        h = height_at[i]
        if accepted and rr_history:
            last_pos = position_at[accepted[-1]]
            # Plain Python mean: np.mean on a short list costs more than the rest
            # of the loop body, and RR intervals are whole samples, so the sum is exact.
            recent = rr_history[-8:]
            rr_mean = sum(recent) / len(recent)
            gap = position_at[i] - last_pos
            # Search back for a missed beat, in a gap that is long against the
            # recent rhythm.  Decided once the gap's end is known (the next beat
            # above threshold), so a compensatory pause after a premature beat
            # is not mistaken for a miss before its closing beat has arrived;
            # very long silences (amplitude drop) are searched at once.
            closing = h > threshold and gap > searchback_rr * rr_mean
            silent = gap > 2.5 * max(rr_mean, refractory)
            if closing or silent:
                best = _best_in_gap(last_pos + max(refractory, t_window), position_at[i] - refractory,
                                    positions, heights,
                                    searchback_height * threshold)
                if best is not None:
                    accepted.append(best)
                    rr_history.append(float(position_at[best] - last_pos))
                    signal_level = 0.25 * min(height_at[best], 3 * signal_level) + 0.75 * signal_level
                    last_slope = slope_at[best]
                    next_candidate = best + 1
                    continue
        if h > threshold:
            if accepted:
                interval = position_at[i] - position_at[accepted[-1]]
                if interval < refractory:
                    # Two peaks within the refractory time: keep the taller.
                    if h > height_at[accepted[-1]]:
                        accepted[-1] = i
                    continue
                if interval < t_window and slope_at[i] < slope_fraction * last_slope:
                    noise_level = 0.125 * h + 0.875 * noise_level
                    continue
                rr_history.append(float(interval))
            accepted.append(i)
            last_slope = slope_at[i]
            # Clip the update so one artefact spike cannot blind the detector.
            signal_level = 0.125 * min(h, 3 * signal_level) + 0.875 * signal_level
        else:
            noise_level = 0.125 * h + 0.875 * noise_level
    # The search-back above is decided by the beat that closes a gap; the record's end closes none, so a last
    # beat below threshold was never looked for.  Search the final gap as a closed one.
    while accepted and rr_history and end_pos is not None:
        last_pos = position_at[accepted[-1]]
        recent = rr_history[-8:]
        rr_mean = sum(recent) / len(recent)
        if end_pos - last_pos <= searchback_rr * rr_mean:
            break
        threshold = noise_level + fraction * (signal_level - noise_level)
        best = _best_in_gap(last_pos + max(refractory, t_window), end_pos, positions, heights,
                            searchback_height * threshold)
        if best is None:
            break
        accepted.append(best)
        rr_history.append(float(position_at[best] - last_pos))
    return np.asarray(sorted(set(accepted)), dtype=np.int64)


def detect_qrs(signal_mv: np.ndarray, fs: float, settings: DetectorSettings | None = None) -> np.ndarray:
    """Detect QRS complexes in one lead.

    ``signal_mv``: shape (n,), millivolts (raw or conditioned); ``fs`` in Hz.
    Returns int64 sample indices (in the input's rate) of each QRS, located at
    the largest absolute QRS-band deflection near the energy peak; empty for a
    lead with no deflection of at least ``settings.min_qrs_band_mv``.
    """
    settings = settings or DetectorSettings()
    x = check_signal(signal_mv, fs)
    bandpassed, envelope = energy_envelope(x, fs, settings)
    distance = max(1, int(settings.refractory_s * fs * 0.5))
    positions, _ = sps.find_peaks(envelope, distance=distance)
    if positions.size == 0:
        return np.zeros(0, dtype=np.int64)
    heights = envelope[positions]
    half = int(round(settings.locate_half_width_s * fs))
    slope_abs = np.abs(np.gradient(bandpassed))
    offsets = np.arange(-half, half + 1)
    windows = np.clip(positions[:, None] + offsets[None, :], 0, x.size - 1)
    slopes = slope_abs[windows].max(axis=1)
    spans = bandpassed[windows].max(axis=1) - bandpassed[windows].min(axis=1)
    large_enough = spans >= settings.min_qrs_band_mv
    positions, heights, slopes = positions[large_enough], heights[large_enough], slopes[large_enough]
    keep = _accept_beats(positions, heights, slopes, fs, settings, end_pos=x.size)
    centres = positions[keep]
    windows = np.clip(centres[:, None] + offsets[None, :], 0, x.size - 1)
    peaks = windows[np.arange(centres.size), np.argmax(np.abs(bandpassed[windows]), axis=1)]
    return np.unique(peaks).astype(np.int64)
