# wasm-migrate's one way to import and start a Python service (pyharness/src/service.py).
# verify's harness imports it, written beside it as wasm_migrate_service.py; the generated
# convert_model.py has it inlined, so that it stays one script the user can run by hand.
#
# Importing: the entry module as production imports it, from production's working directory
# (import_service). Starting: what the server runs before the first request, for models that
# do not exist at import: the app found from the entry (find_app: its own, an application
# factory's, the package's that mounts its router or blueprint), FastAPI lifespans and startup
# events (start_fastapi, started_apps), Flask before_request hooks (flask_hooks_run), and the
# functions that build the model on demand (lazy_getters). A Keras 2 model whose training
# configuration Keras 3 refuses loads without it (load_keras_models_for_inference).

import functools
import importlib
import importlib.util
import inspect
import os
import re
import sys
from pathlib import Path


class EntryNotFound(Exception):
    """The plan's entry point file does not exist."""


def import_package_module(dotted):
    """The module by its dotted name, or None when that name leads elsewhere (another
    package's, without this submodule); errors inside the service's own code propagate."""
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError as error:
        if error.name and dotted.startswith(error.name):
            return None
        raise


def import_service(service, file, workdir=None):
    """Imports the entry module `file` (relative to the service root `service`) as production
    does: a module of a package by its dotted name (`uvicorn app.main:app` imports `app`, then
    `app.main`), from production's working directory (the service root, or the plan's
    `workdir`), with the entry's own directory, the working directory and the package root of a
    src/ layout on sys.path, so relative imports, relative paths and `__init__` side effects
    behave as there. A lone script is imported from its file under its own name (`app` for
    app.py, registered in sys.modules so that the service's `from app import ...`, pickles and
    dataclasses find that one copy), never as `__main__`: its `if __name__ == "__main__":`
    block, which would start the server, does not run. Errors in the service propagate;
    EntryNotFound when the file does not exist."""
    service = Path(service)
    path = service / file
    if not path.is_file():
        raise EntryNotFound(f"{path}: the plan's entry point file does not exist")
    start = service / (workdir or "")
    os.chdir(start)
    try:
        # The entry's module name is relative to the working directory.
        parts = list(Path(file).relative_to(workdir or "").with_suffix("").parts)
    except ValueError:
        parts = [path.stem]  # outside it: imported from its file
    # A src/ layout: the package lives under src/, which is not itself a package.
    root = start
    if len(parts) > 1 and parts[0] in ("src", "lib") and not (start / parts[0] / "__init__.py").exists():
        root, parts = start / parts[0], parts[1:]
    # The entry's own directory too, for a script started as `python dir/app.py` that
    # imports its siblings.
    sys.path.insert(0, str(path.parent))
    sys.path.insert(0, str(start))
    if root != start:
        sys.path.insert(0, str(root))
    # A file below the root is a module of its (possibly namespace) package, as
    # `uvicorn pkg.main:app` imports it; unless that name is another installed package's (a
    # regular package wins over a namespace directory).
    if len(parts) > 1:
        module = import_package_module(".".join(parts))
        if Path(getattr(module, "__file__", "") or "").resolve() == path.resolve():
            return module
    # Its own name, unless a module already imported (the standard library's `code`, `types`)
    # has it: replacing that one would break whoever uses it.
    name = path.stem if path.stem not in sys.modules else "wasm_migrate_entry"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load_keras_models_for_inference():
    """Keras 3 refuses some training configurations that Keras 2 saved with a model (a loss's
    `reduction="auto"`), so the service's own `load_model` fails under it although inference
    never uses them. After this call such a load is retried with `compile=False`, which loads
    the same layers and weights, and a note on stderr says so. Every name the service may call
    it by (`keras.models`, `keras.saving`, `tf.keras.models`) is patched. Imports Keras (and
    TensorFlow's `tf.keras`, when installed): call it only for a Keras service."""
    try:
        import keras
    except ImportError:
        return
    if not str(getattr(keras, "__version__", "3")).startswith("3"):
        return
    try:
        import tensorflow as tf
        tf.keras.models  # TensorFlow binds its `tf.keras` names lazily
    except Exception:
        pass
    from keras.src.saving import saving_api

    original = saving_api.load_model
    if getattr(original, "_wasm_migrate_retries", False):
        return

    @functools.wraps(original)
    def load_model(*args, **kwargs):
        try:
            return original(*args, **kwargs)
        except (ValueError, TypeError) as error:
            if kwargs.get("compile", True) is False or (len(args) > 2 and args[2] is False):
                raise
            model = original(*args[:2], **{**kwargs, "compile": False})
            path = args[0] if args else kwargs.get("filepath")
            print(f"wasm-migrate: {path}: Keras {keras.__version__} refused its training "
                  f"configuration ({error}); loaded with compile=False, which inference does "
                  "not use", file=sys.stderr)
            return model

    load_model._wasm_migrate_retries = True
    for module in list(sys.modules.values()):
        if getattr(module, "load_model", None) is original:
            try:
                module.load_model = load_model
            except (AttributeError, TypeError):
                pass


