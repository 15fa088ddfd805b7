"""ECG page tables: class burden with the model's held-out figures beside each count."""

from __future__ import annotations

import math

import numpy as np
import pytest

from medmodels.ecg import AAMI_CLASSES
from medmodels.ecg_review import (
    agreement_note, burden_table, events_table, held_out_caption, held_out_class_figures, mostly_missed_note, no_beats_note,
    no_regular_beats_note, rhythm_definitions_note, rr_context_note, untested_lead_note, untested_second_lead_note,
)

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
    assert "expected calibration error of the top label 1.4 % on those records at the reference beat positions" \
        in caption
    assert "not a per-class guarantee" in caption and "calibrated:" not in caption
    assert "N beats are" not in caption  # this card has no reference-beat counts to give N's share


def test_the_committed_cards_calibration_error_is_said_to_be_dominated_by_n_beats():
    from medmodels.ecg.model import read_card

    test = read_card()["metrics"]["test_metrics"]
    counts = {cls: row["n_reference"] for cls, row in test["reference_beats"].items() if isinstance(row, dict)}
    caption = held_out_caption(read_card())
    assert f"top label {100 * test['ece_ds2_reference_beats']:.1f} %" in caption
    share = counts["N"] / sum(counts.values())
    assert share > 0.5 and f"N beats are {100 * share:.0f} % of the beats and dominate it" in caption
    assert "None: not defined" in caption  # the Q row's +P is None: no Q calls on DS2


def test_classes_the_model_mostly_missed_are_named_with_their_held_out_sensitivity():
    def card(s_se, s_n=1837, f_se=60.0):
        own = {"N": {"Se": 40.0, "n_reference": 44259}, "S": {"Se": s_se, "n_reference": s_n},
               "V": {"Se": 87.5, "n_reference": 3221}, "F": {"Se": f_se, "n_reference": 388},
               "Q": {"Se": 0.0, "n_reference": 7}}
        return {"metrics": {"test_metrics": {"own_detector": own}}}

    note = mostly_missed_note(card(23.5))
    assert "found only 23.5 % of S (supraventricular ectopic) beats." in note
    assert "A low or zero S count here does not rule them out" in note and "main rhythm" in note
    assert "V (" not in note and "Q (" not in note and "N (" not in note  # Q: 7 held-out beats say nothing
    both = mostly_missed_note(card(23.5, f_se=1.8))
    assert "23.5 % of S (supraventricular ectopic) beats and 1.8 % of F (fusion) beats" in both
    assert "A low or zero S or F count" in both
    assert mostly_missed_note(card(50.0)) is None  # found half or more: no note
    assert mostly_missed_note(card(10.0, s_n=99)) is None  # too few held-out beats for a sensitivity
    assert mostly_missed_note({}) is None


def test_the_committed_classifiers_are_said_to_miss_most_s_and_f_beats():
    from medmodels.ecg.model import TWO_LEAD_MODEL_DIR, read_card

    for card in (read_card(), read_card(TWO_LEAD_MODEL_DIR)):
        own = card["metrics"]["test_metrics"]["own_detector"]
        note = mostly_missed_note(card)
        assert f"{own['S']['Se']:.1f} % of S" in note and f"{own['F']['Se']:.1f} % of F" in note


def test_no_beats_note_tells_a_flat_lead_from_one_with_signal():
    flat = no_beats_note("MLII", np.r_[np.full(100, 0.2), np.nan])
    assert "spans 0.00 mV" in flat and "flat" in flat and "Choose another lead" in flat
    noisy = no_beats_note("V1", np.random.default_rng(0).normal(0, 1, 1000))
    assert "flat" not in noisy and "noise" in noisy


def test_no_regular_beats_note_only_when_flagged_and_with_the_cards_figures():
    card = {"metrics": {"test_metrics": {"qrs_detection_all_48_records_lead0": {"no_regular_beats_check": {
        "flagged": {"windows": 11, "Se": 79.62, "+P": 92.83}, "rest": {"windows": 8677, "Se": 99.68, "+P": 99.84},
        "annotated_noisy_windows": 148, "annotated_noisy_windows_flagged": 1,
        "ventricular_tachyarrhythmia_windows": 28, "ventricular_tachyarrhythmia_windows_flagged": 8}}}}}
    assert no_regular_beats_note({"no_regular_beats_percent": 0.0}, card) is None
    text = no_regular_beats_note({"no_regular_beats_percent": 5.2}, card)
    assert text.startswith("No regular beats in 5 % of this record")
    assert "ventricular tachycardia, flutter or fibrillation: look at the strip" in text
    assert "flagged 11 windows of 10 s, 8 of them" in text and "80 % of the beats there (99.7 % elsewhere)" in text
    assert "only 8 of 28" in text and "1 of 148 noisy" in text
    # without card figures the warning itself still stands
    assert no_regular_beats_note({"no_regular_beats_percent": 5.2}, {}).endswith("Beat labels there are unreliable.")


def test_events_list_stretches_without_regular_beats_in_time_order():
    summary = {"pauses": [{"start_s": 30.0, "duration_s": 2.5}],
               "no_regular_beats_spans": [{"start_s": 40.0, "end_s": 60.0}, {"start_s": 0.0, "end_s": 10.0}]}
    table = events_table(summary)
    assert table["event"].tolist() == ["no regular beats", "pause", "no regular beats"]
    assert table["detail"].tolist()[0] == "to 10.0 s"


