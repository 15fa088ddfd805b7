"""DICOM loading: every bundled and edge-case file loads or raises InputError, known values, series assembly."""

from __future__ import annotations

import io
import random
import re
import zipfile
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data.data_manager import DATA_ROOT

from medmodels import CTImage, InputError, ct_array, load_ct
from medmodels import dicom_io
from medmodels.config import data_dir

from concurrency import load_in_threads_keeping_warning_filters
from data_paths import require_data

BUNDLED = sorted(p for p in Path(DATA_ROOT, "test_files").rglob("*") if p.is_file())
EDGE_DIR = data_dir() / "ct" / "dicom_edge_cases"
EDGE_CASES = sorted(p for p in EDGE_DIR.rglob("*.dcm")) if EDGE_DIR.exists() else []


def _load_or_refuse(path: Path) -> CTImage | InputError:
    try:
        return load_ct(path, require_ct=False)
    except InputError as exc:
        return exc


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_every_bundled_pydicom_file_loads_or_is_refused_clearly(path):
    outcome = _load_or_refuse(path)
    if isinstance(outcome, InputError):
        assert str(outcome) and "Traceback" not in str(outcome)
    else:
        assert outcome.hu.ndim == 3 and outcome.hu.dtype == np.float32
        assert all(s > 0 for s in outcome.spacing)
        assert len(outcome.sop_instance_uids) == outcome.hu.shape[0]


def test_edge_case_folder_is_present():
    require_data("ct", "dicom_edge_cases")
    assert len(EDGE_CASES) >= 30


EXPECTED_EDGE = {
    # file: (outcome, detail) — shapes for loads, a phrase of the message for refusals
    "CT_small.dcm": ("load", (1, 128, 128)),
    "693_J2KR.dcm": ("load", (1, 512, 512)),
    "693_UNCI.dcm": ("load", (1, 512, 512)),
    "eCT_Supplemental.dcm": ("load", (2, 512, 512)),
    "MR_small_RLE.dcm": ("load", (1, 64, 64)),
    "MR_small_jpeg_ls_lossless.dcm": ("load", (1, 64, 64)),
    "MR_small_jp2klossless.dcm": ("load", (1, 64, 64)),
    "MR_small_bigendian.dcm": ("load", (1, 64, 64)),
    "MR_small_implicit.dcm": ("load", (1, 64, 64)),
    "JPEG-LL.dcm": ("load", (1, 1024, 256)),
    "emri_small_big_endian.dcm": ("load", (10, 64, 64)),
    "image_dfl.dcm": ("load", (1, 512, 512)),
    "MR_truncated.dcm": ("refuse", "truncated"),
    "test-SR.dcm": ("refuse", "Structured Report"),
    "rtstruct.dcm": ("refuse", "radiotherapy"),
    "rtdose.dcm": ("refuse", "radiotherapy"),
    "liver.dcm": ("refuse", "segmentation"),
    "liver_deflate.dcm": ("refuse", "segmentation"),
    "SC_rgb_jpeg.dcm": ("refuse", "colour"),
    "examples_palette.dcm": ("refuse", "colour"),
    "no_meta.dcm": ("refuse", "not a DICOM file"),
}


