"""Model-card summaries: each family's held-out figures in one line, read from its own card structure."""

from __future__ import annotations

import re

import pytest

from medmodels.model_cards import card_summary, held_out_headline, installed_cards
from medmodels.text import escape_markdown

BEAT_CARD = {"metrics": {"test_metrics": {"own_detector": {
    "V": {"Se": 88.05, "+P": 89.72}, "S": {"Se": 34.51, "+P": 42.52}, "accuracy": 92.19}}}}
MALIGNANCY_CARD = {"metrics": {"test": {"patients": 94, "auc": 0.8499, "auc_ci95": [0.7823, 0.9115],
                                        "diameter_baseline_auc": 0.82504}}}
DETECTOR_CARD = {"test_data": {"folds": {
    "fold-A": {"test": "P2", "nodules": [{"rank_on_central_slice": 2, "candidates_on_slice": 80},
                                         {"rank_on_central_slice": 5, "candidates_on_slice": 80}],
               "patch_auc": {"auc": 0.99481}},
    "fold-B": {"test": "P1", "nodules": [{"rank_on_central_slice": 4, "candidates_on_slice": 80}]},
}}}
CT_GAN_CARD = {"quality": {"tstr": {"TSTR": {"auc": 0.7005}, "TRTR": {"auc": 0.8674}}}}
ECG_GAN_CARD = {"quality": {"tstr": {"TSTR": {"accuracy": 83.26, "f1": {"S": 40.0, "V": 40.4}},
                                     "TRTR": {"accuracy": 95.98, "f1": {"S": 53.79, "V": 81.05}}}}}


def test_each_family_gets_its_held_out_figures():
    assert held_out_headline(BEAT_CARD) == \
        "DS2, beats found by its own detector: Se/+P (%) V 88.05/89.72, S 34.51/42.52; accuracy 92.19 %"
    assert held_out_headline(MALIGNANCY_CARD) == \
        "test patients (94): AUC 0.8499 (95 % CI 0.782–0.911); nodule size alone 0.825"
    assert held_out_headline(DETECTOR_CARD) == (
        "held-out series, P2: nodules ranked 2, 5 of 80 candidates on their central slice, patch AUC 0.995; "
        "P1: nodule ranked 4 of 80 candidates on its central slice")
    untuned = {"test_data": {"folds": {"fold-A": {**DETECTOR_CARD["test_data"]["folds"]["fold-A"],
                                                  "with_all_candidates_averaged": {"ranks": [2, 7]}}}}}
    assert held_out_headline(untuned) == (
        "held-out series, P2: nodules ranked 2, 5 of 80 candidates on their central slice (untuned rule: 2, 7), "
        "patch AUC 0.995; the first ranks average test-time views only for each slice's best candidates, a cut-off "
        "set after seeing a held-out nodule's rank, so they are tuned on these series; the untuned rule averages "
        "every candidate")
    assert held_out_headline(CT_GAN_CARD) == (
        "a detector trained on synthetic patches, tested on held-out ones (real lung; nodules composite: real crops "
        "blended into real lung): AUC 0.70 (trained on the training patches, nodules native or composite: 0.87)")
    assert held_out_headline(ECG_GAN_CARD).endswith(
        "accuracy 83.3 % (trained on real: 96.0 %); F1 (%) synthetic vs real training S 40 vs 54, V 40 vs 81")


def test_a_figure_the_card_does_not_have_is_a_dash_not_a_crash():
    card = {"metrics": {"test_metrics": {"own_detector": {"V": {"Se": 0.0, "+P": None}}}}}
    assert held_out_headline(card) == "DS2, beats found by its own detector: Se/+P (%) V 0/–"


def test_a_card_without_held_out_figures_says_nothing_rather_than_guessing():
    assert held_out_headline({}) == ""
    assert held_out_headline({"metrics": {"validation": {"auc": 0.9}}}) == ""  # validation is not held out
    assert card_summary({"name": "m"})["held-out result"] == ""


def test_a_generators_held_out_data_is_what_it_was_tested_on():
    summary = card_summary({"name": "g", "held_out_data": {"summary": "record 3 only"}})
    assert summary["tested on"] == "record 3 only"


@pytest.mark.parametrize("card", installed_cards(), ids=lambda c: c["_dir"])
def test_every_committed_card_states_training_test_data_and_held_out_figures(card):
    summary = card_summary(card)
    assert summary["trained on"] and summary["tested on"] and summary["held-out result"]
    assert len(summary["trained on"]) < 400  # a sentence, not a dump of record lists
    # every card is headed by a readable title, not by its identifier (e.g. "ct-nodule-detector")
    assert summary["model"] == card["title"] and " " in summary["model"]
    # what Home and the pages show says which records, not which Python constant holds them ("mitdb.TRAIN")
    shown = [*summary.values(), card.get("quality", {}).get("notes", "")]
    assert not [text for text in shown if re.search(r"\b(medmodels|mitdb)\.[A-Za-z_]", str(text))]


def test_a_card_without_a_title_is_headed_by_its_name():
    assert card_summary({"name": "m"})["model"] == "m"
    assert card_summary({"name": "m", "title": "Model M"})["model"] == "Model M"


def test_markdown_characters_in_card_text_are_shown_literally():
    assert escape_markdown("mitdb.TRAIN_x *2* [a](b) $5") == r"mitdb.TRAIN\_x \*2\* \[a\](b) \$5"
    assert escape_markdown("plain text, 0.7 mm → 64×64") == "plain text, 0.7 mm → 64×64"


