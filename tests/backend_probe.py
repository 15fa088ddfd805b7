"""Run every committed model once on fixed real inputs and save what the app shows (not a test module).

``KERAS_BACKEND=jax python tests/backend_probe.py OUT.npz`` (or tensorflow).
``tests/test_backends.py`` runs it under both backends and compares: the GPU
machine runs the models under JAX, CI and this CPU under TensorFlow, so the
same weights must give the same probabilities, labels and saliency maps.
Inputs: the first 5 minutes of mitdb 119 (V beats: saliency is computed for
them; MLII alone and MLII + V1), the slice through LIDC-IDRI-0001's nodule, 20 test-split nodule crops,
and seeded GAN samples. Needs the data folder (``MEDMODELS_DATA``).
"""

from __future__ import annotations

import sys

import numpy as np


def ecg_outputs() -> dict[str, np.ndarray]:
    """Both classifiers: the single-lead one, and the two-lead one (MLII + V1), whose six networks read two
    different channel counts (three both leads, three the analysed lead only)."""
    from medmodels.ecg.mitdb import mitdb_dir
    from medmodels.ecg.model import TWO_LEAD_MODEL_DIR, load_classifier
    from medmodels.ecg.pipeline import analyse_ecg
    from medmodels.ecg.reading import choose_lead, choose_second_lead, read_record

    record = read_record(str(mitdb_dir() / "119"))
    lead = choose_lead(record.lead_names)
    second = choose_second_lead(record.lead_names, lead)
    five_minutes = int(300 * record.fs)
    results = {}
    for prefix, model_dir, second_lead in (("ecg", None, None), ("ecg2", TWO_LEAD_MODEL_DIR, second)):
        model = load_classifier() if model_dir is None else load_classifier(model_dir)
        analysis = analyse_ecg(record.signal[:five_minutes, lead], record.fs, model,
                               second_lead_mv=None if second_lead is None else record.signal[:five_minutes, second],
                               saliency_for_non_normal=True)
        results.update({f"{prefix}_probabilities": analysis.probabilities,
                        f"{prefix}_labels": np.array(analysis.labels), f"{prefix}_saliency": analysis.saliency,
                        f"{prefix}_saliency_beats": analysis.saliency_beats,
                        f"{prefix}_networks_agreeing": analysis.networks_agreeing,
                        f"{prefix}_networks": np.array(len(model.networks))})
    return results


def ct_detector_outputs() -> dict[str, np.ndarray]:
    from medmodels import load_ct
    from medmodels.ct.gradcam import grad_cam
    from medmodels.ct_detector import CAM_LAYER, load_detector, patch_channels, score_slice
    from medmodels.ct_lidc import lidc_series, luna16_nodules

    series = load_ct(lidc_series()["LIDC-IDRI-0001"])
    (nodule,) = luna16_nodules(series.series_uid)
    detector = load_detector()
    scored = score_slice(series.hu[nodule.central_slice(series)], series.spacing[1:], detector)
    cams = grad_cam(detector.keras_model, patch_channels(scored.patches[:3]), CAM_LAYER, 0)
    return {"ct_rows": scored.rows, "ct_cols": scored.cols, "ct_probabilities": scored.probabilities,
            "ct_gradcam": cams}


def malignancy_outputs() -> dict[str, np.ndarray]:
    from medmodels.ct.crops import crops_dir, load_crop_table, patient_split, read_crop
    from medmodels.ct.gradcam import grad_cam
    from medmodels.ct.malignancy import GRADCAM_LAYER, crops_to_input, load_model

    model = load_model()
    table = load_crop_table(crops_dir())
    rows = np.sort(np.random.default_rng(0).choice(patient_split(table).test, 20, replace=False))
    crops = [read_crop(path) for path in table.iloc[rows]["path"]]
    inputs = crops_to_input(crops, pad=model.card["input"]["padding"])
    return {"malignancy_probabilities": model.probabilities(inputs),
            "malignancy_gradcam": grad_cam(model.keras_model, inputs[:5], GRADCAM_LAYER, 0)}


def gan_outputs() -> dict[str, np.ndarray]:
    from medmodels.gan.generate import load_generator

    ct = load_generator("ct").sample(4, seed=0)
    ecg = load_generator("ecg").sample(4, seed=0)
    return {"gan_ct_hu": ct.values["hu"], "gan_ecg_waveform": ecg.values["waveform"], "gan_ecg_rr": ecg.values["rr"]}


def main(out: str) -> int:
    import keras

    results = {"backend": np.array(keras.backend.backend())}
    for part in (ecg_outputs, ct_detector_outputs, malignancy_outputs, gan_outputs):
        results.update(part())
    np.savez(out, **results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