@pytest.mark.parametrize("path", EDGE_CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_edge_case_loads_or_is_refused_clearly(path):
    outcome = _load_or_refuse(path)
    expected = EXPECTED_EDGE.get(path.name)
    if expected is None:
        assert isinstance(outcome, (CTImage, InputError))
    elif expected[0] == "load":
        assert isinstance(outcome, CTImage), f"{path.name} should load: {outcome}"
        assert outcome.hu.shape == expected[1]
    else:
        assert isinstance(outcome, InputError), f"{path.name} should be refused"
        assert expected[1] in str(outcome)


def test_ct_small_hounsfield_units_match_the_raw_pixels(ct_small):
    ds = pydicom.dcmread(ct_small)
    raw = np.frombuffer(ds.PixelData, dtype="<i2").reshape(128, 128)
    expected = raw.astype(np.float32) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    image = load_ct(ct_small)
    np.testing.assert_array_equal(image.hu[0], expected)
    assert image.spacing == pytest.approx((5.0, 0.661468, 0.661468))
    assert image.sop_instance_uids == (ds.SOPInstanceUID,)
    assert image.metadata["Modality"] == "CT" and image.metadata["kVp"] == "120"
    # decimal strings read as numbers, not as stored ('5.000000')
    assert image.metadata["Slice thickness (mm)"] == "5" and image.metadata["Pixel spacing (mm)"] == "0.661468, 0.661468"


#: Edge cases whose pixels are compressed (or whose dataset is deflated) and that load.
COMPRESSED_EDGE = [
    "pydicom/JPEG2000.dcm", "pydicom/MR_small_RLE.dcm", "pydicom/MR_small_jp2klossless.dcm",
    "pydicom/MR_small_jpeg_ls_lossless.dcm", "pydicom/image_dfl.dcm", "pydicom-data/693_J2KR.dcm",
    "pydicom-data/JPEG-LL.dcm", "pydicom-data/MR2_J2KI.dcm", "pydicom-data/RG3_J2KI.dcm",
    "pydicom-data/bad_sequence.dcm",
]


def _pydicom_rescaled(path: Path) -> np.ndarray:
    """pydicom's decoded pixels × RescaleSlope + RescaleIntercept (1 and 0 when absent), in float64, as float32."""
    ds = pydicom.dcmread(path)
    slope, intercept = float(ds.get("RescaleSlope", 1)), float(ds.get("RescaleIntercept", 0))
    return (ds.pixel_array.astype(np.float64) * slope + intercept).astype(np.float32)


@pytest.mark.parametrize("relative", COMPRESSED_EDGE)
def test_compressed_files_decode_to_exactly_pydicoms_rescaled_pixels(relative):
    require_data("ct", "dicom_edge_cases")
    hu = load_ct(EDGE_DIR / relative, require_ct=False).hu
    assert hu.shape[0] == 1
    np.testing.assert_array_equal(hu[0], _pydicom_rescaled(EDGE_DIR / relative))


def test_693_unci_is_a_lossy_derivative_of_693_j2kr_not_the_same_pixels():
    # 693_UNCI is not an uncompressed copy of 693_J2KR: its header says it was DERIVED by lossy JPEG 2000
    # (about 339:1) from J2KR, its "uncompressed predecessor", and then stored uncompressed. Their pixels
    # differ by up to about 2000 HU, so each is held to its own stored values, and together only to showing
    # the same slice.
    require_data("ct", "dicom_edge_cases")
    j2kr, unci = EDGE_DIR / "pydicom-data" / "693_J2KR.dcm", EDGE_DIR / "pydicom-data" / "693_UNCI.dcm"
    derived = pydicom.dcmread(unci, stop_before_pixels=True)
    assert derived.LossyImageCompression == "01" and derived.ImageType[0].strip() == "DERIVED"
    source = derived.SourceImageSequence[0]
    assert source.ReferencedSOPInstanceUID == pydicom.dcmread(j2kr, stop_before_pixels=True).SOPInstanceUID
    original, lossy = load_ct(j2kr).hu, load_ct(unci).hu
    np.testing.assert_array_equal(original[0], _pydicom_rescaled(j2kr))
    np.testing.assert_array_equal(lossy[0], _pydicom_rescaled(unci))
    assert np.corrcoef(original.ravel(), lossy.ravel())[0, 1] > 0.99


def test_metadata_shows_only_whitelisted_technical_tags(ct_small):
    image = load_ct(ct_small)
    allowed = {label for _, label in dicom_io.METADATA_WHITELIST} | {"Slices"}
    assert set(image.metadata) <= allowed
    text = " ".join(image.metadata.values())
    assert str(pydicom.dcmread(ct_small).PatientName) not in text
    # ...but the deliberate reveal holds the full header
    assert any(row["name"] == "Patient's Name" for row in image.all_tags())


def test_non_ct_is_refused_for_analysis_but_viewable():
    mr = Path(DATA_ROOT, "test_files", "MR_small.dcm")
    with pytest.raises(InputError, match="MR image; the CT model needs CT"):
        load_ct(mr)
    assert load_ct(mr, require_ct=False).modality == "MR"


# --------------------------------------------------------------------------- series


def test_lidc_series_is_ordered_by_position_not_file_name(lidc_0001_slices):
    shuffled = list(lidc_0001_slices)
    random.Random(0).shuffle(shuffled)
    image = load_ct(shuffled)
    assert image.hu.shape == (133, 512, 512)
    assert image.spacing == pytest.approx((2.5, 0.703125, 0.703125))
    assert np.all(np.diff(image.z_positions) > 0)
    first = pydicom.dcmread(lidc_0001_slices[0], stop_before_pixels=True)
    assert first.SOPInstanceUID in image.sop_instance_uids
    file_z = sorted(float(pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient[2]) for p in shuffled)
    assert image.z_positions == pytest.approx(file_z)
    assert image.pixel_spacing_known and image.notes == ()  # a complete, evenly spaced series: nothing to say
    # A mid-chest slice: air or scanner padding in the corner, aerated lung, bone.
    mid = image.hu[66]
    assert np.median(mid[:20, :20]) < -900
    assert np.mean((mid > -950) & (mid < -600)) > 0.10
    assert mid.max() > 700


def test_series_from_zip_bytes_equals_series_from_files(lidc_0001_slices):
    subset = lidc_0001_slices[:5]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for p in subset:
            zf.write(p, f"series/{p.name}")
    from_zip = load_ct(buffer.getvalue())
    from_files = load_ct({p.name: p.read_bytes() for p in subset})
    np.testing.assert_array_equal(from_zip.hu, from_files.hu)
    hu, spacing = ct_array(subset)
    np.testing.assert_array_equal(hu, from_files.hu)


def test_two_series_in_one_upload_are_refused(lidc_0001_slices, ct_small):
    with pytest.raises(InputError, match="2 different series"):
        load_ct([lidc_0001_slices[0], ct_small])


def test_duplicate_slices_are_refused(lidc_0001_slices):
    data = lidc_0001_slices[0].read_bytes()
    with pytest.raises(InputError, match="same position"):
        load_ct({"a.dcm": data, "b.dcm": data})


def test_non_images_in_a_series_upload_are_skipped_and_reported(lidc_0001_slices):
    files = {p.name: p.read_bytes() for p in lidc_0001_slices[:3]}
    files["69.xml"] = b"<xml/>"
    image = load_ct(files)
    assert image.n_slices == 3
    assert [name for name, _ in image.skipped] == ["69.xml"]


def test_a_missing_slice_is_noted_with_the_gap_and_its_place(lidc_0001_slices):
    by_z = sorted(lidc_0001_slices, key=lambda p: float(pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient[2]))
    subset = {p.name: p.read_bytes() for p in by_z[40:48]}  # eight neighbouring slices (names do not follow z)
    complete = load_ct(subset)
    assert complete.notes == ()
    fourth = complete.sop_instance_uids[3]
    gapped = load_ct({name: data for name, data in subset.items()
                      if pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True).SOPInstanceUID != fourth})
    (note,) = gapped.notes
    assert "5.0 mm between slices 3 and 4" in note and "usual spacing is 2.50 mm" in note
    assert gapped.spacing[0] == pytest.approx(2.5)


