"""DICOM reading for CT: validate headers first, then decode, then assemble a series.

Two levels, like wfdb's ``rdrecord``/``rdsamp``:

* :func:`load_ct` returns a :class:`CTImage` (HU volume, geometry, UIDs and a
  whitelist of technical tags);
* :func:`ct_array` returns just ``(hu, spacing)``.

Every problem with the input surfaces as :class:`~medmodels.errors.InputError`
with a message naming the bad value. pydicom raises a wide variety of
exception types on hostile bytes, so the few calls into it are wrapped at this
edge and nowhere else.
"""

from __future__ import annotations

import io
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.pixels import apply_modality_lut
from pydicom.uid import UID
from pydicom.valuerep import DSdecimal, DSfloat

from .errors import InputError, reader_warnings_silenced
from .sources import FileSource, NamedBytes, expand_sources

#: A slice or frame may not be larger than this (pixels per side).
MAX_SIDE = 8192
#: Frames in one multi-frame object.
MAX_FRAMES = 4096
#: Decoded pixel bytes of one file.
MAX_PIXEL_BYTES = 1024 * 2**20
#: A deflated dataset may not inflate past this (bytes).
MAX_INFLATED_BYTES = 512 * 2**20
#: Bytes per voxel of the decoded volume (float32 HU).
HU_BYTES_PER_VOXEL = np.dtype(np.float32).itemsize
#: Largest volume one upload may decode to (bytes of float32 HU), summed over every header before any
#: pixel is decoded. A thin-slice (0.5-0.625 mm) chest CT, the largest routine reconstruction, holds up
#: to about 600 slices of 512×512: 600 MB. 1 GB keeps room for about 1000 such slices (chest and
#: abdomen) while bounding what one upload can make the server hold however well it was compressed
#: (0.5 MB of RLE can declare 64 MB of HU); decoding holds this volume plus one file's pixels at a time.
MAX_SERIES_HU_BYTES = 1024 * 2**20
#: Accepted magnitude of RescaleSlope (and the largest |RescaleIntercept|). Real slopes lie between
#: about 1e-4 (PET/MR scalings) and 1e3 (CT uses 1); past these bounds every pixel would round to
#: the intercept, or the HU would overflow float32, instead of showing a picture.
MIN_ABS_RESCALE_SLOPE = 1e-6
MAX_ABS_RESCALE = 1e6

DEFLATED_TS = "1.2.840.10008.1.2.1.99"
_UNCOMPRESSED_TS = {
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.2",
    DEFLATED_TS,
}

#: SOP class prefixes of objects that carry no viewable image.
_NON_IMAGE_SOP_PREFIXES = {
    "1.2.840.10008.5.1.4.1.1.88.": "a Structured Report (SR)",
    "1.2.840.10008.5.1.4.1.1.481.": "a radiotherapy object (RT)",
    "1.2.840.10008.5.1.4.1.1.66": "a segmentation/registration object (SEG/REG)",
    "1.2.840.10008.5.1.4.1.1.11.": "a presentation state",
    "1.2.840.10008.5.1.4.1.1.104.": "an encapsulated document (PDF/CDA)",
    "1.2.840.10008.5.1.4.1.1.9.": "a waveform",
}

#: The technical tags shown by default: nothing that identifies a patient.
METADATA_WHITELIST = (
    ("Modality", "Modality"),
    ("Manufacturer", "Manufacturer"),
    ("ManufacturerModelName", "Model"),
    ("KVP", "kVp"),
    ("ConvolutionKernel", "Kernel"),
    ("SliceThickness", "Slice thickness (mm)"),
    ("PixelSpacing", "Pixel spacing (mm)"),
    ("Rows", "Rows"),
    ("Columns", "Columns"),
)

_MODALITY_NAMES = {
    "MR": "an MR image",
    "CR": "a computed radiograph (CR)",
    "DX": "a digital radiograph (DX)",
    "US": "an ultrasound image",
    "NM": "a nuclear medicine image",
    "PT": "a PET image",
    "OT": "a secondary capture (OT)",
    "SEG": "a segmentation",
    "RTDOSE": "an RT dose grid",
}


