"""Iris species classifier: a scikit-learn LogisticRegression behind Flask.

    python app.py
    curl -H 'content-type: application/json' \
        -d '{"features": [5.1, 3.5, 1.4, 0.2]}' http://localhost:5000/predict
"""

import math

import joblib
import numpy as np
from flask import Flask, jsonify, request

MODEL_PATH = "model/iris.joblib"
FEATURE_NAMES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
CLASS_NAMES = ["setosa", "versicolor", "virginica"]

model = joblib.load(MODEL_PATH)

app = Flask(__name__)


def parse_features(payload) -> list[float] | None:
    """Accept {"features": [..4 numbers..]} or {"sepal_length": .., ...}."""
    if not isinstance(payload, dict):
        return None
    if "features" in payload:
        features = payload["features"]
    else:
        features = [payload.get(name) for name in FEATURE_NAMES]
    if not isinstance(features, list) or len(features) != len(FEATURE_NAMES):
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in features):
        return None
    if not all(math.isfinite(v) for v in features):
        return None
    return features


@app.route("/health", methods=["GET"])
def health():
    return jsonify(status="ok")


@app.route("/predict", methods=["POST"])
def predict():
    features = parse_features(request.get_json(silent=True))
    if features is None:
        return jsonify(error=f"expected 4 numeric features: {FEATURE_NAMES}"), 400

    proba = model.predict_proba(np.asarray(features, dtype=np.float64).reshape(1, -1))[0]
    class_id = int(np.argmax(proba))
    return jsonify(
        label=CLASS_NAMES[int(model.classes_[class_id])],
        class_id=class_id,
        probabilities={name: float(p) for name, p in zip(CLASS_NAMES, proba)},
    )


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000)
