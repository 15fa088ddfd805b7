"""medmodels: all logic of the clinical deep-learning review dashboard.

Importable and testable without Streamlit. Public entry points:

* :func:`load_ct` — DICOM slice/series to a :class:`CTImage` in HU;
* :func:`load_ecg` — WFDB record to an :class:`ECGRecord` in mV;
* :class:`InputError` — every rejection of user input.
"""

from .dicom_io import CTImage, ct_array, load_ct
from .errors import InputError
from .wfdb_io import Annotations, ECGRecord, ecg_signal, load_ecg

__all__ = ["Annotations", "CTImage", "ECGRecord", "InputError", "ct_array", "ecg_signal", "load_ct", "load_ecg"]
