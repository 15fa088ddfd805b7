"""``python -m medmodels.evaluate ct``: detector figures on held-out series and malignancy figures on the test split."""

from __future__ import annotations

import argparse
from dataclasses import replace

from .ct_detector import load_fold_detector


def detector_figures(tta: bool = True) -> list[str]:
    """Recompute each fold's figures from the committed fold weights (with or without dihedral test-time averaging)."""
    from .ct_detector_data import crop_table, is_held_out_patient, load_crops, prepare_series
    from .ct_detector_eval import format_figures, format_square_edge_check, series_figures, square_edge_check
    from .ct_detector_train import FOLDS, SEED
    from .ct_lidc import lidc_series

    table = crop_table()
    table = table[~table["patient_id"].isin(FOLDS["fold-A"])]
    held_out_crops = load_crops(table[table["patient_id"].map(is_held_out_patient)])
    files = lidc_series()
    lines = []
    for fold, (_, test_patient) in FOLDS.items():
        detector = replace(load_fold_detector(fold), tta=tta)
        series = prepare_series(test_patient, files[test_patient])
        check = square_edge_check(detector, series, held_out_crops, SEED + 1)
        lines.append(format_figures(fold, series_figures(detector, series), check["box"]))
        lines.append(format_square_edge_check(check))
    return lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--update-card", action="store_true", help="write the malignancy test figures into its card")
    parser.add_argument("--no-tta", action="store_true", help="detector: score each patch once (no dihedral averaging)")


def run(args: argparse.Namespace) -> int:
    from .ct import malignancy_eval

    print("== Nodule detector: one full series held out per fold ==")
    print("\n".join(detector_figures(tta=not args.no_tta)))
    print("\n== Malignancy: patient-level test split of the LIDC crops ==")
    return malignancy_eval.main(["--update-card"] if args.update_card else [])
