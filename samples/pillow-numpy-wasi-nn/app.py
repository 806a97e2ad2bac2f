"""Texture classifier: Pillow and numpy preprocessing, an ONNX model, behind Flask.

The preprocessing stays in Python. Natively the model runs on ONNX Runtime; packaged for
wasi-python (`wasm-migrate generate` with target.path: wasi-python) it runs on the host's
backends through the bundle's `wasi_nn` module, with the same code around it.

    python app.py
    curl --data-binary @texture.png -H 'content-type: image/png' http://localhost:8000/predict
"""

import io

import numpy as np
from flask import Flask, jsonify, request
from PIL import Image, UnidentifiedImageError

MODEL_PATH = "model/classifier.onnx"
LABELS = ["bark", "brick", "grass", "gravel", "water"]
SIZE = 64
MEAN = np.array([0.5, 0.5, 0.5], dtype=np.float32)
STD = np.array([0.25, 0.25, 0.25], dtype=np.float32)

try:
    import wasi_nn  # inside wasi-python: the host runs the model

    _context = wasi_nn.load_by_name("default").init_execution_context()

    def infer(batch: np.ndarray) -> np.ndarray:
        _context.set_input(0, batch)
        _context.compute()
        return _context.get_output(0)

except ImportError:
    import onnxruntime

    _session = onnxruntime.InferenceSession(MODEL_PATH, providers=["CPUExecutionProvider"])

    def infer(batch: np.ndarray) -> np.ndarray:
        return _session.run(None, {"input": batch})[0]


app = Flask(__name__)


def preprocess(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data)).convert("RGB").resize((SIZE, SIZE), Image.BILINEAR)
    pixels = np.asarray(image, dtype=np.float32) / 255.0
    pixels = (pixels - MEAN) / STD
    return pixels.transpose(2, 0, 1)[np.newaxis].astype(np.float32)


@app.route("/health")
def health():
    return jsonify(status="ok")


@app.route("/predict", methods=["POST"])
def predict():
    upload = request.files.get("image")
    data = upload.read() if upload is not None else request.get_data()
    if not data:
        return jsonify(error="send an image (the request body, or the form field `image`)"), 400
    try:
        batch = preprocess(data)
    except (UnidentifiedImageError, OSError) as e:
        return jsonify(error=f"cannot decode the image: {e}"), 400
    logits = infer(batch)[0].astype(np.float64)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    top = np.argsort(-probs)[:3]
    return jsonify(
        label=LABELS[int(top[0])],
        top3=[{"label": LABELS[int(i)], "score": round(float(probs[i]), 6)} for i in top],
        logits=[round(float(v), 6) for v in logits],
    )


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=8000)
