"""What the CT page says beside its results: malignancy AUC against size alone, reference nodules' ranks."""

from __future__ import annotations

import numpy as np

from medmodels.ct.malignancy import read_card
from medmodels.ct_detector import SliceCandidates
from medmodels.ct_lidc import Nodule, reference_nodules
from medmodels.ct_analysis_view import click_grid
from medmodels.ct_review import (
    clicked_pixel, detector_performance_note, malignancy_performance_note, no_candidate_note, point_label,
    references_on_slice, start_slice, suspicious_slices, zoom_source,
)
from medmodels.dicom_io import CTImage


def _card(difference_ci=None, validation=None):
    test = {"auc": 0.85, "auc_ci95": [0.78, 0.91], "diameter_baseline_auc": 0.83}
    if difference_ci is not None:
        test |= {"auc_minus_diameter_baseline": 0.02, "auc_minus_diameter_baseline_ci95": difference_ci}
    metrics = {"test": test} | ({"validation": validation} if validation else {})
    return {"metrics": metrics}


def test_note_says_whether_the_network_beats_size_alone():
    better = malignancy_performance_note(_card([0.001, 0.05]))
    assert "AUC 0.8500 (95 % CI 0.780–0.910)" in better and "size alone reaches 0.830" in better
    assert "ranks slightly better than size alone" in better and "+0.001 to +0.050" in better
    unclear = malignancy_performance_note(_card([-0.01, 0.05]))
    assert "not shown to rank better than size alone" in unclear


def test_note_adds_the_validation_split_and_degrades_gracefully():
    both = malignancy_performance_note(_card([0.001, 0.05], {"auc": 0.899, "diameter_baseline_auc": 0.906}))
    assert both.endswith("on the validation patients: AUC 0.899, size alone 0.906.")
    assert malignancy_performance_note(_card()).endswith("size alone reaches 0.830.")
    assert malignancy_performance_note({}) == ""
    assert malignancy_performance_note({"metrics": {"validation": {"auc": 0.9}}}) == ""


def test_committed_card_has_the_paired_comparison():
    note = malignancy_performance_note(read_card())
    assert "size alone reaches 0.825" in note and "95 % CI +0.001 to +0.055" in note
    # just under the 0.85 target: shown so that it cannot read as 0.85
    assert read_card()["metrics"]["test"]["auc"] < 0.85 and "AUC 0.8499 " in note


def test_the_malignancy_caption_says_the_label_is_the_readers_consensus_not_pathology():
    from medmodels.ct_review import LABEL_NOTE, malignancy_caption

    assert LABEL_NOTE in malignancy_caption(read_card(), any_unscored=False)
    assert any("readers' consensus, not pathology" in limitation for limitation in read_card()["limitations"])
    assert "consensus" in LABEL_NOTE and "not pathology" in LABEL_NOTE
    assert LABEL_NOTE not in malignancy_caption(None, any_unscored=False)  # no model, no claim about its labels


def test_suspicious_slices_skip_unanalysed_and_break_ties_by_slice():
    assert suspicious_slices([0.2, None, 0.9, 0.2, 0.1], top=3) == [2, 0, 3]


def _series(n_slices=5, z_step=2.5):
    """Five 100×100 slices, 0.5 mm pixels, first pixel centre at (x, y) = (−25, −25) mm, z = 0, 2.5, … mm."""
    return CTImage(hu=np.zeros((n_slices, 100, 100), np.float32), spacing=(z_step, 0.5, 0.5),
                   sop_instance_uids=tuple(str(k) for k in range(n_slices)),
                   z_positions=tuple(k * z_step for k in range(n_slices)), series_uid="1.2", modality="CT",
                   metadata={}, position_xy_mm=(-25.0, -25.0))


def _scored(rows, cols, probabilities):
    k = len(rows)
    return SliceCandidates(np.asarray(rows, float), np.asarray(cols, float), np.full(k, 5.0),
                           np.asarray(probabilities, float), np.zeros((k, 64, 64), np.float32),
                           np.ones((100, 100), bool))


