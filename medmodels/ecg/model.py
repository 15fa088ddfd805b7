"""The Keras 3 beat classifier: 1-D convolutions, a GRU, and the RR-context branch.

Built from ``keras.layers`` / ``keras.ops`` only, so it runs under the
TensorFlow and JAX backends.  The model outputs logits; probabilities are
``softmax((logits + class_offsets) / temperature)``, then S folded into N in
AF-like rhythm: the per-class offsets (a decision threshold for S/V F1) and
the temperature are fitted on out-of-fold DS1 predictions and stored in the
model card's ``calibration`` (which records the out-of-fold ECE before and
after the temperature).  A loaded classifier is read-only: nothing here or in
``saliency`` changes its layers or weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from medmodels.config import MODELS_DIR
from medmodels.model_cards import member_files, sha256_of
from medmodels.parallel import map_side_by_side
from medmodels.ecg import AAMI_CLASSES
from medmodels.ecg.beats import (DEFAULT_SPEC, IRREGULARITY_FEATURE, MODEL_FS, BeatSpec, extract_windows,
                                 morphology_channels, rr_features)

MODEL_NAME = "ecg-beat-classifier"
MODEL_DIR = MODELS_DIR / MODEL_NAME
#: The two-lead classifier (the analysed lead and a precordial second lead; it also holds the single-lead
#: networks); the single-lead one above serves records without a second precordial lead.
TWO_LEAD_MODEL_NAME = "ecg-beat-classifier-two-lead"
TWO_LEAD_MODEL_DIR = MODELS_DIR / TWO_LEAD_MODEL_NAME
WEIGHTS_FILE = "ecg_beat_classifier.weights.h5"
#: Name of the last convolution layer: the Grad-CAM feature map.
FEATURE_LAYER = "conv_features"


def build_beat_classifier(seed: int = 0, spec: BeatSpec = DEFAULT_SPEC):
    """Construct the (untrained) classifier; returns a ``keras.Model``.

    Inputs: ``waveform`` (batch, spec.length, spec.channels) and ``rr`` (batch, len(spec.rr_features)).
    Output: logits (batch, 5) for N, S, V, F, Q.  About 20 k parameters, so a
    half-hour record's ~2,000 beats classify in one batched call.
    """
    import keras
    from keras import layers

    init = lambda k: keras.initializers.GlorotUniform(seed=seed + k)  # noqa: E731
    waveform = keras.Input((spec.length, spec.channels), name="waveform")
    rr = keras.Input((len(spec.rr_features),), name="rr")
    x = layers.Conv1D(16, 7, padding="same", activation="relu", kernel_initializer=init(1), name="conv1")(waveform)
    x = layers.MaxPooling1D(2, name="pool1")(x)
    x = layers.Conv1D(32, 5, padding="same", activation="relu", kernel_initializer=init(2), name=FEATURE_LAYER)(x)
    x = layers.MaxPooling1D(2, name="pool2")(x)
    # The GRU reads the 32-step feature sequence: the order of QRS, ST and T matters.
    x = layers.GRU(32, kernel_initializer=init(3), recurrent_initializer=keras.initializers.Orthogonal(seed=seed + 4),
                   name="gru")(x)
    # Dropout on the morphology summary pushes the head to use the RR context
    # too, which generalises across patients better than morphology alone.
    x = layers.Dropout(0.3, seed=seed + 9, name="gru_dropout")(x)
    r = layers.Dense(16, activation="relu", kernel_initializer=init(5), name="rr_dense")(rr)
    h = layers.Concatenate(name="merge")([x, r])
    h = layers.Dense(32, activation="relu", kernel_initializer=init(6), name="head")(h)
    h = layers.Dropout(0.2, seed=seed + 7, name="dropout")(h)
    logits = layers.Dense(len(AAMI_CLASSES), kernel_initializer=init(8), name="logits")(h)
    return keras.Model({"waveform": waveform, "rr": rr}, logits, name="ecg_beat_classifier")


def beat_inputs(signal_model_rate: np.ndarray, beat_samples_model_rate: np.ndarray,
                spec: BeatSpec = DEFAULT_SPEC, second_lead_model_rate: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Model inputs for beats of one conditioned lead at MODEL_FS (mV, int samples).

    A two-lead ``spec`` needs ``second_lead_model_rate``, the second lead
    conditioned the same way (same length); its two morphology channels follow
    the first lead's (waveform (n, L, 4)).  Beats are located on the first lead.
    """
    if (second_lead_model_rate is None) != (spec.leads == 1):
        raise ValueError(f"a {spec.leads}-lead spec needs {'a' if spec.leads == 2 else 'no'} second lead")
    channels = [morphology_channels(extract_windows(signal_model_rate, beat_samples_model_rate, spec))]
    if second_lead_model_rate is not None:
        channels.append(morphology_channels(extract_windows(second_lead_model_rate, beat_samples_model_rate, spec)))
    return {"waveform": np.concatenate(channels, axis=-1),
            "rr": rr_features(beat_samples_model_rate, MODEL_FS, spec.rr_features)}


