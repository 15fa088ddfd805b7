"""Training and test patches for the nodule detector, from two real series and real nodule crops.

Real labelled CT is scarce here: two complete series with four native (LUNA16) nodules
and 2,179 nodule crops without surroundings. Positives are the native nodules
plus crops blended into real lung tissue of the training series (at vessel and
pleura candidates, the hard places, and at random lung positions); negatives
are the candidate generator's own false alarms and plain parenchyma from the
training series. Crops of the two series' own patients are never used, so no
nodule is seen twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage

from .config import data_dir
from .ct_candidates import MODEL_SPACING_MM, PATCH_SIZE, extract_patches, resample_to_model_spacing
from .ct_detector import PreparedSlice, prepare_slice
from .ct_lidc import Nodule, lidc_series, luna16_nodules
from .dicom_io import CTImage, load_ct
from .errors import InputError

#: A candidate within this distance (mm) of a nodule centre, or within its radius, belongs to it.
MATCH_RADIUS_MM = 5.0
#: Fraction of crop patients held out for the patch AUC (chosen by a hash of the patient id).
HELD_OUT_FRACTION = 0.2


@dataclass(frozen=True)
class PreparedSeries:
    """A series with every slice prepared for the detector and its reference nodules."""

    patient: str
    image: CTImage
    slices: list[PreparedSlice]
    nodules: list[Nodule]

    def nodule_model_pixel(self, nodule: Nodule) -> tuple[float, float]:
        """Nodule centre in the 0.7 mm grid."""
        row, col = nodule.pixel(self.image)
        s_row, s_col = self.image.spacing[1], self.image.spacing[2]
        return (row + 0.5) * s_row / MODEL_SPACING_MM - 0.5, (col + 0.5) * s_col / MODEL_SPACING_MM - 0.5


def prepare_series(patient: str, files: list[Path] | None = None) -> PreparedSeries:
    files = files or lidc_series()[patient]
    image = load_ct(files)
    spacing = image.spacing[1:]
    slices = [prepare_slice(image.hu[k], spacing) for k in range(image.n_slices)]
    return PreparedSeries(patient, image, slices, luna16_nodules(image.series_uid))


def nodule_owner(series: PreparedSeries, k: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """For candidates (model-grid rows, cols) of slice k: index of the nodule they belong to, or −1."""
    owner = np.full(len(rows), -1, dtype=np.int64)
    z = series.image.slice_z_mm[k]
    for i, nodule in enumerate(series.nodules):
        if abs(z - nodule.z_mm) > nodule.diameter_mm / 2 + series.image.spacing[0] / 2:
            continue
        r0, c0 = series.nodule_model_pixel(nodule)
        distance_mm = np.hypot(rows - r0, cols - c0) * MODEL_SPACING_MM
        owner[(distance_mm <= max(nodule.diameter_mm / 2, MATCH_RADIUS_MM)) & (owner < 0)] = i
    return owner


# --------------------------------------------------------------------------- crops


def crop_table() -> pd.DataFrame:
    return pd.read_csv(data_dir() / "ct" / "lidc_crops" / "crops.csv")


def is_held_out_patient(patient_id: str) -> bool:
    """A stable, seed-free patient split: the same patients are held out on every machine."""
    digest = hashlib.sha256(patient_id.encode()).digest()
    return digest[0] / 256 < HELD_OUT_FRACTION


def load_crops(table: pd.DataFrame) -> list[np.ndarray]:
    """Crops resampled to the model spacing (HU), in table order; unreadable ones are skipped."""
    root = data_dir() / "ct" / "lidc_crops"
    crops = []
    for file in table["file"]:
        try:
            image = load_ct(root / file)
        except InputError:
            continue
        crops.append(resample_to_model_spacing(image.hu[0], image.spacing[1:]))
    return crops


def blend_crop(background: np.ndarray, crop: np.ndarray, rng: np.random.Generator, window: str = "box") -> np.ndarray:
    """Blend a nodule crop into the centre of a background patch with a soft mask.

    The mask is the crop's dense tissue (> −600 HU), feathered, and faded to
    zero within 2 px of the crop's border (``window="box"``, as the committed
    detector and GAN were trained). A crop whose box is mostly dense tissue
    (a nodule against pleura or a vessel) then keeps a square edge;
    ``window="disc"`` also fades the mask outside the box's inscribed ellipse,
    to check that a figure does not rest on that edge.
    Both inputs are HU; neither is modified. Returns a new (64, 64) patch.
    """
    if window not in ("box", "disc"):
        raise ValueError(f"window must be 'box' or 'disc', not {window!r}")
    crop = crop[:PATCH_SIZE, :PATCH_SIZE]
    h, w = crop.shape
    tissue = (crop > -600).astype(np.float32)
    if tissue.sum() < 4:
        tissue = (crop > np.percentile(crop, 70)).astype(np.float32)
    alpha = ndimage.gaussian_filter(tissue, 0.8)
    edge = np.minimum.outer(np.minimum(np.arange(h), np.arange(h)[::-1]), np.minimum(np.arange(w), np.arange(w)[::-1]))
    alpha *= np.clip(edge / 2.0, 0.0, 1.0)
    if window == "disc":
        alpha *= _inscribed_ellipse_fade(h, w)
    out = np.array(background, dtype=np.float32, copy=True)
    shift = rng.integers(-2, 3, size=2)
    r0 = int(np.clip(PATCH_SIZE // 2 - h // 2 + shift[0], 0, PATCH_SIZE - h))
    c0 = int(np.clip(PATCH_SIZE // 2 - w // 2 + shift[1], 0, PATCH_SIZE - w))
    region = out[r0:r0 + h, c0:c0 + w]
    out[r0:r0 + h, c0:c0 + w] = region * (1 - alpha) + crop * alpha
    return out


def _inscribed_ellipse_fade(h: int, w: int) -> np.ndarray:
    """(h, w) weights: 1 inside 80 % of the box's inscribed ellipse, falling linearly to 0 on the ellipse."""
    rows, cols = np.mgrid[:h, :w]
    radius = np.hypot((rows - (h - 1) / 2) / (h / 2), (cols - (w - 1) / 2) / (w / 2))
    return np.clip((1.0 - radius) / 0.2, 0.0, 1.0).astype(np.float32)


