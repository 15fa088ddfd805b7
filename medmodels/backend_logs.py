"""Keep TensorFlow's expected-retracing warning out of the logs.

Why: an ensemble's networks each trace their compiled inference and gradient
functions twice, for the first batch size and once more for any batch size
(``reduce_retracing``; :func:`medmodels.ecg.pipeline.warm_up`).  TensorFlow
counts retraces across every instance of Keras's predict step, so six networks
tracing once more read to it as "5 out of the last 5 calls ... triggered
tf.function retracing", and it prints a warning on the server console and on
the command line's stderr that suggests a bug where there is none.  Only that
message is dropped; every other TensorFlow log line passes.
"""

from __future__ import annotations

import logging

#: The words that mark TensorFlow's retracing warning (tensorflow/python/eager/polymorphic_function).
RETRACING_MESSAGE = "triggered tf.function retracing"


class _ExpectedRetracing(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return RETRACING_MESSAGE not in record.getMessage()


def quiet_expected_retracing() -> None:
    """Drop the retracing warning from the ``tensorflow`` logger (once per process; idempotent)."""
    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _ExpectedRetracing) for f in logger.filters):
        logger.addFilter(_ExpectedRetracing())
