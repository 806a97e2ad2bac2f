"""wasm-migrate bench: times the original's model loading inside its own server process.

Put first on PYTHONPATH as `sitecustomize`, it wraps the model loaders of the frameworks the
service imports (torch, ONNX Runtime, OpenVINO, Keras/TensorFlow, transformers, joblib) as
each framework finishes importing, and appends one line per outermost load to the file named
by WASM_MIGRATE_BENCH_LOADS: `PID SECONDS`. Nothing else in the service changes.
"""

import importlib.abc
import importlib.util
import os
import sys
import threading
import time

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


_DONE = set()


def _sweep():
    """Wraps the loaders of watched modules that are loaded by now. Some libraries (the
    transformers of 5.x) execute their submodules without the import system's finders, so
    the finder below never sees them: every import statement looks again."""
    for name, attributes in _LOADERS.items():
        if name in _DONE:
            continue
        module = sys.modules.get(name)
        if module is None:
            continue
        try:
            if all([_wrap(module, attribute) for attribute in attributes]):
                _DONE.add(name)
        except Exception:
            _DONE.add(name)


def _audit(event, args):
    if event == "import":
        _sweep()


class _Watch(importlib.abc.MetaPathFinder):
    """Finds nothing itself: lets the real finder find a watched module, then wraps its
    loaders once the module has run (the spec and its loader stay the real ones)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _LOADERS:
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
            for attribute in _LOADERS[fullname]:
                try:
                    _wrap(module, attribute)
                except Exception:
                    pass

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
