"""Import TensorFlow and Keras once, dropping only the known start-up noise.

On a machine without a GPU, the standard `tensorflow` wheel writes "Could not find cuda
drivers" and "failed call to cuInit" straight to file descriptor 2, whatever the log
level; Jupyter shows them as red text in the first cell. We capture descriptor 2 while
TensorFlow loads and looks for devices, drop those lines, and pass any other line on.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile

NOISE = re.compile(
    r"All log messages before absl::InitializeLog|cudart_stub\.cc|Could not find cuda drivers"
    r"|failed call to cuInit|Unable to register cu(DNN|FFT|BLAS) factory|TF-TRT Warning"
    r"|computation placer already registered|oneDNN custom operations"
)


def _import_quietly():
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")  # triggers the CUDA probe now, inside the capture
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        kept = [line for line in capture.read().decode(errors="replace").splitlines()
                if line.strip() and not NOISE.search(line)]
    if kept:
        print("\n".join(kept), file=sys.stderr)
    tf.get_logger().setLevel("ERROR")  # e.g. retracing notices when several models train in one notebook
    import keras

    return tf, keras


tf, keras = _import_quietly()
