"""Training entry point: ``python -m medmodels.train {ecg,ct-detector,ct-malignancy,gan-ct,gan-ecg} [options]``.

Each model family keeps its training code in its own module; this file only lists them.
"""

from __future__ import annotations

import sys

from medmodels.subcommands import dispatch


def commands():
    from medmodels import ct_detector_train
    from medmodels.ct import malignancy_train
    from medmodels.ecg import train as ecg_train
    from medmodels.gan import train as gan_train

    return [
        ("ecg", "train the ECG beat classifier on MIT-BIH DS1", ecg_train.add_arguments, ecg_train.main),
        ("ct-detector", "train the CT nodule detector (two held-out-series folds + final)",
         ct_detector_train.add_arguments, ct_detector_train.run),
        ("ct-malignancy", "train the CT nodule malignancy CNN on LIDC crops",
         malignancy_train.add_arguments, malignancy_train.run),
        ("gan-ct", "train the conditional GAN for synthetic CT nodule patches", gan_train.ct_arguments, gan_train.run),
        ("gan-ecg", "train the conditional GAN for synthetic ECG beats", gan_train.ecg_arguments, gan_train.run),
    ]


def main(argv: list[str] | None = None) -> int:
    return dispatch("python -m medmodels.train", __doc__.splitlines()[0], commands(), argv)


if __name__ == "__main__":
    sys.exit(main())
