"""Beat windows and RR-interval features: the classifier's two inputs.

Everything is computed at the model's rate :data:`MODEL_FS` (the caller
resamples).  Morphology is given twice: the beat itself in mV, and the beat
minus the record's own median beat (scaled by that template's amplitude), which
makes the input relative to the patient (the cue for inter-patient S/V
detection).  RR intervals are given relative to the local and record mean RR:
prematurity against the patient's own rhythm is the strongest S cue.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy import signal as sps

#: Model sampling rate (Hz); windows and RR features are computed at this rate.
MODEL_FS = 180.0
#: Number of beats either side for the local mean RR (≈ 20 s at 60 bpm).
LOCAL_RR_HALF_WIDTH = 10
#: Every RR feature :func:`rr_features` can compute; a :class:`BeatSpec` picks some.
ALL_RR_FEATURES = (
    "pre_rr / local_mean_rr",
    "post_rr / local_mean_rr",
    "pre_rr / record_median_rr",
    "post_rr / record_median_rr",
    "post_rr / pre_rr",
    "local_mean_rr_s",
    "local_mean_abs_delta_rr / local_mean_rr",
    "pre_rr / mean_of_previous_3_rr",
    "local_median(min_lag1-3 |delta_rr| / rr)",  # IRREGULARITY_FEATURE
)


#: The RR feature that measures beat-to-beat irregularity robustly (atrial fibrillation).
IRREGULARITY_FEATURE = "local_median(min_lag1-3 |delta_rr| / rr)"


@dataclass(frozen=True)
class BeatSpec:
    """The classifier's input specification; stored in the model card beside the weights.

    ``before`` / ``after``: window samples at MODEL_FS before / after the R peak
    (the pre-R part must reach the P wave, the supraventricular cue);
    ``rr_features``: names from :data:`ALL_RR_FEATURES`, in input order;
    ``leads``: 1 (the analysed lead) or 2 (and a second, precordial lead), each
    giving the two :func:`morphology_channels`.
    """

    before: int = 46
    after: int = 82
    rr_features: tuple[str, ...] = ALL_RR_FEATURES
    leads: int = 1

    def __post_init__(self):
        if self.leads not in (1, 2):
            raise ValueError(f"BeatSpec.leads must be 1 or 2, not {self.leads!r}")

    @property
    def length(self) -> int:
        return self.before + self.after

    @property
    def channels(self) -> int:
        """Waveform input channels: two per lead (beat in mV, beat relative to the record's median beat)."""
        return 2 * self.leads

    def to_card(self) -> dict:
        return {"rate_hz": MODEL_FS, "before_samples": self.before, "after_samples": self.after,
                "before_s": round(self.before / MODEL_FS, 4), "after_s": round(self.after / MODEL_FS, 4),
                "rr_features": list(self.rr_features), "leads": self.leads}

    @classmethod
    def from_card(cls, entry: dict | None) -> "BeatSpec":
        """Spec from a card's ``input`` entry (older cards: the original 46/82 window, all features, one lead)."""
        entry = entry or {}
        return cls(int(entry.get("before_samples", 46)), int(entry.get("after_samples", 82)),
                   tuple(entry.get("rr_features", ALL_RR_FEATURES)), int(entry.get("leads", 1)))

    def with_leads(self, leads: int) -> "BeatSpec":
        """The same window and RR features for ``leads`` leads."""
        return BeatSpec(self.before, self.after, self.rr_features, leads)


#: The input specification the committed classifier was trained with: a 0.4 s pre-R
#: window (reaches the P wave of premature beats) and RR features relative to the local
#: rhythm and to the whole record's median RR.  The record-median ratios were chosen by
#: pooled out-of-fold S/V F1 in DS1 cross-validation with three seeds per spec (one seed
#: had left the choice within noise): best epoch 69.6 on average against 63.2 without
#: them, 62.7 against 58.1 averaged over all 10 epochs.  They mark beats that are fast for
#: the patient even inside a run of fast beats, where the local mean has followed the run
#: (an RR-only gradient-boosting check found 207's 104-beat supraventricular tachycardia
#: with them, not without).  The local mean |delta RR| feature added nothing (68.5 / 63.9).
DEFAULT_SPEC = BeatSpec(72, 82, tuple(f for f in ALL_RR_FEATURES if not f.startswith("local_mean_abs_delta")))
#: The two-lead classifier's specification: the same window and RR features, plus the morphology of a second,
#: precordial lead (V1 in 20 of the 22 DS1 records).  A second view of each beat separates ventricular from
#: supraventricular shapes that look alike in MLII (de Chazal et al. 2004 and Mondéjar-Guerra et al. 2019 used both
#: MIT-BIH leads).  Chosen by the pre-registered DS1 cross-validation rule (pooled out-of-fold S/V F1 of the
#: three-seed ensemble, best epoch and 10-epoch mean must both beat the single-lead recipe): 73.5 against 72.7 at
#: the best epoch, 71.0 against 66.2 averaged over the epochs; out-of-fold V +P 78.4 against 66.4 %.
TWO_LEAD_SPEC = DEFAULT_SPEC.with_leads(2)


def locate_r_peaks(signal_mv: np.ndarray, fs: float, approx_samples: np.ndarray,
                   half_width_s: float = 0.08) -> np.ndarray:
    """Move approximate beat positions to the largest absolute QRS-band deflection nearby.

    Used for both detector output and reference annotations so that training
    and inference see beats aligned the same way.  Returns int64 samples, shape
    like ``approx_samples``.
    """
    x = np.asarray(signal_mv, dtype=np.float64)
    approx = np.asarray(approx_samples, dtype=np.int64)
    if approx.size == 0:
        return approx.copy()
    sos = sps.butter(3, [5.0, min(18.0, 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
    band = np.abs(sps.sosfiltfilt(sos, x))
    half = int(round(half_width_s * fs))
    offsets = np.arange(-half, half + 1)
    windows = np.clip(approx[:, None] + offsets[None, :], 0, x.size - 1)
    return windows[np.arange(approx.size), np.argmax(band[windows], axis=1)].astype(np.int64)


def extract_windows(signal_model_rate: np.ndarray, beat_samples: np.ndarray,
                    spec: BeatSpec = DEFAULT_SPEC) -> np.ndarray:
    """Cut fixed windows around beats (edge-padded at record ends).

    ``signal_model_rate``: conditioned signal at MODEL_FS, mV, shape (n,).
    ``beat_samples``: int R-peak indices at MODEL_FS, shape (n_beats,).
    Returns float32 (n_beats, spec.length) in mV.
    """
    x = np.asarray(signal_model_rate, dtype=np.float32)
    idx = np.asarray(beat_samples, dtype=np.int64)[:, None] + np.arange(-spec.before, spec.after)[None, :]
    return x[np.clip(idx, 0, x.size - 1)]


def morphology_channels(windows: np.ndarray) -> np.ndarray:
    """Two-channel morphology input: (beat, (beat − record median beat) / template amplitude).

    ``windows``: (n_beats, length) mV.  Returns float32
    (n_beats, length, 2).  The template amplitude is floored at 0.1 mV
    so a flat record cannot cause a division blow-up.
    """
    w = np.asarray(windows, dtype=np.float32)
    if w.shape[0] == 0:
        return np.zeros((0, w.shape[1] if w.ndim == 2 else DEFAULT_SPEC.length, 2), dtype=np.float32)
    template = np.median(w, axis=0)
    amplitude = max(float(np.ptp(template)), 0.1)
    relative = (w - template[None, :]) / amplitude
    return np.clip(np.stack([w, relative], axis=-1), -10.0, 10.0).astype(np.float32)


def _patterned_rr_change(pre_rr: np.ndarray, eps: float) -> np.ndarray:
    """Per beat: min over lags 1–3 of |RR_i − RR_(i−lag)| / RR_i (0 where the rhythm repeats).

    Atrial fibrillation is irregular beat after beat, at every lag (median ≈ 0.1–0.3);
    sinus rhythm with ectopic beats, runs and pauses repeats between the events, and
    bigeminy/trigeminy repeat at lag 2/3 (median ≈ 0), which the mean irregularity
    above cannot tell apart from AF.
    """
    change = np.full(pre_rr.shape, np.inf)
    for lag in (1, 2, 3):
        earlier = np.concatenate([np.full(lag, pre_rr[0]), pre_rr[:-lag]]) if pre_rr.size > lag else pre_rr[:1].repeat(pre_rr.size)
        change = np.minimum(change, np.abs(pre_rr - earlier))
    return change / np.maximum(pre_rr, eps)


def rr_features(beat_samples: np.ndarray, fs: float, names: tuple[str, ...] = DEFAULT_SPEC.rr_features) -> np.ndarray:
    """RR-interval context of each beat; float32 (n_beats, len(names)), columns in ``names`` order.

    Pre/post RR are in seconds internally; the first beat borrows its post RR
    as pre RR and the last its pre RR as post RR.  The local mean is a centred
    moving mean over ±LOCAL_RR_HALF_WIDTH beats.  Ratios are clipped to [0, 5].
    """
    s = np.asarray(beat_samples, dtype=np.float64)
    n = s.size
    if n < 2:
        return np.ones((n, len(names)), dtype=np.float32)
    rr = np.diff(s) / fs
    pre = np.concatenate([[rr[0]], rr])
    post = np.concatenate([rr, [rr[-1]]])
    k = 2 * LOCAL_RR_HALF_WIDTH + 1
    padded = np.pad(pre, LOCAL_RR_HALF_WIDTH, mode="edge")
    local = np.convolve(padded, np.ones(k) / k, mode="valid")
    record_median = float(np.median(rr))
    eps = 1e-3
    # Irregularity (≈ 0.3+ in atrial fibrillation, < 0.05 in sinus rhythm) lets the
    # model discount prematurity when the whole rhythm is irregular.
    delta = np.abs(np.diff(pre, prepend=pre[0]))
    irregularity = np.convolve(np.pad(delta, LOCAL_RR_HALF_WIDTH, mode="edge"), np.ones(k) / k, mode="valid")
    robust_irregularity = ndimage.median_filter(_patterned_rr_change(pre, eps), size=k, mode="nearest")
    # Short-term reference: mean of the three RR intervals before this one.
    previous = np.pad(pre, (3, 0), mode="edge")
    previous_mean = (previous[0:-3] + previous[1:-2] + previous[2:-1]) / 3.0
    columns = dict(zip(ALL_RR_FEATURES, (
        pre / np.maximum(local, eps),
        post / np.maximum(local, eps),
        pre / max(record_median, eps),
        post / max(record_median, eps),
        post / np.maximum(pre, eps),
        local,
        irregularity / np.maximum(local, eps),
        pre / np.maximum(previous_mean, eps),
        robust_irregularity,
    )))
    feats = np.stack([columns[name] for name in names], axis=1)
    return np.clip(feats, 0.0, 5.0).astype(np.float32)
