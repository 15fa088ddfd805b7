"""ECG beat analysis: conditioning, QRS detection, beat classification, rhythm summary.

Importable without Streamlit; TensorFlow/Keras is imported lazily by the
modules that need a model (``model``, ``saliency``, ``pipeline``).
"""

#: AAMI EC57 beat classes, in the order of the classifier's outputs.
AAMI_CLASSES = ("N", "S", "V", "F", "Q")
