import torch
from flask import jsonify, request
from PIL import Image
from torchvision import transforms

from webapp import app
from webapp.model import Classifier

preprocess = transforms.Compose(
    [
        transforms.Resize(180),
        transforms.CenterCrop(160),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ]
)


@app.route("/classify", methods=["POST"])
def classify():
    image = Image.open(request.files["photo"]).convert("RGB")
    with torch.no_grad():
        scores = Classifier.load()(preprocess(image).unsqueeze(0))
    return jsonify(top=int(scores.argmax()), scores=scores[0].tolist())
