"""The original side of `wasm-migrate verify`, run with the service's own interpreter.

    python harness.py make-inputs COUNT DIR [image|image:WxH|text|tensor:AxB]
    python harness.py reference CONFIG.json
    python harness.py examples CONFIG.json

`make-inputs` writes COUNT images, JPEG in several encodings and PNG: real photographs from
skimage.data (cropped to several non-square sizes) when scikit-image is installed, seeded
random pixels otherwise; or COUNT texts: English sentences of several lengths (one longer
than most models' limit), with capitals, accents, digits and punctuation; or COUNT seeded
float32 arrays of the shape a client of a tensor route sends, as .npy files.

`reference` imports the service the way it starts (its entry point's module, from the service
directory, with wasm_migrate_service.py, pyharness's module written beside this file), calls the entry point for each input (a Flask or FastAPI route through the
framework's test client, a TorchServe handler's initialize / preprocess / inference /
postprocess, or a plain function) and records what reached the model: every model object the
service holds (torch modules, TorchScript, ONNX Runtime and OpenVINO sessions, Keras models)
is wrapped in memory so that its first call per request saves its inputs and outputs. The
service's files are not touched. Writes OUT/input_<i>.npz (pre_<k>: the tensors fed to the
model, out_<k>: its outputs) and OUT/reference.json (versions, timings, responses).

`examples` imports the service the same way and prints JSON bodies its entry route should
accept, made from what it fitted (a DictVectorizer's fields, the columns a scikit-learn object
was fitted on, a module-level list of feature names): for a service that documents no request.

Exit codes: 0 done (per-input failures are in reference.json), 3 the service cannot be
imported or started, 4 the entry point does not exist, 5 bad configuration.
"""

import inspect
import io
import json
import re
import sys
import time
import traceback
from pathlib import Path

import numpy as np

# pyharness's: how the service is imported and started (shared with convert_model.py),
# written beside this file by verify.
from wasm_migrate_service import (APP_FACTORIES, EntryNotFound, find_app, import_service,
                                  start_torchserve_handler,
                                  load_keras_models_for_inference, service_modules,
                                  start_fastapi)


def fail(code, kind, message):
    print(json.dumps({"error": kind, "message": message}), flush=True)
    sys.exit(code)


# ---------------------------------------------------------------------------------------------
# Inputs


def photographs():
    import skimage.data

    for name in ["chelsea", "coffee", "astronaut", "rocket", "immunohistochemistry"]:
        pixels = getattr(skimage.data, name)()
        if pixels.ndim == 3 and pixels.shape[2] == 3:
            yield name, pixels


SENTENCES = [
    "The delivery was fast and the support team was friendly.",
    "Terrible experience: the package arrived broken, twice!",
    "It is OK. Nothing special, but it does the job for 25 euros.",
    "I waited THREE weeks and then the order was cancelled without a word.",
    "Café au lait, crème brûlée and a naïve façade: unicode is handled?",
    "Setup took five minutes and everything just worked, even the Wi-Fi.",
    "Not worth the price; the quality is poor and the app keeps crashing.",
    " ".join(["The battery lasts all day and the screen is bright and sharp."] * 8),
    "Great value for the money, would buy again.",
    "nobody answers my emails",
]


def make_texts(count, out_dir):
    written = []
    for i in range(count):
        path = out_dir / f"input_{i:02}.txt"
        path.write_text(SENTENCES[i % len(SENTENCES)] + ("" if i < len(SENTENCES) else f" ({i})"),
                        encoding="utf-8")
        written.append(str(path))
    print(json.dumps({"source": "sentences", "inputs": written}), flush=True)


JPEG_ENCODINGS = [
    ("420", {"quality": 90, "subsampling": 2}),
    ("444_progressive", {"quality": 85, "subsampling": 0, "progressive": True}),
    ("422", {"quality": 75, "subsampling": 1}),
    None,
]


