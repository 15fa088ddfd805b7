"""Real training and held-out arrays for the GANs, from the classifier's and detector's own pipelines.

ECG: the beat classifier's inputs (waveform channels and RR features, in the
spec of the committed classifier) for MIT-BIH DS1, split by patient into
``mitdb.TRAIN`` (GAN training) and ``mitdb.VALIDATION`` (held out for the
quality measures).  DS2 is never read here.

CT: fold A of the detector: patches of series LIDC-IDRI-0001 plus nodule crops
of the training patients (``ct_detector_data.training_set``) train the GAN;
series LIDC-IDRI-0003 with crops of the held-out patients is held out.

The arrays can be saved to / read from one compressed ``.npz`` (float16 / int16)
so training can run where the raw data and its readers are not installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medmodels.config import REPO_ROOT

#: The ECG GAN's classes (the classifier's AAMI indices 0–3); Q is not generated.
ECG_CLASSES = ("N", "S", "V", "F")
#: The CT GAN's classes.
CT_CLASSES = ("no nodule", "nodule")
#: Where prepared arrays are cached (git-ignored by .gitignore).
CACHE_DIR = REPO_ROOT / ".devdata-gan"
CT_TRAIN_SERIES, CT_HELD_OUT_SERIES = "LIDC-IDRI-0001", "LIDC-IDRI-0003"
#: Seed of the (random) parts of the CT patch sets: background choice and blending positions.
CT_DATA_SEED = 20261124


@dataclass(frozen=True)
class ECGSplit:
    """Beats of one split: waveform (n, length, channels) float32, rr (n, n_rr) float32, labels (n,) in 0..3."""

    waveform: np.ndarray
    rr: np.ndarray
    labels: np.ndarray

    def inputs(self) -> dict[str, np.ndarray]:
        """The classifier's input dict."""
        return {"waveform": self.waveform, "rr": self.rr}


@dataclass(frozen=True)
class CTSplit:
    """HU patches (n, 64, 64) float32 and labels (n,) 0 = no nodule, 1 = nodule."""

    patches: np.ndarray
    labels: np.ndarray


def ecg_split(records, spec=None) -> ECGSplit:
    """Reference beats of ``records`` (N, S, V, F only) in the classifier's input format.

    ``spec``: a ``BeatSpec``; default the committed classifier's (read from its card),
    so the GAN always produces what that classifier reads.
    """
    from medmodels.ecg.train import record_dataset

    spec = spec or committed_beat_spec()
    inputs, labels = record_dataset(records, spec)
    keep = labels < len(ECG_CLASSES)
    return ECGSplit(inputs["waveform"][keep].astype(np.float32), inputs["rr"][keep].astype(np.float32),
                    labels[keep].astype(np.int64))


def committed_beat_spec():
    """The input spec of the committed ECG classifier (from its card)."""
    from medmodels.ecg.beats import BeatSpec
    from medmodels.ecg.model import read_card

    return BeatSpec.from_card(read_card().get("input"))


def ecg_splits() -> tuple[ECGSplit, ECGSplit]:
    """(train, held out): ``mitdb.TRAIN`` and ``mitdb.VALIDATION`` records."""
    from medmodels.ecg.mitdb import TRAIN, VALIDATION

    return ecg_split(TRAIN), ecg_split(VALIDATION)


