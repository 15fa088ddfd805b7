"""``crops_to_json``: one entry per file; bad files get an InputError message, the batch goes on."""

from __future__ import annotations

import json

from medmodels.ct.cli import crops_to_json, main


def test_crops_to_json_one_entry_per_file(malignancy_model, real_crop_rows, tmp_path):
    files = list(real_crop_rows["path"].iloc[:3])
    path, notes = crops_to_json(files, tmp_path / "out")
    entries = json.loads(path.read_text())
    assert path.name == "crops.json" and [e["file"] for e in entries] == files
    assert all(set(e) == {"file", "malignancy_prob"} and 0.0 <= e["malignancy_prob"] <= 1.0 for e in entries)
    # the fixture's crops come from the test split's patients, and each is said to be held out
    assert [n.split(": note: ")[0] for n in notes] == files
    assert all("held-out test split" in n for n in notes)


def test_a_training_patients_crop_is_flagged(malignancy_model, tmp_path, capsys):
    from data_paths import require_data
    from medmodels.ct.crops import load_crop_table, patient_split

    table = load_crop_table(require_data("ct", "lidc_crops"))
    trained = table["path"].iloc[patient_split(table).train[0]]
    assert main(["--crop", trained, "--json", str(tmp_path)]) == 0
    assert f"{trained}: note: This patient's reader-outlined nodules were in the malignancy model's training split" \
        in capsys.readouterr().err


def test_bad_file_gets_error_message_and_exit_status(malignancy_model, real_crop_rows, tmp_path):
    bad = tmp_path / "not_dicom.dcm"
    bad.write_bytes(b"this is not a DICOM file")
    good = real_crop_rows["path"].iloc[0]
    status = main(["--crop", str(bad), good, "--json", str(tmp_path)])
    entries = json.loads((tmp_path / "crops.json").read_text())
    assert status == 1 and len(entries) == 2
    assert entries[0]["malignancy_prob"] is None and entries[0]["error"]
    assert 0.0 <= entries[1]["malignancy_prob"] <= 1.0


def test_a_batch_of_refused_files_loads_no_model(tmp_path, capsys, monkeypatch):
    import medmodels.ct.malignancy

    def must_not_load(*args, **kwargs):
        raise AssertionError("the malignancy model was loaded for files that were all refused")

    monkeypatch.setattr(medmodels.ct.malignancy, "load_model", must_not_load)
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom at all" * 10)
    assert main(["--crop", str(junk), "--json", str(tmp_path / "out")]) == 1
    entries = json.loads((tmp_path / "out" / "crops.json").read_text())
    assert entries == [{"file": str(junk), "malignancy_prob": None, "error": entries[0]["error"]}]
    assert "not a DICOM file" in entries[0]["error"] and "not a DICOM file" in capsys.readouterr().err