def input_channels(network) -> int:
    """How many waveform channels a Keras beat network reads: 2 (one lead) or 4 (two leads)."""
    return int(network.get_layer("conv1").kernel.shape[1])


def inputs_for(network, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``inputs`` as ``network`` reads them (a new dict; arrays not copied).

    The two-lead classifier also holds single-lead networks; they read the
    analysed lead's channels, which come first in a two-lead waveform (see
    :func:`beat_inputs`), and the same RR features.
    """
    channels = input_channels(network)
    if inputs["waveform"].shape[-1] == channels:
        return inputs
    return {**inputs, "waveform": inputs["waveform"][..., :channels]}


def softmax_np(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of logits / temperature, float64, numerically stable."""
    z = np.asarray(logits, dtype=np.float64) / max(float(temperature), 1e-6)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


#: Robust irregularity (beats.IRREGULARITY_FEATURE) above which the rhythm counts as
#: irregularly irregular (atrial-fibrillation-like).  Chosen on DS1 with its rhythm
#: annotations: 98 % of the 3,805 beats in AFIB/AFL are above 0.05 and 8 % of the
#: 47,216 other beats (mostly the ectopic and nodal stretches of record 201).
AF_IRREGULARITY_THRESHOLD = 0.05


def irregular_rhythm(inputs: dict[str, np.ndarray], spec: BeatSpec) -> np.ndarray:
    """Boolean (n_beats,): beats inside an irregularly irregular (AF-like) stretch of rhythm.

    All False when the spec lacks the irregularity feature.
    """
    if IRREGULARITY_FEATURE not in spec.rr_features:
        return np.zeros(inputs["rr"].shape[0], dtype=bool)
    return inputs["rr"][:, spec.rr_features.index(IRREGULARITY_FEATURE)] > AF_IRREGULARITY_THRESHOLD


def fold_s_into_n(probabilities: np.ndarray, irregular: np.ndarray) -> np.ndarray:
    """Move the S probability of beats in AF-like rhythm to N; returns a new array.

    A supraventricular *ectopic* beat needs an underlying regular rhythm to be
    premature against: AAMI EC57 labels beats during atrial fibrillation N unless
    they are ventricular, so S is not a possible answer there.  Too few AF
    patients are in DS1 (2) for the network to learn this reliably.
    """
    p = np.array(probabilities, dtype=np.float64, copy=True)
    s, n = AAMI_CLASSES.index("S"), AAMI_CLASSES.index("N")
    p[irregular, n] += p[irregular, s]
    p[irregular, s] = 0.0
    return p


def decide(logits: np.ndarray, irregular: np.ndarray) -> np.ndarray:
    """Class indices (n,) from logits with the AF rule (S impossible in AF-like rhythm)."""
    z = np.array(logits, dtype=np.float64, copy=True)
    z[irregular, AAMI_CLASSES.index("S")] = -np.inf
    return z.argmax(axis=1)


