"""InceptionV1 in PyTorch: agreement with the TensorFlow backend, gradients, bad input.

The PyTorch model is checked against the TensorFlow one (the reference, which
``test_inceptionv1.py`` checks against Caffe's published outputs) on the 10 example images,
and its one-pass gradients against forward-mode derivatives (``torch.func.jvp``).
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from neuron_groups.attribution import group_attributions  # noqa: E402
from neuron_groups.backends.base import Targets  # noqa: E402
from neuron_groups.backends.torch import InceptionV1  # noqa: E402
from neuron_groups.backends.torch.common import to_channels_first  # noqa: E402
from neuron_groups.errors import ClassNameError, ImageError, LayerError  # noqa: E402
from neuron_groups.factorization import factorize  # noqa: E402
from neuron_groups.images import load_image  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ["NEURON_GROUPS_DATA"])  # set by conftest.py
IMAGES = sorted(p.stem for p in (SHARED / "images").glob("*.png"))
CLASSES = [208, 282, 207]  # Labrador retriever, tiger cat, golden retriever
LOGITS_ATOL = 1e-3
ACTS_RTOL = 1e-4  # max |torch - tf| / max |tf|, over every (y, x, c)
ATTR_ATOL = 1e-3
EXACT_ATOL = 1e-5
"""How close the PyTorch attributions are to the float64 network's (3e-6 at worst here)."""

# torch.func.jvp's first use scripts decompositions with the deprecated torch.jit.script.
pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script.*")


@pytest.fixture(scope="module")
def torch_inception():
    """The PyTorch InceptionV1, built once for this module."""
    return InceptionV1()


@pytest.fixture(scope="module")
def float64_net(torch_inception):
    """The same GoogLeNet in float64: the reference both float32 backends round from."""
    return copy.deepcopy(torch_inception.module).double()


def float64_attributions(net, logits_layer, image, classes, groups) -> np.ndarray:
    """Group attributions (T, n) of ``classes`` at mixed4d, all in float64."""
    x = torch.from_numpy(image[None].astype(np.float64)).permute(0, 3, 1, 2)  # (1, 3, H, W)
    with torch.no_grad():
        acts = net(x, "mixed4d")  # (1, 528, 14, 14)
    tiled = acts.repeat(len(classes), 1, 1, 1).requires_grad_(True)  # (T, 528, 14, 14)
    logits = net.run(tiled, "mixed4d", logits_layer)  # (T, 1000)
    total = logits.gather(1, torch.as_tensor(classes)[:, None]).sum()
    (grads,) = torch.autograd.grad(total, tiled)
    grads = grads.permute(0, 2, 3, 1).numpy()  # (T, 14, 14, 528)
    return group_attributions(grads, groups.spatial.astype(float), groups.channel.astype(float))


def test_the_ten_example_images_are_there():
    assert len(IMAGES) == 10


# -- agreement with the TensorFlow backend -------------------------------------------------------
@pytest.mark.parametrize("name", IMAGES)
def test_agrees_with_tensorflow(inception, torch_inception, float64_net, name):
    image = load_image(SHARED / "images" / f"{name}.png")
    ref = inception.read(image, "mixed4d", Targets.top_classes(5))
    got = torch_inception.read(image, "mixed4d", Targets.top_classes(5))
    np.testing.assert_array_equal(got.targets, ref.targets)
    assert got.acts.shape == ref.acts.shape == (14, 14, 528)
    assert got.grads.shape == ref.grads.shape == (5, 14, 14, 528)
    assert np.abs(got.logits - ref.logits).max() <= LOGITS_ATOL
    assert np.abs(got.acts - ref.acts).max() <= ACTS_RTOL * np.abs(ref.acts).max()
    # The same groups (NMF of the TF activations); attribution from each backend's gradients.
    groups = factorize(ref.acts, 6)
    ref_attr = group_attributions(ref.grads, groups.spatial, groups.channel)  # (5, 6)
    got_attr = group_attributions(got.grads, groups.spatial, groups.channel)
    if np.abs(got_attr - ref_attr).max() <= ATTR_ATOL:
        return
    # The gradient jumps where a max pool's winner changes. On chair, a mixed4d unit whose
    # pre-activation is -1.2e-5 in float64 (its terms sum to 172 in magnitude, so float32
    # rounding is 1e-5) comes out -3.2e-5 in PyTorch and +4.4e-6 in TensorFlow: in TF it
    # wins three all-zero windows of mixed4e's 3x3 pool, which move their gradient by 1.1e-3.
    # Where the backends differ by more than the bound, the float64 network must side with
    # PyTorch as closely as the backends agree elsewhere: the difference is TF's rounding.
    exact = float64_attributions(
        float64_net, torch_inception.logits_layer, image, ref.targets, groups
    )
    assert np.abs(got_attr - exact).max() <= EXACT_ATOL
    assert np.abs(ref_attr - exact).max() > ATTR_ATOL


