"""Train the beat classifier on MIT-BIH DS1 (seeded) and write weights and model card.

``python -m medmodels.train ecg`` runs :func:`main`.  Model selection is by
patient-level cross-validation inside DS1 (:data:`medmodels.ecg.mitdb.CV_FOLDS`):
each fold's records are predicted by a model trained on the other folds, the
epoch count with the best pooled out-of-fold S/V F1 is chosen, the temperature
is fitted on those out-of-fold logits, and the final model is trained on all
of DS1 for that many epochs.  The committed classifier is an ensemble of
:data:`MEMBERS` such models (seeds ``SEED``, ``SEED + 1``, …): the cross-validation
is run for each seed and the epoch count, offsets and temperature are chosen on
the members' mean out-of-fold logits, the logits the product computes.  DS2 is
never read here.  Two classifiers are trained alike: the single-lead one (MLII)
and the two-lead one (MLII and the record's precordial lead, V1 in most DS1
records; :data:`medmodels.ecg.beats.TWO_LEAD_SPEC`); ``--leads`` picks one.  The two-lead classifier
holds the single-lead recipe's networks too (:func:`recipes_for`), so ``--leads 2`` trains both recipes.
"""

from __future__ import annotations

import argparse
import json
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

from medmodels.ecg import AAMI_CLASSES
from medmodels.ecg.agreement import class_metrics, confusion_matrix
from medmodels.ecg.beats import DEFAULT_SPEC, BeatSpec
from medmodels.ecg.calibration import expected_calibration_error, fit_class_offsets, fit_temperature
from medmodels.ecg.mitdb import CV_FOLDS, DS1, beats_to_model_rate, condition_lead, reference_beats, second_lead
from medmodels.model_cards import member_files, member_paths, sha256_of
from medmodels.ecg.model import (AF_IRREGULARITY_THRESHOLD, MODEL_NAME, TWO_LEAD_MODEL_NAME, WEIGHTS_FILE,
                                 beat_inputs, build_beat_classifier, decide, irregular_rhythm, model_dir_for,
                                 softmax_np)

SEED = 20240603
#: Cross-validation epochs; the out-of-fold score chooses among them (the committed ensemble: epoch 2, the card's
#: validation_split.best_epoch).
EPOCHS = 10
#: Ensemble size.  Chosen in DS1 cross-validation (pooled out-of-fold S/V F1 per epoch, three seeds): one
#: network's best-epoch score was 66.2, 68.6 and 74.0 for three seeds of one recipe; the three networks'
#: mean logit scored 72.7 at its best epoch and beat the single networks' mean at each of the 10 epochs
#: (66.2 against 62.7 averaged over epochs; ``validation_split.member_score_per_epoch`` in the card).
MEMBERS = 3
BATCH_SIZE = 256
LEARNING_RATE = 2e-3
COMMAND = "python -m medmodels.train ecg"


def command_for(leads: int) -> str:
    """The command that trains the 1- or 2-lead classifier (plain ``COMMAND`` trains both)."""
    return f"{COMMAND} --leads {leads}"


