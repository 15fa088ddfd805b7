"""`python -m medmodels info` prints what the loaders understood, exit 1 on bad input."""

import subprocess
import sys

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
