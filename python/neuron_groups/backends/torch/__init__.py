"""The PyTorch backend: InceptionV1 (BVLC GoogLeNet) as a VisionModel, built with PyTorch.

Importing this package imports PyTorch, never TensorFlow. Tensors are channels-first
inside; above the seam every array is channels-last, (H, W, C), as with TensorFlow.
Feature visualization lives in :mod:`neuron_groups.backends.torch.optvis`, imported only
when icons are rendered.
"""

from neuron_groups.backends.torch.common import TorchVisionModel
from neuron_groups.backends.torch.inceptionv1 import InceptionV1

__all__ = ["InceptionV1", "TorchVisionModel"]
