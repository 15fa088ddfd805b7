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
