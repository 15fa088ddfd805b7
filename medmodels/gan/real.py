"""A few held-out examples of a class from the data folder, to show beside synthetic ones.

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


def real_samples_description(modality: str, cls: str) -> tuple[str, str]:
    """(tile label, caption) saying what the held-out samples shown for ``cls`` are, and what they are not.

    The CT nodule examples are composites (real crops in real lung), not whole
    real patches; the label and caption must not call them real scans.
    """
    if modality == "ecg":
        return ("REAL", f"Real {cls} beats, annotated by the MIT-BIH cardiologists, from DS1 validation records "
                        f"({', '.join(_validation_records())}): patients the generator never trained on.")
    if cls == CT_CLASSES[0]:
        return ("REAL", f"Real patches of lung from series {CT_HELD_OUT_SERIES}, which the generator never saw, "
                        "taken at random inside its lung fields.")
    return ("COMPOSITE", f"Not whole real patches: real LIDC nodule crops of patients the generator never saw, blended "
                         f"with a soft mask into the lung of series {CT_HELD_OUT_SERIES} (half beside a vessel or the "
                         "pleura). The generator's nodule class learned from composites made the same way from other "
                         "patients, and the detector's patch AUC is measured on such composites. A crop whose box is "
                         "mostly dense tissue (a nodule against the pleura or a vessel, about 1 crop in 10) keeps a "
                         "square edge, and generated nodules can show one too.")


def _validation_records() -> list[str]:
    from medmodels.ecg.mitdb import VALIDATION

    return [str(r) for r in VALIDATION]


def real_ct(cls: str, n: int, seed: int = 0) -> np.ndarray | None:
    """Up to ``n`` held-out HU patches (n, 64, 64) of ``cls``, or None without data: "no nodule" real lung,
    "nodule" composites (held-out patients' real crops blended into that lung), not whole real patches."""
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
