"""Digits from an 8x8 drawing pad: the client posts the pad's 64 pixel values (0..16) as JSON
numbers, `{"pixels": [...]}`, and gets the ten class scores back."""

import numpy as np
import onnxruntime as ort
from flask import Flask, jsonify, request

app = Flask(__name__)
session = ort.InferenceSession("model/digits.onnx")


@app.route("/health")
def health():
    return jsonify({"status": "ok"})


@app.route("/predict", methods=["POST"])
def predict():
    body = request.get_json()
    pixels = np.array(body["pixels"], dtype=np.float64)
    pixels = pixels.reshape(1, 64) / 16.0
    scores = session.run(None, {"pixels": pixels.astype(np.float32)})[0]
    return jsonify({"scores": scores[0].tolist()})


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000)