def png_bytes(pixels):
    """A PNG of an RGB (or, two-dimensional, grayscale) uint8 array, with the standard
    library alone."""
    import struct
    import zlib

    h, w = pixels.shape[:2]
    raw = b"".join(b"\0" + pixels[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 8, 0 if pixels.ndim == 2 else 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def image_writer():
    """Writes (pixels, path, jpeg options or None) with what the service's Python has: Pillow
    (every JPEG encoding), else OpenCV (plain JPEG), else PNG from the standard library."""
    try:
        from PIL import Image

        def write(pixels, path, options):
            if options is None:
                Image.fromarray(pixels).save(path)
            else:
                Image.fromarray(pixels).save(path, "JPEG", **options)

        return write, True
    except ImportError:
        pass
    try:
        import cv2

        def write(pixels, path, options):
            params = []
            if options is not None:
                params = [cv2.IMWRITE_JPEG_QUALITY, options["quality"]]
                if options.get("progressive"):
                    params += [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]
                # Pillow's subsampling 0/1/2 is 4:4:4/4:2:2/4:2:0 (OpenCV 4.5.5+ names them).
                factors = ["IMWRITE_JPEG_SAMPLING_FACTOR_444", "IMWRITE_JPEG_SAMPLING_FACTOR_422",
                           "IMWRITE_JPEG_SAMPLING_FACTOR_420"]
                factor = getattr(cv2, factors[options["subsampling"]], None)
                if factor is not None:
                    params += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, factor]
            bgr = pixels if pixels.ndim == 2 else pixels[:, :, ::-1]
            cv2.imwrite(str(path), np.ascontiguousarray(bgr), params)

        return write, True
    except ImportError:
        return (lambda pixels, path, options: path.write_bytes(png_bytes(pixels))), False


def make_arrays(count, out_dir, shape):
    """Seeded float32 arrays in [0, 1) of the shape a client sends, as .npy files."""
    rng = np.random.default_rng(20261207)
    written = []
    for i in range(count):
        path = out_dir / f"input_{i:02}_{'x'.join(map(str, shape))}.npy"
        np.save(path, rng.random(shape, dtype=np.float32))
        written.append(str(path))
    print(json.dumps({"source": "seeded arrays", "inputs": written}), flush=True)


def make_inputs(count, out_dir, kind="image"):
    out_dir.mkdir(parents=True, exist_ok=True)
    if kind == "text":
        return make_texts(count, out_dir)
    if kind.startswith("tensor:"):
        return make_arrays(count, out_dir, [int(n) for n in kind.split(":", 1)[1].split("x")])
    # `image:WxH`: the service takes uploads of the model's size as they come; `:gray`: it
    # hands the model the file's own channels and the model takes one.
    options = kind.split(":")[1:]
    gray = "gray" in options
    sizes = [o for o in options if o != "gray"]
    size = [int(n) for n in sizes[0].split("x")] if sizes else None
    write, can_jpeg = image_writer()

    rng = np.random.default_rng(20261127)
    try:
        photos = list(photographs())
        source = "skimage.data"
    except ImportError:
        photos = []
        source = "random"
    written = []
    for i in range(count):
        if photos:
            name, pixels = photos[i % len(photos)]
            h, w = pixels.shape[:2]
            # Later rounds crop differently, so every input has its own size and aspect.
            round_ = i // len(photos)
            ch = max(64, int(h * (1.0 - 0.17 * round_ % 0.6)))
            cw = max(64, int(w * (1.0 - 0.11 * (round_ + 1) % 0.5)))
            top, left = (h - ch) // 2, (w - cw) // 3
            pixels = np.ascontiguousarray(pixels[top : top + ch, left : left + cw])
            label = f"{name}_{cw}x{ch}"
            if size:
                # Nearest neighbour: every made input has exactly the size asked.
                rows = (np.arange(size[1]) * ch) // size[1]
                cols = (np.arange(size[0]) * cw) // size[0]
                pixels = np.ascontiguousarray(pixels[rows][:, cols])
                label = f"{name}_{size[0]}x{size[1]}"
        else:
            ch, cw = (size[1], size[0]) if size else (int(rng.integers(96, 480)), int(rng.integers(96, 480)))
            pixels = rng.integers(0, 256, size=(ch, cw, 3), dtype=np.uint8)
            label = f"random_{cw}x{ch}"
        if gray:
            # ITU-R 601-2 luma, as PIL's convert("L") weighs it.
            pixels = np.round(pixels @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
            label += "_gray"
        # Clients upload JPEGs: most inputs are JPEG, in the encodings cameras and browsers
        # write (4:2:0, 4:2:2, 4:4:4, progressive); every fourth is PNG, which is lossless.
        encoding = JPEG_ENCODINGS[i % len(JPEG_ENCODINGS)] if can_jpeg else None
        if encoding is None:
            path = out_dir / f"input_{i:02}_{label}.png"
            write(pixels, path, None)
        else:
            name, options = encoding
            path = out_dir / f"input_{i:02}_{label}_{name}.jpg"
            write(pixels, path, options)
        written.append(str(path))
    print(json.dumps({"source": source, "inputs": written}), flush=True)


# ---------------------------------------------------------------------------------------------
# Capturing what reaches the model


def to_numpy(value):
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach"):  # torch
        return value.detach().cpu().numpy()
    if hasattr(value, "numpy"):  # tensorflow, openvino tensors
        return np.asarray(value.numpy())
    if hasattr(value, "data") and isinstance(getattr(value, "data"), np.ndarray):
        return value.data
    return np.asarray(value)


def flatten(value):
    # Flags and options (`training=False`, output names) are not tensors.
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return []
    if isinstance(value, dict):
        return [a for v in value.values() for a in flatten(v)]
    if isinstance(value, (list, tuple)):
        return [a for v in value for a in flatten(v)]
    if hasattr(value, "to_tuple"):  # transformers ModelOutput
        return flatten(value.to_tuple())
    if type(value).__name__ == "OVDict":
        return flatten(list(value.values()))
    return [to_numpy(value)]


class Recorder:
    def __init__(self):
        self.calls = []
        self.model_seconds = 0.0

    def reset(self):
        self.calls = []
        self.model_seconds = 0.0


RECORDER = Recorder()


class ModelProxy:
    """Stands where the service keeps its model; records the first call of each request."""

    def __init__(self, target, kind, methods, name):
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "_methods", methods)
        object.__setattr__(self, "_name", name)

    def _record(self, method, args, kwargs):
        target = object.__getattribute__(self, "_target")
        fn = getattr(target, method)
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        RECORDER.model_seconds += time.perf_counter() - start
        if method == "run" and object.__getattribute__(self, "_kind") == "onnxruntime":
            fed = flatten(args[1] if len(args) > 1 else kwargs.get("input_feed"))
        else:
            fed = flatten(list(args) + list(kwargs.values()))
        RECORDER.calls.append({"model": object.__getattribute__(self, "_name"), "inputs": fed,
                               "outputs": flatten(result)})
        return result

    def __call__(self, *args, **kwargs):
        return self._record("__call__", args, kwargs)

    def __getattr__(self, name):
        target = object.__getattribute__(self, "_target")
        if name in object.__getattribute__(self, "_methods") and name != "__call__":
            return lambda *a, **k: self._record(name, a, k)
        return getattr(target, name)

    def __setattr__(self, name, value):
        setattr(object.__getattribute__(self, "_target"), name, value)


def model_kind(obj):
    """What kind of model object this is, and the methods that run it; None if it is not one."""
    if isinstance(obj, type) or inspect.ismodule(obj) or inspect.isfunction(obj):
        return None
    mods = [c.__module__ or "" for c in type(obj).__mro__]
    names = [c.__name__ for c in type(obj).__mro__]
    if "torch" in sys.modules and isinstance(obj, sys.modules["torch"].nn.Module):
        # torchvision's v2 transforms are nn.Modules too: preprocessing, not the model.
        if any(m.startswith("torchvision.transforms") for m in mods):
            return None
        return "torch", ("__call__", "forward")
    if "InferenceSession" in names and any(m.startswith("onnxruntime") for m in mods):
        return "onnxruntime", ("run",)
    if "CompiledModel" in names and any(m.startswith("openvino") for m in mods):
        return "openvino", ("__call__", "infer_new_request")
    if any(m.startswith(("keras", "tensorflow", "tf_keras")) for m in mods) and (
        "Model" in names or "Layer" in names
    ):
        return "keras", ("__call__", "predict", "predict_on_batch")
    return None


def wrap_models(holder, attributes, prefix=""):
    wrapped = []
    for name, value in list(attributes.items()):
        if name.startswith("__") or isinstance(value, ModelProxy):
            continue
        found = model_kind(value)
        if found is None:
            continue
        kind, methods = found
        setattr(holder, name, ModelProxy(value, kind, methods, prefix + name))
        wrapped.append(f"{prefix}{name} ({kind}: {type(value).__name__})")
    return wrapped


def strings_in(value):
    """Every string in a JSON-able value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from strings_in(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from strings_in(v)


def as_label_list(value, classes):
    """`value` as one label per class, when it is one: a list or tuple of strings, or a dict
    from class index (int or digits) to string."""
    if isinstance(value, (list, tuple)) and len(value) == classes and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, dict) and len(value) == classes and all(isinstance(v, str) for v in value.values()):
        try:
            keyed = {int(k): v for k, v in value.items()}
        except (TypeError, ValueError):
            return None
        if sorted(keyed) == list(range(classes)):
            return [keyed[i] for i in range(classes)]
    return None


def find_labels(service, entry_module, classes, answered):
    """The service's own class names when they are in its code (`CLASS_NAMES = [...]`, a list
    read from a file at import, `id2label`): module globals holding one string per class, at
    least one of which the service answered with. One such list, or None."""
    candidates = set()
    for module in service_modules(service, entry_module):
        for name, value in list(vars(module).items()):
            if name.startswith("__"):
                continue
            try:  # proxies (Flask's `request`) raise outside a request
                labels = as_label_list(value, classes)
                if labels is None:
                    config = getattr(value, "config", None)
                    labels = as_label_list(getattr(config, "id2label", None), classes)
            except Exception:
                continue
            if labels and answered & set(labels):
                candidates.add(tuple(labels))
    return list(candidates.pop()) if len(candidates) == 1 else None


def wrap_service_models(service, entry_module):
    """Models the service holds outside the entry module's globals: in the other modules of
    the service it imported, in their classes' attributes, and in the attributes of the objects
    they hold (`classifier = Classifier()` with `self.net`). Each is watched where it is held,
    so the service reaches the watched object whichever module it calls it through."""
    wrapped = []
    modules = service_modules(service, entry_module)
    for module in modules[1:]:
        wrapped += wrap_models(module, vars(module), f"{module.__name__}.")
    for module in modules:
        for holder_name, holder in list(vars(module).items()):
            # Only the service's own classes and their objects are looked into: other
            # objects (Flask's `request`) may raise when touched outside a request.
            if inspect.isclass(holder) and holder.__module__ == module.__name__:
                attributes = dict(vars(holder))
            elif (type(holder).__module__ == getattr(module, "__name__", "")
                  and not inspect.isclass(holder) and not isinstance(holder, ModelProxy)):
                try:
                    attributes = vars(holder)
                except TypeError:
                    continue
            else:
                continue
            wrapped += wrap_models(holder, attributes, f"{holder_name}.")
    return wrapped


def watched_name(model):
    """A model watched by its type has no name in the service: its class, and for a session
    the file it was loaded from."""
    path = getattr(model, "_model_path", None)
    name = type(model).__name__
    return f"{name}({Path(path).name})" if isinstance(path, str) else name


def watch_model_types():
    """The last resort, for models that do not exist at import time (built in a startup hook,
    a lazy getter or on the first request) or sit in a container (`MODELS["clf"]`): the model
    types themselves record their outermost call (torch modules, ONNX Runtime sessions,
    OpenVINO compiled models and infer requests, Keras models; Hugging Face models are torch
    modules). torch modules that are torchvision transforms are preprocessing and are not
    watched."""
    watched = []
    depth = [0]

    def recording(original, feed_of):
        def call(self, *args, **kwargs):
            if depth[0] or type(self).__module__.startswith("torchvision.transforms"):
                return original(self, *args, **kwargs)
            depth[0] += 1
            try:
                start = time.perf_counter()
                result = original(self, *args, **kwargs)
                RECORDER.model_seconds += time.perf_counter() - start
            finally:
                depth[0] -= 1
            RECORDER.calls.append({"model": watched_name(self), "inputs": flatten(feed_of(args, kwargs)),
                                   "outputs": flatten(result)})
            return result
        return call

    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "nn"):
        torch.nn.Module.__call__ = recording(torch.nn.Module.__call__,
                                             lambda a, k: list(a) + list(k.values()))
        watched.append("torch.nn.Module.__call__ (every torch model)")
    ort = sys.modules.get("onnxruntime")
    if ort is not None and hasattr(ort, "InferenceSession"):
        ort.InferenceSession.run = recording(
            ort.InferenceSession.run, lambda a, k: a[1] if len(a) > 1 else k.get("input_feed"))
        watched.append("onnxruntime.InferenceSession.run (every session)")
    ov = sys.modules.get("openvino")
    if ov is not None and hasattr(ov, "CompiledModel"):
        first_argument = lambda a, k: a[:1] or list(k.values())[:1]
        for cls, method in [(ov.CompiledModel, "__call__"), (ov.CompiledModel, "infer_new_request"),
                            (getattr(ov, "InferRequest", None), "infer")]:
            if cls is not None and hasattr(cls, method):
                setattr(cls, method, recording(getattr(cls, method), first_argument))
        watched.append("openvino.CompiledModel and InferRequest calls (every compiled model)")
    for name in ("keras", "tf_keras"):
        keras = sys.modules.get(name)
        model_class = getattr(keras, "Model", None) if keras is not None else None
        if model_class is None:
            continue
        # Model, not Layer: a preprocessing layer the service calls on its own is not the model.
        for method in ("__call__", "predict", "predict_on_batch"):
            if hasattr(model_class, method):
                setattr(model_class, method,
                        recording(getattr(model_class, method), lambda a, k: a[:1] or list(k.values())[:1]))
        watched.append(f"{name}.Model calls and predict (every Keras model)")
    return watched


# ---------------------------------------------------------------------------------------------
# Calling the entry point


def import_entry(service, file, workdir=None, framework=None):
    """The entry module, imported as production does (wasm_migrate_service.import_service); a
    service that cannot be imported, or exits while it is, is reported as such. A Keras
    service's models load without a training configuration Keras 3 refuses."""
    if framework == "keras":
        load_keras_models_for_inference()
    try:
        return import_service(service, file, workdir)
    except EntryNotFound as error:
        fail(4, "entrypoint", str(error))
    except BaseException as error:  # SystemExit too: a service that exits at import is broken here
        frames = traceback.format_exception(type(error), error, error.__traceback__)
        fail(3, "import", f"importing {file} failed:\n" + "".join(frames[-6:]).rstrip())


