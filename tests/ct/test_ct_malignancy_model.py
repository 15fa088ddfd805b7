"""The committed malignancy model: probability range and response to nodule size."""

from __future__ import annotations

import numpy as np

from medmodels.ct.crops import Crop

BLOB_DIAMETERS_MM = (4, 8, 12, 20, 30)
CROP_SPACING_MM = 0.7


def soft_blob_crop(diameter_mm: float, seed: int, spacing_mm: float = CROP_SPACING_MM) -> Crop:
    """A soft-edged round 40 HU blob in -850 HU lung (noise sd 20 HU), cropped to its box + 1 mm."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil((diameter_mm + 2.0) / spacing_mm))
    centre = (side - 1) / 2 + rng.uniform(-0.5, 0.5, 2)
    yy, xx = np.mgrid[:side, :side]
    radius_mm = np.hypot(yy - centre[0], xx - centre[1]) * spacing_mm
    inside = 1.0 / (1.0 + np.exp((radius_mm - diameter_mm / 2) / 0.4))  # ~1 mm soft edge
    hu = -850.0 + (40.0 + 850.0) * inside + 20.0 * rng.standard_normal((side, side))
    return Crop(hu=hu.astype(np.float32), spacing_mm=(spacing_mm, spacing_mm))


def test_probabilities_in_unit_range(malignancy_model, real_crop_inputs):
    p = malignancy_model.probabilities(real_crop_inputs)
    assert p.shape == (20,) and np.isfinite(p).all() and p.min() >= 0.0 and p.max() <= 1.0


def test_malignancy_rises_with_synthetic_nodule_size(malignancy_model):
    means = []
    for diameter in BLOB_DIAMETERS_MM:
        crops = [soft_blob_crop(diameter, seed) for seed in range(8)]
        means.append(float(malignancy_model.predict_crops(crops).mean()))
    steps = np.diff(means)
    assert steps.min() > -0.02, f"mean P(malignant) by size {dict(zip(BLOB_DIAMETERS_MM, means))}"
    assert means[-1] - means[0] > 0.3, f"mean P(malignant) by size {dict(zip(BLOB_DIAMETERS_MM, means))}"


def test_ensemble_score_is_the_mean_of_its_members(malignancy_model, real_crop_inputs):
    from medmodels.ct.malignancy import dihedral_logits

    members = (malignancy_model.keras_model, *malignancy_model.members)
    assert len(members) == malignancy_model.card["ensemble"]["members"]
    expected = np.mean([dihedral_logits(m, real_crop_inputs) for m in members], axis=0)
    np.testing.assert_allclose(malignancy_model.logits(real_crop_inputs), expected, atol=1e-5)


def test_chunked_padded_inference_equals_one_direct_call(malignancy_model, real_crop_inputs):
    """Padding the last chunk with zeros must not change the real rows (BatchNorm in inference mode)."""
    from medmodels.ct.malignancy import predict_in_chunks

    direct = np.asarray(malignancy_model.keras_model(real_crop_inputs[:13], training=False))
    for chunk in (4, 13, 32):
        chunked = predict_in_chunks(malignancy_model.keras_model, real_crop_inputs[:13], chunk=chunk)
        assert chunked.shape == direct.shape
        np.testing.assert_allclose(chunked, direct, atol=1e-5)


def test_the_ensemble_likelihood_lies_within_its_members_range(malignancy_model, real_crop_inputs):
    p, low, high = malignancy_model.probabilities_with_member_range(real_crop_inputs)
    np.testing.assert_allclose(p, malignancy_model.probabilities(real_crop_inputs), atol=1e-6)
    assert (low <= p + 1e-9).all() and (p <= high + 1e-9).all()
    assert (high - low).max() > 0.01  # three differently seeded networks do disagree somewhere
