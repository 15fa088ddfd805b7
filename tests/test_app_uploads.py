"""AppTest uploads of whole series and records: several CT slices, a CT zip, an ECG record zipped."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from data_paths import require_data
from test_app import _charts, _page


def _zipped(files: dict[str, bytes]) -> bytes:
    """``files`` (name -> bytes) as one deflated zip archive, built in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def nodule_slices() -> dict[str, bytes]:
    """5 consecutive slices of LIDC-IDRI-0001 centred on its LUNA16 nodule (file name -> bytes)."""
    import pydicom

    from medmodels.ct_lidc import lidc_series, reference_nodules

    require_data("ct", "lidc", "LIDC-IDRI-0001")
    files = lidc_series()["LIDC-IDRI-0001"]
    z = {f: float(pydicom.dcmread(f, stop_before_pixels=True).ImagePositionPatient[2]) for f in files}
    (nodule,) = reference_nodules(pydicom.dcmread(files[0], stop_before_pixels=True).SeriesInstanceUID)
    ordered = sorted(files, key=z.get)
    centre = min(range(len(ordered)), key=lambda i: abs(z[ordered[i]] - nodule.z_mm))
    return {f.name: f.read_bytes() for f in ordered[centre - 2:centre + 3]}


def _upload(at, files: list[tuple[str, bytes, str]]):
    at.radio[0].set_value("Upload").run()
    for name, data, mime in files:
        at.file_uploader[0].upload(name, data, mime)
    return at.run()


def _assert_ct_series_analysed(at) -> None:
    assert not at.exception and not at.error
    slider = at.slider(key="ct_slice")
    assert (slider.min, slider.max) == (1, 5)  # one position per uploaded slice
    assert slider.value == 3  # opened at the reference nodule's central slice, the middle one
    assert [s.value for s in at.subheader] == ["Series", "Candidates on this slice"]
    table = next(df.value for df in at.dataframe if "nodule probability" in df.value)
    assert len(table) >= 1 and table["nodule probability"].between(0, 1).all()
    assert len(_charts(at)) >= 1


@pytest.mark.parametrize("as_zip", [False, True], ids=["separate files", "one zip"])
def test_ct_upload_of_five_slices_is_analysed_as_a_series(nodule_slices, as_zip):
    if as_zip:
        files = [("series.zip", _zipped(nodule_slices), "application/zip")]
    else:
        files = [(name, data, "application/dicom") for name, data in nodule_slices.items()]
    at = _upload(_page("pages/ct.py"), files)
    _assert_ct_series_analysed(at)


def test_ecg_record_uploaded_as_one_zip_is_analysed_against_its_annotations(mitdb: Path):
    archive = _zipped({name: (mitdb / name).read_bytes() for name in ("100.hea", "100.dat", "100.atr")})
    at = _upload(_page("pages/ecg.py"), [("100.zip", archive, "application/zip")])
    assert not at.exception and not at.error
    assert [s.value for s in at.subheader] == ["Rhythm summary", "Beats", "Agreement with the reference annotations"]
    burden = next(df.value for df in at.dataframe if "burden (%)" in df.value)
    assert abs(int(burden["beats"].sum()) - 2273) <= 11  # record 100: 2,273 reference beats, within 0.5 %
    beats = next(df.value for df in at.dataframe if {"beat", "class", "probability"} <= set(df.value))
    assert len(beats) >= 1 and (beats["class"] != "N").all()  # the beat table, filtered to non-N by default
    agreement = next(df.value for df in at.dataframe if "Se (%)" in df.value).set_index("class")
    assert agreement.loc["N", "Se (%)"] > 99  # the zipped .atr was read and matched


@pytest.mark.parametrize("page", ["pages/ct.py", "pages/ecg.py"])
def test_a_zip_with_a_corrupt_member_shows_an_error_naming_it_not_an_exception(page):
    # A valid zip directory over a damaged deflate stream: it failed while inflating (zlib.error), not while opening.
    payload = b"".join(b"sample %d\n" % (i * 7919 % 1000) for i in range(3000))
    archive = bytearray(_zipped({"upload/a.dcm": payload}))
    start = 30 + len("upload/a.dcm")  # the member's compressed bytes follow its 30-byte local header and name
    for i in range(start + 100, start + 140):
        archive[i] ^= 0x55
    at = _upload(_page(page), [("bad.zip", bytes(archive), "application/zip")])
    assert not at.exception
    assert len(at.error) == 1 and "upload/a.dcm" in at.error[0].value and "could not be unpacked" in at.error[0].value
