"""The ``ecg`` command writes one JSON per record with the documented schema."""

import json

import numpy as np

from medmodels.ecg import AAMI_CLASSES
from medmodels.ecg.agreement import match_beats
from medmodels.ecg.cli import main


def test_cli_json_schema(mitdb, classifier, tmp_path, capsys):
    assert main(["ecg", str(mitdb / "119"), "--json", str(tmp_path)]) == 0
    # 119 is a DS1 record: as on the page, the command says its results are not held out
    assert "119: note: Record 119 is one of the 22 MIT-BIH records (DS1)" in capsys.readouterr().err
    out = json.loads((tmp_path / "119.json").read_text())
    assert out["fs"] == 360.0
    assert (out["lead"], out["second_lead"]) == ("MLII", "V1")
    assert set(out) >= {"fs", "lead", "second_lead", "beats", "summary", "model"}
    assert out["model"]["name"] == "ecg-beat-classifier-two-lead"  # the record has V1: the two-lead classifier
    assert len(out["model"]["sha256"]) == 64
    assert out["model"]["networks"] == 6 and out["model"]["leads"] == 2  # 3 two-lead + 3 single-lead networks
    beats = out["beats"]
    assert beats  # every beat below is checked (their count and places: the next test)
    for beat in beats:
        assert isinstance(beat["sample"], int)
        assert abs(beat["time_s"] - beat["sample"] / out["fs"]) < 1e-3
        assert beat["label"] in AAMI_CLASSES
        assert set(beat["prob"]) == set(AAMI_CLASSES)
        assert abs(sum(beat["prob"].values()) - 1.0) < 1e-3
        assert beat["label"] == max(beat["prob"], key=beat["prob"].get)
        assert isinstance(beat["networks_agreeing"], int) and 0 <= beat["networks_agreeing"] <= out["model"]["networks"]
        assert beat["cut_at_record_edge"] is (beat["sample"] < 0.1 * out["fs"]
                                              or beat["sample"] > 650_000 - 1 - 0.1 * out["fs"])
        if beat["cut_at_record_edge"]:
            assert beat["label"] == "Q" and beat["prob"]["Q"] == 1.0
    summary = out["summary"]
    assert summary["beats_cut_at_record_edge"] == sum(b["cut_at_record_edge"] for b in beats)
    assert summary["n_beats"] == len(beats) == sum(summary["class_counts"].values())
    assert summary["class_counts"] == {c: sum(b["label"] == c for b in beats) for c in AAMI_CLASSES}


def test_cli_beats_of_119_match_the_reference_in_place_and_class(mitdb, classifier, record_119, tmp_path):
    """The JSON's samples are where the reference beats are (record's own rate) and the V beats are called V."""
    _, fs, ref_samples, ref_labels = record_119  # reference R peaks, re-located on the QRS band as detections are
    assert main(["ecg", str(mitdb / "119"), "--json", str(tmp_path)]) == 0
    beats = json.loads((tmp_path / "119.json").read_text())["beats"]
    samples = np.array([b["sample"] for b in beats])
    labels = np.array([b["label"] for b in beats])
    matches = match_beats(ref_samples, samples, fs, window_s=0.15)
    found = matches >= 0
    assert found.mean() >= 0.995  # measured: all 1,987 reference beats matched
    assert abs(len(beats) - len(ref_samples)) <= 0.005 * len(ref_samples)  # 1,988 detected
    # the 150 ms window alone would accept beats 100 ms off: the samples must sit on the reference R peaks
    offsets_ms = 1000 * np.abs(samples[matches[found]] - ref_samples[found]) / fs
    assert np.mean(offsets_ms <= 10) >= 0.95  # measured: median 0, 99th percentile 1 sample
    is_v = ref_labels == AAMI_CLASSES.index("V")
    v_matched = matches[is_v & found]
    assert is_v.sum() > 400  # 444 reference V beats (ventricular bigeminy)
    assert np.sum(labels[v_matched] == "V") >= 0.8 * is_v.sum()  # measured: all 444


def test_cli_other_lead(mitdb, classifier, tmp_path, capsys):
    assert main(["ecg", str(mitdb / "100"), "--json", str(tmp_path), "--lead", "V5"]) == 0
    assert json.loads((tmp_path / "100.json").read_text())["lead"] == "V5"
    err = capsys.readouterr().err
    assert "100: note: Record 100 is in MIT-BIH DS2" in err
    assert "100: note: The beat classifier was trained and tested on lead MLII" in err and "lead V5 was not" in err


def test_cli_bad_record_is_reported_and_others_still_written(mitdb, classifier, tmp_path, capsys):
    junk = tmp_path / "junk"
    (tmp_path / "junk.hea").write_text("this is not a WFDB header\n")
    out = tmp_path / "out"
    assert main(["ecg", str(junk), str(mitdb / "119"), "--json", str(out)]) == 1
    assert "junk" in capsys.readouterr().err
    assert (out / "119.json").is_file() and not (out / "junk.json").exists()


def test_several_records_print_no_retracing_warning(tmp_path):
    """Each network traces twice (first batch size, then any); TensorFlow's warning about it is dropped.

    A fresh process, as a user runs it: three 10-s PTB-XL records of different beat counts (the old code printed
    "... triggered tf.function retracing" twice for them). Other output is unchanged: one line per JSON written.
    """
    import os
    import subprocess
    import sys
    from pathlib import Path

    from data_paths import require_data

    samples = require_data("ecg", "samples", "ptbxl")
    records = [str(samples / name) for name in ("00841_hr", "02132_hr", "17583_hr")]
    repository = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "medmodels", "ecg", *records, "--json", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, cwd=repository, env=dict(os.environ))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "retracing" not in done.stderr
    assert sorted(p.name for p in tmp_path.glob("*.json")) == ["00841_hr.json", "02132_hr.json", "17583_hr.json"]


def test_the_retracing_filter_drops_only_that_message():
    import logging

    from medmodels.backend_logs import quiet_expected_retracing

    quiet_expected_retracing()
    quiet_expected_retracing()  # idempotent: one filter
    logger = logging.getLogger("tensorflow")
    assert sum(type(f).__name__ == "_ExpectedRetracing" for f in logger.filters) == 1
    retrace = logger.makeRecord("tensorflow", logging.WARNING, __file__, 1,
                                "5 out of the last 5 calls to %s triggered tf.function retracing.", ("f",), None)
    other = logger.makeRecord("tensorflow", logging.WARNING, __file__, 1, "something else", (), None)
    assert not logger.filter(retrace) and logger.filter(other)
