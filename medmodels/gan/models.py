"""Conditional generators and projection discriminators (Keras 3), and the GAN model.

Both GANs follow one recipe (DCGAN-style up-sampling generators without batch
normalisation, pixel normalisation instead; discriminators with a projection
of the class embedding, Miyato & Koyama 2018; hinge loss; an exponential
moving average of the generator weights kept beside the raw ones).  Sample
values are scaled to about [−1, 1] (CT) or unit variance (ECG) by
:mod:`medmodels.gan.generate`; the models see only scaled values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Latent sizes.
CT_LATENT, ECG_LATENT = 64, 32


def _keras():
    import keras

    return keras


def pixel_norm_layer():
    """Normalise each position's feature vector to unit RMS (ProGAN): stabilises a BN-free generator."""
    keras = _keras()

    class PixelNorm(keras.layers.Layer):
        def call(self, x):
            return x * keras.ops.rsqrt(keras.ops.mean(keras.ops.square(x), axis=-1, keepdims=True) + 1e-8)

    return PixelNorm


def build_ct_generator(n_classes: int = 2, latent: int = CT_LATENT, seed: int = 0, name: str = "ct_generator"):
    """(z (b, latent), class (b,) int) → scaled HU patch (b, 64, 64, 1) in [−1, 1].  About 0.3 M parameters."""
    keras = _keras()
    from keras import layers

    init = lambda k: keras.initializers.HeNormal(seed=seed + k)  # noqa: E731
    PixelNorm = pixel_norm_layer()
    z = keras.Input((latent,), name="z")
    label = keras.Input((), dtype="int32", name="label")
    e = layers.Embedding(n_classes, 16, embeddings_initializer=keras.initializers.RandomNormal(seed=seed), name="embed")(label)
    h = layers.Concatenate()([z, e])
    h = layers.Dense(4 * 4 * 128, kernel_initializer=init(1), name="project")(h)
    h = layers.Reshape((4, 4, 128))(h)
    h = PixelNorm()(layers.LeakyReLU(0.2)(h))
    for i, filters in enumerate((128, 48, 24, 8)):  # 8, 16, 32, 64 px; few channels at full size keep sampling fast
        h = layers.UpSampling2D(2, name=f"up{i}")(h)
        h = layers.Conv2D(filters, 3, padding="same", kernel_initializer=init(2 + i), name=f"conv{i}")(h)
        h = PixelNorm()(layers.LeakyReLU(0.2)(h))
    out = layers.Conv2D(1, 3, padding="same", activation="tanh", kernel_initializer=init(9), name="patch")(h)
    return keras.Model([z, label], out, name=name)


def _projection_head(h, label, n_classes: int, seed: int):
    """Logit = Dense(h) + <embed(class), h>: the projection discriminator's class conditioning."""
    keras = _keras()
    from keras import layers

    unconditional = layers.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(seed=seed), name="logit")(h)
    embedded = layers.Embedding(n_classes, h.shape[-1], embeddings_initializer=keras.initializers.RandomNormal(
        stddev=0.02, seed=seed + 1), name="class_projection")(label)
    projection = layers.Dot(axes=1, name="projection")([embedded, h])
    return layers.Add(name="d_logit")([unconditional, projection])


def build_ct_discriminator(n_classes: int = 2, seed: int = 0):
    """(scaled patch (b, 64, 64, 1), class (b,)) → logit (b, 1)."""
    keras = _keras()
    from keras import layers

    init = lambda k: keras.initializers.HeNormal(seed=seed + k)  # noqa: E731
    patch = keras.Input((64, 64, 1), name="patch")
    label = keras.Input((), dtype="int32", name="label")
    h = patch
    for i, filters in enumerate((32, 64, 128, 256)):
        h = layers.Conv2D(filters, 4, strides=2, padding="same", kernel_initializer=init(i), name=f"dconv{i}")(h)
        h = layers.LeakyReLU(0.2)(h)
    h = layers.GlobalAveragePooling2D()(h)
    return keras.Model([patch, label], _projection_head(h, label, n_classes, seed + 10), name="ct_discriminator")