# --------------------------------------------------------------------------- headers that are not what they should be


def _without(path: Path, *keywords: str) -> bytes:
    ds = pydicom.dcmread(path)
    for keyword in keywords:
        delattr(ds, keyword)
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def test_missing_pixel_spacing_is_flagged_not_silently_guessed(ct_small):
    image = load_ct(_without(ct_small, "PixelSpacing"))
    assert not image.pixel_spacing_known
    assert image.spacing[1:] == (1.0, 1.0)  # a placeholder for drawing in pixels
    (note,) = image.notes
    assert "no usable PixelSpacing" in note
    assert load_ct(ct_small).pixel_spacing_known


def test_the_slice_plane_is_read_from_image_orientation(ct_small):
    assert load_ct(ct_small).slice_normal == pytest.approx((0.0, 0.0, 1.0))
    coronal = load_ct(_modified(ct_small, ImageOrientationPatient=[1, 0, 0, 0, 0, -1]))
    assert coronal.slice_normal == pytest.approx((0.0, 1.0, 0.0))


def test_ct_without_rescale_tags_is_noted_and_read_as_stored(ct_small):
    image = load_ct(_without(ct_small, "RescaleSlope", "RescaleIntercept"))
    (note,) = image.notes
    assert "no RescaleSlope/RescaleIntercept" in note
    np.testing.assert_array_equal(image.hu[0], pydicom.dcmread(ct_small).pixel_array)
    assert load_ct(ct_small).notes == ()


