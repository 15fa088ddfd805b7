"""The committed nodule detector: finds 0001's nodule, batched = unbatched, Grad-CAM sanity, CLI schema."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from scipy.stats import spearmanr

from medmodels import load_ct
from medmodels.ct.gradcam import grad_cam
from medmodels.ct_detector import CAM_LAYER, build_detector, load_detector, patch_channels, score_series, score_slice
from medmodels.ct_lidc import lidc_series, luna16_nodules, reference_nodules


@pytest.fixture(scope="module")
def detector():
    return load_detector()


@pytest.fixture(scope="module")
def series_0001():
    from data_paths import require_data

    require_data("ct", "lidc", "LIDC-IDRI-0001")
    return load_ct(lidc_series()["LIDC-IDRI-0001"])


def test_detector_ranks_the_native_nodule_of_0001_first_on_its_slice(detector, series_0001):
    # 0001 is a training series of the committed model: this guards the pipeline end to end;
    # the held-out-series figures are in the model card (python -m medmodels.evaluate ct).
    (nodule,) = luna16_nodules(series_0001.series_uid)
    k = nodule.central_slice(series_0001)
    row, col = nodule.pixel(series_0001)
    scored = score_slice(series_0001.hu[k], series_0001.spacing[1:], detector)
    # rank 1: the most probable candidate lies within the nodule's radius of the LUNA16 centre
    # (measured: p 0.724, 3.4 mm off centre; the nodule is 23.4 mm across)
    distance_mm = np.hypot(scored.rows[0] - row, scored.cols[0] - col) * series_0001.spacing[1]
    assert distance_mm < nodule.diameter_mm / 2
    assert scored.probabilities[0] > 0.5


def test_batched_series_scoring_equals_slice_by_slice(detector, series_0001):
    import threading

    hu = series_0001.hu[60:63]
    reported = []  # slices are prepared side by side; progress still comes in order, in this thread
    batched = score_series(hu, series_0001.spacing[1:], detector,
                           progress=lambda done, total: reported.append((done, total, threading.get_ident())))
    assert reported == [(k, 3, threading.get_ident()) for k in (1, 2, 3)]
    assert len(batched) == len(hu) == 3  # one result per slice, not only the first
    for k, result in enumerate(batched):
        single = score_slice(hu[k], series_0001.spacing[1:], detector)
        np.testing.assert_array_equal(result.lung, single.lung)
        assert len(result.probabilities) == len(single.probabilities) > 0
        np.testing.assert_allclose(result.probabilities, single.probabilities, atol=1e-5)
        np.testing.assert_allclose(result.rows, single.rows)
        np.testing.assert_allclose(result.cols, single.cols)
        np.testing.assert_allclose(result.diameters_mm, single.diameters_mm)


def test_grad_cam_changes_when_weights_are_randomised_and_never_mutates(detector, series_0001):
    scored = score_slice(series_0001.hu[90], series_0001.spacing[1:], detector)
    x = patch_channels(scored.patches[:20])
    before = [w.copy() for w in detector.keras_model.get_weights()]
    trained = grad_cam(detector.keras_model, x, CAM_LAYER, 0)
    import keras

    # The output layer's initialiser draws from Keras' global generator (as in training, which seeds it
    # first): seed it here too, or the randomised model depends on what earlier tests drew.
    keras.utils.set_random_seed(12345)
    randomised = build_detector(seed=12345)  # a fresh clone with re-initialised weights
    random_maps = grad_cam(randomised, x, CAM_LAYER, 0)
    correlations = [spearmanr(a.ravel(), b.ravel())[0] for a, b in zip(trained, random_maps)
                    if a.std() > 0 and b.std() > 0]
    assert len(correlations) >= 10  # most pairs of maps have structure to compare
    assert np.mean(correlations) < 0.5
    for w0, w1 in zip(before, detector.keras_model.get_weights()):
        np.testing.assert_array_equal(w0, w1)
    # An all-zero input gives the committed detector a CAM below grad_cam's FLAT_EPS (measured), and grad_cam
    # documents a flat map as all zeros: exactly zeros, not NaN and not a uniform map of ones.
    flat = grad_cam(detector.keras_model, np.zeros((1, 64, 64, 2), np.float32), CAM_LAYER, 0)
    np.testing.assert_array_equal(flat, np.zeros((1, 64, 64), np.float32))


def _slices_around_the_nodule(files, n: int = 5) -> list:
    """The ``n`` consecutive slice files of 0001 centred on its LUNA16 nodule's central slice (names do not follow z)."""
    import pydicom

    headers = {f: pydicom.dcmread(f, stop_before_pixels=True) for f in files}
    (nodule,) = reference_nodules(headers[files[0]].SeriesInstanceUID)
    ordered = sorted(files, key=lambda f: float(headers[f].ImagePositionPatient[2]))
    centre = min(range(len(ordered)), key=lambda i: abs(float(headers[ordered[i]].ImagePositionPatient[2]) - nodule.z_mm))
    return ordered[centre - n // 2:centre + n // 2 + 1]


def test_ct_cli_writes_the_documented_schema(tmp_path, capsys):
    import shutil

    import pydicom
    from data_paths import require_data
    from medmodels.__main__ import main
    from medmodels.ct_detector import DETECTOR_DIR
    from medmodels.model_cards import sha256_of

    require_data("ct", "lidc", "LIDC-IDRI-0001")
    series = tmp_path / "series"
    series.mkdir()
    for f in _slices_around_the_nodule(lidc_series()["LIDC-IDRI-0001"]):
        shutil.copy(f, series / f.name)
    out = tmp_path / "out"
    assert main(["ct", str(series), "--json", str(out)]) == 0
    (written,) = out.glob("*.json")
    result = json.loads(written.read_text(), parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))
    assert set(result) == {"series_uid", "spacing_mm", "slices", "models", "notes"}
    # 0001 trained the final detector: as on the page, the fold model that held it out scores it, and says so
    assert len(result["spacing_mm"]) == 3 and result["models"][0] == {
        "name": "ct-nodule-detector (fold-B)", "sha256": sha256_of(DETECTOR_DIR / "folds" / "fold-B.weights.h5")}
    err = capsys.readouterr().err
    assert "note: This series (LIDC-IDRI-0001) is one of the two the final nodule detector was trained on" in err
    assert "note: This patient's reader-outlined nodules are in the malignancy model's held-out test split" in err
    assert "held-out test used 2 series acquired differently" not in err  # it is one of them
    assert [line for line in err.splitlines() if ": note: " in line] == [
        f"{series}: note: {note}" for note in result["notes"]] and len(result["notes"]) == 2  # the same, in the JSON

    # one entry per file, each at its own file's z, in z order
    z_of_file = {}
    for f in series.iterdir():
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        z_of_file[ds.SOPInstanceUID] = float(ds.ImagePositionPatient[2])
    slices = result["slices"]
    assert len(slices) == len(z_of_file) == 5
    assert {s["sop_uid"] for s in slices} == set(z_of_file)
    for slice_ in slices:
        assert slice_["z_mm"] == pytest.approx(z_of_file[slice_["sop_uid"]], abs=1e-3)
    assert [s["z_mm"] for s in slices] == sorted(s["z_mm"] for s in slices)
    for slice_ in slices:
        assert set(slice_) == {"sop_uid", "z_mm", "max_prob", "candidates"}
        candidates = slice_["candidates"]
        assert candidates, f"no candidates listed on the nodule's slice at z {slice_['z_mm']}"  # it crosses all 5
        probs = [c["nodule_prob"] for c in candidates]
        assert probs == sorted(probs, reverse=True)  # most probable first
        assert slice_["max_prob"] == pytest.approx(max(probs), abs=1e-4)
        for cand in candidates:
            assert set(cand) == {"row", "col", "diameter_mm", "nodule_prob", "malignancy_prob"}
            assert 0 <= cand["row"] < 512 and 0 <= cand["col"] < 512 and 0 <= cand["nodule_prob"] <= 1
            assert cand["malignancy_prob"] is None or 0 <= cand["malignancy_prob"] <= 1

    # on the central slice a candidate sits on the reference nodule: rows/cols are the original slice's pixels
    image = load_ct(series)
    (nodule,) = reference_nodules(image.series_uid)
    row, col = nodule.pixel(image)
    central = min(slices, key=lambda s: abs(s["z_mm"] - nodule.z_mm))
    assert central["sop_uid"] == image.sop_instance_uids[nodule.central_slice(image)]
    distance_mm = min(np.hypot(c["row"] - row, c["col"] - col) for c in central["candidates"]) * image.spacing[1]
    assert distance_mm < nodule.diameter_mm / 2
    assert len(central["candidates"]) == 10  # the nodule's slice: the schema of real candidates is checked
    # tiny spots too small to score for malignancy are null, the nodule (23.4 mm) is scored
    assert any(c["malignancy_prob"] is None for c in central["candidates"])
    assert max(c["diameter_mm"] for c in central["candidates"] if c["malignancy_prob"] is not None) > 10
    assert main(["ct", str(tmp_path / "missing.dcm"), "--json", str(out)]) == 1


