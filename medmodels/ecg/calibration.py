"""Probability calibration: temperature scaling and expected calibration error."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

from medmodels.ecg.model import softmax_np


def negative_log_likelihood(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """Mean NLL of integer labels (n,) under softmax(logits (n, k) / temperature)."""
    p = softmax_np(logits, temperature)
    return float(-np.mean(np.log(np.clip(p[np.arange(labels.size), labels], 1e-12, 1.0))))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Temperature in [0.05, 20] minimising validation NLL (Guo et al., 2017)."""
    result = minimize_scalar(lambda t: negative_log_likelihood(logits, labels, t),
                             bounds=(0.05, 20.0), method="bounded")
    return float(result.x)


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> float:
    """Top-label ECE (fraction, 0–1) with equal-width confidence bins."""
    p = np.asarray(probabilities, dtype=np.float64)
    if p.shape[0] == 0:
        return 0.0
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == np.asarray(labels)).astype(np.float64)
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            ece += in_bin.mean() * abs(confidence[in_bin].mean() - correct[in_bin].mean())
    return float(ece)


def fit_class_offsets(logits: np.ndarray, labels: np.ndarray, score, classes=(1, 2, 3),
                      grid: np.ndarray = np.arange(-4.0, 4.01, 0.25), rounds: int = 2) -> np.ndarray:
    """Per-class logit offsets maximising ``score(labels, logits + offsets)`` (coordinate ascent on a grid).

    The loss weights that counter class imbalance also shift the decision
    boundaries; offsets fitted on out-of-fold (never test) logits move them back
    to the operating point the score prefers.  Returns float64 (k,), zeros for
    classes not in ``classes`` (N and Q stay at 0).
    """
    z = np.asarray(logits, dtype=np.float64)
    offsets = np.zeros(z.shape[1])
    for _ in range(rounds):
        for c in classes:
            def trial(v, c=c):
                b = offsets.copy()
                b[c] = v
                return score(labels, z + b)
            offsets[c] = max(grid, key=trial)
    return offsets
