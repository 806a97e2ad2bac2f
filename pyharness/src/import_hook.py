# wasm-migrate's one import hook (pyharness/src/import_hook.py), written beside the probes
# that run as `sitecustomize` inside the service's own server (bench's model-load probe,
# verify --http's tensor probe) as wasm_migrate_import_hook.py.
#
# when_imported(name, callback) calls callback(module) once module `name` has run: at once
# when it is imported already, else right after the import system executes it (a finder that
# finds nothing itself, so the spec and loader stay the real ones), or on a later import
# statement for modules that some libraries (transformers 5.x) execute without the import
# system's finders. A callback returns True when it is done; until then it is called again
# on later imports (a package seen half-initialised). An exception counts as done. Callbacks
# must be idempotent: the finder calls them again after the module has run.

import importlib.abc
import importlib.util
import os
import sys

_CALLBACKS = {}  # module name -> [callback]
_DONE = set()  # id() of callbacks that are done
_INSTALLED = []


def _call(callback, module):
    try:
        done = callback(module)
    except Exception:
        done = True
    if done:
        _DONE.add(id(callback))


def _sweep():
    """Calls the callbacks not done yet of the watched modules loaded by now."""
    for name, callbacks in list(_CALLBACKS.items()):
        module = sys.modules.get(name)
        if module is None:
            continue
        for callback in callbacks:
            if id(callback) not in _DONE:
                _call(callback, module)


def _audit(event, args):
    if event == "import":
        _sweep()


class _Watch(importlib.abc.MetaPathFinder):
    """Finds nothing itself: lets the real finder find a watched module, then calls its
    callbacks once the module has run."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _CALLBACKS:
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
            for callback in _CALLBACKS.get(fullname, []):
                _call(callback, module)

        try:
            spec.loader.exec_module = exec_module
        except (AttributeError, TypeError):
            pass
        return spec


def when_imported(name, callback):
    """Calls callback(module) once module `name` has been imported (see above)."""
    if not _INSTALLED:
        _INSTALLED.append(_Watch())
        sys.meta_path.insert(0, _INSTALLED[0])
        sys.addaudithook(_audit)
    _CALLBACKS.setdefault(name, []).append(callback)
    _sweep()


def run_shadowed_sitecustomize(probe_file):
    """Runs the environment's own sitecustomize, which the probe at `probe_file` (first on
    PYTHONPATH as `sitecustomize`) shadows."""
    here = os.path.dirname(os.path.abspath(probe_file))
    for entry in sys.path:
        if os.path.abspath(entry or ".") == here:
            continue
        candidate = os.path.join(entry, "sitecustomize.py")
        if os.path.isfile(candidate):
            spec = importlib.util.spec_from_file_location("_service_sitecustomize", candidate)
            if spec and spec.loader:
                try:
                    spec.loader.exec_module(importlib.util.module_from_spec(spec))
                except Exception:
                    pass
            break
