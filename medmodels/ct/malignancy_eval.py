"""Evaluate the committed CT malignancy model on the held-out patient-level test split.

``python -m medmodels.ct.malignancy_eval [--update-card]`` prints AUC with a
95 % patient-level bootstrap interval, sensitivity/specificity at the
threshold fixed on validation, ECE after the validation temperature, the
AUC of a diameter-only baseline (the crop's physical extent in mm), and the
paired bootstrap interval of the CNN's AUC minus the baseline's: whether the
network ranks better than size alone. Nothing here is fitted: the test split
is only reported.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from medmodels.ct.canvas import MASK_HU
from medmodels.ct.crops import (CANDIDATE_BOX_PER_DIAMETER, DENSE_TISSUE_HU, Crop, crops_dir, dense_tissue_crop,
                                holds_scoreable_tissue, load_crop_table, patient_split, read_crop)
from medmodels.ct.dataset import build_crop_set
from medmodels.ct.malignancy import CARD_FILE, DEFAULT_PAD, MODEL_DIR, load_model
from medmodels.ct.metrics import (expected_calibration_error, patient_bootstrap_auc,
                                  patient_bootstrap_auc_difference, roc_auc, sensitivity_specificity, sigmoid)

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 7
COMMAND = "python -m medmodels.evaluate ct"
#: Project requirement on the test AUC (must), and the aim.
REQUIRED_AUC, AIMED_AUC = 0.85, 0.92
ANCHORS = "MedMNIST v2 NoduleMNIST3D test AUC: ResNet-18 (3D) 0.863, auto-sklearn 0.914 (different split and input)"


def evaluate(model_dir: Path = MODEL_DIR, split_name: str = "test", model=None) -> dict:
    """Metrics of the committed model on one patient-level split (default: test).

    ``model``: the already loaded model (as :func:`main` passes to every check it runs), else it is loaded
    from ``model_dir``; the same holds for :func:`dense_tissue_check` and :func:`box_size_check`.
    """
    model = model if model is not None else load_model(model_dir)
    table = load_crop_table()
    rows = patient_split(table).names()[split_name]
    crop_set = build_crop_set(table.iloc[rows], pad=model.card.get("input", {}).get("padding", DEFAULT_PAD))
    logits = model.logits(crop_set.inputs)
    probabilities = sigmoid(logits, model.temperature, model.bias)
    labels, patients, extents = crop_set.labels, crop_set.patients, crop_set.extents_mm
    sensitivity, specificity = sensitivity_specificity(labels, probabilities, model.threshold)
    auc, baseline_auc = roc_auc(labels, logits), roc_auc(labels, extents)
    return {
        "split": split_name,
        "patients": int(np.unique(patients).size),
        "crops_malignant": int(labels.sum()), "crops_benign": int((labels == 0).sum()),
        "auc": auc,
        "auc_ci95": patient_bootstrap_auc(labels, logits, patients, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED),
        "bootstrap": f"patient-level, {BOOTSTRAP_RESAMPLES} resamples, seed {BOOTSTRAP_SEED}, percentile interval",
        "threshold": model.threshold, "threshold_chosen_on": "validation",
        "sensitivity": sensitivity, "specificity": specificity,
        "temperature": model.temperature, "bias": model.bias, "ece": expected_calibration_error(probabilities, labels),
        "diameter_baseline_auc": baseline_auc,
        "diameter_baseline_auc_ci95": patient_bootstrap_auc(labels, extents, patients, BOOTSTRAP_RESAMPLES,
                                                            BOOTSTRAP_SEED),
        "diameter_baseline": "score = crop physical extent (longer bounding-box side, mm); no fitting",
        "auc_minus_diameter_baseline": auc - baseline_auc,
        "auc_minus_diameter_baseline_ci95": patient_bootstrap_auc_difference(
            labels, logits, extents, patients, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED),
        "requirement": f"AUC >= {REQUIRED_AUC} (must), >= {AIMED_AUC} (aim)",
    }


def dense_tissue_check(model_dir: Path = MODEL_DIR, split_name: str = "validation", model=None) -> dict:
    """How much the candidate path's stand-in for the reader outline changes the likelihood, on reader crops.

    On the CT page there is no reader outline: a candidate crop keeps only tissue above
    ``crops.DENSE_TISSUE_HU``.  Applying exactly that to the reader-outlined crops of
    one split (validation by default: never the test split) isolates its effect: the share
    of outlined pixels it removes (faint, ground-glass-like tissue), the change in each
    crop's calibrated likelihood, the AUC before and after, and the crops left unscoreable.
    The box size (from the detector's diameter estimate on the page) is :func:`box_size_check`'s.
    """
    model = model if model is not None else load_model(model_dir)
    crops, labels = _split_crops(split_name)
    dense = [dense_tissue_crop(c) for c in crops]
    outlined = [c.hu > MASK_HU for c in crops]  # the crops store the outside of the outline as MASK_HU
    removed = np.array([((c.hu <= DENSE_TISSUE_HU) & m).sum() / max(int(m.sum()), 1) for c, m in zip(crops, outlined)])
    before, after = model.predict_crops(crops), model.predict_crops(dense)
    change = after - before
    return {
        "split": split_name, "crops": len(crops), "crops_malignant": int(labels.sum()),
        "dense_tissue_hu": DENSE_TISSUE_HU,
        "outlined_share_removed_median": float(np.median(removed)),
        "outlined_share_removed_p90": float(np.percentile(removed, 90)),
        "auc_reader_outline": roc_auc(labels, before), "auc_dense_tissue_only": roc_auc(labels, after),
        "mean_change_benign": float(change[labels == 0].mean()),
        "mean_change_malignant": float(change[labels == 1].mean()),
        "largest_absolute_change": float(np.abs(change).max()),
        "unscoreable": int(sum(not holds_scoreable_tissue(c) for c in dense)),
    }


def _split_crops(split_name: str) -> tuple[list[Crop], np.ndarray]:
    """The reader-outlined crops of one patient-level split and their labels (1 = malignant)."""
    table = load_crop_table()
    chosen = table.iloc[patient_split(table).names()[split_name]]
    return [read_crop(path) for path in chosen["path"]], chosen["label"].to_numpy()


#: Box sides tried, as a fraction of the reader's box: the detector's size estimate falling short by 17 %, 33 %, 50 %.
BOX_SCALES = (0.83, 0.67, 0.5)


def central_box(crop: Crop, scale: float) -> Crop:
    """The centred part of ``crop`` whose sides are ``scale`` times the crop's (at least one pixel); a new crop."""
    rows, cols = crop.hu.shape
    keep_r, keep_c = max(int(round(rows * scale)), 1), max(int(round(cols * scale)), 1)
    r0, c0 = (rows - keep_r) // 2, (cols - keep_c) // 2
    return Crop(crop.hu[r0:r0 + keep_r, c0:c0 + keep_c].copy(), crop.spacing_mm, crop.series_uid)


def box_size_check(model_dir: Path = MODEL_DIR, split_name: str = "validation", model=None) -> dict:
    """How the candidate path's box size moves the likelihood: too small a box, and how large the page's box is.

    On the CT page a candidate's box is CANDIDATE_BOX_PER_DIAMETER times the
    detector's diameter estimate, and only dense tissue is kept. On the reader
    crops of one split (never test), the dense-tissue crop is cut to the central
    BOX_SCALES of the reader's box, as an underestimated size would: the change
    in each likelihood and the AUC. How large the page's box really is comes
    from the native LUNA16 nodules of the LIDC series (:func:`native_box_ratios`).
    A box larger than the nodule, taking in vessels or pleura, is not covered:
    the crops hold nothing outside the nodule's box.
    """
    model = model if model is not None else load_model(model_dir)
    crops, labels = _split_crops(split_name)
    dense = [dense_tissue_crop(c) for c in crops]
    full = model.predict_crops(dense)
    shrunk = []
    for scale in BOX_SCALES:
        cut = [central_box(c, scale) for c in dense]
        scores = model.predict_crops(cut)
        change = scores - full
        shrunk.append({
            "box_scale": scale, "auc": roc_auc(labels, scores),
            "mean_change_benign": float(change[labels == 0].mean()),
            "mean_change_malignant": float(change[labels == 1].mean()),
            "unscoreable": int(sum(not holds_scoreable_tissue(c) for c in cut)),
        })
    return {"split": split_name, "crops": len(crops), "crops_malignant": int(labels.sum()),
            "auc_reader_box": roc_auc(labels, full), "shrunk": shrunk,
            "box_per_estimated_diameter": CANDIDATE_BOX_PER_DIAMETER, "native_nodules": native_box_ratios(),
            "command": "python -m medmodels.ct.malignancy_eval --box-size-check --update-card",
            "not_covered": "a box larger than the nodule (vessels or pleura inside): the crops hold nothing outside "
                           "the nodule's box"}


def native_box_ratios() -> list[dict]:
    """The page's box side over the LUNA16 reference diameter, for each native nodule of the LIDC series.

    The candidate is the generator's (no CNN) nearest to the nodule's centre on
    its central slice, within the nodule's radius. Empty without the series.
    """
    from medmodels import load_ct
    from medmodels.ct_candidates import to_original_pixels
    from medmodels.ct_detector import prepare_slice
    from medmodels.ct_lidc import lidc_series, luna16_nodules

    ratios = []
    for patient, files in sorted(lidc_series().items()):
        image = load_ct(files)
        spacing = image.spacing[1:]
        for nodule in luna16_nodules(image.series_uid):
            central = nodule.central_slice(image)
            cands = prepare_slice(image.hu[central], spacing).candidates
            rows, cols = to_original_pixels(cands.rows, cands.cols, spacing)
            row, col = nodule.pixel(image)
            distance_mm = np.hypot((rows - row) * spacing[0], (cols - col) * spacing[1])
            nearest = int(np.argmin(distance_mm)) if len(cands) else -1
            if nearest < 0 or distance_mm[nearest] > nodule.diameter_mm / 2:
                ratios.append({"patient": patient, "diameter_mm": round(nodule.diameter_mm, 1), "box_mm": None,
                               "box_over_diameter": None})
                continue
            box_mm = float(cands.diameters_mm[nearest]) * CANDIDATE_BOX_PER_DIAMETER
            ratios.append({"patient": patient, "diameter_mm": round(nodule.diameter_mm, 1), "box_mm": round(box_mm, 1),
                           "box_over_diameter": round(box_mm / nodule.diameter_mm, 2)})
    return ratios


def box_size_report(check: dict) -> str:
    """Printed lines of :func:`box_size_check`."""
    lines = [f"box-size check ({check['split']} split, {check['crops']} reader crops, {check['crops_malignant']} "
             f"malignant; dense tissue only, as on the CT page): AUC with the reader's box {check['auc_reader_box']:.3f}"]
    for row in check["shrunk"]:
        lines.append(f"  box cut to {100 * row['box_scale']:.0f} % per side: AUC {row['auc']:.3f}, likelihood change "
                     f"{row['mean_change_benign']:+.3f} (benign), {row['mean_change_malignant']:+.3f} (malignant), "
                     f"unscoreable {row['unscoreable']}")
    for row in check["native_nodules"]:
        found = (f"page box {row['box_mm']:.1f} mm = {row['box_over_diameter']:.2f} x" if row["box_mm"] is not None
                 else "no candidate within its radius,")
        lines.append(f"  {row['patient']} native nodule {row['diameter_mm']:.1f} mm: {found} the reference diameter")
    lines.append(f"  not covered: {check['not_covered']}")
    return "\n".join(lines)


def dense_tissue_report(check: dict) -> str:
    """Printed lines of :func:`dense_tissue_check`."""
    return "\n".join([
        f"dense-tissue check ({check['split']} split, {check['crops']} reader-outlined crops, "
        f"{check['crops_malignant']} malignant): keep only tissue above {check['dense_tissue_hu']:g} HU, "
        "as the CT page does for candidates",
        f"outlined pixels removed: median {100 * check['outlined_share_removed_median']:.0f} %, "
        f"90th percentile {100 * check['outlined_share_removed_p90']:.0f} %",
        f"AUC with the reader outline {check['auc_reader_outline']:.3f}, dense tissue only "
        f"{check['auc_dense_tissue_only']:.3f}",
        f"likelihood change: mean {check['mean_change_benign']:+.3f} (benign), {check['mean_change_malignant']:+.3f} "
        f"(malignant), largest {check['largest_absolute_change']:.3f}; unscoreable after: {check['unscoreable']}",
    ])


def report(metrics: dict) -> str:
    """Human-readable lines for one metrics dict."""
    lo, hi = metrics["auc_ci95"]
    blo, bhi = metrics["diameter_baseline_auc_ci95"]
    dlo, dhi = metrics["auc_minus_diameter_baseline_ci95"]
    return "\n".join([
        f"split: {metrics['split']} ({metrics['patients']} patients, {metrics['crops_malignant']} malignant / "
        f"{metrics['crops_benign']} benign crops)",
        f"AUC (CNN):                {metrics['auc']:.3f}  95% CI {lo:.3f}-{hi:.3f}  ({metrics['bootstrap']})",
        f"AUC (diameter baseline):  {metrics['diameter_baseline_auc']:.3f}  95% CI {blo:.3f}-{bhi:.3f}",
        f"AUC CNN - baseline:       {metrics['auc_minus_diameter_baseline']:+.3f}  95% CI {dlo:+.3f} to {dhi:+.3f}"
        f"  (paired: same resamples){'' if dlo > 0 else '; the CNN is not shown to rank better than size alone'}",
        f"threshold (from validation) {metrics['threshold']:.3f}: sensitivity {metrics['sensitivity']:.3f}, "
        f"specificity {metrics['specificity']:.3f}",
        f"ECE (10 bins; temperature {metrics['temperature']:.3f}, bias {metrics['bias']:.3f} from validation): "
        f"{metrics['ece']:.3f}",
        requirement_line(metrics),
        f"anchors: {ANCHORS}",
    ])


def requirement_line(metrics: dict) -> str:
    """The must/aim verdict; only the test split is judged against them."""
    if metrics["split"] != "test":
        return f"requirement: judged on the test split only (this is {metrics['split']})"
    auc = metrics["auc"]
    return (f"requirement: test AUC >= {REQUIRED_AUC} {'met' if auc >= REQUIRED_AUC else 'NOT met'}; "
            f"aim >= {AIMED_AUC} {'met' if auc >= AIMED_AUC else 'not met'}")


def update_card(metrics: dict, model_dir: Path = MODEL_DIR) -> Path:
    """Write ``metrics`` into the card under ``metrics.<split>`` (and the test ECE under calibration)."""
    def edit(card: dict) -> None:
        card.setdefault("metrics", {})[metrics["split"]] = metrics
        if metrics["split"] == "test":
            card.setdefault("calibration", {})["ece_test"] = metrics["ece"]
        card["metrics"]["anchors"] = ANCHORS
        card["evaluation_command"] = f"{COMMAND} --update-card"

    return _rewrite_card(edit, model_dir)


def update_card_section(key: str, value: dict, model_dir: Path = MODEL_DIR) -> Path:
    """Write ``value`` into the card under ``metrics.<key>``."""
    def edit(card: dict) -> None:
        card.setdefault("metrics", {})[key] = value

    return _rewrite_card(edit, model_dir)


def _rewrite_card(edit, model_dir: Path) -> Path:
    """Read the card, apply ``edit(card)`` in place, write it back; returns its path."""
    path = Path(model_dir) / CARD_FILE
    card = json.loads(path.read_text())
    edit(card)
    path.write_text(json.dumps(card, indent=2) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    # This module's own name: `python -m medmodels.evaluate ct` (COMMAND) accepts only --update-card and --no-tta.
    parser = argparse.ArgumentParser(prog="python -m medmodels.ct.malignancy_eval", description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR)
    parser.add_argument("--update-card", action="store_true", help="write the printed figures into card.json")
    parser.add_argument("--dense-tissue-check", action="store_true",
                        help="also measure, on validation crops, the effect of the CT page's dense-tissue outline")
    parser.add_argument("--box-size-check", action="store_true",
                        help="also measure, on validation crops and the native LIDC nodules, the effect of the CT "
                             "page's box size")
    args = parser.parse_args(argv)
    if not (crops_dir() / "crops.csv").is_file():
        print(f"crop table not found under {crops_dir()} (set MEDMODELS_DATA)", file=sys.stderr)
        return 2
    model = load_model(args.model_dir)
    metrics = evaluate(args.model_dir, model=model)
    print(report(metrics))
    if args.update_card:
        print(f"updated {update_card(metrics, args.model_dir)}")
    if args.dense_tissue_check:
        check = dense_tissue_check(args.model_dir, model=model)
        print(dense_tissue_report(check))
        if args.update_card:
            print(f"updated {update_card_section('dense_tissue_check', check, args.model_dir)}")
    if args.box_size_check:
        check = box_size_check(args.model_dir, model=model)
        print(box_size_report(check))
        if args.update_card:
            print(f"updated {update_card_section('box_size_check', check, args.model_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
