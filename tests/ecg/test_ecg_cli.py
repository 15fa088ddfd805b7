"""The ``ecg`` command writes one JSON per record with the documented schema."""

import json

from medmodels.ecg import AAMI_CLASSES
from medmodels.ecg.cli import main


def test_cli_json_schema(mitdb, classifier, tmp_path, capsys):
    assert main(["ecg", str(mitdb / "119"), "--json", str(tmp_path)]) == 0
    # 119 is a DS1 record: as on the page, the command says its results are not held out
    assert "119: note: Record 119 is one of the 22 MIT-BIH records (DS1)" in capsys.readouterr().err
    out = json.loads((tmp_path / "119.json").read_text())
    assert out["fs"] == 360.0
    assert out["lead"] == "MLII"
    assert set(out) >= {"fs", "lead", "beats", "summary", "model"}
    assert out["model"]["name"] == "ecg-beat-classifier"
    assert len(out["model"]["sha256"]) == 64
    beats = out["beats"]
    assert 1900 < len(beats) < 2100  # 1,987 reference beats
    for beat in beats[:50]:
        assert isinstance(beat["sample"], int)
        assert abs(beat["time_s"] - beat["sample"] / 360.0) < 1e-3
        assert beat["label"] in AAMI_CLASSES
        assert set(beat["prob"]) == set(AAMI_CLASSES)
        assert abs(sum(beat["prob"].values()) - 1.0) < 1e-3
        assert beat["label"] == max(beat["prob"], key=beat["prob"].get)
    assert out["summary"]["n_beats"] == len(beats)


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
