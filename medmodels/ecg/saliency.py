"""Per-beat attribution: 1-D Grad-CAM over the last convolution's feature map.

For the committed ensemble the map is taken over every member's feature map
at once, for the members' mean logit (the logit the classifier decides on).

The shared classifier is never modified: the feature map comes from a separate
functional view (inputs → ``conv_features``), and the rest of the network is
applied by calling its layers eagerly on that map, so no layer gains nodes and
no weights change.  Gradients come from :mod:`medmodels.gradients`.
"""

from __future__ import annotations

import weakref

import numpy as np

from medmodels.ecg.model import FEATURE_LAYER, inputs_for
from medmodels.parallel import map_side_by_side

#: Layers after the feature map, in order, on the waveform path.
_WAVE_HEAD = ("pool2", "gru", "gru_dropout")


def _cached_for(cache: "weakref.WeakKeyDictionary", model, build):
    """``cache[model]``, built by ``build()`` on first use.

    The cache is keyed weakly on the model object: it keeps no model alive
    (so ``build``'s result must not refer to the model itself) and adds
    nothing to the model.  An object that cannot be weakly referenced is
    served uncached.
    """
    try:
        return cache[model]
    except (KeyError, TypeError):
        pass
    value = build()
    try:
        cache[model] = value
    except TypeError:
        pass
    return value


_VIEW_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _feature_view(model):
    """A functional view from the model's inputs to the Grad-CAM feature map (shares weights).

    Built once per model (:func:`_cached_for`), so its compiled inference
    function is traced once, not on every call.
    """
    import keras

    return _cached_for(_VIEW_CACHE, model,
                       lambda: keras.Model(model.inputs, model.get_layer(FEATURE_LAYER).output))


def _feature_map(model, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """The feature map (n, steps, channels) float32, through the view's compiled inference function.

    ``predict_on_batch`` rather than an eager call: on 445 beats of six
    networks the eager functional call took 0.09 s of Grad-CAM's 0.23 s.
    """
    return np.asarray(_feature_view(model).predict_on_batch(inputs_for(model, inputs)), dtype=np.float32)


def _logits_from_features(model, features, rr):
    """Apply the layers after ``conv_features`` eagerly (inference mode) → logits."""
    x = features
    for name in _WAVE_HEAD:
        x = model.get_layer(name)(x, training=False)
    r = model.get_layer("rr_dense")(rr)
    h = model.get_layer("merge")([x, r])
    h = model.get_layer("head")(h)
    h = model.get_layer("dropout")(h, training=False)
    return model.get_layer("logits")(h)


_GRADIENT_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _cam_gradient(model):
    """Compiled gradient of the summed target logits wrt the feature map, one per model (:func:`_cached_for`)."""
    return _cached_for(_GRADIENT_CACHE, model, lambda: _compiled_cam_gradient(weakref.ref(model)))


def _compiled_cam_gradient(model_ref):
    """Build :func:`_cam_gradient`'s function for the model behind the weak reference ``model_ref``."""
    import keras

    from medmodels.gradients import compiled_value_and_grad

    # Only a weak reference to the model: a closure over the model itself would make the
    # cache's value keep its own key alive, so no model that was explained could be freed.
    def target_score(feature_map, rr, one_hot):
        # Sum over beats of each beat's own class logit: beats are independent,
        # so one backward pass yields every beat's gradient.
        return keras.ops.sum(_logits_from_features(model_ref(), feature_map, rr) * one_hot)

    return compiled_value_and_grad(target_score)


def _networks_of(models) -> tuple:
    """The Keras networks of ``models``: one network, or a sequence of an ensemble's members."""
    return tuple(models) if isinstance(models, (list, tuple)) else (models,)


def _signed_cam(model, features: np.ndarray, rr: np.ndarray, one_hot: np.ndarray) -> np.ndarray:
    """One network's unnormalised, signed Grad-CAM (n, steps) for the target classes in ``one_hot``."""
    _, grads = _cam_gradient(model)(features, rr, one_hot)
    weights = grads.mean(axis=1, keepdims=True)          # (n, 1, channels): channel importance
    return (weights * features).sum(axis=2)              # (n, steps)


def grad_cam(models, inputs: dict[str, np.ndarray], classes: np.ndarray | None = None,
             positive_only: bool = True) -> np.ndarray:
    """Grad-CAM maps for each beat, upsampled to the beat window.

    ``models``: the Keras classifier, or the members of an ensemble (a list or
    tuple, e.g. ``BeatClassifier.networks``).  For an ensemble the map is the
    Grad-CAM of the members' mean logit over all their feature maps taken
    together, which is the mean of the members' unnormalised maps: a member
    whose logit moves more with its features weighs more.  ``inputs``:
    ``waveform`` (n, length, 2 or 4 channels) and ``rr`` (n, n_rr); ``classes`` (n,) target
    class per beat (default: the class of the mean logit).  Returns float32
    (n, length), each row scaled to a maximum absolute value of 1 (all zeros
    where the map is zero: no NaN on flat input).  ``positive_only=False``
    keeps the signed map (before ReLU).
    """
    networks = _networks_of(models)
    n = inputs["rr"].shape[0]
    length = inputs["waveform"].shape[1]
    if n == 0:
        return np.zeros((0, length), dtype=np.float32)
    waveform = np.nan_to_num(np.asarray(inputs["waveform"], dtype=np.float32))
    rr = np.nan_to_num(np.asarray(inputs["rr"], dtype=np.float32))
    # Each network sees its own channels (a single-lead member of the two-lead classifier: the analysed lead).
    # Networks run side by side on the CPU's cores (medmodels.parallel): the gradients are most of the cost.
    features = map_side_by_side(lambda m: _feature_map(m, {"waveform": waveform, "rr": rr}), networks)
    if classes is None:
        classes = np.mean([np.asarray(_logits_from_features(m, f, rr)) for m, f in zip(networks, features)],
                          axis=0).argmax(axis=1)
    one_hot = np.eye(networks[0].output.shape[-1], dtype=np.float32)[np.asarray(classes, dtype=np.int64)]
    cam = np.mean(map_side_by_side(lambda mf: _signed_cam(mf[0], mf[1], rr, one_hot), zip(networks, features)), axis=0)
    if positive_only:
        cam = np.maximum(cam, 0.0)
    cam = _upsample(cam, length)
    scale = np.abs(cam).max(axis=1, keepdims=True)
    cam = np.divide(cam, scale, out=np.zeros_like(cam), where=scale > 1e-12)
    return np.nan_to_num(cam).astype(np.float32)


def _upsample(maps: np.ndarray, length: int) -> np.ndarray:
    """Linear interpolation of (n, steps) maps to (n, length), aligned on window centres."""
    steps = maps.shape[1]
    src = (np.arange(steps) + 0.5) * (length / steps)
    dst = np.arange(length) + 0.5
    return np.stack([np.interp(dst, src, row) for row in maps]) if maps.shape[0] else np.zeros((0, length))
