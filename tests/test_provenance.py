"""Which inputs a model has seen: notes from the model cards, and the CT fold model used instead."""

from __future__ import annotations

from medmodels.ct_detector import installed_folds, read_detector_card
from medmodels.ecg.mitdb import DS1, DS2
from medmodels.ecg.model import read_card
from medmodels.provenance import (
    MITDB_FS_HZ, MITDB_SAMPLES, ct_series_provenance, ecg_record_provenance, malignancy_series_provenance,
)

ECG_CARD = {"training_data": {"records": ["101", "119"]}, "test_data": {"records": ["100", "232", "233"]}}
CT_CARD = {
    "training_data": {"series_uids": {"P1": "1.2.3.1", "P2": "1.2.3.2"}},
    "test_data": {"folds": {
        "fold-A": {"train": "P1", "test": "P2", "nodules": [{"diameter_mm": 8.8, "rank_on_central_slice": 5}]},
        "fold-B": {"train": "P2", "test": "P1", "nodules": [{"diameter_mm": 23.4, "rank_on_central_slice": 4}]},
    }},
}

MALIGNANCY_CARD = {"training_data": {"series_uids": ["1.1"]}, "validation_data": {"series_uids": ["2.2"]},
                   "test_data": {"series_uids": ["3.3"]}}


def test_a_training_record_is_flagged_and_a_test_record_is_called_held_out():
    seen = ecg_record_provenance("119", MITDB_FS_HZ, MITDB_SAMPLES, ECG_CARD)
    assert seen.seen_in_training and "Record 119" in seen.note and "2 MIT-BIH records (DS1)" in seen.note
    held_out = ecg_record_provenance("232", MITDB_FS_HZ, MITDB_SAMPLES, ECG_CARD)
    assert not held_out.seen_in_training and "DS2" in held_out.note and "3 records" in held_out.note


def test_a_record_is_only_claimed_when_it_has_mitdbs_rate_and_length_and_a_listed_name():
    assert ecg_record_provenance("119", 250.0, MITDB_SAMPLES, ECG_CARD) is None  # another recording named 119
    assert ecg_record_provenance("119", MITDB_FS_HZ, 21_600, ECG_CARD) is None  # an excerpt
    assert ecg_record_provenance("102", MITDB_FS_HZ, MITDB_SAMPLES, ECG_CARD) is None  # in neither list
    assert ecg_record_provenance("119", MITDB_FS_HZ, MITDB_SAMPLES, {}) is None  # a card without data lists


def test_a_training_series_gets_the_fold_that_held_it_out_with_that_folds_figures():
    fold, provenance = ct_series_provenance("1.2.3.1", CT_CARD, {"fold-A", "fold-B"})
    assert fold == "fold-B" and not provenance.seen_in_training
    assert "(P1)" in provenance.note and "trained on P2 only" in provenance.note
    assert "23.4 mm nodule ranked 4" in provenance.note
    assert ct_series_provenance("1.2.3.2", CT_CARD, {"fold-A", "fold-B"})[0] == "fold-A"


def test_a_training_series_without_its_fold_model_is_flagged_as_seen():
    fold, provenance = ct_series_provenance("1.2.3.1", CT_CARD, {"fold-A"})
    assert fold is None and provenance.seen_in_training and "(P1) trained the nodule detector" in provenance.note


def test_other_series_get_no_note():
    assert ct_series_provenance("9.9.9", CT_CARD, {"fold-A", "fold-B"}) is None
    assert ct_series_provenance("", CT_CARD, {"fold-A", "fold-B"}) is None  # no SeriesInstanceUID in the upload
    assert ct_series_provenance("1.2.3.1", {}, {"fold-A"}) is None


def test_the_committed_cards_support_the_notes():
    ecg = read_card()
    assert tuple(ecg["training_data"]["records"]) == DS1 and tuple(ecg["test_data"]["records"]) == DS2
    detector = read_detector_card()
    folds = detector["test_data"]["folds"]
    assert set(detector["training_data"]["series_uids"]) == {f["test"] for f in folds.values()}
    assert installed_folds() == set(folds)
    for uid in detector["training_data"]["series_uids"].values():
        fold, provenance = ct_series_provenance(uid, detector, installed_folds())
        assert fold in folds and not provenance.seen_in_training


def test_malignancy_notes_follow_the_split_of_the_series_patient():
    trained = malignancy_series_provenance("1.1", MALIGNANCY_CARD)
    assert trained.seen_in_training and "training split" in trained.note and "overstate" in trained.note
    tuned = malignancy_series_provenance("2.2", MALIGNANCY_CARD)
    assert tuned.seen_in_training and "validation split" in tuned.note and "not a held-out result" in tuned.note
    held_out = malignancy_series_provenance("3.3", MALIGNANCY_CARD)
    assert not held_out.seen_in_training and "held-out test split" in held_out.note
    for unknown in ("9.9", ""):
        assert malignancy_series_provenance(unknown, MALIGNANCY_CARD) is None
    assert malignancy_series_provenance("1.1", {}) is None


def test_the_committed_malignancy_card_lists_each_splits_series_once():
    from medmodels.ct.malignancy import read_card as read_malignancy_card

    card = read_malignancy_card()
    splits = [set(card[key]["series_uids"]) for key in ("training_data", "validation_data", "test_data")]
    assert [len(s) for s in splits] == [card[key]["patients"] for key in ("training_data", "validation_data",
                                                                          "test_data")]  # one series per patient
    assert not (splits[0] & splits[1] or splits[0] & splits[2] or splits[1] & splits[2])


def test_the_malignancy_cards_series_are_the_training_codes_split():
    """The card's lists are what ``patient_split`` gives on the crop table, so the notes match the training."""
    from data_paths import require_data
    from medmodels.ct.crops import load_crop_table, patient_split
    from medmodels.ct.malignancy import read_card as read_malignancy_card

    table = load_crop_table(require_data("ct", "lidc_crops"))
    card = read_malignancy_card()
    for (name, rows), key in zip(patient_split(table).names().items(), ("training_data", "validation_data", "test_data")):
        assert sorted(set(table["series_uid"].iloc[rows])) == card[key]["series_uids"], name
