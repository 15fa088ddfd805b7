"""Committed generators: loading, value scaling, and seeded sampling.

A sample is fully determined by ``(seed, n, class)``: latents come from
``numpy.random.default_rng(seed)``, classes are the requested one or an even
mix (``i mod n_classes``), and the generator runs on the CPU in one batch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from medmodels.config import MODELS_DIR
from medmodels.errors import InputError
from medmodels.model_cards import sha256_of

MODEL_DIRS = {"ct": MODELS_DIR / "gan-ct", "ecg": MODELS_DIR / "gan-ecg"}
WEIGHT_FILES = {"raw": "generator_raw.weights.h5", "ema": "generator_ema.weights.h5"}
#: HU range the CT generator covers (tanh output −1…1 maps onto it); air to dense soft tissue/bone edge.
HU_RANGE = (-1024.0, 576.0)
#: Largest number of samples one call may ask for (the page and the CLI validate against it).
MAX_SAMPLES = 1024
#: Largest seed accepted (numpy takes any non-negative int; this bound is the page's input range).
MAX_SEED = 2**31 - 1


# --------------------------------------------------------------------------- scaling


def hu_to_scaled(hu: np.ndarray) -> np.ndarray:
    """HU → [−1, 1] (clipped to HU_RANGE); float32, new array."""
    lo, hi = HU_RANGE
    return (2.0 * (np.clip(np.asarray(hu, np.float32), lo, hi) - lo) / (hi - lo) - 1.0).astype(np.float32)


def scaled_to_hu(x: np.ndarray) -> np.ndarray:
    """[−1, 1] → HU in HU_RANGE; float32."""
    lo, hi = HU_RANGE
    return ((np.clip(np.asarray(x, np.float32), -1.0, 1.0) + 1.0) * 0.5 * (hi - lo) + lo).astype(np.float32)


def ecg_scaling(waveform: np.ndarray, rr: np.ndarray) -> dict:
    """Per-channel / per-feature mean and sd of training beats (sd floored at 1e-3), for the card."""
    w = np.asarray(waveform, np.float64)
    r = np.asarray(rr, np.float64)
    return {"waveform_mean": w.mean(axis=(0, 1)).round(6).tolist(),
            "waveform_sd": np.maximum(w.std(axis=(0, 1)), 1e-3).round(6).tolist(),
            "rr_mean": r.mean(axis=0).round(6).tolist(), "rr_sd": np.maximum(r.std(axis=0), 1e-3).round(6).tolist()}


def ecg_to_scaled(waveform, rr, scaling: dict) -> tuple[np.ndarray, np.ndarray]:
    w = (np.asarray(waveform, np.float32) - np.float32(scaling["waveform_mean"])) / np.float32(scaling["waveform_sd"])
    r = (np.asarray(rr, np.float32) - np.float32(scaling["rr_mean"])) / np.float32(scaling["rr_sd"])
    return w.astype(np.float32), r.astype(np.float32)


def scaled_to_ecg(w, r, scaling: dict) -> tuple[np.ndarray, np.ndarray]:
    """Scaled generator outputs → waveform channels (mV / relative units) and RR features clipped to [0, 5]."""
    wave = np.asarray(w, np.float32) * np.float32(scaling["waveform_sd"]) + np.float32(scaling["waveform_mean"])
    rr = np.asarray(r, np.float32) * np.float32(scaling["rr_sd"]) + np.float32(scaling["rr_mean"])
    # The classifier's features are clipped the same way (medmodels.ecg.beats.rr_features).
    return np.clip(wave, -10.0, 10.0).astype(np.float32), np.clip(rr, 0.0, 5.0).astype(np.float32)


# --------------------------------------------------------------------------- samples


@dataclass(frozen=True)
class Samples:
    """Generated samples.  CT: ``values["hu"]`` (n, 64, 64) HU.  ECG: ``values["waveform"]``
    (n, length, channels), channel 0 in mV at ``fs`` Hz, and ``values["rr"]`` (n, n_rr).
    ``labels`` (n,) index ``classes``."""

    modality: str
    values: dict
    labels: np.ndarray
    classes: tuple[str, ...]
    seed: int
    fs: float | None = None
    rr_names: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.labels)

    def class_names(self) -> list[str]:
        return [self.classes[i] for i in self.labels]


def build_generator(modality: str, card: dict):
    """The untrained generator for a card's recorded shapes."""
    from medmodels.gan.models import build_ct_generator, build_ecg_generator

    if modality == "ct":
        return build_ct_generator(len(card["classes"]))
    shape = card["shape"]
    return build_ecg_generator(shape["length"], shape["channels"], shape["n_rr"], len(card["classes"]))


