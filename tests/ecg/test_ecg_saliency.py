"""Grad-CAM saliency: model-randomisation sanity check (Adebayo et al. 2018), flat input."""

import numpy as np
import pytest
from scipy.stats import spearmanr

from medmodels.ecg.beats import MODEL_FS
from medmodels.ecg.conditioning import remove_baseline_and_mains, resample, to_rate
from medmodels.ecg.saliency import grad_cam


def _inputs_119(record_119, classifier, n=96):
    from medmodels.ecg.mitdb import second_lead

    raw, fs, samples, _ = record_119
    model_signal = resample(remove_baseline_and_mains(raw, fs), fs, MODEL_FS)
    second = None
    if classifier.leads == 2:
        second = resample(remove_baseline_and_mains(second_lead("119")[0], fs), fs, MODEL_FS)
    inputs = classifier.inputs(model_signal, to_rate(samples, fs, MODEL_FS), second)
    pick = np.linspace(10, samples.size - 10, n).astype(int)
    return {k: v[pick] for k, v in inputs.items()}


def test_randomised_model_changes_attributions(record_119, each_classifier):
    import keras

    classifier = each_classifier
    inputs = _inputs_119(record_119, classifier)
    before = [[w.copy() for w in m.get_weights()] for m in classifier.networks]
    trained = grad_cam(classifier.networks, inputs, positive_only=False)
    # clone_model builds new layers with freshly initialised weights: the
    # cached members are left untouched.  Every member is re-initialised, as the
    # map is taken over all of them.
    randomised_models = [keras.models.clone_model(m) for m in classifier.networks]
    randomised = grad_cam(randomised_models, inputs, classes=np.asarray(
        classifier.logits(inputs)).argmax(axis=1), positive_only=False)
    rhos = []
    for a, b in zip(trained, randomised):
        assert np.ptp(a) > 0, "trained-model map is constant"
        rho = spearmanr(a, b).statistic
        rhos.append(0.0 if not np.isfinite(rho) else rho)
    assert np.mean(rhos) < 0.5
    for weights, m in zip(before, classifier.networks):
        assert all(np.array_equal(x, y) for x, y in zip(weights, m.get_weights()))


def _with_scaled_logits(model, factor):
    """A copy of ``model`` whose logits are ``factor`` times the original's (same features)."""
    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    layer = copy.get_layer("logits")
    layer.set_weights([w * factor for w in layer.get_weights()])
    return copy


def test_ensemble_map_is_grad_cam_of_the_mean_logit(record_119, classifier):
    """Members weigh by how much their logit moves, as in Grad-CAM of the mean logit over all feature maps.

    A member whose logits are tripled counts as three copies of itself; averaging the members'
    normalised maps instead would give it the weight of one.
    """
    assert len(classifier.networks) >= 2, "the committed classifier is an ensemble"
    first, second = classifier.networks[:2]
    inputs = _inputs_119(record_119, classifier, n=24)
    classes = np.asarray(classifier.logits(inputs)).argmax(axis=1)
    tripled = grad_cam([first, _with_scaled_logits(second, 3.0)], inputs, classes, positive_only=False)
    three_copies = grad_cam([first, second, second, second], inputs, classes, positive_only=False)
    np.testing.assert_allclose(tripled, three_copies, atol=1e-4)
    once = grad_cam([first, second], inputs, classes, positive_only=False)
    assert np.abs(once - three_copies).max() > 0.05
    # An ensemble of one network listed twice is that network.
    np.testing.assert_allclose(grad_cam([first, first], inputs, classes), grad_cam(first, inputs, classes), atol=1e-5)


def test_flat_beat_never_nan(each_classifier):
    classifier = each_classifier
    length, n_rr = classifier.spec.length, len(classifier.spec.rr_features)
    inputs = {"waveform": np.zeros((3, length, classifier.spec.channels), dtype=np.float32),
              "rr": np.ones((3, n_rr), dtype=np.float32)}
    for positive_only in (True, False):
        maps = grad_cam(classifier.networks, inputs, positive_only=positive_only)
        assert maps.shape == (3, length)
        assert np.all(np.isfinite(maps))
        assert np.abs(maps).max() <= 1.0 + 1e-6


def test_explained_network_can_be_freed():
    """Grad-CAM's per-network caches (compiled gradient, feature view) do not keep a network alive.

    The page explains only the cached classifier, but the randomisation check and
    retraining build throwaway networks; a cache entry that held its own key would keep
    every one of them, and their compiled functions, for the life of the process.
    """
    import gc
    import weakref

    from medmodels.ecg.beats import DEFAULT_SPEC
    from medmodels.ecg.model import build_beat_classifier

    rng = np.random.default_rng(3)
    network = build_beat_classifier(seed=5)
    inputs = {"waveform": rng.normal(size=(4, DEFAULT_SPEC.length, DEFAULT_SPEC.channels)).astype(np.float32),
              "rr": rng.normal(size=(4, len(DEFAULT_SPEC.rr_features))).astype(np.float32)}
    assert grad_cam(network, inputs).shape == (4, DEFAULT_SPEC.length)
    alive = weakref.ref(network)
    del network
    gc.collect()
    assert alive() is None


def test_warm_up_leaves_nothing_to_trace_for_a_real_record(record_119, monkeypatch):
    """After :func:`warm_up` a half-hour record's classification and Grad-CAM trace no graph.

    Tracing is what made a server's first two records slow (seconds each); the
    page's cached classifier is warmed up on load.  TensorFlow only: the count
    of traces is read from its compiled functions.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("counts TensorFlow traces")
    from medmodels.ecg import saliency
    from medmodels.ecg.model import load_classifier, model_dir_for
    from medmodels.ecg.pipeline import analyse_ecg, warm_up

    classifier = load_classifier(model_dir_for(1))  # a fresh object: nothing of it traced yet
    warm_up(classifier)

    def traces():
        return [f.predict_function.experimental_get_tracing_count()
                for n in classifier.networks for f in (n, saliency._feature_view(n))]

    before = traces()
    gradient_traces = []
    logits_from_features = saliency._logits_from_features
    monkeypatch.setattr(saliency, "_logits_from_features",
                        lambda *args: gradient_traces.append(1) or logits_from_features(*args))
    raw, fs, _, _ = record_119
    analysis = analyse_ecg(raw, fs, classifier, saliency_for_non_normal=True)
    assert len(analysis.labels) > 1900 and analysis.saliency.shape[0] > 300
    assert traces() == before
    assert gradient_traces == []
