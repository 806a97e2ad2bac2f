"""wasm-migrate verify: records the tensors the original hands its model, inside its server.

Put first on PYTHONPATH as `sitecustomize`, it wraps `onnxruntime.InferenceSession.run` once
ONNX Runtime is imported and saves each call's inputs and outputs as .npy files in the folder
WASM_MIGRATE_TENSOR_DIR names: `SEQ-input-I.npy`, `SEQ-output-I.npy`, with I the position in
the session's inputs and outputs. verify compares them with what the bundle's `wasi_nn`
module sent the host (stage 1: the model's inputs, stage 2: its outputs).
"""

import importlib.abc
import importlib.util
import itertools
import os
import sys
import threading

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


def _audit(event, args):
    if event == "import":
        module = sys.modules.get("onnxruntime")
        session = getattr(module, "InferenceSession", None) if module else None
        if session is not None:
            _wrap(session)


class _Watch(importlib.abc.MetaPathFinder):
    """Finds nothing itself: lets the real finder find onnxruntime, then wraps the session
    class once the package has run."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "onnxruntime":
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        real_exec = spec.loader.exec_module

        def exec_module(module):
            real_exec(module)
            session = getattr(module, "InferenceSession", None)
            if session is not None:
                _wrap(session)

        try:
            spec.loader.exec_module = exec_module
        except (AttributeError, TypeError):
            pass
        return spec


if _OUT:
    sys.meta_path.insert(0, _Watch())
    sys.addaudithook(_audit)

# A sitecustomize of the environment's own, shadowed by this one, still runs.
_here = os.path.dirname(os.path.abspath(__file__))
for _entry in sys.path:
    if os.path.abspath(_entry or ".") == _here:
        continue
    _candidate = os.path.join(_entry, "sitecustomize.py")
    if os.path.isfile(_candidate):
        _spec = importlib.util.spec_from_file_location("_service_sitecustomize", _candidate)
        if _spec and _spec.loader:
            try:
                _spec.loader.exec_module(importlib.util.module_from_spec(_spec))
            except Exception:
                pass
        break
