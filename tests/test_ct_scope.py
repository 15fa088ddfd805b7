"""Which CT images the nodule analysis runs on: known, plausible pixel spacing and field of view."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from medmodels import CTImage
from medmodels.ct_scope import (
    MAX_FIELD_MM, MAX_MATRIX, MAX_TILT_DEG, PIXEL_SPACING_RANGE_MM, acquisition, analysis_refusal, plane_name,
    tilt_from_axial_deg, untested_acquisition_note,
)


def _slice(side: int = 512, pixel_mm: float = 0.703125, **changes) -> CTImage:
    image = CTImage(hu=np.zeros((1, side, side), np.float32), spacing=(2.5, pixel_mm, pixel_mm),
                    sop_instance_uids=("1",), z_positions=(0.0,), series_uid="1.2", modality="CT", metadata={})
    return replace(image, **changes)


def test_a_standard_chest_ct_slice_is_analysed():
    assert analysis_refusal(_slice()) is None
    assert analysis_refusal(_slice(128, 0.66)) is None  # pydicom's CT_small: small, but a plausible scale


def test_unknown_pixel_spacing_is_refused_with_the_missing_tag_named():
    reason = analysis_refusal(_slice(pixel_spacing_known=False))
    assert "no PixelSpacing tag" in reason and "sizes in mm" in reason


@pytest.mark.parametrize("pixel_mm", [0.01, 10.0])
def test_implausible_pixel_spacing_is_refused_naming_the_value(pixel_mm):
    reason = analysis_refusal(_slice(64, pixel_mm))
    assert f"{pixel_mm:g} × {pixel_mm:g} mm" in reason and "PixelSpacing" in reason


def test_spacing_limits_are_inclusive():
    low, high = PIXEL_SPACING_RANGE_MM
    assert analysis_refusal(_slice(64, low)) is None and analysis_refusal(_slice(64, high)) is None
    assert analysis_refusal(_slice(64, high * 1.01)) is not None


def test_a_field_wider_than_any_scanner_reconstructs_is_refused():
    side = 1024
    at_limit = MAX_FIELD_MM / side
    assert analysis_refusal(_slice(side, at_limit)) is None
    reason = analysis_refusal(_slice(side, at_limit * 1.02))
    assert "816 × 816 mm" in reason and "1024 × 1024 pixels" in reason


def test_a_matrix_beyond_the_limit_is_refused_even_at_a_plausible_field():
    reason = analysis_refusal(_slice(MAX_MATRIX + 2, 0.1))
    assert f"{MAX_MATRIX + 2} × {MAX_MATRIX + 2} pixels" in reason


@pytest.mark.parametrize(("normal", "plane"), [((0.0, 1.0, 0.0), "coronal"), ((1.0, 0.0, 0.0), "sagittal"),
                                               ((0.0, 0.7071, 0.7071), "oblique")])
def test_slices_that_are_not_axial_are_refused_naming_their_plane(normal, plane):
    reason = analysis_refusal(_slice(slice_normal=normal))
    assert f"these are {plane} slices" in reason and "axial slices only" in reason


def test_gantry_tilt_within_the_limit_is_still_analysed():
    tilt = np.radians(MAX_TILT_DEG - 5)
    assert analysis_refusal(_slice(slice_normal=(0.0, np.sin(tilt), np.cos(tilt)))) is None
    assert tilt_from_axial_deg((0.0, np.sin(tilt), -np.cos(tilt))) == pytest.approx(MAX_TILT_DEG - 5)  # feet-first
    assert plane_name((0.0, 0.0, -1.0)) == "axial"


TESTED_CARD = {"test_data": {"acquisition": {
    "A": {"manufacturer": "GE MEDICAL SYSTEMS", "kernel": "STANDARD", "slice_thickness_mm": 2.5, "kvp": 120.0},
    "B": {"manufacturer": "GE MEDICAL SYSTEMS", "kernel": "STANDARD", "slice_thickness_mm": 2.5, "kvp": 120.0}}}}


def _acquired(**tags) -> CTImage:
    return _slice(metadata={"Manufacturer": "GE MEDICAL SYSTEMS", "Kernel": "STANDARD", "Slice thickness (mm)": "2.5",
                            "kVp": "120", **tags})


def test_an_image_acquired_like_the_tested_series_gets_no_note():
    assert untested_acquisition_note(_acquired(), TESTED_CARD) is None
    assert untested_acquisition_note(_acquired(Manufacturer="ge medical systems "), TESTED_CARD) is None
    assert untested_acquisition_note(_acquired(**{"Slice thickness (mm)": "3.0"}), TESTED_CARD) is None  # within 1.2x
    assert untested_acquisition_note(_acquired(Manufacturer="SIEMENS"), {}) is None  # a card without the record


def test_an_image_acquired_differently_names_every_difference_and_the_tested_acquisition():
    note = untested_acquisition_note(_acquired(Manufacturer="SIEMENS", Kernel="B70f", **{"Slice thickness (mm)": "1"}),
                                     TESTED_CARD)
    assert "held-out test used 2 series" in note
    assert "scanner maker GE MEDICAL SYSTEMS, kernel STANDARD, slices 2.5 mm thick" in note
    assert "differs in scanner maker (SIEMENS), reconstruction kernel (B70f), slice thickness (1 mm)" in note


def test_tags_the_upload_lacks_are_not_counted_as_differences():
    assert untested_acquisition_note(_slice(metadata={}), TESTED_CARD) is None
    assert acquisition(_slice(metadata={"Slice thickness (mm)": "n/a"}))["slice_thickness_mm"] is None


def test_the_committed_detector_card_records_how_its_test_series_were_acquired():
    from data_paths import require_data
    from medmodels import load_ct
    from medmodels.ct_detector import read_detector_card
    from medmodels.ct_lidc import lidc_series

    require_data("ct", "lidc", "LIDC-IDRI-0001")
    recorded = read_detector_card()["test_data"]["acquisition"]
    series = lidc_series()
    assert set(recorded) == set(series)
    for patient, files in series.items():
        image = load_ct(files)
        assert recorded[patient] == acquisition(image)
        assert untested_acquisition_note(image, read_detector_card()) is None