def test_a_reference_nodule_is_matched_to_its_best_candidate_and_shrinks_away_from_its_centre():
    image = _series()
    nodule = Nodule(x_mm=0.0, y_mm=-5.0, z_mm=5.0, diameter_mm=8.0)  # centre pixel (row 40, col 50), slice 2
    assert nodule.pixel(image) == (40.0, 50.0)
    # strongest first: a far false candidate, then one 2 mm from the centre, then one on the centre
    scored = _scored([90, 44, 40], [10, 50, 50], [0.9, 0.6, 0.3])
    (central,) = references_on_slice([nodule], image, 2, scored)
    assert (central.rank, central.probability, central.radius_mm) == (2, 0.6, 4.0)
    assert central.describe(3) == "8.0 mm reference nodule: the detector ranks it #2 of 3 candidates here (p 0.60)"
    (next_slice,) = references_on_slice([nodule], image, 3, scored)  # 2.5 mm off centre: a √(16 − 6.25) mm section
    assert abs(next_slice.radius_mm - np.sqrt(16 - 6.25)) < 1e-9 and next_slice.rank == 2
    assert references_on_slice([nodule], image, 0, scored) == []  # 5 mm away: outside the 4 mm radius


def test_a_nodule_between_slices_is_still_shown_on_its_central_slice():
    image = _series(z_step=5.0)  # z = 0, 5, 10, …: a 3 mm nodule at z 7.4 mm reaches neither 5 nor 10
    nodule = Nodule(x_mm=0.0, y_mm=-5.0, z_mm=7.4, diameter_mm=3.0)
    scored = _scored([40], [50], [0.7])
    assert [index for index in range(5) if references_on_slice([nodule], image, index, scored)] == [1]
    (only,) = references_on_slice([nodule], image, 1, scored)
    assert only.radius_mm == 0.0 and only.rank == 1  # matched within the minimum match radius


def test_a_reference_without_a_candidate_inside_says_so():
    image = _series()
    nodule = Nodule(0.0, -5.0, 5.0, 8.0)
    (missed,) = references_on_slice([nodule], image, 2, _scored([90, 10], [10, 90], [0.9, 0.8]))
    assert missed.rank is None and missed.probability is None
    assert missed.describe(2) == "8.0 mm reference nodule: none of the 2 candidates here lies inside it"


def test_an_image_opens_at_its_first_reference_nodule_else_in_the_middle():
    image = _series()
    assert start_slice(image, [Nodule(0.0, 0.0, 7.4, 6.0)]) == 3  # z 7.4 mm is nearest slice 3 (7.5 mm)
    assert start_slice(image, []) == 2
    assert start_slice(_series(n_slices=1), []) == 0


def test_reference_nodules_are_empty_for_an_unknown_or_missing_series_uid():
    assert reference_nodules("") == []
    assert reference_nodules("1.2.3.4.5.not.in.luna16") == []


def test_the_detector_note_gives_its_held_out_figures_and_how_few_nodules_they_rest_on():
    card = {"test_data": {"folds": {
        "fold-A": {"test": "P2", "nodules": [{"rank_on_central_slice": 2, "candidates_on_slice": 80},
                                             {"rank_on_central_slice": 5, "candidates_on_slice": 80}]},
        "fold-B": {"test": "P1", "nodules": [{"rank_on_central_slice": 4, "candidates_on_slice": 80}]},
    }}}
    note = detector_performance_note(card)
    assert note.startswith("Nodule probability: the detector's score, for ranking candidates, not a calibrated "
                           "probability: 0.99 does not mean that 99 % of such candidates are nodules.")
    assert "Its held-out test rests on 2 series with 3 LUNA16 reference nodules: P2: nodules ranked 2, 5 of 80" in note
    assert "P2: nodules ranked 2, 5 of 80" in note and "P1: nodule ranked 4 of 80" in note
    assert "untuned" not in note  # no untuned figures in this card, so nothing is labelled tuned either
    assert detector_performance_note({}) == "" and detector_performance_note({"test_data": {"folds": {}}}) == ""


def test_an_empty_candidate_list_is_not_said_to_rule_out_a_nodule():
    card = {"test_data": {"folds": {"fold-A": {"nodules": [{}, {}, {}]}, "fold-B": {"nodules": [{}]}}}}
    note = no_candidate_note(card)
    assert note.startswith("No candidate above 5 % on this slice. That does not rule out a nodule: candidates are "
                           "sought only inside the lung fields found automatically")
    assert "held-out test rests on 2 series with 4 reference nodules" in note
    assert "held-out" not in no_candidate_note({}) and "does not rule out a nodule" in no_candidate_note({})


def test_a_slice_without_lung_fields_is_not_said_to_have_no_candidate_above_the_threshold():
    card = {"test_data": {"folds": {"fold-A": {"nodules": [{}, {}, {}]}, "fold-B": {"nodules": [{}]}}}}
    note = no_candidate_note(card, lung_found=False)
    assert note.startswith("No candidates: none were sought on this slice, because no lung fields were found")
    assert "5 %" not in note and "does not rule out a nodule" in note


