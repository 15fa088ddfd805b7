"""Signal conditioning: baseline-wander and mains-interference removal, resampling.

All functions are pure: they return new arrays and never modify their inputs.
Signals are 1-D float arrays in millivolts, sampled at ``fs`` hertz.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy import signal as sps

from medmodels.errors import InputError

MIN_FS_HZ = 100.0
MAX_FS_HZ = 1000.0


def check_signal(signal_mv: np.ndarray, fs: float) -> np.ndarray:
    """Validate a single-lead signal and its rate; returns it as float64 (copy).

    Raises :class:`InputError` for a rate outside 100 Hz – 1 kHz, a signal that
    is not 1-D, shorter than 2 s, or not finite.  NaN gaps (common in exported
    files) are linearly interpolated rather than rejected, because one missing
    sample must not make a 30-minute record unusable.
    """
    if not (MIN_FS_HZ <= float(fs) <= MAX_FS_HZ):
        raise InputError(
            f"Sampling rate {fs} Hz is outside the supported 100–1000 Hz; "
            "upload a record sampled in that range."
        )
    x = np.asarray(signal_mv, dtype=np.float64).copy()
    if x.ndim != 1:
        raise InputError(f"Expected one lead (a 1-D signal), got shape {x.shape}.")
    if x.size < 2 * fs:
        raise InputError("The record is shorter than 2 seconds; upload a longer one.")
    bad = ~np.isfinite(x)
    if bad.all():
        raise InputError("The selected lead holds no valid samples.")
    if bad.any():
        idx = np.arange(x.size)
        x[bad] = np.interp(idx[bad], idx[~bad], x[~bad])
    return x


def remove_baseline_and_mains(signal_mv: np.ndarray, fs: float) -> np.ndarray:
    """Band-limit to 0.5–40 Hz (zero phase) and notch 50 and 60 Hz where representable.

    The 0.5 Hz high-pass removes respiration/electrode baseline wander without
    distorting ST segments noticeably (AHA recommends ≤ 0.67 Hz for zero-phase
    filters); the low-pass and notches remove mains hum at either mains
    frequency, so the caller need not know the country of recording.
    Returns float64 of the same shape, in mV.
    """
    x = np.asarray(signal_mv, dtype=np.float64)
    nyquist = fs / 2.0
    high = min(40.0, 0.8 * nyquist)
    sos = sps.butter(2, [0.5, high], btype="bandpass", fs=fs, output="sos")
    y = sps.sosfiltfilt(sos, x)
    for mains in (50.0, 60.0):
        if mains < 0.95 * nyquist:
            b, a = sps.iirnotch(mains, Q=30.0, fs=fs)
            y = sps.filtfilt(b, a, y)
    return y


#: Seconds of signal mirrored onto each end of a record before filtering (see :func:`condition_for_analysis`):
#: the 0.5 Hz high-pass's response lasts about 2 s.
EDGE_MIRROR_S = 2.0


def condition_for_analysis(signal_mv: np.ndarray, fs: float) -> np.ndarray:
    """:func:`remove_baseline_and_mains` without its transients at the record's start and end.

    The filters need signal before and after each sample; at a record's ends
    they see ``filtfilt``'s short odd extension instead, and a high-pass that
    starts or stops mid-beat rings for a second or so.  In a 10-s upload that
    transient reshapes the beats there: on 10-s pieces of the DS1 records
    (two-lead classifier, reference beat positions), normal beats within
    0.1 s of a piece's start or end were called abnormal 21.7 % and 43.8 % of
    the time and all others 1.6 %; conditioned here, 4.1 %, 22.0 % and 1.4 %
    (the pipeline does not classify the former two at all: see
    :data:`~medmodels.ecg.pipeline.QRS_EDGE_MARGIN_S`).
    Here the signal is extended by its mirror image (time-reversed, not
    negated: no step at the joint) over EDGE_MIRROR_S at each end, filtered,
    and cropped back.  Samples further than a few seconds from either end come
    out as :func:`remove_baseline_and_mains` gives them.

    The trainer conditions whole 30-minute MIT-BIH records with
    :func:`remove_baseline_and_mains` itself, as the committed weights (and
    the ECG GAN's real beats) were made: there the transient touches only each
    record's first and last seconds.  Conditioning DS1 here instead would
    change 292 of its 102,042 beat windows (two leads) by more than 1 µV, all
    within 7 s of a record's ends, and so every retrained weight.
    ``signal_mv``: (n,) mV at ``fs`` Hz; returns float64 (n,) mV, new.
    """
    x = np.asarray(signal_mv, dtype=np.float64)
    pad = min(int(round(EDGE_MIRROR_S * fs)), x.size - 1)
    extended = np.pad(x, pad, mode="reflect")
    return remove_baseline_and_mains(extended, fs)[pad:pad + x.size]


def resample(signal: np.ndarray, fs_in: float, fs_out: float) -> np.ndarray:
    """Polyphase resampling from ``fs_in`` to ``fs_out`` Hz (anti-aliased); new array."""
    x = np.asarray(signal, dtype=np.float64)
    if abs(fs_in - fs_out) < 1e-9:
        return x.copy()
    ratio = Fraction(float(fs_out) / float(fs_in)).limit_denominator(1000)
    return sps.resample_poly(x, ratio.numerator, ratio.denominator)


def to_rate(samples: np.ndarray, fs_from: float, fs_to: float) -> np.ndarray:
    """Convert sample indices between rates (rounded to the nearest sample; int64)."""
    return np.rint(np.asarray(samples, dtype=np.float64) * (fs_to / fs_from)).astype(np.int64)
