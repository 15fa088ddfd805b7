"""The only module of medmodels that imports Streamlit: caching wrappers.

``st.cache_resource`` holds one shared, read-only object per key (models,
example volumes) for all sessions; per-user uploads are memoised in that
user's session state so a widget change does not re-parse a 100 MB series,
and one user's upload is never visible to another.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import streamlit as st

from .device import compute_device
from .dicom_io import CTImage, load_ct
from .errors import InputError
from .examples import ct_examples, ecg_examples
from .wfdb_io import ECGRecord, load_ecg, load_ecg_physionet


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False  # shared between sessions: nobody may modify it
    return array


@st.cache_resource(show_spinner="Reading the example CT…", max_entries=4)
def example_ct(label: str) -> CTImage:
    image = load_ct(ct_examples()[label])
    _read_only(image.hu)
    return image


@st.cache_resource(show_spinner="Reading the example record…", max_entries=8)
def example_ecg(label: str) -> ECGRecord:
    record = load_ecg(ecg_examples()[label])
    _read_only(record.signal)
    return record


@st.cache_resource(show_spinner="Fetching the record from PhysioNet…", max_entries=4)
def physionet_ecg(database: str, record: str) -> ECGRecord:
    # Public data only, so one shared copy serves every session.
    loaded = load_ecg_physionet(database, record)
    _read_only(loaded.signal)
    return loaded


@st.cache_resource(show_spinner="Checking the compute device…")
def device_name() -> str:
    return compute_device()


@st.cache_data(show_spinner=False)
def example_labels(kind: str) -> list[str]:
    return list(ct_examples() if kind == "ct" else ecg_examples())


@st.cache_resource(show_spinner="Loading the ECG beat classifier…")
def ecg_model(leads: int = 1):
    """The committed single-lead (1) or two-lead (2) beat classifier, loaded once per server (read-only, shared).

    Warmed up on load (:func:`medmodels.ecg.pipeline.warm_up`), so no user's record pays for graph tracing.
    """
    from .ecg.model import load_classifier, model_dir_for
    from .ecg.pipeline import warm_up

    model = load_classifier(model_dir_for(leads))
    warm_up(model)
    return model


@st.cache_resource(show_spinner="Loading the CT nodule detector…")
def ct_detector(fold: str | None = None):
    """The committed nodule detector, or with ``fold`` that fold's held-out-series model; loaded once per server
    (read-only, shared)."""
    from .ct_detector import load_chosen_detector

    return load_chosen_detector(fold)


@st.cache_data(show_spinner=False)
def model_card(name: str) -> dict:
    """The card of the single-lead ECG classifier ("ecg"), the two-lead one ("ecg-two-lead") or the CT detector
    ("ct-detector"), read once per server rather than on every widget change (a page shows it in several places);
    each caller gets its own copy."""
    from .ct_detector import read_detector_card
    from .ecg.model import TWO_LEAD_MODEL_DIR, read_card

    return {"ecg": read_card, "ecg-two-lead": lambda: read_card(TWO_LEAD_MODEL_DIR),
            "ct-detector": read_detector_card}[name]()


@st.cache_resource(show_spinner="Loading the CT malignancy model…")
def ct_malignancy():
    """The committed malignancy CNN, or None when it is not installed."""
    from .ct.malignancy import load_model

    try:
        return load_model()
    except FileNotFoundError:
        return None


def upload_key(files: Sequence[Any]) -> tuple:
    """Identity of an upload: Streamlit's file ids (new on every re-upload) and sizes."""
    return tuple((getattr(f, "file_id", None) or f.name, getattr(f, "size", None)) for f in files)


def memoised(slot: str, key: Any, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per ``key``, kept in this user's session.

    Only the latest result per ``slot`` is kept, so memory does not grow with
    every file a user tries. An :class:`InputError` is memoised too (re-raised),
    so a bad upload is not re-parsed on every rerun.
    """
    state = st.session_state.setdefault("_memo", {})
    cached = state.get(slot)
    if cached is None or cached[0] != key:
        try:
            cached = (key, compute(), None)
        except InputError as exc:
            cached = (key, None, exc)
        state[slot] = cached
    if cached[2] is not None:
        raise cached[2]
    return cached[1]


def memoised_upload(slot: str, files: Sequence[Any], loader: Callable[[Sequence[Any]], Any]) -> Any:
    """``loader(files)`` once per distinct upload (see :func:`memoised`)."""
    return memoised(slot, upload_key(files), lambda: loader(files))


@st.cache_resource(show_spinner="Loading the generator…")
def gan_generator(modality: str):
    """The committed GAN generator of ``"ct"`` or ``"ecg"``, loaded once per server (read-only, shared)."""
    from .gan.generate import load_generator

    return load_generator(modality)


@st.cache_data(show_spinner="Reading real samples from the data folder…", max_entries=16)
def gan_real_samples(modality: str, cls: str, n: int):
    """A few held-out real samples of a class (see medmodels.gan.real), or None without the data folder."""
    from .gan.real import real_ct, real_ecg

    return real_ct(cls, n) if modality == "ct" else real_ecg(cls, n)
