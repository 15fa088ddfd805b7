"""Command line for crops: ``python -m medmodels ct --crop FILE... --json OUT_DIR``.

Bad files do not stop the batch: each input file gets one entry in
``crops.json``; an unreadable one carries ``"malignancy_prob": null`` and an
``"error"`` with the :class:`~medmodels.InputError` message, and the command
exits with status 1 after printing those messages to stderr. A crop from a
patient of the model's own training, validation or test split gets a note on
stderr saying so (see :mod:`medmodels.provenance`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from medmodels.cli_args import output_folder
from medmodels.errors import InputError

OUTPUT_NAME = "crops.json"


def crops_to_json(files, out_dir) -> tuple[Path, list[str]]:
    """Write ``OUT_DIR/crops.json`` (see :func:`crop_entries`); returns its path and the notes."""
    entries, notes = crop_entries(files)
    return write_entries(entries, out_dir), notes


def crop_entries(files) -> tuple[list[dict], list[str]]:
    """``[{"file": str, "malignancy_prob": float | None, ["error": str]}]`` and notes.

    One entry per input file, in input order. ``malignancy_prob`` is the
    calibrated P(malignant) of the committed model. The notes are one
    ``"FILE: note: …"`` line per crop whose patient is in one of the model's splits.
    """
    from medmodels.ct.crops import read_crop
    from medmodels.ct.malignancy import load_model
    from medmodels.provenance import malignancy_series_provenance

    entries, readable, crops, notes = [], [], [], []
    for name in files:
        entry = {"file": str(name), "malignancy_prob": None}
        try:
            crops.append(read_crop(Path(name)))
            readable.append(len(entries))
        except InputError as exc:
            entry["error"] = str(exc)
        entries.append(entry)
    if not crops:  # every file refused: no model to load
        return entries, notes
    model = load_model()
    for index, crop, probability in zip(readable, crops, model.predict_crops(crops)):
        entries[index]["malignancy_prob"] = round(float(probability), 6)
        provenance = malignancy_series_provenance(crop.series_uid, model.card)
        if provenance is not None:
            notes.append(f"{entries[index]['file']}: note: {provenance.note}")
    return entries, notes


def write_entries(entries: list[dict], out_dir) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / OUTPUT_NAME
    path.write_text(json.dumps(entries, indent=2) + "\n")
    return path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--crop", nargs="+", required=True, metavar="FILE", help="nodule crop DICOM file(s)")
    parser.add_argument("--json", type=output_folder, required=True, metavar="OUT_DIR", help="folder for crops.json")


def run(args: argparse.Namespace) -> int:
    entries, notes = crop_entries(args.crop)
    path = write_entries(entries, args.json)
    for entry in entries:
        if "error" in entry:
            print(f"{entry['file']}: {entry['error']}", file=sys.stderr)
    for note in notes:
        print(note, file=sys.stderr)
    print(f"wrote {path} ({len(entries)} crops)")
    return 1 if any("error" in e for e in entries) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m medmodels ct", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