def input_method(entry):
    """The method a client sends the input with: the route's first that carries a body (a
    route on GET and POST shows a form on GET), else its first, else POST (as
    `Entrypoint::input_method`)."""
    methods = [m.upper() for m in entry.get("methods") or []]
    with_body = [m for m in methods if m in ("POST", "PUT", "PATCH")]
    return (with_body or methods or ["POST"])[0].lower()


def upload_field(function):
    """The form field the route reads its file from, as its own source names it."""
    try:
        source = inspect.getsource(inspect.unwrap(function))
    except (OSError, TypeError):
        return None
    found = re.search(r"files(?:\.get\(|\[)\s*[\"'](\w+)[\"']", source)
    if found:
        return found.group(1)
    try:
        for name, param in inspect.signature(function).parameters.items():
            if "UploadFile" in str(param.annotation) or "File(" in str(param.default):
                return name
    except (TypeError, ValueError):
        pass
    return None


def body_model_field(function, accepts):
    """The first field of the route's pydantic body model whose annotation `accepts`."""
    try:
        params = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        params = []
    for param in params:
        for name, info in (getattr(param.annotation, "model_fields", None) or {}).items():
            if accepts(info.annotation):
                return name
    return None


def text_body_field(function):
    """The JSON key a route takes its text from: the first str field of its body model, else
    `text`."""
    return body_model_field(function, lambda annotation: annotation is str) or "text"


