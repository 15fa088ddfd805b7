"""Was an input part of a model's training or test data?  Read from the model card.

A demonstration on a record the model was trained on looks like evidence of
performance and is not: the pages say which inputs the model has seen, and for
the CT series that trained the final detector they use the fold model that held
that series out, so what is shown is the held-out result the card reports.
Nothing here reads patient-identifying tags: records are matched by name and
shape, series by SeriesInstanceUID.
"""

from __future__ import annotations

from dataclasses import dataclass

#: MIT-BIH Arrhythmia Database records: 360 Hz, 30 min 5.6 s (650,000 samples).
MITDB_FS_HZ = 360.0
MITDB_SAMPLES = 650_000


@dataclass(frozen=True)
class Provenance:
    """What a model has seen of one input. ``seen_in_training``: shown results overstate performance."""

    seen_in_training: bool
    note: str


def ecg_record_provenance(name: str, fs: float, n_samples: int, card: dict) -> Provenance | None:
    """Provenance of an ECG record for the beat classifier; None when it is not a MIT-BIH record the card lists.

    A record counts as MIT-BIH only with the database's own rate and length, so a
    different recording that happens to be called "119" is not claimed.
    """
    if fs != MITDB_FS_HZ or n_samples != MITDB_SAMPLES:
        return None
    training = card.get("training_data", {}).get("records", [])
    test = card.get("test_data", {}).get("records", [])
    if name in training:
        return Provenance(True, f"Record {name} is one of the {len(training)} MIT-BIH records (DS1) the beat classifier "
                                "was trained on, so its agreement with the reference overstates what to expect for a "
                                f"new patient. The held-out figures are those on the {len(test)} DS2 records, in the "
                                "model card below.")
    if name in test:
        return Provenance(False, f"Record {name} is in MIT-BIH DS2, which the beat classifier never saw in training or "
                                 f"model selection: its agreement with the reference is a held-out result, one of the "
                                 f"{len(test)} records behind the model card's test figures.")
    return None


def ct_series_provenance(series_uid: str, card: dict, available_folds: set[str]) -> tuple[str | None, Provenance] | None:
    """For a series the final CT detector was trained on: (fold model to use instead, or None; what to say).

    ``card``: the detector card, whose ``training_data.series_uids`` maps patient
    to SeriesInstanceUID and whose ``test_data.folds`` name each fold's test
    patient; ``available_folds``: the fold models installed.  None for any other series.
    """
    patients = {uid: patient for patient, uid in card.get("training_data", {}).get("series_uids", {}).items()}
    patient = patients.get(series_uid) if series_uid else None
    if patient is None:
        return None
    for fold, figures in card.get("test_data", {}).get("folds", {}).items():
        if figures.get("test") == patient and fold in available_folds:
            return fold, Provenance(False, _held_out_note(patient, fold, figures))
    return None, Provenance(True, f"This series ({patient}) trained the nodule detector, so its candidates and scores "
                                  "here overstate what to expect on a new patient; the model card gives the held-out "
                                  "figures.")


#: The malignancy card's splits: (card key, whether the split shaped the model, what to say of a patient in it).
_MALIGNANCY_SPLITS = (
    ("training_data", True, "were in the malignancy model's training split, so the malignancy likelihoods here "
                            "overstate what to expect for a new patient"),
    ("validation_data", True, "were in the malignancy model's validation split, which chose its epoch, threshold and "
                              "calibration, so the malignancy likelihoods here are not a held-out result"),
    ("test_data", False, "are in the malignancy model's held-out test split: it never trained or was tuned on them, "
                         "and they are part of the test figures in its model card"),
)


def malignancy_series_provenance(series_uid: str, card: dict) -> Provenance | None:
    """Provenance of a CT series for the malignancy CNN; None when no split of its card lists the series.

    ``card``: the malignancy card, whose ``training_data`` / ``validation_data`` /
    ``test_data`` each list the ``series_uids`` of their patients' crops (one series per patient).
    """
    if not series_uid:
        return None
    for key, shaped_the_model, what in _MALIGNANCY_SPLITS:
        if series_uid in card.get(key, {}).get("series_uids", ()):
            return Provenance(shaped_the_model, f"This patient's reader-outlined nodules {what}.")
    return None


def _held_out_note(patient: str, fold: str, figures: dict) -> str:
    ranks = ", ".join(f"its {n['diameter_mm']:g} mm nodule ranked {n['rank_on_central_slice']}"
                      for n in figures.get("nodules", []))
    return (f"This series ({patient}) is one of the two the final nodule detector was trained on. To show a held-out "
            f"result it is scored here by the {fold} detector, trained on {figures.get('train', 'the other series')} "
            f"only, which gives the figures the model card reports for it ({ranks} on its central slice).")
