"""What the CT page says beside the malignancy scores: test AUC against nodule size alone, from the card."""

from __future__ import annotations

from medmodels.ct.malignancy import read_card
from medmodels.ct_review import malignancy_performance_note, suspicious_slices


def _card(difference_ci=None, validation=None):
    test = {"auc": 0.85, "auc_ci95": [0.78, 0.91], "diameter_baseline_auc": 0.83}
    if difference_ci is not None:
        test |= {"auc_minus_diameter_baseline": 0.02, "auc_minus_diameter_baseline_ci95": difference_ci}
    metrics = {"test": test} | ({"validation": validation} if validation else {})
    return {"metrics": metrics}


def test_note_says_whether_the_network_beats_size_alone():
    better = malignancy_performance_note(_card([0.001, 0.05]))
    assert "AUC 0.85 (95 % CI 0.78–0.91)" in better and "size alone reaches 0.83" in better
    assert "ranks slightly better than size alone" in better and "+0.001 to +0.050" in better
    unclear = malignancy_performance_note(_card([-0.01, 0.05]))
    assert "not shown to rank better than size alone" in unclear


def test_note_adds_the_validation_split_and_degrades_gracefully():
    both = malignancy_performance_note(_card([0.001, 0.05], {"auc": 0.899, "diameter_baseline_auc": 0.906}))
    assert both.endswith("on the validation patients: AUC 0.90, size alone 0.91.")
    assert malignancy_performance_note(_card()).endswith("size alone reaches 0.83.")
    assert malignancy_performance_note({}) == ""
    assert malignancy_performance_note({"metrics": {"validation": {"auc": 0.9}}}) == ""


def test_committed_card_has_the_paired_comparison():
    note = malignancy_performance_note(read_card())
    assert "size alone reaches 0.83" in note and "95 % CI +0.001 to +0.055" in note


def test_suspicious_slices_skip_unanalysed_and_break_ties_by_slice():
    assert suspicious_slices([0.2, None, 0.9, 0.2, 0.1], top=3) == [2, 0, 3]
