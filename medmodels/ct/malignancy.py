"""Keras 3 malignancy CNN: build, load (read-only wrapper), predict.

Input (n, 80, 80, 1) float32 in [0, 1] (see :mod:`.canvas`); output (n, 1)
logit of malignancy. Probabilities are ``sigmoid(logit / temperature)`` with
the temperature fitted on the validation split. Only ``keras.layers``/
``keras.ops``: runs under the TensorFlow or JAX backend.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medmodels.config import MODELS_DIR
from medmodels.ct.canvas import CANVAS_PIXELS, model_input, place_on_canvas
from medmodels.ct.crops import Crop
from medmodels.ct.metrics import sigmoid
from medmodels.model_cards import member_files

MODEL_DIR = MODELS_DIR / "ct-malignancy"
WEIGHTS_FILE = "malignancy.weights.h5"
CARD_FILE = "card.json"
#: The last convolution: the Grad-CAM layer.
GRADCAM_LAYER = "last_conv"
#: Padding used at training and inference (chosen on validation, see card): -850 HU lung
#: around the crop, the crop's own -1024 mask outside the reader's outline kept.
DEFAULT_PAD = "lung_outside_only"


def build_model(width: int = 16, dropout: float = 0.3, seed: int = 0):
    """A small VGG-style CNN: 3 x (2 conv + max-pool), a last conv, global average pool, one logit.

    Global average pooling keeps the nodule's area fraction of the fixed-scale
    canvas, so size stays visible to the classifier.
    """
    import keras
    from keras import layers

    init = keras.initializers.HeNormal(seed=seed)
    inputs = keras.Input((CANVAS_PIXELS, CANVAS_PIXELS, 1), name="canvas")
    x = inputs
    for block, filters in enumerate((width, 2 * width, 4 * width)):
        for k in range(2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer=init,
                              name=f"conv{block}_{k}")(x)
            x = layers.BatchNormalization(momentum=0.9, name=f"bn{block}_{k}")(x)  # few steps per epoch
            x = layers.Activation("relu", name=f"relu{block}_{k}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
    x = layers.Conv2D(8 * width, 3, padding="same", activation="relu", kernel_initializer=init, name=GRADCAM_LAYER)(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(dropout, seed=seed, name="dropout")(x)
    logit = layers.Dense(1, name="logit", kernel_initializer=keras.initializers.GlorotUniform(seed=seed))(x)
    return keras.Model(inputs, logit, name="ct_malignancy")


def crops_to_input(crops: list[Crop], pad: str = DEFAULT_PAD) -> np.ndarray:
    """Crops -> (n, 80, 80, 1) model input (each crop at true scale, padded with lung)."""
    canvases = np.stack([place_on_canvas(c.hu, c.spacing_mm, pad=pad).hu for c in crops]) if crops else \
        np.zeros((0, CANVAS_PIXELS, CANVAS_PIXELS), np.float32)
    return model_input(canvases)


#: Inference runs in chunks of this many views, the last one zero-padded: one compiled input shape, so
#: TensorFlow does not retrace for every candidate count (each retrace took ~0.2 s and logged a warning).
#: BatchNorm is in inference mode, so padding rows leave the real rows' outputs unchanged.
PREDICT_CHUNK = 32


def predict_in_chunks(keras_model, batch: np.ndarray, chunk: int = PREDICT_CHUNK) -> np.ndarray:
    """``keras_model`` outputs (n, ...) for ``batch`` (n, ...), always called on (chunk, ...) inputs."""
    n = len(batch)
    padded = np.concatenate([batch, np.zeros((-n % chunk, *batch.shape[1:]), batch.dtype)])
    return np.concatenate([np.asarray(keras_model.predict_on_batch(padded[i:i + chunk]))
                           for i in range(0, len(padded), chunk)])[:n]


def dihedral_logits(keras_model, inputs: np.ndarray) -> np.ndarray:
    """(n,) logits averaged over the 8 flips/90-degree rotations of (n, H, W, 1) inputs.

    The same symmetries as the training augmentation; they keep the physical
    scale, and averaging removes orientation noise from the score.
    """
    inputs = np.asarray(inputs, np.float32)
    if len(inputs) == 0:
        return np.zeros(0, np.float32)
    views = [np.rot90(x, k, axes=(1, 2)) for x in (inputs, inputs[:, :, ::-1]) for k in range(4)]
    batch = np.ascontiguousarray(np.concatenate(views))
    logits = predict_in_chunks(keras_model, batch)[:, 0]
    return logits.reshape(len(views), len(inputs)).mean(axis=0)


def ensemble_logits(keras_models, inputs: np.ndarray) -> np.ndarray:
    """(n,) mean of :func:`dihedral_logits` over several models (seeds of one recipe)."""
    return np.mean([dihedral_logits(m, inputs) for m in keras_models], axis=0)


def member_weight_files(model_dir: Path = MODEL_DIR) -> list[Path]:
    """The ensemble's weights: WEIGHTS_FILE, then ``malignancy.member1.weights.h5``, … where present."""
    return member_files(model_dir, WEIGHTS_FILE)