@dataclass(frozen=True)
class BeatClassifier:
    """A loaded classifier and its calibration; treat the Keras models as read-only.

    An ensemble of one recipe trained with several seeds: ``keras_model`` is the
    first member (the GAN quality features use its ``head`` layer) and ``members``
    the others; the logits are the members' mean, and Grad-CAM is taken over
    all of them (:attr:`networks`).  One network's best pooled DS1 out-of-fold
    S/V F1 was 66.2, 68.6 or 74.0 for three seeds of the same recipe, so a
    single network's figures are partly the luck of its seed.  The two-lead
    classifier holds two recipes: networks reading both leads, then the
    single-lead networks, which read the analysed lead's channels
    (:func:`inputs_for`); every network weighs the same in the mean.
    """

    keras_model: object
    temperature: float
    sha256: str
    name: str = MODEL_NAME
    version: str = "unknown"
    spec: BeatSpec = DEFAULT_SPEC
    #: Per-class logit offsets (N, S, V, F, Q) fitted on out-of-fold data, added before the temperature.
    class_offsets: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0, 0.0)
    members: tuple = ()

    @property
    def networks(self) -> tuple:
        """Every member's Keras model, the first (``keras_model``) first."""
        return (self.keras_model, *self.members)

    @property
    def leads(self) -> int:
        """How many leads the classifier reads (1, or 2: the analysed lead and a precordial second lead)."""
        return self.spec.leads

    def inputs(self, signal_model_rate: np.ndarray, beat_samples_model_rate: np.ndarray,
               second_lead_model_rate: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """This model's inputs for beats of conditioned lead(s) at MODEL_FS (see :func:`beat_inputs`)."""
        return beat_inputs(signal_model_rate, beat_samples_model_rate, self.spec, second_lead_model_rate)

    def member_logits(self, inputs: dict[str, np.ndarray], batch_size: int = 4096) -> np.ndarray:
        """Each network's logits, (n_networks, n_beats, 5), in batches via ``predict_on_batch``.

        ``predict_on_batch`` runs the backend's compiled inference function
        (about 5x faster than an eager call on the GRU) and skips ``predict()``'s
        per-call dataset overhead; it changes no weights or layers.  The
        networks run side by side on the CPU's cores (:func:`~medmodels.parallel.map_side_by_side`).
        """
        n = inputs["rr"].shape[0]
        if n == 0:
            return np.zeros((len(self.networks), 0, len(AAMI_CLASSES)), dtype=np.float32)
        out = []
        for start in range(0, n, batch_size):
            part = {k: v[start:start + batch_size] for k, v in inputs.items()}
            logits = map_side_by_side(lambda m: np.asarray(m.predict_on_batch(inputs_for(m, part))), self.networks)
            out.append(np.stack(logits))
        return np.concatenate(out, axis=1)

    def logits(self, inputs: dict[str, np.ndarray], batch_size: int = 4096) -> np.ndarray:
        """Logits (n_beats, 5): the mean over the ensemble's networks."""
        return self.member_logits(inputs, batch_size).mean(axis=0)

    def probabilities(self, logits: np.ndarray, irregular: np.ndarray) -> np.ndarray:
        """softmax((logits + offsets) / T), then S folded into N where ``irregular`` (:func:`fold_s_into_n`)."""
        p = softmax_np(np.asarray(logits) + np.asarray(self.class_offsets), self.temperature)
        return fold_s_into_n(p, irregular)

    def predict_proba(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """Probabilities (n_beats, 5) for N, S, V, F, Q (see the card's calibration for how well calibrated).

        softmax((logits + offsets) / T), then S folded into N for beats in
        AF-like rhythm (:func:`fold_s_into_n`).
        """
        return self.probabilities(self.logits(inputs), irregular_rhythm(inputs, self.spec))

    def predict_with_agreement(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities (n_beats, 5) as :meth:`predict_proba`, and how many networks agree (n_beats,) int.

        A network agrees when its own logits, through the same offsets,
        temperature and AF rule, give the ensemble's class.  Disagreement among
        networks trained alike (different seeds) marks beats whose class the
        training data did not settle (deep ensembles, Lakshminarayanan et al. 2017).
        """
        per_network = self.member_logits(inputs)
        irregular = irregular_rhythm(inputs, self.spec)
        p = self.probabilities(per_network.mean(axis=0), irregular)
        label = p.argmax(axis=1)
        votes = [self.probabilities(z, irregular).argmax(axis=1) == label for z in per_network]
        return p, np.sum(votes, axis=0).astype(np.int64)


def read_card(model_dir: Path = MODEL_DIR) -> dict:
    """The model card (``card.json``) as a dict; empty if absent."""
    path = Path(model_dir) / "card.json"
    return json.loads(path.read_text()) if path.exists() else {}


def classifier_weight_files(model_dir: Path, card: dict) -> list[Path]:
    """The weights the card names (``weights.members``, the first first); else those on disk.

    The card defines the model: a stray ``member`` file left in the folder is not loaded.
    A card naming a file that is missing is an error, not a smaller ensemble.
    """
    listed = card.get("weights", {}).get("members")
    if not listed:
        return member_files(model_dir, WEIGHTS_FILE)
    paths = [Path(model_dir) / entry["file"] for entry in listed]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"{model_dir}: the card names {', '.join(missing)}, which is missing; "
                                "run `python -m medmodels.train ecg`.")
    return paths


def member_leads(card: dict, spec: BeatSpec, n_members: int) -> list[int]:
    """How many leads each of the ``n_members`` networks reads: the card's ``weights.members[i].leads``, else
    ``spec.leads`` (one recipe)."""
    listed = card.get("weights", {}).get("members") or [{}] * n_members
    return [int(entry.get("leads", spec.leads)) for entry in listed]


def load_classifier(model_dir: Path = MODEL_DIR) -> BeatClassifier:
    """Load weights and calibration from ``model_dir`` (a fresh object on every call)."""
    from medmodels.backend_logs import quiet_expected_retracing

    quiet_expected_retracing()  # its networks trace twice each, which TensorFlow would warn about
    model_dir = Path(model_dir)
    weights = model_dir / WEIGHTS_FILE
    if not weights.exists():
        raise FileNotFoundError(f"No weights at {weights}; run `python -m medmodels.train ecg`.")
    card = read_card(model_dir)
    spec = BeatSpec.from_card(card.get("input"))
    models = []
    paths = classifier_weight_files(model_dir, card)
    for path, leads in zip(paths, member_leads(card, spec, len(paths))):
        model = build_beat_classifier(spec=spec.with_leads(leads))
        model.load_weights(str(path))
        models.append(model)
    calibration = card.get("calibration", {})
    offsets = calibration.get("class_offsets", {})
    return BeatClassifier(models[0], float(calibration.get("temperature", 1.0)), sha256_of(weights),
                          card.get("name", MODEL_NAME), str(card.get("version", "unknown")), spec,
                          tuple(float(offsets.get(c, 0.0)) for c in AAMI_CLASSES), tuple(models[1:]))


@lru_cache(maxsize=2)
def cached_classifier(leads: int = 1) -> BeatClassifier:
    """The committed single-lead (``leads=1``) or two-lead classifier, loaded once per process (shared; do not mutate)."""
    return load_classifier(model_dir_for(leads))


def model_dir_for(leads: int) -> Path:
    """The committed classifier's folder for 1 or 2 leads."""
    if leads not in (1, 2):
        raise ValueError(f"leads must be 1 or 2, not {leads!r}")
    return MODEL_DIR if leads == 1 else TWO_LEAD_MODEL_DIR
