"""Nodule candidates on a CT slice: resampling to the model spacing, blob detection, patches.

The candidate generator is deliberately cheap and sensitive (a multi-scale
Laplacian-of-Gaussian inside the lung mask); the CNN then ranks the
candidates. Everything works on one axial slice so a single uploaded slice and
a series are handled alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

#: Physical pixel size the detector sees (mm).
MODEL_SPACING_MM = 0.7
#: Patch side (pixels at MODEL_SPACING_MM): 44.8 mm, room for a 30 mm nodule and its surroundings.
PATCH_SIZE = 64
#: Blob radii searched (mm): 3 mm to 30 mm nodules.
BLOB_RADII_MM = (1.5, 2.5, 4.0, 6.0, 9.0, 13.0)
#: A candidate's centre must be at least this dense (HU): solid or part-solid tissue, not aerated lung.
MIN_CENTRE_HU = -650.0
#: Air value used to pad outside the image (HU).
PAD_HU = -1000.0


@dataclass(frozen=True)
class Candidates:
    """Candidates on one slice, in the resampled (model-spacing) pixel grid.

    Attributes:
        rows, cols: (k,) centre positions (resampled pixels).
        diameters_mm: (k,) blob diameter estimated from the best LoG scale.
        responses: (k,) scale-normalised LoG response (higher = more blob-like).
    """

    rows: np.ndarray
    cols: np.ndarray
    diameters_mm: np.ndarray
    responses: np.ndarray

    def __len__(self) -> int:
        return int(self.rows.shape[0])


def resample_to_model_spacing(image: np.ndarray, pixel_spacing_mm: tuple[float, float], *, order: int = 1) -> np.ndarray:
    """Resample a 2-D slice (or mask, with ``order=0``) to MODEL_SPACING_MM pixels.

    Args:
        image: (rows, cols). Not modified.
        pixel_spacing_mm: (row, col) spacing of ``image`` in mm.

    Returns:
        (round(rows·row_mm/0.7), round(cols·col_mm/0.7)) array of the same dtype.
    """
    zoom = (pixel_spacing_mm[0] / MODEL_SPACING_MM, pixel_spacing_mm[1] / MODEL_SPACING_MM)
    data = np.asarray(image)
    out = ndimage.zoom(data.astype(np.float32) if order else data, zoom, order=order, mode="nearest", grid_mode=True)
    return out.astype(data.dtype, copy=False)


def to_original_pixels(rows: np.ndarray, cols: np.ndarray, pixel_spacing_mm: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Resampled pixel centres back to the original slice's pixel indices (float)."""
    # grid_mode=True zoom maps pixel edges to edges: centre i -> (i + 0.5)·s_new/s_old − 0.5.
    r = (np.asarray(rows) + 0.5) * MODEL_SPACING_MM / pixel_spacing_mm[0] - 0.5
    c = (np.asarray(cols) + 0.5) * MODEL_SPACING_MM / pixel_spacing_mm[1] - 0.5
    return r, c


def find_candidates(hu: np.ndarray, lung: np.ndarray, *, max_candidates: int = 80) -> Candidates:
    """Blob-like dense spots inside the lung mask, strongest first.

    Args:
        hu: (rows, cols) slice in HU at MODEL_SPACING_MM. Not modified.
        lung: (rows, cols) bool lung mask on the same grid.
        max_candidates: keep at most this many.
    """
    lung = np.asarray(lung, dtype=bool)
    if not lung.any():
        empty = np.zeros(0, dtype=np.int64)
        return Candidates(empty, empty, np.zeros(0), np.zeros(0, dtype=np.float32))
    sigmas = [r / MODEL_SPACING_MM / np.sqrt(2.0) for r in BLOB_RADII_MM]
    # Filter only the lung's bounding box plus the widest kernel's reach (scipy's 4σ
    # truncation, + the peak window): inside the box every value equals the full-slice
    # filter's, at a fraction of the cost (a third of slices reach beyond the lungs).
    margin = int(4.0 * max(sigmas) + 0.5) + int(round(5.0 / MODEL_SPACING_MM)) + 1
    rows_any, cols_any = np.flatnonzero(lung.any(axis=1)), np.flatnonzero(lung.any(axis=0))
    r0, r1 = max(rows_any[0] - margin, 0), min(rows_any[-1] + margin + 1, lung.shape[0])
    c0, c1 = max(cols_any[0] - margin, 0), min(cols_any[-1] + margin + 1, lung.shape[1])
    tissue = np.clip(np.asarray(hu, dtype=np.float32)[r0:r1, c0:c1], -1000.0, 400.0)
    # Scale-normalised negative LoG: bright round blobs of radius r peak at sigma = r/√2.
    stack = np.stack([-(s**2) * ndimage.gaussian_laplace(tissue, s) for s in sigmas])
    best = stack.max(axis=0)
    best_scale = stack.argmax(axis=0)
    peaks = best == ndimage.maximum_filter(best, size=int(round(5.0 / MODEL_SPACING_MM)) | 1)
    keep = peaks & lung[r0:r1, c0:c1] & (tissue > MIN_CENTRE_HU) & (best > 0)
    rows, cols = np.nonzero(keep)
    order = np.argsort(-best[rows, cols], kind="stable")[:max_candidates]
    rows, cols = rows[order], cols[order]
    radii = np.asarray(BLOB_RADII_MM)[best_scale[rows, cols]]
    return Candidates(rows + r0, cols + c0, 2.0 * radii, best[rows, cols])


def extract_patches(hu: np.ndarray, rows: np.ndarray, cols: np.ndarray, size: int = PATCH_SIZE) -> np.ndarray:
    """Square patches centred on (rows, cols), padded with air outside the slice.

    Args:
        hu: (H, W) slice at MODEL_SPACING_MM, HU. Not modified.
        rows, cols: (k,) integer centres.

    Returns:
        float32 (k, size, size) in HU.
    """
    half = size // 2
    padded = np.pad(np.asarray(hu, dtype=np.float32), half, mode="constant", constant_values=PAD_HU)
    r = np.asarray(rows, dtype=np.int64)[:, None, None] + np.arange(size)[None, :, None]
    c = np.asarray(cols, dtype=np.int64)[:, None, None] + np.arange(size)[None, None, :]
    return padded[r, c]
