"""Page state that must not carry over to the next upload: a revealed header, widget bounds of another image."""

from __future__ import annotations

import numpy as np
from pydicom.data import get_testdata_file

from test_app import _charts, _page
from test_dicom_io import _modified


def _revealed_names(at) -> set[str]:
    return {str(v) for df in at.dataframe if "value" in df.value for v in df.value["value"]}


def test_revealing_one_patients_dicom_header_does_not_reveal_the_next_upload(ct_small):
    at = _page("pages/ct.py")
    at.radio[0].set_value("Upload").run()
    at.file_uploader[0].upload("a.dcm", _modified(ct_small, PatientName="DOE^ALICE")).run()
    at.toggle(key="reveal_dicom").set_value(True).run()
    assert "DOE^ALICE" in _revealed_names(at)
    at.file_uploader[0].clear().upload("b.dcm", _modified(ct_small, PatientName="DOE^BOB")).run()
    assert not at.exception
    assert at.toggle(key="reveal_dicom").value is False
    assert not any("DOE^" in name for name in _revealed_names(at))


def _wfdb_with_comment(name: str, comment: str) -> list[tuple[str, bytes]]:
    t = np.arange(3600) / 360.0
    lead = np.where((t % 0.8) < 0.02, 1.0, 0.0)  # a spike train is enough: the header is what is tested
    digital = np.round(lead * 200).astype("<i2")
    header = (f"{name} 1 360 {digital.size}\n{name}.dat 16 200 16 0 {int(digital[0])} 0 0 MLII\n# {comment}\n")
    return [(f"{name}.hea", header.encode()), (f"{name}.dat", digital.tobytes())]


def _codes(at) -> str:
    return " ".join(c.value for c in at.code)


def test_revealing_one_records_header_comments_does_not_reveal_the_next_upload():
    at = _page("pages/ecg.py")
    at.radio[0].set_value("Upload").run()
    for name, data in _wfdb_with_comment("ra", "Patient DOE^ALICE, 69 y"):
        at.file_uploader[0].upload(name, data)
    at.run()
    at.toggle(key="reveal_ecg").set_value(True).run()
    assert "DOE^ALICE" in _codes(at)
    at.file_uploader[0].clear()
    for name, data in _wfdb_with_comment("rb", "Patient DOE^BOB, 71 y"):
        at.file_uploader[0].upload(name, data)
    at.run()
    assert not at.exception
    assert at.toggle(key="reveal_ecg").value is False and "DOE^" not in _codes(at)


def test_custom_window_of_a_wide_range_non_ct_image_opens_without_error():
    # A rescaled MR spanning ~20,600 stored values: wider than any CT window, so the default must fit the bounds.
    mr = get_testdata_file("MR_small.dcm")
    at = _page("pages/ct.py")
    at.radio[0].set_value("Upload").run()
    at.file_uploader[0].upload("mr.dcm", _modified(mr, RescaleSlope=10, RescaleIntercept=0)).run()
    assert not at.exception and not at.error
    width = next(n for n in at.number_input if n.label.startswith("Width"))
    assert width.label == "Width (stored value)" and width.value > 10000
    assert len(_charts(at)) == 1