def ct_splits(n_held_out_negative: int = 2000) -> tuple[CTSplit, CTSplit]:
    """(train, held out) CT patches, in HU, without any patient in both.

    Training: ``training_set`` of series 0001 with the training patients' crops
    (the detector's fold-A training data).  Held out: series 0003's own
    false candidates and random lung (label 0) and held-out patients' crops
    blended into it (label 1), as in ``ct_detector_eval.patch_auc``.
    """
    from medmodels.ct_detector_data import (crop_table, inserted_nodule_patches, is_held_out_patient, load_crops,
                                            prepare_series, random_lung_patches, training_set, candidate_patches)
    from medmodels.ct_lidc import lidc_series

    rng = np.random.default_rng(CT_DATA_SEED)
    files = lidc_series()
    train_series = prepare_series(CT_TRAIN_SERIES, files[CT_TRAIN_SERIES])
    test_series = prepare_series(CT_HELD_OUT_SERIES, files[CT_HELD_OUT_SERIES])
    table = crop_table()
    table = table[~table["patient_id"].isin([CT_TRAIN_SERIES, CT_HELD_OUT_SERIES])]
    held = table["patient_id"].map(is_held_out_patient)
    x, y = training_set([train_series], load_crops(table[~held]), rng)
    patches, owners, _ = candidate_patches(test_series)
    negatives = patches[owners < 0]
    negatives = negatives[rng.permutation(len(negatives))[:n_held_out_negative]]
    parenchyma = random_lung_patches(test_series, n_held_out_negative // 4, rng)
    positives = inserted_nodule_patches([test_series], load_crops(table[held]), rng, negatives)
    test_x = np.concatenate([negatives, parenchyma, positives]).astype(np.float32)
    test_y = np.concatenate([np.zeros(len(negatives) + len(parenchyma)), np.ones(len(positives))]).astype(np.int64)
    return CTSplit(x.astype(np.float32), y.astype(np.int64)), CTSplit(test_x, test_y)


# --------------------------------------------------------------------------- cache files


def save_ecg(path: Path, train: ECGSplit, held_out: ECGSplit) -> None:
    np.savez_compressed(path, **{f"{name}_{k}": (v.astype(np.float16) if v.dtype.kind == "f" else v)
                                 for name, split in (("train", train), ("held_out", held_out))
                                 for k, v in vars(split).items()})


def load_ecg(path: Path) -> tuple[ECGSplit, ECGSplit]:
    with np.load(path) as f:
        return tuple(ECGSplit(f[f"{n}_waveform"].astype(np.float32), f[f"{n}_rr"].astype(np.float32),
                              f[f"{n}_labels"].astype(np.int64)) for n in ("train", "held_out"))


def save_ct(path: Path, train: CTSplit, held_out: CTSplit) -> None:
    # HU fits int16 exactly enough (patches are interpolated; 1 HU steps are far below noise).
    np.savez_compressed(path, **{f"{name}_{k}": (np.round(v).astype(np.int16) if k == "patches" else v)
                                 for name, split in (("train", train), ("held_out", held_out))
                                 for k, v in vars(split).items()})


def load_ct(path: Path) -> tuple[CTSplit, CTSplit]:
    with np.load(path) as f:
        return tuple(CTSplit(f[f"{n}_patches"].astype(np.float32), f[f"{n}_labels"].astype(np.int64))
                     for n in ("train", "held_out"))


def cached(modality: str, refresh: bool = False):
    """(train, held out) for ``"ct"`` or ``"ecg"``, from CACHE_DIR when present, else prepared and saved there.

    The ECG cache is keyed by the committed classifier's input spec, so a changed spec re-prepares.
    """
    CACHE_DIR.mkdir(exist_ok=True)
    if modality == "ecg":
        spec = committed_beat_spec()
        path = CACHE_DIR / f"ecg-{spec.before}-{spec.after}-{len(spec.rr_features)}-{_stable_key(spec)}.npz"
        if path.exists() and not refresh:
            return load_ecg(path)
        train, held_out = ecg_splits()
        save_ecg(path, train, held_out)
        return train, held_out
    path = CACHE_DIR / "ct.npz"
    if path.exists() and not refresh:
        return load_ct(path)
    train, held_out = ct_splits()
    save_ct(path, train, held_out)
    return train, held_out


def _stable_key(spec) -> str:
    import hashlib

    return hashlib.sha256(repr((spec.before, spec.after, tuple(spec.rr_features))).encode()).hexdigest()[:8]
