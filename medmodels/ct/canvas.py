"""A crop at true physical scale in a fixed canvas, and the fixed HU window.

Size is the strongest malignancy cue, so a crop is never rescaled to fill the
canvas: it is resampled to :data:`MM_PER_PIXEL` and centred. The canvas
(80 px x 0.75 mm = 60 mm) holds the largest LIDC crop (58.4 mm); a larger
crop is downscaled (aspect kept) to fit, and :func:`place_on_canvas` says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

CANVAS_PIXELS = 80
MM_PER_PIXEL = 0.75
CANVAS_MM = CANVAS_PIXELS * MM_PER_PIXEL

#: Fixed HU window mapped linearly to [0, 1] (clipped): air/lung to soft tissue and dense calcification.
HU_WINDOW = (-1000.0, 400.0)

#: Neutral lung value for the padding around a crop, with slight noise (sd in HU).
LUNG_HU = -850.0
LUNG_NOISE_HU = 20.0

#: The value the LIDC crops store outside the reader's outline (raw 0 with intercept -1024).
MASK_HU = -1024.0

#: Padding modes (validation AUC measured for each, see the model card):
#: "lung"  = LUNG_HU + noise around the crop AND in the crop's masked (-1024) pixels,
#:           so a crop looks like a nodule in lung, as a detector crop from a scan would;
#: "lung_outside_only" = LUNG_HU + noise around the crop only (the -1024 mask stays);
#: "border" = the crop's border median (mostly the -1024 mask) + noise around the crop.
PAD_MODES = ("lung", "lung_outside_only", "border")


@dataclass(frozen=True)
class Placement:
    """A canvas (CANVAS_PIXELS, CANVAS_PIXELS) float32 in HU and how the crop was placed."""

    hu: np.ndarray
    crop_shape_px: tuple[int, int]
    downscaled: bool


def resample_to_canvas_scale(hu: np.ndarray, spacing_mm: tuple[float, float]) -> tuple[np.ndarray, bool]:
    """Resample (rows, cols) HU at ``spacing_mm`` to MM_PER_PIXEL (linear); downscale only if too big.

    Returns the resampled float32 array and whether it had to be downscaled to fit.
    """
    zoom = np.array(spacing_mm, dtype=np.float64) / MM_PER_PIXEL
    target = np.maximum(np.round(np.array(hu.shape) * zoom), 1)
    downscaled = bool(target.max() > CANVAS_PIXELS)
    if downscaled:  # keep aspect, shrink the longest side to the canvas
        target = np.maximum(np.round(target * CANVAS_PIXELS / target.max()), 1)
    factors = target / np.array(hu.shape)
    out = ndimage.zoom(np.asarray(hu, dtype=np.float32), factors, order=1, mode="nearest", grid_mode=True)
    return out.astype(np.float32), downscaled


def padding_value(hu: np.ndarray, mode: str) -> float:
    """The HU value around the crop: fixed lung value or the crop's border median."""
    if mode in ("lung", "lung_outside_only"):
        return LUNG_HU
    if mode == "border":
        border = np.concatenate([hu[0], hu[-1], hu[:, 0], hu[:, -1]])
        return float(np.median(border))
    raise ValueError(f"padding mode must be one of {PAD_MODES}, not {mode!r}")


def place_on_canvas(hu: np.ndarray, spacing_mm: tuple[float, float], pad: str = "lung",
                    seed: int = 0) -> Placement:
    """Centre a crop, at MM_PER_PIXEL, in a CANVAS_PIXELS square canvas padded per ``pad`` (PAD_MODES).

    ``hu``: (rows, cols) HU; ``spacing_mm``: (row, col) mm. The input is not
    modified. The padding noise is seeded (``seed``) so a crop always gives the
    same canvas; it carries no label information.
    """
    rng = np.random.default_rng(seed)
    fill = padding_value(hu, pad)
    if pad == "lung":  # masked pixels become lung too (new array; the input is not modified)
        noise = LUNG_NOISE_HU * rng.standard_normal(hu.shape)
        hu = np.where(hu <= MASK_HU, fill + noise, hu).astype(np.float32)
    resampled, downscaled = resample_to_canvas_scale(hu, spacing_mm)
    canvas = (fill + LUNG_NOISE_HU * rng.standard_normal((CANVAS_PIXELS, CANVAS_PIXELS))).astype(np.float32)
    rows, cols = resampled.shape
    top, left = (CANVAS_PIXELS - rows) // 2, (CANVAS_PIXELS - cols) // 2
    canvas[top:top + rows, left:left + cols] = resampled
    return Placement(hu=canvas, crop_shape_px=(rows, cols), downscaled=downscaled)


def normalise_hu(hu: np.ndarray) -> np.ndarray:
    """HU -> [0, 1] by the fixed HU_WINDOW (clipped), float32, same shape; input untouched."""
    low, high = HU_WINDOW
    return np.clip((np.asarray(hu, dtype=np.float32) - low) / (high - low), 0.0, 1.0)


def model_input(canvases_hu: np.ndarray) -> np.ndarray:
    """(n, H, W) HU canvases -> (n, H, W, 1) float32 model input in [0, 1]."""
    return normalise_hu(canvases_hu)[..., None]
