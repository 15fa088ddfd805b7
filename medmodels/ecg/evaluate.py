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
#: MIT-BIH rhythm annotations of ventricular tachycardia and flutter (no VF is annotated there).
VENTRICULAR_TACHYARRHYTHMIAS = ("(VT", "(VFL", "(VF")


def evaluate_classifier(classifier, records) -> dict:
    """Confusion matrices and metrics for ``records`` with reference-located and detected beats."""
    from medmodels.ecg.calibration import expected_calibration_error
    from medmodels.ecg.mitdb import reference_beats, second_lead
    from medmodels.ecg.pipeline import analyse_ecg

    k = len(AAMI_CLASSES) + 1
    cm_reference = np.zeros((k, k), dtype=np.int64)
    cm_detected = np.zeros((k, k), dtype=np.int64)
    probabilities, truth, agreeing = [], [], []
    per_record_detected = {}
    for record_id in records:
        raw, fs, ref_samples, ref_labels = reference_beats(record_id)
        second = second_lead(record_id)[0] if classifier.leads == 2 else None
        on_reference = analyse_ecg(raw, fs, classifier, second_lead_mv=second, beat_samples=ref_samples)
        predicted = on_reference.probabilities.argmax(axis=1)
        cm_reference += confusion_matrix(ref_labels, predicted)
        probabilities.append(on_reference.probabilities)
        truth.append(ref_labels)
        agreeing.append(on_reference.networks_agreeing)
        detected = analyse_ecg(raw, fs, classifier, second_lead_mv=second)
        matches = match_beats(ref_samples, detected.beat_samples, fs, MATCH_WINDOW_S)
        per_record_detected[record_id] = confusion_matrix(ref_labels, detected.probabilities.argmax(axis=1), matches)
        cm_detected += per_record_detected[record_id]
    all_probabilities, all_truth = np.concatenate(probabilities), np.concatenate(truth)
    ece = expected_calibration_error(all_probabilities, all_truth)
    return {"reference_beats": {"metrics": class_metrics(cm_reference), "confusion": cm_reference.tolist()},
            "own_detector": {"metrics": class_metrics(cm_detected), "confusion": cm_detected.tolist(),
                             "per_record": {name: per_record_counts(per_record_detected, name) for name in ("S", "V")}},
            "ece_reference_beats": ece,
            "network_agreement": agreement_split(all_truth, all_probabilities.argmax(axis=1), np.concatenate(agreeing),
                                                 len(classifier.networks))}


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def per_record_counts(confusions: dict[str, np.ndarray], class_name: str) -> list[dict]:
    """Per record, from its (6, 6) confusion matrix: reference beats of ``class_name`` found, missed and false calls.

    ``missed`` counts reference beats of the class called anything else or not detected (FN);
    ``false_calls`` counts detections labelled the class that are another class or no beat (FP).
    Rows keep the order of ``confusions``.
    """
    i = AAMI_CLASSES.index(class_name)
    rows = []
    for record_id, cm in confusions.items():
        cm = np.asarray(cm, dtype=np.int64)
        found, n_reference = int(cm[i, i]), int(cm[i, :].sum())
        rows.append({"record": record_id, "n_reference": n_reference, "found": found,
                     "missed": n_reference - found, "false_calls": int(cm[:, i].sum()) - found})
    return rows


def format_per_record(rows: list[dict], class_name: str, split: str = "DS2") -> str:
    """The records with any reference beat or false call of the class, and which record holds most misses and
    most false calls: where a pooled Se or +P comes from."""
    shown = [r for r in rows if r["n_reference"] or r["false_calls"]]
    lines = [f"{class_name} by {split} record (own detector):",
             f"  {'record':>6} {'n_ref':>6} {'found':>6} {'missed':>7} {'false calls':>12}"]
    lines += [f"  {r['record']:>6} {r['n_reference']:>6} {r['found']:>6} {r['missed']:>7} {r['false_calls']:>12}"
              for r in shown]
    for key, what in (("missed", f"missed {class_name} beats"), ("false_calls", f"false {class_name} calls")):
        total = sum(r[key] for r in rows)
        if total:
            worst = max(rows, key=lambda r: r[key])
            lines.append(f"  record {worst['record']} holds {worst[key]} of the {total} {what} ({_percent(worst[key], total)} %)")
    return "\n".join(lines)


