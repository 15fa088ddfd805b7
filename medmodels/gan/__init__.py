"""Class-conditional GANs for synthetic CT nodule patches and ECG beats (issue #5).

Synthetic samples are for review and teaching, never diagnosis; every file the
package writes says SYNTHETIC in its name and its content.

- :mod:`.models`: generators/discriminators (Keras 3) and the ``ConditionalGAN`` model.
- :mod:`.steps`: the backend-specific adversarial train step (TensorFlow, JAX), in one place.
- :mod:`.data`: real training and held-out arrays from the detector's and classifier's pipelines.
- :mod:`.generate`: loading committed generators and seeded sampling.
- :mod:`.metrics`: FID, precision/recall, memorisation.
"""

#: Word put in every synthetic file name and in its content.
SYNTHETIC = "SYNTHETIC"
#: The review/teaching statement shown beside every synthetic sample.
STATEMENT = ("Synthetic samples made by a generative model, for review and teaching only: "
             "not real patient data and not for diagnosis.")