def _unpositioned(path: Path, instance: int, offset_hu: int) -> bytes:
    """``path`` without ImagePositionPatient, as instance ``instance``, its pixels raised by ``offset_hu``."""
    ds = pydicom.dcmread(path)
    del ds.ImagePositionPatient
    ds.InstanceNumber, ds.SOPInstanceUID = instance, pydicom.uid.generate_uid()
    ds.PixelData = (ds.pixel_array + offset_hu).astype(ds.pixel_array.dtype).tobytes()
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def test_slices_without_positions_are_ordered_by_instance_number_and_say_so(ct_small):
    image = load_ct({"b.dcm": _unpositioned(ct_small, 4, 100), "a.dcm": _unpositioned(ct_small, 3, 0)})
    thickness = float(pydicom.dcmread(ct_small).SliceThickness)
    assert image.spacing[0] == pytest.approx(thickness)
    assert image.hu[1].mean() == pytest.approx(image.hu[0].mean() + 100, abs=1)  # instance 3 first, then 4
    (note,) = image.notes
    assert "ordered by InstanceNumber" in note and f"{thickness:g} mm apart" in note
    with pytest.raises(InputError, match="same InstanceNumber and no ImagePositionPatient"):
        load_ct({"b.dcm": _unpositioned(ct_small, 3, 100), "a.dcm": _unpositioned(ct_small, 3, 0)})


# --------------------------------------------------------------------------- hostile input


def _modified(path: Path, **changes) -> bytes:
    ds = pydicom.dcmread(path)
    for keyword, value in changes.items():
        setattr(ds, keyword, value)
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def test_absurd_declared_size_is_refused_before_decoding(ct_small):
    with pytest.raises(InputError, match="60000"):
        load_ct(_modified(ct_small, Rows=60000))


def test_size_disagreeing_with_pixel_data_is_refused(ct_small):
    with pytest.raises(InputError, match="truncated"):
        load_ct(_modified(ct_small, Rows=256, Columns=256))


def test_deflated_dataset_inflating_past_the_cap_is_refused(monkeypatch):
    require_data("ct", "dicom_edge_cases")
    deflated = EDGE_DIR / "pydicom" / "image_dfl.dcm"
    assert load_ct(deflated, require_ct=False).hu.shape == (1, 512, 512)
    monkeypatch.setattr(dicom_io, "MAX_INFLATED_BYTES", 100_000)
    with pytest.raises(InputError, match="inflate"):
        load_ct(deflated, require_ct=False)


def _with_raw_value(path: Path, keyword: str, raw: bytes) -> bytes:
    """``path`` with ``keyword``'s value replaced by ``raw`` as a file could hold it (pydicom refuses to write nonsense)."""
    placeholder = b"1.234567"
    data = _modified(path, **{keyword: placeholder.decode()})
    assert data.count(placeholder) == 1 and len(raw) <= len(placeholder)
    return data.replace(placeholder, raw.ljust(len(placeholder)))


