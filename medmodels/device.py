"""Which compute device the Keras backend will use."""

from __future__ import annotations

import os


def keras_backend() -> str:
    """The configured Keras backend name, without importing Keras."""
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def compute_device() -> str:
    """A human-readable name of the device models run on: a GPU's name, or 'CPU'."""
    backend = keras_backend()
    try:
        if backend == "jax":
            import jax

            gpus = [d for d in jax.devices() if d.platform == "gpu"]
            return f"GPU: {gpus[0].device_kind} (JAX)" if gpus else "CPU (JAX)"
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            return f"GPU: {details.get('device_name', gpus[0].name)} (TensorFlow)"
        return "CPU (TensorFlow)"
    except Exception as exc:  # a broken GPU driver must not take the page down
        return f"CPU (backend {backend} unavailable: {type(exc).__name__})"
