"""Train the class-conditional GANs: ``python -m medmodels.train gan-ct`` / ``gan-ecg`` (seeded).

Writes ``assets/models/gan-<modality>/``: the raw and the EMA generator
weights, and ``card.json`` (data, shapes, scaling, settings, sha256, command).
Unless ``--skip-evaluation``, it then chooses raw vs EMA weights by the
Fréchet distance to the *training* data (never the held-out data) and writes
the quality measures on held-out data into the card (:mod:`medmodels.gan.quality`).

Training needs only Keras and NumPy: ``--data FILE.npz`` (written by
:func:`medmodels.gan.data.cached`) lets it run where the raw data readers are
not installed (the GPU machine, JAX backend).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

import numpy as np

from medmodels.gan import STATEMENT
from medmodels.gan.data import CT_CLASSES, ECG_CLASSES
from medmodels.gan.generate import HU_RANGE, MODEL_DIRS, WEIGHT_FILES, ecg_scaling, ecg_to_scaled, hu_to_scaled
from medmodels.gan.models import CONFIGS, CT_LATENT, ECG_LATENT, TrainConfig
from medmodels.model_cards import sha256_of

SEEDS = {"ct": 20260501, "ecg": 20260502}
STEPS = {"ct": 20000, "ecg": 15000}
#: Settings used for the committed weights (see CONFIGS).
CONFIG = {"ct": "ttur", "ecg": "dcgan"}
#: Display titles for the cards (the page headings); "name" stays the identifier.
GAN_TITLES = {"ct": "Synthetic CT patch GAN (nodule / no nodule)", "ecg": "Synthetic ECG beat GAN (N, S, V, F)"}
BATCH_SIZE = 64


def augment_ct(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random 90° rotation of the batch and a left-right flip of half of it (nodules have no orientation)."""
    out = np.rot90(batch, int(rng.integers(4)), axes=(1, 2))
    flip = rng.random(len(out)) < 0.5
    out = np.where(flip[:, None, None, None], out[:, :, ::-1], out)
    return np.ascontiguousarray(out, dtype=np.float32)


def train_gan(gan, real: list[np.ndarray], labels: np.ndarray, n_classes: int, latent: int, steps: int, seed: int,
              augment=None, batch_size: int = BATCH_SIZE, log_every: int = 1000) -> list[dict]:
    """Run ``steps`` adversarial steps with class-balanced batches drawn from ``real`` (scaled arrays).

    Classes are drawn uniformly for real and fake samples alike, so rare classes
    (S and F beats) get as many updates as common ones.  Returns the loss log.
    """
    rng = np.random.default_rng(seed)
    pools = [np.flatnonzero(labels == c) for c in range(n_classes)]
    history, started = [], time.time()
    running = np.zeros(2)
    for step in range(1, steps + 1):
        y = rng.integers(n_classes, size=batch_size)
        index = np.empty(batch_size, dtype=np.int64)
        for c in range(n_classes):
            chosen = y == c
            index[chosen] = rng.choice(pools[c], int(chosen.sum()))
        batch = [r[index] for r in real]
        if augment is not None:
            batch[0] = augment(batch[0], rng)
        z_d, z_g = (rng.standard_normal((batch_size, latent)).astype(np.float32) for _ in range(2))
        y_d, y_g = (rng.integers(n_classes, size=batch_size).astype(np.int32) for _ in range(2))
        logs = gan.train_step((batch, y.astype(np.int32), z_d, y_d, z_g, y_g))
        running += (logs["d_loss"], logs["g_loss"])
        if step % log_every == 0 or step == steps:
            n = log_every if step % log_every == 0 else step % log_every
            entry = {"step": step, "d_loss": round(running[0] / n, 4), "g_loss": round(running[1] / n, 4),
                     "seconds": round(time.time() - started, 1)}
            history.append(entry)
            print(f"  step {step}/{steps}: d_loss {entry['d_loss']:.3f} g_loss {entry['g_loss']:.3f} "
                  f"({entry['seconds']:.0f} s)", flush=True)
            running[:] = 0
    gan.sync_weights()
    return history


