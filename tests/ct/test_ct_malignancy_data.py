"""Crop table, patient-level split and canvas placement (no model needed)."""

from __future__ import annotations

import numpy as np
import pytest

from data_paths import require_data
from medmodels.ct.canvas import CANVAS_PIXELS, LUNG_HU, MM_PER_PIXEL, model_input, place_on_canvas
from medmodels.ct.crops import load_crop_table, patient_split, read_crop


@pytest.fixture(scope="module")
def crop_table():
    root = require_data("ct", "lidc_crops")
    return load_crop_table(root)


def test_labelled_table_counts(crop_table):
    assert len(crop_table) == 968
    assert int(crop_table["label"].sum()) == 350


def test_patient_split_has_no_patient_on_two_sides(crop_table):
    split = patient_split(crop_table)
    patients = crop_table["patient_id"].to_numpy()
    sides = [set(patients[rows]) for rows in split.names().values()]
    assert not (sides[0] & sides[1]) and not (sides[0] & sides[2]) and not (sides[1] & sides[2])
    assert sum(len(rows) for rows in split.names().values()) == len(crop_table)
    n_patients = len(set(patients))
    assert abs(len(sides[2]) / n_patients - 0.20) < 0.02  # test is ~20 % of patients


def test_patient_split_is_seeded(crop_table):
    a, b = patient_split(crop_table), patient_split(crop_table)
    assert np.array_equal(a.test, b.test) and np.array_equal(a.validation, b.validation)
    assert not np.array_equal(a.test, patient_split(crop_table, seed=1).test)


def test_crop_keeps_physical_size_and_input_is_untouched():
    hu = np.full((20, 10), 40.0, np.float32)  # 14 mm x 7 mm at 0.7 mm
    before = hu.copy()
    placement = place_on_canvas(hu, (0.7, 0.7))
    assert np.array_equal(hu, before)
    assert placement.crop_shape_px == (round(20 * 0.7 / MM_PER_PIXEL), round(10 * 0.7 / MM_PER_PIXEL))
    assert placement.hu.shape == (CANVAS_PIXELS, CANVAS_PIXELS) and not placement.downscaled
    assert abs(np.median(placement.hu[:5]) - LUNG_HU) < 10  # padding is lung, not the crop


def test_masked_pixels_become_lung_and_padding_is_seeded():
    hu = np.full((12, 12), -1024.0, np.float32)  # the crops store -1024 outside the reader's outline
    hu[3:9, 3:9] = 40.0
    first, second = place_on_canvas(hu, (0.7, 0.7), seed=5), place_on_canvas(hu, (0.7, 0.7), seed=5)
    assert first.hu.min() > -1000.0 and first.hu.max() > 0.0
    assert np.array_equal(first.hu, second.hu)
    kept = place_on_canvas(hu, (0.7, 0.7), pad="lung_outside_only")
    assert kept.hu.min() <= -1000.0


def test_oversized_crop_is_downscaled_to_fit():
    placement = place_on_canvas(np.zeros((200, 100), np.float32), (0.5, 0.5))  # 100 mm > 60 mm canvas
    assert placement.downscaled and placement.crop_shape_px == (CANVAS_PIXELS, CANVAS_PIXELS // 2)


def test_model_input_is_windowed_to_unit_range():
    x = model_input(np.array([[[-2000.0, -1000.0, 400.0, 3000.0]]], np.float32))
    assert x.shape == (1, 1, 4, 1) and x.min() == 0.0 and x.max() == 1.0


def test_read_real_crop(crop_table):
    crop = read_crop(crop_table["path"].iloc[0])
    assert crop.hu.ndim == 2 and 0.4 < crop.spacing_mm[0] < 1.0
    assert abs(crop.extent_mm - crop_table["crop_extent_mm"].iloc[0]) < 0.1


def test_the_minimum_dense_area_for_scoring_candidates_keeps_98_percent_of_the_training_crops(crop_table):
    """The page's claim beside ``MIN_SCORED_DIAMETER_MM``: 633 of 647 training crops hold a 2 mm disc of dense tissue."""
    from medmodels.ct.crops import holds_scoreable_tissue
    from medmodels.ct_review import UNSCORED_MALIGNANCY_NOTE

    train = crop_table.iloc[patient_split(crop_table).train]
    crops = [read_crop(path) for path in train["path"]]
    kept = sum(holds_scoreable_tissue(crop) for crop in crops)
    assert (kept, len(crops)) == (633, 647)
    assert f"{round(100 * kept / len(crops))} % of this CNN's training nodules hold more" in UNSCORED_MALIGNANCY_NOTE


def test_dense_tissue_only_blanks_faint_tissue_in_a_new_array():
    from medmodels.ct.crops import DENSE_TISSUE_HU, dense_tissue_only

    hu = np.array([[-900.0, DENSE_TISSUE_HU], [DENSE_TISSUE_HU + 1, 40.0]], np.float32)
    before = hu.copy()
    assert dense_tissue_only(hu).tolist() == [[-1024.0, -1024.0], [DENSE_TISSUE_HU + 1, 40.0]]
    np.testing.assert_array_equal(hu, before)


def test_scoreable_tissue_needs_the_area_of_a_2_mm_disc():
    from medmodels.ct.crops import Crop, holds_scoreable_tissue

    hu = np.full((10, 10), -1024.0, np.float32)
    hu[:2, :3] = 20.0  # 6 pixels of 0.5 mm: 1.5 mm² < π mm²
    assert not holds_scoreable_tissue(Crop(hu, (0.5, 0.5)))
    hu[:4, :4] = 20.0  # 16 pixels: 4 mm²
    assert holds_scoreable_tissue(Crop(hu, (0.5, 0.5)))