def array_body_field(function):
    """The JSON key a route takes its numbers from: the first list field of its body model
    (`array: List[float]`)."""
    import typing

    return body_model_field(function, lambda annotation: annotation is list
                            or typing.get_origin(annotation) in (list, tuple))


def flask_json_field(function):
    """The JSON key a Flask view takes its numbers from (`request.json["data"]`,
    `body = request.get_json(); body.get("features")`); None when it uses the whole body."""
    try:
        source = inspect.getsource(inspect.unwrap(function))
    except (OSError, TypeError):
        return None
    body = r"request\.(?:get_json\([^)]*\)|json)"
    key = r"\s*(?:\[\s*[\"'](\w+)[\"']\s*\]|\.get\(\s*[\"'](\w+)[\"'])"
    found = re.search(body + key, source)
    if not found:
        named = re.search(r"(\w+)\s*=\s*" + body, source)
        found = named and re.search(r"\b" + re.escape(named.group(1)) + key, source)
    return (found.group(1) or found.group(2)) if found else None


def encoded_file_field(function, field):
    """(field, encoding) when the route takes its image as a JSON string it decodes from base64
    (`base64.b64decode(request.json["image"])`): `data-url` when it cuts a data URL's prefix
    off first (`.split(",")[1]`), else `base64`. None for a route that reads no such string."""
    try:
        source = inspect.getsource(inspect.unwrap(function))
    except (OSError, TypeError):
        return None
    if not field or not re.search(r"b64decode|decodebytes|a2b_base64", source):
        return None
    data_url = re.search(r"split\(\s*[\"'],[\"']|base64,|data:image", source)
    return field, "data-url" if data_url else "base64"


def encoded_payload(path, field, encoding):
    """An image file as the JSON a browser or script sends: base64, or a data URL."""
    import base64

    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    if encoding == "data-url":
        media = "image/png" if str(path).lower().endswith(".png") else "image/jpeg"
        data = f"data:{media};base64,{data}"
    return {field: data}


def array_payload(path, field):
    """An array input (.npy, or a .json file of numbers) as the JSON a client sends."""
    path = Path(path)
    values = json.loads(path.read_text()) if path.suffix == ".json" else np.load(path).tolist()
    return {field: values} if field else values


HEALTH_PATHS = ("/health", "/healthz", "/healthcheck", "/ready", "/readyz", "/livez", "/ping", "/status")
NO_SUCH_PATH = "/wasm-migrate-no-such-path"


# GET routes that act rather than answer (`/shutdown`, `/reload-model`): never called to learn
# what they answer.
ACTION_PATH = re.compile(r"shutdown|restart|reload|kill|exit|quit|delete|remove|reset|clear|"
                         r"train|logout|login|upload|admin", re.IGNORECASE)


