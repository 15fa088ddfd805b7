"""`python -m medmodels`: `info` prints what the loaders understood (exit 1 on bad input); output folders are checked first."""

import subprocess
import sys

import pytest

from medmodels.__main__ import main


def test_info_describes_a_ct_slice_and_an_ecg_record(ct_small, mitdb, capsys):
    assert main(["info", str(ct_small), str(mitdb / "100")]) == 0
    out = capsys.readouterr().out
    assert "CT image: 1 slice(s) of 128×128" in out and "0.661468" in out
    assert "650000 samples × 2 leads (MLII, V5), fs 360 Hz" in out and "2274 reference annotations" in out


def test_info_exits_1_with_the_message_on_bad_input(tmp_path, capsys):
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom at all" * 10)
    assert main(["info", str(junk)]) == 1
    assert "not a DICOM file" in capsys.readouterr().err


def test_module_entry_point_runs(ct_small):
    done = subprocess.run([sys.executable, "-m", "medmodels", "info", str(ct_small)], capture_output=True, text=True)
    assert done.returncode == 0 and "CT image" in done.stdout


@pytest.mark.parametrize("command", [
    ["ct", "CT_PATH", "--json"], ["ct", "--crop", "CT_PATH", "--json"], ["ecg", "RECORD", "--json"],
    ["gan", "ct", "--n", "2", "--out"],
])
@pytest.mark.parametrize("where, words", [
    ("file", "is a file, not a folder: give a folder to write into"),
    ("file/below", "cannot be made: {file} is a file, not a folder"),
])
def test_an_output_folder_that_cannot_be_a_folder_is_refused_before_any_work(command, where, words, tmp_path, capsys):
    taken = tmp_path / "file"
    taken.write_text("someone's file")
    args = [a.replace("CT_PATH", str(tmp_path / "slice.dcm")).replace("RECORD", str(tmp_path / "100")) for a in command]
    with pytest.raises(SystemExit) as exit_:
        main([*args, str(tmp_path / where)])
    assert exit_.value.code == 2  # argparse's usage error: nothing was loaded or written
    assert words.format(file=taken) in capsys.readouterr().err
    assert taken.read_text() == "someone's file" and sorted(p.name for p in tmp_path.iterdir()) == ["file"]
