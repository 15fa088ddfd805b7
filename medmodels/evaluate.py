"""Evaluation entry point: ``python -m medmodels.evaluate {ecg,ct} [options]``.

Each model family registers a sub-command (``ecg`` now; ``ct`` can be added
the same way).
"""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m medmodels.evaluate", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="model", required=True)
    from medmodels.ecg import evaluate as ecg_evaluate

    ecg = sub.add_parser("ecg", help="DS2 beat classification, QRS detection on 48 records, sample records")
    ecg_evaluate.add_arguments(ecg)
    ecg.set_defaults(run=ecg_evaluate.main)

    from medmodels import ct_evaluate

    ct = sub.add_parser("ct", help="CT detector on held-out series, malignancy on the test split")
    ct_evaluate.add_arguments(ct)
    ct.set_defaults(run=ct_evaluate.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