def test_same_layers_weights_and_identity(inception, torch_inception):
    assert torch_inception.layers() == inception.layers()
    assert torch_inception.n_classes == 1000
    pairs = zip(torch_inception.weight_arrays(), inception.weight_arrays(), strict=True)
    for mine, theirs in pairs:
        assert mine.shape == theirs.shape
        np.testing.assert_array_equal(mine, theirs)
    assert torch_inception.identity == inception.identity
    changed = {k: (w + 1, b) for k, (w, b) in _weights(torch_inception).items()}
    assert InceptionV1(weights=changed).identity != inception.identity


def _weights(model):
    from neuron_groups.backends.inceptionv1 import weight_shapes

    arrays = iter(model.weight_arrays())
    return {prefix: (next(arrays), next(arrays)) for prefix in weight_shapes()}


def test_caffe_aliases_and_layers_after_the_logits(torch_inception, dog_cat):
    by_alias = torch_inception.activations(dog_cat, "inception_4d/output")
    np.testing.assert_array_equal(by_alias, torch_inception.activations(dog_cat, "mixed4d"))
    probs = torch_inception.read(dog_cat, "softmax2")
    assert probs.acts.shape == (1000,)
    e = np.exp(probs.logits - probs.logits.max())
    np.testing.assert_allclose(probs.acts, e / e.sum(), rtol=1e-5, atol=1e-7)


def test_small_image_reads_a_layer_it_reaches(inception, torch_inception):
    # 40x40 reaches mixed3a but not the logits: activations() still reads it.
    image = np.random.default_rng(0).random((40, 40, 3), dtype=np.float32)
    got = torch_inception.activations(image, "mixed3a")
    ref = inception.activations(image, "mixed3a")
    assert got.shape == ref.shape
    assert np.abs(got - ref).max() <= ACTS_RTOL * np.abs(ref).max()


# -- the pass itself: eval mode, frozen weights, the model's device --------------------------
def test_weights_are_frozen_and_the_module_in_eval_mode(torch_inception, dog_cat):
    torch_inception.read(dog_cat, "mixed4d", Targets.classes(CLASSES))
    params = list(torch_inception.module.parameters())
    assert len(params) == 2 * 58  # 57 convolutions and the classifier
    assert not any(p.requires_grad for p in params)
    assert all(p.grad is None for p in params)
    assert not torch_inception.module.training
    assert torch_inception.device == torch.device("cpu")


def test_top_classes_are_the_best_logits_with_their_gradients(torch_inception, dog_cat):
    top = torch_inception.read(dog_cat, "mixed4d", Targets.top_classes(5))
    best = np.argsort(-top.logits, kind="stable")[:5]
    np.testing.assert_array_equal(top.targets, best)
    assert top.targets.dtype == np.int64
    named = torch_inception.read(dog_cat, "mixed4d", Targets.classes(best.tolist()))
    np.testing.assert_allclose(top.grads, named.grads, rtol=1e-5, atol=1e-8)


def test_gradients_are_per_class(torch_inception, dog_cat):
    together = torch_inception.read(dog_cat, "mixed4d", Targets.classes(CLASSES)).grads
    for row, cls in enumerate(CLASSES):
        alone = torch_inception.read(dog_cat, "mixed4d", Targets.classes([cls])).grads
        np.testing.assert_allclose(together[row], alone[0], rtol=1e-4, atol=1e-7)
    assert not np.allclose(together[0], together[1])