def test_ct_cli_refuses_a_slice_of_unknown_scale_with_the_reason(ct_small, tmp_path, capsys):
    import pydicom
    from medmodels.__main__ import main

    ds = pydicom.dcmread(ct_small)
    del ds.PixelSpacing
    ds.save_as(tmp_path / "no_spacing.dcm", enforce_file_format=True)
    assert main(["ct", str(tmp_path / "no_spacing.dcm"), "--json", str(tmp_path / "out")]) == 1
    assert "no PixelSpacing tag" in capsys.readouterr().err
    assert not list((tmp_path / "out").glob("*.json"))


def test_ct_cli_refuses_inputs_before_loading_any_model(tmp_path, capsys, monkeypatch):
    # Models load only for an input that passed its checks: a batch of wrong files is answered at once.
    import medmodels.ct.malignancy
    import medmodels.ct_detector
    from medmodels.__main__ import main

    def must_not_load(*args, **kwargs):
        raise AssertionError("a model was loaded for inputs that were all refused")

    monkeypatch.setattr(medmodels.ct.malignancy, "load_model", must_not_load)
    monkeypatch.setattr(medmodels.ct_detector, "load_chosen_detector", must_not_load)
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom at all" * 10)
    assert main(["ct", str(junk), str(tmp_path / "missing.dcm"), "--json", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "junk.dcm is not a DICOM file" in err and "missing.dcm" in err


def test_ct_cli_notes_an_acquisition_unlike_the_tested_series(ct_small, tmp_path, capsys):
    from medmodels.__main__ import main

    assert main(["ct", str(ct_small), "--json", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "note: The detector's held-out test used 2 series acquired differently" in err
    assert "This image differs in slice thickness (5 mm)" in err


def test_ct_cli_writes_how_the_upload_was_read_into_the_json(ct_small, tmp_path, capsys):
    import shutil

    from medmodels.__main__ import main

    folder = tmp_path / "series"
    folder.mkdir()
    shutil.copy(ct_small, folder / "a.dcm")
    (folder / "README.txt").write_text("exported by the PACS")
    assert main(["ct", str(folder), "--json", str(tmp_path / "out")]) == 0
    (written,) = (tmp_path / "out").glob("*.json")
    notes = json.loads(written.read_text())["notes"]
    assert any(note.startswith("README.txt was left out: README.txt is not a DICOM file") for note in notes)
    assert any("This image differs in slice thickness (5 mm)" in note for note in notes)
    err = capsys.readouterr().err
    assert all(f"note: {note}" in err for note in notes)


def test_chunked_logits_are_the_mean_over_views_of_every_patch(detector, series_0001):
    # logits go through in chunks (a chunk's channels and views made just before its call): every patch,
    # the last partial chunk included, gets the mean of its own 8 views, whatever the batch size
    from medmodels.ct_detector import dihedral_views

    patches = score_slice(series_0001.hu[90], series_0001.spacing[1:], detector).patches[:11]
    views = np.asarray(detector.keras_model.predict_on_batch(dihedral_views(patch_channels(patches))))[:, 0]
    expected = views.reshape(8, len(patches)).mean(axis=0)
    assert len(detector.members) == 0  # the committed detector is one network; members would be averaged too
    for batch_size in (1, 24, 64, 8 * len(patches)):  # 1 view-set per call, 3 (remainder 2), 8, all at once
        np.testing.assert_allclose(detector.logits(patches, batch_size=batch_size), expected, atol=1e-5)
    single = replace(detector, tta=False)
    np.testing.assert_allclose(single.logits(patches, batch_size=4), views[: len(patches)], atol=1e-5)
    assert detector.logits(patches[:0]).shape == (0,)


def test_test_time_averaging_makes_scores_orientation_invariant(detector, series_0001):
    # the 8 dihedral views are averaged, so a rotated or mirrored patch gets the same probability
    scored = score_slice(series_0001.hu[90], series_0001.spacing[1:], detector)
    patches = scored.patches[:16]
    turned = np.rot90(patches[:, ::-1], 1, axes=(1, 2))
    np.testing.assert_allclose(detector.probabilities(turned), detector.probabilities(patches), atol=1e-5)
    single = replace(detector, tta=False)
    assert not np.allclose(single.probabilities(turned), single.probabilities(patches), atol=1e-5)


def test_sessions_scoring_at_once_on_the_shared_detector_get_what_each_would_alone(detector, series_0001):
    """Streamlit sessions share the one cached detector, each in its own thread.

    Four threads that switch often score eight slices of 0001 (each twice) and
    take Grad-CAM of each slice's top three candidates; every result must equal
    the same call made alone.
    """
    from concurrency import map_in_threads_switching_often

    spacing = series_0001.spacing[1:]

    def score(k):
        scored = score_slice(series_0001.hu[k], spacing, detector)
        return scored.probabilities, grad_cam(detector.keras_model, patch_channels(scored.patches[:3]), CAM_LAYER, 0)

    slices = [40, 55, 70, 80, 90, 95, 100, 110] * 2
    together = map_in_threads_switching_often(score, slices)
    alone = [score(k) for k in slices]
    assert sum(len(p) for p, _ in alone) > 100
    for (p_t, cam_t), (p_a, cam_a) in zip(together, alone):
        np.testing.assert_allclose(p_t, p_a, rtol=0, atol=1e-6)
        np.testing.assert_allclose(cam_t, cam_a, rtol=0, atol=1e-5)
