"""Detector figures on a held-out series: nodule ranks on their central slice, FP per slice, patch AUC."""

from __future__ import annotations

import math

import numpy as np
from .ct.metrics import roc_auc
from .ct_detector import Detector
from .ct_detector_data import PreparedSeries, candidate_patches, has_dense_border, inserted_nodule_patches


#: What a nodule's ``score`` in these figures is (written into the card beside them): ranks use the central slice only.
NODULE_SCORE_MEANING = ("score: the nodule's best probability among its candidates on any slice it crosses (it sets "
                        "the FP/slice thresholds); score_on_central_slice: its best on the slice its rank is taken on")


def series_figures(detector: Detector, series: PreparedSeries) -> dict:
    """Rank of each native nodule among its central slice's candidates, and FP/slice at 80 % and 90 % sensitivity.

    Two ranks: among all candidates of the slice, and among its false
    candidates only (1 + false candidates scoring higher), which does not count
    another true nodule on the same slice as an error.

    A nodule's score is the best probability among candidates that belong to
    it on any slice it crosses; false positives are candidates belonging to no
    nodule. With few nodules the sensitivity levels are coarse: the threshold
    is the score of the ⌈s·n⌉-th best nodule.
    """
    patches, owners, slice_index = candidate_patches(series)
    probs = detector.ranked_probabilities(patches, slice_index)
    nodules = []
    for i, nodule in enumerate(series.nodules):
        central = nodule.central_slice(series.image)
        on_central = slice_index == central
        mine = on_central & (owners == i)
        rank = rank_false = best = None
        if mine.any():
            best = probs[mine].max()
            rank = int((probs[on_central] > best).sum()) + 1
            # other true nodules on the same slice are hits, not errors: count only false candidates above
            rank_false = int((probs[on_central & (owners < 0)] > best).sum()) + 1
        nodules.append({
            "diameter_mm": round(nodule.diameter_mm, 1), "central_slice": central, "rank_on_central_slice": rank,
            "rank_among_false_candidates": rank_false,
            "candidates_on_slice": int(on_central.sum()),
            "score": float(probs[owners == i].max()) if (owners == i).any() else 0.0,
            "score_on_central_slice": None if best is None else round(float(best), 3),
        })
    scores = sorted((n["score"] for n in nodules), reverse=True)
    fp = {}
    for sensitivity in (0.8, 0.9):
        if not scores:
            fp[f"{int(sensitivity * 100)}%"] = None
            continue
        threshold = scores[max(math.ceil(sensitivity * len(scores)) - 1, 0)]
        fp[f"{int(sensitivity * 100)}%"] = round(float(((probs >= threshold) & (owners < 0)).sum()) / len(series.slices), 3)
    return {"patient": series.patient, "slices": len(series.slices), "nodules": nodules, "fp_per_slice": fp}


def patch_auc(detector: Detector, series: PreparedSeries, held_out_crops: list[np.ndarray], rng: np.random.Generator,
              window: str = "box") -> dict:
    """AUC of held-out patients' nodules blended into a held-out series vs that series' own false candidates.

    ``window``: how each crop is blended (``ct_detector_data.blend_crop``).
    """
    patches, owners, _ = candidate_patches(series)
    negatives = patches[owners < 0]
    positives = inserted_nodule_patches([series], held_out_crops, rng, negatives, window)
    scores = np.concatenate([detector.probabilities(positives), detector.probabilities(negatives)])
    labels = np.concatenate([np.ones(len(positives)), np.zeros(len(negatives))])
    return {"auc": round(roc_auc(labels, scores), 4), "positives": len(positives), "negatives": len(negatives)}


def square_edge_check(detector: Detector, series: PreparedSeries, held_out_crops: list[np.ndarray], seed: int) -> dict:
    """Does the patch AUC rest on the square edge that densely bordered crops leave when blended?

    The same backgrounds and positions (same ``seed``) blended with the box
    window and with the inscribed-disc window; their AUCs should agree.
    """
    return {"box": patch_auc(detector, series, held_out_crops, np.random.default_rng(seed)),
            "disc": patch_auc(detector, series, held_out_crops, np.random.default_rng(seed), window="disc"),
            "dense_border_crops": sum(has_dense_border(c) for c in held_out_crops), "crops": len(held_out_crops)}


def format_square_edge_check(check: dict) -> str:
    return (f"  square-edge check: {check['dense_border_crops']} of {check['crops']} held-out crops have a mostly dense "
            f"border, which the box blend leaves as a square edge; patch AUC with each crop faded to its inscribed "
            f"disc {check['disc']['auc']:.4f} (box blend {check['box']['auc']:.4f})")


def format_figures(fold: str, figures: dict, auc: dict) -> str:
    lines = [f"{fold}: {figures['patient']} held out ({figures['slices']} slices)"]
    for n in figures["nodules"]:
        rank = n["rank_on_central_slice"]
        false_rank = n.get("rank_among_false_candidates")
        lines.append(f"  nodule {n['diameter_mm']:5.1f} mm, slice {n['central_slice']:3d}: "
                     f"rank {rank if rank is not None else 'missed'} of {n['candidates_on_slice']} candidates "
                     f"({false_rank if false_rank is not None else 'missed'} among false candidates only), "
                     f"best score over the slices it crosses {n['score']:.3f}"
                     + (f", on its central slice {n['score_on_central_slice']:.3f}"
                        if n.get("score_on_central_slice") is not None else ""))
    lines.append(f"  FP/slice at 80 % sensitivity {figures['fp_per_slice']['80%']}, at 90 % {figures['fp_per_slice']['90%']}")
    lines.append(f"  patch AUC (held-out patients' nodules in this series vs its false candidates): "
                 f"{auc['auc']:.4f} ({auc['positives']} vs {auc['negatives']})")
    return "\n".join(lines)
