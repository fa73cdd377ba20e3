"""The PyTorch backend: InceptionV1 (BVLC GoogLeNet) and any nn.Module classifier.

Importing this package imports PyTorch, never TensorFlow. Tensors are channels-first
inside; above the seam every array is channels-last, (H, W, C), as with TensorFlow.
Feature visualization lives in :mod:`neuron_groups.backends.torch.optvis`, imported only
when icons are rendered. :class:`TorchModuleModel` wraps a user's classifier
(:mod:`neuron_groups.backends.torch.module`).
"""

from neuron_groups.backends.torch.common import TorchVisionModel
from neuron_groups.backends.torch.inceptionv1 import InceptionV1
from neuron_groups.backends.torch.module import TorchModuleModel

__all__ = ["InceptionV1", "TorchModuleModel", "TorchVisionModel"]
