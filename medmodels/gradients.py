"""Backend-specific gradient code, kept in this one module.

Keras 3 models run under TensorFlow, JAX or PyTorch, but taking a gradient is
backend-specific.  :func:`value_and_grad` hides that, so saliency methods (ECG
Grad-CAM now, CT Grad-CAM later) are written once against ``keras.ops``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def value_and_grad(scalar_fn: Callable, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Value and gradient of ``scalar_fn`` at ``x``.

    ``scalar_fn`` maps a backend tensor shaped like ``x`` to a scalar tensor,
    using ``keras.ops``/Keras layers only.  Returns ``(value, gradient)`` with
    the gradient as a float32 NumPy array of ``x``'s shape.  Nothing is
    mutated: no model weights or layers are touched.
    """
    import keras

    backend = keras.backend.backend()
    x = np.asarray(x, dtype=np.float32)
    if backend == "tensorflow":
        import tensorflow as tf

        tensor = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            value = scalar_fn(tensor)
        grad = tape.gradient(value, tensor)
        grad = np.zeros_like(x) if grad is None else grad.numpy()
        return float(value.numpy()), grad.astype(np.float32)
    if backend == "jax":
        import jax

        value, grad = jax.value_and_grad(lambda t: scalar_fn(t))(jax.numpy.asarray(x))
        return float(value), np.asarray(grad, dtype=np.float32)
    if backend == "torch":
        import torch

        tensor = torch.tensor(x, requires_grad=True)
        value = scalar_fn(tensor)
        (grad,) = torch.autograd.grad(value, tensor)
        return float(value.detach()), grad.detach().cpu().numpy().astype(np.float32)
    raise NotImplementedError(f"No gradient implementation for the Keras backend {backend!r}.")


def compiled_value_and_grad(scalar_fn: Callable) -> Callable:
    """A compiled ``(x, *constants) -> (value, gradient wrt x)`` for repeated use.

    ``scalar_fn(x, *constants)`` returns a scalar tensor.  Under TensorFlow the
    pair is a ``tf.function`` (traced once per input rank, any batch size);
    under JAX it is ``jax.jit(jax.value_and_grad(...))``; other backends fall
    back to :func:`value_and_grad`.  Results are NumPy (float, float32 array).
    Build it once per model and reuse it: compiling costs about a second.
    """
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function(reduce_retracing=True)
        def pair(x, *constants):
            with tf.GradientTape() as tape:
                tape.watch(x)
                value = scalar_fn(x, *constants)
            return value, tape.gradient(value, x)

        def run(x, *constants):
            value, grad = pair(tf.convert_to_tensor(np.asarray(x, dtype=np.float32)),
                               *[tf.convert_to_tensor(np.asarray(c, dtype=np.float32)) for c in constants])
            return float(value.numpy()), grad.numpy().astype(np.float32)

        return run
    if backend == "jax":
        import jax

        jitted = jax.jit(jax.value_and_grad(scalar_fn))

        def run(x, *constants):
            value, grad = jitted(np.asarray(x, dtype=np.float32), *[np.asarray(c, dtype=np.float32) for c in constants])
            return float(value), np.asarray(grad, dtype=np.float32)

        return run
    return lambda x, *constants: value_and_grad(lambda t: scalar_fn(t, *constants), x)