def test_the_committed_detector_note_says_the_score_is_not_calibrated_and_shows_untuned_ranks():
    from medmodels.ct_detector import read_detector_card

    card = read_detector_card()
    note = detector_performance_note(card)
    patches = card["training_data"]["patches_final_model"]
    weight = (patches["total"] - patches["positive"]) / patches["positive"]
    assert f"training weighted nodule patches {weight:.1f}×" in note and "nothing recalibrates" in note
    # FP/slice at 90 % sensitivity × slices = false candidates at or above the lowest nodule score
    fold_b = card["test_data"]["folds"]["fold-B"]
    false_b = round(fold_b["fp_per_slice"]["90%"] * fold_b["slices"])
    assert false_b > len(fold_b["nodules"])  # most candidates at that score are not nodules
    assert (f"{false_b} false candidates scored at least {fold_b['nodules'][0]['score']:.3f}, the score that "
            "finds every reference nodule of LIDC-IDRI-0001") in note
    # the committed rule's cut-off was set on a held-out rank: the untuned ranks stand beside its ranks
    untuned = card["test_data"]["folds"]["fold-A"]["with_all_candidates_averaged"]["ranks"]
    assert f"(untuned rule: {', '.join(map(str, untuned))})" in note and "tuned on these series" in note


def test_the_candidate_table_shows_the_malignancy_members_range_for_listed_candidates():
    from medmodels.ct_review import CandidateMalignancy, candidate_table

    scored = _scored([10, 20, 30], [10, 20, 30], [0.9, 0.5, 0.01])  # the third is below the listing threshold
    malignancy = CandidateMalignancy(np.array([0.2, 0.61, np.nan]), np.array([0.09, 0.55, np.nan]),
                                     np.array([0.39, 0.7, np.nan]))
    table = candidate_table(scored, 4, malignancy)
    assert list(table["malignancy likelihood"]) == [0.2, 0.61]
    assert list(table["members' range"]) == ["0.09–0.39", "0.55–0.70"]
    without = candidate_table(scored, 4)
    assert without["malignancy likelihood"].isna().all() and list(without["members' range"]) == ["", ""]


def test_a_candidate_with_less_dense_tissue_than_a_2_mm_disc_gets_no_malignancy_not_a_score_of_empty_lung():
    from medmodels.ct.crops import DENSE_TISSUE_HU
    from medmodels.ct.malignancy import load_model
    from medmodels.ct_review import malignancy_of_candidates

    hu = np.full((100, 100), -850.0, np.float32)
    yy, xx = np.mgrid[:100, :100]
    hu[np.hypot(yy - 30, xx - 30) <= 5] = 30.0  # a solid 7 mm blob (0.7 mm pixels)
    hu[np.hypot(yy - 70, xx - 70) <= 3] = DENSE_TISSUE_HU - 50  # a faint ground-glass-like spot
    # dense discs of 5, 13 and 29 pixels (0.49 mm² each): 2.5 mm² is less than a 2 mm disc (3.14 mm²), 6.4 is more
    hu[np.hypot(yy - 30, xx - 70) <= 1] = 0.0
    hu[np.hypot(yy - 70, xx - 27) <= 2] = 0.0
    hu[np.hypot(yy - 45, xx - 80) <= 3] = 0.0
    scored = SliceCandidates(np.array([30.0, 70.0, 30.0, 70.0, 45.0]), np.array([30.0, 70.0, 70.0, 27.0, 80.0]),
                             np.array([7.0, 4.0, 3.0, 3.0, 4.0]), np.array([0.9, 0.6, 0.5, 0.4, 0.3]),
                             np.zeros((5, 64, 64), np.float32), np.ones((100, 100), bool))
    before = hu.copy()
    result = malignancy_of_candidates(load_model(), hu, (0.7, 0.7), scored)
    for scored_one in (0, 3, 4):
        p, low, high = (result.probability[scored_one], result.member_low[scored_one], result.member_high[scored_one])
        assert 0 <= p <= 1 and low <= p <= high
    for blank in (1, 2):
        assert np.isnan([result.probability[blank], result.member_low[blank], result.member_high[blank]]).all()
    np.testing.assert_array_equal(hu, before)  # preprocessing never mutates its input