@dataclass(frozen=True)
class CTImage:
    """A CT slice or series in Hounsfield units.

    Attributes:
        hu: float32 array (slices, rows, cols) in HU (for non-CT modalities:
            the rescaled stored values, whatever their unit).
        spacing: (z, y, x) in mm. For a single slice z is the slice thickness.
        sop_instance_uids: one per slice, in slice order.
        z_positions: slice positions along the slice normal (mm), ascending: what orders
            the slices and gives their spacing.
        patient_z_mm: each slice's patient z (ImagePositionPatient[2], mm), in slice order;
            differs from ``z_positions`` for a tilted gantry or a normal pointing to the feet.
            Empty when unknown (see :attr:`slice_z_mm`).
        series_uid: SeriesInstanceUID ('' when absent).
        modality: the DICOM Modality ('CT', 'MR', ...).
        metadata: whitelisted technical tags, display name to text.
        skipped: (file name, reason) for files of the upload that were left out.
        inverted: True for MONOCHROME1 (high values display dark).
        position_xy_mm: patient-coordinate (x, y) of the first pixel's centre
            (ImagePositionPatient), for mapping world coordinates to pixels.
        pixel_spacing_known: False when no PixelSpacing could be read; ``spacing``
            then holds 1 mm as a placeholder and sizes are in pixels, not mm.
        slice_normal: unit normal of the slice plane in patient coordinates
            (x, y, z); (0, 0, 1) for axial slices and when ImageOrientationPatient is absent.
        notes: what a reader should know about how the upload was interpreted
            (missing rescale tags, uneven slice gaps), one sentence each.
    """

    hu: np.ndarray
    spacing: tuple[float, float, float]
    sop_instance_uids: tuple[str, ...]
    z_positions: tuple[float, ...]
    series_uid: str
    modality: str
    metadata: dict[str, str]
    skipped: tuple[tuple[str, str], ...] = ()
    inverted: bool = False
    position_xy_mm: tuple[float, float] = (0.0, 0.0)
    pixel_spacing_known: bool = True
    slice_normal: tuple[float, float, float] = (0.0, 0.0, 1.0)
    notes: tuple[str, ...] = ()
    patient_z_mm: tuple[float, ...] = ()
    _header: Dataset | None = field(default=None, repr=False, compare=False)

    @property
    def slice_z_mm(self) -> tuple[float, ...]:
        """Each slice's z in patient coordinates (mm) when the headers give it, else its position along the normal."""
        return self.patient_z_mm or self.z_positions

    @property
    def is_ct(self) -> bool:
        return self.modality == "CT"

    @property
    def n_slices(self) -> int:
        return int(self.hu.shape[0])

    def all_tags(self) -> list[dict[str, str]]:
        """Every non-pixel element of the first slice's header, for deliberate reveal.

        This includes patient-identifying tags: callers show it only after an
        explicit user action, and never log it.
        """
        if self._header is None:
            return []
        rows = []
        for elem in self._header.iterall():
            if elem.tag == 0x7FE00010 or elem.VR == "SQ":
                continue
            value = elem.repval if elem.VR in ("OB", "OW", "UN") else str(elem.value)
            rows.append({"tag": str(elem.tag), "name": elem.name, "value": value[:200]})
        return rows


@dataclass(frozen=True)
class _Slice:
    name: str
    header: Dataset
    raw: bytes
    force: bool

    @property
    def frames(self) -> int:
        return int(self.header.get("NumberOfFrames", 1) or 1)


# --------------------------------------------------------------------------- headers


def read_header(file: NamedBytes) -> Dataset:
    """Parse and validate one file's header without decoding pixels."""
    return _read_slice_header(file).header


def _read_slice_header(file: NamedBytes) -> _Slice:
    _refuse_inflation_bomb(file)
    header, force = _parse(file, stop_before_pixels=True)
    _validate_image_header(file.name, header)
    return _Slice(file.name, header, file.data, force)


def _parse(file: NamedBytes, *, stop_before_pixels: bool) -> tuple[Dataset, bool]:
    """dcmread with a fallback for files without a preamble/meta header."""
    for force in (False, True):
        try:
            with reader_warnings_silenced():
                ds = pydicom.dcmread(io.BytesIO(file.data), stop_before_pixels=stop_before_pixels, force=force)
                # Elements are parsed lazily; touch them now so broken bytes fail here.
                _ = [elem.value for elem in ds]
        except InvalidDicomError:
            continue
        except Exception as exc:  # pydicom raises many types on corrupt bytes
            raise InputError(f"{file.name} is a damaged DICOM file ({_short(exc)}).") from None
        if force and not _looks_like_dataset(ds):
            break
        return ds, force
    raise InputError(f"{file.name} is not a DICOM file. Upload a DICOM (.dcm) CT slice, a series, or a zip of one.")


def _looks_like_dataset(ds: Dataset) -> bool:
    # With force=True pydicom "parses" any bytes; demand the core image-or-object identity.
    return "SOPClassUID" in ds or ("Rows" in ds and "Columns" in ds)


