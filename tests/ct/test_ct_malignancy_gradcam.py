"""Grad-CAM: generic behaviour on a tiny model, and the Adebayo randomisation check on the committed model."""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from medmodels.ct.gradcam import grad_cam


def _tiny_model():
    import keras

    keras.utils.set_random_seed(0)  # a fixed draw of weights, so the maps below are reproducible
    inputs = keras.Input((16, 16, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="features")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(2)(x))


def test_grad_cam_shape_range_and_flat_input_gives_zeros():
    model = _tiny_model()
    rng = np.random.default_rng(0)
    images = np.concatenate([rng.random((2, 16, 16, 1)), np.zeros((1, 16, 16, 1))]).astype(np.float32)
    maps = grad_cam(model, images, "features", class_index=1)
    assert maps.shape == (3, 16, 16) and maps.dtype == np.float32
    assert np.isfinite(maps).all() and maps.min() >= 0.0 and maps.max() <= 1.0
    # each structured map is divided by its own peak (same grid as the input here, so the peak is exactly 1)
    np.testing.assert_allclose(maps[:2].max(axis=(1, 2)), 1.0, atol=1e-6)
    assert (maps[:2].std(axis=(1, 2)) > 0.01).all()
    # a zero image gives zero activations (ReLU of a zero-bias conv): the flat CAM is returned as exact zeros
    np.testing.assert_array_equal(maps[2], np.zeros((16, 16), np.float32))


def test_grad_cam_of_no_images_is_an_empty_stack_not_an_error():
    """A slice with no candidates asks for the maps of zero patches."""
    maps = grad_cam(_tiny_model(), np.zeros((0, 16, 16, 1), np.float32), "features", class_index=1)
    assert maps.shape == (0, 16, 16) and maps.dtype == np.float32


def test_grad_cam_on_committed_model_is_finite_and_leaves_weights_unchanged(malignancy_model):
    model = malignancy_model.keras_model
    before = [w.copy() for w in model.get_weights()]
    n_layers, trainable = len(model.layers), model.trainable
    flat = np.full((2, 80, 80, 1), 0.107, np.float32)  # -850 HU everywhere
    maps = grad_cam(model, flat, "last_conv")
    # Measured: the committed model's CAM of uniform -850 HU is below grad_cam's FLAT_EPS, and a flat map is
    # documented as all zeros (not NaN, not a uniform map of ones)
    np.testing.assert_array_equal(maps, np.zeros((2, 80, 80), np.float32))
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert len(model.layers) == n_layers and model.trainable == trainable


def _randomised_clone(model, seed: int):
    """A clone with every weight re-drawn (Adebayo et al. 2018, full model randomisation)."""
    import keras

    clone = keras.models.clone_model(model)
    rng = np.random.default_rng(seed)
    weights = []
    for w in model.get_weights():
        scale = float(np.std(w)) or 1.0
        weights.append((rng.standard_normal(w.shape) * scale).astype(w.dtype) if w.ndim > 1 else w.copy())
    clone.set_weights(weights)
    return clone


def test_model_randomisation_changes_grad_cam(malignancy_model, real_crop_inputs):
    model = malignancy_model.keras_model
    before = [w.copy() for w in model.get_weights()]
    trained = grad_cam(model, real_crop_inputs, "last_conv")
    randomised = grad_cam(_randomised_clone(model, seed=3), real_crop_inputs, "last_conv")
    # A flat (all-zero) map has no ranking (e.g. no positive malignancy evidence in a benign
    # crop): it is left out rather than counted as 0, so the check is not made easier.
    correlations = [float(spearmanr(a.ravel(), b.ravel()).statistic)
                    for a, b in zip(trained, randomised) if a.std() > 0 and b.std() > 0]
    assert len(correlations) >= 8, f"only {len(correlations)} crops with non-flat maps"
    assert np.mean(correlations) < 0.5, f"mean Spearman {np.mean(correlations):.3f}"
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