def test_empty_rescale_tags_are_taken_as_slope_1_and_intercept_0_and_noted(ct_small):
    stored = pydicom.dcmread(ct_small).pixel_array.astype(np.float32)  # CT_small: slope 1, intercept -1024
    both = load_ct({"blank.dcm": _modified(ct_small, RescaleSlope=None, RescaleIntercept=None)})
    np.testing.assert_array_equal(both.hu[0], stored)
    (note,) = both.notes
    assert "RescaleSlope and RescaleIntercept are missing or empty" in note and "−1000 HU" in note
    for data in (_modified(ct_small, RescaleSlope=None), _with_raw_value(ct_small, "RescaleSlope", b"")):
        slope_blank = load_ct(data)
        np.testing.assert_array_equal(slope_blank.hu[0], stored - 1024)
        (note,) = slope_blank.notes
        assert "RescaleSlope is missing or empty" in note and "slope is taken as 1" in note


@pytest.mark.parametrize(
    "keyword, raw, message",
    [
        ("RescaleSlope", b"1e39", "RescaleSlope is 1e+39; a usable slope"),
        ("RescaleSlope", b"1e-300", "RescaleSlope is 1e-300; a usable slope"),
        ("RescaleSlope", b"0", "RescaleSlope is 0; a usable slope"),
        ("RescaleSlope", b"nan", "RescaleSlope is nan, not a finite number"),
        ("RescaleSlope", b"-inf", "RescaleSlope is -inf, not a finite number"),
        ("RescaleSlope", b"abc", "RescaleSlope is 'abc', not a number"),
        ("RescaleSlope", b"1\\2", "RescaleSlope holds several values (1, 2); it must be one number"),
        ("RescaleIntercept", b"inf", "RescaleIntercept is inf, not a finite number"),
        ("RescaleIntercept", b"-1e7", "RescaleIntercept is -1e+07; a usable intercept"),
    ],
)
def test_unusable_rescale_values_are_refused_naming_file_and_value(ct_small, keyword, raw, message):
    with pytest.raises(InputError, match=f"^slice\\.dcm: its {re.escape(message)}"):
        load_ct({"slice.dcm": _with_raw_value(ct_small, keyword, raw)})


def test_several_samples_per_pixel_are_refused_as_colour_before_decoding(ct_small, monkeypatch):
    monkeypatch.setattr(dicom_io, "_decode", lambda item: pytest.fail("decoded a refused file"))
    with pytest.raises(InputError, match=r"^rgb.dcm is a colour or multi-channel image \(3 samples per pixel\)"):
        load_ct({"rgb.dcm": _modified(ct_small, SamplesPerPixel=3)})  # greyscale-sized pixel data


def test_pixels_that_do_not_fit_the_declared_size_are_refused_naming_the_file(ct_small, monkeypatch):
    monkeypatch.setattr(pydicom.dataset.Dataset, "pixel_array", property(lambda ds: np.zeros(7, np.int16)))
    with pytest.raises(InputError, match=r"^odd.dcm: its pixel data decode to 7 values .* not the 1×128×128"):
        load_ct({"odd.dcm": ct_small.read_bytes()})


def test_a_series_past_the_decoded_size_limit_is_refused_before_decoding(ct_small, monkeypatch):
    assert 600 * 512 * 512 * dicom_io.HU_BYTES_PER_VOXEL <= dicom_io.MAX_SERIES_HU_BYTES  # thin-slice chest CT
    series = {f"{z}.dcm": _modified(ct_small, ImagePositionPatient=[0, 0, z], SOPInstanceUID=pydicom.uid.generate_uid())
              for z in (0, 5)}
    monkeypatch.setattr(dicom_io, "MAX_SERIES_HU_BYTES", 2 * 128 * 128 * 4)
    assert load_ct(series).hu.shape == (2, 128, 128)  # exactly at the limit
    monkeypatch.setattr(dicom_io, "MAX_SERIES_HU_BYTES", 2 * 128 * 128 * 4 - 1)
    monkeypatch.setattr(dicom_io, "_decode", lambda item: pytest.fail("decoded a refused series"))
    with pytest.raises(InputError, match=r"would decode to 0 MB of HU \(2 slices of 128×128\), over the 0 MB limit"):
        load_ct(series)