def _refuse_inflation_bomb(file: NamedBytes) -> None:
    """Refuse a deflated dataset that would inflate past MAX_INFLATED_BYTES."""
    if file.data[128:132] != b"DICM" or DEFLATED_TS.encode() not in file.data[:4096]:
        return
    try:
        fp = io.BytesIO(file.data)
        fp.seek(132)
        pydicom.filereader._read_file_meta_info(fp)
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        inflated = inflater.decompress(file.data[fp.tell() :], MAX_INFLATED_BYTES + 1)
    except Exception as exc:
        raise InputError(f"{file.name}: its deflated (zip-compressed) dataset is damaged ({_short(exc)}).") from None
    if len(inflated) > MAX_INFLATED_BYTES:
        raise InputError(
            f"{file.name}: its deflated dataset would inflate past {MAX_INFLATED_BYTES // 2**20} MB; refused."
        )


def non_image_kind(header: Dataset) -> str | None:
    """A description such as 'a Structured Report (SR)' if the object carries no image."""
    sop = str(header.get("SOPClassUID", ""))
    for prefix, kind in _NON_IMAGE_SOP_PREFIXES.items():
        if sop.startswith(prefix):
            return kind
    if "Rows" not in header or "Columns" not in header:
        return "a DICOM object with no image (no Rows/Columns)"
    return None


def _validate_image_header(name: str, header: Dataset) -> None:
    kind = non_image_kind(header)
    if kind:
        raise InputError(f"{name} is {kind}, not an image. Upload CT image slices (.dcm).")
    rows, cols = _as_int(header, "Rows"), _as_int(header, "Columns")
    frames = _as_int(header, "NumberOfFrames", default=1) or 1
    if not (0 < rows <= MAX_SIDE and 0 < cols <= MAX_SIDE):
        raise InputError(f"{name} declares an image of {rows}×{cols} pixels; expected 1 to {MAX_SIDE} per side.")
    if not 0 < frames <= MAX_FRAMES:
        raise InputError(f"{name} declares {frames} frames; expected 1 to {MAX_FRAMES}.")
    photometric = str(header.get("PhotometricInterpretation", "MONOCHROME2")).strip()
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        raise InputError(
            f"{name} is a colour image ({photometric}); CT is greyscale. Upload a greyscale CT slice or series."
        )
    samples = _as_int(header, "SamplesPerPixel", default=1) or 1
    if samples != 1:
        raise InputError(
            f"{name} is a colour or multi-channel image ({samples} samples per pixel); CT is greyscale, one sample "
            "per pixel. Upload a greyscale CT slice or series."
        )
    bits = _as_int(header, "BitsAllocated", default=16)
    if bits not in (1, 8, 16, 32, 64):
        raise InputError(f"{name} declares {bits} bits per pixel; expected 8, 16 or 32.")
    declared = rows * cols * frames * max(bits, 8) // 8
    if declared > MAX_PIXEL_BYTES:
        raise InputError(
            f"{name} declares {declared / 2**20:.0f} MB of pixels, over the {MAX_PIXEL_BYTES // 2**20} MB limit."
        )
    if not header.get("ModalityLUTSequence"):
        _rescale_parameters(name, header, frames)  # refuses unusable slopes/intercepts before decoding


def _as_int(header: Dataset, keyword: str, default: int = 0) -> int:
    value = header.get(keyword, default)
    try:
        return int(value if value not in (None, "") else default)
    except (TypeError, ValueError):
        raise InputError(f"The header field {keyword} is not a number ({value!r}).") from None


# --------------------------------------------------------------------------- pixels


def _decode(item: _Slice) -> tuple[np.ndarray, Dataset]:
    """Full read and decode of one file: its stored values (frames, rows, cols), and its dataset."""
    ds, _ = _parse(NamedBytes(item.name, item.raw), stop_before_pixels=False)
    if "PixelData" not in ds:
        raise InputError(f"{item.name} holds no readable pixel data (the file may be truncated). Upload CT image slices.")
    _check_native_length(item.name, ds)
    try:
        with reader_warnings_silenced():
            stored = ds.pixel_array
    except Exception as exc:
        ts = _transfer_syntax(ds)
        raise InputError(
            f"{item.name}: the pixel data could not be decoded ({ts.name if ts else 'unknown transfer syntax'}: "
            f"{_short(exc)}). The file may be truncated or use an unsupported compression."
        ) from None
    frames, rows, cols = item.frames, int(ds.Rows), int(ds.Columns)
    try:
        return stored.reshape(frames, rows, cols), ds
    except ValueError:
        raise InputError(
            f"{item.name}: its pixel data decode to {stored.size:,} values of shape {stored.shape}, not the "
            f"{frames}×{rows}×{cols} its header declares. The file is damaged; export it again."
        ) from None