# -- gradients against forward mode ------------------------------------------------------------
def forward_mode(fn, acts: np.ndarray, tangents: np.ndarray) -> np.ndarray:
    """``torch.func.jvp`` of ``fn`` at ``acts`` (h, w, C) along each tangent (n, h, w, C).

    ``fn`` maps channels-first activations (n, C, h, w) to (n, ...); returns (n, ...).
    """
    primals = to_channels_first(np.repeat(acts[None], len(tangents), axis=0), torch.device("cpu"))
    directions = to_channels_first(tangents, torch.device("cpu"))
    _, out = torch.func.jvp(fn, (primals,), (directions,))
    return out.numpy().astype(np.float64)


@pytest.mark.parametrize("layer", ["mixed4d", "mixed5a"])
def test_class_gradients_match_forward_mode(torch_inception, dog_cat, layer):
    reading = torch_inception.read(dog_cat, layer, Targets.classes(CLASSES))
    # Non-negative directions, like NMF's factors.
    tangents = np.random.default_rng(0).random((2, *reading.acts.shape), dtype=np.float32)
    head = lambda a: torch_inception.head_from(a, layer)  # noqa: E731
    jvp = forward_mode(head, reading.acts, tangents)[:, CLASSES]  # (2, 3)
    reverse = np.einsum("khwc,nhwc->nk", reading.grads.astype(np.float64), tangents)
    np.testing.assert_allclose(reverse, jvp, rtol=1e-4, atol=1e-4 * np.abs(jvp).max())


def test_direction_targets_match_forward_mode(torch_inception, dog_cat):
    rng = np.random.default_rng(7)
    vectors = rng.random((2, 528), dtype=np.float32)  # two directions at mixed4d
    reading = torch_inception.read(dog_cat, "mixed4a", Targets.directions("mixed4d", vectors))
    assert reading.grads.shape == (2, 14, 14, 512)
    np.testing.assert_array_equal(reading.targets, [0, 1])
    np.testing.assert_allclose(
        reading.logits, torch_inception.logits(dog_cat), rtol=1e-5, atol=1e-5
    )
    tangents = rng.random((2, *reading.acts.shape), dtype=np.float32)

    def scores(acts):  # (n, 512, 14, 14) -> (n, T)
        out = torch_inception.continue_to(acts, "mixed4a", "mixed4d")  # (n, 528, 14, 14)
        return torch.einsum("nchw,tc->nt", out, torch.from_numpy(vectors))

    jvp = forward_mode(scores, reading.acts, tangents)  # (n, T)
    reverse = np.einsum("thwc,nhwc->nt", reading.grads.astype(np.float64), tangents)
    np.testing.assert_allclose(reverse, jvp, rtol=1e-4, atol=1e-4 * np.abs(jvp).max())
    assert not np.allclose(reading.grads[0], reading.grads[1])


def test_direction_targets_agree_with_tensorflow(inception, torch_inception, dog_cat):
    vectors = np.random.default_rng(8).random((3, 528), dtype=np.float32)
    targets = Targets.directions("mixed4d", vectors)
    ref = inception.read(dog_cat, "mixed4a", targets)
    got = torch_inception.read(dog_cat, "mixed4a", targets)
    assert np.abs(got.grads - ref.grads).max() <= 1e-4 * np.abs(ref.grads).max()
    assert np.abs(got.logits - ref.logits).max() <= LOGITS_ATOL


# -- bad input: the same errors as TensorFlow ------------------------------------------------
def _gray(image):
    return image[..., 0]


def _same(image):
    return image


BAD_READS = {
    "integer image": (lambda im: (im * 255).astype(np.uint8), "mixed4d", Targets.classes([1])),
    "grayscale": (_gray, "mixed4d", Targets.classes([1])),
    "0..255 floats": (lambda im: im * 255, "mixed4d", Targets.classes([1])),
    "too small": (lambda im: im[:20, :20], "mixed4d", Targets.classes([1])),
    "unknown layer": (_same, "mixed4z", Targets.classes([1])),
    "class out of range": (_same, "mixed4d", Targets.classes([1000])),
    "class by name": (_same, "mixed4d", Targets("classes", indices=("tiger cat",))),
    "too many best": (_same, "mixed4d", Targets.top_classes(1001)),
    "class after logits": (_same, "softmax2", Targets.classes([1])),
    "direction before": (_same, "mixed4d", Targets.directions("mixed4a", np.ones((1, 512)))),
    "direction width": (_same, "mixed4a", Targets.directions("mixed4d", np.ones((1, 5)))),
}


