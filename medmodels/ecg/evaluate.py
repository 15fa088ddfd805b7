"""Evaluate the beat classifier on MIT-BIH DS2 and the detector on all 48 records.

``python -m medmodels.evaluate ecg [--update-card]`` runs :func:`main`:
per-class Se, +P, F1 and accuracy on DS2 with beats located by the reference
annotations and by our own detector (150 ms matching), QRS detection Se/+P
on all 48 records (lead 0, every beat symbol), calibration (ECE) on DS2, and
a short analysis of the multi-lead sample records.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from medmodels.config import data_dir
from medmodels.ecg import AAMI_CLASSES
from medmodels.ecg.agreement import class_metrics, confusion_matrix, format_metrics_table, match_beats

MATCH_WINDOW_S = 0.15


def evaluate_classifier(classifier, records) -> dict:
    """Confusion matrices and metrics for ``records`` with reference-located and detected beats."""
    from medmodels.ecg.calibration import expected_calibration_error
    from medmodels.ecg.mitdb import reference_beats
    from medmodels.ecg.pipeline import analyse_ecg

    k = len(AAMI_CLASSES) + 1
    cm_reference = np.zeros((k, k), dtype=np.int64)
    cm_detected = np.zeros((k, k), dtype=np.int64)
    probabilities, truth = [], []
    for record_id in records:
        raw, fs, ref_samples, ref_labels = reference_beats(record_id)
        on_reference = analyse_ecg(raw, fs, classifier, beat_samples=ref_samples)
        predicted = on_reference.probabilities.argmax(axis=1)
        cm_reference += confusion_matrix(ref_labels, predicted)
        probabilities.append(on_reference.probabilities)
        truth.append(ref_labels)
        detected = analyse_ecg(raw, fs, classifier)
        matches = match_beats(ref_samples, detected.beat_samples, fs, MATCH_WINDOW_S)
        cm_detected += confusion_matrix(ref_labels, detected.probabilities.argmax(axis=1), matches)
    ece = expected_calibration_error(np.concatenate(probabilities), np.concatenate(truth))
    return {"reference_beats": {"metrics": class_metrics(cm_reference), "confusion": cm_reference.tolist()},
            "own_detector": {"metrics": class_metrics(cm_detected), "confusion": cm_detected.tolist()},
            "ece_reference_beats": ece}


def evaluate_detector(records=None) -> dict:
    """QRS detection TP/FP/FN, Se and +P (%) summed over records (lead 0, all beat symbols)."""
    from medmodels.ecg.mitdb import QRS_SYMBOLS, mitdb_dir
    from medmodels.ecg.qrs import detect_qrs
    from medmodels.ecg.reading import read_record

    if records is None:
        records = [r.strip() for r in (mitdb_dir() / "RECORDS").read_text().split() if r.strip()]
    tp = fp = fn = 0
    per_record = {}
    for record_id in records:
        rec = read_record(mitdb_dir() / record_id)
        ref = rec.ann_sample[[i for i, s in enumerate(rec.ann_symbol) if s in QRS_SYMBOLS]]
        detected = detect_qrs(rec.signal[:, 0], rec.fs)
        matches = match_beats(ref, detected, rec.fs, MATCH_WINDOW_S)
        r_tp = int((matches >= 0).sum())
        r_fn, r_fp = int(ref.size - r_tp), int(detected.size - r_tp)
        tp, fp, fn = tp + r_tp, fp + r_fp, fn + r_fn
        per_record[record_id] = {"tp": r_tp, "fp": r_fp, "fn": r_fn}
    return {"records": len(records), "tp": tp, "fp": fp, "fn": fn,
            "Se": 100.0 * tp / max(tp + fn, 1), "+P": 100.0 * tp / max(tp + fp, 1), "per_record": per_record}


def analyse_samples(classifier) -> list[dict]:
    """Beats per class and mean HR for every record under data_dir()/ecg/samples."""
    from medmodels.ecg.pipeline import analyse_ecg
    from medmodels.ecg.reading import choose_lead, read_record

    root = data_dir() / "ecg" / "samples"
    rows = []
    for header in sorted(root.rglob("*.hea")):
        rec = read_record(header.with_suffix(""))
        column = choose_lead(rec.lead_names)
        result = analyse_ecg(rec.signal[:, column], rec.fs, classifier)
        rows.append({"record": str(header.relative_to(root).with_suffix("")), "fs": rec.fs,
                     "lead": rec.lead_names[column], "beats": result.summary["class_counts"],
                     "mean_bpm": result.summary["heart_rate"]["mean_bpm"]})
    return rows


def _rounded(obj):
    if isinstance(obj, float):
        return round(obj, 2)
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    return obj


def update_card(results: dict, model_dir: Path) -> None:
    """Write DS2 and detection figures into ``card.json`` (metrics.test_metrics)."""
    path = Path(model_dir) / "card.json"
    card = json.loads(path.read_text())
    detection = {k: v for k, v in results["detector"].items() if k != "per_record"}
    card.setdefault("metrics", {})["test_metrics"] = {
        "split": "MIT-BIH DS2 (22 records), MLII lead",
        "match_window_s": MATCH_WINDOW_S,
        "reference_beats": _rounded(results["classifier"]["reference_beats"]["metrics"]),
        "own_detector": _rounded(results["classifier"]["own_detector"]["metrics"]),
        "confusion_reference_beats": results["classifier"]["reference_beats"]["confusion"],
        "confusion_own_detector": results["classifier"]["own_detector"]["confusion"],
        "confusion_labels": "rows reference N,S,V,F,Q,- ; columns prediction N,S,V,F,Q,- ('-' = unmatched)",
        "ece_ds2_reference_beats": round(results["classifier"]["ece_reference_beats"], 4),
        "qrs_detection_all_48_records_lead0": _rounded(detection),
    }
    path.write_text(json.dumps(card, indent=2) + "\n")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``python -m medmodels.evaluate ecg``."""
    from medmodels.ecg.model import MODEL_DIR

    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR)
    parser.add_argument("--update-card", action="store_true", help="write the figures into card.json")
    parser.add_argument("--skip-samples", action="store_true")