def _transfer_syntax(ds: Dataset) -> UID | None:
    meta = getattr(ds, "file_meta", None)
    uid = meta.get("TransferSyntaxUID") if meta is not None else None
    return UID(uid) if uid else None


def _check_native_length(name: str, ds: Dataset) -> None:
    ts = _transfer_syntax(ds)
    if ts is not None and str(ts) not in _UNCOMPRESSED_TS:
        return  # encapsulated: the decoder checks the length
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    bits = int(ds.get("BitsAllocated", 16))
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    expected = int(ds.Rows) * int(ds.Columns) * frames * samples * bits // 8
    actual = len(ds.PixelData)
    if actual < expected:
        raise InputError(
            f"{name} is truncated: its header declares {expected:,} bytes of pixels "
            f"({int(ds.Rows)}×{int(ds.Columns)}×{frames} at {bits} bits) but the file holds {actual:,}."
        )


def _rescale_into(volume: np.ndarray, targets: Sequence[int], stored: np.ndarray, ds: Dataset, name: str) -> None:
    """Write each frame of ``stored`` in modality units (HU for CT) to ``volume[targets[i]]``.

    One frame at a time, in float64 like pydicom's ``apply_modality_lut``, so the
    only extra memory is one frame.
    """
    if ds.get("ModalityLUTSequence"):
        for target, frame in zip(targets, stored):
            try:
                with reader_warnings_silenced():
                    volume[target] = apply_modality_lut(frame, ds)
            except Exception as exc:  # a malformed LUT descriptor or data
                raise InputError(f"{name}: its Modality LUT cannot be applied ({_short(exc)}).") from None
        return
    slopes, intercepts = _rescale_parameters(name, ds, stored.shape[0])
    for target, frame, slope, intercept in zip(targets, stored, slopes, intercepts):
        volume[target] = frame * slope + intercept


def _rescale_parameters(name: str, ds: Dataset, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame (slopes, intercepts) as float64: the top-level tags, else the enhanced multi-frame
    functional groups, else 1 and 0 (stored values as they are)."""
    if _has_top_level_rescale(ds):
        slope, intercept = _rescale_pair(name, ds)
        return np.full(frames, slope), np.full(frames, intercept)
    per_frame = [_functional(ds, i, "PixelValueTransformationSequence") for i in range(frames)]
    pairs = [_rescale_pair(name, item) if item is not None else (1.0, 0.0) for item in per_frame]
    return np.array([p[0] for p in pairs], np.float64), np.array([p[1] for p in pairs], np.float64)


def _has_top_level_rescale(ds: Dataset) -> bool:
    """Whether the dataset itself gives a slope or intercept: blank top-level tags (a de-identification tool's)
    do not hide the enhanced multi-frame functional groups' values."""
    return not (_is_blank(ds.get("RescaleSlope")) and _is_blank(ds.get("RescaleIntercept")))


def _rescale_pair(name: str, ds: Dataset) -> tuple[float, float]:
    """(RescaleSlope, RescaleIntercept) of one dataset or functional group item, checked.

    An absent or EMPTY tag is taken as slope 1 / intercept 0, as pydicom users do
    for absent ones. The standard makes both tags type 1 (present and non-empty)
    for CT, but de-identification tools blank them, and an empty value carries no
    more information than a missing one: refusing it while loading a file that
    lacks the tags would be arbitrary. The load notes it instead
    (:func:`_missing_rescale_note`), so the reader checks that air reads -1000 HU.
    Values that cannot be right (not finite, zero, absurd) are refused by value.
    """
    slope = _rescale_value(name, ds, "RescaleSlope", 1.0)
    intercept = _rescale_value(name, ds, "RescaleIntercept", 0.0)
    if not MIN_ABS_RESCALE_SLOPE <= abs(slope) <= MAX_ABS_RESCALE:
        raise InputError(
            f"{name}: its RescaleSlope is {slope:g}; a usable slope lies between {MIN_ABS_RESCALE_SLOPE:g} and "
            f"{MAX_ABS_RESCALE:g} in magnitude (CT uses 1). The header is damaged; export the image again."
        )
    if abs(intercept) > MAX_ABS_RESCALE:
        raise InputError(
            f"{name}: its RescaleIntercept is {intercept:g}; a usable intercept is within ±{MAX_ABS_RESCALE:g} "
            "(CT uses about -1024). The header is damaged; export the image again."
        )
    return slope, intercept


def _rescale_value(name: str, ds: Dataset, keyword: str, default: float) -> float:
    value = ds.get(keyword)
    if _is_blank(value):
        return default
    if isinstance(value, MultiValue):
        raise InputError(f"{name}: its {keyword} holds several values ({', '.join(str(v) for v in value)}); it must be one number.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: its {keyword} is {value!r}, not a number. Export the image again.") from None
    if not math.isfinite(number):
        raise InputError(f"{name}: its {keyword} is {number}, not a finite number. Export the image again.")
    return number


def _is_blank(value: object) -> bool:
    """Whether a tag's value is absent or empty (pydicom reads an empty DS as None or '')."""
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, MultiValue) and len(value) == 0)


