import os
import subprocess
import sys


def test_importing_the_backend_prints_nothing():
    # TensorFlow's native start-up lines ("oneDNN custom operations", "cuInit") would land in
    # every notebook output; the backend imports TensorFlow with descriptor 2 captured.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    code = (
        "import neuron_groups.backends.tensorflow as b, tensorflow as tf; print(tf.constant(2) * 3)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert "tf.Tensor(6" in done.stdout
    assert done.stderr == ""
