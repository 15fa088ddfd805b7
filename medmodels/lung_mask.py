"""Lung-field segmentation of chest CT with SimpleITK: threshold, components, morphology.

Works slice by slice so that a single uploaded slice and a whole series are
treated alike. The mask is generous on purpose: hole filling and a closing
pull juxtapleural nodules and vessels into the lung field, because the mask
restricts where nodule candidates are searched and a nodule cut off at the
pleura would be missed.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

#: Air and aerated lung are below this (HU); soft tissue and the chest wall above.
LUNG_THRESHOLD_HU = -400.0
#: Body (patient) voxels are above this (HU).
BODY_THRESHOLD_HU = -500.0
#: Lung components smaller than this on a slice are dropped (mm²): airways, bowel gas, noise.
MIN_LUNG_AREA_MM2 = 150.0
#: Closing radius (mm) that brings pleural nodules and vessels into the mask.
CLOSING_RADIUS_MM = 6.0


def lung_mask(hu: np.ndarray, pixel_spacing_mm: tuple[float, float]) -> np.ndarray:
    """Lung fields of each slice.

    Args:
        hu: (slices, rows, cols) or (rows, cols) in HU. Not modified.
        pixel_spacing_mm: (row, col) spacing in mm.

    Returns:
        bool array of the same shape as ``hu``.
    """
    volume = np.asarray(hu, dtype=np.float32)
    if volume.ndim == 2:
        return lung_mask(volume[None], pixel_spacing_mm)[0]
    return np.stack([_slice_lung_mask(s, pixel_spacing_mm) for s in volume])


def _slice_lung_mask(hu_slice: np.ndarray, spacing: tuple[float, float]) -> np.ndarray:
    image = sitk.GetImageFromArray(hu_slice)
    image.SetSpacing((float(spacing[1]), float(spacing[0])))
    body = _largest_component(sitk.BinaryThreshold(image, BODY_THRESHOLD_HU, 1e9, 1, 0))
    body = sitk.BinaryFillhole(body)
    low = sitk.BinaryThreshold(image, -1e9, LUNG_THRESHOLD_HU, 1, 0)
    inside = sitk.And(low, body)
    lungs = _drop_small(inside, MIN_LUNG_AREA_MM2 / (spacing[0] * spacing[1]))
    radius = [max(1, int(round(CLOSING_RADIUS_MM / s))) for s in (spacing[1], spacing[0])]
    lungs = sitk.BinaryMorphologicalClosing(lungs, radius, sitk.sitkBall)
    lungs = sitk.BinaryFillhole(lungs)
    # The closing must not leak outside the body (e.g. into the table or air).
    return sitk.GetArrayFromImage(sitk.And(lungs, body)).astype(bool)


def _largest_component(binary: sitk.Image) -> sitk.Image:
    labels = sitk.RelabelComponent(sitk.ConnectedComponent(binary), sortByObjectSize=True)
    return sitk.BinaryThreshold(labels, 1, 1, 1, 0)


def _drop_small(binary: sitk.Image, min_pixels: float) -> sitk.Image:
    labels = sitk.RelabelComponent(sitk.ConnectedComponent(binary), minimumObjectSize=int(min_pixels))
    return sitk.BinaryThreshold(labels, 1, 1_000_000, 1, 0)


def lung_outline(mask: np.ndarray) -> np.ndarray:
    """The boundary pixels of a 2-D mask (bool, same shape), for drawing a faint outline."""
    image = sitk.GetImageFromArray(np.asarray(mask, dtype=np.uint8))
    return sitk.GetArrayFromImage(sitk.BinaryContour(image, fullyConnected=True)).astype(bool)
