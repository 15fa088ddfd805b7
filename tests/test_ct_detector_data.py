"""Blending nodule crops into lung: the box and disc windows, densely bordered crops."""

from __future__ import annotations

import numpy as np
import pytest

from medmodels.ct_detector_data import PATCH_SIZE, blend_crop, has_dense_border

LUNG_HU, TISSUE_HU = -850.0, 40.0


def _lung() -> np.ndarray:
    return np.full((PATCH_SIZE, PATCH_SIZE), LUNG_HU, np.float32)


def _solid_square_crop(size: int = 21) -> np.ndarray:
    """A crop that is dense tissue to its border, like a nodule against the chest wall."""
    return np.full((size, size), TISSUE_HU, np.float32)


def _round_nodule_crop(size: int = 21, radius: float = 5.0) -> np.ndarray:
    """A round 40 HU nodule in aerated lung, well inside its box."""
    rows, cols = np.mgrid[:size, :size] - (size - 1) / 2
    return np.where(np.hypot(rows, cols) <= radius, TISSUE_HU, LUNG_HU).astype(np.float32)


def _box_corner(out: np.ndarray, size: int = 21) -> float:
    """HU 2 px inside the top-left corner of a ``size`` box blended at the centre (no shift)."""
    start = PATCH_SIZE // 2 - size // 2
    return float(out[start + 2, start + 2])


class _NoShift:
    """A stand-in generator that always draws a zero shift, so the box sits exactly at the centre."""

    def integers(self, low, high, size=None):
        return np.zeros(size, int)


def test_box_blend_leaves_the_square_edge_of_a_densely_bordered_crop_and_the_disc_does_not():
    crop, background = _solid_square_crop(), _lung()
    box = blend_crop(background, crop, _NoShift())
    disc = blend_crop(background, crop, _NoShift(), window="disc")
    centre = PATCH_SIZE // 2
    assert box[centre, centre] == pytest.approx(TISSUE_HU, abs=1) and disc[centre, centre] == pytest.approx(TISSUE_HU, abs=1)
    assert _box_corner(box) > -100  # the corner of the square is tissue: a straight edge in the lung
    assert _box_corner(disc) == pytest.approx(LUNG_HU)  # faded to the inscribed disc
    assert np.all(box[:10] == LUNG_HU) and np.all(disc[:10] == LUNG_HU)  # outside the box: background untouched
    assert np.all(crop == TISSUE_HU) and np.all(background == LUNG_HU)  # inputs not modified


def test_a_nodule_well_inside_its_box_blends_the_same_with_either_window():
    crop = _round_nodule_crop()
    box = blend_crop(_lung(), crop, _NoShift())
    disc = blend_crop(_lung(), crop, _NoShift(), window="disc")
    assert np.max(np.abs(box - disc)) < 1.0
    assert box.max() == pytest.approx(TISSUE_HU, abs=1)


def test_an_unknown_window_is_refused_with_its_name():
    with pytest.raises(ValueError, match="'square'"):
        blend_crop(_lung(), _round_nodule_crop(), np.random.default_rng(0), window="square")


def test_dense_border_tells_a_juxtapleural_crop_from_a_round_nodule():
    assert has_dense_border(_solid_square_crop())
    assert not has_dense_border(_round_nodule_crop())
    half = _round_nodule_crop()
    half[:, :8] = TISSUE_HU  # chest wall over the left third: under half of the border ring is dense
    assert not has_dense_border(half)
    half[:, :16] = TISSUE_HU
    assert has_dense_border(half)


def test_about_one_crop_in_ten_has_a_dense_border():
    """The synthetic page's caption says so ("about 1 crop in 10"); measured over every LIDC crop."""
    from data_paths import require_data
    from medmodels.ct_detector_data import crop_table, load_crops

    require_data("ct", "lidc_crops", "crops.csv")
    share = np.mean([has_dense_border(c) for c in load_crops(crop_table())])
    assert 0.07 < share < 0.13, share