def af_rule_reach(records) -> dict:
    """How many reference S beats sit where the AF rule makes S impossible (:func:`~medmodels.ecg.model.fold_s_into_n`).

    The rule reads RR intervals only, so this needs no network: the reference beats at MODEL_FS,
    their irregularity feature against AF_IRREGULARITY_THRESHOLD, as the classifier computes them.
    Returns totals and, per record with any such beat, ``[S beats, S beats in AF-like rhythm]``.
    """
    from medmodels.ecg.beats import IRREGULARITY_FEATURE, MODEL_FS, rr_features
    from medmodels.ecg.mitdb import beats_to_model_rate, reference_beats
    from medmodels.ecg.model import AF_IRREGULARITY_THRESHOLD

    s_class = AAMI_CLASSES.index("S")
    total, ruled_out, per_record = 0, 0, {}
    for record_id in records:
        _, fs, samples, labels = reference_beats(record_id)
        if samples.size < 2:
            continue
        irregularity = rr_features(beats_to_model_rate(samples, fs), MODEL_FS, (IRREGULARITY_FEATURE,))[:, 0]
        is_s = labels == s_class
        in_af_like = int((is_s & (irregularity > AF_IRREGULARITY_THRESHOLD)).sum())
        total, ruled_out = total + int(is_s.sum()), ruled_out + in_af_like
        if in_af_like:
            per_record[record_id] = [int(is_s.sum()), in_af_like]
    return {"s_beats": total, "s_beats_in_af_like_rhythm": ruled_out,
            "percent": _percent(ruled_out, total), "per_record": per_record}


def format_af_rule_reach(reach: dict, split: str) -> str:
    """One line: the share of a split's S beats that the AF rule rules out, and the records they are in."""
    records = ", ".join(f"{r} {k}/{n}" for r, (n, k) in reach["per_record"].items())
    return (f"AF rule, {split}: {reach['s_beats_in_af_like_rhythm']} of {reach['s_beats']} reference S beats "
            f"({reach['percent']} %) lie in AF-like rhythm, where S is ruled out ({records or 'none'})")


def agreement_split(truth: np.ndarray, predicted: np.ndarray, agreeing: np.ndarray, n_networks: int) -> dict:
    """How right the classifier is where its networks all agree and where they do not.

    ``truth``, ``predicted`` (n,) class indices; ``agreeing`` (n,) how many of
    ``n_networks`` give the predicted class.  Per group: beats, their share (%),
    accuracy (%), and the non-N calls and the % of them that are right.
    """
    truth, predicted, agreeing = (np.asarray(a) for a in (truth, predicted, agreeing))
    normal = AAMI_CLASSES.index("N")
    out = {"n_networks": n_networks}
    for name, mask in (("all_agree", agreeing == n_networks), ("some_disagree", agreeing < n_networks)):
        right = mask & (truth == predicted)
        calls = mask & (predicted != normal)
        out[name] = {"beats": int(mask.sum()), "share_percent": _percent(int(mask.sum()), truth.size),
                     "accuracy_percent": _percent(int(right.sum()), int(mask.sum())),
                     "non_n_calls": int(calls.sum()),
                     "non_n_calls_right_percent": _percent(int((calls & right).sum()), int(calls.sum()))}
    return out


def format_agreement_split(split: dict) -> str:
    """Two lines: accuracy and non-N call precision where all networks agree and where some do not."""
    lines = [f"DS2 reference beats by agreement of the {split['n_networks']} networks:"]
    for name, words in (("all_agree", "all agree"), ("some_disagree", "some disagree")):
        g = split[name]
        lines.append(f"  {words:<14} {g['beats']:>6} beats ({g['share_percent']} %): accuracy "
                     f"{g['accuracy_percent']} %; non-N calls {g['non_n_calls']}, right {g['non_n_calls_right_percent']} %")
    return "\n".join(lines)


