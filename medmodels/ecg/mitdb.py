"""MIT-BIH Arrhythmia Database: inter-patient splits, AAMI mapping, beat datasets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medmodels.config import data_dir
from medmodels.ecg import AAMI_CLASSES
from medmodels.ecg.beats import MODEL_FS, locate_r_peaks
from medmodels.ecg.conditioning import remove_baseline_and_mains, resample, to_rate
from medmodels.ecg.reading import choose_lead, choose_second_lead, read_record

DS1 = ("101", "106", "108", "109", "112", "114", "115", "116", "118", "119", "122",
       "124", "201", "203", "205", "207", "208", "209", "215", "220", "223", "230")
DS2 = ("100", "103", "105", "111", "113", "117", "121", "123", "200", "202", "210",
       "212", "213", "214", "219", "221", "222", "228", "231", "232", "233", "234")
#: Patient-level cross-validation folds inside DS1 (model selection and calibration use
#: out-of-fold predictions; every DS1 record then trains the final model).  Each fold holds
#: S-rich records (209 | 201, 220, 124 | 207, 223, 118), V-rich records and one
#: atrial-fibrillation or flutter record (201, 203, 207) so that every fold tests the
#: hard cases; DS2 is never part of it.
CV_FOLDS = (
    ("209", "106", "208", "101", "112", "122", "116"),
    ("201", "220", "124", "119", "215", "108", "114", "230"),
    ("207", "223", "118", "203", "205", "109", "115"),
)
#: A fixed patient-level split of DS1 for components that need one real hold-out
#: (the beat GAN's quality measures).  The classifier itself uses CV_FOLDS and DS1.
VALIDATION = ("101", "106", "118", "124", "220", "223")
TRAIN = tuple(r for r in DS1 if r not in VALIDATION)

AAMI_MAP = {**{s: "N" for s in "NLRej"}, **{s: "S" for s in "AaJS"},
            **{s: "V" for s in "VE"}, "F": "F", **{s: "Q" for s in "/fQ"}}
#: Every beat annotation symbol (wfdb's is_qrs), for QRS detection scoring.
QRS_SYMBOLS = frozenset("NLRaVFJASEj/QB?!enfr")


def mitdb_dir() -> Path:
    """Folder of the MIT-BIH records (may not exist)."""
    return data_dir() / "ecg" / "mitdb"


@dataclass(frozen=True)
class ConditionedLead:
    """One conditioned lead: native-rate and model-rate signals (mV) and rates (Hz)."""

    native: np.ndarray
    fs: float
    model_rate: np.ndarray


def condition_lead(signal_mv: np.ndarray, fs: float) -> ConditionedLead:
    """Baseline/mains removal at the native rate, then resampling to MODEL_FS."""
    native = remove_baseline_and_mains(signal_mv, fs)
    return ConditionedLead(native, float(fs), resample(native, fs, MODEL_FS))


def reference_beats(record_id: str, lead: str | None = None):
    """Read a record's chosen lead and its AAMI-labelled reference beats.

    Returns ``(raw_lead_mv, fs, samples, labels)`` with samples int64 in the
    record's rate (re-located on the QRS band, as for detected beats) and
    labels int64 class indices into AAMI_CLASSES; beats without an AAMI class
    (e.g. flutter waves) are dropped.
    """
    rec = read_record(mitdb_dir() / record_id)
    column = choose_lead(rec.lead_names, lead)
    x = rec.signal[:, column].astype(np.float64)
    keep = [i for i, s in enumerate(rec.ann_symbol) if s in AAMI_MAP]
    samples = rec.ann_sample[keep]
    labels = np.array([AAMI_CLASSES.index(AAMI_MAP[rec.ann_symbol[i]]) for i in keep], dtype=np.int64)
    return x, rec.fs, locate_r_peaks(x, rec.fs, samples), labels


def second_lead(record_id: str, lead: str | None = None) -> tuple[np.ndarray, float, str]:
    """The record's second lead for the two-lead classifier beside the lead :func:`reference_beats` reads.

    Returns ``(raw_lead_mv, fs, name)``: float64 (n,) at the record's rate
    ``fs`` (Hz), and its name (V1 in most MIT-BIH records).  A record without a precordial second
    lead is a ``ValueError`` (every MIT-BIH record has one).
    """
    rec = read_record(mitdb_dir() / record_id)
    column = choose_second_lead(rec.lead_names, choose_lead(rec.lead_names, lead))
    if column is None:
        raise ValueError(f"record {record_id} has no precordial second lead ({', '.join(rec.lead_names)})")
    return rec.signal[:, column].astype(np.float64), rec.fs, rec.lead_names[column]


def annotated_noise(record_id: str, n_samples: int, column: int = 0) -> np.ndarray:
    """Where the annotators marked signal ``column`` noisy or unreadable, bool (n_samples,).

    MIT-BIH's ``~`` annotations mark a change of signal quality; from each one
    to the next, bit ``column`` of the subtype means "noisy" and bit
    ``column + 4`` "unreadable"; subtype −1 means every signal is unreadable.
    """
    import wfdb

    ann = wfdb.rdann(str(mitdb_dir() / record_id), "atr")
    changes = [i for i, symbol in enumerate(ann.symbol) if symbol == "~"]
    mask = 1 << column | 1 << (column + 4)
    return _held_until_next_change(n_samples, [int(ann.sample[i]) for i in changes],
                                   [int(ann.subtype[i]) == -1 or bool(int(ann.subtype[i]) & mask) for i in changes])


def annotated_rhythm(record_id: str, n_samples: int, rhythms: tuple[str, ...]) -> np.ndarray:
    """Where the annotated rhythm is one of ``rhythms`` (e.g. ``("(VT", "(VFL")``), bool (n_samples,).

    A rhythm annotation (aux note such as ``(VFL``) holds until the next one.
    """
    import wfdb

    ann = wfdb.rdann(str(mitdb_dir() / record_id), "atr")
    changes = [(int(sample), note.strip("\x00 ")) for sample, note in zip(ann.sample, ann.aux_note)
               if note.strip("\x00 ").startswith("(")]
    return _held_until_next_change(n_samples, [sample for sample, _ in changes], [note in rhythms for _, note in changes])


def _held_until_next_change(n_samples: int, change_samples: list[int], states: list[bool]) -> np.ndarray:
    """bool (n_samples,): each state holds from its change sample up to the next change (the last to the end)."""
    held = np.zeros(n_samples, dtype=bool)
    stops = [*change_samples[1:], n_samples]
    for start, stop, state in zip(change_samples, stops, states):
        held[start:stop] = state
    return held


def beats_to_model_rate(samples: np.ndarray, fs: float) -> np.ndarray:
    """Native-rate beat samples to MODEL_FS samples."""
    return to_rate(samples, fs, MODEL_FS)
