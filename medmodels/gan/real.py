"""A few real samples of a class from the data folder, to show beside synthetic ones.

Held-out data only (the GAN never trained on it): CT from series LIDC-IDRI-0003
(random lung = no nodule; held-out patients' nodule crops blended into its
lung = nodule, as in the detector's evaluation); ECG beats from the
``mitdb.VALIDATION`` records.  Returns ``None`` when the data folder lacks them.
"""

from __future__ import annotations

import numpy as np

from medmodels.config import data_path
from medmodels.gan.data import CT_CLASSES, CT_HELD_OUT_SERIES, ECG_CLASSES

#: Slices of the held-out series used for CT examples (a few, spread over the lungs, for speed).
CT_EXAMPLE_SLICES = 4


def real_ct(cls: str, n: int, seed: int = 0) -> np.ndarray | None:
    """Up to ``n`` real HU patches (n, 64, 64) of ``cls`` ("no nodule" / "nodule"), or None without data."""
    if data_path("ct", "lidc") is None or data_path("ct", "lidc_crops") is None:
        return None
    from medmodels.ct_detector import prepare_slice
    from medmodels.ct_detector_data import (PreparedSeries, crop_table, inserted_nodule_patches, is_held_out_patient,
                                            load_crops, random_lung_patches)
    from medmodels.ct_lidc import lidc_series
    from medmodels.dicom_io import load_ct

    files = lidc_series().get(CT_HELD_OUT_SERIES)
    if not files:
        return None
    image = load_ct(files)
    picks = np.linspace(0.3 * image.n_slices, 0.7 * image.n_slices, CT_EXAMPLE_SLICES).astype(int)
    slices = [prepare_slice(image.hu[k], image.spacing[1:]) for k in picks]
    series = PreparedSeries(CT_HELD_OUT_SERIES, image, slices, [])
    rng = np.random.default_rng(seed)
    background = random_lung_patches(series, n, rng)
    if cls == CT_CLASSES[0]:
        return background
    table = crop_table()
    table = table[table["patient_id"].map(is_held_out_patient)]
    crops = load_crops(table.iloc[rng.permutation(len(table))[:n]])
    return inserted_nodule_patches([series], crops, rng, background)[:n]


def real_ecg(cls: str, n: int, seed: int = 0) -> dict | None:
    """Up to ``n`` real beats of ``cls`` in the classifier's input format (dict of arrays), or None without data."""
    if data_path("ecg", "mitdb") is None:
        return None
    from medmodels.ecg.mitdb import VALIDATION
    from medmodels.gan.data import ecg_split

    split = ecg_split(VALIDATION)
    mine = np.flatnonzero(split.labels == ECG_CLASSES.index(cls))
    pick = np.sort(np.random.default_rng(seed).permutation(mine)[:n])
    return {"waveform": split.waveform[pick], "rr": split.rr[pick]}