class Api:
    """Probes of the API around the inference route, for the migrated module to answer alike:
    the health route, and the answers to a missing field, an undecodable input, an unknown path
    and a wrong method. `send(method, path, kind, payload)` returns a requests-like response."""

    def __init__(self, send, method, path, request, get_paths, max_body=None, also_paths=(),
                 encoding=None, others=()):
        self.send, self.method, self.path, self.request = send, method, path, request
        self.get_paths, self.max_body = get_paths, max_body
        # Other paths to the same route, and how the answer is written (`indented`: TorchServe).
        self.also_paths, self.encoding = list(also_paths), encoding
        # The app's other routes without path parameters: (method, path, upload field or None).
        self.others = list(others)
        # Where the inference route's model inputs were saved (input_N.npz), to compare with.
        self.reference_dir = None

    @staticmethod
    def answer(response):
        content_type = response.headers.get("content-type", "")
        body = response.get_data(as_text=True) if hasattr(response, "get_data") else response.text
        return {"status": response.status_code, "content_type": content_type, "body": body}

    def probe(self, method, path, kind, payload):
        try:
            return self.answer(self.send(method, path, kind, payload))
        except Exception as exc:
            return {"error": f"{type(exc).__name__}: {exc}"}

    def observe(self, json_input, inputs=()):
        first_input = inputs[0] if inputs else None
        found = {"route": {"method": self.method.upper(), "path": self.path, "request": dict(self.request)},
                 "max_body_bytes": self.max_body}
        self.observe_others(found, inputs)
        if self.also_paths:
            found["route"]["also_paths"] = self.also_paths
        if self.encoding:
            found["route"]["encoding"] = self.encoding
        if self.request["kind"] == "multipart" and first_input:
            # A route that also takes the image as the body itself (`request.get_data()`).
            raw = self.probe(self.method, self.path, "raw", Path(first_input).read_bytes())
            found["route"]["request"]["raw_fallback"] = raw.get("status") == 200
        health = [p for p in HEALTH_PATHS if p in self.get_paths]
        if health:
            answer = self.probe("get", health[0], "none", None)
            if answer.get("status") == 200:
                found["health"] = {"method": "GET", "path": health[0], "answer": answer}
        found["not_found"] = self.probe("get", NO_SUCH_PATH, "none", None)
        # A route that also takes GET (`methods=["GET", "POST"]`) answers it its own way, which
        # the module replays when it is an error (a view that returns nothing on GET: 500).
        if self.method.lower() != "get":
            found["method_not_allowed"] = self.probe("get", self.path, "none", None)
        if self.request["kind"] == "json":
            found["missing_field"] = self.probe(self.method, self.path, "json", {})
            if self.request.get("encoding"):
                import base64
                # The same string the verify step sends (`requests.rs`): not a file.
                junk = base64.b64encode(b"this is not an image").decode("ascii")
                if self.request["encoding"] == "data-url":
                    junk = "data:image/jpeg;base64," + junk
                found["not_decodable"] = self.probe(self.method, self.path, "json",
                                                    {self.request["field"]: junk})
        else:
            found["missing_field"] = self.probe(self.method, self.path, "multipart-other", b"")
            if not json_input:
                found["not_decodable"] = self.probe(self.method, self.path, self.request["kind"],
                                                    b"this is not an image")
        return found


    def observe_others(self, found, inputs):
        """The app's other routes: one taking the same upload and calling the model on the same
        tensor is another inference route (its answers, with the model's output behind each);
        a GET answering the same bytes twice without the model is static (recorded); anything
        else is listed as not migrated, with why."""
        other_routes, fixed, not_migrated = [], [], []
        health = {p for p in HEALTH_PATHS if p in self.get_paths}
        for method, path, field in self.others:
            if path in health or (path == self.path and method == self.method.upper()):
                continue
            if method == "GET" and ACTION_PATH.search(path):
                not_migrated.append({"method": "GET", "path": path,
                                     "reason": "not called: its name says it acts on the service"})
                continue
            if method == "GET":
                RECORDER.reset()
                before = self.probe("get", path, "none", None)
                model_called = bool(RECORDER.calls)
                # A prediction in between: a page that counts or lists requests changes.
                if inputs and self.request.get("kind") in ("multipart", "raw"):
                    self.probe(self.method, self.path, self.request["kind"], Path(inputs[0]).read_bytes())
                RECORDER.reset()
                after = self.probe("get", path, "none", None)
                same = before == after and before.get("status") == 200 and not (model_called or RECORDER.calls)
                why = fixed_answer_refusal(before) if same else "its answer is not the same bytes every time"
                if why:
                    not_migrated.append({"method": "GET", "path": path, "reason": why})
                else:
                    fixed.append({"method": "GET", "path": path, "answer": before})
                continue
            route = self.other_inference_route(method, path, field, inputs)
            if isinstance(route, str):
                not_migrated.append({"method": method, "path": path, "reason": route})
            else:
                other_routes.append(route)
        found["other_routes"], found["fixed"], found["not_migrated"] = other_routes, fixed, not_migrated

    def other_inference_route(self, method, path, field, inputs):
        """Another route's answers to the inputs, when it takes them as the inference route does
        (a form upload) and feeds the model the same tensor; else why it is not migrated."""
        if self.request.get("kind") != "multipart" or not field:
            return "it does not take an upload as the inference route does"
        observations = []
        for index, input_path in enumerate(inputs):
            RECORDER.reset()
            try:
                response = self.send(method, path, "multipart", Path(input_path).read_bytes(),
                                     Path(input_path).name, field=field)
            except Exception as exc:
                return f"it failed: {type(exc).__name__}: {exc}"
            calls = list(RECORDER.calls)
            if not calls:
                return "it answers without calling the model"
            reference = Path(self.reference_dir) / f"input_{index}.npz" if self.reference_dir else None
            if reference and reference.is_file():
                with np.load(reference) as saved:
                    if not np.array_equal(saved["pre_0"], calls[0]["inputs"][0]):
                        return "it feeds the model another tensor than the inference route (its own preprocessing)"
            observations.append({"input": str(input_path), "status": response.status_code,
                                 "response": response_json(response),
                                 "outputs": np.asarray(calls[0]["outputs"][0]).ravel().tolist()})
        request = {"kind": "multipart", "field": field}
        return {"method": method, "path": path, "request": request, "observations": observations,
                "trailer": response_trailer(response) if inputs else ""}


# A recorded answer lives in the plan: text of a page's size, not a download.
MAX_FIXED_BODY = 64 * 1024
TEXT_TYPES = re.compile(r"^(text/|application/(json|javascript|xml|xhtml\+xml)|image/svg\+xml)", re.IGNORECASE)


def fixed_answer_refusal(answer):
    """Why an answer cannot be served as recorded bytes, or None when it can."""
    if not TEXT_TYPES.match(answer.get("content_type", "")):
        return f"its answer is not text ({answer.get('content_type') or 'no media type'})"
    if len(answer.get("body", "").encode("utf-8")) > MAX_FIXED_BODY:
        return f"its answer is larger than {MAX_FIXED_BODY // 1024} KiB"
    return None


def response_trailer(response):
    """The whitespace after a JSON body: Flask's jsonify ends it with a newline."""
    if "json" not in response.headers.get("content-type", "").lower():
        return ""
    text = response.get_data(as_text=True) if hasattr(response, "get_data") else response.text
    return text[len(text.rstrip()):]


def response_json(response):
    """A JSON answer as its value; any other answer (`return str(index)`) as
    `{"$text": body, "content_type": ...}`, which the module's response template rebuilds."""
    content_type = response.headers.get("content-type", "")
    if "json" in content_type.lower():
        try:
            return response.get_json() if hasattr(response, "get_json") else response.json()
        except Exception:
            pass
    text = response.get_data(as_text=True) if hasattr(response, "get_data") else response.text
    return {"$text": text[:2000], "content_type": content_type}


