"""Evaluation entry point: ``python -m medmodels.evaluate {ecg,ct,gan,gan-augment} [options]``.

Each model family keeps its evaluation code in its own module; this file only lists them.
"""

from __future__ import annotations

import sys

from medmodels.subcommands import dispatch


def commands():
    from medmodels import ct_evaluate
    from medmodels.ecg import evaluate as ecg_evaluate
    from medmodels.gan import augment as gan_augment
    from medmodels.gan import quality as gan_quality

    return [
        ("ecg", "DS2 beat classification, QRS detection on 48 records, sample records",
         ecg_evaluate.add_arguments, ecg_evaluate.main),
        ("ct", "CT detector on held-out series, malignancy on the test split", ct_evaluate.add_arguments, ct_evaluate.run),
        ("gan", "synthetic-sample quality (FID, precision/recall, memorisation, TSTR) from the card or recomputed",
         gan_quality.add_arguments, gan_quality.main),
        ("gan-augment", "does adding synthetic samples help the ECG classifier / CT detector? (slow)",
         gan_augment.add_arguments, gan_augment.main),
    ]


def main(argv: list[str] | None = None) -> int:
    return dispatch("python -m medmodels.evaluate", __doc__.splitlines()[0], commands(), argv)


if __name__ == "__main__":
    sys.exit(main())