def test_concurrent_loads_leave_the_process_warning_filters_as_they_were(ct_small):
    # Four threads restored each other's "ignore" filter in nearly every run before the readers took one lock.
    data = ct_small.read_bytes()
    loaded = load_in_threads_keeping_warning_filters(lambda: load_ct(data), 80)
    assert all(image.hu.shape == (1, 128, 128) for image in loaded)


@pytest.mark.parametrize("seed", range(40))
def test_random_and_truncated_bytes_only_ever_raise_input_error(ct_small, seed):
    rng = random.Random(seed)
    original = ct_small.read_bytes()
    candidates = [
        bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 2048))),
        original[: rng.randint(0, len(original))],
        original[:132] + bytes(rng.getrandbits(8) for _ in range(512)),
    ]
    mutated = bytearray(original)
    for _ in range(20):
        mutated[rng.randrange(len(mutated))] = rng.getrandbits(8)
    candidates.append(bytes(mutated))
    for data in candidates:
        try:
            load_ct(data, require_ct=False)
        except InputError:
            pass


def test_empty_upload_is_refused():
    with pytest.raises(InputError, match="No files"):
        load_ct([])


def _at_z(path: Path, z_mm: float, *, drop_rescale: bool = False, **changes) -> bytes:
    """``path`` moved to z = ``z_mm`` as a new instance, with ``changes`` (keyword: value); optionally without
    its rescale tags."""
    ds = pydicom.dcmread(path)
    ds.ImagePositionPatient = [ds.ImagePositionPatient[0], ds.ImagePositionPatient[1], z_mm]
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    for keyword, value in changes.items():
        setattr(ds, keyword, value)
    if drop_rescale:
        del ds.RescaleSlope, ds.RescaleIntercept
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def test_a_series_where_only_some_files_lack_rescale_tags_says_how_many_and_which(ct_small):
    stored = pydicom.dcmread(ct_small).pixel_array.astype(np.float32)  # CT_small: slope 1, intercept -1024
    files = {"a.dcm": _at_z(ct_small, 0.0), "b.dcm": _at_z(ct_small, 5.0, drop_rescale=True),
             "c.dcm": _at_z(ct_small, 10.0)}
    image = load_ct(files)
    np.testing.assert_array_equal(image.hu[1], stored)  # read as stored: 1024 above its neighbours
    np.testing.assert_array_equal(image.hu[0], stored - 1024)
    (note,) = image.notes  # the first file has its tags: the note must still come
    assert note.startswith("1 of the 3 files (e.g. b.dcm): The header has no RescaleSlope/RescaleIntercept")
    assert "about 1024 HU" in note


def test_a_shuffled_upload_puts_every_slice_and_its_uid_at_its_own_position(lidc_0001_slices):
    chosen = lidc_0001_slices[::13]  # 11 slices, a few seconds
    z = {p: float(pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient[2]) for p in chosen}
    in_order = sorted(chosen, key=z.get)
    shuffled = list(chosen)
    random.Random(1).shuffle(shuffled)
    image, reference = load_ct(shuffled), load_ct(in_order)
    np.testing.assert_array_equal(image.hu, reference.hu)
    for k, path in enumerate(in_order):
        assert image.z_positions[k] == pytest.approx(z[path])
        assert image.sop_instance_uids[k] == pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID
        np.testing.assert_array_equal(image.hu[k], load_ct(path).hu[0])


def test_blank_top_level_rescale_tags_do_not_hide_an_enhanced_cts_per_frame_rescale():
    require_data("ct", "dicom_edge_cases")
    path = EDGE_DIR / "pydicom-data" / "eCT_Supplemental.dcm"  # enhanced CT: rescale only in its functional groups
    reference = load_ct(path, require_ct=False)
    ds = pydicom.dcmread(path)
    ds.add_new("RescaleSlope", "DS", None)  # what a de-identification tool may leave at the top level
    ds.add_new("RescaleIntercept", "DS", None)
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    blanked = load_ct({"blank.dcm": buffer.getvalue()}, require_ct=False)
    assert reference.hu.min() == -1024  # the functional groups' intercept is applied
    np.testing.assert_array_equal(blanked.hu, reference.hu)
    assert blanked.notes == ()


