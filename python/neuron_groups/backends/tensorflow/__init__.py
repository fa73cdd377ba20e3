"""The TensorFlow backend: InceptionV1 (BVLC GoogLeNet) and any Keras model as VisionModels.

Importing this package imports TensorFlow, but not Keras: :class:`KerasVisionModel` (and
with it Keras) is imported when first asked for. Feature visualization lives in the
``optvis`` subpackage and is imported only when icons are rendered.
"""

from neuron_groups.backends.tensorflow._import import import_tensorflow

import_tensorflow()  # before the modules below import it, so its start-up lines stay quiet

from neuron_groups.backends.tensorflow.common import TFVisionModel  # noqa: E402
from neuron_groups.backends.tensorflow.inceptionv1 import InceptionV1  # noqa: E402


def __getattr__(name):
    if name == "KerasVisionModel":
        from neuron_groups.backends.tensorflow.keras_model import KerasVisionModel

        return KerasVisionModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["InceptionV1", "KerasVisionModel", "TFVisionModel"]
