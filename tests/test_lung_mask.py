"""Lung fields: a synthetic phantom with a known answer and real LIDC slices with their nodules."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from medmodels import load_ct
from medmodels.lung_mask import lung_mask, lung_outline

# LUNA16 nodule centres (world mm: x, y, z) of the two LIDC series in the data folder.
NODULES = {
    "LIDC-IDRI-0001": [(56.208, 86.343, -115.868)],
    "LIDC-IDRI-0003": [(72.287, 76.900, -190.459), (23.491, -47.634, -172.279), (-47.403, -30.171, -169.624)],
}


def _phantom() -> tuple[np.ndarray, np.ndarray]:
    """A 0 HU body disc in air with two -850 HU 'lungs'; returns (hu, true lung mask)."""
    rows, cols = np.mgrid[:256, :256]
    body = (rows - 128) ** 2 + (cols - 128) ** 2 < 110**2
    left = ((rows - 128) / 60) ** 2 + ((cols - 80) / 35) ** 2 < 1
    right = ((rows - 128) / 60) ** 2 + ((cols - 176) / 35) ** 2 < 1
    hu = np.where(body, 0.0, -1000.0)
    hu[left | right] = -850.0
    return hu.astype(np.float32), left | right


def test_phantom_lungs_are_found_and_input_is_untouched():
    hu, truth = _phantom()
    before = hu.copy()
    mask = lung_mask(hu, (1.0, 1.0))
    iou = (mask & truth).sum() / (mask | truth).sum()
    assert iou > 0.95
    assert not mask[0, 0]  # air outside the body is not lung
    np.testing.assert_array_equal(hu, before)


def test_phantom_nodule_at_the_pleura_is_inside_the_mask():
    hu, truth = _phantom()
    rows, cols = np.mgrid[:256, :256]
    # A 10 mm soft-tissue nodule touching the outer wall of the left lung (which starts at column 45).
    nodule = (rows - 128) ** 2 + (cols - 50) ** 2 < 5**2
    hu[nodule] = 30.0
    mask = lung_mask(hu, (1.0, 1.0))
    assert mask[nodule].mean() > 0.9


def test_outline_is_the_boundary():
    _, truth = _phantom()
    outline = lung_outline(truth)
    assert outline.sum() < 0.2 * truth.sum() and not outline[128, 80] and (outline <= truth).all()


@pytest.mark.parametrize("patient", sorted(NODULES))
def test_real_slices_contain_their_nodules_and_exclude_bone(patient):
    from data_paths import require_data

    root = require_data("ct", "lidc", patient)
    files = sorted(root.glob("*/*/*.dcm"))
    image = load_ct(files)
    first = pydicom.dcmread(files[0], stop_before_pixels=True)
    x0, y0 = (float(v) for v in first.ImagePositionPatient[:2])
    for x, y, z in NODULES[patient]:
        k = int(np.argmin(np.abs(np.asarray(image.z_positions) - z)))
        row, col = round((y - y0) / image.spacing[1]), round((x - x0) / image.spacing[2])
        hu = image.hu[k]
        mask = lung_mask(hu, image.spacing[1:])
        assert mask[row, col], f"nodule at ({row}, {col}) of slice {k} is outside the lung mask"
        assert 0.08 < mask.mean() < 0.35
        assert mask[hu > 300].mean() < 0.05  # bone is not lung
        assert not mask[:20, :20].any()
