"""Training entry point: ``python -m medmodels.train {ecg,ct-detector,ct-malignancy} [options]``.

Each model family registers a sub-command here (``ecg`` now; ``ct`` can be
added the same way), so training code stays in its own package.
"""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m medmodels.train", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="model", required=True)
    from medmodels.ecg import train as ecg_train

    ecg = sub.add_parser("ecg", help="train the ECG beat classifier on MIT-BIH DS1")
    ecg_train.add_arguments(ecg)
    ecg.set_defaults(run=ecg_train.main)

    from medmodels import ct_detector_train
    from medmodels.ct import malignancy_train

    detector = sub.add_parser("ct-detector", help="train the CT nodule detector (two held-out-series folds + final)")
    ct_detector_train.add_arguments(detector)
    detector.set_defaults(run=ct_detector_train.run)
    malignancy = sub.add_parser("ct-malignancy", help="train the CT nodule malignancy CNN on LIDC crops")
    malignancy_train.add_arguments(malignancy)
    malignancy.set_defaults(run=malignancy_train.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
