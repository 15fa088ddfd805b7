"""medmodels: all logic of the clinical deep-learning review dashboard.

Importable and testable without Streamlit. Public entry points:

* :func:`load_ct` — DICOM slice/series to a :class:`CTImage` in HU;
* :func:`load_ecg` — WFDB record to an :class:`ECGRecord` in mV;
* :class:`InputError` — every rejection of user input.

The loaders are imported lazily (PEP 562) so that model code such as
``medmodels.ecg.model`` imports without pydicom or wfdb: the GPU machine used
for training has neither.
"""

from importlib import import_module

from .errors import InputError

_LAZY = {"CTImage": "dicom_io", "ct_array": "dicom_io", "load_ct": "dicom_io",
         "Annotations": "wfdb_io", "ECGRecord": "wfdb_io", "ecg_signal": "wfdb_io", "load_ecg": "wfdb_io"}

__all__ = ["Annotations", "CTImage", "ECGRecord", "InputError", "ct_array", "ecg_signal", "load_ct", "load_ecg"]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
