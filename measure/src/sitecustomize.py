"""wasm-migrate bench: times the original's model loading inside its own server process.

Put first on PYTHONPATH as `sitecustomize`, it wraps the model loaders of the frameworks the
service imports (torch, ONNX Runtime, OpenVINO, Keras/TensorFlow, transformers, joblib) as
each framework finishes importing, and appends one line per outermost load to the file named
by WASM_MIGRATE_BENCH_LOADS: `PID SECONDS`. Nothing else in the service changes.

The import hook is pyharness's, written beside this file as wasm_migrate_import_hook.py.
"""

import os
import threading
import time

from wasm_migrate_import_hook import run_shadowed_sitecustomize, when_imported

_OUT = os.environ.get("WASM_MIGRATE_BENCH_LOADS")
_DEPTH = threading.local()

# module -> attribute paths of the loaders in it
_LOADERS = {
    "torch": ["load", "jit.load"],
    "onnxruntime": ["InferenceSession.__init__"],
    "openvino": ["Core.read_model", "Core.compile_model"],
    "openvino.runtime": ["Core.read_model", "Core.compile_model"],
    # Keras 3 (and tf.keras, which is Keras 3 from TensorFlow 2.16): the function that
    # keras.models and tf.keras.models re-export, wrapped before they import it.
    "keras.src.saving.saving_api": ["load_model"],
    "tensorflow": ["saved_model.load"],
    "transformers.modeling_utils": ["PreTrainedModel.from_pretrained"],
    "transformers.models.auto.auto_factory": ["_BaseAutoModelClass.from_pretrained"],
    "transformers.tokenization_utils_base": ["PreTrainedTokenizerBase.from_pretrained"],
    "transformers.pipelines": ["pipeline"],
    "joblib": ["load"],
}


def _record(seconds):
    try:
        with open(_OUT, "a") as out:
            out.write(f"{os.getpid()} {seconds:.6f}\n")
    except OSError:
        pass


def _timed(function):
    def timed(*args, **kwargs):
        depth = getattr(_DEPTH, "value", 0)
        _DEPTH.value = depth + 1
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            _DEPTH.value = depth
            if depth == 0:
                _record(time.perf_counter() - start)

    timed.__wrapped__ = function
    timed._wasm_migrate_timed = True
    for name in ("__name__", "__qualname__", "__doc__"):
        try:
            setattr(timed, name, getattr(function, name))
        except (AttributeError, TypeError):
            pass
    return timed


def _wrap(module, path):
    *owners, name = path.split(".")
    owner = module
    for part in owners:
        owner = getattr(owner, part, None)
        if owner is None:
            return False
    original = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name, None)
    if original is None:
        return False
    if getattr(getattr(original, "__func__", original), "_wasm_migrate_timed", False):
        return True
    if isinstance(original, classmethod):
        wrapped = classmethod(_timed(original.__func__))
    elif isinstance(original, staticmethod):
        wrapped = staticmethod(_timed(original.__func__))
    else:
        wrapped = _timed(original)
    try:
        setattr(owner, name, wrapped)
    except (AttributeError, TypeError):
        return False
    return True


def _wrap_all(attributes):
    """The callback for a watched module: wraps each of its loaders; done once all are."""

    def wrap(module):
        done = True
        for attribute in attributes:
            try:
                done = _wrap(module, attribute) and done
            except Exception:
                pass
        return done

    return wrap


if _OUT:
    for _name, _attributes in _LOADERS.items():
        when_imported(_name, _wrap_all(_attributes))

# A sitecustomize of the environment's own, shadowed by this one, still runs.
run_shadowed_sitecustomize(__file__)