def has_dense_border(crop: np.ndarray, hu_threshold: float = -600.0) -> bool:
    """Whether most of a crop's 2-px border (HU, as blended: its first 64 × 64) is tissue denser than ``hu_threshold``.

    Such a crop, blended with ``window="box"``, leaves a square edge in the lung.
    """
    crop = np.asarray(crop)[:PATCH_SIZE, :PATCH_SIZE]
    ring = np.ones(crop.shape, bool)
    ring[2:-2, 2:-2] = False
    return bool(np.mean(crop[ring] > hu_threshold) > 0.5)


# --------------------------------------------------------------------------- patch sets


def candidate_patches(series: PreparedSeries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every candidate patch of a series: (patches (n, 64, 64), owner nodule or −1, slice index)."""
    patches, owners, slice_index = [], [], []
    for k, prepared in enumerate(series.slices):
        cands = prepared.candidates
        if len(cands) == 0:
            continue
        patches.append(extract_patches(prepared.hu_model, cands.rows, cands.cols))
        owners.append(nodule_owner(series, k, cands.rows, cands.cols))
        slice_index.append(np.full(len(cands), k))
    return np.concatenate(patches), np.concatenate(owners), np.concatenate(slice_index)


def random_lung_patches(series: PreparedSeries, n: int, rng: np.random.Generator) -> np.ndarray:
    """Patches centred on random lung pixels (mostly plain parenchyma)."""
    useful = [s for s in series.slices if s.lung_model.mean() > 0.05]
    out = []
    for _ in range(n):
        s = useful[rng.integers(len(useful))]
        rows, cols = np.nonzero(s.lung_model)
        j = rng.integers(len(rows))
        out.append(extract_patches(s.hu_model, rows[j:j + 1], cols[j:j + 1])[0])
    return np.stack(out)


def native_nodule_patches(series: PreparedSeries, rng: np.random.Generator, per_slice: int = 6) -> np.ndarray:
    """Patches centred (±2 px) on each native nodule on every slice it crosses."""
    out = []
    for nodule in series.nodules:
        r0, c0 = series.nodule_model_pixel(nodule)
        for k in nodule.slices(series.image):
            jitter = rng.integers(-2, 3, size=(per_slice, 2))
            rows = np.round(r0 + jitter[:, 0]).astype(int)
            cols = np.round(c0 + jitter[:, 1]).astype(int)
            out.append(extract_patches(series.slices[k].hu_model, rows, cols))
    return np.concatenate(out) if out else np.zeros((0, PATCH_SIZE, PATCH_SIZE), np.float32)


def oversample_large(crops: list[np.ndarray], min_extent_mm: float = 15.0, copies: int = 4) -> list[np.ndarray]:
    """Large nodules are rare among the crops (about 1 in 20 over 15 mm) but common in the clinic: repeat them."""
    large = [c for c in crops if max(c.shape) * MODEL_SPACING_MM >= min_extent_mm]
    return crops + large * (copies - 1)


def inserted_nodule_patches(series_list: list[PreparedSeries], crops: list[np.ndarray], rng: np.random.Generator,
                            negatives: np.ndarray, window: str = "box") -> np.ndarray:
    """One positive per crop: half blended at a negative candidate (vessel, pleura), half in random lung (``blend_crop``)."""
    random_bg = np.concatenate([random_lung_patches(s, len(crops) // (2 * len(series_list)) + 1, rng) for s in series_list])
    out = []
    for i, crop in enumerate(crops):
        background = negatives[rng.integers(len(negatives))] if i % 2 else random_bg[rng.integers(len(random_bg))]
        out.append(blend_crop(background, crop, rng, window))
    return np.stack(out)


def training_set(series_list: list[PreparedSeries], crops: list[np.ndarray], rng: np.random.Generator,
                 n_negative: int = 6000, n_parenchyma: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """(patches (n, 64, 64) HU, labels (n,) 0/1) from training series and training crops."""
    candidates = [candidate_patches(s) for s in series_list]
    negatives = np.concatenate([p[o < 0] for p, o, _ in candidates])
    negatives = negatives[rng.permutation(len(negatives))[:n_negative]]
    parenchyma = np.concatenate([random_lung_patches(s, n_parenchyma // len(series_list), rng) for s in series_list])
    native = np.concatenate([native_nodule_patches(s, rng) for s in series_list]
                            + [p[o >= 0] for p, o, _ in candidates])
    inserted = inserted_nodule_patches(series_list, oversample_large(crops), rng, negatives)
    x = np.concatenate([negatives, parenchyma, native, inserted]).astype(np.float32)
    y = np.concatenate([np.zeros(len(negatives) + len(parenchyma)), np.ones(len(native) + len(inserted))])
    return x, y.astype(np.float32)