def build_ecg_generator(length: int, channels: int, n_rr: int, n_classes: int = 4, latent: int = ECG_LATENT,
                        seed: int = 0, name: str = "ecg_generator"):
    """(z, class) → (scaled waveform (b, length, channels), scaled RR features (b, n_rr)).

    The shapes come from the classifier's input data at run time (its spec may change).
    """
    keras = _keras()
    from keras import layers

    init = lambda k: keras.initializers.HeNormal(seed=seed + k)  # noqa: E731
    PixelNorm = pixel_norm_layer()
    base = math.ceil(length / 8)
    z = keras.Input((latent,), name="z")
    label = keras.Input((), dtype="int32", name="label")
    e = layers.Embedding(n_classes, 8, embeddings_initializer=keras.initializers.RandomNormal(seed=seed), name="embed")(label)
    trunk = layers.Dense(128, kernel_initializer=init(1), name="trunk")(layers.Concatenate()([z, e]))
    trunk = layers.LeakyReLU(0.2)(trunk)
    # RR context and waveform share the trunk, so prematurity and morphology are drawn together.
    rr = layers.Dense(64, kernel_initializer=init(2), name="rr_hidden")(trunk)
    rr = layers.Dense(n_rr, kernel_initializer=init(3), name="rr")(layers.LeakyReLU(0.2)(rr))
    h = layers.Dense(base * 64, kernel_initializer=init(4), name="project")(trunk)
    h = PixelNorm()(layers.LeakyReLU(0.2)(layers.Reshape((base, 64))(h)))
    for i, filters in enumerate((64, 48, 32)):
        h = layers.UpSampling1D(2, name=f"up{i}")(h)
        h = layers.Conv1D(filters, 5, padding="same", kernel_initializer=init(5 + i), name=f"conv{i}")(h)
        h = PixelNorm()(layers.LeakyReLU(0.2)(h))
    h = layers.Conv1D(channels, 5, padding="same", kernel_initializer=init(9), name="wave_out")(h)
    wave = layers.Cropping1D((0, base * 8 - length), name="waveform")(h)
    return keras.Model([z, label], [wave, rr], name=name)


def build_ecg_discriminator(length: int, channels: int, n_rr: int, n_classes: int = 4, seed: int = 0):
    """(scaled waveform, scaled RR, class) → logit (b, 1)."""
    keras = _keras()
    from keras import layers

    init = lambda k: keras.initializers.HeNormal(seed=seed + k)  # noqa: E731
    wave = keras.Input((length, channels), name="waveform")
    rr = keras.Input((n_rr,), name="rr")
    label = keras.Input((), dtype="int32", name="label")
    h = wave
    for i, filters in enumerate((32, 64, 128)):
        h = layers.Conv1D(filters, 5, strides=2, padding="same", kernel_initializer=init(i), name=f"dconv{i}")(h)
        h = layers.LeakyReLU(0.2)(h)
    h = layers.Flatten()(h)
    h = layers.LeakyReLU(0.2)(layers.Dense(128, kernel_initializer=init(4), name="wave_dense")(h))
    r = layers.LeakyReLU(0.2)(layers.Dense(32, kernel_initializer=init(5), name="rr_dense")(rr))
    h = layers.Concatenate()([h, r])
    h = layers.LeakyReLU(0.2)(layers.Dense(128, kernel_initializer=init(6), name="joint")(h))
    return keras.Model([wave, rr, label], _projection_head(h, label, n_classes, seed + 10), name="ecg_discriminator")


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser settings shared by both GANs (Adam as in DCGAN; hinge loss)."""

    g_learning_rate: float = 2e-4
    d_learning_rate: float = 2e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    ema_decay: float = 0.999


#: Two settings tried: DCGAN's Adam, and the two-time-scale rule with beta_1 = 0 (SAGAN).
CONFIGS = {"dcgan": TrainConfig(), "ttur": TrainConfig(1e-4, 4e-4, 0.0, 0.9)}


def make_gan_class():
    """The ``ConditionalGAN`` class (built lazily so importing this module does not import Keras)."""
    keras = _keras()
    from medmodels.gan.steps import make_gan_step

    class ConditionalGAN(keras.Model):
        """Generator + projection discriminator trained adversarially with the hinge loss.

        ``train_step(batch)`` takes ``(real list, labels, z_d, fake_labels_d, z_g, fake_labels_g)``
        (all NumPy, drawn by the caller from a seeded generator) and returns the two losses.
        It is driven by :func:`medmodels.gan.train.train_gan`, not by ``fit()``: Keras 3's
        JAX ``fit()`` carries one optimizer's state, and a GAN has two.
        ``ema_generator`` holds the moving average of the generator weights.
        """

        def __init__(self, generator, discriminator, ema_generator, config: TrainConfig = TrainConfig(), **kwargs):
            super().__init__(**kwargs)
            self.generator, self.discriminator, self.ema_generator = generator, discriminator, ema_generator
            self.ema_generator.set_weights(generator.get_weights())
            self.ema_decay = config.ema_decay
            self.g_optimizer = keras.optimizers.Adam(config.g_learning_rate, config.beta_1, config.beta_2)
            self.d_optimizer = keras.optimizers.Adam(config.d_learning_rate, config.beta_1, config.beta_2)
            self._step = None

        def call(self, inputs, training=False):
            return self.generator(inputs, training=training)

        @staticmethod
        def d_loss(on_real, on_fake):
            ops = keras.ops
            return ops.mean(ops.relu(1.0 - on_real)) + ops.mean(ops.relu(1.0 + on_fake))

        @staticmethod
        def g_loss(on_fake):
            return -keras.ops.mean(on_fake)

        def train_step(self, batch):
            if self._step is None:
                self._step = make_gan_step(self)
            d_loss, g_loss = self._step(*batch)
            return {"d_loss": d_loss, "g_loss": g_loss}

        def sync_weights(self):
            """Make the Keras variables current (JAX keeps them in a state tuple while training)."""
            if self._step is not None:
                self._step.sync()

    return ConditionalGAN