def flask_caller(module, entry):
    import flask

    app = find_app(module, flask.Flask)
    if app is None:
        fail(4, "entrypoint", f"{entry['file']} defines no Flask app, and no application factory "
             f"({', '.join(APP_FACTORIES)}) in it or its packages returns one")
    # A blueprint's views are `blueprint.view` in the app.
    endpoints = [e for e in app.view_functions
                 if e == entry["handler"] or e.endswith("." + entry["handler"])]
    view = app.view_functions[endpoints[0]] if endpoints else None
    if view is None:
        fail(4, "entrypoint", f"{entry['file']}: the Flask app has no view `{entry['handler']}` "
             f"(it has {', '.join(sorted(app.view_functions))})")
    rules = {r.endpoint: r.rule for r in app.url_map.iter_rules()}
    # The rule as the app has it: a blueprint's url_prefix is not in the decorator.
    route = rules.get(endpoints[0]) or entry.get("route") or "/"
    field = upload_field(view)
    client = app.test_client()
    method = input_method(entry)

    def send(verb, path, kind, payload, name="upload.jpg", field=field):
        request = getattr(client, verb.lower())
        if kind == "json":
            return request(path, json=payload)
        if kind == "multipart":
            return request(path, data={field: (io.BytesIO(payload), name)},
                           content_type="multipart/form-data")
        if kind == "multipart-other":
            return request(path, data={"wasm_migrate_other": "x"}, content_type="multipart/form-data")
        if kind == "raw":
            return request(path, data=payload, content_type="application/octet-stream")
        return request(path)

    array = entry.get("input_kind") == "tensor"
    array_field = flask_json_field(view) if array else None
    text = entry.get("input_kind") == "text"
    encoded = None if (text or array or field) else encoded_file_field(view, flask_json_field(view))

    def call(path):
        data = Path(path).read_bytes()
        if Path(path).suffix == ".txt":
            response = send(method, route, "json", {"text": data.decode("utf-8")})
        elif array:
            response = send(method, route, "json", array_payload(path, array_field))
        elif encoded:
            response = send(method, route, "json", encoded_payload(path, *encoded))
        else:
            response = send(method, route, "multipart" if field else "raw", data, Path(path).name)
        return response.status_code, response_json(response), response_trailer(response)

    shape = {"kind": "json", "field": "text"} if text else (
        {"kind": "json", "field": array_field} if array else
        {"kind": "json", "field": encoded[0], "encoding": encoded[1]} if encoded else
        {"kind": "multipart", "field": field} if field else {"kind": "raw"})
    get_paths = [r.rule for r in app.url_map.iter_rules() if "GET" in (r.methods or ())]
    others = [(rule_method(r.methods), r.rule, upload_field(app.view_functions[r.endpoint]))
              for r in app.url_map.iter_rules() if "<" not in r.rule]
    call.api = Api(send, method, route, shape, get_paths, app.config.get("MAX_CONTENT_LENGTH"),
                   others=others)
    return call


def rule_method(methods):
    """The method a route takes its input with: the first of POST, PUT, PATCH, else GET."""
    methods = set(methods or ())
    return next((m for m in ("POST", "PUT", "PATCH") if m in methods), "GET")


