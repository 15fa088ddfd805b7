"""Agreement with reference annotations: beat matching, confusion matrix, Se/+P/F1.

The confusion matrix has one extra row and column beyond the five AAMI
classes: row ``"-"`` holds detections that matched no reference beat (false
positives of their predicted class), column ``"-"`` holds reference beats that
no detection matched (false negatives of their true class).
"""

from __future__ import annotations

import numpy as np

from medmodels.ecg import AAMI_CLASSES

UNMATCHED = "-"
MATRIX_LABELS = AAMI_CLASSES + (UNMATCHED,)


def match_beats(reference_samples: np.ndarray, test_samples: np.ndarray, fs: float,
                window_s: float = 0.15) -> np.ndarray:
    """For each reference beat, the index of its matched test beat or −1.

    Uses ``wfdb.processing.compare_annotations`` (one-to-one matching, closest
    first) with a window of ``window_s`` seconds.  Returns int64 (n_reference,).
    """
    from wfdb import processing

    ref = np.asarray(reference_samples, dtype=np.int64)
    test = np.asarray(test_samples, dtype=np.int64)
    if ref.size == 0 or test.size == 0:
        return np.full(ref.size, -1, dtype=np.int64)
    comparison = processing.compare_annotations(ref, test, int(round(window_s * fs)))
    comparison.compare()
    return np.asarray(comparison.matching_sample_nums, dtype=np.int64)


def confusion_matrix(reference_labels: np.ndarray, test_labels: np.ndarray,
                     matches: np.ndarray | None = None) -> np.ndarray:
    """Confusion matrix (6, 6) of counts: rows reference, columns prediction.

    ``reference_labels`` (n_ref,) and ``test_labels`` (n_test,) are class
    indices into AAMI_CLASSES.  ``matches`` (n_ref,) gives each reference beat's
    test index or −1; when None the two label arrays are paired one-to-one.
    """
    ref = np.asarray(reference_labels, dtype=np.int64)
    test = np.asarray(test_labels, dtype=np.int64)
    k = len(AAMI_CLASSES)
    cm = np.zeros((k + 1, k + 1), dtype=np.int64)
    if matches is None:
        if ref.shape != test.shape:
            raise ValueError("Without matches, reference and test labels must pair one-to-one.")
        np.add.at(cm, (ref, test), 1)
        return cm
    matches = np.asarray(matches, dtype=np.int64)
    found = matches >= 0
    np.add.at(cm, (ref[found], test[matches[found]]), 1)
    np.add.at(cm, (ref[~found], k), 1)
    unmatched_test = np.ones(test.size, dtype=bool)
    unmatched_test[matches[found]] = False
    np.add.at(cm, (k, test[unmatched_test]), 1)
    return cm


def class_metrics(cm: np.ndarray) -> dict:
    """Per-class Se, +P, F1 (percent) and overall accuracy from a (6, 6) matrix.

    Se = TP / all reference beats of the class (missed ones included);
    +P = TP / all detections labelled the class (unmatched ones included).
    A class with no beats gets ``None`` rather than a division by zero.
    Accuracy counts every reference beat and every unmatched detection.
    """
    cm = np.asarray(cm, dtype=np.int64)
    out: dict = {}
    for i, name in enumerate(AAMI_CLASSES):
        tp = int(cm[i, i])
        ref_total = int(cm[i, :].sum())
        test_total = int(cm[:, i].sum())
        se = 100.0 * tp / ref_total if ref_total else None
        ppv = 100.0 * tp / test_total if test_total else None
        f1 = (2 * se * ppv / (se + ppv)) if se is not None and ppv is not None and se + ppv > 0 else None
        out[name] = {"Se": se, "+P": ppv, "F1": f1, "n_reference": ref_total, "n_predicted": test_total}
    k = len(AAMI_CLASSES)
    total = int(cm.sum())
    out["accuracy"] = 100.0 * int(np.trace(cm[:k, :k])) / total if total else None
    return out


def format_metrics_table(metrics: dict, title: str) -> str:
    """A plain-text table of :func:`class_metrics` output."""
    fmt = lambda v: "   -  " if v is None else f"{v:6.2f}"  # noqa: E731
    lines = [title, f"{'class':>5} {'n_ref':>7} {'Se':>6} {'+P':>6} {'F1':>6}"]
    for name in AAMI_CLASSES:
        m = metrics[name]
        lines.append(f"{name:>5} {m['n_reference']:>7d} {fmt(m['Se'])} {fmt(m['+P'])} {fmt(m['F1'])}")
    lines.append(f"accuracy {fmt(metrics['accuracy'])} %")
    return "\n".join(lines)