def test_events_give_clock_times_and_the_rate_range_of_each_v_run():
    summary = {"v_run_list": [{"start_s": 1051.3, "end_s": 1053.4, "duration_s": 2.1, "beats": 5, "rate_bpm": 114.3},
                              {"start_s": 3723.0, "end_s": 3800.0, "duration_s": 77.0, "beats": 75, "rate_bpm": 57.7}],
               "pauses": [{"start_s": 59.96, "duration_s": 2.5}]}
    table = events_table(summary)
    assert table["clock"].tolist() == ["1:00.0", "17:31.3", "1:02:03"]
    assert table["detail"].tolist()[1:] == ["5 beats in 2.1 s at 114 bpm (ventricular-tachycardia range)",
                                            "75 beats in 77.0 s at 58 bpm (idioventricular range)"]


def test_rhythm_note_defines_the_figures_and_gives_when_the_extremes_happened():
    from medmodels.ecg.rhythm import summarise_rhythm

    times = np.concatenate([np.arange(0.0, 30.0), 30.0 + 1.5 * np.arange(1, 10), [46.0, 49.5]])
    note = rhythm_definitions_note(summarise_rhythm(np.rint(times * 250).astype(int), ["N"] * times.size, 250.0))
    # the slowest 8 intervals end with both pauses: 34.5 s to 49.5 s, 32 bpm
    assert "lowest and highest mean over 8 consecutive beats (at 0:34.5 and 0:00.0)" in note
    assert "Longest pause 3.50 s at 0:46.0." in note and "a run 3 or more" in note


@pytest.mark.parametrize("name", ["MLII", "II", "ii", "Lead II", "ECG II", "ML2"])
def test_lead_ii_under_its_usual_names_gets_no_untested_lead_note(name):
    assert untested_lead_note(name) is None


@pytest.mark.parametrize("name", ["V1", "aVR", "I", "III", "ECG", "V5"])
def test_any_other_lead_is_told_the_held_out_figures_do_not_apply(name):
    note = untested_lead_note(name)
    assert f"lead {name} was not measured" in note and "trained and tested on lead MLII" in note


def test_rr_context_note_gives_a_premature_beats_short_then_long_intervals_against_the_local_mean():
    fs = 360.0
    rr_s = [0.8] * 15 + [0.48, 1.12] + [0.8] * 15  # beat 16 comes early and is followed by a compensatory pause
    beats = np.round(np.concatenate([[0.0], np.cumsum(rr_s)]) * fs).astype(np.int64)
    note = rr_context_note(beats, fs, 16)
    assert "RR before 0.48 s (60 %)" in note and "RR after 1.12 s (140 %)" in note  # local mean 0.80 s
    assert "local mean RR, 0.80 s over the 21 intervals" in note
    assert "RR before none (first beat)" in rr_context_note(beats, fs, 0)  # not the borrowed next interval
    assert "RR after none (last beat)" in rr_context_note(beats, fs, beats.size - 1)
    assert "no RR intervals" in rr_context_note(beats[:1], fs, 0)


AGREEMENT_CARD = {"metrics": {"test_metrics": {"network_agreement_reference_beats": {
    "n_networks": 3,
    "all_agree": {"beats": 950, "share_percent": 95.0, "accuracy_percent": 94.75, "non_n_calls": 40,
                  "non_n_calls_right_percent": 74.27},
    "some_disagree": {"beats": 50, "share_percent": 5.0, "accuracy_percent": 56.68, "non_n_calls": 9,
                      "non_n_calls_right_percent": None}}}}}


def test_agreement_note_counts_the_split_beats_and_gives_the_cards_figures_for_each_group():
    note = agreement_note(np.array([3, 3, 2, 3, 1]), 3, AGREEMENT_CARD)
    assert "They split on 2 of 5 beats here." in note
    assert ("right for 94.8 % of the beats where all agreed and 56.7 % where some did not (5.0 % of the beats); "
            "of their S, V, F and Q calls 74.3 % and – were right.") in note
    # Without the card's figures, or for another ensemble size than the card measured, only the count.
    assert agreement_note(np.array([3, 2]), 3).endswith("They split on 1 of 2 beats here.")
    assert agreement_note(np.array([5, 5]), 5, AGREEMENT_CARD).endswith("They split on 0 of 2 beats here.")
    assert agreement_note(np.array([1, 1]), 1) == ""  # one network cannot disagree with itself
    assert "3 networks (one recipe, different training seeds)" in note


def test_agreement_note_says_when_the_networks_read_different_leads():
    mixed = {"weights": {"members": [{"leads": 2}] * 3 + [{"leads": 1}] * 3}}
    note = agreement_note(np.array([6, 5]), 6, mixed)
    assert note.startswith("Networks agreeing: of the classifier's 6 networks (3 reading both leads and 3 the "
                           "analysed lead only, different training seeds)")


@pytest.mark.parametrize("name", ["V1", "v2", "Lead V5", None])
def test_measured_second_leads_get_no_note(name):
    assert untested_second_lead_note(name) is None


def test_an_unmeasured_second_lead_is_named():
    note = untested_second_lead_note("V3")
    assert "second lead V3 was not measured" in note and "V1, V2 or V5" in note
