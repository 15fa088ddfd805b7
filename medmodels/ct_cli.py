"""``python -m medmodels ct PATH... --json OUT_DIR``: nodule candidates of each series as JSON."""

from __future__ import annotations

import argparse
import functools
import json
import math
import re
import sys
from pathlib import Path

from .cli_args import output_folder
from .errors import InputError
from .ct_review import LIST_THRESHOLD, MAX_LISTED
from .provenance import malignancy_series_provenance


def series_json(image, detector, malignancy_model=None) -> dict:
    """Detector output for one loaded CT image (:func:`medmodels.load_ct`), in the documented schema.

    Candidates with nodule probability ≥ LIST_THRESHOLD are listed (at most
    MAX_LISTED per slice, most probable first); rows/cols are pixel indices of
    the original slice. ``malignancy_model`` (the loaded malignancy CNN) adds
    ``malignancy_prob``; without it the field is null, and so it is for a candidate with too little dense
    tissue in its box to score (see :func:`~medmodels.ct_review.malignancy_of_candidates`).
    """
    from .ct_detector import score_series
    from .ct_review import malignancy_of_candidates

    spacing = image.spacing[1:]
    scored_slices = score_series(image.hu, spacing, detector)
    slices = []
    for k, scored in enumerate(scored_slices):
        keep = [i for i, p in enumerate(scored.probabilities) if p >= LIST_THRESHOLD][:MAX_LISTED]
        malignant = (malignancy_of_candidates(malignancy_model, image.hu[k], spacing, scored)
                     if malignancy_model is not None and keep else None)
        slices.append({
            "sop_uid": image.sop_instance_uids[k],
            "z_mm": round(float(image.slice_z_mm[k]), 3),
            "max_prob": round(scored.max_probability, 4),
            "candidates": [{
                "row": int(round(float(scored.rows[i]))), "col": int(round(float(scored.cols[i]))),
                "diameter_mm": round(float(scored.diameters_mm[i]), 1),
                "nodule_prob": round(float(scored.probabilities[i]), 4),
                "malignancy_prob": _rounded_or_none(None if malignant is None else malignant.probability[i]),
            } for i in keep],
        })
    models = [{"name": detector.name, "sha256": detector.sha256}]
    if malignancy_model is not None:
        card = malignancy_model.card
        models.append({"name": card.get("name", "ct-malignancy"), "sha256": card.get("weights_sha256")})
    return {"series_uid": image.series_uid, "spacing_mm": [round(float(s), 6) for s in image.spacing],
            "slices": slices, "models": models}


def _rounded_or_none(value) -> float | None:
    """A probability for JSON: rounded, and null (not NaN, which is not JSON) when there is none."""
    return None if value is None or math.isnan(value) else round(float(value), 4)


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)[:120] or "series"


def run(args: argparse.Namespace) -> int:
    out = Path(args.json)
    out.mkdir(parents=True, exist_ok=True)
    if args.crop:
        from .ct import cli as crop_cli

        return crop_cli.run(argparse.Namespace(crop=args.paths, json=str(out)))
    from .ct.malignancy import load_model
    from .ct_detector import detector_choice, load_chosen_detector, read_detector_card
    from .ct_scope import analysis_refusal, untested_acquisition_note
    from .dicom_io import load_ct

    # Each model is loaded once for the whole batch, and only once an input has passed its checks: a batch of
    # files that are not CT is refused without waiting for TensorFlow.
    detector = functools.cache(load_chosen_detector)
    malignancy = functools.cache(load_model)
    detector_card = read_detector_card()
    status = 0
    for name in args.paths:
        try:
            image = load_ct(Path(name))
            refusal = analysis_refusal(image)
            if refusal:
                raise InputError(refusal)
            # As on the page: a series the final detector trained on is scored by the fold model that held it out.
            fold, detector_note = detector_choice(image.series_uid, card=detector_card)
            result = series_json(image, detector(fold), malignancy())
        except InputError as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            status = 1
            continue
        provenance = [note.note for note in (detector_note, malignancy_series_provenance(image.series_uid,
                                                                                        malignancy().card)) if note]
        # What the page shows beside the image: how the upload was read, which files were left out, whether the
        # models were tested on images like it. In the JSON too, so a result is never read without them.
        result["notes"] = [*image.notes, *(f"{file} was left out: {reason}" for file, reason in image.skipped),
                           *provenance, *filter(None, [untested_acquisition_note(image, detector_card)])]
        for note in result["notes"]:
            print(f"{name}: note: {note}", file=sys.stderr)
        target = out / f"{_safe_name(result['series_uid'] or Path(name).stem)}.json"
        target.write_text(json.dumps(result, indent=1) + "\n")
        print(f"{name}: {len(result['slices'])} slice(s) → {target}")
    return status


def add_ct_parser(commands) -> None:
    parser = commands.add_parser("ct", help="nodule candidates of DICOM series as JSON (or malignancy of crops with --crop)")
    parser.add_argument("paths", nargs="+", help="DICOM file or folder holding one series (with --crop: crop files)")
    parser.add_argument("--json", type=output_folder, required=True, metavar="OUT_DIR", help="folder for the JSON output")
    parser.add_argument("--crop", action="store_true", help="treat each file as a nodule crop; writes OUT_DIR/crops.json")
    parser.set_defaults(handler=run)