@dataclass(frozen=True)
class LoadedMalignancyModel:
    """The committed model, read-only: the Keras model is frozen and never retrained here.

    ``temperature``, ``bias`` and ``threshold`` come from the card (fitted on
    validation). Scores are the 8-view dihedral average (:func:`dihedral_logits`),
    averaged over the ensemble: ``keras_model`` (the first member, used for
    Grad-CAM) and ``members`` (the others, trained with other seeds).
    """

    keras_model: object
    temperature: float
    bias: float
    threshold: float
    card: dict
    members: tuple = ()

    def logits(self, inputs: np.ndarray) -> np.ndarray:
        """(n, 80, 80, 1) inputs -> (n,) uncalibrated logits (dihedral and ensemble average)."""
        return ensemble_logits((self.keras_model, *self.members), inputs)

    def probabilities(self, inputs: np.ndarray) -> np.ndarray:
        """(n, 80, 80, 1) inputs -> (n,) calibrated P(malignant)."""
        return sigmoid(self.logits(inputs), self.temperature, self.bias)

    def probabilities_with_member_range(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(n, 80, 80, 1) inputs -> calibrated P(malignant) (n,), and the lowest and highest member's P (n,).

        Each member's dihedral logit goes through the same calibration; the
        ensemble's P (from the mean logit) always lies within the members' range.
        The range is the members' disagreement, not a confidence interval.
        """
        member_logits = np.stack([dihedral_logits(m, inputs) for m in (self.keras_model, *self.members)])
        members = sigmoid(member_logits, self.temperature, self.bias)
        return sigmoid(member_logits.mean(axis=0), self.temperature, self.bias), members.min(axis=0), members.max(axis=0)

    def predict_crops(self, crops: list[Crop]) -> np.ndarray:
        """Calibrated P(malignant) (n,) for crops read with :func:`medmodels.ct.crops.read_crop`."""
        return self.probabilities(self.crops_input(crops))

    def crops_input(self, crops: list[Crop]) -> np.ndarray:
        """Model inputs (n, 80, 80, 1) of crops, with the padding the card records."""
        return crops_to_input(crops, pad=self.card.get("input", {}).get("padding", DEFAULT_PAD))


def read_card(model_dir: Path = MODEL_DIR) -> dict:
    """The model card (empty dict if there is none)."""
    path = Path(model_dir) / CARD_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


_CACHE: dict[str, LoadedMalignancyModel] = {}


def load_model(model_dir: Path = MODEL_DIR) -> LoadedMalignancyModel:
    """Build the architecture, load the committed weights, wrap read-only (cached per folder).

    Raises FileNotFoundError if the weights are missing (train first).
    """
    key = str(Path(model_dir).resolve())
    if key not in _CACHE:
        weights = Path(model_dir) / WEIGHTS_FILE
        if not weights.is_file():
            raise FileNotFoundError(f"{weights} missing: run python -m medmodels.ct.malignancy_train")
        card = read_card(model_dir)
        models = []
        for path in member_weight_files(model_dir):
            model = build_model(**card.get("architecture", {}).get("build_args", {}))
            model.load_weights(path)
            model.trainable = False
            models.append(model)
        calibration = card.get("calibration", {})
        _CACHE[key] = LoadedMalignancyModel(models[0], float(calibration.get("temperature", 1.0)),
                                            float(calibration.get("bias", 0.0)),
                                            float(card.get("threshold", {}).get("value", 0.5)), card,
                                            tuple(models[1:]))
    return _CACHE[key]