def test_candidate_crop_note_gives_the_measured_effect_of_the_stand_in_outline():
    from medmodels.ct_review import candidate_crop_note

    card = {"metrics": {"dense_tissue_check": {
        "split": "validation", "crops": 148, "outlined_share_removed_median": 0.339, "auc_reader_outline": 0.899,
        "auc_dense_tissue_only": 0.9001, "mean_change_benign": 0.0032, "mean_change_malignant": 0.0412}}}
    note = candidate_crop_note(card)
    assert "tissue above -600 HU in a box of the detector's estimated size" in note
    assert "validation patients' 148 reader crops" in note and "a median 34 % of the outlined pixels" in note
    assert "AUC at 0.90 (with the outline 0.90)" in note and "+0.00 (benign) and +0.04 (malignant)" in note
    assert "box size was not checked" in note
    assert candidate_crop_note({}).endswith("so on automatic candidates the likelihood is a rough guide only.")


def test_candidate_crop_note_gives_the_measured_effect_of_a_box_smaller_than_the_nodule():
    from medmodels.ct_review import candidate_crop_note

    dense = {"split": "validation", "crops": 148, "outlined_share_removed_median": 0.339, "auc_reader_outline": 0.899,
             "auc_dense_tissue_only": 0.9001, "mean_change_benign": 0.0032, "mean_change_malignant": 0.0412}
    box = {"shrunk": [{"box_scale": 0.83, "auc": 0.889, "mean_change_malignant": -0.114},
                      {"box_scale": 0.67, "auc": 0.878, "mean_change_malignant": -0.232}],
           "native_nodules": [{"box_over_diameter": 0.93}, {"box_over_diameter": None}, {"box_over_diameter": 1.12}]}
    note = candidate_crop_note({"metrics": {"dense_tissue_check": dense, "box_size_check": box}})
    assert "0.93–1.12 × the reference diameter on the 2 native LIDC nodules" in note
    assert "lowered malignant nodules' likelihood by 0.11 or 0.23 on average (AUC 0.89, 0.88)" in note
    assert "vessels or pleura could not be measured" in note and "not checked" not in note
    assert note.endswith("So on automatic candidates the likelihood is a rough guide only.")


def test_no_lung_fields_note_says_when_the_slice_holds_no_air_at_all():
    from medmodels.ct_review import no_lung_fields_note

    stored_not_hu = np.full((64, 64), 24.0)  # e.g. air stored as 24 with the rescale tags stripped
    stored_not_hu[20:40, 20:40] = 1100.0
    note = no_lung_fields_note(stored_not_hu)
    assert "its lowest value is 24 HU" in note and "RescaleSlope/RescaleIntercept" in note
    cropped_chest = np.full((64, 64), 40.0)
    cropped_chest[:10] = -1000.0  # air in view, but not a whole chest
    assert "needs the whole chest in the field of view" in no_lung_fields_note(cropped_chest)
    assert stored_not_hu.min() == 24.0  # not modified


def test_a_click_on_any_target_or_marker_reads_back_as_its_own_pixel_on_non_square_pixels():
    shape, spacing = (300, 200), (0.6, 0.9)
    rows, cols = click_grid(shape, spacing)
    for r, c in zip(rows[::97], cols[::97]):
        point = {"x": (c + 0.5) * spacing[1], "y": (r + 0.5) * spacing[0], "curve_number": 3}
        assert clicked_pixel([point], shape, spacing) == (r, c)
    assert clicked_pixel([{"x": (7 + 0.5) * 0.9, "y": (12 + 0.5) * 0.6}], shape, spacing) == (12, 7)  # a candidate
    assert clicked_pixel([{"x": 1.0, "y": 1.0}, {"x": -5.0, "y": 1e4}], shape, spacing) == (299, 0)  # last, clipped
    assert clicked_pixel([], shape, spacing) is None and clicked_pixel([{"x": None, "y": 3.0}], shape, spacing) is None


def test_the_later_choice_of_candidate_or_point_decides_the_zoom():
    assert zoom_source(None, False, None) is None
    assert zoom_source(2, False, "point") == "candidate"  # the point was switched off again
    assert zoom_source(None, True, "candidate") == "point"  # the pick was cleared
    assert zoom_source(2, True, "point") == "point" and zoom_source(2, True, "candidate") == "candidate"


def test_a_chosen_pixel_is_named_after_the_candidate_drawn_there():
    import pandas as pd

    table = pd.DataFrame({"rank": [1, 2], "row": [40, 90], "col": [50, 60]})
    assert point_label(table, 90, 60) == "candidate #2"
    assert point_label(table, 90, 61) == "point (90, 61)" and point_label(table.iloc[:0], 40, 50) == "point (40, 50)"
