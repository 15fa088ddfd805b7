"""``python -m medmodels gan``: byte-identical files for a seed, every file labelled SYNTHETIC."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(*args) -> subprocess.CompletedProcess:
    """The CLI in a fresh process (what a user runs)."""
    return subprocess.run([sys.executable, "-m", "medmodels", "gan", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def _main(*args) -> int:
    """The same CLI in this process (faster: the models are already loaded)."""
    from medmodels.__main__ import main

    return main(["gan", *map(str, args)])


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("modality, cls", [("ct", None), ("ecg", "V")])
def test_same_seed_gives_byte_identical_synthetic_files(tmp_path, modality, cls, ct_generator, ecg_generator):
    extra = ["--cls", cls] if cls else []
    result = _run(modality, "--n", 4, "--seed", 9, *extra, "--out", tmp_path / "a")
    assert result.returncode == 0, result.stderr
    assert _main(modality, "--n", 4, "--seed", 9, *extra, "--out", tmp_path / "b") == 0
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a == b and len(a) >= 5  # another process, same bytes
    assert all(name.startswith("SYNTHETIC_") for name in a)
    assert _main(modality, "--n", 4, "--seed", 10, *extra, "--out", tmp_path / "c") == 0
    assert _files(tmp_path / "c") != a


def test_ct_files_say_synthetic_inside(tmp_path, ct_generator):
    from PIL import Image

    assert _main("ct", "--n", 2, "--seed", 1, "--out", tmp_path) == 0
    png = next(tmp_path.glob("*.png"))
    assert "SYNTHETIC" in Image.open(png).text["Description"]
    with np.load(next(tmp_path.glob("*.npz"))) as f:
        assert bool(f["synthetic"]) and "SYNTHETIC" in str(f["note"])
        assert f["hu"].shape == (2, 64, 64) and -1100 < f["hu"].min() and f["hu"].max() < 700


def test_ecg_files_are_readable_wfdb_and_csv_marked_synthetic(tmp_path, ecg_generator):
    import wfdb

    assert _main("ecg", "--n", 2, "--seed", 1, "--cls", "S", "--out", tmp_path) == 0
    header = next(tmp_path.glob("*.hea"))
    record = wfdb.rdrecord(str(header.with_suffix("")))
    assert any("SYNTHETIC" in c for c in record.comments) and record.units == ["mV"]
    annotation = wfdb.rdann(str(header.with_suffix("")), "atr")
    assert annotation.symbol == ["A"]  # S beat written as an atrial premature beat
    csv = next(tmp_path.glob("*.csv")).read_text()
    assert csv.startswith("# SYNTHETIC") and csv.count("\n1,SYNTHETIC,S,") == 1


def test_bad_requests_exit_1_with_a_message(tmp_path, capsys, ct_generator, ecg_generator):
    assert _main("ct", "--n", 0, "--out", tmp_path) == 1
    assert "Number of samples" in capsys.readouterr().err
    assert _main("ecg", "--n", 2, "--cls", "Q", "--out", tmp_path) == 1
    assert "Unknown class" in capsys.readouterr().err
    assert _main("ct", "--n", 2, "--seed", -1, "--out", tmp_path) == 1  # numpy would raise a bare ValueError
    assert "Seed must be an integer from 0 to 2147483647, not -1" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