def test_the_detector_cards_nodule_count_in_words_matches_its_folds():
    from medmodels.ct_detector import read_detector_card
    from medmodels.ct_detector_train import _count_words

    card = read_detector_card()
    nodules = sum(len(fold["nodules"]) for fold in card["test_data"]["folds"].values())
    assert nodules == 4
    assert f"{_count_words(nodules)} native nodules in total" in card["metrics_note"]
    assert _count_words(4) == "Four" and _count_words(12) == "12"


def test_the_detector_training_writes_the_committed_cards_text():
    """Re-running the card's own command must not write a different description of the same figures."""
    import pandas as pd

    from medmodels.ct_detector import DETECTOR_DIR, read_detector_card
    from medmodels.ct_detector_train import build_card

    card = read_detector_card()
    training, test = card["training_data"], card["test_data"]
    patients = lambda n: pd.DataFrame({"patient_id": [f"P{i}" for i in range(n)]})  # noqa: E731
    rebuilt = build_card(DETECTOR_DIR, test["folds"], 1706, patients(548), patients(140),
                         training["patches_final_model"]["total"], training["patches_final_model"]["positive"],
                         card["training_seconds"], training["series_uids"], test["acquisition"])
    assert {**rebuilt, "date": card["date"]} == card
    assert card["seed"] == 20261124 and "24 best of each slice" in card["inference"]
    assert "tuned on the held-out series" in card["metrics_note"]
    assert "not a calibrated probability" in card["metrics_note"]


def test_member_files_are_in_member_number_order(tmp_path):
    from medmodels.model_cards import member_files

    for name in ("net.weights.h5", "net.member10.weights.h5", "net.member2.weights.h5", "net.member1.weights.h5",
                 "net.memberX.weights.h5", "other.member1.weights.h5"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in member_files(tmp_path, "net.weights.h5")] == [
        "net.weights.h5", "net.member1.weights.h5", "net.member2.weights.h5", "net.member10.weights.h5"]


@pytest.mark.parametrize("leads, title", [
    (1, "ECG beat classifier (CNN + GRU, ensemble of 3 networks)"),
    (2, "ECG beat classifier, two leads (CNN + GRU, ensemble of 6 networks: 3 read both leads, 3 the analysed "
        "lead only)")])
def test_the_ecg_training_writes_the_committed_cards_text(leads, title):
    """`python -m medmodels.train ecg` writes these cards from these figures (DS2 figures come from `evaluate`)."""
    import copy

    import numpy as np

    from medmodels.ecg import AAMI_CLASSES
    from medmodels.ecg.beats import BeatSpec
    from medmodels.ecg.model import model_dir_for, read_card
    from medmodels.ecg.train import build_card, class_weights

    card = read_card(model_dir_for(leads))
    labels = lambda counts: np.repeat(np.arange(len(AAMI_CLASSES)), [counts[c] for c in AAMI_CLASSES])  # noqa: E731
    train_y, split, calibration = labels(card["training_data"]["beats"]), card["validation_split"], card["calibration"]
    rebuilt = build_card(
        train_y, labels(split["beats"]), class_weights(train_y), split["best_epoch"], split["score_per_epoch"],
        calibration["temperature"], calibration["ece_validation_before"], calibration["ece_validation_after"],
        card["metrics"]["validation"], [(m["file"], m["sha256"], m["leads"]) for m in card["weights"]["members"]],
        card["training"]["seconds"], card["training"]["member_seeds"], BeatSpec.from_card(card["input"]),
        offsets=np.array([calibration["class_offsets"][c] for c in AAMI_CLASSES]),
        member_history=split["member_score_per_epoch"], combination=split.get("combination"))
    committed = copy.deepcopy(card)
    del committed["metrics"]["test_metrics"]
    assert rebuilt == committed
    assert card["title"] == title and card["input"]["leads"] == leads
    assert calibration["class_offsets"]["F"] == 0.0 and "offsets for S and V" in calibration["method"]


def test_member_paths_are_the_names_member_files_reads_back(tmp_path):
    from medmodels.model_cards import member_files, member_paths

    written = member_paths(tmp_path, "net.weights.h5", 3)
    assert [p.name for p in written] == ["net.weights.h5", "net.member1.weights.h5", "net.member2.weights.h5"]
    for path in written:
        path.write_bytes(b"")
    assert member_files(tmp_path, "net.weights.h5") == written


@pytest.mark.parametrize("leads", [1, 2])
def test_the_ecg_cards_per_record_counts_add_up_to_their_pooled_confusion(leads):
    """The per-record S and V rows the card shows are the pooled own-detector matrix split by record."""
    from medmodels.ecg import AAMI_CLASSES
    from medmodels.ecg.model import model_dir_for, read_card

    test = read_card(model_dir_for(leads))["metrics"]["test_metrics"]
    confusion, per_record = test["confusion_own_detector"], test["own_detector_per_record"]
    n_ref, found, false_calls = (per_record["columns"].index(c) for c in ("n_reference", "found", "false_calls"))
    for class_name in ("S", "V"):
        i, rows = AAMI_CLASSES.index(class_name), per_record[class_name].values()
        assert sum(r[n_ref] for r in rows) == sum(confusion[i])
        assert sum(r[found] for r in rows) == confusion[i][i]
        assert sum(r[false_calls] for r in rows) == sum(row[i] for row in confusion) - confusion[i][i]
    reach = test["af_rule_reference_s_beats_ruled_out"]["DS2"]
    assert reach["s_beats"] == sum(confusion[AAMI_CLASSES.index("S")])
