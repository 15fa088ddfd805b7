"""Example inputs users can pick without uploading: bundled and data-folder files."""

from __future__ import annotations

from pathlib import Path

from .config import data_path


def ct_examples() -> dict[str, list[Path]]:
    """Example CT sources by label: LIDC series when the data folder has them, then pydicom's CT_small always.

    A full chest series comes first (the page's default): CT_small is a 128×128 crop with no lung
    fields, which shows how the page declines, not what it does.
    """
    from pydicom.data import get_testdata_file

    examples = {}
    lidc = data_path("ct", "lidc")
    if lidc is not None:
        for patient in sorted(p for p in lidc.iterdir() if p.is_dir()):
            for series in sorted(patient.glob("*/*")):
                slices = sorted(series.glob("*.dcm"))
                if slices:
                    examples[f"{patient.name} (LIDC-IDRI chest CT, {len(slices)} slices)"] = slices
    examples["CT_small.dcm (pydicom sample, 1 slice)"] = [Path(get_testdata_file("CT_small.dcm"))]
    return examples


def ecg_examples() -> dict[str, Path]:
    """Example WFDB records by label (path without extension), from the data folder when present."""
    examples: dict[str, Path] = {}
    mitdb = data_path("ecg", "mitdb")
    if mitdb is not None:
        for hea in sorted(mitdb.glob("*.hea")):
            examples[f"MIT-BIH {hea.stem} (30 min, 2 leads, 360 Hz)"] = hea.with_suffix("")
    samples = data_path("ecg", "samples")
    if samples is not None:
        for hea in sorted(samples.rglob("*.hea")):
            examples[f"{hea.parent.name} {hea.stem}"] = hea.with_suffix("")
    return examples
