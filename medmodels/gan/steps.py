"""The adversarial train step: the only backend-specific code of the GANs.

A GAN step needs two gradients and two optimizers, which Keras 3 leaves to
the backend: under TensorFlow a ``tf.function`` with ``GradientTape``s updates
the variables in place; under JAX a jitted pure function maps a state tuple
(generator, discriminator and optimizer variables, and the generator's
exponential moving average) to the next one, and :meth:`JaxStep.sync` writes
that state back into the Keras variables (before saving or sampling).
Losses come from the model (``keras.ops`` only), so they are written once.
"""

from __future__ import annotations

import numpy as np


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def make_gan_step(gan):
    """A step object for ``gan`` (a :class:`medmodels.gan.models.ConditionalGAN`) on the current backend.

    ``step(real, labels, z_d, fake_labels_d, z_g, fake_labels_g)`` → ``(d_loss, g_loss)`` floats:
    one discriminator update on ``real`` (list of arrays) vs samples from ``z_d``, then one
    generator update from ``z_g``, then the EMA update of the generator weights.
    ``step.sync()`` makes the Keras variables current (a no-op under TensorFlow).
    """
    import keras

    gan.d_optimizer.build(gan.discriminator.trainable_variables)
    gan.g_optimizer.build(gan.generator.trainable_variables)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return TensorFlowStep(gan)
    if backend == "jax":
        return JaxStep(gan)
    raise NotImplementedError(f"No GAN train step for the Keras backend {backend!r} (use tensorflow or jax).")


class TensorFlowStep:
    def __init__(self, gan):
        import tensorflow as tf

        g, d, decay = gan.generator, gan.discriminator, gan.ema_decay

        @tf.function
        def step(real, labels, z_d, fake_labels_d, z_g, fake_labels_g):
            with tf.GradientTape() as tape:
                fake = _as_list(g([z_d, fake_labels_d], training=True))
                d_loss = gan.d_loss(d([*real, labels], training=True), d([*fake, fake_labels_d], training=True))
            grads = tape.gradient(d_loss, d.trainable_variables)
            gan.d_optimizer.apply_gradients(zip(grads, d.trainable_variables))
            with tf.GradientTape() as tape:
                fake = _as_list(g([z_g, fake_labels_g], training=True))
                g_loss = gan.g_loss(d([*fake, fake_labels_g], training=True))
            grads = tape.gradient(g_loss, g.trainable_variables)
            gan.g_optimizer.apply_gradients(zip(grads, g.trainable_variables))
            for average, variable in zip(gan.ema_generator.trainable_variables, g.trainable_variables):
                average.assign(decay * average + (1.0 - decay) * variable)
            return d_loss, g_loss

        self._step = step

    def __call__(self, real, labels, z_d, fake_labels_d, z_g, fake_labels_g):
        d_loss, g_loss = self._step(list(real), labels, z_d, fake_labels_d, z_g, fake_labels_g)
        return float(d_loss), float(g_loss)

    def sync(self):
        pass


class JaxStep:
    def __init__(self, gan):
        import jax

        g, d, decay = gan.generator, gan.discriminator, gan.ema_decay
        self.gan = gan
        self.state = (
            [v.value for v in g.trainable_variables], [v.value for v in g.non_trainable_variables],
            [v.value for v in d.trainable_variables], [v.value for v in d.non_trainable_variables],
            [v.value for v in gan.g_optimizer.variables], [v.value for v in gan.d_optimizer.variables],
            [v.value for v in gan.ema_generator.trainable_variables],
        )

        def generate(g_tv, g_ntv, z, y):
            fake, g_ntv = g.stateless_call(g_tv, g_ntv, [z, y], training=True)
            return _as_list(fake), g_ntv

        def d_loss_fn(d_tv, d_ntv, g_tv, g_ntv, real, labels, z, y):
            fake, _ = generate(g_tv, g_ntv, z, y)
            on_real, d_ntv = d.stateless_call(d_tv, d_ntv, [*real, labels], training=True)
            on_fake, d_ntv = d.stateless_call(d_tv, d_ntv, [*fake, y], training=True)
            return gan.d_loss(on_real, on_fake), d_ntv

        def g_loss_fn(g_tv, g_ntv, d_tv, d_ntv, z, y):
            fake, g_ntv = generate(g_tv, g_ntv, z, y)
            on_fake, _ = d.stateless_call(d_tv, d_ntv, [*fake, y], training=True)
            return gan.g_loss(on_fake), g_ntv

        @jax.jit
        def step(state, real, labels, z_d, fake_labels_d, z_g, fake_labels_g):
            g_tv, g_ntv, d_tv, d_ntv, g_ov, d_ov, ema = state
            (d_loss, d_ntv), grads = jax.value_and_grad(d_loss_fn, has_aux=True)(
                d_tv, d_ntv, g_tv, g_ntv, real, labels, z_d, fake_labels_d)
            d_tv, d_ov = gan.d_optimizer.stateless_apply(d_ov, grads, d_tv)
            (g_loss, g_ntv), grads = jax.value_and_grad(g_loss_fn, has_aux=True)(
                g_tv, g_ntv, d_tv, d_ntv, z_g, fake_labels_g)
            g_tv, g_ov = gan.g_optimizer.stateless_apply(g_ov, grads, g_tv)
            ema = [decay * a + (1.0 - decay) * v for a, v in zip(ema, g_tv)]
            return (g_tv, g_ntv, d_tv, d_ntv, g_ov, d_ov, ema), d_loss, g_loss

        self._step = step

    def __call__(self, real, labels, z_d, fake_labels_d, z_g, fake_labels_g):
        self.state, d_loss, g_loss = self._step(self.state, [np.asarray(r) for r in real], labels, z_d,
                                                fake_labels_d, z_g, fake_labels_g)
        return float(d_loss), float(g_loss)

    def sync(self):
        gan = self.gan
        g_tv, g_ntv, d_tv, d_ntv, g_ov, d_ov, ema = self.state
        pairs = ((gan.generator.trainable_variables, g_tv), (gan.generator.non_trainable_variables, g_ntv),
                 (gan.discriminator.trainable_variables, d_tv), (gan.discriminator.non_trainable_variables, d_ntv),
                 (gan.g_optimizer.variables, g_ov), (gan.d_optimizer.variables, d_ov),
                 (gan.ema_generator.trainable_variables, ema))
        for variables, values in pairs:
            for variable, value in zip(variables, values):
                variable.assign(value)
