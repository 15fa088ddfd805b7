"""ECG page tables: class burden with the model's held-out figures beside each count."""

from __future__ import annotations

import math

from medmodels.ecg import AAMI_CLASSES
from medmodels.ecg_review import burden_table, held_out_caption, held_out_class_figures

SUMMARY = {"class_counts": {"N": 90, "S": 6, "V": 4, "F": 0, "Q": 0},
           "burden_percent": {"N": 90.0, "S": 6.0, "V": 4.0, "F": 0.0, "Q": 0.0}}
CARD = {"metrics": {"test_metrics": {
    "split": "DS2 (2 records)", "ece_ds2_reference_beats": 0.014,
    "own_detector": {"N": {"Se": 95.6, "+P": 96.4}, "S": {"Se": 34.5, "+P": 42.5}, "V": {"Se": 88.1, "+P": 89.7},
                     "Q": {"Se": 0.0, "+P": None}, "accuracy": 92.2},
}}}


def test_each_class_count_sits_beside_the_models_held_out_figures_for_that_class():
    table = burden_table(SUMMARY, held_out_class_figures(CARD)).set_index("class")
    assert list(table.index) == list(AAMI_CLASSES)
    assert table.loc["S", "beats"] == 6 and table.loc["S", "held-out Se (%)"] == 34.5
    assert table.loc["S", "held-out +P (%)"] == 42.5
    assert math.isnan(table.loc["F", "held-out Se (%)"])  # the card has no F figures: blank, not zero
    assert table.loc["Q", "held-out Se (%)"] == 0.0 and math.isnan(table.loc["Q", "held-out +P (%)"])


def test_without_card_figures_the_table_has_counts_only():
    assert list(burden_table(SUMMARY)) == ["class", "beats", "burden (%)"]
    assert held_out_class_figures({}) == {}
    assert held_out_caption({}) == "This model card has no held-out figures."


def test_the_caption_names_the_split_and_the_calibration_error():
    caption = held_out_caption(CARD)
    assert caption.startswith("Held-out: on DS2 (2 records), patients the model never saw")
    assert "expected calibration error on those records 1.4 %" in caption
