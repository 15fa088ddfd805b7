"""The LIDC crop table (``ct/lidc_crops/crops.csv``), reading crops, patient-level split.

A crop is one nodule read on its largest slice, only the bounding box, in HU.
Pixels outside the reader's outline are stored as -1024 HU (the crops are
masked), so the crop's own background is "air", not lung.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from medmodels.config import data_dir
from medmodels.ct.canvas import MASK_HU

#: Only crops matched to exactly one LUNA16 nodule carry a consensus label.
LABELLED_STATUS = "unique_match"


def crops_dir() -> Path:
    """``<data_dir>/ct/lidc_crops`` (may not exist; callers check)."""
    return data_dir() / "ct" / "lidc_crops"


def load_crop_table(root: Path | None = None, labelled_only: bool = True) -> pd.DataFrame:
    """The crop table with absolute ``path`` and integer ``label`` (1 = malignant) columns.

    ``labelled_only`` keeps the 968 crops matched to exactly one LUNA16 nodule.
    Rows keep the CSV order (which makes seeded splits reproducible).
    """
    root = crops_dir() if root is None else Path(root)
    table = pd.read_csv(root / "crops.csv")
    if labelled_only:
        table = table[table["match_status"] == LABELLED_STATUS].copy()
        table["label"] = table["mal_bool"].astype(str).str.lower().eq("true").astype(int)
    table["path"] = [str(root / name) for name in table["file"]]
    return table.reset_index(drop=True)


#: Tissue denser than this (HU) stands in for a reader's nodule outline in the crops of automatic candidates.
DENSE_TISSUE_HU = -600.0
#: A candidate crop is scored for malignancy only with at least a disc of this diameter's area of tissue above
#: DENSE_TISSUE_HU: 98 % of the malignancy training crops (633 of 647) hold that much. With less the crop is
#: nearly blank, outside what the CNN learnt from, and it scores it like empty lung (about 0.15).
MIN_SCORED_DIAMETER_MM = 2.0
#: A candidate's crop box is this many times its estimated diameter per side: a margin for an underestimate.
CANDIDATE_BOX_PER_DIAMETER = 1.2


@dataclass(frozen=True)
class Crop:
    """One 2-D crop: ``hu`` float32 (rows, cols) in HU, ``spacing_mm`` (row, col) in mm, and the
    SeriesInstanceUID it was cut from ("" when unknown)."""

    hu: np.ndarray
    spacing_mm: tuple[float, float]
    series_uid: str = ""

    @property
    def extent_mm(self) -> float:
        """Physical extent: the longer side of the bounding box in mm (the diameter baseline)."""
        return float(max(self.hu.shape[0] * self.spacing_mm[0], self.hu.shape[1] * self.spacing_mm[1]))


def dense_tissue_only(hu: np.ndarray) -> np.ndarray:
    """A new float32 array of ``hu`` (HU) with tissue at or below DENSE_TISSUE_HU set to MASK_HU (the crops' outside)."""
    hu = np.asarray(hu, dtype=np.float32)
    return np.where(hu > DENSE_TISSUE_HU, hu, np.float32(MASK_HU)).astype(np.float32)


def dense_tissue_crop(crop: Crop) -> Crop:
    """A new crop of ``crop`` keeping only tissue above DENSE_TISSUE_HU (see :func:`dense_tissue_only`)."""
    return Crop(dense_tissue_only(crop.hu), crop.spacing_mm, crop.series_uid)


def holds_scoreable_tissue(crop: Crop) -> bool:
    """Whether a crop holds at least a MIN_SCORED_DIAMETER_MM disc's area of tissue above DENSE_TISSUE_HU."""
    area_mm2 = float((crop.hu > DENSE_TISSUE_HU).sum()) * crop.spacing_mm[0] * crop.spacing_mm[1]
    return area_mm2 >= np.pi * (MIN_SCORED_DIAMETER_MM / 2) ** 2


def read_crop(source) -> Crop:
    """Read one crop DICOM (path or bytes) with :func:`medmodels.load_ct`.

    Raises:
        InputError: unreadable, not CT, or more than one slice.
    """
    from medmodels import InputError, load_ct

    image = load_ct(source)
    if image.hu.shape[0] != 1:
        raise InputError(f"A nodule crop is one 2-D slice; this input has {image.hu.shape[0]} slices. "
                         "Upload a single-slice crop DICOM.")
    _, row_mm, col_mm = image.spacing
    return Crop(hu=np.asarray(image.hu[0], dtype=np.float32), spacing_mm=(float(row_mm), float(col_mm)),
                series_uid=image.series_uid or "")


@dataclass(frozen=True)
class PatientSplit:
    """Row indices (into the crop table) of each split; no patient sits in two splits."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    seed: int
    test_fraction: float
    validation_fraction: float

    def names(self) -> dict[str, np.ndarray]:
        return {"train": self.train, "validation": self.validation, "test": self.test}


SPLIT_SEED = 20241124
TEST_FRACTION = 0.20
VALIDATION_FRACTION = 0.15


def patient_split(table: pd.DataFrame, seed: int = SPLIT_SEED, test_fraction: float = TEST_FRACTION,
                  validation_fraction: float = VALIDATION_FRACTION) -> PatientSplit:
    """Seeded patient-level split, stratified by whether a patient has any malignant crop.

    Fractions are of patients (not crops). Patients are sorted by id before the
    seeded shuffle, so the split depends only on the seed and the patient set.
    """
    by_patient = table.groupby("patient_id")["label"].max().sort_index()
    rng = np.random.default_rng(seed)
    test_ids, validation_ids = [], []
    for stratum in (0, 1):
        ids = by_patient.index[by_patient.to_numpy() == stratum].to_numpy()
        ids = ids[rng.permutation(ids.size)]
        n_test = int(round(test_fraction * ids.size))
        n_validation = int(round(validation_fraction * ids.size))
        test_ids.extend(ids[:n_test])
        validation_ids.extend(ids[n_test:n_test + n_validation])
    patients = table["patient_id"].to_numpy()
    is_test = np.isin(patients, test_ids)
    is_validation = np.isin(patients, validation_ids)
    return PatientSplit(
        train=np.flatnonzero(~is_test & ~is_validation),
        validation=np.flatnonzero(is_validation),
        test=np.flatnonzero(is_test),
        seed=seed, test_fraction=test_fraction, validation_fraction=validation_fraction,
    )