# --------------------------------------------------------------------------- series geometry


def test_a_slice_of_another_orientation_is_refused_not_misordered(ct_small):
    # Before: projected on its own normal, the flipped slice was placed at z +5 and sorted last without a word.
    files = {"a.dcm": _at_z(ct_small, 0.0), "b.dcm": _at_z(ct_small, 5.0, ImageOrientationPatient=[-1, 0, 0, 0, 1, 0]),
             "c.dcm": _at_z(ct_small, 10.0)}
    with pytest.raises(InputError, match=r"b\.dcm has another slice orientation \(ImageOrientationPatient "
                                         r"\[-1, 0, 0, 0, 1, 0\]\) than a\.dcm \(\[1, 0, 0, 0, 1, 0\]\)"):
        load_ct(files)
    rounding = [1.0, 0.0, 0.0, 0.0, 0.9999999, 0.0000003]  # last-digit differences are one orientation
    assert load_ct({**files, "b.dcm": _at_z(ct_small, 5.0, ImageOrientationPatient=rounding)}).n_slices == 3


def test_a_slice_of_another_pixel_spacing_is_refused(ct_small):
    files = {"a.dcm": _at_z(ct_small, 0.0), "b.dcm": _at_z(ct_small, 5.0, PixelSpacing=[0.9, 0.9])}
    with pytest.raises(InputError, match=r"b\.dcm has pixels of 0\.9 × 0\.9 mm, a\.dcm of 0\.661468 × 0\.661468 mm"):
        load_ct(files)


def test_a_slice_without_a_position_among_positioned_ones_is_refused(ct_small):
    # Before: instance 3 × 5 mm = 15 mm was sorted among real positions near -75 mm.
    with pytest.raises(InputError, match=r"b\.dcm carries no ImagePositionPatient while a\.dcm does"):
        load_ct({"a.dcm": _at_z(ct_small, 0.0), "b.dcm": _unpositioned(ct_small, 3, 0), "c.dcm": _at_z(ct_small, 10.0)})


def test_slices_a_hundredth_of_a_millimetre_apart_are_duplicates_but_thin_slices_are_not(ct_small):
    with pytest.raises(InputError, match="lie at the same position"):
        load_ct({"a.dcm": _at_z(ct_small, 0.0), "b.dcm": _at_z(ct_small, 0.01), "c.dcm": _at_z(ct_small, 5.0)})
    thin = load_ct({"a.dcm": _at_z(ct_small, 0.0), "b.dcm": _at_z(ct_small, 0.625), "c.dcm": _at_z(ct_small, 1.25)})
    assert thin.spacing[0] == pytest.approx(0.625)


def test_slice_z_is_the_patients_z_when_the_normal_points_to_the_feet(ct_small):
    feet = [-1, 0, 0, 0, 1, 0]  # rows run right to left: the normal is -z
    image = load_ct({name: _at_z(ct_small, z, ImageOrientationPatient=feet)
                     for name, z in (("a.dcm", -170.0), ("b.dcm", -165.0), ("c.dcm", -160.0))})
    assert image.slice_normal == pytest.approx((0.0, 0.0, -1.0)) and image.spacing[0] == pytest.approx(5.0)
    assert image.z_positions == pytest.approx((160.0, 165.0, 170.0))  # along the normal: what orders the slices
    assert image.slice_z_mm == pytest.approx((-160.0, -165.0, -170.0))  # what the headers say, not sign-flipped


def test_slice_z_is_the_patients_z_on_a_tilted_gantry(ct_small):
    tilt = np.deg2rad(15.0)
    tilted = [1, 0, 0, 0, float(np.cos(tilt)), float(-np.sin(tilt))]
    image = load_ct({name: _at_z(ct_small, z, ImageOrientationPatient=tilted)
                     for name, z in (("a.dcm", -170.0), ("b.dcm", -167.5), ("c.dcm", -165.0))})
    assert image.slice_z_mm == pytest.approx((-170.0, -167.5, -165.0))
    assert image.spacing[0] == pytest.approx(2.5 * np.cos(tilt))  # between the slice planes