@pytest.mark.parametrize("case", sorted(BAD_READS))
def test_bad_input_raises_what_tensorflow_raises(inception, torch_inception, dog_cat, case):
    change, layer, targets = BAD_READS[case]
    image = change(dog_cat)
    with pytest.raises((ImageError, LayerError, ClassNameError)) as ref:
        inception.read(image, layer, targets)
    with pytest.raises(ref.type) as got:
        torch_inception.read(image, layer, targets)
    assert str(got.value) == str(ref.value)


# -- no TensorFlow --------------------------------------------------------------------------
def test_the_backend_works_without_tensorflow():
    code = (
        "import sys; sys.modules['tensorflow'] = None\n"
        "import neuron_groups\n"
        "from neuron_groups.backends.base import Targets\n"
        "from neuron_groups.backends.torch import InceptionV1\n"
        "from neuron_groups.images import load_image\n"
        "from neuron_groups.labels import imagenet_names\n"
        "model = InceptionV1(class_names=imagenet_names())\n"
        "r = model.read(load_image('dog_cat'), 'mixed4d', Targets.top_classes(2))\n"
        "assert r.grads.shape == (2, 14, 14, 528), r.grads.shape\n"
        "from neuron_groups.backends.base import IconSettings\n"
        "import numpy as np\n"
        "icons = model.render_icons('mixed4d', np.ones((1, 528)), IconSettings(size=32, steps=2))\n"
        "assert icons.shape == (1, 32, 32, 3), icons.shape\n"
        "print([model.class_names[i] for i in r.targets])\n"
        "assert not any(m.split('.')[0] in ('tensorflow', 'keras') "
        "for m, v in sys.modules.items() if v is not None)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "python")}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "['golden retriever', 'Labrador retriever']" in done.stdout


NO_TENSORFLOW = """
import sys

HIDDEN = ("tensorflow", "keras", "tf_keras")


class Hiding:
    # Wraps an import finder so that it does not find TensorFlow or Keras: imports fail and
    # importlib.util.find_spec answers None, as if they were not installed.
    def __init__(self, finder):
        self.finder = finder

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            return None
        find = getattr(self.finder, "find_spec", None)
        return find(name, path, target) if find else None

    def __getattr__(self, attribute):
        return getattr(self.finder, attribute)


sys.meta_path[:] = [Hiding(finder) for finder in sys.meta_path]
"""


def test_the_module_tests_pass_without_tensorflow(tmp_path):
    # The whole of test_torch_module.py (ResNet-50, ViTs, widget, page) and of
    # test_torch_huggingface.py (transformers' models) with TensorFlow made unimportable; a
    # sitecustomize.py hides them before anything runs.
    (tmp_path / "sitecustomize.py").write_text(NO_TENSORFLOW, encoding="utf-8")
    paths = [str(tmp_path), str(REPO / "python"), str(REPO), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    modules = ("test_torch_module.py", "test_torch_huggingface.py")
    command += [str(REPO / "tests" / "torch" / module) for module in modules]
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    passed = re.search(r"\b(\d+) passed", done.stdout)
    assert passed and int(passed.group(1)) >= 40, done.stdout[-500:]
    blocked = subprocess.run(
        [sys.executable, "-c", "import tensorflow"], env=env, capture_output=True, text=True
    )
    assert "ModuleNotFoundError: No module named 'tensorflow'" in blocked.stderr


def test_load_model_builds_the_torch_backend_by_name():
    from neuron_groups.backends.torch import InceptionV1 as TorchInceptionV1
    from neuron_groups.errors import ModelError
    from neuron_groups.models import load_model

    model = load_model("inceptionv1", backend="torch")
    assert isinstance(model, TorchInceptionV1)
    assert load_model("googlenet", backend="pytorch") is model  # built once per process
    assert model.identity == load_model("inceptionv1").identity  # one icon cache for both
    with pytest.raises(ModelError, match="Did you mean 'torch'"):
        load_model("inceptionv1", backend="troch")
