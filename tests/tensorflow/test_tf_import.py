import os
import subprocess
import sys


def test_importing_the_backend_prints_nothing():
    # TensorFlow's native start-up lines ("oneDNN custom operations", "cuInit") would land in
    # every notebook output; the backend imports TensorFlow with descriptor 2 captured.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    code = (
        "from neuron_groups.backends.tensorflow import InceptionV1\n"
        "import tensorflow as tf; print(tf.constant(2) * 3)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert "tf.Tensor(6" in done.stdout
    assert done.stderr == ""


def _run(code: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_the_backend_imports_tensorflow_without_keras_and_leaves_tf_keras_working():
    # Keras (with pandas, scikit-learn and IPython) is a third of TensorFlow's import time and
    # the built-in model does not use it: the backend leaves it out, and tf.keras still works.
    code = (
        "import os, sys\n"
        "import neuron_groups.backends.tensorflow as backend\n"
        "backend.TFVisionModel\n"
        "print('keras' in sys.modules, 'pandas' in sys.modules)\n"
        "print(os.environ.get('TF_USE_LEGACY_KERAS'))\n"
        "import tensorflow as tf\n"
        "print(tf.keras.layers.Dense(2)(tf.ones((1, 3))).shape)\n"
        "print(backend.KerasVisionModel.__name__)\n"
    )
    assert _run(code).splitlines() == ["False False", "None", "(1, 2)", "KerasVisionModel"]


def test_a_legacy_keras_setting_of_the_user_is_left_alone():
    code = (
        "import os\n"
        "from neuron_groups.backends.tensorflow._import import import_tensorflow\n"
        "import_tensorflow()\n"
        "print(os.environ['TF_USE_LEGACY_KERAS'])\n"
    )
    assert _run(code, TF_USE_LEGACY_KERAS="0") == "0"


def test_keras_imported_first_is_used_as_it_is():
    code = (
        "import keras, sys\n"
        "from neuron_groups.backends.tensorflow._import import import_tensorflow\n"
        "tf = import_tensorflow()\n"
        "print(tf.keras.Model is keras.Model)\n"
    )
    assert _run(code) == "True"


def test_importing_the_packages_imports_no_framework():
    # Names are imported on first use: the packages alone import neither framework.
    code = (
        "import sys\n"
        "import neuron_groups.backends.tensorflow, neuron_groups.backends.tensorflow.optvis\n"
        "import neuron_groups.backends.torch, neuron_groups.backends.torch.optvis\n"
        "print(sorted({'tensorflow', 'keras', 'torch'} & set(sys.modules)))\n"
        "from neuron_groups.backends.tensorflow import TFVisionModel\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules, 'torch' in sys.modules)\n"
    )
    assert _run(code).splitlines() == ["[]", "True False False"]


def test_a_backend_module_imported_first_imports_tensorflow_quietly():
    # Whichever module of the backend comes first brings TensorFlow in through the one import.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    code = "import neuron_groups.backends.tensorflow.optvis.param as p; print(p.tf.constant(1))"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert "tf.Tensor(1" in done.stdout and done.stderr == ""
