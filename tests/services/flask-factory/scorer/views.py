import numpy as np
from flask import Blueprint, current_app, jsonify, request
from PIL import UnidentifiedImageError

from .predictor import Predictor
from .preprocess import to_batch

bp = Blueprint("inference", __name__)


@bp.get("/health")
def health():
    return jsonify(ok=True)


@bp.route("/predict", methods=["POST"])
def predict():
    upload = request.files.get("image")
    if upload is None:
        return jsonify(error="send the picture as form field 'image'"), 400
    try:
        batch = to_batch(upload.stream)
    except UnidentifiedImageError:
        return jsonify(error="unreadable image"), 415
    logits = Predictor.get().scores(batch)
    best = int(np.argmax(logits))
    return jsonify(label=current_app.config["CLASSES"][best], logits=logits.round(4).tolist())
