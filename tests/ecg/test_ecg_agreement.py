"""Beat matching and the confusion matrix on a constructed case."""

import numpy as np

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
