"""The TensorFlow backend: InceptionV1 (BVLC GoogLeNet) and any Keras model as VisionModels.

Importing this package imports nothing from TensorFlow: its names are imported on first
use, and each module that needs TensorFlow imports it quietly
(:func:`~neuron_groups.backends.tensorflow._import.import_tensorflow`), without Keras,
which only :class:`KerasVisionModel` imports. Feature visualization lives in the ``optvis``
subpackage and is imported only when icons are rendered.
"""

from neuron_groups.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__, common="TFVisionModel", inceptionv1="InceptionV1", keras_model="KerasVisionModel"
)