def build_gan(modality: str, shape: dict | None, seed: int, config: TrainConfig = TrainConfig()):
    import keras

    from medmodels.gan.models import (build_ct_discriminator, build_ct_generator, build_ecg_discriminator,
                                      build_ecg_generator, make_gan_class)

    keras.utils.set_random_seed(seed)
    if modality == "ct":
        g, ema = build_ct_generator(seed=seed), build_ct_generator(seed=seed, name="ct_generator_ema")
        d = build_ct_discriminator(seed=seed + 100)
    else:
        dims = (shape["length"], shape["channels"], shape["n_rr"])
        g, ema = build_ecg_generator(*dims, seed=seed), build_ecg_generator(*dims, seed=seed, name="ecg_generator_ema")
        d = build_ecg_discriminator(*dims, seed=seed + 100)
    return make_gan_class()(g, d, ema, config)


def training_arrays(modality: str, data_file: Path | None = None) -> dict[str, np.ndarray]:
    """The GAN's training arrays in their stored form, from ``data_file`` or the data folder.

    CT: ``levels`` uint8 (n, 64, 64), HU_RANGE in 256 levels (6.3 HU steps, well below CT
    noise), and ``labels``; ECG: ``waveform`` and ``rr`` as float16, and ``labels``.  Training
    always goes through this form, so a run from the data folder and one from a prepared
    file see identical numbers.
    """
    if data_file is not None:
        with np.load(Path(data_file)) as f:
            return {k: f[k] for k in f.files}
    from medmodels.gan import data

    train_split, _ = data.cached(modality)
    if modality == "ct":
        levels = np.round((hu_to_scaled(train_split.patches) + 1.0) * 127.5).astype(np.uint8)
        return {"levels": levels, "labels": train_split.labels}
    return {"waveform": train_split.waveform.astype(np.float16), "rr": train_split.rr.astype(np.float16),
            "labels": train_split.labels}


def save_training_file(modality: str, path: Path) -> None:
    """Write the training arrays for a machine without the raw data or its readers."""
    np.savez_compressed(path, **training_arrays(modality))


def train(modality: str, out_dir: Path, steps: int, seed: int, data_file: Path | None = None,
          config_name: str | None = None) -> dict:
    """Train one GAN and write both weight variants and the training part of the card."""
    import keras

    started = time.time()
    arrays = training_arrays(modality, data_file)
    labels = arrays["labels"].astype(np.int64)
    config_name = config_name or CONFIG[modality]
    config = CONFIGS[config_name]
    if modality == "ct":
        real = [(arrays["levels"].astype(np.float32) / 127.5 - 1.0)[..., None]]
        n_classes, latent, shape, scaling = len(CT_CLASSES), CT_LATENT, None, None
        augment = augment_ct
    else:
        waveform, rr = arrays["waveform"].astype(np.float32), arrays["rr"].astype(np.float32)
        scaling = ecg_scaling(waveform, rr)
        real = list(ecg_to_scaled(waveform, rr, scaling))
        n_classes, latent, augment = len(ECG_CLASSES), ECG_LATENT, None
        shape = {"length": int(real[0].shape[1]), "channels": int(real[0].shape[2]), "n_rr": int(real[1].shape[1])}
    print(f"gan-{modality}: {len(labels)} training samples, per class {np.bincount(labels).tolist()}, "
          f"backend {keras.backend.backend()}", flush=True)
    gan = build_gan(modality, shape, seed, config)
    history = train_gan(gan, real, labels, n_classes, latent, steps, seed, augment)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    gan.generator.save_weights(str(out_dir / WEIGHT_FILES["raw"]))
    gan.ema_generator.save_weights(str(out_dir / WEIGHT_FILES["ema"]))
    card = training_card(modality, out_dir, shape, scaling, np.bincount(labels, minlength=n_classes), steps, seed,
                         config, history, time.time() - started, keras.backend.backend())
    card["training"]["config"] = config_name
    (out_dir / "card.json").write_text(json.dumps(card, indent=1) + "\n")
    print(f"wrote {out_dir} in {time.time() - started:.0f} s", flush=True)
    return card