def evaluate_detector(records=None) -> dict:
    """QRS detection TP/FP/FN, Se and +P (%) summed over records (lead 0, all beat symbols).

    Also split by the "no regular beats" check (:mod:`medmodels.ecg.quality`):
    the same counts inside and outside flagged windows (a missed beat counts
    where the reference beat lies, a false detection where it lies), and what
    the flagged windows were by the annotations (over half their length in
    annotated lead-0 noise, or in ventricular tachycardia or flutter).
    """
    from medmodels.ecg.conditioning import check_signal, condition_for_analysis
    from medmodels.ecg.mitdb import QRS_SYMBOLS, annotated_noise, annotated_rhythm, mitdb_dir
    from medmodels.ecg.qrs import detect_qrs
    from medmodels.ecg.quality import in_flagged_window, no_regular_beats_windows, window_bounds
    from medmodels.ecg.reading import read_record

    if records is None:
        records = [r.strip() for r in (mitdb_dir() / "RECORDS").read_text().split() if r.strip()]
    counts = {part: np.zeros(3, dtype=np.int64) for part in ("all", "flagged", "rest")}  # tp, fp, fn
    windows = dict.fromkeys(("flagged", "rest", "noisy", "noisy_flagged", "ventricular", "ventricular_flagged"), 0)
    per_record = {}
    for record_id in records:
        rec = read_record(mitdb_dir() / record_id)
        ref = rec.ann_sample[[i for i, s in enumerate(rec.ann_symbol) if s in QRS_SYMBOLS]]
        lead = check_signal(rec.signal[:, 0], rec.fs)
        detected = detect_qrs(lead, rec.fs)
        matches = match_beats(ref, detected, rec.fs, MATCH_WINDOW_S)
        found = matches >= 0
        true_detection = np.zeros(detected.size, dtype=bool)
        true_detection[matches[found]] = True
        flags = no_regular_beats_windows(condition_for_analysis(lead, rec.fs), detected, rec.fs)
        ref_flagged = in_flagged_window(ref, flags, lead.size, rec.fs)
        det_flagged = in_flagged_window(detected, flags, lead.size, rec.fs)
        for part, ref_in, det_in in (("all", True, True), ("flagged", ref_flagged, det_flagged),
                                     ("rest", ~ref_flagged, ~det_flagged)):
            counts[part] += [int((found & ref_in).sum()), int((~true_detection & det_in).sum()),
                             int((~found & ref_in).sum())]
        bounds = window_bounds(lead.size, rec.fs)
        noise = annotated_noise(record_id, lead.size)
        ventricular = annotated_rhythm(record_id, lead.size, VENTRICULAR_TACHYARRHYTHMIAS)
        noisy, in_ventricular = _mostly_inside(noise, bounds), _mostly_inside(ventricular, bounds)
        windows["flagged"] += int(flags.sum())
        windows["rest"] += int((~flags).sum())
        windows["noisy"] += int(noisy.sum())
        windows["noisy_flagged"] += int((noisy & flags).sum())
        windows["ventricular"] += int(in_ventricular.sum())
        windows["ventricular_flagged"] += int((in_ventricular & flags).sum())
        per_record[record_id] = {"tp": int(found.sum()), "fp": int((~true_detection).sum()), "fn": int((~found).sum())}
    result = {"records": len(records), **_detection_figures(counts["all"]), "per_record": per_record}
    result["no_regular_beats_check"] = {
        "check": "10 s windows with kurtosis <= 5 and beat-template correlation < 0.66 (medmodels.ecg.quality)",
        "flagged": {"windows": windows["flagged"], **_detection_figures(counts["flagged"])},
        "rest": {"windows": windows["rest"], **_detection_figures(counts["rest"])},
        "annotated_noisy_windows": windows["noisy"],
        "annotated_noisy_windows_flagged": windows["noisy_flagged"],
        "ventricular_tachyarrhythmia_windows": windows["ventricular"],
        "ventricular_tachyarrhythmia_windows_flagged": windows["ventricular_flagged"],
    }
    return result