def main(args: argparse.Namespace) -> int:
    from medmodels.ecg.mitdb import DS2
    from medmodels.ecg.model import load_classifier

    started = time.time()
    classifier = load_classifier(args.model_dir)
    print(f"model {classifier.name} {classifier.version} sha256 {classifier.sha256[:12]}… "
          f"temperature {classifier.temperature:.3f}")
    classification = evaluate_classifier(classifier, DS2)
    print(format_metrics_table(classification["reference_beats"]["metrics"],
                               "DS2, beats located by the reference annotations"))
    print(format_metrics_table(classification["own_detector"]["metrics"],
                               "DS2, beats from our detector (150 ms matching; unmatched = FP/FN)"))
    print(f"ECE on DS2 (reference beats, 15 bins): {100 * classification['ece_reference_beats']:.2f} %")
    detector = evaluate_detector()
    print(f"QRS detection, all {detector['records']} records, lead 0: Se {detector['Se']:.2f} % "
          f"+P {detector['+P']:.2f} % (TP {detector['tp']}, FP {detector['fp']}, FN {detector['fn']})")
    if not args.skip_samples:
        for row in analyse_samples(classifier):
            print(f"sample {row['record']} ({row['fs']:g} Hz, lead {row['lead']}): beats {row['beats']}, "
                  f"mean HR {row['mean_bpm']} bpm")
    if args.update_card:
        update_card({"classifier": classification, "detector": detector}, args.model_dir)
        print(f"updated {Path(args.model_dir) / 'card.json'}")
    print(f"({time.time() - started:.0f} s)")
    return 0