@dataclass(frozen=True)
class GeneratorModel:
    """A loaded generator and its card; ``keras_model`` is shared and read-only."""

    modality: str
    keras_model: object
    card: dict
    sha256: str

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.card["classes"])

    @property
    def latent(self) -> int:
        return int(self.keras_model.inputs[0].shape[-1])

    def class_index(self, cls: str | None) -> int | None:
        """Index of a class name (case-insensitive), None for an even mix; InputError for an unknown one."""
        if cls is None or cls == "":
            return None
        names = [c.lower() for c in self.classes]
        if str(cls).lower() not in names:
            raise InputError(f"Unknown class {cls!r} for the {self.modality} generator; choose one of {', '.join(self.classes)}.")
        return names.index(str(cls).lower())

    def latents(self, n: int, seed: int) -> np.ndarray:
        """Standard-normal latents (n, latent) from ``default_rng(seed)``."""
        check_count(n, maximum=None)
        return np.random.default_rng(check_seed(seed)).standard_normal((n, self.latent)).astype(np.float32)

    def labels_for(self, n: int, cls: str | None) -> np.ndarray:
        index = self.class_index(cls)
        return (np.arange(n) % len(self.classes) if index is None else np.full(n, index)).astype(np.int32)

    def decode(self, z: np.ndarray, labels: np.ndarray, seed: int = 0) -> Samples:
        """Samples for latents ``z`` (n, latent) and class indices ``labels`` (n,)."""
        z = np.asarray(z, np.float32)
        labels = np.asarray(labels, np.int32)
        if len(z) == 0:
            out = None
        else:
            out = self.keras_model.predict_on_batch([z, labels])
        if self.modality == "ct":
            hu = scaled_to_hu(np.zeros((0, 64, 64)) if out is None else np.asarray(out)[..., 0])
            return Samples("ct", {"hu": hu}, labels.astype(np.int64), self.classes, seed)
        shape = self.card["shape"]
        if out is None:
            w, r = np.zeros((0, shape["length"], shape["channels"])), np.zeros((0, shape["n_rr"]))
        else:
            w, r = (np.asarray(o) for o in out)
        wave, rr = scaled_to_ecg(w, r, self.card["scaling"])
        return Samples("ecg", {"waveform": wave, "rr": rr}, labels.astype(np.int64), self.classes, seed,
                       fs=float(self.card["input"]["rate_hz"]), rr_names=tuple(self.card["input"]["rr_features"]))

    def sample(self, n: int, seed: int, cls: str | None = None) -> Samples:
        """``n`` samples for ``seed``: one class, or an even mix of all classes when ``cls`` is None."""
        return self.decode(self.latents(n, seed), self.labels_for(n, cls), seed)

    def interpolate(self, seed_a: int, seed_b: int, cls: str | None, steps: int = 8) -> Samples:
        """A strip of ``steps`` samples along the spherical path between the first latents of two seeds."""
        if steps < 2 or steps > 32:
            raise InputError(f"Interpolation steps must be 2–32, not {steps}.")
        a, b = self.latents(1, seed_a)[0], self.latents(1, seed_b)[0]
        t = np.linspace(0.0, 1.0, steps)[:, None]
        omega = np.arccos(np.clip(np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-8), -1.0, 1.0))
        if omega < 1e-4:
            z = (1 - t) * a + t * b
        else:  # slerp: stays at the typical radius of a Gaussian latent, where the generator was trained
            z = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)
        index = self.class_index(cls) or 0
        return self.decode(z.astype(np.float32), np.full(steps, index, np.int32), seed_a)


def check_count(n, maximum: int | None = MAX_SAMPLES) -> int:
    """``n`` as an int, or InputError naming it (users may ask for 1..MAX_SAMPLES; internal callers for more)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 or (maximum is not None and n > maximum):
        limit = f"from 1 to {maximum}" if maximum is not None else "of at least 1"
        raise InputError(f"Number of samples must be an integer {limit}, not {n!r}.")
    return int(n)


def check_seed(seed) -> int:
    """``seed`` as an int, or InputError naming it: an integer from 0 to MAX_SEED."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise InputError(f"Seed must be an integer from 0 to {MAX_SEED}, not {seed!r}.")
    return int(seed)


def neighbour_seed(seed: int) -> int:
    """A valid seed beside ``seed`` (the next one, or the one before at MAX_SEED): the default end of an interpolation."""
    return seed + 1 if seed < MAX_SEED else seed - 1


def read_card(modality: str, model_dir: Path | None = None) -> dict:
    path = Path(model_dir or MODEL_DIRS[modality]) / "card.json"
    return json.loads(path.read_text()) if path.exists() else {}


def load_generator(modality: str, model_dir: Path | None = None, variant: str | None = None) -> GeneratorModel:
    """Load the committed generator of ``"ct"`` or ``"ecg"`` (the card's chosen weights unless ``variant``)."""
    if modality not in MODEL_DIRS:
        raise InputError(f"Unknown modality {modality!r}; choose ct or ecg.")
    model_dir = Path(model_dir or MODEL_DIRS[modality])
    card = read_card(modality, model_dir)
    variant = variant or card.get("weights", {}).get("variant", "ema")
    weights = model_dir / WEIGHT_FILES[variant]
    if not card or not weights.exists():
        raise FileNotFoundError(f"No generator at {model_dir}; run `python -m medmodels.train gan-{modality}`.")
    model = build_generator(modality, card)
    model.load_weights(str(weights))
    return GeneratorModel(modality, model, card, sha256_of(weights))


@lru_cache(maxsize=2)
def cached_generator(modality: str) -> GeneratorModel:
    """The committed generator, loaded once per process (shared; do not mutate)."""
    return load_generator(modality)