def _mostly_inside(mask: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """bool (k,): whether over half of each window (``bounds`` (k, 2) samples) lies where ``mask`` is True."""
    return np.array([mask[start:stop].mean() > 0.5 for start, stop in bounds], dtype=bool)


def _detection_figures(counts: np.ndarray) -> dict:
    """``{"tp", "fp", "fn", "Se", "+P"}`` (%) from counts (tp, fp, fn)."""
    tp, fp, fn = (int(c) for c in counts)
    return {"tp": tp, "fp": fp, "fn": fn, "Se": 100.0 * tp / max(tp + fn, 1), "+P": 100.0 * tp / max(tp + fp, 1)}


def format_quality_split(split: dict) -> str:
    """The detection figures inside and outside flagged windows, and what was flagged, as printed lines."""
    lines = [f"QRS detection and the no-regular-beats check ({split['check']}):"]
    for name in ("flagged", "rest"):
        part = split[name]
        lines.append(f"  {name:8s} {part['windows']:5d} windows  Se {part['Se']:6.2f} %  +P {part['+P']:6.2f} %  "
                     f"(TP {part['tp']}, FP {part['fp']}, FN {part['fn']})")
    lines.append(f"  flagged among windows in annotated VT/VFL: {split['ventricular_tachyarrhythmia_windows_flagged']} of "
                 f"{split['ventricular_tachyarrhythmia_windows']}; among windows annotated noisy on lead 0: "
                 f"{split['annotated_noisy_windows_flagged']} of {split['annotated_noisy_windows']}")
    return "\n".join(lines)


def analyse_samples(classifier) -> list[dict]:
    """Beats per class and mean HR for every record under data_dir()/ecg/samples."""
    from medmodels.ecg.pipeline import analyse_ecg
    from medmodels.ecg.reading import choose_lead, choose_second_lead, read_record

    root = data_dir() / "ecg" / "samples"
    rows = []
    for header in sorted(root.rglob("*.hea")):
        rec = read_record(header.with_suffix(""))
        column = choose_lead(rec.lead_names)
        second = choose_second_lead(rec.lead_names, column) if classifier.leads == 2 else None
        if classifier.leads == 2 and second is None:
            continue  # the single-lead classifier's evaluation covers these
        result = analyse_ecg(rec.signal[:, column], rec.fs, classifier,
                             second_lead_mv=None if second is None else rec.signal[:, second])
        rows.append({"record": str(header.relative_to(root).with_suffix("")), "fs": rec.fs,
                     "lead": rec.lead_names[column] + ("" if second is None else f" + {rec.lead_names[second]}"),
                     "beats": result.summary["class_counts"],
                     "mean_bpm": result.summary["heart_rate"]["mean_bpm"]})
    return rows


def _rounded(obj):
    if isinstance(obj, float):
        return round(obj, 2)
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    return obj


PER_RECORD_COLUMNS = ("n_reference", "found", "missed", "false_calls")


def _compact_per_record(per_record: dict[str, list[dict]]) -> dict:
    """Per class, ``{record: [n_reference, found, missed, false_calls]}`` for records with any of them."""
    compact = {"columns": list(PER_RECORD_COLUMNS)}
    for class_name, rows in per_record.items():
        compact[class_name] = {r["record"]: [r[c] for c in PER_RECORD_COLUMNS] for r in rows
                               if r["n_reference"] or r["false_calls"]}
    return compact


def update_card(results: dict, model_dir: Path) -> None:
    """Write DS2 and detection figures into ``card.json`` (metrics.test_metrics)."""
    path = Path(model_dir) / "card.json"
    card = json.loads(path.read_text())
    detection = {k: v for k, v in results["detector"].items() if k != "per_record"}
    card.setdefault("metrics", {})["test_metrics"] = {
        "split": "MIT-BIH DS2 (22 records), MLII lead" + ("" if results.get("leads", 1) == 1 else
                                                          " with the second lead (V1 in 18 records, V2 in 103 and 117, V5 in 100 and 123)"),
        "match_window_s": MATCH_WINDOW_S,
        "reference_beats": _rounded(results["classifier"]["reference_beats"]["metrics"]),
        "own_detector": _rounded(results["classifier"]["own_detector"]["metrics"]),
        "own_detector_per_record": _compact_per_record(results["classifier"]["own_detector"]["per_record"]),
        "confusion_reference_beats": results["classifier"]["reference_beats"]["confusion"],
        "confusion_own_detector": results["classifier"]["own_detector"]["confusion"],
        "confusion_labels": "rows reference N,S,V,F,Q,- ; columns prediction N,S,V,F,Q,- ('-' = unmatched)",
        "ece_ds2_reference_beats": round(results["classifier"]["ece_reference_beats"], 4),
        "network_agreement_reference_beats": results["classifier"]["network_agreement"],
        "qrs_detection_all_48_records_lead0": _rounded(detection),
    }
    if "af_rule_reach" in results:
        card["metrics"]["test_metrics"]["af_rule_reference_s_beats_ruled_out"] = results["af_rule_reach"]
    path.write_text(json.dumps(card, indent=2) + "\n")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``python -m medmodels.evaluate ecg``."""
    parser.add_argument("--leads", type=int, choices=(1, 2), default=2,
                        help="evaluate the two-lead (default) or the single-lead classifier")
    parser.add_argument("--model-dir", type=Path, default=None, help="default: the committed classifier's folder")
    parser.add_argument("--update-card", action="store_true", help="write the figures into card.json")
    parser.add_argument("--skip-samples", action="store_true")


def main(args: argparse.Namespace) -> int:
    from medmodels.ecg.mitdb import DS1, DS2
    from medmodels.ecg.model import load_classifier, model_dir_for

    started = time.time()
    model_dir = model_dir_for(args.leads) if args.model_dir is None else args.model_dir
    classifier = load_classifier(model_dir)
    print(f"model {classifier.name} {classifier.version} sha256 {classifier.sha256[:12]}… "
          f"temperature {classifier.temperature:.3f}")
    classification = evaluate_classifier(classifier, DS2)
    print(format_metrics_table(classification["reference_beats"]["metrics"],
                               "DS2, beats located by the reference annotations"))
    print(format_metrics_table(classification["own_detector"]["metrics"],
                               "DS2, beats from our detector (150 ms matching; unmatched = FP/FN)"))
    for name in ("S", "V"):
        print(format_per_record(classification["own_detector"]["per_record"][name], name))
    reach = {"DS1": af_rule_reach(DS1), "DS2": af_rule_reach(DS2)}
    for split, figures in reach.items():
        print(format_af_rule_reach(figures, split))
    print(f"ECE on DS2 (reference beats, 15 bins): {100 * classification['ece_reference_beats']:.2f} %")
    print(format_agreement_split(classification["network_agreement"]))
    detector = evaluate_detector()
    print(f"QRS detection, all {detector['records']} records, lead 0: Se {detector['Se']:.2f} % "
          f"+P {detector['+P']:.2f} % (TP {detector['tp']}, FP {detector['fp']}, FN {detector['fn']})")
    print(format_quality_split(detector["no_regular_beats_check"]))
    if not args.skip_samples:
        for row in analyse_samples(classifier):
            print(f"sample {row['record']} ({row['fs']:g} Hz, lead {row['lead']}): beats {row['beats']}, "
                  f"mean HR {row['mean_bpm']} bpm")
    if args.update_card:
        update_card({"classifier": classification, "detector": detector, "leads": classifier.leads,
                     "af_rule_reach": reach}, model_dir)
        print(f"updated {Path(model_dir) / 'card.json'}")
    print(f"({time.time() - started:.0f} s)")
    return 0
