"""The LIDC-IDRI series and LUNA16 nodule list of the data folder, in pixel terms."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .config import data_dir
from .dicom_io import CTImage


@dataclass(frozen=True)
class Nodule:
    """A reference nodule: centre in patient coordinates (mm) and diameter (mm)."""

    x_mm: float
    y_mm: float
    z_mm: float
    diameter_mm: float

    def pixel(self, image: CTImage) -> tuple[float, float]:
        """(row, col) of the centre in the image's pixel grid (axial series)."""
        x0, y0 = image.position_xy_mm
        return (self.y_mm - y0) / image.spacing[1], (self.x_mm - x0) / image.spacing[2]

    def central_slice(self, image: CTImage) -> int:
        return int(np.argmin(np.abs(np.asarray(image.slice_z_mm) - self.z_mm)))

    def slices(self, image: CTImage) -> np.ndarray:
        """Indices of the slices the nodule crosses (|z − centre| ≤ radius), at least the central one."""
        z = np.asarray(image.slice_z_mm)
        inside = np.flatnonzero(np.abs(z - self.z_mm) <= self.diameter_mm / 2)
        return inside if inside.size else np.array([self.central_slice(image)])


def lidc_series() -> dict[str, list[Path]]:
    """Slice files of each LIDC series in the data folder, by patient id."""
    root = data_dir() / "ct" / "lidc"
    series = {}
    for patient in sorted(p for p in root.glob("LIDC-IDRI-*") if p.is_dir()):
        files = sorted(patient.glob("*/*/*.dcm"))
        if files:
            series[patient.name] = files
    return series


def luna16_nodules(series_uid: str) -> list[Nodule]:
    """LUNA16 nodules (≥ 3 mm, accepted by ≥ 3 of 4 readers) of one series."""
    table = pd.read_csv(data_dir() / "ct" / "luna16" / "annotations.csv")
    rows = table[table["seriesuid"] == series_uid]
    return [Nodule(r.coordX, r.coordY, r.coordZ, r.diameter_mm) for r in rows.itertuples()]


def reference_nodules(series_uid: str) -> list[Nodule]:
    """:func:`luna16_nodules` for display: [] when the series has none or the data folder lacks the list.

    The reference exists only for the public LIDC-IDRI series; a clinician's own
    upload has none, and its absence must never stop the page.
    """
    if not series_uid:
        return []
    try:
        return luna16_nodules(series_uid)
    except (FileNotFoundError, KeyError, ValueError):
        return []
