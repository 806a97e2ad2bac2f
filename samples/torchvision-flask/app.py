"""Image classification service: ResNet-18 behind a small Flask API.

POST an image as multipart form data (field name ``image``) to ``/predict``
and get the three most likely classes back as JSON.
"""

import logging

import torch
import torchvision
from flask import Flask, jsonify, request
from PIL import Image, UnidentifiedImageError
from torchvision import transforms

IMAGE_SIZE = 224
RESIZE_SIZE = 256
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
MODEL_PATH = "model/resnet18.pt"
LABELS_PATH = "labels.txt"

logger = logging.getLogger(__name__)

app = Flask(__name__)

transform = transforms.Compose(
    [
        transforms.Resize(
            RESIZE_SIZE,
            interpolation=transforms.InterpolationMode.BILINEAR,
            antialias=True,
        ),
        transforms.CenterCrop(IMAGE_SIZE),
        transforms.ToTensor(),
        transforms.Normalize(mean=MEAN, std=STD),
    ]
)


def load_labels(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


labels = load_labels(LABELS_PATH)

model = torchvision.models.resnet18(weights=None, num_classes=10)
model.load_state_dict(torch.load(MODEL_PATH, map_location="cpu", weights_only=True))
model.eval()
logger.info("loaded %s with %d labels", MODEL_PATH, len(labels))


@app.route("/health", methods=["GET"])
def health():
    return jsonify(status="ok")


@app.route("/predict", methods=["POST"])
def predict():
    if "image" not in request.files:
        return jsonify(error="missing form field 'image'"), 400

    try:
        image = Image.open(request.files["image"]).convert("RGB")
    except UnidentifiedImageError:
        return jsonify(error="not a readable image"), 400

    batch = transform(image).unsqueeze(0)

    with torch.no_grad():
        logits = model(batch)
        probs = torch.softmax(logits, dim=1)
        top = torch.topk(probs, k=3)

    predictions = [
        {"label": labels[idx], "index": idx, "score": round(score, 6)}
        for score, idx in zip(top.values[0].tolist(), top.indices[0].tolist())
    ]
    return jsonify(predictions=predictions)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    app.run(host="0.0.0.0", port=8080)
