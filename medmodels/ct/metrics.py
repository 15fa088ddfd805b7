"""Binary metrics for the malignancy model: AUC, bootstrap CI, threshold, temperature, ECE.

NumPy/SciPy only (no scikit-learn dependency). Labels are 0/1 arrays (n,),
scores and probabilities float arrays (n,).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count 1/2); NaN if one class is absent."""
    labels = np.asarray(labels).astype(bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(np.asarray(scores, dtype=np.float64))
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def patient_resamples(patients: np.ndarray, n_resamples: int, seed: int):
    """Row indices of ``n_resamples`` bootstrap samples drawn by patient (all of a patient's rows together).

    Patient-level resampling respects that one patient's crops (several reads
    of the same nodule) are correlated.
    """
    unique, inverse = np.unique(np.asarray(patients), return_inverse=True)
    rows_of = [np.flatnonzero(inverse == i) for i in range(unique.size)]
    rng = np.random.default_rng(seed)
    for _ in range(n_resamples):
        yield np.concatenate([rows_of[i] for i in rng.integers(0, unique.size, unique.size)])


def _percentile_interval(values: list[float], level: float) -> tuple[float, float]:
    alpha = (1.0 - level) / 2.0
    return float(np.quantile(values, alpha)), float(np.quantile(values, 1.0 - alpha))


def patient_bootstrap_auc(labels: np.ndarray, scores: np.ndarray, patients: np.ndarray,
                          n_resamples: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile CI of the AUC over patient-level resamples; resamples with one class only are skipped."""
    labels, scores = np.asarray(labels), np.asarray(scores)
    aucs = [roc_auc(labels[rows], scores[rows]) for rows in patient_resamples(patients, n_resamples, seed)]
    return _percentile_interval([a for a in aucs if np.isfinite(a)], level)


def patient_bootstrap_auc_difference(labels: np.ndarray, scores_a: np.ndarray, scores_b: np.ndarray,
                                     patients: np.ndarray, n_resamples: int = 2000, seed: int = 0,
                                     level: float = 0.95) -> tuple[float, float]:
    """Percentile CI of AUC(a) − AUC(b), both scored on the same patient-level resamples (paired).

    Pairing is what makes the interval answer "does a rank better than b on
    these patients?": the two AUCs share most of their sampling noise.
    """
    labels, scores_a, scores_b = np.asarray(labels), np.asarray(scores_a), np.asarray(scores_b)
    differences = []
    for rows in patient_resamples(patients, n_resamples, seed):
        difference = roc_auc(labels[rows], scores_a[rows]) - roc_auc(labels[rows], scores_b[rows])
        if np.isfinite(difference):
            differences.append(difference)
    return _percentile_interval(differences, level)


def sigmoid(logits: np.ndarray, temperature: float = 1.0, bias: float = 0.0) -> np.ndarray:
    """Probabilities (float64) from logits: sigmoid((logit - bias) / temperature), clipped: no overflow, no NaN."""
    z = (np.asarray(logits, dtype=np.float64) - bias) / temperature
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))


def binary_nll(logits: np.ndarray, labels: np.ndarray, temperature: float, bias: float = 0.0) -> float:
    """Mean negative log-likelihood of 0/1 labels under sigmoid((logits - bias) / T)."""
    p = np.clip(sigmoid(logits, temperature, bias), 1e-12, 1 - 1e-12)
    y = np.asarray(labels, dtype=np.float64)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def fit_temperature_and_bias(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(temperature, bias) minimising validation NLL: Platt scaling written as a temperature and a shift.

    The bias is needed because class weighting (balanced 350/618) and early
    stopping leave the logits offset; a temperature alone only rescales them.
    """
    from scipy.optimize import minimize

    def nll(params):
        log_t, bias = params
        return binary_nll(logits, labels, float(np.exp(log_t)), float(bias))

    result = minimize(nll, x0=np.array([0.0, 0.0]), method="Nelder-Mead",
                      options={"xatol": 1e-6, "fatol": 1e-9, "maxiter": 2000})
    log_t, bias = result.x
    return float(np.clip(np.exp(log_t), 0.05, 20.0)), float(bias)


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, n_bins: int = 10) -> float:
    """ECE (0-1) of P(malignant): 10 equal-width probability bins, |mean p - observed rate| weighted by bin size."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if p.size == 0:
        return 0.0
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            ece += in_bin.mean() * abs(p[in_bin].mean() - y[in_bin].mean())
    return float(ece)


def youden_threshold(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Probability threshold maximising sensitivity + specificity - 1 (call malignant if p >= t)."""
    p = np.asarray(probabilities, dtype=np.float64)
    candidates = np.unique(p)
    best_t, best_j = 0.5, -1.0
    for t in candidates:
        sens, spec = sensitivity_specificity(labels, p, t)
        if sens + spec - 1 > best_j:
            best_t, best_j = float(t), sens + spec - 1
    return best_t


def sensitivity_specificity(labels: np.ndarray, probabilities: np.ndarray, threshold: float) -> tuple[float, float]:
    """(sensitivity, specificity) calling malignant when probability >= threshold."""
    y = np.asarray(labels).astype(bool)
    called = np.asarray(probabilities) >= threshold
    sens = float((called & y).sum() / max(y.sum(), 1))
    spec = float((~called & ~y).sum() / max((~y).sum(), 1))
    return sens, spec
