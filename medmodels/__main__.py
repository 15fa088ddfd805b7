"""Command line: ``python -m medmodels {info,ecg,ct,gan} ...`` (see ``--help``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import InputError


def _looks_like_wfdb(path: Path) -> Path | None:
    """The record base (path without extension) if ``path`` names a WFDB record."""
    base = path.with_suffix("") if path.suffix.lower() in (".hea", ".dat", ".atr") else path
    return base if base.parent.joinpath(f"{base.name}.hea").is_file() else None


def describe(path: Path) -> str:
    """One line describing what the loader understood of ``path`` (raises InputError)."""
    from .dicom_io import load_ct
    from .wfdb_io import load_ecg

    record_base = _looks_like_wfdb(path)
    if record_base is not None:
        record = load_ecg(record_base)
        annotations = f", {len(record.annotations.sample)} reference annotations" if record.annotations else ""
        return (
            f"{path}: ECG record {record.name}: {record.n_samples} samples × {record.n_leads} leads "
            f"({', '.join(record.lead_names)}), fs {record.fs:g} Hz, {record.duration_s:.1f} s, mV{annotations}"
        )
    image = load_ct(path, require_ct=False)
    z, y, x = image.spacing
    kind = "CT" if image.is_ct else f"{image.modality or 'non-CT'} (viewing only, not CT)"
    in_plane = f"{y:g} × {x:g}" if image.pixel_spacing_known else "unknown × unknown"
    return (
        f"{path}: {kind} image: {image.hu.shape[0]} slice(s) of {image.hu.shape[1]}×{image.hu.shape[2]}, "
        f"spacing (z, y, x) {z:g} × {in_plane} mm, values {float(image.hu.min()):.0f} to {float(image.hu.max()):.0f}"
        + "".join(f"\n  note: {note}" for note in image.notes)
    )


def _info(args: argparse.Namespace) -> int:
    status = 0
    for name in args.files:
        try:
            print(describe(Path(name)))
        except InputError as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            status = 1
    return status


def _run_ecg(args: argparse.Namespace) -> int:
    from .ecg.cli import run

    return run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m medmodels", description="Clinical DL review dashboard tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    info = commands.add_parser("info", help="print what the loaders understand of DICOM files/folders or WFDB records")
    info.add_argument("files", nargs="+", help="DICOM file, folder of one series, zip, or WFDB record (path without extension)")
    info.set_defaults(handler=_info)
    from .ct_cli import add_ct_parser
    from .ecg.cli import add_ecg_parser
    from .gan.cli import add_gan_parser

    add_ecg_parser(commands).set_defaults(handler=_run_ecg)
    add_ct_parser(commands)
    add_gan_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
