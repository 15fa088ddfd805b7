"""Domain features for the quality measures: our own classifiers' penultimate layers.

ECG beats: the beat classifier's first network's ``head`` Dense layer (32 values); CT patches:
the nodule detector's ``gap`` global-average-pooling layer (64 values).  The
extractor is a new ``keras.Model`` over the loaded model's layers: the
classifier itself is not changed.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

ECG_FEATURE_LAYER = "head"
CT_FEATURE_LAYER = "gap"


def feature_model(keras_model, layer_name: str):
    """A model from ``keras_model``'s inputs to the output of ``layer_name`` (shares weights, mutates nothing)."""
    import keras

    return keras.Model(keras_model.inputs, keras_model.get_layer(layer_name).output, name=f"features_{layer_name}")


@lru_cache(maxsize=1)
def _ecg_extractor():
    from medmodels.ecg.model import cached_classifier

    # One network's features, not a mix: the members' feature spaces are not aligned with each other.
    return feature_model(cached_classifier().keras_model, ECG_FEATURE_LAYER)


@lru_cache(maxsize=1)
def _ct_extractor():
    from medmodels.ct_detector import load_detector

    return feature_model(load_detector().keras_model, CT_FEATURE_LAYER)


def _batched(model, inputs, n: int, batch: int = 2048) -> np.ndarray:
    if n == 0:
        return np.zeros((0, model.output.shape[-1]), np.float32)
    take = (lambda s: {k: v[s] for k, v in inputs.items()}) if isinstance(inputs, dict) else (lambda s: inputs[s])
    return np.concatenate([np.asarray(model.predict_on_batch(take(slice(i, i + batch))))
                           for i in range(0, n, batch)]).astype(np.float32)


def ecg_features(waveform: np.ndarray, rr: np.ndarray) -> np.ndarray:
    """(n, 32) classifier ``head`` activations for beats in the classifier's input format."""
    return _batched(_ecg_extractor(), {"waveform": np.asarray(waveform, np.float32), "rr": np.asarray(rr, np.float32)},
                    len(rr))


def ct_features(patches_hu: np.ndarray) -> np.ndarray:
    """(n, 64) detector ``gap`` activations for HU patches (n, 64, 64)."""
    from medmodels.ct_detector import patch_channels

    return _batched(_ct_extractor(), patch_channels(patches_hu), len(patches_hu))