def service_modules(service, entry=None):
    """The entry module first (when given), then every other module imported so far from the
    service's own files: not its virtualenv's, nor wasm-migrate's own script (`__main__`)
    and this module, which may sit under the service root (migrated/convert_model.py)."""
    root = Path(service).resolve()
    found = [entry] if entry is not None else []
    own = {"__main__", __name__}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if module is entry or not path or getattr(module, "__name__", None) in own:
            continue
        resolved = Path(path).resolve()
        if root in resolved.parents and not {".venv", "venv", "site-packages"} & set(resolved.parts):
            found.append(module)
    return found


# ---------------------------------------------------------------------------------------------
# The app


def takes_no_arguments(function):
    """Whether `function` can be called without arguments."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    return not any(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                   for p in parameters)


APP_FACTORIES = ("create_app", "make_app", "build_app", "get_app", "app_factory", "application_factory")


def app_from_factory(module, app_type):
    """The app an application factory returns (`gunicorn "pkg:create_app()"`, `flask --app
    pkg`): looked for in the entry module, then its packages' `__init__` from the nearest up,
    called without arguments as those commands call it."""
    name = module.__name__
    candidates = [module] + [sys.modules.get(name.rsplit(".", n)[0]) for n in range(1, name.count(".") + 1)]
    for holder in filter(None, candidates):
        for factory_name in APP_FACTORIES:
            factory = getattr(holder, factory_name, None)
            if not callable(factory) or not takes_no_arguments(factory):
                continue
            app = factory()
            if isinstance(app, app_type):
                return app
    return None


# The modules a server command names (`uvicorn pkg.main:app`), where an app lives.
APP_MODULES = ("main", "app", "application", "server", "api", "asgi", "wsgi", "web")


def app_modules(module):
    """Imports, one at a time, the modules a server command usually names (`main`, `app`,
    `asgi`...) in the entry's package and each package above it, and yields each that exists:
    where the app of a route defined outside it (a FastAPI router, a Flask blueprint) lives."""
    package = module.__name__.rpartition(".")[0]
    while package:
        for name in APP_MODULES:
            try:
                yield importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as error:
                if error.name != f"{package}.{name}":
                    raise
        package = package.rpartition(".")[0]


def app_in(module, app_type):
    """The app a module holds, else the one its application factory returns."""
    apps = [v for v in list(vars(module).values()) if isinstance(v, app_type)]
    return apps[0] if apps else app_from_factory(module, app_type)


def app_in_package(module, app_type):
    """The first app of the modules `app_modules` imports."""
    for candidate in app_modules(module):
        app = app_in(candidate, app_type)
        if app is not None:
            return app
    return None


def find_app(module, app_type):
    """The app that serves the entry module's routes: its own, a factory's, or the app of the
    package that mounts its router or blueprint."""
    return app_in(module, app_type) or app_in_package(module, app_type)


def start_fastapi(app):
    """A test client of a FastAPI app with its lifespan and startup events run, as uvicorn
    runs them; left open, since what the lifespan loaded lives until it exits."""
    from fastapi.testclient import TestClient

    client = TestClient(app)
    client.__enter__()
    return client


def started_apps(service, entry):
    """The service's FastAPI apps, started (start_fastapi): the apps of the service's modules,
    after the modules a server command names are imported (app_modules), else the app an
    application factory returns. A model a lifespan loads exists afterwards (in `app.state` or
    a module global)."""
    try:
        import fastapi
        from fastapi.testclient import TestClient  # noqa: F401 (start_fastapi's)
    except ImportError:
        return []
    for _ in app_modules(entry):
        pass
    apps = []
    for module in service_modules(service, entry):
        apps += [v for v in list(vars(module).values())
                 if isinstance(v, fastapi.FastAPI) and all(v is not a for a in apps)]
    if not apps:
        apps = [app for app in [app_from_factory(entry, fastapi.FastAPI)] if app is not None]
    for app in apps:
        print("running the app's lifespan, as uvicorn does", file=sys.stderr)
        start_fastapi(app)
    return apps


def flask_hooks_run(service, entry):
    """Runs the `before_request` hooks of the service's Flask apps in a request context, as the
    first request would: a model a hook loads exists afterwards (Flask 2.3 dropped
    `before_first_request`; services load there with a flag instead)."""
    try:
        import flask
    except ImportError:
        return
    for module in service_modules(service, entry):
        for app in [v for v in list(vars(module).values()) if isinstance(v, flask.Flask)]:
            for hook in app.before_request_funcs.get(None, []):
                print(f"running the before_request hook {hook.__name__}()", file=sys.stderr)
                with app.test_request_context():
                    hook()


# Names of functions services build their model in on demand (`get_model()`,
# `Classifier.load()`, `Predictor.instance()`).
GETTER = re.compile(r"^(get|load|build|create|make|init|instance)(_\w*)?$|^get_instance$")


def lazy_getters(service, entry):
    """(name, result) of each function of the service that builds its model on demand, called
    once as the first request would: `functools.lru_cache`/`cache` functions, and functions or
    class/static methods of its own classes named like getters (`get_model`, `load`,
    `instance`), that take no arguments."""
    seen = set()
    for module in service_modules(service, entry):
        for name, value in list(vars(module).items()):
            own = getattr(inspect.unwrap(value), "__module__", None) == module.__name__
            candidates = []
            if isinstance(value, functools._lru_cache_wrapper) and own:
                candidates.append((f"{module.__name__}.{name}", value))
            elif inspect.isfunction(value) and own and GETTER.match(name):
                candidates.append((f"{module.__name__}.{name}", value))
            elif inspect.isclass(value) and value.__module__ == module.__name__:
                for attr, raw in vars(value).items():
                    if isinstance(raw, (classmethod, staticmethod)) and GETTER.match(attr):
                        candidates.append((f"{module.__name__}.{name}.{attr}", getattr(value, attr)))
            for qualified, function in candidates:
                if qualified in seen or not takes_no_arguments(function):
                    continue
                seen.add(qualified)
                print(f"calling {qualified}(), which builds the model on demand", file=sys.stderr)
                yield qualified, function()


# ---------------------------------------------------------------------------------------------
# A TorchServe handler, started as TorchServe's worker starts it


def find_serialized_model(service, named):
    """The file TorchServe would hand the handler without an archive in the plan: the plan's
    artifact, else the one model file in the service (outside the migration's own output and
    virtual environments)."""
    skip = {"migrated", ".venv", "venv", "env", "__pycache__", ".git"}
    if named and (service / named).is_file():
        return service / named
    patterns = [Path(named).name] if named else ["*.pt", "*.pth", "*.torchscript", "*.onnx"]
    for pattern in patterns:
        found = sorted(p for p in service.rglob(pattern)
                       if p.is_file() and not skip & set(p.relative_to(service).parts))
        if found:
            return found[0]
    return None


def torchserve_model_dir(service, archive, artifact=None):
    """The folder TorchServe unpacks a model archive into, the handler's `model_dir`: every
    file of the archive side by side (links to the service's files, in a fresh temporary
    folder). Without an archive in the plan, the folder of the serialized model (`artifact`, or
    the one model file the service holds), else the service root."""
    import tempfile

    service = Path(service)
    if not archive:
        found = find_serialized_model(service, artifact)
        return found.parent if found else service
    folder = Path(tempfile.mkdtemp(prefix="wasm-migrate-model-dir-"))
    for name in [archive.get("handler"), archive.get("model_file"), archive.get("serialized_file"),
                 *archive.get("extra_files", [])]:
        source = service / name if name else None
        if source and source.is_file():
            (folder / source.name).symlink_to(source.resolve())
    return folder


def start_torchserve_handler(module, handler_name, service, archive, artifact=None):
    """An instance of the handler class, `initialize`d with the context TorchServe's worker
    gives it: `model_dir` (on `sys.path`, as the worker puts it), and the archive's manifest
    (`modelFile`, `serializedFile`), from which `BaseHandler.initialize` builds the model file's
    class, loads the state_dict into it and calls `eval()`."""
    cls = getattr(module, handler_name, None)
    builtin = (archive or {}).get("handler", "")
    if cls is None and builtin and not builtin.endswith(".py"):
        # `--handler image_classifier`: TorchServe's own handler module.
        cls = getattr(importlib.import_module(f"ts.torch_handler.{builtin}"), handler_name, None)
    if cls is None:
        raise EntryNotFound(f"{getattr(module, '__file__', module)} has no handler class `{handler_name}`")
    model_dir = torchserve_model_dir(service, archive, artifact)
    sys.path.insert(0, str(model_dir))
    archive = archive or {}
    model = {"modelName": archive.get("model_name", "model"), "handler": Path(archive.get("handler", "")).name}
    if archive.get("version"):
        model["modelVersion"] = archive["version"]
    if archive.get("model_file"):
        model["modelFile"] = Path(archive["model_file"]).name
    serialized = archive.get("serialized_file") or find_serialized_model(Path(service), artifact)
    model["serializedFile"] = Path(serialized).name if serialized else "model.pt"

    class Context:  # what TorchServe's worker hands initialize()
        system_properties = {"model_dir": str(model_dir), "gpu_id": None, "batch_size": 1,
                             "server_name": "MMS", "limit_max_image_pixels": True}
        manifest = {"model": model}
        model_name = model["modelName"]
        model_yaml_config = {}
        metrics = None
        request_ids = {0: "wasm-migrate"}

        def get_request_header(self, idx, key):
            return None

    handler = cls()
    handler.initialize(Context())
    return handler
