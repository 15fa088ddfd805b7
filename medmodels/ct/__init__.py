"""CT nodule malignancy from LIDC-IDRI crops (issue #4).

Modules, each small and importable without Streamlit:

* :mod:`.crops` — the crop table, reading crops, the patient-level split;
* :mod:`.canvas` — a crop at true physical scale in a fixed canvas, HU window;
* :mod:`.malignancy` — Keras 3 model build/load/predict;
* :mod:`.gradcam` — generic 2-D Grad-CAM (model never mutated, never NaN);
* :mod:`.metrics` — AUC, bootstrap interval, calibration, thresholds;
* :mod:`.malignancy_train` / :mod:`.malignancy_eval` — ``main(argv)`` entry points;
* :mod:`.cli` — ``crops_to_json`` for ``python -m medmodels ct --crop FILE... --json OUT``.

TensorFlow/Keras are imported lazily inside the functions that need them.
"""
