"""Generic 2-D Grad-CAM (Selvaraju et al., 2017) for Keras 3 models.

The passed model is never changed: two separate functional views share its
layers (no new weights, no compile, no trainable flag touched), and gradients
come from :func:`medmodels.gradients.value_and_grad`, the project's one place
for backend-specific gradient code (TensorFlow, JAX, PyTorch).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: Maps whose maximum is below this are "flat" and returned as zeros (never NaN).
FLAT_EPS = 1e-8


def _views(model, layer_name: str):
    """(view: inputs -> [layer activations, model output], head: layer activations -> model output).

    The head needs the layer to separate inputs from outputs (true for a chain
    and for any layer after the last skip connection merges).
    """
    import keras

    layer = model.get_layer(layer_name)
    output = model.outputs[0]
    view = keras.Model(model.inputs[0], [layer.output, output], name=f"{model.name}_gradcam_view")
    head = keras.Model(layer.output, output, name=f"{model.name}_gradcam_head")
    return view, head


def _normalise_and_resize(cams: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(n, h, w) non-negative maps -> (n, H, W) in [0, 1]; a flat (all ~0) map stays zeros."""
    out = np.zeros((cams.shape[0], *size), dtype=np.float32)
    factors = (size[0] / cams.shape[1], size[1] / cams.shape[2])
    for i, cam in enumerate(np.nan_to_num(cams, nan=0.0, posinf=0.0, neginf=0.0)):
        peak = float(cam.max())
        if peak > FLAT_EPS:
            resized = ndimage.zoom(cam / peak, factors, order=1, mode="nearest", grid_mode=True)
            out[i] = np.clip(resized, 0.0, 1.0)
    return out


def grad_cam(model, images: np.ndarray, layer_name: str, class_index: int = 0) -> np.ndarray:
    """Grad-CAM maps of ``model`` for ``class_index`` at ``layer_name``.

    Args:
        model: a functional Keras 3 model (single input and output); not modified.
        images: (n, H, W, C) float32 model inputs.
        layer_name: a 2-D feature layer with output (n, h, w, k).
        class_index: output column to explain (a logit or class score).

    Returns:
        (n, H, W) float32 maps in [0, 1] (ReLU of the gradient-weighted
        activations, divided by each map's maximum, bilinearly resized to the
        input). A flat map is all zeros, never NaN.
    """
    import keras

    from medmodels.gradients import value_and_grad

    images = np.asarray(images, dtype=np.float32)
    if images.shape[0] == 0:
        # A slice without candidates: the convolution would fail on an empty batch.
        return np.zeros(images.shape[:3], dtype=np.float32)
    view, head = _views(model, layer_name)
    activations, _ = view(images, training=False)
    activations = np.asarray(keras.ops.convert_to_numpy(activations), dtype=np.float32)

    def summed_score(features):
        # Samples are independent (inference mode), so the gradient of the sum
        # gives every sample's own gradient in one pass.
        return keras.ops.sum(head(features, training=False)[:, class_index])

    _, gradients = value_and_grad(summed_score, activations)
    channel_weights = gradients.mean(axis=(1, 2))  # (n, k): global-average-pooled gradients
    cams = np.maximum(np.einsum("nhwk,nk->nhw", activations, channel_weights), 0.0)
    return _normalise_and_resize(cams, images.shape[1:3])
