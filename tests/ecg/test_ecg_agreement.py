"""Beat matching and the confusion matrix on a constructed case."""

import numpy as np
import pytest

from medmodels.ecg.agreement import class_metrics, confusion_matrix, match_beats

FS = 100.0


def test_known_confusion_matrix():
    # Reference: N N S V N ; detections: N at 1.02 s, S at 2.10 s (matches 2.0 s
    # within 150 ms), N at 3.0 s (the S beat called N), V at 4.0 s, an extra V at
    # 6.0 s (no reference: false positive), and the N at 5.0 s is missed.
    reference = np.array([100, 200, 300, 400, 500])
    reference_labels = np.array([0, 0, 1, 2, 0])
    detected = np.array([102, 210, 300, 401, 600])
    detected_labels = np.array([0, 1, 0, 2, 2])
    matches = match_beats(reference, detected, FS, 0.15)
    assert matches.tolist() == [0, 1, 2, 3, -1]
    cm = confusion_matrix(reference_labels, detected_labels, matches)
    expected = np.zeros((6, 6), dtype=int)
    expected[0, 0] = 1   # N → N
    expected[0, 1] = 1   # N → S
    expected[1, 0] = 1   # S → N
    expected[2, 2] = 1   # V → V
    expected[0, 5] = 1   # N missed
    expected[5, 2] = 1   # extra detection labelled V
    assert np.array_equal(cm, expected)
    m = class_metrics(cm)
    assert abs(m["N"]["Se"] - 100 / 3) < 1e-9 and m["N"]["+P"] == 50.0
    assert m["S"]["Se"] == 0.0 and m["S"]["+P"] == 0.0 and m["S"]["F1"] is None
    assert m["V"]["Se"] == 100.0 and m["V"]["+P"] == 50.0
    assert m["F"]["Se"] is None
    assert abs(m["accuracy"] - 100 * 2 / 6) < 1e-9


def test_window_edge():
    assert match_beats(np.array([100]), np.array([116]), FS, 0.15).tolist() == [-1]
    assert match_beats(np.array([100]), np.array([114]), FS, 0.15).tolist() == [0]


def test_agreement_split_gives_accuracy_and_non_n_precision_per_group():
    from medmodels.ecg.evaluate import agreement_split

    truth = np.array([0, 0, 1, 2, 2, 0, 2])
    predicted = np.array([0, 1, 1, 2, 0, 0, 2])
    agreeing = np.array([3, 2, 3, 3, 1, 3, 0])
    split = agreement_split(truth, predicted, agreeing, 3)
    assert split["all_agree"] == {"beats": 4, "share_percent": 57.14, "accuracy_percent": 100.0, "non_n_calls": 2,
                                  "non_n_calls_right_percent": 100.0}
    # beats 1 (N called S), 4 (V called N) and 6 (V called V, no network alone): 1 of 3 right, 1 of 2 non-N calls
    assert split["some_disagree"] == {"beats": 3, "share_percent": 42.86, "accuracy_percent": 33.33,
                                      "non_n_calls": 2, "non_n_calls_right_percent": 50.0}
    empty = agreement_split(truth[:0], predicted[:0], agreeing[:0], 3)
    assert empty["some_disagree"]["accuracy_percent"] is None


def test_per_record_counts_split_a_pooled_figure_by_record():
    from medmodels.ecg.evaluate import format_per_record, per_record_counts

    # record "a": 10 S beats, 4 called S, 5 called N, 1 not detected; 2 N beats called S, 1 extra detection called S
    a = np.zeros((6, 6), dtype=int)
    a[1, 1], a[1, 0], a[1, 5], a[0, 1], a[5, 1], a[0, 0] = 4, 5, 1, 2, 1, 50
    # record "b": no S beat, 7 N beats called S; record "c": neither
    b = np.zeros((6, 6), dtype=int)
    b[0, 1], b[0, 0] = 7, 30
    c = np.zeros((6, 6), dtype=int)
    c[0, 0] = 9
    rows = per_record_counts({"a": a, "b": b, "c": c}, "S")
    assert rows == [{"record": "a", "n_reference": 10, "found": 4, "missed": 6, "false_calls": 3},
                    {"record": "b", "n_reference": 0, "found": 0, "missed": 0, "false_calls": 7},
                    {"record": "c", "n_reference": 0, "found": 0, "missed": 0, "false_calls": 0}]
    # the rows add up to the pooled matrix's figures
    pooled = class_metrics(a + b + c)["S"]
    found = sum(r["found"] for r in rows)
    assert 100 * found / sum(r["n_reference"] for r in rows) == pytest.approx(pooled["Se"])
    assert 100 * found / sum(r["found"] + r["false_calls"] for r in rows) == pytest.approx(pooled["+P"])
    text = format_per_record(rows, "S")
    assert "     c " not in text  # a record with neither S beats nor S calls is left out
    assert "record a holds 6 of the 6 missed S beats (100.0 %)" in text
    assert "record b holds 7 of the 10 false S calls (70.0 %)" in text


def test_af_rule_reach_on_an_af_record_and_a_regular_tachycardia(mitdb):
    from medmodels.ecg.evaluate import af_rule_reach, format_af_rule_reach

    # 201 has atrial fibrillation and flutter: most of its S beats sit in irregular stretches, where the rule
    # makes S impossible; 209's S beats are runs of regular supraventricular tachycardia, which the rule leaves.
    reach = af_rule_reach(["201", "209"])
    s_201, ruled_out_201 = reach["per_record"]["201"]
    assert s_201 == 128 and ruled_out_201 > 0.8 * s_201
    s_209, ruled_out_209 = reach["per_record"].get("209", [383, 0])
    assert ruled_out_209 < 0.05 * s_209
    assert reach["s_beats"] == 128 + 383
    assert reach["s_beats_in_af_like_rhythm"] == ruled_out_201 + ruled_out_209
    assert format_af_rule_reach(reach, "DS1").startswith(
        f"AF rule, DS1: {reach['s_beats_in_af_like_rhythm']} of 511 reference S beats")
