"""The committed models give the same results under JAX (the GPU machine's backend) as under TensorFlow.

Each backend runs in its own process (Keras fixes its backend at import) on
the same real inputs (tests/backend_probe.py); probabilities, labels,
candidate positions, Grad-CAM maps and GAN samples must agree.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from data_paths import require_data

ROOT = Path(__file__).resolve().parents[1]
PROBE = Path(__file__).with_name("backend_probe.py")


def run_probe(backend: str, out: Path) -> dict[str, np.ndarray]:
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3",
           "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, str(PROBE), str(out)], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, f"probe under {backend} failed:\n{done.stderr[-3000:]}"
    with np.load(out) as saved:
        return {k: saved[k] for k in saved.files}


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    for parts in (("ecg", "mitdb"), ("ct", "lidc", "LIDC-IDRI-0001"), ("ct", "lidc_crops")):
        require_data(*parts)
    folder = tmp_path_factory.mktemp("backends")
    return {b: run_probe(b, folder / f"{b}.npz") for b in ("tensorflow", "jax")}


def test_each_probe_ran_under_the_backend_it_was_given(both):
    # otherwise the comparisons below would compare TensorFlow with itself
    assert str(both["tensorflow"]["backend"]) == "tensorflow"
    assert str(both["jax"]["backend"]) == "jax"


@pytest.mark.parametrize("prefix, networks", [("ecg", 3), ("ecg2", 6)], ids=["single-lead", "two-lead"])
def test_ecg_labels_probabilities_and_saliency_agree(both, prefix, networks):
    tf, jx = both["tensorflow"], both["jax"]
    labels = tf[f"{prefix}_labels"]
    assert int(tf[f"{prefix}_networks"]) == networks
    assert len(labels) > 300 and (labels == "V").sum() > 30  # 119: frequent V beats
    np.testing.assert_array_equal(jx[f"{prefix}_labels"], labels)
    np.testing.assert_allclose(jx[f"{prefix}_probabilities"], tf[f"{prefix}_probabilities"], atol=1e-5)
    np.testing.assert_array_equal(jx[f"{prefix}_networks_agreeing"], tf[f"{prefix}_networks_agreeing"])
    np.testing.assert_array_equal(jx[f"{prefix}_saliency_beats"], tf[f"{prefix}_saliency_beats"])
    assert tf[f"{prefix}_saliency"].max() == pytest.approx(1.0)
    np.testing.assert_allclose(jx[f"{prefix}_saliency"], tf[f"{prefix}_saliency"], atol=1e-3)


def test_ct_detector_candidates_and_grad_cam_agree(both):
    tf, jx = both["tensorflow"], both["jax"]
    assert tf["ct_probabilities"][0] > 0.5  # the nodule of 0001 leads its slice
    np.testing.assert_allclose(jx["ct_rows"], tf["ct_rows"])
    np.testing.assert_allclose(jx["ct_cols"], tf["ct_cols"])
    np.testing.assert_allclose(jx["ct_probabilities"], tf["ct_probabilities"], atol=1e-5)
    assert tf["ct_gradcam"].max() > 0.5
    np.testing.assert_allclose(jx["ct_gradcam"], tf["ct_gradcam"], atol=1e-3)


def test_malignancy_probabilities_and_grad_cam_agree(both):
    tf, jx = both["tensorflow"], both["jax"]
    assert np.ptp(tf["malignancy_probabilities"]) > 0.5
    np.testing.assert_allclose(jx["malignancy_probabilities"], tf["malignancy_probabilities"], atol=1e-5)
    np.testing.assert_allclose(jx["malignancy_gradcam"], tf["malignancy_gradcam"], atol=1e-3)


def test_gan_samples_agree(both):
    tf, jx = both["tensorflow"], both["jax"]
    assert np.ptp(tf["gan_ct_hu"]) > 500  # real HU contrast, not a constant image
    np.testing.assert_allclose(jx["gan_ct_hu"], tf["gan_ct_hu"], atol=0.1)  # HU
    np.testing.assert_allclose(jx["gan_ecg_waveform"], tf["gan_ecg_waveform"], atol=1e-4)  # mV
    np.testing.assert_allclose(jx["gan_ecg_rr"], tf["gan_ecg_rr"], atol=1e-4)