def _functional(ds: Dataset, frame: int, sequence: str) -> Dataset | None:
    """One item of a functional group macro, per-frame first, then shared."""
    for groups, index in (("PerFrameFunctionalGroupsSequence", frame), ("SharedFunctionalGroupsSequence", 0)):
        seq = ds.get(groups)
        inner = seq[index].get(sequence) if seq and len(seq) > index else None
        if inner:
            return inner[0]
    return None


# --------------------------------------------------------------------------- geometry


def _pixel_spacing(ds: Dataset) -> tuple[float, float] | None:
    """(row, col) pixel spacing in mm, or None when the header gives none usable."""
    spacing = ds.get("PixelSpacing") or ds.get("ImagerPixelSpacing")
    if spacing is None:
        measures = _functional(ds, 0, "PixelMeasuresSequence")
        spacing = getattr(measures, "PixelSpacing", None) if measures else None
    try:
        row_mm, col_mm = (float(v) for v in spacing)
    except (TypeError, ValueError):
        return None
    if not (row_mm > 0 and col_mm > 0 and np.isfinite(row_mm) and np.isfinite(col_mm)):
        return None
    return row_mm, col_mm


def _slice_thickness(ds: Dataset) -> float:
    for keyword in ("SpacingBetweenSlices", "SliceThickness"):
        try:
            value = float(ds.get(keyword) or 0)
        except (TypeError, ValueError):
            value = 0.0
        if value > 0:
            return value
    measures = _functional(ds, 0, "PixelMeasuresSequence")
    try:
        value = float(getattr(measures, "SliceThickness", 0) or 0)
    except (TypeError, ValueError):
        value = 0.0
    return value if value > 0 else 1.0


def _frame_ipps(ds: Dataset, frames: int) -> list[np.ndarray | None]:
    """Each frame's ImagePositionPatient (x, y, z) in mm; None where the header gives none."""
    found = []
    for i in range(frames):
        ipp = ds.get("ImagePositionPatient")
        if ipp is None:
            plane = _functional(ds, i, "PlanePositionSequence")
            ipp = getattr(plane, "ImagePositionPatient", None) if plane else None
        try:
            xyz = np.array([float(v) for v in ipp][:3])
            found.append(xyz if xyz.size == 3 and np.all(np.isfinite(xyz)) else None)
        except (TypeError, ValueError):
            found.append(None)
    return found


def _has_positions(item: _Slice) -> bool:
    return all(ipp is not None for ipp in _frame_ipps(item.header, item.frames))


def _positions_or_instance_order(ds: Dataset, frames: int, index: int) -> tuple[list[float], list[float], bool]:
    """Frame positions along the normal (mm), their patient z (mm), and whether they had to be taken from
    InstanceNumber × slice thickness (the header gives no ImagePositionPatient; then both are that guess)."""
    ipps = _frame_ipps(ds, frames)
    if all(ipp is not None for ipp in ipps):
        normal = _slice_normal(ds)
        return [float(np.dot(normal, ipp)) for ipp in ipps], [float(ipp[2]) for ipp in ipps], False
    try:
        instance = float(ds.get("InstanceNumber") or index)
    except (TypeError, ValueError):
        instance = float(index)
    step = _slice_thickness(ds)
    guessed = [(instance + i) * step for i in range(frames)]
    return guessed, guessed, True


def _position_xy(ds: Dataset) -> tuple[float, float]:
    ipp = ds.get("ImagePositionPatient")
    if ipp is None:
        plane = _functional(ds, 0, "PlanePositionSequence")
        ipp = getattr(plane, "ImagePositionPatient", None) if plane else None
    try:
        return float(ipp[0]), float(ipp[1])
    except (TypeError, ValueError, IndexError):
        return 0.0, 0.0


def _slice_normal(ds: Dataset) -> np.ndarray:
    cosines = _orientation(ds)
    if cosines is not None:
        normal = np.cross(cosines[:3], cosines[3:])
        if np.linalg.norm(normal) > 0.5:
            return normal / np.linalg.norm(normal)
    return np.array([0.0, 0.0, 1.0])


def _metadata(ds: Dataset, n_slices: int) -> dict[str, str]:
    meta = {}
    for keyword, label in METADATA_WHITELIST:
        value = ds.get(keyword)
        if value not in (None, ""):
            is_multi = isinstance(value, (list, tuple, MultiValue))
            meta[label] = ", ".join(_tag_text(v) for v in value) if is_multi else _tag_text(value)
    meta["Slices"] = str(n_slices)
    return meta


