"""Candidate generation: known blobs on a synthetic slice, patches, coordinate round trip."""

import numpy as np

from medmodels.ct_candidates import (
    MODEL_SPACING_MM, PAD_HU, extract_patches, find_candidates, resample_to_model_spacing, to_original_pixels,
)


def _lung_with_blobs(diameters_mm, spacing=MODEL_SPACING_MM):
    size = 256
    hu = np.full((size, size), -850.0, dtype=np.float32)
    rows, cols = np.mgrid[:size, :size]
    centres = [(60 + 70 * (i // 3), 50 + 75 * (i % 3)) for i in range(len(diameters_mm))]
    for (r, c), d in zip(centres, diameters_mm):
        radius_px = d / 2 / spacing
        hu[(rows - r) ** 2 + (cols - c) ** 2 <= radius_px**2] = 30.0
    return hu, centres


def test_blobs_are_found_at_their_centres_with_their_size():
    diameters = [4.0, 8.0, 12.0, 20.0]
    hu, centres = _lung_with_blobs(diameters)
    before = hu.copy()
    cands = find_candidates(hu, np.ones_like(hu, dtype=bool))
    np.testing.assert_array_equal(hu, before)
    for (r, c), d in zip(centres, diameters):
        distance = np.hypot(cands.rows - r, cands.cols - c)
        j = int(np.argmin(distance))
        assert distance[j] * MODEL_SPACING_MM < 1.5
        assert d / 2 <= cands.diameters_mm[j] <= d * 1.6


def test_nothing_is_found_outside_the_mask_or_in_plain_lung():
    hu, _ = _lung_with_blobs([10.0])
    assert len(find_candidates(hu, np.zeros_like(hu, dtype=bool))) == 0
    assert len(find_candidates(np.full((128, 128), -850.0, np.float32), np.ones((128, 128), bool))) == 0


def test_patches_are_centred_and_padded_with_air():
    hu = np.arange(100 * 100, dtype=np.float32).reshape(100, 100)
    patches = extract_patches(hu, np.array([50, 0]), np.array([50, 0]), size=8)
    assert patches.shape == (2, 8, 8)
    assert patches[0, 4, 4] == hu[50, 50] and patches[0, 0, 0] == hu[46, 46]
    assert patches[1, 0, 0] == PAD_HU and patches[1, 4, 4] == hu[0, 0]


def test_resampling_and_back_maps_pixels_to_the_same_physical_place():
    spacing = (0.82, 0.82)
    image = np.zeros((512, 512), np.float32)
    image[300, 200] = 1000.0
    resampled = resample_to_model_spacing(image, spacing)
    assert resampled.shape == (600, 600)  # 512 × 0.82 / 0.7
    r, c = np.unravel_index(np.argmax(resampled), resampled.shape)
    back_r, back_c = to_original_pixels(np.array([r]), np.array([c]), spacing)
    assert abs(back_r[0] - 300) < 1 and abs(back_c[0] - 200) < 1
