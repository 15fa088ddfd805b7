"""Evaluation entry point: ``python -m medmodels.evaluate {ecg,ct} [options]``.

Each model family keeps its evaluation code in its own module; this file only lists them.
"""

from __future__ import annotations

import sys

from medmodels.subcommands import dispatch


def commands():
    from medmodels import ct_evaluate
    from medmodels.ecg import evaluate as ecg_evaluate

    return [
        ("ecg", "DS2 beat classification, QRS detection on 48 records, sample records",
         ecg_evaluate.add_arguments, ecg_evaluate.main),
        ("ct", "CT detector on held-out series, malignancy on the test split", ct_evaluate.add_arguments, ct_evaluate.run),
    ]


def main(argv: list[str] | None = None) -> int:
    return dispatch("python -m medmodels.evaluate", __doc__.splitlines()[0], commands(), argv)


if __name__ == "__main__":
    sys.exit(main())