def _tag_text(value) -> str:
    """A tag value as a reader writes it: decimal strings as numbers ('2.5', not the stored '2.500000')."""
    if isinstance(value, (DSfloat, DSdecimal)):
        return f"{float(value):g}"
    return str(value)


# --------------------------------------------------------------------------- series


def load_ct(
    source: FileSource | Sequence[FileSource] | Mapping[str, bytes], *, require_ct: bool = True
) -> CTImage:
    """Read one CT slice or one series into HU.

    Args:
        source: a path (file, folder of one series, or zip), bytes, an uploaded
            file object, a list of those (the files of one series), or a
            mapping of file name to bytes.
        require_ct: refuse modalities other than CT (analysis needs CT). With
            ``False`` other greyscale images load for viewing.

    Returns:
        A :class:`CTImage` with slices ordered by position along the normal
        (ImagePositionPatient), not by file name.

    Raises:
        InputError: for anything unusable, with a message naming the problem.
    """
    files = expand_sources(source)
    slices, skipped = _headers_of_images(files)
    _check_one_series(slices)
    modality = str(slices[0].header.get("Modality", "")).strip().upper()
    if require_ct and modality != "CT":
        what = _MODALITY_NAMES.get(modality, f"a {modality or 'non-CT'} image")
        raise InputError(f"{slices[0].name} is {what}; the CT model needs CT. Upload a chest CT slice or series.")
    _check_series_size(slices)
    volume, uids, positions, patient_z, positions_guessed, datasets = _decode_series(slices)
    first = datasets[0][1]  # the first uploaded file's header: series-level tags
    pixel_spacing = _pixel_spacing(first)
    row_mm, col_mm = pixel_spacing or (1.0, 1.0)  # unknown: a placeholder; sizes are then in pixels
    z_mm = _z_spacing(positions, first)
    notes = [note for note in (_missing_spacing_note(pixel_spacing), _series_rescale_note(datasets, modality),
                               _guessed_positions_note(positions_guessed, len(positions), z_mm),
                               _uneven_gaps_note(positions)) if note]
    return CTImage(
        hu=volume,
        spacing=(z_mm, row_mm, col_mm),
        sop_instance_uids=tuple(uids),
        z_positions=tuple(positions),
        series_uid=str(first.get("SeriesInstanceUID", "")),
        modality=modality,
        metadata=_metadata(first, volume.shape[0]),
        skipped=tuple(skipped),
        inverted=str(first.get("PhotometricInterpretation", "")).strip() == "MONOCHROME1",
        position_xy_mm=_position_xy(first),
        pixel_spacing_known=pixel_spacing is not None,
        slice_normal=tuple(float(v) for v in _slice_normal(first)),
        notes=tuple(notes),
        patient_z_mm=tuple(patient_z),
        _header=first,
    )


