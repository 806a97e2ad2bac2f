"""Scene classifier served with Flask and ONNX Runtime, OpenCV preprocessing.

    python service.py
    curl --data-binary @photo.jpg -H 'content-type: application/octet-stream' \
        http://localhost:5000/infer
"""

import cv2
import numpy as np
import onnxruntime as ort
from flask import Flask, jsonify, request

MODEL_PATH = "model/classifier.onnx"
INPUT_W = 128
INPUT_H = 96
MEAN = np.array([0.5, 0.5, 0.5], dtype=np.float32)
STD = np.array([0.25, 0.25, 0.25], dtype=np.float32)
CLASS_NAMES = ["indoor", "street", "forest", "beach"]

session = ort.InferenceSession(MODEL_PATH, providers=["CPUExecutionProvider"])

app = Flask(__name__)


def preprocess(data: bytes) -> np.ndarray | None:
    """Encoded image bytes -> 1x3x96x128 float32 NCHW tensor (None if undecodable)."""
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        return None
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    img = cv2.resize(img, (INPUT_W, INPUT_H), interpolation=cv2.INTER_LINEAR)
    x = img.astype(np.float32) / 255.0
    x = (x - MEAN) / STD
    x = np.transpose(x, (2, 0, 1))
    x = np.expand_dims(x, 0)
    return x


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.post("/infer")
def infer():
    upload = request.files.get("image")
    data = upload.read() if upload is not None else request.get_data()
    if not data:
        return jsonify(error="send an image as the body or as form field 'image'"), 400

    x = preprocess(data)
    if x is None:
        return jsonify(error="could not decode image"), 400

    (logits,) = session.run(None, {"input": x})
    probs = softmax(logits)[0]
    class_id = int(np.argmax(probs))
    return jsonify(
        label=CLASS_NAMES[class_id],
        class_id=class_id,
        score=float(probs[class_id]),
        probabilities=[float(p) for p in probs],
    )


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000)
