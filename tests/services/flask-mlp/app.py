"""Digits drawn on a 28x28 pad: the client uploads the drawing as it is, and gets the digit
and the ten scores."""

import io

import torch
from flask import Flask, jsonify, request
from PIL import Image
from torchvision import transforms

from net import DigitMLP

app = Flask(__name__)
model = DigitMLP()
model.load_state_dict(torch.load("model/mlp.pt", weights_only=True))
model.eval()
to_tensor = transforms.ToTensor()


@app.route("/classify", methods=["POST"])
def classify():
    image = Image.open(io.BytesIO(request.files["file"].read())).convert("L")
    batch = to_tensor(image).unsqueeze(0)
    with torch.no_grad():
        scores = model(batch)
    return jsonify({"digit": int(scores.argmax(dim=1).item()), "scores": scores[0].tolist()})


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000)