def training_card(modality, out_dir, shape, scaling, counts, steps, seed, config, history, seconds, backend) -> dict:
    classes = CT_CLASSES if modality == "ct" else ECG_CLASSES
    card = {
        "name": f"gan-{modality}",
        "title": GAN_TITLES[modality],
        "version": "0.1.0",
        "date": date.today().isoformat(),
        "intended_use": STATEMENT,
        "classes": list(classes),
        "latent": CT_LATENT if modality == "ct" else ECG_LATENT,
        "weights": {"variant": "ema", **{k: {"file": f, "sha256": sha256_of(Path(out_dir) / f)} for k, f in WEIGHT_FILES.items()}},
        "command": f"python -m medmodels.train gan-{modality}",
        "training": {"seed": seed, "steps": steps, "batch_size": BATCH_SIZE, "class_balanced_batches": True,
                     "loss": "hinge", "optimizer": f"Adam lr G {config.g_learning_rate:g} / D {config.d_learning_rate:g}, "
                     f"betas ({config.beta_1}, {config.beta_2})", "ema_decay": config.ema_decay,
                     "spectral_norm": False, "backend": backend, "seconds": round(seconds, 1),
                     "loss_log": history, "samples_per_class": dict(zip(classes, counts.tolist()))},
    }
    if modality == "ct":
        card.update({
            "task": "synthetic 64×64 axial CT patches at 0.7 mm (HU): lung with a nodule vs lung without",
            "architecture": "conditional DCGAN-style generator (dense 4×4×128, 4 × [up-sample, 3×3 conv, LeakyReLU, "
                            "pixel norm] 128-48-24-8, tanh), projection discriminator (4 strided 4×4 convs 32-256)",
            "output": {"hu_range": list(HU_RANGE), "pixel_mm": 0.7, "patch": 64},
            "training_data": {
                "summary": "fold A of the CT nodule detector's training data: LIDC-IDRI-0001 patches (candidate false "
                           "alarms and random parenchyma = no nodule; native nodules and training patients' nodule "
                           "crops blended into its lung = nodule), flips and 90° rotations",
                "licence": "LIDC-IDRI CC BY 3.0; LUNA16 annotations CC BY 4.0"},
            "held_out_data": {"summary": "LIDC-IDRI-0003 (its false candidates and random lung; held-out patients' "
                                         "crops blended into it): never seen in training"},
        })
    else:
        from medmodels.ecg.mitdb import TRAIN, VALIDATION

        from medmodels.gan.data import committed_beat_spec

        spec = committed_beat_spec()
        card.update({
            "task": "synthetic single ECG beats (the beat classifier's input window and RR context) for AAMI N, S, V, F",
            "architecture": "conditional 1-D generator (shared dense trunk; waveform: dense + 3 × [up-sample, conv 5, "
                            "LeakyReLU, pixel norm]; RR head: dense), projection discriminator (strided conv 1-D + RR dense)",
            "shape": shape, "scaling": scaling,
            "input": {**spec.to_card(), "units": "channel 0 mV; channel 1 (beat − record median beat) / its peak-to-peak",
                      "lead": "MLII"},
            "training_data": {"summary": ecg_records_summary("training", TRAIN) + ", reference beats",
                              "records": list(TRAIN), "licence": "MIT-BIH Arrhythmia Database, ODC-By 1.0"},
            "held_out_data": {"summary": ecg_records_summary("validation", VALIDATION)
                                  + ": other patients, never seen in training",
                              "records": list(VALIDATION)},
        })
    return card


def add_arguments(parser: argparse.ArgumentParser, modality: str | None = None) -> None:
    if modality is None:
        parser.add_argument("modality", choices=("ct", "ecg"))
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: the committed model)")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--config", choices=sorted(CONFIGS), default=None, help="optimiser settings (default: committed)")
    parser.add_argument("--data", type=Path, default=None, help="prepared arrays (.npz) instead of the data folder")
    parser.add_argument("--skip-evaluation", action="store_true", help="train only; no weight choice or quality measures")
    if modality is not None:
        parser.set_defaults(modality=modality)


def run(args: argparse.Namespace) -> int:
    modality = args.modality
    out = args.out or MODEL_DIRS[modality]
    train(modality, out, args.steps or STEPS[modality], SEEDS[modality] if args.seed is None else args.seed, args.data,
          args.config)
    if not args.skip_evaluation:
        from medmodels.gan.quality import finish

        finish(modality, out)
    return 0


def ct_arguments(parser):
    add_arguments(parser, "ct")


def ecg_arguments(parser):
    add_arguments(parser, "ecg")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m medmodels.gan.train", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())


def ecg_records_summary(split: str, records) -> str:
    """A card's readable data summary, e.g. "MIT-BIH DS1, 6 validation records (101, 106, …)": the split's
    records by number, not the name of the constant that holds them."""
    return f"MIT-BIH DS1, {len(records)} {split} records ({', '.join(records)})"
