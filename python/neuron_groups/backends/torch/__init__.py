"""The PyTorch backend: InceptionV1 (BVLC GoogLeNet) and any nn.Module classifier.

Importing this package imports nothing (its names are imported on first use); its modules
import PyTorch, never TensorFlow. Tensors are channels-first inside; above the seam every
array is channels-last, (H, W, C), as with TensorFlow. Feature visualization lives in
:mod:`neuron_groups.backends.torch.optvis`, imported only when icons are rendered.
:class:`TorchModuleModel` wraps a user's classifier (:mod:`neuron_groups.backends.torch.module`),
:class:`HuggingFaceModel` a ``transformers`` vision model
(:mod:`neuron_groups.backends.torch.huggingface`).
"""

from neuron_groups.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    common="TorchVisionModel",
    inceptionv1="InceptionV1",
    module="TorchModuleModel",
    huggingface="HuggingFaceModel",
)