def fastapi_routes(routes, prefix=""):
    """(route, full path) of every endpoint, through included routers (FastAPI 0.16x keeps an
    included router whole, with its prefix in the include context) and mounted sub-apps."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from fastapi_routes(included.routes, prefix + getattr(context, "prefix", ""))
        elif hasattr(route, "endpoint") and hasattr(route, "path"):
            yield route, prefix + route.path
        elif hasattr(route, "routes") and hasattr(route, "path"):
            yield from fastapi_routes(route.routes, prefix + route.path)


def fastapi_caller(module, entry):
    import fastapi

    app = find_app(module, fastapi.FastAPI)
    if app is None:
        fail(4, "entrypoint", f"{entry['file']} defines no FastAPI app, and no application "
             "factory returns one")
    routes = [(r, p) for r, p in fastapi_routes(app.routes) if getattr(r, "name", None) == entry["handler"]]
    if not routes:
        fail(4, "entrypoint", f"{entry['file']}: the FastAPI app has no route `{entry['handler']}`")
    route, route_path = routes[0]
    field = upload_field(route.endpoint) or "file"
    body_field = text_body_field(route.endpoint)
    # Startup events and the lifespan run as under uvicorn: models loaded there exist.
    client = start_fastapi(app)
    method = input_method(entry)

    def send(verb, path, kind, payload, name="upload.jpg", field=field):
        if kind == "json":
            return client.request(verb.upper(), path, json=payload)
        if kind == "multipart":
            return client.request(verb.upper(), path,
                                  files={field: (name, payload, "application/octet-stream")})
        if kind == "multipart-other":
            return client.request(verb.upper(), path, files={"wasm_migrate_other": ("x.txt", b"x", "text/plain")})
        if kind == "raw":
            return client.request(verb.upper(), path, content=payload)
        return client.request(verb.upper(), path)

    array = entry.get("input_kind") == "tensor"
    array_field = array_body_field(route.endpoint) if array else None
    text = entry.get("input_kind") == "text"
    # An image in a str field of the body model, decoded from base64 by the route.
    encoded = None if (text or array or upload_field(route.endpoint)) else encoded_file_field(
        route.endpoint, body_model_field(route.endpoint, lambda annotation: annotation is str))

    def call(path):
        data = Path(path).read_bytes()
        if Path(path).suffix == ".txt":
            response = send(method, route_path, "json", {body_field: data.decode("utf-8")})
        elif array:
            response = send(method, route_path, "json", array_payload(path, array_field))
        elif encoded:
            response = send(method, route_path, "json", encoded_payload(path, *encoded))
        else:
            response = send(method, route_path, "multipart", data, Path(path).name)
        return response.status_code, response_json(response), response_trailer(response)

    shape = {"kind": "json", "field": body_field} if text else (
        {"kind": "json", "field": array_field} if array else
        {"kind": "json", "field": encoded[0], "encoding": encoded[1]} if encoded else
        {"kind": "multipart", "field": field})
    get_paths = [p for r, p in fastapi_routes(app.routes) if "GET" in (getattr(r, "methods", None) or ())]
    # FastAPI's own pages (/docs, /openapi.json) are not the service's.
    own = {app.docs_url, app.redoc_url, app.openapi_url, getattr(app, "swagger_ui_oauth2_redirect_url", None)}
    others = [(rule_method(getattr(r, "methods", None)), p, upload_field(r.endpoint))
              for r, p in fastapi_routes(app.routes) if "{" not in p and p not in own]
    call.api = Api(send, method, route_path, shape, get_paths, others=others)
    return call


def torchserve_caller(module, entry, service, model_artifact):
    try:
        handler = start_torchserve_handler(module, entry["handler"], service, entry.get("archive"),
                                           model_artifact)
    except EntryNotFound as error:
        fail(4, "entrypoint", str(error))
    except BaseException as error:
        frames = traceback.format_exception(type(error), error, error.__traceback__)
        fail(3, "import", f"{entry['handler']}.initialize() failed:\n" + "".join(frames[-6:]).rstrip())
    wrap_models(handler, vars(handler), "handler.")
    worker = TorchserveWorker(handler)

    def call(path):
        status, answer = worker.predict({"data": Path(path).read_bytes()})
        return status, answer, ""

    archive = entry.get("archive") or {}
    paths = [f"/predictions/{archive.get('model_name', 'model')}"]
    if archive.get("version"):
        paths.append(f"{paths[0]}/{archive['version']}")
    call.api = Api(worker.send, "POST", paths[0], {"kind": "multipart", "field": "data"},
                   ["/ping"], also_paths=paths[1:], encoding="indented")
    return call


class TorchserveWorker:
    """TorchServe's front end and worker around one handler, for one request at a time: the
    rows it hands `preprocess` (a form's fields, or the body as `body`), the answer as the
    worker writes it (a string or bytes as they are, anything else as `json.dumps(answer,
    indent=2)`, with no media type), and the front end's own JSON answers (`/ping`, an unknown
    path, `Prediction failed` when the handler raises). `verify --http` checks all of it against
    a real TorchServe."""

    ERROR_TYPES = {404: "ResourceNotFoundException", 503: "InternalServerException"}

    def __init__(self, handler):
        self.handler = handler

    def predict(self, row):
        try:
            answers = self.handler.postprocess(self.handler.inference(self.handler.preprocess([row])))
        except Exception:
            return 503, None
        return 200, answers[0]

    @staticmethod
    def error(status, message):
        body = json.dumps({"code": status, "type": TorchserveWorker.ERROR_TYPES[status],
                           "message": message}, indent=2) + "\n"
        return Answered(status, "application/json", body)

    def send(self, method, path, kind, payload, filename=None):
        if path == "/ping" and method.lower() == "get":
            return Answered(200, "application/json", json.dumps({"status": "Healthy"}, indent=2) + "\n")
        if not path.startswith("/predictions/"):
            return self.error(404, "Requested resource is not found, please refer to API document.")
        if kind == "multipart":
            row = {"data": payload}
        elif kind == "multipart-other":
            row = {"other": payload}
        elif kind == "raw":
            row = {"body": payload}
        else:
            row = {"body": json.dumps(payload).encode() if payload is not None else b""}
        status, answer = self.predict(row)
        if status != 200:
            return self.error(503, "Prediction failed")
        if isinstance(answer, (bytes, bytearray)):
            return Answered(200, "", bytes(answer).decode("utf-8", "replace"))
        if isinstance(answer, str):
            return Answered(200, "", answer)
        return Answered(200, "", json.dumps(plain(answer), indent=2))


class Answered:
    """A requests-like answer."""

    def __init__(self, status, content_type, text):
        self.status_code, self.text = status, text
        self.headers = {"content-type": content_type} if content_type else {}

    def json(self):
        return json.loads(self.text)


def script_caller(module, entry):
    function = getattr(module, entry["handler"], None)
    if not callable(function):
        fail(4, "entrypoint", f"{entry['file']} has no function `{entry['handler']}`")

    def call(path):
        return 200, function(path), ""

    return call


def plain(value):
    """A response as JSON-able data."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    try:
        array = to_numpy(value)
        return array.tolist() if array.size <= 64 else f"<array {list(array.shape)}>"
    except Exception:
        return repr(value)[:200]


