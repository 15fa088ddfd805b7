"""``python -m medmodels gan {ct,ecg} --n N --seed S [--cls CLASS] --out DIR``: synthetic samples as files."""

from __future__ import annotations

import argparse
import sys

from medmodels.cli_args import output_folder
from medmodels.errors import InputError


def add_gan_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("gan", help="write SYNTHETIC CT patches (PNG + NPZ) or ECG beats (WFDB + CSV)")
    parser.add_argument("modality", choices=("ct", "ecg"))
    parser.add_argument("--n", type=int, default=16, help="number of samples (1–1024)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cls", default=None, help="one class (CT: 'nodule' or 'no nodule'; ECG: N, S, V, F); "
                                                     "default an even mix")
    parser.add_argument("--out", type=output_folder, required=True, help="output folder")
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from medmodels.gan.export import write_samples
    from medmodels.gan.generate import check_count, check_seed, load_generator

    try:
        check_count(args.n)
        check_seed(args.seed)
        generator = load_generator(args.modality)
        samples = generator.sample(args.n, args.seed, args.cls)
    except (InputError, FileNotFoundError) as exc:
        print(f"gan {args.modality}: {exc}", file=sys.stderr)
        return 1
    r_index = generator.card.get("input", {}).get("before_samples")
    paths = write_samples(samples, args.out, r_index)
    counts = {c: int((samples.labels == k).sum()) for k, c in enumerate(samples.classes)}
    print(f"wrote {len(paths)} SYNTHETIC files for {len(samples)} {args.modality} samples {counts} to {args.out}")
    return 0
