"""Input specification, robust irregularity, the AF rule and class offsets (synthetic, seeded)."""

import numpy as np

from medmodels.ecg.beats import ALL_RR_FEATURES, IRREGULARITY_FEATURE, MODEL_FS, BeatSpec, rr_features
from medmodels.ecg.calibration import fit_class_offsets
from medmodels.ecg.model import AF_IRREGULARITY_THRESHOLD, decide, fold_s_into_n, irregular_rhythm


def _beats(rr_s: np.ndarray) -> np.ndarray:
    return np.round(np.concatenate([[0.0], np.cumsum(rr_s)]) * MODEL_FS).astype(np.int64) + 100


def _irregularity(rr_s: np.ndarray) -> np.ndarray:
    return rr_features(_beats(rr_s), MODEL_FS, (IRREGULARITY_FEATURE,))[:, 0]


def test_sinus_with_premature_beats_and_pauses_is_regular():
    # 0.8 s sinus rhythm, a premature beat (0.5 s) with a compensatory pause (1.1 s) every
    # fifth beat, and a 2.5 s pause: irregular events, regular in between (as in record 232).
    rr = np.tile([0.8, 0.8, 0.8, 0.5, 1.1], 40)
    rr[57] = 2.5
    assert np.median(_irregularity(rr)) < AF_IRREGULARITY_THRESHOLD / 2


def test_bigeminy_and_trigeminy_are_patterns_not_fibrillation():
    for pattern in ([0.5, 1.1], [0.8, 0.5, 1.1]):
        assert np.median(_irregularity(np.tile(pattern, 60))) < AF_IRREGULARITY_THRESHOLD / 2


def test_atrial_fibrillation_like_rr_is_irregular():
    rr = np.random.default_rng(3).uniform(0.4, 1.1, 200)
    assert np.median(_irregularity(rr)) > 1.5 * AF_IRREGULARITY_THRESHOLD


def test_irregular_rhythm_mask_uses_the_spec_column():
    spec = BeatSpec(72, 82, ("post_rr / pre_rr", IRREGULARITY_FEATURE))
    inputs = {"rr": np.array([[1.0, 0.05], [1.0, 0.3]], dtype=np.float32)}
    assert irregular_rhythm(inputs, spec).tolist() == [False, True]
    without = BeatSpec(72, 82, ("post_rr / pre_rr",))
    assert irregular_rhythm({"rr": inputs["rr"][:, :1]}, without).tolist() == [False, False]


def test_fold_s_into_n_keeps_distributions_and_input():
    p = np.array([[0.2, 0.7, 0.1, 0.0, 0.0], [0.2, 0.7, 0.1, 0.0, 0.0]])
    original = p.copy()
    out = fold_s_into_n(p, np.array([False, True]))
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    np.testing.assert_allclose(out[0], original[0])
    np.testing.assert_allclose(out[1], [0.9, 0.0, 0.1, 0.0, 0.0])
    np.testing.assert_array_equal(p, original)
    with np.errstate(divide="ignore"):  # log(0) = -inf is a valid logit for an impossible class
        logits = np.log(p)
    assert decide(logits, np.array([False, True])).tolist() == [1, 0]


def test_class_offsets_undo_a_known_shift():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 600)
    logits = np.eye(5)[labels] * 2.0 + rng.normal(0, 0.5, (600, 5))
    logits[:, 1] -= 3.0  # class S under-called by a constant shift

    def accuracy(y, z):
        return float(np.mean(z.argmax(axis=1) == y))

    offsets = fit_class_offsets(logits, labels, accuracy)
    assert 2.0 <= offsets[1] <= 4.0
    assert accuracy(labels, logits + offsets) > accuracy(labels, logits) + 0.2


def test_spec_round_trips_through_the_card():
    spec = BeatSpec(72, 82, ALL_RR_FEATURES[:3])
    assert BeatSpec.from_card(spec.to_card()) == spec
    legacy = BeatSpec.from_card({"rate_hz": 180.0, "rr_features": list(ALL_RR_FEATURES[:8])})
    assert (legacy.before, legacy.after) == (46, 82)
