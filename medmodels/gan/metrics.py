"""Sample-quality measures in a feature space: Fréchet distance, precision/recall, memorisation (two references).

All take feature matrices (n, d) float (rows = samples) and return plain floats.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg
from scipy.stats import binomtest


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (the FID formula, Heusel et al. 2017).

    ``‖μa − μb‖² + tr(Σa + Σb − 2 (Σa Σb)^½)``; the matrix square root's tiny
    imaginary parts from round-off are dropped, and a small ridge keeps
    near-singular covariances (few samples, dead features) finite.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"Fréchet distance needs at least 2 samples per set, got {len(a)} and {len(b)}.")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    ridge = 1e-6 * np.eye(a.shape[1])
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)) + ridge, np.atleast_2d(np.cov(b, rowvar=False)) + ridge
    root = linalg.sqrtm(cov_a @ cov_b)
    root = np.real(root)
    value = float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2.0 * root))
    return max(value, 0.0)


def split_half_floor(real: np.ndarray, seed: int = 0) -> float:
    """Fréchet distance between two random halves of one real set: what "as good as real" reads at this size."""
    order = np.random.default_rng(seed).permutation(len(real))
    half = len(real) // 2
    return frechet_distance(real[order[:half]], real[order[half:2 * half]])


def _pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances (len(a), len(b)), float64, never negative."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(d2, 0.0))


def _knn_radius(x: np.ndarray, k: int) -> np.ndarray:
    """Distance from each row of x to its k-th nearest other row."""
    d = _pairwise(x, x)
    np.fill_diagonal(d, np.inf)
    return np.partition(d, k - 1, axis=1)[:, k - 1]


def _coverage(points: np.ndarray, support: np.ndarray, k: int) -> float:
    """Fraction of ``points`` inside the union of k-NN balls around ``support`` rows."""
    radius = _knn_radius(support, k)
    inside = (_pairwise(points, support) <= radius[None, :]).any(axis=1)
    return float(inside.mean())


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) with k-NN manifolds.

    Precision: fraction of synthetic samples inside the real manifold (realism);
    recall: fraction of real samples inside the synthetic manifold (coverage).
    Both need more than ``k`` samples per set.
    """
    if len(real) <= k or len(fake) <= k:
        raise ValueError(f"precision/recall need more than k={k} samples per set, got {len(real)} and {len(fake)}.")
    return _coverage(fake, real, k), _coverage(real, fake, k)


def nearest_distances(queries: np.ndarray, reference: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """Distance from each query row to its nearest reference row (chunked to bound memory)."""
    out = [(_pairwise(queries[i:i + chunk], reference)).min(axis=1) for i in range(0, len(queries), chunk)]
    return np.concatenate(out) if out else np.zeros(0)


def _flagged_against(synthetic_d: np.ndarray, reference_d: np.ndarray, percentile: float) -> dict:
    """Synthetic samples whose nearest-training distance is at or below the ``percentile`` of a reference's."""
    threshold = float(np.percentile(reference_d, percentile))
    flagged = synthetic_d <= threshold
    return {"fraction": float(flagged.mean()) if len(flagged) else 0.0, "threshold": threshold,
            "expected": percentile / 100.0, "n": int(len(flagged)), "flagged": flagged}


def memorisation(synthetic: np.ndarray, held_out: np.ndarray, training: np.ndarray, percentile: float = 1.0) -> dict:
    """How many synthetic samples sit closer to a training sample than held-out real ones do.

    The threshold is the ``percentile`` (1st) of held-out real samples' nearest-training
    distances; by construction about ``percentile`` % of fresh real data falls below it,
    so a generator that does not copy should show about the same fraction.  Exact copies
    of training samples have distance 0 and are always flagged.  When the held-out samples
    come from other patients, the threshold also contains the shift between patients, so a
    generator that merely follows its training patients is flagged too: see
    :func:`memorisation_within_training` for the reference without that shift.
    Returns ``{"fraction": ..., "threshold": ..., "expected": percentile / 100, "n": ..., "flagged": ...}``.
    """
    return _flagged_against(nearest_distances(synthetic, training), nearest_distances(held_out, training), percentile)


def nearest_other_distances(training: np.ndarray, index: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Distance from each row ``training[index]`` to its nearest *other* training row (itself excluded)."""
    index = np.asarray(index, dtype=np.int64)
    out = []
    for start in range(0, len(index), chunk):
        rows = index[start:start + chunk]
        d = _pairwise(training[rows], training)
        d[np.arange(len(rows)), rows] = np.inf
        out.append(d.min(axis=1))
    return np.concatenate(out) if out else np.zeros(0)


def memorisation_within_training(synthetic: np.ndarray, training: np.ndarray, index: np.ndarray,
                                 percentile: float = 1.0) -> dict:
    """How many synthetic samples sit closer to a training sample than training samples sit to each other.

    The reference is leave-one-out: for the training rows ``index`` (e.g. one class), the
    distance to the nearest other training row, i.e. how near a further real sample of the
    *same* patients lands.  A generator that draws new samples from its training patients
    shows about ``percentile`` %; near-copies of single training samples show more (exact
    copies have distance 0).  Same return value as :func:`memorisation`.
    """
    return _flagged_against(nearest_distances(synthetic, training), nearest_other_distances(training, index),
                            percentile)


def excess_over_chance(flagged: int, n: int, expected: float) -> float:
    """One-sided binomial p-value of ``flagged`` or more of ``n`` when each is flagged with probability ``expected``."""
    if n == 0:
        return 1.0
    return float(binomtest(int(flagged), int(n), expected, alternative="greater").pvalue)