@lru_cache(maxsize=64)
def prepared_record(record_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One record's conditioned MLII lead at MODEL_FS (mV), its reference beats there, and labels."""
    raw, fs, samples, y = reference_beats(record_id)
    lead = condition_lead(raw, fs)
    return lead.model_rate, beats_to_model_rate(samples, fs), y


@lru_cache(maxsize=64)
def prepared_second_lead(record_id: str) -> np.ndarray:
    """One record's conditioned second (precordial) lead at MODEL_FS (mV), as :func:`prepared_record`'s lead."""
    raw, fs, _ = second_lead(record_id)
    return condition_lead(raw, fs).model_rate


def record_dataset(record_ids, spec: BeatSpec = DEFAULT_SPEC) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Model inputs and labels for the reference beats of records (MLII lead, and V1 or another precordial
    lead for a two-lead ``spec``)."""
    parts, labels = [], []
    for record_id in record_ids:
        signal, beats, y = prepared_record(record_id)
        second = prepared_second_lead(record_id) if spec.leads == 2 else None
        parts.append(beat_inputs(signal, beats, spec, second))
        labels.append(y)
    inputs = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return inputs, np.concatenate(labels)


CLASS_WEIGHT_POWER = 1.0
CLASS_WEIGHT_CAP = 30.0


def class_weights(labels: np.ndarray, power: float | None = None, cap: float = CLASS_WEIGHT_CAP) -> dict[int, float]:
    """Inverse-frequency weights raised to ``power`` (default CLASS_WEIGHT_POWER), N = 1, capped (Q has only 8 DS1 beats)."""
    power = CLASS_WEIGHT_POWER if power is None else power
    counts = np.bincount(labels, minlength=len(AAMI_CLASSES)).astype(np.float64)
    weights = (counts.max() / np.maximum(counts, 1.0)) ** power
    return {i: float(min(w, cap)) for i, w in enumerate(weights)}


WAVEFORM_BLANK_FRACTION = 0.25


def augment(inputs: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random gain (0.7–1.3) and small noise on each lead's mV channel: electrode/gain variety.

    Each lead draws its own gain and noise (channels 0 and 2 of a two-lead
    input; a single-lead input draws exactly as before two-lead models existed).  A fraction WAVEFORM_BLANK_FRACTION of beats has its waveform blanked, so
    the head must also classify from RR context alone (patient-independent).
    Returns new arrays; ``inputs`` is not modified.
    """
    wave = inputs["waveform"].copy()
    n = wave.shape[0]
    for channel in range(0, wave.shape[2], 2):  # the mV channel of each lead
        wave[:, :, channel] *= rng.uniform(0.7, 1.3, size=(n, 1)).astype(np.float32)
        wave[:, :, channel] += rng.normal(0.0, 0.02, size=wave[:, :, channel].shape).astype(np.float32)
    if WAVEFORM_BLANK_FRACTION > 0:
        wave[rng.random(n) < WAVEFORM_BLANK_FRACTION] = 0.0
    return {"waveform": wave, "rr": inputs["rr"]}


#: Fit per-class logit offsets on the out-of-fold logits (see calibration.fit_class_offsets).
FIT_CLASS_OFFSETS = True
#: The classes whose offsets are fitted.  Not F: its offset was fitted too until the ensemble, where the
#: best S/V F1 (76.1 out of fold) came with F's logit raised by 2.25, so that 16 % of DS1's normal beats were
#: called fusion (N Se 83.9 %, F +P 0.6 %): F had become a bin for the beats whose removal helps the S/V score.
#: With S and V only: S/V F1 73.0, N Se 95.4 %, accuracy 93.9 % (same out-of-fold logits, DS1 only).
OFFSET_CLASSES = ("S", "V")


def decision_score(labels: np.ndarray, logits: np.ndarray, irregular: np.ndarray) -> float:
    """Selection score of the classifier's decisions (logits with the AF rule)."""
    return selection_score(class_metrics(confusion_matrix(labels, decide(logits, irregular))))


def selection_score(metrics: dict) -> float:
    """Score for choosing the epoch count: mean F1 of S and V (the clinical classes)."""
    return float(np.mean([metrics[c]["F1"] or 0.0 for c in ("S", "V")]))


def fit_classifier(train_x, train_y, epochs: int, seed: int, spec: BeatSpec = DEFAULT_SPEC,
                   watch_x: dict[str, np.ndarray] | None = None, verbose: bool = False):
    """Train a fresh classifier for ``epochs``; returns ``(model, logits of watch_x after each epoch)``.

    Constant learning rate: a cosine decay scored no better in DS1 cross-validation.
    """
    import keras

    keras.utils.set_random_seed(seed)
    weights = class_weights(train_y)
    model = build_beat_classifier(seed, spec)
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(seed)
    sample_weight = np.array([weights[c] for c in train_y], dtype=np.float32)
    watched = []
    for epoch in range(epochs):
        model.fit(augment(train_x, rng), train_y, sample_weight=sample_weight, batch_size=BATCH_SIZE,
                  epochs=1, shuffle=True, verbose=0)
        if watch_x is not None:
            watched.append(np.asarray(model.predict(watch_x, batch_size=4096, verbose=0)))
        if verbose:
            print(f"  epoch {epoch + 1}/{epochs}", flush=True)
    return model, watched


def cross_validate(epochs: int, seed: int, spec: BeatSpec = DEFAULT_SPEC, folds=CV_FOLDS,
                   extra_train=None, verbose: bool = True) -> dict:
    """Out-of-fold logits of every DS1 beat after each epoch, and the pooled S/V F1 per epoch.

    Returns ``{"logits": [(n_ds1, 5) per epoch], "labels": (n_ds1,), "scores": [...],
    "best_epoch": int (1-based), "irregular": (n_ds1,) AF-rule mask}``; scores use the AF rule.  Synthetic ``extra_train``
    beats (if any) join every fold's training part, never its held-out part.
    """
    started = time.time()
    per_epoch, labels, irregular = [[] for _ in range(epochs)], [], []
    for k, held_out in enumerate(folds):
        train_records = [r for f in folds if f is not held_out for r in f]
        train_x, train_y = _with_extra(record_dataset(train_records, spec), extra_train)
        val_x, val_y = record_dataset(held_out, spec)
        _, watched = fit_classifier(train_x, train_y, epochs, seed + k, spec, watch_x=val_x)
        for e, logits in enumerate(watched):
            per_epoch[e].append(logits)
        labels.append(val_y)
        irregular.append(irregular_rhythm(val_x, spec))
        if verbose:
            m = class_metrics(confusion_matrix(val_y, watched[-1].argmax(axis=1)))
            print(f"fold {k + 1}/{len(folds)} ({', '.join(held_out)}): last-epoch S F1 {m['S']['F1'] or 0:.1f}, "
                  f"V F1 {m['V']['F1'] or 0:.1f} ({time.time() - started:.0f} s)", flush=True)
    y, irregular = np.concatenate(labels), np.concatenate(irregular)
    logits = [np.concatenate(parts) for parts in per_epoch]
    scores = [decision_score(y, lg, irregular) for lg in logits]
    return {"logits": logits, "labels": y, "irregular": irregular, "scores": [round(v, 2) for v in scores],
            "best_epoch": int(np.argmax(scores)) + 1}


def _with_extra(data, extra):
    if extra is None:
        return data
    (x, y), (ex, ey) = data, extra
    return ({k: np.concatenate([x[k], np.asarray(ex[k], dtype=x[k].dtype)]) for k in x},
            np.concatenate([y, np.asarray(ey, dtype=y.dtype)]))


def member_seeds(seed: int = SEED, members: int = MEMBERS) -> list[int]:
    """The ensemble's training seeds: ``seed``, ``seed + 1``, …"""
    return [seed + m for m in range(members)]


def ensemble_cross_validation(epochs: int, seeds: list[int], spec: BeatSpec, extra_train=None,
                              verbose: bool = True) -> dict:
    """:func:`cross_validate` for each seed; the result's logits are the members' mean per epoch.

    Adds ``"member_scores"``: each seed's own per-epoch scores.
    """
    runs = []
    for seed in seeds:
        if verbose:
            print(f"cross-validation, seed {seed}", flush=True)
        runs.append(cross_validate(epochs, seed, spec, extra_train=extra_train, verbose=verbose))
    y, irregular = runs[0]["labels"], runs[0]["irregular"]
    logits = [np.mean([run["logits"][e] for run in runs], axis=0) for e in range(epochs)]
    scores = [decision_score(y, lg, irregular) for lg in logits]
    return {"logits": logits, "labels": y, "irregular": irregular, "scores": [round(v, 2) for v in scores],
            "best_epoch": int(np.argmax(scores)) + 1, "member_scores": [run["scores"] for run in runs]}


def recipes_for(spec: BeatSpec) -> list[BeatSpec]:
    """The recipes whose networks a classifier holds, its own first (its first member is ``keras_model``).

    The two-lead classifier also holds the single-lead networks: their six-network mean logit was adopted by
    a rule fixed before it was computed, on DS1 out-of-fold logits only (pooled S/V F1 at the chosen epoch
    75.37 against 73.50 for the two-lead networks alone, and 73.56 against 71.0 averaged over 10 epochs).
    """
    return [spec] if spec.leads == 1 else [spec, spec.with_leads(1)]


#: Cross-validation results per (epochs, seeds, spec) in this process: training both classifiers runs the
#: single-lead recipe's cross-validation once, though the two-lead classifier uses it too.
_CV_RESULTS: dict = {}


def recipe_cross_validation(epochs: int, seeds: list[int], spec: BeatSpec, extra_train=None,
                            verbose: bool = True) -> dict:
    """:func:`ensemble_cross_validation`, computed once per process for real-only training data."""
    if extra_train is not None:
        return ensemble_cross_validation(epochs, seeds, spec, extra_train, verbose)
    key = (epochs, tuple(seeds), spec)
    if key not in _CV_RESULTS:
        _CV_RESULTS[key] = ensemble_cross_validation(epochs, seeds, spec, None, verbose)
    return _CV_RESULTS[key]


def train(out_dir: Path | None = None, epochs: int = EPOCHS, seed: int = SEED, verbose: bool = True, *,
          extra_train: tuple[dict[str, np.ndarray], np.ndarray] | None = None,
          spec: BeatSpec = DEFAULT_SPEC, members: int = MEMBERS) -> dict:
    """Cross-validate, calibrate, train the ensemble's members on DS1 and save; returns the card dict.

    ``extra_train``: optional ``(inputs, labels)`` in :func:`record_dataset`'s format appended to
    the training beats (e.g. synthetic beats for the augmentation experiment); class weights
    are computed on the combined labels.  Out-of-fold validation and calibration stay real-only.
    A two-lead ``spec`` trains the single-lead recipe's networks too (:func:`recipes_for`); each
    recipe keeps its own best epoch count, and the offsets and temperature are fitted on all the
    networks' mean out-of-fold logit.
    """
    started = time.time()
    recipes = recipes_for(spec)
    if extra_train is not None and len(recipes) > 1:
        raise ValueError("extra training beats are supported for the single-lead classifier only")
    out_dir = model_dir_for(spec.leads) if out_dir is None else out_dir
    seeds = member_seeds(seed, members)
    cvs = [recipe_cross_validation(epochs, seeds, recipe, extra_train, verbose) for recipe in recipes]
    cv, best = cvs[0], cvs[0]["best_epoch"]
    oof_y = cv["labels"]
    irregular = cv["irregular"]
    # Every recipe has `members` networks, so the mean of the recipes' means weighs each network alike.
    oof_raw = np.mean([c["logits"][c["best_epoch"] - 1] for c in cvs], axis=0)
    offsets = (fit_class_offsets(oof_raw, oof_y, lambda y, z: decision_score(y, z, irregular),
                                 classes=tuple(AAMI_CLASSES.index(c) for c in OFFSET_CLASSES))
               if FIT_CLASS_OFFSETS else np.zeros(5))
    oof_logits = oof_raw + offsets
    temperature = fit_temperature(oof_logits, oof_y)
    ece_before = expected_calibration_error(softmax_np(oof_logits), oof_y)
    ece_after = expected_calibration_error(softmax_np(oof_logits, temperature), oof_y)
    oof_metrics = class_metrics(confusion_matrix(oof_y, decide(oof_logits, irregular)))
    if verbose:
        print(f"cross-validation: ensemble pooled S/V F1 per epoch {cv['scores']}; best epoch {best}; members "
              f"{cv['member_scores']}", flush=True)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in member_files(out_dir, WEIGHTS_FILE)[1:]:
        stale.unlink()  # a smaller ensemble must not load an earlier run's extra members
    paths = iter(member_paths(out_dir, WEIGHTS_FILE, members * len(recipes)))
    weight_files = []
    for recipe, recipe_cv in zip(recipes, cvs):
        train_x, train_y = _with_extra(record_dataset(DS1, recipe), extra_train)
        for member_seed in seeds:
            path = next(paths)
            if verbose:
                print(f"final member ({_leads_text(recipe.leads)}), seed {member_seed}: "
                      f"{recipe_cv['best_epoch']} epochs on all DS1", flush=True)
            model, _ = fit_classifier(train_x, train_y, recipe_cv["best_epoch"], member_seed, recipe)
            model.save_weights(str(path))
            weight_files.append((path.name, sha256_of(path), recipe.leads))
    combination = None if len(cvs) == 1 else combination_record(cvs)
    card = build_card(train_y, oof_y, class_weights(train_y), best, cv["scores"], temperature, ece_before,
                      ece_after, oof_metrics, weight_files, time.time() - started,
                      seeds, spec, n_extra=0 if extra_train is None else len(extra_train[1]),
                      offsets=offsets, member_history=cv["member_scores"], combination=combination)
    existing = out_dir / "card.json"
    if existing.exists():
        # Keep DS2 figures from a previous `evaluate --update-card` only if the weights are unchanged.
        old = json.loads(existing.read_text())
        if old.get("weights") == card["weights"] and "test_metrics" in old.get("metrics", {}):
            card["metrics"]["test_metrics"] = old["metrics"]["test_metrics"]
    existing.write_text(json.dumps(card, indent=2) + "\n")
    if verbose:
        recipes_text = " + ".join(f"{members} x {c['best_epoch']} epochs ({_leads_text(r.leads)})"
                                  for r, c in zip(recipes, cvs))
        print(f"final ensemble: {recipes_text} on all DS1; offsets {np.round(offsets, 3).tolist()}; temperature "
              f"{temperature:.3f}; out-of-fold ECE {100 * ece_before:.2f} % -> {100 * ece_after:.2f} %; "
              f"wrote {', '.join(name for name, *_ in weight_files)} "
              f"in {time.time() - started:.0f} s")
    return card


def _leads_text(leads: int) -> str:
    return "1 lead" if leads == 1 else f"{leads} leads"


def combination_record(cvs: list[dict]) -> dict:
    """Card entry for a classifier holding a second recipe's networks: that recipe's cross-validation, and
    the pooled out-of-fold S/V F1 of all the networks' mean logit with epoch e of each recipe, per e."""
    partner = cvs[1]
    combined = [decision_score(cvs[0]["labels"], np.mean([c["logits"][e] for c in cvs], axis=0), cvs[0]["irregular"])
                for e in range(len(cvs[0]["logits"]))]
    return {"with": "the single-lead recipe's networks (the single-lead classifier's), each reading the analysed "
                    "lead only",
            "rule": "adopted, on DS1 out-of-fold logits only and by a rule fixed before it was computed, because "
                    "all the networks' mean logit beat the two-lead networks alone at the chosen epoch and "
                    "averaged over the epochs",
            "best_epoch": partner["best_epoch"], "score_per_epoch": partner["scores"],
            "member_score_per_epoch": partner["member_scores"],
            "combined_score_per_epoch": [round(v, 2) for v in combined]}


def _counts(labels: np.ndarray) -> dict[str, int]:
    counts = np.bincount(labels, minlength=len(AAMI_CLASSES))
    return {c: int(n) for c, n in zip(AAMI_CLASSES, counts)}


def build_card(train_y, val_y, weights, best_epoch, history, temperature, ece_before, ece_after,
               val_metrics, weight_files, seconds, seeds, spec: BeatSpec = DEFAULT_SPEC, n_extra: int = 0,
               offsets=np.zeros(5), member_history=None, combination: dict | None = None) -> dict:
    """The model card: data, split, selection, calibration, input specification, weights sha256.

    ``weight_files``: ``[(file name, sha256, leads it reads)]`` of the ensemble's members, the first one
    first.  ``combination``: :func:`combination_record` when the ensemble holds a second recipe's networks.
    """
    by_leads = {n: sum(1 for *_, leads in weight_files if leads == n) for n in (1, 2)}
    mix = ("" if combination is None else
           f": {by_leads[2]} read both leads, {by_leads[1]} the analysed lead only")
    from medmodels.ecg.mitdb import DS2

    return {
        "name": MODEL_NAME if spec.leads == 1 else TWO_LEAD_MODEL_NAME,
        "title": f"ECG beat classifier{'' if spec.leads == 1 else ', two leads'} (CNN + GRU, ensemble of "
                 f"{len(weight_files)} networks{mix})",
        "version": "2.0.0",
        "intended_use": "decision support for review and teaching; not a diagnostic device",
        "task": "AAMI EC57 beat class (N, S, V, F, Q) of each detected beat in one ECG lead"
                + ("" if spec.leads == 1 else ", with the same beat's shape in a second, precordial lead"),
        "architecture": "Conv1D(16,7)-pool-Conv1D(32,5)-pool-GRU(32)-Dropout(0.3) on the beat window, "
                        "Dense(16) on RR features, merged Dense(32)-Dropout(0.2)-Dense(5) logits; Keras 3; "
                        f"{len(weight_files)} such networks trained with different seeds{mix}, logits averaged",
        "training_data": {
            "summary": f"MIT-BIH DS1: {len(DS1)} records (inter-patient protocol, de Chazal et al. 2004)",
            "source": "MIT-BIH Arrhythmia Database 1.0.0 (PhysioNet mitdb), ODC-By 1.0",
            "protocol": "inter-patient, de Chazal et al. 2004; paced records 102, 104, 107, 217 excluded",
            "records": list(DS1),
            "beats": _counts(train_y),
            "synthetic_beats": n_extra,
            "class_imbalance": {"method": f"inverse-frequency loss weights to the power {CLASS_WEIGHT_POWER}, capped at {CLASS_WEIGHT_CAP:g}",
                                "weights": {AAMI_CLASSES[k]: round(v, 3) for k, v in weights.items()}},
            "augmentation": f"random gain 0.7-1.3 and 0.02 mV Gaussian noise on the mV channel{'' if spec.leads == 1 else ' of each lead'}; "
                            f"waveform blanked for a random {WAVEFORM_BLANK_FRACTION:.0%} of beats per epoch "
                            "(forces use of the RR context)",
        },
        "validation_split": {
            "method": "patient-level 3-fold cross-validation inside DS1, run for each member's seed; the "
                      "members' mean out-of-fold logits choose the epoch count (pooled mean S/V F1) and fit the "
                      "offsets and temperature; each member is then trained on all DS1 records for that many "
                      "epochs",
            "folds": [list(f) for f in CV_FOLDS],
            "beats": _counts(val_y),
            "best_epoch": best_epoch,
            "score_per_epoch": history,
            "member_score_per_epoch": member_history or [],
            **({} if combination is None else {"combination": combination}),
        },
        "test_data": {"summary": f"MIT-BIH DS2: {len(DS2)} other patients' records, used only for the reported "
                                 "figures",
                      "records": list(DS2)},
        "rhythm_rule": {"feature": "local median over 21 beats of min over lags 1-3 of |RR_i - RR_(i-lag)| / RR_i",
                        "threshold": AF_IRREGULARITY_THRESHOLD,
                        "rule": "beats in irregularly irregular (atrial-fibrillation-like) rhythm cannot be S: "
                                "their S probability is added to N (AAMI EC57 labels beats during AF as N "
                                "unless ventricular)",
                        "threshold_from": "DS1 rhythm annotations only: 98 % of AFIB/AFL beats above it, 8 % of "
                                          "other beats"},
        "input": {
            **spec.to_card(),
            "lead": "MLII (else II, else the first lead)",
            **({} if spec.leads == 1 else {
                "second_lead": "a precordial lead other than the analysed one: V1, else V2, ... V6 (DS1: V1 in 20 "
                               "records, V5 in 114, V4 in 124); records without one get the single-lead classifier",
                "beats_located_on": "the analysed lead"}),
            "units": "mV",
            "conditioning": "0.5-40 Hz zero-phase Butterworth band-pass, 50 and 60 Hz notches, at the input rate; "
                            "polyphase resampling to the model rate",
            "channels": ["beat (mV)", "(beat - record median beat) / median-beat peak-to-peak"]
                        + ([] if spec.leads == 1 else ["second lead: beat (mV)", "second lead: (beat - record median "
                                                       "beat) / median-beat peak-to-peak"]),
        },
        "calibration": {"method": f"logit offsets for {' and '.join(OFFSET_CLASSES)} chosen to maximise the "
                                  "out-of-fold mean S/V F1 (decision threshold; the other classes' offsets stay 0, "
                                  "so that no class absorbs doubtful beats for the S/V score), then temperature "
                                  "scaling of the offset logits, both on the out-of-fold (cross-validation) logits; "
                                  "probabilities = softmax((logits + offsets) / temperature)",
                        "class_offsets": {c: round(float(v), 3) for c, v in zip(AAMI_CLASSES, offsets)},
                        "temperature": round(temperature, 4),
                        "ece_validation_before": round(ece_before, 4),
                        "ece_validation_after": round(ece_after, 4), "ece_bins": 15},
        "metrics": {"validation": _round(val_metrics),
                    "validation_note": "pooled out-of-fold DS1 predictions at the chosen epoch, after the class "
                                       "offsets (fitted on these same predictions, so slightly optimistic)"},
        "weights": {"file": weight_files[0][0], "sha256": weight_files[0][1],
                    "members": [{"file": name, "sha256": digest, "leads": leads} for name, digest, leads in weight_files]},
        "training": {"command": command_for(spec.leads), "seed": seeds[0], "member_seeds": list(seeds), "epochs": best_epoch,
                     "cv_epochs": len(history),
                     "seconds": round(seconds, 1), "hardware": "CPU (TensorFlow backend)"},
    }


def _round(metrics: dict) -> dict:
    return {k: (round(v, 2) if isinstance(v, float) else
                {kk: (round(vv, 2) if isinstance(vv, float) else vv) for kk, vv in v.items()} if isinstance(v, dict) else v)
            for k, v in metrics.items()}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``python -m medmodels.train ecg``."""
    parser.add_argument("--leads", type=int, choices=(1, 2), default=None,
                        help="train only the single-lead (1) or the two-lead (2) classifier (default: both)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default: the committed model's; only with --leads)")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--seed", type=int, default=SEED, help="the first member's seed (the others: +1, +2, …)")
    parser.add_argument("--members", type=int, default=MEMBERS, help="ensemble size")


def main(args: argparse.Namespace) -> int:
    if args.out is not None and args.leads is None:
        raise SystemExit("--out needs --leads: the two classifiers go to different folders")
    for leads in (1, 2) if args.leads is None else (args.leads,):
        train(args.out, args.epochs, args.seed, members=args.members, spec=DEFAULT_SPEC.with_leads(leads))
    return 0
