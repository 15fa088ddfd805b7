"""Which CT images the nodule analysis is run on: axial slices at a known, plausible physical scale.

The detector was trained and tested on axial slices only, so coronal, sagittal
and oblique reconstructions are outside what it was measured on. It resamples
every slice to 0.7 mm pixels and reports sizes in mm, so an image whose pixel
spacing is missing or implausible would be measured wrongly, and a huge
resampled grid (e.g. 512 pixels declared 10 mm apart, a 5 m field) would tie
the server up for a minute per slice. Such images are still shown; they are
not analysed, and the reason is said.
"""

from __future__ import annotations

import numpy as np

from .dicom_io import CTImage

#: CT pixel spacing the analysis accepts (mm). Chest CT reconstructs at about 0.5–1.0 mm.
PIXEL_SPACING_RANGE_MM = (0.1, 2.0)
#: Largest field of view analysed (mm per side); scanners reconstruct at most about 700 mm.
MAX_FIELD_MM = 800.0
#: Largest angle (degrees) between the slice normal and the head-foot axis still analysed as axial: gantry tilt
#: stays below about 30°; coronal and sagittal reconstructions are at 90°.
MAX_TILT_DEG = 30.0
#: Largest matrix analysed (pixels per side); ultra-high-resolution CT reconstructs at 1024 or 2048.
MAX_MATRIX = 2048


def analysis_refusal(image: CTImage) -> str | None:
    """Why nodule analysis is not run on ``image`` (one sentence or two), or None when it can be.

    Checks only the geometry; modality is checked where the image is loaded.
    """
    tilt = tilt_from_axial_deg(image.slice_normal)
    if tilt > MAX_TILT_DEG:
        return (f"Nodule analysis was not run: these are {plane_name(image.slice_normal)} slices ({tilt:.0f}° from "
                "axial), and the detector was trained and tested on axial slices only. Upload the axial series.")
    rows, cols = image.hu.shape[1:]
    _, row_mm, col_mm = image.spacing
    if not image.pixel_spacing_known:
        return ("Nodule analysis needs the pixel spacing, which this file does not give (no PixelSpacing tag): "
                "the detector works at a fixed physical scale and reports sizes in mm. Upload the series as "
                "exported by the scanner or PACS.")
    low, high = PIXEL_SPACING_RANGE_MM
    if not (low <= row_mm <= high and low <= col_mm <= high):
        return (f"Nodule analysis was not run: the declared pixel spacing {row_mm:g} × {col_mm:g} mm is outside "
                f"the {low:g}–{high:g} mm of chest CT, so sizes would be wrong. Check the file's PixelSpacing.")
    field = (rows * row_mm, cols * col_mm)
    if max(field) > MAX_FIELD_MM:
        return (f"Nodule analysis was not run: the slice would cover {field[0]:.0f} × {field[1]:.0f} mm "
                f"({rows} × {cols} pixels at {row_mm:g} × {col_mm:g} mm), more than the {MAX_FIELD_MM:.0f} mm "
                "a CT scanner reconstructs. Check the file's PixelSpacing.")
    if max(rows, cols) > MAX_MATRIX:
        return (f"Nodule analysis was not run: the slice has {rows} × {cols} pixels, more than the "
                f"{MAX_MATRIX} × {MAX_MATRIX} the analysis accepts. Upload a standard 512 × 512 reconstruction.")
    return None


def tilt_from_axial_deg(normal: tuple[float, float, float]) -> float:
    """Angle (degrees, 0–90) between a slice normal (x, y, z) and the patient's head-foot (z) axis."""
    n = np.asarray(normal, dtype=float)
    length = float(np.linalg.norm(n))
    if length == 0:
        return 0.0
    return float(np.degrees(np.arccos(min(abs(n[2]) / length, 1.0))))


def plane_name(normal: tuple[float, float, float]) -> str:
    """'axial', 'coronal' or 'sagittal' for the axis the normal is closest to, 'oblique' when none is within
    MAX_TILT_DEG (so a slice refused as too tilted is never called axial)."""
    n = np.abs(np.asarray(normal, dtype=float))
    axis = int(np.argmax(n))
    if n[axis] < np.cos(np.radians(MAX_TILT_DEG)) * np.linalg.norm(n):
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


#: A slice thickness within this factor of a tested one counts as tested.
THICKNESS_TOLERANCE = 1.2


def acquisition(image: CTImage) -> dict:
    """Scanner maker, reconstruction kernel, slice thickness (mm) and kVp from the technical tags (None if absent)."""
    meta = image.metadata

    def number(label: str) -> float | None:
        try:
            return float(meta[label])
        except (KeyError, TypeError, ValueError):
            return None

    return {"manufacturer": meta.get("Manufacturer"), "kernel": meta.get("Kernel"),
            "slice_thickness_mm": number("Slice thickness (mm)"), "kvp": number("kVp")}


def untested_acquisition_note(image: CTImage, detector_card: dict) -> str | None:
    """A sentence when the image was acquired unlike every series the detector was tested on, or None.

    Compares scanner maker, reconstruction kernel and slice thickness with the
    card's ``test_data.acquisition``: the held-out figures are measured on
    those series only. Tags the upload lacks are not counted as differences.
    """
    tested = list(detector_card.get("test_data", {}).get("acquisition", {}).values())
    if not tested:
        return None
    mine = acquisition(image)
    differs = []
    for key, what in (("manufacturer", "scanner maker"), ("kernel", "reconstruction kernel")):
        if mine[key] and mine[key].strip().lower() not in {str(t[key]).strip().lower() for t in tested}:
            differs.append(f"{what} ({mine[key]})")
    thickness = mine["slice_thickness_mm"]
    if thickness and not any(t["slice_thickness_mm"] and 1 / THICKNESS_TOLERANCE <= thickness / t["slice_thickness_mm"]
                             <= THICKNESS_TOLERANCE for t in tested):
        differs.append(f"slice thickness ({thickness:g} mm)")
    if not differs:
        return None
    return (f"The detector's held-out test used {len(tested)} series acquired differently: "
            f"{_describe_tested(tested)}. This image differs in {', '.join(differs)}, so its figures were not "
            "measured on images like this one.")


def _describe_tested(tested: list[dict]) -> str:
    def values(key: str, unit: str = "") -> str:
        found = sorted({f"{t[key]:g}{unit}" if isinstance(t[key], float) else str(t[key]) for t in tested if t[key]})
        return " / ".join(found) or "not recorded"

    return (f"scanner maker {values('manufacturer')}, kernel {values('kernel')}, slices "
            f"{values('slice_thickness_mm', ' mm')} thick")
