"""Grad-CAM saliency: model-randomisation sanity check (Adebayo et al. 2018), flat input."""

import numpy as np
from scipy.stats import spearmanr

from medmodels.ecg.beats import MODEL_FS
from medmodels.ecg.conditioning import remove_baseline_and_mains, resample, to_rate
from medmodels.ecg.saliency import grad_cam


def _inputs_119(record_119, classifier, n=96):
    raw, fs, samples, _ = record_119
    model_signal = resample(remove_baseline_and_mains(raw, fs), fs, MODEL_FS)
    inputs = classifier.inputs(model_signal, to_rate(samples, fs, MODEL_FS))
    pick = np.linspace(10, samples.size - 10, n).astype(int)
    return {k: v[pick] for k, v in inputs.items()}


def test_randomised_model_changes_attributions(record_119, classifier):
    import keras

    inputs = _inputs_119(record_119, classifier)
    before = [w.copy() for w in classifier.keras_model.get_weights()]
    trained = grad_cam(classifier.keras_model, inputs, positive_only=False)
    # clone_model builds new layers with freshly initialised weights: the
    # cached model is left untouched.
    randomised_model = keras.models.clone_model(classifier.keras_model)
    randomised = grad_cam(randomised_model, inputs, classes=np.asarray(
        classifier.logits(inputs)).argmax(axis=1), positive_only=False)
    rhos = []
    for a, b in zip(trained, randomised):
        assert np.ptp(a) > 0, "trained-model map is constant"
        rho = spearmanr(a, b).statistic
        rhos.append(0.0 if not np.isfinite(rho) else rho)
    assert np.mean(rhos) < 0.5
    after = classifier.keras_model.get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(before, after))


def test_flat_beat_never_nan(classifier):
    length, n_rr = classifier.spec.length, len(classifier.spec.rr_features)
    inputs = {"waveform": np.zeros((3, length, 2), dtype=np.float32), "rr": np.ones((3, n_rr), dtype=np.float32)}
    for positive_only in (True, False):
        maps = grad_cam(classifier.keras_model, inputs, positive_only=positive_only)
        assert maps.shape == (3, length)
        assert np.all(np.isfinite(maps))
        assert np.abs(maps).max() <= 1.0 + 1e-6