def ct_array(source: FileSource | Sequence[FileSource] | Mapping[str, bytes]) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Plain arrays: ``(hu float32 (slices, rows, cols), spacing (z, y, x) mm)``."""
    image = load_ct(source)
    return image.hu, image.spacing


def _headers_of_images(files: list[NamedBytes]) -> tuple[list[_Slice], list[tuple[str, str]]]:
    """Validated headers. A lone bad file is an error; in a set, non-images are skipped."""
    if len(files) == 1:
        return [_read_slice_header(files[0])], []
    slices, skipped = [], []
    for file in files:
        try:
            slices.append(_read_slice_header(file))
        except InputError as exc:
            skipped.append((file.name, str(exc)))
    if not slices:
        reason = skipped[0][1] if skipped else "no files"
        raise InputError(f"None of the {len(files)} files is a usable DICOM image (first problem: {reason})")
    return slices, skipped


def _check_one_series(slices: list[_Slice]) -> None:
    series = {str(s.header.get("SeriesInstanceUID", "")) for s in slices}
    if len(series) > 1:
        raise InputError(
            f"The upload holds {len(series)} different series; upload the files of one series at a time."
        )
    shapes = {(int(s.header.Rows), int(s.header.Columns)) for s in slices}
    if len(shapes) > 1:
        raise InputError(f"The slices differ in size ({sorted(shapes)}); a series needs one slice size.")
    if len(slices) > 1 and any(s.frames > 1 for s in slices):
        raise InputError("Several multi-frame files were given; upload one multi-frame file or single-frame slices.")
    _check_same_geometry(slices)


#: Direction cosines (ImageOrientationPatient) further apart than this differ: a scanner writes
#: one orientation for a whole series, up to rounding in the last printed digits.
ORIENTATION_TOLERANCE = 1e-3
#: Relative difference of PixelSpacing that makes two slices' pixel sizes differ.
PIXEL_SPACING_TOLERANCE = 1e-3


def _check_same_geometry(slices: list[_Slice]) -> None:
    """Refuse slices that disagree on orientation, pixel spacing or whether they carry a position.

    Positions are projected on one slice normal, so a slice of another orientation would be
    ordered (and its z reported) on a meaningless scale; one pixel spacing scales every size.
    """
    first = slices[0]
    orientation, spacing = _orientation(first.header), _pixel_spacing(first.header)
    with_position = _has_positions(first)
    for item in slices[1:]:
        other = _orientation(item.header)
        if (other is None) != (orientation is None) or (
                other is not None and np.max(np.abs(other - orientation)) > ORIENTATION_TOLERANCE):
            raise InputError(
                f"{item.name} has another slice orientation (ImageOrientationPatient {_cosines(other)}) than "
                f"{first.name} ({_cosines(orientation)}); a series needs one orientation. Upload the slices of one "
                "series as the scanner exported them."
            )
        size = _pixel_spacing(item.header)
        if (size is None) != (spacing is None) or (
                size is not None and not np.allclose(size, spacing, rtol=PIXEL_SPACING_TOLERANCE, atol=0)):
            raise InputError(
                f"{item.name} has pixels of {_pixel_size(size)}, {first.name} of {_pixel_size(spacing)}; a series "
                "needs one pixel spacing. Upload the slices of one series as the scanner exported them."
            )
        if _has_positions(item) != with_position:
            lacking, carrying = (item, first) if with_position else (first, item)
            raise InputError(
                f"{lacking.name} carries no ImagePositionPatient while {carrying.name} does, so the slices cannot be "
                "put in order. Export the series again with every slice's position."
            )


def _orientation(ds: Dataset) -> np.ndarray | None:
    """ImageOrientationPatient (6 direction cosines), or None when the header gives none usable."""
    iop = ds.get("ImageOrientationPatient")
    if iop is None:
        orient = _functional(ds, 0, "PlaneOrientationSequence")
        iop = getattr(orient, "ImageOrientationPatient", None) if orient else None
    try:
        cosines = np.array([float(v) for v in iop][:6])
    except (TypeError, ValueError):
        return None
    return cosines if cosines.size == 6 and np.all(np.isfinite(cosines)) else None


def _cosines(orientation: np.ndarray | None) -> str:
    return "absent" if orientation is None else "[" + ", ".join(f"{v:g}" for v in np.round(orientation, 4)) + "]"


def _pixel_size(spacing: tuple[float, float] | None) -> str:
    return "unknown size (no PixelSpacing)" if spacing is None else f"{spacing[0]:g} × {spacing[1]:g} mm"


def _check_series_size(slices: list[_Slice]) -> None:
    """Refuse, from the headers alone, a series whose HU volume would pass MAX_SERIES_HU_BYTES."""
    frames = sum(s.frames for s in slices)
    rows, cols = int(slices[0].header.Rows), int(slices[0].header.Columns)  # one size: _check_one_series
    total = frames * rows * cols * HU_BYTES_PER_VOXEL
    if total > MAX_SERIES_HU_BYTES:
        raise InputError(
            f"The upload would decode to {total / 2**20:,.0f} MB of HU ({frames:,} slices of {rows}×{cols}), over "
            f"the {MAX_SERIES_HU_BYTES // 2**20:,} MB limit. Upload fewer slices (one series, or part of it)."
        )


def _decode_series(slices: list[_Slice]) -> tuple[np.ndarray, list[str], list[float], list[float], bool,
                                                 list[tuple[str, Dataset]]]:
    """(volume in position order, SOP UIDs, positions along the normal (mm), patient z (mm), whether positions
    were guessed, (name, dataset) of every file in upload order).

    The order comes from the headers, so each file's frames are decoded straight
    into their place in one preallocated volume (no concatenated or reordered copy).
    """
    positions, patient_z, guessed = [], [], False
    for index, item in enumerate(slices):
        found, z, from_instances = _positions_or_instance_order(item.header, item.frames, index)
        positions.extend(found)
        patient_z.extend(z)
        guessed = guessed or from_instances
    order = np.argsort(np.asarray(positions), kind="stable")
    sorted_positions = [positions[i] for i in order]
    if len(slices) > 1 and _has_duplicates(sorted_positions):
        where = "have the same InstanceNumber and no ImagePositionPatient" if guessed else "lie at the same position"
        raise InputError(f"Two slices of the series {where}; the upload holds duplicate slices.")
    place = np.empty_like(order)
    place[order] = np.arange(order.size)  # where each frame, in upload order, goes in the volume
    volume = np.empty((order.size, int(slices[0].header.Rows), int(slices[0].header.Columns)), np.float32)
    uids: list[str] = [""] * order.size
    start, datasets = 0, []
    for item in slices:
        stored, ds = _decode(item)
        datasets.append((item.name, ds))
        targets = place[start : start + item.frames]
        _rescale_into(volume, targets, stored, ds, item.name)
        for target in targets:
            uids[target] = str(ds.get("SOPInstanceUID", ""))
        start += item.frames
    return volume, uids, sorted_positions, [patient_z[i] for i in order], guessed, datasets


def _has_duplicates(sorted_positions: list[float]) -> bool:
    """Two slices closer than 1 % of the usual spacing (or 0.001 mm): the same slice twice, not a thin one."""
    gaps = np.diff(sorted_positions)
    if gaps.size == 0:
        return False
    usual = float(np.median(gaps[gaps > 0])) if np.any(gaps > 0) else 0.0
    return bool(np.any(gaps <= max(1e-3, 0.01 * usual)))


def _z_spacing(positions: list[float], ds: Dataset) -> float:
    if len(positions) < 2:
        return _slice_thickness(ds)
    gaps = np.diff(positions)
    gaps = gaps[gaps > 0]
    return float(np.median(gaps)) if gaps.size else _slice_thickness(ds)


#: A gap between neighbouring slices this many times the usual one means slices are missing.
UNEVEN_GAP_RATIO = 1.5


def _missing_spacing_note(pixel_spacing: tuple[float, float] | None) -> str | None:
    if pixel_spacing is not None:
        return None
    return ("The header gives no usable PixelSpacing, so the physical scale is unknown: the image is shown in pixels "
            "and nothing is measured in mm.")


def _series_rescale_note(datasets: list[tuple[str, Dataset]], modality: str) -> str | None:
    """The missing-rescale note of the series: every file is checked, because one slice read as stored values
    sits about 1024 HU off its neighbours; when only some files lack the tags, it says how many and names one."""
    lacking = [(name, note) for name, ds in datasets if (note := _missing_rescale_note(ds, modality))]
    if not lacking:
        return None
    name, note = lacking[0]
    if len(lacking) == len(datasets):
        return note
    return (f"{len(lacking)} of the {len(datasets)} files (e.g. {name}): {note} The other files give their rescale, "
            "so these slices may differ from their neighbours by about 1024 HU.")


def _missing_rescale_note(ds: Dataset, modality: str) -> str | None:
    """CT stores HU through RescaleSlope/Intercept (required tags); without them stored values may not be HU."""
    if modality != "CT" or ds.get("ModalityLUTSequence"):
        return None
    top_level = "RescaleSlope" in ds or "RescaleIntercept" in ds
    if not _has_top_level_rescale(ds) and _functional(ds, 0, "PixelValueTransformationSequence") is not None:
        return None
    blank = [keyword for keyword in ("RescaleSlope", "RescaleIntercept") if _is_blank(ds.get(keyword))]
    if not blank:
        return None
    check = "if air does not read about −1000 HU, the file was stripped of them: export it again from the scanner or PACS."
    if not top_level:
        return f"The header has no RescaleSlope/RescaleIntercept, so the stored pixel values are taken as HU as they are; {check}"
    taken = {"RescaleSlope": "the slope is taken as 1", "RescaleIntercept": "the intercept is taken as 0"}
    return (f"The header's {' and '.join(blank)} {'is' if len(blank) == 1 else 'are'} missing or empty "
            f"(de-identification tools sometimes blank them), so {' and '.join(taken[k] for k in blank)}; {check}")


def _guessed_positions_note(guessed: bool, n_slices: int, step_mm: float) -> str | None:
    if not guessed or n_slices < 2:
        return None
    return ("The slices carry no ImagePositionPatient: they are ordered by InstanceNumber and placed "
            f"{step_mm:g} mm apart (their slice thickness), which may not be their true spacing.")


def _uneven_gaps_note(positions: list[float]) -> str | None:
    """A sentence naming the widest gap when it is well beyond the usual slice spacing (missing slices)."""
    if len(positions) < 3:
        return None
    gaps = np.diff(positions)
    usual = float(np.median(gaps))
    widest = int(np.argmax(gaps))
    if usual <= 0 or gaps[widest] <= UNEVEN_GAP_RATIO * usual:
        return None
    return (f"The slices are unevenly spaced: {gaps[widest]:.1f} mm between slices {widest + 1} and {widest + 2}, "
            f"where the usual spacing is {usual:.2f} mm. Slices may be missing from the upload.")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
