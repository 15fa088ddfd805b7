"""Model inputs for the labelled crops, and training-time augmentation (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from medmodels.ct.canvas import model_input, place_on_canvas
from medmodels.ct.crops import read_crop


@dataclass(frozen=True)
class CropSet:
    """Inputs (n, 80, 80, 1) in [0, 1], labels (n,), patients (n,), their SeriesInstanceUIDs (n,), physical
    extents (n,) mm."""

    inputs: np.ndarray
    labels: np.ndarray
    patients: np.ndarray
    series_uids: np.ndarray
    extents_mm: np.ndarray
    n_downscaled: int

    def subset(self, rows: np.ndarray) -> "CropSet":
        return CropSet(self.inputs[rows], self.labels[rows], self.patients[rows], self.series_uids[rows],
                       self.extents_mm[rows], self.n_downscaled)


def build_crop_set(table: pd.DataFrame, pad: str) -> CropSet:
    """Read every crop of ``table`` and place it on the canvas (seeded per-crop padding noise)."""
    canvases, extents, downscaled = [], [], 0
    for crop_id, path in zip(table["crop_id"], table["path"]):
        crop = read_crop(path)
        placement = place_on_canvas(crop.hu, crop.spacing_mm, pad=pad, seed=int(crop_id))
        canvases.append(placement.hu)
        extents.append(crop.extent_mm)
        downscaled += placement.downscaled
    return CropSet(model_input(np.stack(canvases)), table["label"].to_numpy().astype(np.int32),
                   table["patient_id"].to_numpy(), table["series_uid"].to_numpy(), np.asarray(extents, np.float64),
                   downscaled)


def augment(inputs: np.ndarray, rng: np.random.Generator, intensity_jitter: float = 0.03) -> np.ndarray:
    """Random flips, 90-degree rotations and small intensity jitter of (n, H, W, 1) inputs in [0, 1].

    Flips and right-angle rotations keep the physical scale exactly (no
    interpolation). Jitter: gain 1 +- jitter and offset +- jitter (window units),
    scanner/kernel variety. Returns a new array; ``inputs`` is untouched.
    """
    out = np.empty_like(inputs)
    n = inputs.shape[0]
    k = rng.integers(0, 4, n)
    flip = rng.random(n) < 0.5
    gain = rng.uniform(1 - intensity_jitter, 1 + intensity_jitter, n).astype(np.float32)
    offset = rng.uniform(-intensity_jitter, intensity_jitter, n).astype(np.float32)
    for i in range(n):  # per-image geometry; n is a few hundred
        image = np.rot90(inputs[i], k[i], axes=(0, 1))
        out[i] = image[:, ::-1] if flip[i] else image
    return out * gain[:, None, None, None] + offset[:, None, None, None]
