"""wasm-migrate verify: records the tensors the original hands its model, inside its server.

Put first on PYTHONPATH as `sitecustomize`, it wraps `onnxruntime.InferenceSession.run` once
ONNX Runtime is imported and saves each call's inputs and outputs as .npy files in the folder
WASM_MIGRATE_TENSOR_DIR names: `SEQ-input-I.npy`, `SEQ-output-I.npy`, with I the position in
the session's inputs and outputs. verify compares them with what the bundle's `wasi_nn`
module sent the host (stage 1: the model's inputs, stage 2: its outputs).

The import hook is pyharness's, written beside this file as wasm_migrate_import_hook.py.
"""

import itertools
import os
import threading

from wasm_migrate_import_hook import run_shadowed_sitecustomize, when_imported

_OUT = os.environ.get("WASM_MIGRATE_TENSOR_DIR")
_SEQ = itertools.count()
_LOCK = threading.Lock()


def _save(seq, kind, index, value):
    import numpy as np

    np.save(os.path.join(_OUT, f"{seq:06d}-{kind}-{index}.npy"), np.asarray(value))


def _wrap(session_class):
    original = session_class.run
    if getattr(original, "_wasm_migrate_traced", False):
        return

    def run(self, output_names, input_feed, *args, **kwargs):
        outputs = original(self, output_names, input_feed, *args, **kwargs)
        try:
            with _LOCK:
                seq = next(_SEQ)
            names = [i.name for i in self.get_inputs()]
            for name, value in input_feed.items():
                _save(seq, "input", names.index(name) if name in names else 0, value)
            for index, value in enumerate(outputs):
                _save(seq, "output", index, value)
        except Exception:
            pass
        return outputs

    run._wasm_migrate_traced = True
    session_class.run = run


def _watch(module):
    """Wraps the session class once the package defines it; done then."""
    session = getattr(module, "InferenceSession", None)
    if session is None:
        return False
    _wrap(session)
    return True


if _OUT:
    when_imported("onnxruntime", _watch)

# A sitecustomize of the environment's own, shadowed by this one, still runs.
run_shadowed_sitecustomize(__file__)