def response_labels(response):
    """The class names a response gives, in its own order: `{"label": ...}` objects, and
    TorchServe's `{name: score}` dicts."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            if isinstance(value.get("label"), str):
                found.append(value["label"])
            elif value and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                               for v in value.values()) and not {"score", "index", "class_id"} & set(value):
                found.extend(str(k) for k in value)
            for v in value.values():
                if isinstance(v, (dict, list, tuple)):
                    walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)

    walk(response)
    return found


def versions():
    import importlib.metadata

    dist_names = {"opencv": "opencv-python-headless"}
    found = {"python": sys.version.split()[0], "numpy": np.__version__}
    for module, name in [("torch", "torch"), ("torchvision", "torchvision"), ("PIL", "pillow"),
                         ("cv2", "opencv"), ("onnxruntime", "onnxruntime"), ("openvino", "openvino"),
                         ("tensorflow", "tensorflow"), ("keras", "keras"), ("flask", "flask"),
                         ("fastapi", "fastapi"), ("transformers", "transformers")]:
        if module in sys.modules:
            try:
                found[name] = importlib.metadata.version(dist_names.get(name, name))
            except importlib.metadata.PackageNotFoundError:
                found[name] = getattr(sys.modules[module], "__version__", "?")
    return found


def model_matches(name, wanted):
    """`--model NAME` names a watched model by its attribute path, its last part, or its type."""
    if not wanted:
        return True
    return name == wanted or name.endswith("." + wanted) or name.split("(")[0] == wanted


def reference(config_path):
    config = json.loads(Path(config_path).read_text())
    service = Path(config["service"]).resolve()
    out = Path(config["out"]).resolve()
    inputs = [str(Path(p).resolve()) for p in config["inputs"]]
    entry = config["entrypoint"]
    out.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    module = import_entry(service, entry["file"], entry.get("workdir"), entry.get("framework"))
    kind = entry["kind"]
    if kind == "torchserve":
        call = torchserve_caller(module, entry, service, config.get("model_artifact"))
        wrapped = ["handler.model"]
    else:
        wrapped = (wrap_models(module, vars(module)) or wrap_service_models(service, module)
                   or watch_model_types())
        call = {"flask": flask_caller, "fastapi": fastapi_caller, "script": script_caller}[kind](module, entry)
    load_seconds = time.perf_counter() - start
    if not wrapped:
        fail(3, "no-model", f"{entry['file']} and the service modules it imports hold no model object "
             "wasm-migrate can watch (torch module, ONNX Runtime or OpenVINO session, Keras model) as a "
             "module global, a class attribute or an attribute of a module-level object")

    results = []
    for index, path in enumerate(inputs):
        RECORDER.reset()
        started = time.perf_counter()
        try:
            status, response, trailer = call(path)
            error = None if status < 400 else f"HTTP {status}"
        except Exception as exc:
            status, response, trailer = None, None, ""
            frames = traceback.format_exception(type(exc), exc, exc.__traceback__)
            error = "".join(frames[-4:]).rstrip()
        seconds = time.perf_counter() - started
        entry_result = {"input": path, "status": status, "error": error, "response": plain(response),
                        "trailer": trailer,
                        "labels": response_labels(plain(response)),
                        "request_seconds": seconds, "model_seconds": RECORDER.model_seconds}
        called = list(dict.fromkeys(c["model"] for c in RECORDER.calls))
        if called:
            entry_result["models_called"] = called
        chosen = [c for c in RECORDER.calls if model_matches(c["model"], config.get("model"))]
        if config.get("model") and RECORDER.calls and not chosen:
            fail(5, "model", f"--model {config['model']}: the service called {', '.join(called)}; "
                 "name one of those")
        if chosen:
            first = chosen[0]
            arrays = {f"pre_{k}": a for k, a in enumerate(first["inputs"])}
            arrays.update({f"out_{k}": a for k, a in enumerate(first["outputs"])})
            np.savez(out / f"input_{index}.npz", **arrays)
            entry_result["file"] = f"input_{index}.npz"
        elif error is None:
            entry_result["error"] = "the service answered without calling the model"
        results.append(entry_result)
        print(json.dumps({"progress": index + 1, "of": len(inputs)}), flush=True)

    summary = {"python": sys.executable, "versions": versions(), "load_seconds": load_seconds,
               "watched": wrapped, "results": results}
    if config.get("observe_api") and hasattr(call, "api"):
        # The last input's model output, before the probes reset the recorder.
        outputs = [c["outputs"][0] for c in RECORDER.calls if c.get("outputs")] if RECORDER.calls else []
        call.api.reference_dir = out
        summary["api"] = call.api.observe(entry.get("input_kind") in ("text", "tensor"), inputs)
        classes = int(np.asarray(outputs[-1]).shape[-1]) if outputs else 0
        answered = {s for r in results for s in strings_in(r["response"])}
        if classes:
            summary["api"]["labels"] = find_labels(service, module, classes, answered)
    (out / "reference.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps({"done": str(out / "reference.json")}), flush=True)


# ---------------------------------------------------------------------------------------------
# Requests for a service that documents none


def attribute(value, name):
    """`getattr` that a proxy (Flask's `request` outside a request) cannot break."""
    try:
        return getattr(value, name, None)
    except Exception:
        return None


def fitted_example(value):
    """A JSON object that a fitted scikit-learn preprocessor or model takes, or None: a
    DictVectorizer's fields (the first category of each categorical one), or the columns an
    estimator was fitted on (`feature_names_in_`), each at its fitted mean where it has one."""
    names = attribute(value, "feature_names_")
    separator = attribute(value, "separator")
    if names is not None and isinstance(separator, str) and attribute(value, "vocabulary_") is not None:
        example = {}
        for name in names:
            field, sep, category = str(name).partition(separator)
            if sep:
                example.setdefault(field, category)
            else:
                example[field] = 1.5
        return example or None
    names = attribute(value, "feature_names_in_")
    if names is None:
        return None
    means = attribute(value, "mean_")
    if means is None or len(means) != len(names):
        means = [1.5] * len(names)
    return {str(n): round(float(m), 6) or 1.5 for n, m in zip(names, means)}


def fitted_objects(module):
    """Module globals, the items of tuples and dicts among them (`dv, model = pickle.load(f)`),
    and the steps of pipelines."""
    seen, stack = set(), list(vars(module).values())
    while stack:
        value = stack.pop()
        if id(value) in seen or isinstance(value, (str, bytes, int, float, type)) or inspect.ismodule(value):
            continue
        seen.add(id(value))
        yield value
        if isinstance(value, (tuple, list)) and len(value) <= 16:
            stack.extend(value)
        elif isinstance(value, dict) and len(value) <= 16:
            stack.extend(value.values())
        steps = attribute(value, "steps")
        if isinstance(steps, list):
            stack.extend(step[1] for step in steps if isinstance(step, tuple) and len(step) > 1)


def examples(config_path):
    """JSON bodies the entry route should accept, made from what the service fitted: printed
    as `{"examples": [{"body": ..., "source": ...}]}`."""
    config = json.loads(Path(config_path).read_text())
    service = Path(config["service"]).resolve()
    entry = config["entrypoint"]
    module = import_entry(service, entry["file"], entry.get("workdir"))
    found = []
    for value in fitted_objects(module):
        example = fitted_example(value)
        if example and example not in [f["body"] for f in found]:
            found.append({"body": example, "source": f"the fields of the fitted {type(value).__name__}"})
    for name, value in vars(module).items():
        if (isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value)
                and re.search("feature|column|field|input", name, re.I)):
            example = {v: 1.5 for v in value}
            if example not in [f["body"] for f in found]:
                found.append({"body": example, "source": f"the names in {name}"})
    key = None
    if entry["kind"] == "flask":
        import flask

        app = find_app(module, flask.Flask)
        views = [v for e, v in (app.view_functions.items() if app else [])
                 if e == entry["handler"] or e.endswith("." + entry["handler"])]
        key = flask_json_field(views[0]) if views else None
    for example in found:
        if key:
            example["body"] = {key: example["body"]}
    print(json.dumps({"examples": found}), flush=True)


def main():
    if len(sys.argv) in (4, 5) and sys.argv[1] == "make-inputs":
        make_inputs(int(sys.argv[2]), Path(sys.argv[3]), *sys.argv[4:])
    elif len(sys.argv) == 3 and sys.argv[1] == "reference":
        reference(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "examples":
        examples(sys.argv[2])
    else:
        fail(5, "usage", __doc__.strip().splitlines()[2])


if __name__ == "__main__":
    main()
