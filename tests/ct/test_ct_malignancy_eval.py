"""The malignancy evaluation's dense-tissue check: the CT page's stand-in for a reader outline, on real crops."""

import json

import pytest

from data_paths import require_data


def test_dense_tissue_check_reproduces_the_card_and_barely_moves_the_ranking(malignancy_model):
    from medmodels.ct.malignancy import CARD_FILE, MODEL_DIR
    from medmodels.ct.malignancy_eval import dense_tissue_check, dense_tissue_report

    require_data("ct", "lidc_crops")
    check = dense_tissue_check()
    card = json.loads((MODEL_DIR / CARD_FILE).read_text())["metrics"]["dense_tissue_check"]
    assert (check["split"], check["crops"], check["unscoreable"]) == (card["split"], card["crops"], card["unscoreable"])
    for key in ("outlined_share_removed_median", "auc_reader_outline", "auc_dense_tissue_only",
                "mean_change_benign", "mean_change_malignant"):
        assert check[key] == pytest.approx(card[key], abs=2e-3), key
    # What the page tells the reviewer: a third of the outline goes, the ranking stays.
    assert 0.2 < check["outlined_share_removed_median"] < 0.5
    assert abs(check["auc_dense_tissue_only"] - check["auc_reader_outline"]) < 0.02
    assert f"dense tissue only {check['auc_dense_tissue_only']:.3f}" in dense_tissue_report(check)


def test_the_committed_card_states_the_candidate_crop_rule_of_the_current_code():
    from medmodels.ct.malignancy import read_card
    from medmodels.ct.malignancy_train import CANDIDATE_CROP_LIMITATION

    assert CANDIDATE_CROP_LIMITATION in read_card()["limitations"]
    assert "at or below -600 HU" in CANDIDATE_CROP_LIMITATION and "2 mm disc" in CANDIDATE_CROP_LIMITATION


def test_central_box_keeps_the_centre_at_the_given_fraction_per_side_in_a_new_array():
    import numpy as np

    from medmodels.ct.crops import Crop
    from medmodels.ct.malignancy_eval import central_box

    hu = np.arange(12 * 9, dtype=np.float32).reshape(12, 9)
    crop = Crop(hu, (0.7, 0.8), "1.2")
    cut = central_box(crop, 0.5)
    assert cut.hu.shape == (6, 4) and cut.spacing_mm == (0.7, 0.8)  # the scale is kept: only the box shrinks
    np.testing.assert_array_equal(cut.hu, hu[3:9, 2:6])
    cut.hu[:] = 0
    assert hu[5, 4] == 5 * 9 + 4  # the input crop is untouched
    assert central_box(crop, 0.01).hu.shape == (1, 1)


def test_box_size_check_reproduces_the_card_and_a_smaller_box_lowers_malignant_likelihoods(malignancy_model):
    from medmodels.ct.malignancy import read_card
    from medmodels.ct.malignancy_eval import BOX_SCALES, box_size_check, box_size_report

    require_data("ct", "lidc_crops")
    require_data("ct", "lidc", "LIDC-IDRI-0001")
    check = box_size_check()
    card = read_card()["metrics"]["box_size_check"]
    assert check["auc_reader_box"] == pytest.approx(card["auc_reader_box"], abs=2e-3)
    for measured, recorded in zip(check["shrunk"], card["shrunk"]):
        assert measured["box_scale"] == recorded["box_scale"] and measured["unscoreable"] == recorded["unscoreable"]
        for key in ("auc", "mean_change_benign", "mean_change_malignant"):
            assert measured[key] == pytest.approx(recorded[key], abs=2e-3), key
    assert check["native_nodules"] == card["native_nodules"]
    # what the page tells the reviewer: an underestimated size lowers malignant likelihoods, more the smaller the box
    changes = [row["mean_change_malignant"] for row in check["shrunk"]]
    assert [row["box_scale"] for row in check["shrunk"]] == list(BOX_SCALES)
    assert 0 > changes[0] > changes[1] > changes[2]
    # the page's box on the native nodules is about the nodule's size: the shrunk cases are the ones that matter
    assert all(0.8 < row["box_over_diameter"] < 1.3 for row in check["native_nodules"])
    assert "box cut to 67 % per side" in box_size_report(check)
