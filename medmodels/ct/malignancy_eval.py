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

from medmodels.ct.crops import crops_dir, load_crop_table, patient_split
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


def evaluate(model_dir: Path = MODEL_DIR, split_name: str = "test") -> dict:
    """Metrics of the committed model on one patient-level split (default: test)."""
    model = load_model(model_dir)
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
    path = Path(model_dir) / CARD_FILE
    card = json.loads(path.read_text())
    card.setdefault("metrics", {})[metrics["split"]] = metrics
    if metrics["split"] == "test":
        card.setdefault("calibration", {})["ece_test"] = metrics["ece"]
    card["metrics"]["anchors"] = ANCHORS
    card["evaluation_command"] = f"{COMMAND} --update-card"
    path.write_text(json.dumps(card, indent=2) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR)
    parser.add_argument("--update-card", action="store_true", help="write the test figures into card.json")
    args = parser.parse_args(argv)
    if not (crops_dir() / "crops.csv").is_file():
        print(f"crop table not found under {crops_dir()} (set MEDMODELS_DATA)", file=sys.stderr)
        return 2
    metrics = evaluate(args.model_dir)
    print(report(metrics))
    if args.update_card:
        print(f"updated {update_card(metrics, args.model_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
